/*
 * Reading a libconfig file and its settings, shared by every step that
 * parses its own slice of the configuration: the file is read safely (each
 * @include checked first), and every problem is a diagnostic naming the
 * file and line of the setting it concerns.
 *
 * The getters read one key of a group: they return 1 when the key is there
 * and good (with *ret set), 0 when it is absent (*ret untouched), or
 * -EINVAL after adding a diagnostic when it has the wrong type or range.
 */
#ifndef TKL_CONFREAD_H
#define TKL_CONFREAD_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* Where problems go, and where relative paths start. Borrowed strings. */
struct tkl_confread {
    struct tkl_diags *diags;
    const char *file; /* the configuration file: for a problem with no setting of its own */
    const char *dir;  /* its directory */
};

/*
 * Reads path into cfg (initialised by the caller), with @include files
 * read relative to dir. libconfig ends the whole process when an @include
 * names something it cannot read as a file (such as "" or a directory), so
 * each @include line is checked first, through nested files: it must name
 * a regular file, at most 10 deep. Returns 0, -EINVAL (why is in diags as
 * file:line) or -ENOMEM.
 */
int tkl_conf_read_file(config_t *cfg, const char *path, const char *dir, struct tkl_diags *diags);

/* Adds an error at the file and line of s (x->file, line 0 when s is
 * NULL), in the field named as s is. */
void tkl_conf_err_at(const struct tkl_confread *x, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same, as a warning: the setting is taken, but probably not meant. */
void tkl_conf_warn_at(const struct tkl_confread *x, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Whether group (NULL: absent, which is fine) is a group holding only the
 * keys of allowed (NULL-terminated). Each other key, or a group that is
 * not one, is an error naming where ("store", "a team").
 */
bool tkl_conf_check_keys(const struct tkl_confread *x, const config_setting_t *group,
                         const char *where, const char *const *allowed);

/* A string member key of group (NULL: absent); *ret points into the
 * configuration. Returns 1, 0 or -EINVAL as the getters above. */
int tkl_conf_get_string(const struct tkl_confread *x, const config_setting_t *group,
                        const char *key, const char **ret);

/*
 * A text member key of group, called where in problems ("report.title"),
 * copied into *dst (what *dst held is freed): text that a page, a message
 * or a calendar shows as it is, on one line. It must not be empty or only
 * spaces, must be UTF-8 without control characters (C0, DEL, C1) or line
 * and paragraph separators (U+2028, U+2029), and at most max_chars
 * characters long (0: any length). Returns 1, 0 (absent: *dst untouched),
 * -EINVAL or -ENOMEM as the getters above.
 */
int tkl_conf_get_text(const struct tkl_confread *x, const config_setting_t *group, const char *key,
                      const char *where, size_t max_chars, char **dst);

/* A whole-number member key of group in [min, max]. Returns 1, 0 or
 * -EINVAL as the getters above. */
int tkl_conf_get_int(const struct tkl_confread *x, const config_setting_t *group, const char *key,
                     int min, int max, int *ret);

/*
 * The list or array s of strings, called what in problems, copied into a
 * new NULL-terminated vector. Returns 0 with *ret and *ret_n set (the
 * caller frees them with tkl_strv_free), -EINVAL (a problem in diags) or
 * -ENOMEM; on failure both are untouched.
 */
int tkl_conf_get_strings(const struct tkl_confread *x, const config_setting_t *s, const char *what,
                         char ***ret, size_t *ret_n);

/* Frees the n strings of v and v. Accepts NULL. */
void tkl_strv_free(char **v, size_t n);

/* p as a new string, read relative to x->dir unless absolute. Returns
 * NULL on ENOMEM. */
char *tkl_conf_path(const struct tkl_confread *x, const char *p);

/* Whether s is a name of lower-case letters, digits, - and _ (not empty):
 * the ids of teams, notifiers, sources and plugins. */
bool tkl_conf_valid_id(const char *s);

#endif

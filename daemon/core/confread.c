#include "confread.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "text.h"

/* Checks one @include line (p just after "@include") of path, line ln.
 * Returns 0, -EINVAL (a problem, added to diags) or -ENOMEM. */
static int check_include(const char *path, unsigned ln, const char *p, const char *end,
                         const char *dir, int depth, struct tkl_diags *diags);

/* Whether c may be part of a setting's name (or a number's). */
static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '*' || c == '.';
}

/* Where a line of a configuration file starts: in its settings, inside a
 * text (libconfig takes line breaks in one) or inside a block comment. */
enum lex_state {
    LEX_CODE,
    LEX_TEXT,
    LEX_COMMENT,
};

/*
 * The brackets of a file's settings as the lexer meets them, for what a
 * syntax error means: those still open, and the first closing one that
 * matches none. libconfig says only "syntax error" and where it gave up,
 * which for a group never closed is the end of the file.
 */
#define BRACKETS_MAX 64
struct brackets {
    size_t depth; /* open; those past BRACKETS_MAX counted only */
    struct {
        char ch; /* '{', '(' or '[' */
        unsigned line;
        char name[48]; /* the setting it is the value of, or "" */
    } open[BRACKETS_MAX];
    unsigned stray_line;    /* the first closing bracket that closes nothing or
                             * another kind (0: none), on this line */
    char stray, stray_open; /* it, and the bracket open there ('\0': none) */
    unsigned open_line;     /* the line that bracket opened on */
    char name[48];          /* the setting name met last, while '=' or ':' may follow */
    bool assigned;          /* that name, then '=' or ':' */
    unsigned lines;
    /* the brackets say nothing of a file that ends in a comment or a text,
     * nor of one with @include lines, whose files may open or close them */
    bool unsure;
};

static char closing_of(char open)
{
    return open == '{' ? '}' : open == '(' ? ')' : ']';
}

/* Takes c, met at line ln outside texts and comments, into b. */
static void bracket_char(struct brackets *b, unsigned ln, char c)
{
    if (c == '{' || c == '(' || c == '[') {
        if (b->depth < BRACKETS_MAX) {
            b->open[b->depth].ch = c;
            b->open[b->depth].line = ln;
            snprintf(b->open[b->depth].name, sizeof(b->open[b->depth].name), "%s",
                     b->assigned ? b->name : "");
        }
        b->depth++;
    } else if (c == '}' || c == ')' || c == ']') {
        char open = b->depth && b->depth <= BRACKETS_MAX ? b->open[b->depth - 1].ch : '\0';
        if (!b->stray_line && (!b->depth || (open && closing_of(open) != c))) {
            b->stray_line = ln;
            b->stray = c;
            b->stray_open = open;
            b->open_line = open ? b->open[b->depth - 1].line : 0;
        }
        if (b->depth)
            b->depth--;
    } else if ((c == '=' || c == ':') && b->name[0]) {
        b->assigned = true;
        return;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        return;
    }
    b->name[0] = '\0';
    b->assigned = false;
}

/* Adds the error of a whole number libconfig would read wrongly. */
static int out_of_range(const char *path, unsigned ln, const char *p, size_t n,
                        struct tkl_diags *diags)
{
    tkl_diag_add(diags, TKL_SEV_ERROR, path, ln, NULL,
                 "%.*s%s is out of range: a whole number here is from %d to %d (0xFFFFFFFF)",
                 n > 24 ? 24 : (int)n, p, n > 24 ? "..." : "", INT32_MIN, INT32_MAX);
    return -EINVAL;
}

/* Whether the whole number p[0..n) (decimal, or hexadecimal after 0x; a
 * sign first for a decimal one) is beyond what libconfig reads as 32 bits;
 * false for anything else (a float, a 64-bit one with L, a name). */
static bool too_large(const char *p, size_t n)
{
    char text[40];
    bool sign = *p == '-' || *p == '+';
    bool hex = !sign && n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    size_t digits =
        hex ? strspn(p + 2, "0123456789abcdefABCDEF") + 2 : strspn(p + sign, "0123456789") + sign;
    if (digits != n || (hex && n == 2))
        return false;
    if (n >= sizeof(text))
        return true;
    memcpy(text, p, n);
    text[n] = '\0';
    errno = 0;
    if (hex) {
        unsigned long long v = strtoull(text + 2, NULL, 16);
        return errno == ERANGE || v > UINT32_MAX;
    }
    long long v = strtoll(text, NULL, 10);
    return errno == ERANGE || v > INT32_MAX || v < INT32_MIN;
}

/*
 * libconfig (1.5) reads a whole number beyond 32 bits as its low 32 bits,
 * without a word: "max_age_hours = 4294967344;" as 48, 0x1FFFFFFFF as -1.
 * Each such number of line ln of path (p to end; outside texts and
 * comments, where the line starts in *state and where it ends left
 * there; not one with L, which libconfig reads as 64 bits, nor a float)
 * is an error here. Returns 0 or -EINVAL (added to diags).
 */
static int check_numbers(const char *path, unsigned ln, const char *p, const char *end,
                         enum lex_state *state, struct brackets *b, struct tkl_diags *diags)
{
    int r = 0;
    while (p < end) {
        if (*state == LEX_COMMENT) {
            const char *q = memmem(p, (size_t)(end - p), "*/", 2);
            if (!q)
                return r;
            *state = LEX_CODE;
            p = q + 2;
        } else if (*state == LEX_TEXT) {
            for (; p < end && *p != '"'; p++)
                if (*p == '\\' && p + 1 < end)
                    p++;
            if (p < end) {
                *state = LEX_CODE;
                p++;
            }
        } else if (*p == '"') {
            bracket_char(b, ln, *p);
            *state = LEX_TEXT;
            p++;
        } else if (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')) {
            return r;
        } else if (*p == '/' && p + 1 < end && p[1] == '*') {
            *state = LEX_COMMENT;
            p += 2;
        } else if ((*p >= '0' && *p <= '9') ||
                   ((*p == '-' || *p == '+') && p + 1 < end && p[1] >= '0' && p[1] <= '9')) {
            const char *q = p + 1;
            while (q < end && name_char(*q))
                q++;
            if (too_large(p, (size_t)(q - p)))
                r = out_of_range(path, ln, p, (size_t)(q - p), diags);
            bracket_char(b, ln, *p);
            p = q;
        } else if (name_char(*p)) {
            const char *q = p;
            while (q < end && name_char(*q))
                q++;
            bracket_char(b, ln, *p);
            snprintf(b->name, sizeof(b->name), "%.*s", (int)(q - p), p);
            p = q;
        } else {
            bracket_char(b, ln, *p);
            p++;
        }
    }
    return r;
}

/* Checks every @include of path (libconfig reads them at the start of a
 * line), and its whole numbers (check_numbers); its brackets into *ret
 * when not NULL. Returns 0, -EINVAL (a problem, added to diags) or
 * -ENOMEM. */
static int check_includes(const char *path, const char *dir, int depth, struct brackets *ret,
                          struct tkl_diags *diags)
{
    struct brackets mine = {0}, *b = ret ? ret : &mine;
    memset(b, 0, sizeof(*b));
    FILE *f = fopen(path, "r");
    if (!f)
        return 0; /* libconfig says why */
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned ln = 0;
    int r = 0, bad = 0;
    enum lex_state state = LEX_CODE;
    while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
        ln++;
        const char *p = line + strspn(line, " \t");
        if (strncmp(p, "@include", 8) == 0) {
            b->unsure = true;
            r = check_include(path, ln, p + 8, line + len, dir, depth, diags);
        } else if (check_numbers(path, ln, p, line + len, &state, b, diags) < 0)
            bad = -EINVAL; /* and the numbers of the lines after */
    }
    b->lines = ln;
    if (state != LEX_CODE)
        b->unsure = true;
    free(line);
    (void)fclose(f); /* read only */
    return r < 0 ? r : bad;
}

static int check_include(const char *path, unsigned ln, const char *p, const char *end,
                         const char *dir, int depth, struct tkl_diags *diags)
{
    p += strspn(p, " \t");
    const char *q = *p == '"' ? memchr(p + 1, '"', (size_t)(end - (p + 1))) : NULL;
    size_t n = q ? (size_t)(q - p - 1) : 0;
    if (!q || n == 0 || memchr(p + 1, '\0', n) || memchr(p + 1, '\\', n)) {
        tkl_diag_add(diags, TKL_SEV_ERROR, path, ln, NULL,
                     "@include needs a file name in double quotes");
        return -EINVAL;
    }
    char *name = strndup(p + 1, n), *full = NULL;
    if (!name ||
        asprintf(&full, "%s/%s", name[0] == '/' ? "" : dir, name[0] == '/' ? name + 1 : name) < 0) {
        free(name);
        return -ENOMEM;
    }
    struct stat st;
    int e = stat(full, &st) < 0 ? errno : 0, r = 0;
    if (e || !S_ISREG(st.st_mode)) {
        tkl_diag_add(diags, TKL_SEV_ERROR, path, ln, NULL, "@include \"%s\": %s", name,
                     e ? strerror(e) : "not a regular file");
        r = -EINVAL;
    } else if (depth >= 10) {
        tkl_diag_add(diags, TKL_SEV_ERROR, path, ln, NULL, "@include nests more than 10 deep");
        r = -EINVAL;
    } else {
        r = check_includes(full, dir, depth + 1, NULL, diags);
    }
    free(name);
    free(full);
    return r;
}

/* What a bracket is the opening of, in words. */
static const char *bracket_kind(char open)
{
    return open == '{' ? "group" : open == '(' ? "list" : "array";
}

/*
 * The syntax error libconfig gave at line eline of path, said by what b
 * found there: a closing bracket that closes nothing or another kind, or
 * the end of the file inside a bracket never closed (then said at the
 * line that opened it). Returns whether it was said.
 */
static bool bracket_error(const struct brackets *b, const char *path, unsigned eline,
                          struct tkl_diags *diags)
{
    if (b->unsure)
        return false;
    if (b->stray_line && b->stray_line <= eline) {
        if (b->stray_open)
            tkl_diag_add(diags, TKL_SEV_ERROR, path, b->stray_line, NULL,
                         "syntax error: this %c cannot close the %s opened at line %u, which "
                         "ends with %c",
                         b->stray, bracket_kind(b->stray_open), b->open_line,
                         closing_of(b->stray_open));
        else
            tkl_diag_add(diags, TKL_SEV_ERROR, path, b->stray_line, NULL,
                         "syntax error: this %c closes nothing opened before it", b->stray);
        return true;
    }
    if (!b->depth || b->depth > BRACKETS_MAX || eline < b->lines)
        return false;
    const char *name = b->open[b->depth - 1].name;
    char open = b->open[b->depth - 1].ch;
    tkl_diag_add(diags, TKL_SEV_ERROR, path, b->open[b->depth - 1].line, NULL,
                 "syntax error: the %s %s%s%sopened on this line is not closed before the end of "
                 "the file (it ends with %c%s)",
                 bracket_kind(open), *name ? "\"" : "", name, *name ? "\" " : "", closing_of(open),
                 open == '{' && *name ? ";" : "");
    return true;
}

int tkl_conf_read_file(config_t *cfg, const char *path, const char *dir, struct tkl_diags *diags)
{
    struct brackets b;
    int r = check_includes(path, dir, 0, &b, diags);
    if (r < 0)
        return r;
    config_set_include_dir(cfg, dir);
    if (config_read_file(cfg, path))
        return 0;
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "cannot read: %s",
                     strerror(errno ? errno : EIO));
    } else if ((!config_error_file(cfg) || strcmp(config_error_file(cfg), path) == 0) &&
               bracket_error(&b, path, (unsigned)config_error_line(cfg), diags)) {
        /* said by where the brackets go wrong */
    } else {
        /* libconfig's own words, with a hint where they are only "syntax error" */
        const char *why = config_error_text(cfg) ? config_error_text(cfg) : "syntax error";
        tkl_diag_add(diags, TKL_SEV_ERROR, config_error_file(cfg) ? config_error_file(cfg) : path,
                     (unsigned)config_error_line(cfg), NULL, "syntax error%s%s",
                     strcmp(why, "syntax error") != 0 ? ": " : "",
                     strcmp(why, "syntax error") != 0
                         ? why
                         : " (look on this line and the one before it: a setting ends with ';', "
                           "a text is in double quotes, a group in { } and a list in ( ))");
    }
    return -EINVAL;
}

static void conf_vadd(const struct tkl_confread *x, enum tkl_severity sev,
                      const config_setting_t *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void conf_vadd(const struct tkl_confread *x, enum tkl_severity sev,
                      const config_setting_t *s, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    const char *file = s && config_setting_source_file(s) ? config_setting_source_file(s) : x->file;
    unsigned line = s ? (unsigned)config_setting_source_line(s) : 0;
    const char *name = s ? config_setting_name(s) : NULL;
    tkl_diag_add(x->diags, sev, file, line, name, "%s", msg);
}

void tkl_conf_err_at(const struct tkl_confread *x, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conf_vadd(x, TKL_SEV_ERROR, s, fmt, ap);
    va_end(ap);
}

void tkl_conf_warn_at(const struct tkl_confread *x, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conf_vadd(x, TKL_SEV_WARNING, s, fmt, ap);
    va_end(ap);
}

bool tkl_conf_check_keys(const struct tkl_confread *x, const config_setting_t *group,
                         const char *where, const char *const *allowed)
{
    bool ok = true;
    if (!group)
        return true;
    if (!config_setting_is_group(group)) {
        tkl_conf_err_at(x, group, "%s must be a group { ... }", where);
        return false;
    }
    for (int i = 0; i < config_setting_length(group); i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        bool found = false;
        for (const char *const *a = allowed; *a && !found; a++)
            found = strcmp(*a, name) == 0;
        if (!found) {
            struct tkl_buf list = {0};
            for (const char *const *a = allowed; *a; a++)
                if (tkl_buf_printf(&list, "%s%s", a == allowed ? "" : ", ", *a) < 0)
                    break;
            tkl_conf_err_at(x, s, "unknown key \"%s\" in %s (known keys: %s)", name, where,
                            list.data ? list.data : "none");
            tkl_buf_free(&list);
            ok = false;
        }
    }
    return ok;
}

int tkl_conf_get_string(const struct tkl_confread *x, const config_setting_t *group,
                        const char *key, const char **ret)
{
    const config_setting_t *s = group ? config_setting_get_member(group, key) : NULL;
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        tkl_conf_err_at(x, s, "%s must be a string in double quotes", key);
        return -EINVAL;
    }
    *ret = config_setting_get_string(s);
    return 1;
}

/* Whether s is UTF-8 text on one line with something besides spaces: no
 * C0 or C1 control character, DEL, U+2028 or U+2029. */
static bool one_line_text(const char *s)
{
    bool seen = false;
    if (!tkl_utf8_valid(s, strlen(s)))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ||
            (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)))
            return false;
        seen = seen || *p != ' ';
    }
    return seen;
}

int tkl_conf_get_text(const struct tkl_confread *x, const config_setting_t *group, const char *key,
                      const char *where, size_t max_chars, char **dst)
{
    const char *s;
    int r = tkl_conf_get_string(x, group, key, &s);
    if (r <= 0)
        return r;
    if (!one_line_text(s)) {
        tkl_conf_err_at(x, config_setting_get_member(group, key),
                        "%s must be text on one line, not empty and without control characters",
                        where);
        return -EINVAL;
    }
    size_t chars = tkl_utf8_chars(s, strlen(s));
    if (max_chars && chars > max_chars) {
        tkl_conf_err_at(x, config_setting_get_member(group, key),
                        "%s must be at most %zu characters long (got %zu)", where, max_chars,
                        chars);
        return -EINVAL;
    }
    char *copy = strdup(s);
    if (!copy)
        return -ENOMEM;
    free(*dst);
    *dst = copy;
    return 1;
}

int tkl_conf_get_int(const struct tkl_confread *x, const config_setting_t *group, const char *key,
                     int min, int max, int *ret)
{
    const config_setting_t *s = group ? config_setting_get_member(group, key) : NULL;
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_INT) {
        tkl_conf_err_at(x, s, "%s must be a whole number", key);
        return -EINVAL;
    }
    int v = config_setting_get_int(s);
    if (v < min || v > max) {
        tkl_conf_err_at(x, s, "%s must be between %d and %d (got %d)", key, min, max, v);
        return -EINVAL;
    }
    *ret = v;
    return 1;
}

int tkl_conf_get_strings(const struct tkl_confread *x, const config_setting_t *s, const char *what,
                         char ***ret, size_t *ret_n)
{
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        tkl_conf_err_at(x, s, "%s must be a list of strings: [ \"...\", \"...\" ]", what);
        return -EINVAL;
    }
    int n = config_setting_length(s);
    char **v = calloc((size_t)n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *str = config_setting_get_string_elem(s, i);
        if (!str)
            tkl_conf_err_at(x, config_setting_get_elem(s, (unsigned)i), "%s must hold only strings",
                            what);
        if (!str || !(v[i] = strdup(str))) {
            tkl_strv_free(v, (size_t)i);
            return str ? -ENOMEM : -EINVAL;
        }
    }
    *ret = v;
    *ret_n = (size_t)n;
    return 0;
}

void tkl_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

char *tkl_conf_path(const struct tkl_confread *x, const char *p)
{
    char *out = NULL;
    if (p[0] == '/')
        return strdup(p);
    if (asprintf(&out, "%s/%s", x->dir, p) < 0)
        return NULL;
    return out;
}

bool tkl_conf_valid_id(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

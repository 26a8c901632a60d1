/* Shared by the tests of the configuration slices: configuration text
 * parsed with libconfig, the reading context its problems go to (file
 * "test.conf", directory "/etc/tickler"), and a look-up of a problem by
 * line and text. */
#ifndef TKL_CONF_FIXTURE_H
#define TKL_CONF_FIXTURE_H

#include <check.h>
#include <libconfig.h>
#include <stdbool.h>
#include <string.h>

#include "core/confread.h"

struct conf_fixture {
    config_t cfg;
    struct tkl_diags diags;
    struct tkl_confread x;
};

/* Parses text (it must be valid libconfig) into f. */
static inline void conf_parse(struct conf_fixture *f, const char *text)
{
    memset(f, 0, sizeof(*f));
    config_init(&f->cfg);
    ck_assert_msg(config_read_string(&f->cfg, text), "line %d: %s", config_error_line(&f->cfg),
                  config_error_text(&f->cfg));
    f->x = (struct tkl_confread){.diags = &f->diags, .file = "test.conf", .dir = "/etc/tickler"};
}

/* The setting at path ("store", "teams"), or NULL. */
static inline const config_setting_t *conf_at(const struct conf_fixture *f, const char *path)
{
    return config_lookup(&f->cfg, path);
}

static inline void conf_done(struct conf_fixture *f)
{
    tkl_diags_free(&f->diags);
    config_destroy(&f->cfg);
}

/* Whether an error at test.conf:line holds text. */
static inline bool conf_error_at(const struct conf_fixture *f, unsigned line, const char *text)
{
    for (size_t i = 0; i < f->diags.n; i++) {
        const struct tkl_diag *g = &f->diags.items[i];
        if (g->severity == TKL_SEV_ERROR && g->line == line && g->file &&
            !strcmp(g->file, "test.conf") && strstr(g->message, text))
            return true;
    }
    return false;
}

#endif

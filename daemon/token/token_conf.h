/*
 * The signed links' slice of the configuration, links { ... }: the keys
 * that sign and verify the links in notices (daemon/token/token.h) and how
 * long a link lasts. Without the group, notices carry no links.
 */
#ifndef TKL_TOKEN_CONF_H
#define TKL_TOKEN_CONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "../core/confread.h"
#include "../core/diag.h"
#include "token.h"

struct tkl_links_key_conf {
    char *id;      /* [a-z0-9-]{1,16} */
    char *file;    /* an absolute path or "credential:NAME" */
    unsigned line; /* of the entry, for problems found when the key is read */
};

struct tkl_links_conf {
    bool enabled;                    /* the group is there */
    struct tkl_links_key_conf *keys; /* keys[0] signs; the others only verify */
    size_t n_keys;
    int expiry_days; /* 1..366, default 45 */
    unsigned line;   /* of the group */
};

/* The defaults of a configuration without a links group: no links. */
void tkl_links_conf_init(struct tkl_links_conf *l);

/*
 * Reads the links group g (NULL: none, the defaults stay) over *l. keys is
 * a non-empty list of groups { id = "..."; file = "..."; }, ids distinct;
 * a relative file is read relative to the configuration's directory.
 * Returns 0, -EINVAL (problems in x->diags) or -ENOMEM. Whatever it
 * returns, l holds what was read.
 */
int tkl_links_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                        struct tkl_links_conf *l);

/*
 * Reads every key of l into a new ring (*ret, empty before), keys[0]
 * first, so it signs. A key that cannot be read, is not hexadecimal or is
 * shorter than 32 bytes is an error at file:its line in diags. Returns 0,
 * -EINVAL (problems in diags; *ret untouched) or -ENOMEM. Nothing read is
 * put in diags.
 */
int tkl_links_conf_ring(const struct tkl_links_conf *l, const char *file, struct tkl_diags *diags,
                        struct tkl_token_ring *ret);

void tkl_links_conf_free(struct tkl_links_conf *l);

#endif

#include "token_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/text.h>

void tkl_links_conf_init(struct tkl_links_conf *l)
{
    *l = (struct tkl_links_conf){.expiry_days = 45};
}

static void keys_free(struct tkl_links_key_conf *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(k[i].id);
        free(k[i].file);
    }
    free(k);
}

/* One entry { id = "..."; file = "..."; } of links.keys into *k (zeroed
 * before). Returns 0, -EINVAL (problems in diags) or -ENOMEM. */
static int read_key(const struct tkl_confread *x, const config_setting_t *e,
                    struct tkl_links_key_conf *k)
{
    static const char *const keys[] = {"id", "file", NULL};
    const char *id = NULL, *file = NULL;
    int r = 0;
    k->line = config_setting_source_line(e);
    if (!config_setting_is_group(e)) {
        tkl_conf_err_at(x, e, "links.keys: each key is a group { id = \"...\"; file = \"...\"; }");
        return -EINVAL;
    }
    if (!tkl_conf_check_keys(x, e, "a links key", keys))
        r = -EINVAL;
    if (tkl_conf_get_string(x, e, "id", &id) < 0 || tkl_conf_get_string(x, e, "file", &file) < 0)
        return -EINVAL;
    if (!id || !tkl_token_key_id_valid(id)) {
        tkl_conf_err_at(x, e, "links.keys: id \"%s\" is not 1 to 16 of a-z, 0-9 and -",
                        id ? id : "");
        r = -EINVAL;
    }
    if (!file || !*file) {
        tkl_conf_err_at(x, e, "links.keys: a key needs file (a path or \"credential:NAME\")");
        r = -EINVAL;
    }
    if (r < 0)
        return r;
    k->id = strdup(id);
    k->file = !strncmp(file, "credential:", 11) ? strdup(file) : tkl_conf_path(x, file);
    return k->id && k->file ? 0 : -ENOMEM;
}

static int read_keys(const struct tkl_confread *x, const config_setting_t *g,
                     struct tkl_links_conf *l)
{
    const config_setting_t *s = config_setting_get_member(g, "keys");
    if (!s || !(config_setting_is_list(s) || config_setting_is_array(s)) ||
        config_setting_length(s) == 0) {
        tkl_conf_err_at(x, s ? s : g,
                        "links.keys: a list of one key or more, the first signing: keys = ( { "
                        "id = \"2026a\"; file = \"credential:tickler_link-key\"; } );");
        return -EINVAL;
    }
    size_t n = (size_t)config_setting_length(s);
    struct tkl_links_key_conf *k = calloc(n, sizeof(*k));
    int r = 0;
    if (!k)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        int rr = read_key(x, e, &k[i]);
        if (rr == -ENOMEM) {
            keys_free(k, n);
            return -ENOMEM;
        }
        if (rr < 0)
            r = rr;
        for (size_t j = 0; rr == 0 && j < i; j++)
            if (k[j].id && !strcmp(k[j].id, k[i].id)) {
                tkl_conf_err_at(x, e, "links.keys: id \"%s\" is given twice", k[i].id);
                r = -EINVAL;
            }
    }
    keys_free(l->keys, l->n_keys);
    l->keys = k;
    l->n_keys = n;
    return r;
}

int tkl_links_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                        struct tkl_links_conf *l)
{
    static const char *const keys[] = {"keys", "expiry_days", NULL};
    int r = 0;
    if (!g)
        return 0;
    l->enabled = true;
    l->line = config_setting_source_line(g);
    if (!tkl_conf_check_keys(x, g, "links", keys))
        r = -EINVAL;
    if (!config_setting_is_group(g))
        return -EINVAL;
    int rr = read_keys(x, g, l);
    if (rr == -ENOMEM)
        return rr;
    if (rr < 0)
        r = rr;
    if (tkl_conf_get_int(x, g, "expiry_days", 1, 366, &l->expiry_days) < 0)
        r = -EINVAL;
    return r;
}

static const char *why(int err)
{
    switch (err) {
    case -ERANGE:
        return "a key must be 32 to 64 bytes, written as 64 to 128 hexadecimal digits "
               "(make one with: openssl rand -hex 32)";
    case -EINVAL:
        return "the key is not hexadecimal digits on one line (make one with: openssl rand "
               "-hex 32)";
    case -ENOENT:
        return "no such file or credential";
    case -EACCES:
        return "permission denied";
    default:
        return tkl_secret_strerror(err);
    }
}

int tkl_links_conf_ring(const struct tkl_links_conf *l, const char *file, struct tkl_diags *diags,
                        struct tkl_token_ring *ret)
{
    struct tkl_token_ring ring = {0};
    int r = 0;
    for (size_t i = 0; i < l->n_keys; i++) {
        int rr = tkl_token_ring_add_file(&ring, l->keys[i].id, NULL, l->keys[i].file);
        if (rr == -ENOMEM) {
            tkl_token_ring_free(&ring);
            return -ENOMEM;
        }
        if (rr < 0) {
            tkl_diag_add(diags, TKL_SEV_ERROR, file, l->keys[i].line, NULL,
                         "links.keys: key \"%s\" (%s): %s", l->keys[i].id, l->keys[i].file,
                         why(rr));
            r = -EINVAL;
        }
    }
    if (diags->oom) {
        tkl_token_ring_free(&ring);
        return -ENOMEM;
    }
    if (r < 0) {
        tkl_token_ring_free(&ring);
        return r;
    }
    *ret = ring;
    return 0;
}

void tkl_links_conf_free(struct tkl_links_conf *l)
{
    keys_free(l->keys, l->n_keys);
    l->keys = NULL;
    l->n_keys = 0;
}

#include "store_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

/* store.files, resolved. Returns 0, -EINVAL or -ENOMEM. */
static int read_files(const struct tkl_confread *x, const config_setting_t *g,
                      struct tkl_store_opts *opts)
{
    const config_setting_t *files = config_setting_get_member(g, "files");
    char **v = NULL;
    size_t n = 0;
    if (!files) {
        tkl_conf_err_at(x, g, "store.files is missing: list the CSV files or directories");
        return -EINVAL;
    }
    int r = tkl_conf_get_strings(x, files, "store.files", &v, &n);
    if (r < 0)
        return r;
    if (!(opts->paths = calloc(n + 1, sizeof(char *)))) {
        tkl_strv_free(v, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        bool url = tkl_remote_is_url(v[i]);
        char err[512];
        if (url && tkl_remote_check_url(v[i], err, sizeof(err)) < 0) {
            char *place = tkl_remote_place(v[i]);
            tkl_conf_err_at(x, config_setting_get_elem(files, (unsigned)i), "store.files: %s: %s",
                            place ? place : "a URL", err);
            free(place);
            r = -EINVAL;
            continue;
        }
        if (!(opts->paths[opts->n_paths] = url ? strdup(v[i]) : tkl_conf_path(x, v[i]))) {
            tkl_strv_free(v, n);
            return -ENOMEM;
        }
        opts->n_paths++;
    }
    tkl_strv_free(v, n);
    if (r < 0)
        return r;
    if (n == 0) {
        tkl_conf_err_at(x, files, "store.files is empty");
        return -EINVAL;
    }
    return 0;
}

/* The fetch_* keys: how https:// entries are fetched. Returns 0, -EINVAL
 * or -ENOMEM. */
static int read_fetch(const struct tkl_confread *x, const config_setting_t *g,
                      struct tkl_fetch_opts *f)
{
    const char *s;
    int r = 0, max_kib = (int)(TKL_FETCH_MAX_BYTES_DEFAULT >> 10);
    f->interval_s = TKL_FETCH_INTERVAL_DEFAULT;
    /* each key on its own, so that every bad value is reported */
    if (tkl_conf_get_int(x, g, "fetch_interval_seconds", 1, 7 * 86400, &f->interval_s) < 0)
        r = -EINVAL;
    if (tkl_conf_get_int(x, g, "fetch_max_kib", 1, 1 << 20, &max_kib) < 0)
        r = -EINVAL;
    f->max_bytes = (long)max_kib << 10;
    if (!(f->config_dir = strdup(x->dir)))
        return -ENOMEM;
    int t = tkl_conf_get_string(x, g, "fetch_token_file", &s);
    if (t < 0)
        r = -EINVAL;
    else if (t > 0 && !(f->token_file = strdup(s)))
        return -ENOMEM;
    int c = tkl_conf_get_string(x, g, "fetch_ca_file", &s);
    if (c < 0)
        r = -EINVAL;
    else if (c > 0 && !(f->ca_file = tkl_conf_path(x, s)))
        return -ENOMEM;
    return r;
}

/* store.columns: the heading of each field. Returns 0, -EINVAL or -ENOMEM. */
static int read_columns(const struct tkl_confread *x, const config_setting_t *cols,
                        struct tkl_store_opts *opts)
{
    static const char *const col_keys[] = {"id",      "title",    "commitment", "objective",
                                           "owners",  "deadline", "status",     "progress",
                                           "measure", NULL};
    if (!tkl_conf_check_keys(x, cols, "store.columns", col_keys))
        return -EINVAL;
    for (int f = 0; f < TKL_FIELD_COUNT; f++) {
        const char *s;
        if (tkl_conf_get_string(x, cols, tkl_field_name((enum tkl_field)f), &s) > 0 &&
            !(opts->columns[f] = strdup(s)))
            return -ENOMEM;
    }
    return 0;
}

/* One list of store.status: the words read as status k. */
static int read_status_list(const struct tkl_confread *x, const config_setting_t *l,
                            enum tkl_status k, struct tkl_store_opts *opts)
{
    char **v = NULL;
    size_t n = 0;
    int r = tkl_conf_get_strings(x, l, "a status list", &v, &n);
    if (r < 0)
        return r;
    struct tkl_status_rule *p =
        realloc(opts->status_rules, (opts->n_status_rules + n + 1) * sizeof(*p));
    if (!p) {
        tkl_strv_free(v, n);
        return -ENOMEM;
    }
    opts->status_rules = p;
    for (size_t i = 0; i < n; i++)
        p[opts->n_status_rules++] = (struct tkl_status_rule){.text = v[i], .status = k};
    free(v);
    return 0;
}

/* store.status: words per status. Returns 0, -EINVAL or -ENOMEM. */
static int read_status(const struct tkl_confread *x, const config_setting_t *st,
                       struct tkl_store_opts *opts)
{
    static const char *const status_keys[] = {"active", "complete", "closed", NULL};
    int r = 0;
    if (!tkl_conf_check_keys(x, st, "store.status", status_keys))
        return -EINVAL;
    for (int k = 0; k < 3; k++) {
        const config_setting_t *l = config_setting_get_member(st, status_keys[k]);
        int rr = l ? read_status_list(x, l, (enum tkl_status)k, opts) : 0;
        if (rr == -ENOMEM)
            return rr;
        if (rr < 0)
            r = rr;
    }
    return r;
}

int tkl_store_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                        struct tkl_store_opts *opts, int *debounce_ms)
{
    static const char *const keys[] = {"files",
                                       "columns",
                                       "status",
                                       "debounce_ms",
                                       "fetch_interval_seconds",
                                       "fetch_token_file",
                                       "fetch_ca_file",
                                       "fetch_max_kib",
                                       NULL};
    const config_setting_t *s;
    int r = 0, rr;
    if (!g) {
        tkl_diag_add(x->diags, TKL_SEV_ERROR, x->file, 0, "store",
                     "no store { files = [ ... ]; } section: tickler needs an action plan");
        return -EINVAL;
    }
    if (!tkl_conf_check_keys(x, g, "store", keys))
        r = -EINVAL;
    if ((rr = read_files(x, g, opts)) == -ENOMEM)
        return rr;
    r = rr < 0 ? rr : r;
    if ((s = config_setting_get_member(g, "columns")) && (rr = read_columns(x, s, opts)) < 0) {
        if (rr == -ENOMEM)
            return rr;
        r = rr;
    }
    if ((s = config_setting_get_member(g, "status")) && (rr = read_status(x, s, opts)) < 0) {
        if (rr == -ENOMEM)
            return rr;
        r = rr;
    }
    if (tkl_conf_get_int(x, g, "debounce_ms", 0, 60000, debounce_ms) < 0)
        r = -EINVAL;
    if ((rr = read_fetch(x, g, &opts->fetch)) == -ENOMEM)
        return rr;
    return rr < 0 ? rr : r;
}

#include "state_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEASE_DEFAULT 300
#define NODE_MAX      63

void tkl_state_conf_init(struct tkl_state_conf *s)
{
    *s = (struct tkl_state_conf){.backend = TKL_STATE_SQLITE, .lease_seconds = LEASE_DEFAULT};
}

/* A node id: 1 to NODE_MAX printable characters, no space. */
static bool valid_node(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] == 0x7f)
            return false;
    return true;
}

static int read_node(const struct tkl_confread *x, const config_setting_t *g,
                     struct tkl_state_conf *s)
{
    const char *v;
    char host[256];
    int got = tkl_conf_get_string(x, g, "node", &v);
    if (got < 0)
        return got;
    if (got == 0) {
        if (gethostname(host, sizeof(host)) < 0 || (host[sizeof(host) - 1] = '\0', !*host)) {
            tkl_conf_err_at(x, g, "state.node is not set and the host name cannot be read");
            return -EINVAL;
        }
        v = host;
    } else if (!valid_node(v)) {
        tkl_conf_err_at(x, config_setting_get_member(g, "node"),
                        "node must be 1 to %d characters without spaces (got \"%s\")", NODE_MAX, v);
        return -EINVAL;
    }
    free(s->node);
    return (s->node = strdup(v)) ? 0 : -ENOMEM;
}

int tkl_state_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                        struct tkl_state_conf *s)
{
    static const char *const keys[] = {"backend", "conninfo_file", "node", "lease_seconds", NULL};
    const char *v;
    int r = 0, got;
    if (!g)
        return 0;
    if (!tkl_conf_check_keys(x, g, "state", keys))
        r = -EINVAL;
    if ((got = tkl_conf_get_string(x, g, "backend", &v)) < 0) {
        r = -EINVAL;
    } else if (got > 0) {
        if (strcmp(v, "sqlite") == 0) {
            s->backend = TKL_STATE_SQLITE;
        } else if (strcmp(v, "postgresql") == 0) {
            s->backend = TKL_STATE_POSTGRESQL;
        } else {
            tkl_conf_err_at(x, config_setting_get_member(g, "backend"),
                            "backend must be \"sqlite\" or \"postgresql\" (got \"%s\")", v);
            r = -EINVAL;
        }
    }
    if (tkl_conf_get_int(x, g, "lease_seconds", 10, 86400, &s->lease_seconds) < 0)
        r = -EINVAL;
    if ((got = tkl_conf_get_string(x, g, "conninfo_file", &v)) < 0) {
        r = -EINVAL;
    } else if (got > 0) {
        free(s->conninfo_file);
        s->conninfo_file = strncmp(v, "credential:", 11) == 0 ? strdup(v) : tkl_conf_path(x, v);
        if (!s->conninfo_file)
            return -ENOMEM;
    }
    int rr = read_node(x, g, s);
    if (rr == -ENOMEM)
        return rr;
    if (rr < 0)
        r = rr;
    if (s->backend == TKL_STATE_POSTGRESQL && !s->conninfo_file) {
        tkl_conf_err_at(x, config_setting_get_member(g, "backend"),
                        "backend \"postgresql\" needs conninfo_file (a file, or "
                        "\"credential:NAME\", holding libpq's key=value conninfo)");
        r = -EINVAL;
    }
    return r;
}

void tkl_state_conf_free(struct tkl_state_conf *s)
{
    free(s->conninfo_file);
    free(s->node);
    s->conninfo_file = s->node = NULL;
}

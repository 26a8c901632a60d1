#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tickler/plugin.h>

#include "../schedule/holidays.h"
#include "day.h"
#include "log.h"
#include "text.h"

#ifndef TICKLER_PLUGIN_DIR
#define TICKLER_PLUGIN_DIR "/usr/local/lib/tickler/plugins"
#endif
const char tkl_default_plugin_dir[] = TICKLER_PLUGIN_DIR;

struct ctx {
    struct tkl_config *c;
    struct tkl_diags *diags;
    const char *file;
};

static void err_at(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void err_at(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *file = s && config_setting_source_file(s) ? config_setting_source_file(s) : x->file;
    unsigned line = s ? (unsigned)config_setting_source_line(s) : 0;
    const char *name = s ? config_setting_name(s) : NULL;
    tkl_diag_add(x->diags, TKL_SEV_ERROR, file, line, name, "%s", msg);
}

static bool check_members(struct ctx *x, const config_setting_t *group, const char *where,
                          const char *const *allowed)
{
    bool ok = true;
    if (!group)
        return true;
    if (!config_setting_is_group(group)) {
        err_at(x, group, "%s must be a group { ... }", where);
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
            err_at(x, s, "unknown key \"%s\" in %s (known keys: %s)", name, where,
                   list.data ? list.data : "none");
            tkl_buf_free(&list);
            ok = false;
        }
    }
    return ok;
}

/* A path relative to the config directory. */
static char *resolve_path(const struct tkl_config *c, const char *p)
{
    char *out = NULL;
    if (p[0] == '/')
        return strdup(p);
    if (asprintf(&out, "%s/%s", c->dir, p) < 0)
        return NULL;
    return out;
}

static int get_string(struct ctx *x, const config_setting_t *group, const char *key,
                      const char **ret)
{
    const config_setting_t *s = group ? config_setting_get_member(group, key) : NULL;
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        err_at(x, s, "%s must be a string in double quotes", key);
        return -EINVAL;
    }
    *ret = config_setting_get_string(s);
    return 1;
}

static int get_int(struct ctx *x, const config_setting_t *group, const char *key, int min, int max,
                   int *ret)
{
    const config_setting_t *s = group ? config_setting_get_member(group, key) : NULL;
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_INT) {
        err_at(x, s, "%s must be a whole number", key);
        return -EINVAL;
    }
    int v = config_setting_get_int(s);
    if (v < min || v > max) {
        err_at(x, s, "%s must be between %d and %d (got %d)", key, min, max, v);
        return -EINVAL;
    }
    *ret = v;
    return 1;
}

/* Reads a list or array of strings into a new vector. */
static int get_strings(struct ctx *x, const config_setting_t *s, const char *what, char ***ret,
                       size_t *ret_n)
{
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        err_at(x, s, "%s must be a list of strings: [ \"...\", \"...\" ]", what);
        return -EINVAL;
    }
    int n = config_setting_length(s);
    char **v = calloc((size_t)n + 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *str = config_setting_get_string_elem(s, i);
        if (!str) {
            err_at(x, config_setting_get_elem(s, (unsigned)i), "%s must hold only strings", what);
            for (int k = 0; k < i; k++)
                free(v[k]);
            free(v);
            return -EINVAL;
        }
        if (!(v[i] = strdup(str))) {
            for (int k = 0; k < i; k++)
                free(v[k]);
            free(v);
            return -ENOMEM;
        }
    }
    *ret = v;
    *ret_n = (size_t)n;
    return 0;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static int get_ladder(struct ctx *x, const config_setting_t *s, struct tkl_ladder *ret)
{
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        err_at(x, s, "a ladder is a list of days before the deadline: [ 28, 14, 7, 1, 0 ]");
        return -EINVAL;
    }
    int n = config_setting_length(s);
    if (n < 1 || n > TKL_MAX_LADDER) {
        err_at(x, s, "a ladder holds 1 to %d lead times (got %d)", TKL_MAX_LADDER, n);
        return -EINVAL;
    }
    struct tkl_ladder l = {.n = (size_t)n};
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_INT || config_setting_get_int(e) < 0 ||
            config_setting_get_int(e) > 366) {
            err_at(x, e, "lead times are whole numbers of days from 0 to 366");
            return -EINVAL;
        }
        l.lead[i] = config_setting_get_int(e);
    }
    tkl_ladder_normalise(&l);
    *ret = l;
    return 0;
}

static int get_days(struct ctx *x, const config_setting_t *s, int32_t **ret, size_t *ret_n)
{
    char **v = NULL;
    size_t n = 0;
    int r = get_strings(x, s, "a holiday list", &v, &n);
    if (r < 0)
        return r;
    int32_t *days = calloc(n + 1, sizeof(*days));
    if (!days) {
        free_strv(v, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n && r == 0; i++)
        if (tkl_day_parse_iso(v[i], &days[i]) < 0) {
            err_at(x, s, "\"%s\" is not a date in the form YYYY-MM-DD", v[i]);
            r = -EINVAL;
        }
    free_strv(v, n);
    if (r < 0) {
        free(days);
        return r;
    }
    *ret = days;
    *ret_n = n;
    return 0;
}

static int load_daemon(struct ctx *x, const config_setting_t *g)
{
    static const char *const keys[] = {"state_directory", "plugin_directory", "log_level",
                                       "timezone", NULL};
    struct tkl_config *c = x->c;
    const char *s;
    int r = 0;
    if (!check_members(x, g, "daemon", keys))
        r = -EINVAL;
    c->state_dir = strdup("/var/lib/tickler");
    c->plugin_dir = strdup(tkl_default_plugin_dir);
    c->timezone = strdup("Europe/London");
    if (!c->state_dir || !c->plugin_dir || !c->timezone)
        return -ENOMEM;
    if (get_string(x, g, "state_directory", &s) > 0) {
        free(c->state_dir);
        if (!(c->state_dir = resolve_path(c, s)))
            return -ENOMEM;
    }
    if (get_string(x, g, "plugin_directory", &s) > 0) {
        free(c->plugin_dir);
        if (!(c->plugin_dir = resolve_path(c, s)))
            return -ENOMEM;
    }
    if (get_string(x, g, "log_level", &s) > 0) {
        int lvl = tkl_log_parse_level(s);
        if (lvl < 0) {
            err_at(x, config_setting_get_member(g, "log_level"),
                   "log_level must be err, warning, notice, info or debug (got \"%s\")", s);
            r = -EINVAL;
        } else {
            c->log_level = lvl;
        }
    }
    if (get_string(x, g, "timezone", &s) > 0) {
        free(c->timezone);
        if (!(c->timezone = strdup(s)))
            return -ENOMEM;
    }
    return r;
}

static int load_store(struct ctx *x, const config_setting_t *g)
{
    static const char *const keys[] = {"files", "columns", "status", "debounce_ms", NULL};
    static const char *const status_keys[] = {"active", "complete", "closed", NULL};
    struct tkl_config *c = x->c;
    int r = 0;
    if (!g) {
        tkl_diag_add(x->diags, TKL_SEV_ERROR, x->file, 0, "store",
                     "no store { files = [ ... ]; } section: tickler needs an action plan");
        return -EINVAL;
    }
    if (!check_members(x, g, "store", keys))
        r = -EINVAL;
    const config_setting_t *files = config_setting_get_member(g, "files");
    if (!files) {
        err_at(x, g, "store.files is missing: list the CSV files or directories");
        r = -EINVAL;
    } else {
        char **v = NULL;
        size_t n = 0;
        int rr = get_strings(x, files, "store.files", &v, &n);
        if (rr == -ENOMEM)
            return rr;
        if (rr == 0) {
            c->store.paths = calloc(n + 1, sizeof(char *));
            if (!c->store.paths) {
                free_strv(v, n);
                return -ENOMEM;
            }
            for (size_t i = 0; i < n; i++) {
                c->store.paths[i] = resolve_path(c, v[i]);
                if (!c->store.paths[i]) {
                    free_strv(v, n);
                    return -ENOMEM;
                }
                c->store.n_paths++;
            }
            free_strv(v, n);
            if (n == 0) {
                err_at(x, files, "store.files is empty");
                r = -EINVAL;
            }
        } else {
            r = rr;
        }
    }
    const config_setting_t *cols = config_setting_get_member(g, "columns");
    if (cols) {
        static const char *const col_keys[] = {"id",        "title",    "commitment",
                                               "objective", "owners",   "deadline",
                                               "status",    "progress", NULL};
        if (!check_members(x, cols, "store.columns", col_keys)) {
            r = -EINVAL;
        } else {
            for (int f = 0; f < TKL_FIELD_COUNT; f++) {
                const char *s;
                if (get_string(x, cols, tkl_field_name((enum tkl_field)f), &s) > 0 &&
                    !(c->store.columns[f] = strdup(s)))
                    return -ENOMEM;
            }
        }
    }
    const config_setting_t *st = config_setting_get_member(g, "status");
    if (st) {
        if (!check_members(x, st, "store.status", status_keys))
            r = -EINVAL;
        else
            for (int k = 0; k < 3; k++) {
                const config_setting_t *l = config_setting_get_member(st, status_keys[k]);
                char **v = NULL;
                size_t n = 0;
                if (!l)
                    continue;
                int rr = get_strings(x, l, "a status list", &v, &n);
                if (rr < 0) {
                    if (rr == -ENOMEM)
                        return rr;
                    r = rr;
                    continue;
                }
                struct tkl_status_rule *p =
                    realloc(c->store.status_rules, (c->store.n_status_rules + n + 1) * sizeof(*p));
                if (!p) {
                    free_strv(v, n);
                    return -ENOMEM;
                }
                c->store.status_rules = p;
                for (size_t i = 0; i < n; i++)
                    p[c->store.n_status_rules++] =
                        (struct tkl_status_rule){.text = v[i], .status = (enum tkl_status)k};
                free(v);
            }
    }
    if (get_int(x, g, "debounce_ms", 0, 60000, &c->debounce_ms) < 0)
        r = -EINVAL;
    return r;
}

/* Reads the rule keys present in g (a schedule or a team) over *rules. */
static int get_rules(struct ctx *x, const config_setting_t *g, struct tkl_rules *rules)
{
    const config_setting_t *l;
    int r = 0;
    if ((l = config_setting_get_member(g, "ladder")) && get_ladder(x, l, &rules->ladder) < 0)
        r = -EINVAL;
    if ((l = config_setting_get_member(g, "review_ladder")) && get_ladder(x, l, &rules->review) < 0)
        r = -EINVAL;
    if (get_int(x, g, "overdue_every_days", 0, 365, &rules->overdue_every_days) < 0 ||
        get_int(x, g, "escalate_after_weeks", 0, 520, &rules->escalate_after_weeks) < 0)
        r = -EINVAL;
    return r;
}

static int load_schedule(struct ctx *x, const config_setting_t *g)
{
    static const char *const keys[] = {"send_time",
                                       "ladder",
                                       "review_ladder",
                                       "overdue_every_days",
                                       "escalate_after_weeks",
                                       "escalate_to",
                                       "checkin_months",
                                       "catch_up_days",
                                       "holidays",
                                       "prompt_days",
                                       "prompt_days_long",
                                       "lookahead_months",
                                       NULL};
    static const char *const hol_keys[] = {"region", "add", "remove", NULL};
    struct tkl_config *c = x->c;
    struct tkl_policy *p = &c->policy;
    int r = 0;
    const char *s;
    if (!g)
        return 0;
    if (!check_members(x, g, "schedule", keys))
        r = -EINVAL;
    if (get_string(x, g, "send_time", &s) > 0 && tkl_parse_hhmm(s, &p->send_minute) < 0) {
        err_at(x, config_setting_get_member(g, "send_time"),
               "send_time must be HH:MM in 24-hour local time (got \"%s\")", s);
        r = -EINVAL;
    }
    const config_setting_t *l;
    bool review_set = config_setting_get_member(g, "review_ladder") != NULL;
    if (get_rules(x, g, &p->rules) < 0)
        r = -EINVAL;
    if (!review_set)
        p->rules.review = p->rules.ladder;
    if (get_int(x, g, "catch_up_days", 0, 365, &p->catch_up_days) < 0)
        r = -EINVAL;
    if ((l = config_setting_get_member(g, "prompt_days")) && get_ladder(x, l, &p->prompt_day) < 0)
        r = -EINVAL;
    if ((l = config_setting_get_member(g, "prompt_days_long")) &&
        get_ladder(x, l, &p->prompt_long) < 0)
        r = -EINVAL;
    if (get_int(x, g, "lookahead_months", 0, 12, &p->lookahead_months) < 0)
        r = -EINVAL;
    if (get_string(x, g, "escalate_to", &s) > 0 && !(c->escalate_to = strdup(s)))
        return -ENOMEM;
    if ((l = config_setting_get_member(g, "checkin_months"))) {
        unsigned mask = 0;
        bool ok = config_setting_is_array(l) || config_setting_is_list(l);
        for (int i = 0; ok && i < config_setting_length(l); i++) {
            const config_setting_t *e = config_setting_get_elem(l, (unsigned)i);
            int m = config_setting_get_int(e);
            ok = config_setting_type(e) == CONFIG_TYPE_INT && m >= 1 && m <= 12;
            mask |= ok ? 1u << (m - 1) : 0;
        }
        if (!ok) {
            err_at(x, l, "checkin_months must list month numbers 1 to 12: [ 1, 4, 7, 10 ]");
            r = -EINVAL;
        }
        p->checkin_months = mask;
    }
    const config_setting_t *h = config_setting_get_member(g, "holidays");
    if (h) {
        if (!check_members(x, h, "schedule.holidays", hol_keys))
            r = -EINVAL;
        if (get_string(x, h, "region", &s) > 0) {
            int reg = tkl_region_parse(s);
            if (reg < 0) {
                err_at(x, config_setting_get_member(h, "region"),
                       "region must be \"england-and-wales\", \"scotland\", "
                       "\"northern-ireland\" or \"none\" (got \"%s\")",
                       s);
                r = -EINVAL;
            } else {
                p->holidays.region = (enum tkl_region)reg;
            }
        }
        int rr;
        if ((l = config_setting_get_member(h, "add")) &&
            (rr = get_days(x, l, &p->holidays.add, &p->holidays.n_add)) < 0)
            r = rr;
        if ((l = config_setting_get_member(h, "remove")) &&
            (rr = get_days(x, l, &p->holidays.remove, &p->holidays.n_remove)) < 0)
            r = rr;
    }
    return r;
}

static bool valid_id(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

/* Recipients: no control characters, no angle brackets or commas that
 * would let an address smuggle a second one into a header. */
static bool valid_recipient(const char *s)
{
    if (!*s || strlen(s) > 320)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == ';' ||
            *p == ' ' || *p == '"')
            return false;
    return true;
}

static int load_teams(struct ctx *x, const config_setting_t *list)
{
    static const char *const keys[] = {"id",
                                       "name",
                                       "aliases",
                                       "recipients",
                                       "ladder",
                                       "review_ladder",
                                       "overdue_every_days",
                                       "escalate_after_weeks",
                                       "escalate_to",
                                       NULL};
    struct tkl_config *c = x->c;
    int r = 0;
    if (!list)
        return 0;
    if (!config_setting_is_list(list)) {
        err_at(x, list, "teams must be a list of groups: ( { id = \"...\"; ... }, ... )");
        return -EINVAL;
    }
    size_t n = (size_t)config_setting_length(list);
    c->teams.teams = calloc(n + 1, sizeof(struct tkl_team));
    c->team_rules = calloc(n + 1, sizeof(struct tkl_rules));
    if (!c->teams.teams || !c->team_rules)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct tkl_team *t = &c->teams.teams[c->teams.n];
        const char *id = NULL, *name = NULL, *s;
        if (!config_setting_is_group(g)) {
            err_at(x, g, "each team is a group { id = \"...\"; name = \"...\"; }");
            r = -EINVAL;
            continue;
        }
        if (!check_members(x, g, "a team", keys))
            r = -EINVAL;
        if (get_string(x, g, "id", &id) <= 0 || !valid_id(id)) {
            err_at(x, g, "a team needs an id of lower-case letters, digits, - and _");
            r = -EINVAL;
            continue;
        }
        if (tkl_team_find(&c->teams, id)) {
            err_at(x, config_setting_get_member(g, "id"), "team id \"%s\" is used twice", id);
            r = -EINVAL;
            continue;
        }
        if (get_string(x, g, "name", &name) <= 0)
            name = id;
        c->teams.n++;
        if (!(t->id = strdup(id)) || !(t->name = strdup(name)) || tkl_team_add_key(t, name) < 0)
            return -ENOMEM;
        const config_setting_t *al = config_setting_get_member(g, "aliases");
        if (al) {
            char **v = NULL;
            size_t nv = 0;
            int rr = get_strings(x, al, "aliases", &v, &nv);
            if (rr == -ENOMEM)
                return rr;
            for (size_t k = 0; rr == 0 && k < nv; k++)
                if (tkl_team_add_key(t, v[k]) < 0) {
                    free_strv(v, nv);
                    return -ENOMEM;
                }
            free_strv(v, nv);
            if (rr < 0)
                r = rr;
        }
        const config_setting_t *rc = config_setting_get_member(g, "recipients");
        if (rc) {
            if (!config_setting_is_group(rc)) {
                err_at(x, rc, "recipients is a group: { email = [ \"...\" ]; }");
                r = -EINVAL;
            } else {
                for (int k = 0; k < config_setting_length(rc); k++) {
                    const config_setting_t *ch = config_setting_get_elem(rc, (unsigned)k);
                    const char *chname = config_setting_name(ch);
                    bool known = false;
                    for (size_t q = 0; q < c->n_notifiers; q++)
                        known |= strcmp(c->notifiers[q].name, chname) == 0;
                    if (!known) {
                        err_at(x, ch,
                               "\"%s\" is not the name of a configured notifier "
                               "(notifiers = ( { name = \"%s\"; ... } ))",
                               chname, chname);
                        r = -EINVAL;
                        continue;
                    }
                    char **v = NULL;
                    size_t nv = 0;
                    int rr = get_strings(x, ch, "recipients", &v, &nv);
                    if (rr == -ENOMEM)
                        return rr;
                    if (rr < 0) {
                        r = rr;
                        continue;
                    }
                    struct tkl_recipient *p =
                        realloc(t->recipients, (t->n_recipients + nv + 1) * sizeof(*p));
                    if (!p) {
                        free_strv(v, nv);
                        return -ENOMEM;
                    }
                    t->recipients = p;
                    for (size_t q = 0; q < nv; q++) {
                        if (!valid_recipient(v[q])) {
                            err_at(x, ch,
                                   "recipient \"%s\" has spaces, control characters or "
                                   "separators; give one plain address per string",
                                   v[q]);
                            r = -EINVAL;
                            free(v[q]);
                            continue;
                        }
                        char *chn = strdup(chname);
                        if (!chn) {
                            for (size_t z = q; z < nv; z++)
                                free(v[z]);
                            free(v);
                            return -ENOMEM;
                        }
                        p[t->n_recipients++] = (struct tkl_recipient){
                            chn, v[q], (unsigned)config_setting_source_line(ch)};
                    }
                    free(v);
                }
            }
        }
        c->team_rules[c->teams.n - 1] = c->policy.rules;
        if (get_rules(x, g, &c->team_rules[c->teams.n - 1]) < 0)
            r = -EINVAL;
        if (get_string(x, g, "escalate_to", &s) > 0 && !(t->escalate_to = strdup(s)))
            return -ENOMEM;
    }
    /* references between teams, now that all are known */
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const config_setting_t *e = g ? config_setting_get_member(g, "escalate_to") : NULL;
        const char *ref = e ? config_setting_get_string(e) : NULL;
        if (ref && !tkl_team_find(&c->teams, ref)) {
            err_at(x, e, "escalate_to names no team: \"%s\"", ref);
            r = -EINVAL;
        }
    }
    return r;
}

static int load_delivery(struct ctx *x, const config_setting_t *g)
{
    static const char *const keys[] = {"max_age_hours", "concurrency", "retry_min_seconds",
                                       "report_to", NULL};
    struct tkl_delivery_conf *d = &x->c->delivery;
    const char *s;
    int r = 0;
    if (!g)
        return 0;
    if (!check_members(x, g, "delivery", keys))
        r = -EINVAL;
    if (get_int(x, g, "max_age_hours", 1, 24 * 365, &d->max_age_hours) < 0 ||
        get_int(x, g, "concurrency", 1, 256, &d->concurrency) < 0 ||
        get_int(x, g, "retry_min_seconds", 1, 3600, &d->retry_min_seconds) < 0)
        r = -EINVAL;
    if (get_string(x, g, "report_to", &s) > 0) {
        if (!tkl_team_find(&x->c->teams, s)) {
            err_at(x, config_setting_get_member(g, "report_to"), "report_to names no team: \"%s\"",
                   s);
            r = -EINVAL;
        } else if (!(d->report_to = strdup(s))) {
            return -ENOMEM;
        }
    }
    return r;
}

static int load_notifiers(struct ctx *x, const config_setting_t *list)
{
    static const char *const keys[] = {"name", "plugin", "settings", NULL};
    struct tkl_config *c = x->c;
    int r = 0;
    if (!list)
        return 0;
    if (!config_setting_is_list(list)) {
        err_at(x, list, "notifiers must be a list of groups: ( { name = \"email\"; ... } )");
        return -EINVAL;
    }
    size_t n = (size_t)config_setting_length(list);
    c->notifiers = calloc(n + 1, sizeof(*c->notifiers));
    if (!c->notifiers)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *name, *plugin;
        if (!config_setting_is_group(g)) {
            err_at(x, g, "each notifier is a group { name = \"...\"; plugin = \"...\"; }");
            r = -EINVAL;
            continue;
        }
        if (!check_members(x, g, "a notifier", keys))
            r = -EINVAL;
        if (get_string(x, g, "name", &name) <= 0 || !valid_id(name)) {
            err_at(x, g, "a notifier needs a name of lower-case letters, digits, - and _");
            r = -EINVAL;
            continue;
        }
        if (get_string(x, g, "plugin", &plugin) <= 0 || !valid_id(plugin)) {
            err_at(x, g,
                   "notifier \"%s\" needs plugin = \"<name>\" (a file in the plugin "
                   "directory, without .so)",
                   name);
            r = -EINVAL;
            continue;
        }
        for (size_t k = 0; k < c->n_notifiers; k++)
            /* every notifier counted has a name: the load returns at a failed strdup */
            // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
            if (strcmp(c->notifiers[k].name, name) == 0) {
                err_at(x, g, "notifier name \"%s\" is used twice", name);
                r = -EINVAL;
            }
        struct tkl_notifier_conf *nc = &c->notifiers[c->n_notifiers++];
        nc->line = (unsigned)config_setting_source_line(g);
        nc->settings = config_setting_get_member(g, "settings");
        if (!(nc->name = strdup(name)) || !(nc->plugin = strdup(plugin)))
            return -ENOMEM;
    }
    return r;
}

static int load_sources(struct ctx *x, const config_setting_t *list)
{
    static const char *const keys[] = {"name", "plugin", "team", "settings", NULL};
    struct tkl_config *c = x->c;
    int r = 0;
    if (!list)
        return 0;
    if (!config_setting_is_list(list)) {
        err_at(x, list,
               "sources must be a list of groups: ( { name = \"diversity\"; plugin = "
               "\"calendar\"; team = \"comms\"; ... } )");
        return -EINVAL;
    }
    size_t n = (size_t)config_setting_length(list);
    c->sources = calloc(n + 1, sizeof(*c->sources));
    if (!c->sources)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const char *name, *plugin, *team;
        if (!config_setting_is_group(g)) {
            err_at(x, g, "each source is a group { name = \"...\"; plugin = \"...\"; }");
            r = -EINVAL;
            continue;
        }
        if (!check_members(x, g, "a source", keys))
            r = -EINVAL;
        if (get_string(x, g, "name", &name) <= 0 || !valid_id(name)) {
            err_at(x, g, "a source needs a name of lower-case letters, digits, - and _");
            r = -EINVAL;
            continue;
        }
        if (get_string(x, g, "plugin", &plugin) <= 0 || !valid_id(plugin)) {
            err_at(x, g,
                   "source \"%s\" needs plugin = \"<name>\" (a file in the plugin "
                   "directory, without .so)",
                   name);
            r = -EINVAL;
            continue;
        }
        if (get_string(x, g, "team", &team) <= 0) {
            err_at(x, g,
                   "source \"%s\" needs team = \"<team id>\", the team prompted for "
                   "every item (the comms team)",
                   name);
            r = -EINVAL;
            continue;
        }
        for (size_t k = 0; k < c->n_sources; k++)
            /* every source counted has a name: the load returns at a failed strdup */
            // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
            if (strcmp(c->sources[k].name, name) == 0) {
                err_at(x, g, "source name \"%s\" is used twice", name);
                r = -EINVAL;
            }
        struct tkl_source_conf *sc = &c->sources[c->n_sources++];
        sc->line = (unsigned)config_setting_source_line(g);
        sc->settings = config_setting_get_member(g, "settings");
        if (!(sc->name = strdup(name)) || !(sc->plugin = strdup(plugin)) ||
            !(sc->team = strdup(team)))
            return -ENOMEM;
    }
    return r;
}

/* libconfig 1.5 ends the whole process (flex's fatal error) when an
 * @include names something it cannot read as a file, such as "" or a
 * directory. So each @include line (libconfig reads them at the start of a
 * line) is checked first, through nested files: it must name a regular
 * file. Returns 0, -EINVAL (a problem, added to diags) or -ENOMEM. */
static int check_includes(const char *path, const char *dir, int depth, struct tkl_diags *diags)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0; /* libconfig says why */
    char *line = NULL, *name = NULL, *full = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned ln = 0;
    int r = 0;
    while (r == 0 && (len = getline(&line, &cap, f)) > 0) {
        ln++;
        const char *p = line + strspn(line, " \t");
        if (strncmp(p, "@include", 8) != 0)
            continue;
        p += 8 + strspn(p + 8, " \t");
        const char *q = *p == '"' ? memchr(p + 1, '"', (size_t)(line + len - (p + 1))) : NULL;
        size_t n = q ? (size_t)(q - p - 1) : 0;
        if (!q || n == 0 || memchr(p + 1, '\0', n) || memchr(p + 1, '\\', n)) {
            tkl_diag_add(diags, TKL_SEV_ERROR, path, ln, NULL,
                         "@include needs a file name in double quotes");
            r = -EINVAL;
            break;
        }
        if (!(name = strndup(p + 1, n)) || asprintf(&full, "%s/%s", name[0] == '/' ? "" : dir,
                                                    name[0] == '/' ? name + 1 : name) < 0) {
            full = NULL;
            r = -ENOMEM;
            break;
        }
        struct stat st;
        int e = stat(full, &st) < 0 ? errno : 0;
        if (e || !S_ISREG(st.st_mode)) {
            tkl_diag_add(diags, TKL_SEV_ERROR, path, ln, NULL, "@include \"%s\": %s", name,
                         e ? strerror(e) : "not a regular file");
            r = -EINVAL;
        } else if (depth >= 10) {
            tkl_diag_add(diags, TKL_SEV_ERROR, path, ln, NULL, "@include nests more than 10 deep");
            r = -EINVAL;
        } else {
            r = check_includes(full, dir, depth + 1, diags);
        }
        free(name);
        free(full);
        name = full = NULL;
    }
    free(name);
    free(line);
    (void)fclose(f); /* read only */
    return r;
}

int tkl_config_load(const char *path, struct tkl_config **ret, struct tkl_diags *diags)
{
    static const char *const top[] = {"daemon",        "store",     "schedule", "delivery", "teams",
                                      "fallback_team", "notifiers", "sources",  NULL};
    struct tkl_config *c = calloc(1, sizeof(*c));
    struct ctx x = {.c = c, .diags = diags, .file = path};
    int r = 0, rr;
    if (!c)
        return -ENOMEM;
    config_init(&c->cfg);
    c->log_level = -1;
    c->debounce_ms = 500;
    tkl_policy_default(&c->policy);
    c->delivery =
        (struct tkl_delivery_conf){.max_age_hours = 48, .concurrency = 4, .retry_min_seconds = 30};
    if (!(c->path = strdup(path)))
        goto oom;
    char *slash = strrchr(c->path, '/');
    if (slash == c->path)
        c->dir = strdup("/");
    else if (slash)
        c->dir = strndup(c->path, (size_t)(slash - c->path));
    else
        c->dir = strdup(".");
    if (!c->dir)
        goto oom;
    config_set_include_dir(&c->cfg, c->dir);
    if ((r = check_includes(path, c->dir, 0, diags)) < 0) {
        if (r == -ENOMEM)
            goto oom;
        goto fail;
    }
    if (!config_read_file(&c->cfg, path)) {
        if (config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO)
            tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "cannot read: %s",
                         strerror(errno ? errno : EIO));
        else
            tkl_diag_add(diags, TKL_SEV_ERROR,
                         config_error_file(&c->cfg) ? config_error_file(&c->cfg) : path,
                         (unsigned)config_error_line(&c->cfg), NULL, "syntax error: %s",
                         config_error_text(&c->cfg));
        r = -EINVAL;
        goto fail;
    }
    const config_setting_t *root = config_root_setting(&c->cfg);
    if (!check_members(&x, root, "the top level", top))
        r = -EINVAL;
    if ((rr = load_daemon(&x, config_setting_get_member(root, "daemon"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = load_store(&x, config_setting_get_member(root, "store"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = load_schedule(&x, config_setting_get_member(root, "schedule"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    /* notifiers first: team recipients name them */
    if ((rr = load_notifiers(&x, config_setting_get_member(root, "notifiers"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = load_teams(&x, config_setting_get_member(root, "teams"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = load_delivery(&x, config_setting_get_member(root, "delivery"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    if ((rr = load_sources(&x, config_setting_get_member(root, "sources"))) < 0)
        r = rr;
    if (r == -ENOMEM)
        goto oom;
    for (size_t i = 0; i < c->n_sources; i++)
        if (!tkl_team_find(&c->teams, c->sources[i].team)) {
            tkl_diag_add(diags, TKL_SEV_ERROR, path, c->sources[i].line, "team",
                         "source \"%s\": team \"%s\" is not the id of a team in teams",
                         c->sources[i].name, c->sources[i].team);
            r = -EINVAL;
        }
    const char *fb;
    if (get_string(&x, root, "fallback_team", &fb) > 0) {
        if (!tkl_team_find(&c->teams, fb)) {
            err_at(&x, config_setting_get_member(root, "fallback_team"),
                   "fallback_team names no team: \"%s\"", fb);
            r = -EINVAL;
        } else if (!(c->teams.fallback = strdup(fb))) {
            goto oom;
        }
    }
    if (c->escalate_to && !tkl_team_find(&c->teams, c->escalate_to)) {
        err_at(&x, config_lookup(&c->cfg, "schedule.escalate_to"),
               "escalate_to names no team: \"%s\"", c->escalate_to);
        r = -EINVAL;
    }
    if (tkl_tz_check(c->timezone) < 0) {
        err_at(&x, config_lookup(&c->cfg, "daemon.timezone"),
               "unknown time zone \"%s\" (an IANA name such as \"Europe/London\"; is tzdata "
               "installed?)",
               c->timezone);
        r = -EINVAL;
    }
    if (r < 0 || tkl_diags_has_errors(diags)) {
        r = r < 0 ? r : -EINVAL;
        goto fail;
    }
    *ret = c;
    return 0;
oom:
    r = -ENOMEM;
fail:
    tkl_config_free(c);
    return r;
}

const struct tkl_rules *tkl_config_team_rules(const struct tkl_config *c, size_t team)
{
    if (team < c->teams.n && c->team_rules)
        return &c->team_rules[team];
    return &c->policy.rules;
}

void tkl_config_free(struct tkl_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_notifiers; i++) {
        free(c->notifiers[i].name);
        free(c->notifiers[i].plugin);
    }
    free(c->notifiers);
    for (size_t i = 0; i < c->n_sources; i++) {
        free(c->sources[i].name);
        free(c->sources[i].plugin);
        free(c->sources[i].team);
    }
    free(c->sources);
    tkl_team_dir_free(&c->teams);
    free(c->team_rules);
    free(c->delivery.report_to);
    tkl_store_opts_free(&c->store);
    tkl_holidays_free(&c->policy.holidays);
    free(c->escalate_to);
    free(c->path);
    free(c->dir);
    free(c->state_dir);
    free(c->plugin_dir);
    free(c->timezone);
    config_destroy(&c->cfg);
    free(c);
}

#include "team_conf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <tickler/day.h>

#include "../core/text.h"

/* Why s cannot be a recipient, or NULL when it can: empty, too long, or
 * with control characters, or angle brackets or commas that would let an
 * address smuggle a second one into a header. */
static const char *recipient_problem(const char *s)
{
    if (!*s)
        return "is empty";
    if (strlen(s) > 320)
        return "is longer than 320 bytes";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' || *p == ';' ||
            *p == ' ' || *p == '"')
            return "has spaces, control characters or separators";
    return NULL;
}

/* The aliases list al of team t. Returns 0, -EINVAL or -ENOMEM. */
static int read_aliases(const struct tkl_confread *x, const config_setting_t *al,
                        struct tkl_team *t)
{
    char **v = NULL;
    size_t nv = 0;
    int r = tkl_conf_get_strings(x, al, "aliases", &v, &nv);
    for (size_t k = 0; r == 0 && k < nv; k++)
        if (tkl_team_add_key(t, v[k]) < 0)
            r = -ENOMEM;
    tkl_strv_free(v, nv);
    return r;
}

/* Frees v[from..n) and v, whose strings before from were handed on. */
static void free_rest(char **v, size_t from, size_t n)
{
    for (size_t z = from; z < n; z++)
        free(v[z]);
    free(v);
}

/* The recipients list ch of one known channel, appended to t's. Returns 0,
 * -EINVAL (each bad address is left out) or -ENOMEM. */
static int read_channel(const struct tkl_confread *x, const config_setting_t *ch,
                        struct tkl_team *t)
{
    char **v = NULL;
    size_t nv = 0;
    int r = tkl_conf_get_strings(x, ch, "recipients", &v, &nv);
    if (r < 0)
        return r;
    struct tkl_recipient *p = realloc(t->recipients, (t->n_recipients + nv + 1) * sizeof(*p));
    if (!p) {
        tkl_strv_free(v, nv);
        return -ENOMEM;
    }
    t->recipients = p;
    for (size_t q = 0; q < nv; q++) {
        const char *problem = recipient_problem(v[q]);
        if (problem) {
            /* quoted as the file writes it: a line break in it would
             * break the one line of file:line: message */
            char *shown = tkl_text_escape(v[q]);
            free(v[q]);
            if (!shown) {
                free_rest(v, q + 1, nv);
                return -ENOMEM;
            }
            tkl_conf_err_at(x, ch, "recipient \"%s\" %s; give one plain address per string", shown,
                            problem);
            free(shown);
            r = -EINVAL;
            continue;
        }
        char *chn = strdup(config_setting_name(ch));
        if (!chn) {
            free_rest(v, q, nv);
            return -ENOMEM;
        }
        p[t->n_recipients++] =
            (struct tkl_recipient){chn, v[q], (unsigned)config_setting_source_line(ch)};
    }
    free(v);
    return r;
}

/* The recipients group rc of team t, one list per channel. Returns 0,
 * -EINVAL or -ENOMEM. */
static int read_recipients(const struct tkl_confread *x, const config_setting_t *rc,
                           const char *const *channels, size_t n_channels, struct tkl_team *t)
{
    int r = 0;
    if (!config_setting_is_group(rc)) {
        tkl_conf_err_at(x, rc, "recipients is a group: { email = [ \"...\" ]; }");
        return -EINVAL;
    }
    for (int k = 0; k < config_setting_length(rc); k++) {
        const config_setting_t *ch = config_setting_get_elem(rc, (unsigned)k);
        const char *chname = config_setting_name(ch);
        bool known = false;
        for (size_t q = 0; q < n_channels; q++)
            known |= strcmp(channels[q], chname) == 0;
        int rr = -EINVAL;
        if (!known)
            tkl_conf_err_at(x, ch,
                            "\"%s\" is not the name of a configured notifier "
                            "(notifiers = ( { name = \"%s\"; ... } ))",
                            chname, chname);
        else
            rr = read_channel(x, ch, t);
        if (rr == -ENOMEM)
            return rr;
        if (rr < 0)
            r = rr;
    }
    return r;
}

/* The digest keys of entry g into t: digest = "daily" | "weekly" and, for
 * weekly, digest_day = "monday" to "friday" (any case; default monday).
 * Returns 0 or -EINVAL. */
static int read_digest(const struct tkl_confread *x, const config_setting_t *g, struct tkl_team *t)
{
    const char *digest = NULL, *day = NULL;
    int r = 0;
    if (tkl_conf_get_string(x, g, "digest", &digest) < 0)
        r = -EINVAL;
    else if (digest && strcmp(digest, "weekly") == 0)
        t->weekly = true;
    else if (digest && strcmp(digest, "daily") != 0) {
        tkl_conf_err_at(x, config_setting_get_member(g, "digest"),
                        "digest must be \"daily\" or \"weekly\" (got \"%s\")", digest);
        r = -EINVAL;
    }
    int got = tkl_conf_get_string(x, g, "digest_day", &day);
    if (got < 0)
        return -EINVAL;
    if (got == 0)
        return r;
    const config_setting_t *at = config_setting_get_member(g, "digest_day");
    if (!t->weekly) {
        tkl_conf_err_at(x, at, "digest_day needs digest = \"weekly\"");
        return -EINVAL;
    }
    for (int wd = 0; wd < 5; wd++)
        if (strcasecmp(day, tkl_weekday_name(wd)) == 0) {
            t->weekday = wd;
            return r;
        }
    tkl_conf_err_at(x, at, "digest_day must be a weekday from monday to friday (got \"%s\")", day);
    return -EINVAL;
}

/* One entry g of the list, added to dir when its id is good and new.
 * Returns 0, -EINVAL or -ENOMEM. */
static int read_team(const struct tkl_confread *x, const config_setting_t *g,
                     const char *const *channels, size_t n_channels, struct tkl_team_dir *dir)
{
    static const char *const keys[] = {"id",
                                       "name",
                                       "aliases",
                                       "recipients",
                                       "ladder",
                                       "review_ladder",
                                       "overdue_every_days",
                                       "overdue_weekly_for",
                                       "escalate_after_weeks",
                                       "escalate_to",
                                       "digest",
                                       "digest_day",
                                       NULL};
    struct tkl_team *t = &dir->teams[dir->n];
    const config_setting_t *s;
    const char *id = NULL, *name = NULL, *to;
    int r = 0, rr;
    if (!config_setting_is_group(g)) {
        tkl_conf_err_at(x, g, "each team is a group { id = \"...\"; name = \"...\"; }");
        return -EINVAL;
    }
    if (!tkl_conf_check_keys(x, g, "a team", keys))
        r = -EINVAL;
    if (tkl_conf_get_string(x, g, "id", &id) <= 0 || !tkl_conf_valid_id(id)) {
        tkl_conf_err_at(x, g, "a team needs an id of lower-case letters, digits, - and _");
        return -EINVAL;
    }
    if (tkl_team_find(dir, id)) {
        tkl_conf_err_at(x, config_setting_get_member(g, "id"), "team id \"%s\" is used twice", id);
        return -EINVAL;
    }
    if (tkl_conf_get_string(x, g, "name", &name) <= 0)
        name = id;
    dir->n++;
    if (!(t->id = strdup(id)) || !(t->name = strdup(name)) || tkl_team_add_key(t, name) < 0)
        return -ENOMEM;
    if ((s = config_setting_get_member(g, "aliases")) && (rr = read_aliases(x, s, t)) < 0) {
        if (rr == -ENOMEM)
            return rr;
        r = rr;
    }
    if ((s = config_setting_get_member(g, "recipients")) &&
        (rr = read_recipients(x, s, channels, n_channels, t)) < 0) {
        if (rr == -ENOMEM)
            return rr;
        r = rr;
    }
    /* after a bad address, the error says enough */
    if (r == 0 && !t->n_recipients)
        tkl_conf_warn_at(x, g, "team \"%s\" has no recipients; its reminders go nowhere", id);
    if (tkl_conf_get_string(x, g, "escalate_to", &to) > 0 && !(t->escalate_to = strdup(to)))
        return -ENOMEM;
    if (read_digest(x, g, t) < 0)
        r = -EINVAL;
    return r;
}

/* Each escalate_to of the list names a team of dir. Returns 0 or -EINVAL. */
static int check_escalations(const struct tkl_confread *x, const config_setting_t *list,
                             const struct tkl_team_dir *dir)
{
    int r = 0;
    for (int i = 0; i < config_setting_length(list); i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        const config_setting_t *e = g ? config_setting_get_member(g, "escalate_to") : NULL;
        const char *ref = e ? config_setting_get_string(e) : NULL;
        if (ref && !tkl_team_find(dir, ref)) {
            tkl_conf_err_at(x, e, "escalate_to names no team: \"%s\"", ref);
            r = -EINVAL;
        }
    }
    return r;
}

int tkl_teams_conf_read(const struct tkl_confread *x, const config_setting_t *list,
                        const char *const *channels, size_t n_channels, struct tkl_team_dir *dir)
{
    int r = 0;
    if (!list)
        return 0;
    if (!config_setting_is_list(list)) {
        tkl_conf_err_at(x, list, "teams must be a list of groups: ( { id = \"...\"; ... }, ... )");
        return -EINVAL;
    }
    size_t n = (size_t)config_setting_length(list);
    if (!(dir->teams = calloc(n + 1, sizeof(struct tkl_team))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int rr =
            read_team(x, config_setting_get_elem(list, (unsigned)i), channels, n_channels, dir);
        if (rr == -ENOMEM)
            return rr;
        if (rr < 0)
            r = rr;
    }
    /* references between teams, now that all are known */
    if (check_escalations(x, list, dir) < 0)
        r = -EINVAL;
    return r;
}

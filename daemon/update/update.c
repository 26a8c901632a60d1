#include "update.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/text.h"

_Static_assert(TKL_UPDATE_NOT_OURS == 4, "TKL_UPDATE_SAME_SQL names not ours as kind 4");
_Static_assert(TKL_UPDATE_COMPLETE == 1 && TKL_UPDATE_REOPEN == 5 && TKL_UPDATE_SNOOZE == 2 &&
                   TKL_UPDATE_NOT_OURS == 4 && TKL_UPDATE_RESUME == 6,
               "TKL_UPDATE_TOGGLES_SQL names complete, snooze, not ours, reopen and resume as "
               "kinds 1, 2, 4, 5 and 6");

const char *tkl_update_kind_name(enum tkl_update_kind k)
{
    switch (k) {
    case TKL_UPDATE_COMPLETE:
        return "complete";
    case TKL_UPDATE_SNOOZE:
        return "snooze";
    case TKL_UPDATE_PROGRESS:
        return "progress";
    case TKL_UPDATE_NOT_OURS:
        return "not-ours";
    case TKL_UPDATE_REOPEN:
        return "reopen";
    case TKL_UPDATE_RESUME:
        return "resume";
    }
    return "unknown";
}

const char *tkl_update_kind_label(enum tkl_update_kind k)
{
    switch (k) {
    case TKL_UPDATE_COMPLETE:
        return "Marked complete";
    case TKL_UPDATE_SNOOZE:
        return "Snoozed";
    case TKL_UPDATE_PROGRESS:
        return "Progress";
    case TKL_UPDATE_NOT_OURS:
        return "Not ours";
    case TKL_UPDATE_REOPEN:
        return "Reopened";
    case TKL_UPDATE_RESUME:
        return "Reminders resumed";
    }
    return "Unknown";
}

int tkl_update_kind_parse(const char *s, enum tkl_update_kind *ret)
{
    static const enum tkl_update_kind kinds[] = {TKL_UPDATE_COMPLETE, TKL_UPDATE_SNOOZE,
                                                 TKL_UPDATE_PROGRESS, TKL_UPDATE_NOT_OURS,
                                                 TKL_UPDATE_REOPEN,   TKL_UPDATE_RESUME};
    for (size_t i = 0; s && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(s, tkl_update_kind_name(kinds[i])) == 0) {
            *ret = kinds[i];
            return 0;
        }
    return -EINVAL;
}

const char *tkl_rag_name(enum tkl_rag r)
{
    switch (r) {
    case TKL_RAG_RED:
        return "red";
    case TKL_RAG_AMBER:
        return "amber";
    case TKL_RAG_GREEN:
        return "green";
    case TKL_RAG_NONE:
        break;
    }
    return "";
}

int tkl_rag_parse(const char *s, enum tkl_rag *ret)
{
    static const enum tkl_rag rags[] = {TKL_RAG_RED, TKL_RAG_AMBER, TKL_RAG_GREEN};
    for (size_t i = 0; s && i < sizeof(rags) / sizeof(rags[0]); i++)
        if (strcasecmp(s, tkl_rag_name(rags[i])) == 0) {
            *ret = rags[i];
            return 0;
        }
    return -EINVAL;
}

/* 0 when s (NULL: none) is UTF-8 of at most max characters without
 * control characters, C0, DEL and, but for an id (ids: the plan's or the
 * configuration's, which a link carries as they are), C1 (U+0080 to
 * U+009F, NEL among them), but tabs and, when lines, CR and LF;
 * -EMSGSIZE when it is only too long; else -EINVAL. */
static int text_check(const char *s, size_t max, bool lines, bool ids)
{
    if (!s)
        return 0;
    size_t len = strlen(s), chars = 0;
    if (!tkl_utf8_valid(s, len))
        return -EINVAL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && !(lines && (*p == '\t' || *p == '\n' || *p == '\r'))) || *p == 0x7f)
            return -EINVAL;
        if (!ids && *p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) /* U+0080 to U+009F */
            return -EINVAL;
        chars += (*p & 0xc0) != 0x80;
    }
    return chars <= max && len <= TKL_UPDATE_BYTES(max) ? 0 : -EMSGSIZE;
}

/* Whether id s (NULL: none) passes text_check, on one line. */
static bool id_ok(const char *s, size_t max)
{
    return text_check(s, max, false, true) == 0;
}

int tkl_update_check(const struct tkl_update *u)
{
    if (!u->action_id || !*u->action_id || !u->recipient || !*u->recipient ||
        !id_ok(u->action_id, 128) || !id_ok(u->recipient, 254) || !id_ok(u->team_id, 200))
        return -EINVAL;
    if (u->kind < TKL_UPDATE_COMPLETE || u->kind > TKL_UPDATE_RESUME)
        return -EINVAL;
    if ((u->kind == TKL_UPDATE_SNOOZE) != (u->until_day != TKL_NO_DAY))
        return -EINVAL;
    if ((u->kind == TKL_UPDATE_PROGRESS) != (u->rag != TKL_RAG_NONE) || u->rag < TKL_RAG_NONE ||
        u->rag > TKL_RAG_GREEN)
        return -EINVAL;
    if ((u->suggested_team && u->kind != TKL_UPDATE_NOT_OURS) ||
        (u->note && u->kind == TKL_UPDATE_COMPLETE))
        return -EINVAL;
    int r = text_check(u->note, TKL_UPDATE_NOTE_MAX, true, false);
    int rs = text_check(u->suggested_team, TKL_UPDATE_SUGGESTED_MAX, false, false);
    return r == -EINVAL || rs == -EINVAL ? -EINVAL : r < 0 ? r : rs;
}

static bool same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

bool tkl_update_same(const struct tkl_update *a, const struct tkl_update *b)
{
    return a->kind == b->kind && a->until_day == b->until_day && a->rag == b->rag &&
           same_text(a->note, b->note) && same_text(a->suggested_team, b->suggested_team) &&
           a->plan_deadline_day == b->plan_deadline_day &&
           same_text(a->plan_status, b->plan_status) &&
           (a->kind != TKL_UPDATE_NOT_OURS || same_text(a->plan_owners, b->plan_owners));
}

static int dup0(const char *s, char **ret)
{
    *ret = NULL;
    if (!s)
        return 0;
    return (*ret = strdup(s)) ? 0 : -ENOMEM;
}

int tkl_update_copy(const struct tkl_update *u, struct tkl_update *ret)
{
    struct tkl_update c = *u;
    c.action_id = c.recipient = c.team_id = c.note = c.suggested_team = NULL;
    c.plan_deadline_text = c.plan_status = c.plan_owners = NULL;
    if (dup0(u->action_id, &c.action_id) < 0 || dup0(u->recipient, &c.recipient) < 0 ||
        dup0(u->team_id, &c.team_id) < 0 || dup0(u->note, &c.note) < 0 ||
        dup0(u->suggested_team, &c.suggested_team) < 0 ||
        dup0(u->plan_deadline_text, &c.plan_deadline_text) < 0 ||
        dup0(u->plan_status, &c.plan_status) < 0 || dup0(u->plan_owners, &c.plan_owners) < 0) {
        tkl_update_free(&c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

void tkl_update_free(struct tkl_update *u)
{
    free(u->action_id);
    free(u->recipient);
    free(u->team_id);
    free(u->note);
    free(u->suggested_team);
    free(u->plan_deadline_text);
    free(u->plan_status);
    free(u->plan_owners);
    u->action_id = u->recipient = u->team_id = u->note = u->suggested_team = NULL;
    u->plan_deadline_text = u->plan_status = u->plan_owners = NULL;
}

int tkl_updates_push(struct tkl_updates *l, const struct tkl_update *u)
{
    struct tkl_update c;
    if (tkl_update_copy(u, &c) < 0)
        return -ENOMEM;
    struct tkl_update *v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v) {
        tkl_update_free(&c);
        return -ENOMEM;
    }
    v[l->n++] = c;
    l->v = v;
    return 0;
}

void tkl_updates_free(struct tkl_updates *l)
{
    for (size_t i = 0; i < l->n; i++)
        tkl_update_free(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

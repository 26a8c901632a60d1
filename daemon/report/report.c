#include "report.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tickler/day.h>
#include <tickler/text.h>

#include "../core/day.h"
#include "../core/text.h"
#include "../schedule/standing.h"
#include "../update/answer.h"
#include "report_text.h"
#include "word.h"

/* ---- the period ------------------------------------------------------- */

/* The same day of the month years on from day; for 29 February in a year
 * without one, the 28th, or with next_day the 1st of March. */
static int32_t year_on(int32_t day, int years, bool next_day)
{
    int y, m, d;
    tkl_day_to_civil(day, &y, &m, &d);
    y += years;
    if (d > tkl_days_in_month(y, m))
        return tkl_day_from_civil(y, m, tkl_days_in_month(y, m)) + (next_day ? 1 : 0);
    return tkl_day_from_civil(y, m, d);
}

int tkl_report_period(const char *from, const char *to, int32_t today, int32_t *ret_from,
                      int32_t *ret_to)
{
    int32_t lo = 0, last = 0;
    if ((from && tkl_day_parse_iso(from, &lo) < 0) || (to && tkl_day_parse_iso(to, &last) < 0))
        return -EINVAL;
    if (!to)
        last = from ? year_on(lo, 1, true) - 1 : today; /* from 29 Feb: to 28 Feb */
    if (!from)
        lo = year_on(last, -1, false) + 1; /* to 29 Feb: from 1 Mar */
    if (last < lo || last - lo > 366 * 50)
        return -EINVAL;
    *ret_from = lo;
    *ret_to = last + 1;
    return 0;
}

/* "3 Dec 2026". */
static char *day_short(int32_t day, char buf[16])
{
    int y, m, d;
    tkl_day_to_civil(day, &y, &m, &d);
    snprintf(buf, 16, "%d %.3s %d", d, tkl_month_name(m), y);
    return buf;
}

char *tkl_report_period_text(int32_t from, int32_t to, char *buf, size_t size)
{
    int y, m, d;
    char a[16], b[16];
    tkl_day_to_civil(from, &y, &m, &d);
    if (m == 1 && d == 1 && to == tkl_day_from_civil(y + 1, 1, 1))
        snprintf(buf, size, "%d", y);
    else if (to - 1 == from)
        snprintf(buf, size, "%s", day_short(from, a));
    else
        snprintf(buf, size, "%s to %s", day_short(from, a), day_short(to - 1, b));
    return buf;
}

int tkl_report_format_parse(const char *s, enum tkl_report_format *ret)
{
    if (!strcmp(s, "html"))
        *ret = TKL_REPORT_HTML;
    else if (!strcmp(s, "csv"))
        *ret = TKL_REPORT_CSV;
    else if (!strcmp(s, "md") || !strcmp(s, "markdown"))
        *ret = TKL_REPORT_MARKDOWN;
    else if (!strcmp(s, "docx") || !strcmp(s, "word"))
        *ret = TKL_REPORT_WORD;
    else
        return -EINVAL;
    return 0;
}

const char *tkl_report_format_type(enum tkl_report_format f)
{
    switch (f) {
    case TKL_REPORT_CSV:
        return "text/csv; charset=utf-8";
    case TKL_REPORT_MARKDOWN:
        return "text/markdown; charset=utf-8";
    case TKL_REPORT_WORD:
        return TKL_WORD_TYPE;
    default:
        return "text/html; charset=utf-8";
    }
}

/* ---- the order of the rows -------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Compares a and b as texts whose runs of white space are one space,
 * whose ends are trimmed and whose ASCII letters are of one case: an
 * objective written twice with other line breaks or capitals is one
 * objective. */
static int folded_cmp(const char *a, const char *b)
{
    for (;;) {
        while (is_space(*a) && (a[1] == '\0' || is_space(a[1])))
            a++; /* a run: keep its last space, or none at the end */
        while (is_space(*b) && (b[1] == '\0' || is_space(b[1])))
            b++;
        unsigned char x = is_space(*a) ? ' ' : (unsigned char)tolower((unsigned char)*a);
        unsigned char y = is_space(*b) ? ' ' : (unsigned char)tolower((unsigned char)*b);
        if (x != y || !x)
            return (x > y) - (x < y);
        a++;
        b++;
    }
}

/* Skips white space at the start (folded_cmp's view of a leading run). */
const char *tkl_report_trim(const char *s)
{
    while (s && is_space(*s))
        s++;
    return s ? s : "";
}

/* A row being ordered: its action's index in the store and the ranks of
 * its objective and commitment (the index of the first action naming
 * them). */
struct order {
    size_t index, objective, commitment;
    const struct tkl_action *a;
};

static int by_objective(const void *x, const void *y)
{
    const struct order *p = x, *q = y;
    int c = folded_cmp(tkl_report_trim(p->a->objective), tkl_report_trim(q->a->objective));
    return c ? c : (p->index > q->index) - (p->index < q->index);
}

static int by_commitment(const void *x, const void *y)
{
    const struct order *p = x, *q = y;
    if (p->objective != q->objective)
        return (p->objective > q->objective) - (p->objective < q->objective);
    int c = folded_cmp(tkl_report_trim(p->a->commitment), tkl_report_trim(q->a->commitment));
    return c ? c : (p->index > q->index) - (p->index < q->index);
}

static int by_rank(const void *x, const void *y)
{
    const struct order *p = x, *q = y;
    if (p->objective != q->objective)
        return (p->objective > q->objective) - (p->objective < q->objective);
    if (p->commitment != q->commitment)
        return (p->commitment > q->commitment) - (p->commitment < q->commitment);
    return (p->index > q->index) - (p->index < q->index);
}

/* Sorts v (n rows) by objective, then commitment, each in the order the
 * plan first names it, then plan order: O(n log n), for plans of any
 * size. */
static void order_rows(struct order *v, size_t n)
{
    qsort(v, n, sizeof(*v), by_objective);
    for (size_t i = 0; i < n; i++)
        v[i].objective = i && !folded_cmp(tkl_report_trim(v[i].a->objective),
                                          tkl_report_trim(v[i - 1].a->objective))
                             ? v[i - 1].objective
                             : v[i].index;
    qsort(v, n, sizeof(*v), by_commitment);
    for (size_t i = 0; i < n; i++)
        v[i].commitment = i && v[i].objective == v[i - 1].objective &&
                                  !folded_cmp(tkl_report_trim(v[i].a->commitment),
                                              tkl_report_trim(v[i - 1].a->commitment))
                              ? v[i - 1].commitment
                              : v[i].index;
    qsort(v, n, sizeof(*v), by_rank);
}

/* ---- the model -------------------------------------------------------- */

/* Whether a's date (due or review) is before day. */
static bool overdue(const struct tkl_action *a, int32_t day)
{
    const struct tkl_deadline *d = &a->deadline;
    return (d->kind == TKL_DEADLINE_DATE || d->kind == TKL_DEADLINE_REVIEW) &&
           d->day != TKL_NO_DAY && d->day < day;
}

/* The status of row (its action, completion and latest note set) as at
 * day as_at, and why. */
static void decide(struct tkl_report_row *row, int32_t as_at)
{
    const struct tkl_action *a = row->action;
    enum tkl_rag rag = row->latest ? row->latest->rag : TKL_RAG_NONE;
    if (a->status == TKL_STATUS_CLOSED)
        row->reason = TKL_REASON_PLAN_CLOSED;
    else if (a->status == TKL_STATUS_COMPLETE)
        row->reason = TKL_REASON_PLAN_COMPLETE;
    else if (row->completion)
        row->reason = TKL_REASON_MARKED_COMPLETE;
    else if (row->not_ours) /* the plan's owner must find it a team first */
        row->reason = TKL_REASON_NOT_OURS;
    else if (overdue(a, as_at))
        row->reason = TKL_REASON_OVERDUE;
    else if (rag == TKL_RAG_RED || rag == TKL_RAG_AMBER)
        row->reason = TKL_REASON_AT_RISK;
    else if (a->deadline.kind == TKL_DEADLINE_ONGOING)
        row->reason = TKL_REASON_NO_END;
    else if (rag == TKL_RAG_GREEN && a->deadline.day == TKL_NO_DAY)
        row->reason = TKL_REASON_NO_DATE; /* TBC, or a timeframe not read */
    else if (rag == TKL_RAG_GREEN)
        row->reason = TKL_REASON_ON_SCHEDULE;
    else
        row->reason = TKL_REASON_NO_UPDATE;
    switch (row->reason) {
    case TKL_REASON_PLAN_CLOSED:
        row->status = TKL_REPORT_INCOMPLETE;
        break;
    case TKL_REASON_PLAN_COMPLETE:
    case TKL_REASON_MARKED_COMPLETE:
    case TKL_REASON_ON_SCHEDULE:
        row->status = TKL_REPORT_COMPLETE;
        break;
    default:
        row->status = TKL_REPORT_ONGOING;
    }
}

/* The instants the period's days begin and end at. */
struct span {
    int64_t lo, hi; /* [lo, hi) */
};

/* Orders updates (pointers into one array) by action id, then as recorded
 * (their place in the array). */
static int by_action(const void *x, const void *y)
{
    const struct tkl_update *p = *(const struct tkl_update *const *)x;
    const struct tkl_update *q = *(const struct tkl_update *const *)y;
    int c = strcmp(p->action_id, q->action_id);
    return c ? c : (p > q) - (p < q);
}

/* The updates of l by action (by_action), into *ret (NULL when l has none).
 * Returns 0 or -ENOMEM. */
static int index_updates(const struct tkl_updates *l, const struct tkl_update ***ret)
{
    *ret = NULL;
    if (!l || !l->n)
        return 0;
    /* an array of pointers: sizeof(*v) is a pointer's, as meant */
    // NOLINTNEXTLINE(bugprone-sizeof-expression)
    const struct tkl_update **v = malloc(l->n * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < l->n; i++)
        v[i] = &l->v[i];
    qsort(v, l->n, sizeof(*v), by_action); // NOLINT(bugprone-sizeof-expression): pointers
    *ret = v;
    return 0;
}

/* The first of the n indexed updates v whose action is id, and how many
 * there are from it (*ret_n, 0 for none). */
static const struct tkl_update *const *updates_of(const struct tkl_update *const *v, size_t n,
                                                  const char *id, size_t *ret_n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first whose id is not below id */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid]->action_id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < n && !strcmp(v[end]->action_id, id))
        end++;
    *ret_n = end - lo;
    return v + lo;
}

/* Whether a resume of the team of v[i] (a "not ours") recorded before hi
 * follows v[i] among the n updates v of its action (in the order
 * recorded): it ended that "not ours". */
static bool resumed_after(const struct tkl_update *const *v, size_t n_v, size_t i, int64_t hi)
{
    for (size_t j = i + 1; j < n_v; j++)
        if (v[j]->kind == TKL_UPDATE_RESUME && v[j]->at < hi && v[j]->team_id &&
            !strcmp(v[j]->team_id, v[i]->team_id))
            return true;
    return false;
}

/* The latest "not ours" of v that one of a's owning teams said before hi
 * and that holds (no resume of its team followed it), or NULL. */
static const struct tkl_update *disowned_by_one(const struct tkl_action *a,
                                                const struct tkl_update *const *v, size_t n_v,
                                                int64_t hi)
{
    const struct tkl_update *latest = NULL;
    for (size_t i = 0; i < n_v; i++) {
        const struct tkl_update *u = v[i];
        if (u->kind != TKL_UPDATE_NOT_OURS || u->at >= hi || !u->team_id ||
            !tkl_update_holds(u, a) || (latest && u->at < latest->at) ||
            resumed_after(v, n_v, i, hi))
            continue;
        for (size_t k = 0; k < a->n_teams; k++)
            if (!strcmp(u->team_id, a->teams[k]))
                latest = u;
    }
    return latest;
}

/* The latest "not ours" recorded before hi of a's n updates v, when every
 * team that owns a has one that holds, and that no resume of the team
 * followed (then no team has the action; one team's alone leaves it with
 * the others, whose reminders go on), else NULL. */
static const struct tkl_update *disowned(const struct tkl_action *a,
                                         const struct tkl_update *const *v, size_t n_v, int64_t hi)
{
    const struct tkl_update *latest = NULL;
    for (size_t k = 0; k < a->n_teams; k++) {
        const struct tkl_update *said = NULL; /* team k's latest */
        for (size_t i = 0; i < n_v; i++) {
            const struct tkl_update *u = v[i];
            if (u->kind == TKL_UPDATE_NOT_OURS && u->at < hi && u->team_id &&
                !strcmp(u->team_id, a->teams[k]) && tkl_update_holds(u, a) &&
                (!said || u->at >= said->at))
                said = resumed_after(v, n_v, i, hi) ? NULL : u;
        }
        if (!said)
            return NULL;
        if (!latest || said->at >= latest->at)
            latest = said;
    }
    return latest;
}

/* Whether the Progress column shows u: a progress note, a completion, a
 * reopen, a "not ours", a resume or a snooze (every answer). */
static bool shown(const struct tkl_update *u)
{
    return u->kind == TKL_UPDATE_PROGRESS || u->kind == TKL_UPDATE_COMPLETE ||
           u->kind == TKL_UPDATE_REOPEN || u->kind == TKL_UPDATE_NOT_OURS ||
           u->kind == TKL_UPDATE_RESUME || u->kind == TKL_UPDATE_SNOOZE;
}

/* Fills the officers' part of row from its action's n updates v (in the
 * order recorded), those recorded before the period's end: the notes of
 * the period (every answer: progress, completions, reopens, "not ours",
 * resumes and snoozes), the
 * latest note, the completion that holds and that no reopen that holds
 * followed. Returns 0 or -ENOMEM. */
static int gather(struct tkl_report_row *row, const struct tkl_update *const *v, size_t n_v,
                  struct span p)
{
    const struct tkl_action *a = row->action;
    size_t n = 0;
    for (size_t i = 0; i < n_v; i++) {
        const struct tkl_update *u = v[i];
        if (u->at >= p.hi)
            continue;
        if (shown(u) && u->at >= p.lo) {
            /* an array of pointers: sizeof(*notes) is a pointer's, as meant */
            // NOLINTNEXTLINE(bugprone-sizeof-expression)
            if (!row->notes && !(row->notes = calloc(n_v - i, sizeof(*row->notes))))
                return -ENOMEM;
            row->notes[n++] = u;
            if (u->kind == TKL_UPDATE_PROGRESS && (!row->latest || u->at >= row->latest->at))
                row->latest = u;
        }
        if (u->kind == TKL_UPDATE_COMPLETE && tkl_update_holds(u, a) &&
            (!row->completion || u->at >= row->completion->at))
            row->completion = u;
        if (u->kind == TKL_UPDATE_REOPEN && tkl_update_holds(u, a))
            row->completion = NULL;
    }
    row->not_ours = disowned(a, v, n_v, p.hi);
    row->partly_not_ours = row->not_ours ? NULL : disowned_by_one(a, v, n_v, p.hi);
    row->n_notes = n;
    return 0;
}

/* Whether the rows i and i - 1 of v differ in field (objective or
 * commitment). */
static bool opens(const struct order *v, size_t i, bool commitment)
{
    if (i == 0 || v[i].objective != v[i - 1].objective)
        return true;
    return commitment && v[i].commitment != v[i - 1].commitment;
}

/* The store's plan actions (no observances), in report order, into *ret
 * and *ret_n. Returns 0 or -ENOMEM. */
static int plan_order(const struct tkl_store *store, struct order **ret, size_t *ret_n)
{
    struct order *v = calloc(store->n ? store->n : 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < store->n; i++)
        if (tkl_action_in_plan(&store->actions[i]))
            v[n++] = (struct order){.index = i, .a = &store->actions[i]};
    order_rows(v, n);
    *ret = v;
    *ret_n = n;
    return 0;
}

/* The updates of ix (all n, by action) that the period shows for action
 * ids store's plan does not have, into r's orphans. Returns 0 or -ENOMEM
 * (what was made is in r, for tkl_report_free). */
static int gather_orphans(struct tkl_report *r, const struct tkl_store *store,
                          const struct tkl_update *const *ix, size_t n, struct span p)
{
    for (size_t i = 0, end; i < n; i = end) {
        for (end = i + 1; end < n && !strcmp(ix[end]->action_id, ix[i]->action_id);)
            end++;
        const struct tkl_update *const *of = ix + i;
        size_t n_of = end - i;
        const struct tkl_action *a = tkl_store_find(store, ix[i]->action_id);
        if (a && tkl_action_in_plan(a))
            continue;
        struct tkl_report_orphan o = {.action_id = ix[i]->action_id};
        for (size_t k = 0; k < n_of; k++) {
            if (!shown(of[k]) || of[k]->at < p.lo || of[k]->at >= p.hi)
                continue;
            // NOLINTNEXTLINE(bugprone-sizeof-expression): pointers
            if (!o.notes && !(o.notes = calloc(n_of, sizeof(*o.notes))))
                return -ENOMEM;
            o.notes[o.n_notes++] = of[k];
        }
        if (!o.n_notes)
            continue;
        struct tkl_report_orphan *v = realloc(r->orphans, (r->n_orphans + 1) * sizeof(*v));
        if (!v) {
            free(o.notes);
            return -ENOMEM;
        }
        r->orphans = v;
        r->orphans[r->n_orphans++] = o;
        r->n_orphan_notes += o.n_notes;
    }
    return 0;
}

int tkl_report_build(const struct tkl_store *store, const struct tkl_updates *updates,
                     const struct tkl_report_conf *conf, int32_t from, int32_t to, int32_t today,
                     struct tkl_report *ret)
{
    struct tkl_report r = {.conf = conf, .from = from, .to = to};
    r.as_at = today < to - 1 ? today : to - 1;
    r.today = today;
    struct span p = {tkl_local_instant(from, 0), tkl_local_instant(to, 0)};
    struct order *v = NULL;
    const struct tkl_update **ix = NULL;
    size_t n = 0;
    int err = plan_order(store, &v, &n);
    if (err == 0)
        err = index_updates(updates, &ix);
    if (err == 0 && !(r.rows = calloc(n ? n : 1, sizeof(*r.rows))))
        err = -ENOMEM;
    if (err != 0 || !r.rows) {
        free(ix);
        free(v);
        return err;
    }
    for (size_t i = 0; i < n; i++, r.n++) {
        struct tkl_report_row *row = &r.rows[i];
        row->action = v[i].a;
        row->opens_objective = opens(v, i, false);
        row->opens_commitment = opens(v, i, true);
        size_t n_of = 0;
        const struct tkl_update *const *of =
            ix ? updates_of(ix, updates->n, row->action->id, &n_of) : NULL;
        if (n_of && (err = gather(row, of, n_of, p)) < 0)
            break;
        decide(row, r.as_at);
        r.counts[row->status]++;
    }
    if (err < 0)
        r.n++; /* the row that failed holds what it gathered */
    else if (ix)
        err = gather_orphans(&r, store, ix, updates->n, p);
    free(ix);
    free(v);
    if (err < 0) {
        tkl_report_free(&r);
        return err;
    }
    *ret = r;
    return 0;
}

void tkl_report_free(struct tkl_report *r)
{
    for (size_t i = 0; r->rows && i < r->n; i++)
        free(r->rows[i].notes);
    free(r->rows);
    for (size_t i = 0; i < r->n_orphans; i++)
        free(r->orphans[i].notes);
    free(r->orphans);
    memset(r, 0, sizeof(*r));
}

/* ---- words ------------------------------------------------------------ */

const char *tkl_report_rag_label(enum tkl_rag r)
{
    switch (r) {
    case TKL_RAG_RED:
        return "Red";
    case TKL_RAG_AMBER:
        return "Amber";
    case TKL_RAG_GREEN:
        return "Green";
    default:
        return "";
    }
}

/* The day instant t falls on, as "3 Dec 2026". */
static char *when_short(int64_t t, char buf[16])
{
    int32_t day = tkl_local_day(t);
    if (day == TKL_NO_DAY) {
        snprintf(buf, 16, "?");
        return buf;
    }
    return day_short(day, buf);
}

/* "review due" for a review date, else "due". */
static const char *due_word(const struct tkl_action *a)
{
    return a->deadline.kind == TKL_DEADLINE_REVIEW ? "review due" : "due";
}

/* What the Progress column calls a completion, a reopen, a "not ours", a
 * resume or a snooze ("Marked complete", "Reopened", "Said not ours",
 * "Resumed reminders", "Snoozed reminders until 14 Dec 2026"; capital: at
 * the start of a sentence), into buf; NULL for a progress note. */
static const char *done_label(const struct tkl_update *u, bool capital, char buf[48])
{
    const char *w = u->kind == TKL_UPDATE_COMPLETE   ? "marked complete"
                    : u->kind == TKL_UPDATE_REOPEN   ? "reopened"
                    : u->kind == TKL_UPDATE_NOT_OURS ? "said not ours"
                    : u->kind == TKL_UPDATE_RESUME   ? "resumed reminders"
                    : u->kind == TKL_UPDATE_SNOOZE   ? "snoozed reminders"
                                                     : NULL;
    if (!w)
        return NULL;
    char day[16];
    snprintf(buf, 48, "%c%s%s%s", capital ? (char)toupper((unsigned char)w[0]) : w[0], w + 1,
             u->kind == TKL_UPDATE_SNOOZE && u->until_day != TKL_NO_DAY ? " until " : "",
             u->kind == TKL_UPDATE_SNOOZE && u->until_day != TKL_NO_DAY
                 ? day_short(u->until_day, day)
                 : "");
    return buf;
}

/* ", suggesting " before a "not ours"'s suggested team, or "". */
static const char *suggesting(const struct tkl_update *u)
{
    return u->kind == TKL_UPDATE_NOT_OURS && u->suggested_team && *u->suggested_team
               ? ", suggesting "
               : "";
}

/* " (the plan has changed since)" when u no longer holds for a, else ""
 * (and for no action: an orphan's). */
static const char *changed_since(const struct tkl_update *u, const struct tkl_action *a)
{
    return !a || tkl_update_holds(u, a) ? "" : " (the plan has changed since)";
}

/* The plan's text s as a why quotes it: whole up to QUOTED_MAX bytes, else
 * its start and its end, each cut at a word (a status's last words often
 * decide it: "... Incomplete/cannot be carried forward"), " ... " between,
 * into buf. Returns s or buf. */
#define QUOTED_MAX 240
static const char *quoted(const char *s, char buf[QUOTED_MAX + 8])
{
    size_t len = strlen(s);
    if (len <= QUOTED_MAX)
        return s;
    size_t head = tkl_utf8_prefix(s, QUOTED_MAX / 2), k = head;
    while (k > QUOTED_MAX / 4 && s[k] != ' ')
        k--;
    if (s[k] == ' ')
        head = k;
    while (head && strchr(" ,;:", s[head - 1]))
        head--;
    const char *tail = s + len - QUOTED_MAX * 2 / 5, *space = strchr(tail, ' ');
    if (space && space[1])
        tail = space + 1;
    while (((unsigned char)*tail & 0xC0) == 0x80) /* inside a character: its end */
        tail++;
    snprintf(buf, QUOTED_MAX + 8, "%.*s \xe2\x80\xa6 %s", (int)head, s, tail);
    return buf;
}

char *tkl_report_reason_text(const struct tkl_report_row *row, char *buf, size_t size)
{
    const struct tkl_action *a = row->action;
    char day[16];
    switch (row->reason) {
    case TKL_REASON_PLAN_CLOSED:
    case TKL_REASON_PLAN_COMPLETE: {
        char q[QUOTED_MAX + 8];
        const char *t = quoted(a->status_text, q);
        size_t n = strlen(t);
        /* a status that ends a sentence ends this one */
        snprintf(buf, size, "The plan says \xe2\x80\x9c%s\xe2\x80\x9d%s", t,
                 n && strchr(".!?", t[n - 1]) ? "" : ".");
        break;
    }
    case TKL_REASON_MARKED_COMPLETE:
        snprintf(buf, size, "Marked complete by %.*s on %s.",
                 (int)tkl_utf8_prefix(row->completion->recipient, 120), row->completion->recipient,
                 when_short(row->completion->at, day));
        break;
    case TKL_REASON_NOT_OURS: {
        /* the team an officer suggested, cut, then isolated from the text
         * after it (its closers kept); out of memory, cut only */
        const char *sugg = row->not_ours->suggested_team;
        char cut[96];
        snprintf(cut, sizeof(cut), "%.*s", sugg ? (int)tkl_utf8_prefix(sugg, 80) : 0,
                 sugg ? sugg : "");
        char *team = sugg ? tkl_text_quote(cut) : NULL;
        snprintf(buf, size, "Said not ours by %.*s on %s%s%s; for the plan's owner to reassign.",
                 (int)tkl_utf8_prefix(row->not_ours->recipient, 120), row->not_ours->recipient,
                 when_short(row->not_ours->at, day), sugg ? ", suggesting " : "",
                 team ? team : cut);
        free(team);
        break;
    }
    case TKL_REASON_ON_SCHEDULE:
        snprintf(buf, size, "On schedule: green, %s %s.", due_word(a),
                 day_short(a->deadline.day, day));
        break;
    case TKL_REASON_OVERDUE:
        snprintf(buf, size, "Overdue: %s %s.", due_word(a), day_short(a->deadline.day, day));
        break;
    case TKL_REASON_AT_RISK:
        snprintf(buf, size, "Latest update %s, %s.", tkl_report_rag_label(row->latest->rag),
                 when_short(row->latest->at, day));
        break;
    case TKL_REASON_NO_END: /* and whether its officers said anything */
        if (row->latest && row->latest->rag)
            snprintf(buf, size, "Ongoing action; latest update %s, %s.",
                     tkl_report_rag_label(row->latest->rag), when_short(row->latest->at, day));
        else if (row->latest)
            snprintf(buf, size, "Ongoing action; latest update %s, with no RAG status.",
                     when_short(row->latest->at, day));
        else if (row->n_notes)
            snprintf(buf, size, "Ongoing action; no progress update this period.");
        else
            snprintf(buf, size, "Ongoing action; no update from officers this period.");
        break;
    case TKL_REASON_NO_DATE:
        snprintf(buf, size, "Latest update Green, %s, but the plan gives no date to hold it to.",
                 when_short(row->latest->at, day));
        break;
    default:
        if (row->partly_not_ours) { /* its other teams own it still */
            snprintf(buf, size,
                     "No progress update this period; said not ours by %.*s on %s, "
                     "for one of its teams.",
                     (int)tkl_utf8_prefix(row->partly_not_ours->recipient, 120),
                     row->partly_not_ours->recipient, when_short(row->partly_not_ours->at, day));
        } else if (row->n_notes) { /* none of them a progress note with a RAG status */
            const struct tkl_update *u = row->notes[row->n_notes - 1];
            char label[48];
            const char *done = done_label(u, false, label);
            if (done)
                snprintf(buf, size,
                         "No progress update this period; the latest update: %s by %.*s "
                         "on %s%s.",
                         done, (int)tkl_utf8_prefix(u->recipient, 120), u->recipient,
                         when_short(u->at, day), changed_since(u, a));
            else
                snprintf(buf, size, "Latest update %s, with no RAG status.",
                         when_short(u->at, day));
        } else if (a->progress && *tkl_report_trim(a->progress)) { /* shown as Progress, marked */
            snprintf(buf, size,
                     "No update from officers this period; the progress is the plan's "
                     "own.");
        } else {
            snprintf(buf, size, "No update this period.");
        }
    }
    return buf;
}

const char *tkl_report_status_words(const struct tkl_report *r, enum tkl_report_status s)
{
    static const char *const fallback[TKL_REPORT_N_STATUS] = {
        "Complete/on schedule to deliver", "Ongoing/remain included in action plan",
        "Incomplete/cannot be carried forward"};
    const char *w = r->conf ? r->conf->status_words[s] : NULL;
    return w && *w ? w : fallback[s];
}

char *tkl_report_as_at(const struct tkl_report *r, char *buf, size_t size)
{
    char at[TKL_DAY_LONG_SIZE], now[TKL_DAY_LONG_SIZE];
    if (tkl_day_long(r->as_at, at, sizeof(at)) < 0)
        snprintf(at, sizeof(at), "?");
    if (r->as_at < r->today && tkl_day_long(r->today, now, sizeof(now)) == 0)
        snprintf(buf, size, "as at %s (the plan as it stands on %s)", at, now);
    else
        snprintf(buf, size, "as at %s", at);
    return buf;
}

const char *tkl_report_title(const struct tkl_report *r)
{
    const char *t = r->conf ? r->conf->title : NULL;
    return t && *t ? t : "Equality action plan: progress report";
}

int tkl_report_note_head(struct tkl_buf *b, const struct tkl_update *u, const struct tkl_action *a)
{
    char day[16];
    char label[48];
    const char *done = done_label(u, false, label), *sugg = suggesting(u);
    when_short(u->at, day);
    if (!done)
        return tkl_buf_printf(b, "%s%s%s, %s", day, u->rag ? ", " : "",
                              tkl_report_rag_label(u->rag), u->recipient);
    /* the team an officer suggested, isolated from the text after it */
    char *team = *sugg ? tkl_text_quote(u->suggested_team) : NULL;
    int r = *sugg && !team ? -ENOMEM
                           : tkl_buf_printf(b, "%s: %s by %s%s%s%s", day, done, u->recipient, sugg,
                                            team ? team : "", changed_since(u, a));
    free(team);
    return r;
}

/* One note of the Progress column as plain text: its head, then ": " and
 * its note when it has one. */
static int note_text(struct tkl_buf *b, const struct tkl_update *u, const struct tkl_action *a)
{
    int r = tkl_report_note_head(b, u, a);
    if (r == 0 && u->note && *u->note)
        r = tkl_buf_printf(b, ": %s", u->note);
    return r;
}

bool tkl_report_notes_tell_progress(const struct tkl_report_row *row)
{
    for (size_t i = 0; i < row->n_notes; i++)
        if (row->notes[i]->kind == TKL_UPDATE_PROGRESS ||
            row->notes[i]->kind == TKL_UPDATE_COMPLETE)
            return true;
    return false;
}

/* The n notes of action a (NULL: one the plan no longer has) as plain
 * text, lines apart. Returns 0 or -ENOMEM. */
static int notes_text(struct tkl_buf *b, const struct tkl_update *const *notes, size_t n,
                      const struct tkl_action *a)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (i)
            r = tkl_buf_putc(b, '\n');
        if (r == 0)
            r = note_text(b, notes[i], a);
    }
    return r;
}

/* The Progress column of row as plain text, lines apart. Returns 0 or
 * -ENOMEM. */
static int progress_text(struct tkl_buf *b, const struct tkl_report_row *row)
{
    const struct tkl_action *a = row->action;
    int r = notes_text(b, row->notes, row->n_notes, a);
    if (r < 0 || tkl_report_notes_tell_progress(row))
        return r;
    if (a->progress && *tkl_report_trim(a->progress))
        return tkl_buf_printf(b, "%sFrom the plan: %s", row->n_notes ? "\n" : "", a->progress);
    return row->n_notes ? 0 : tkl_buf_puts(b, "No update this period");
}

/* ---- CSV -------------------------------------------------------------- */

/* Writes one cell: quoted when it holds a comma, quote or line break
 * (RFC 4180), or a semicolon or tab (the separators a spreadsheet in
 * another locale splits at, which would start a new cell, a formula
 * perhaps, inside this one); line breaks as LF inside, and a leading '
 * when a spreadsheet would read it as a formula (= + - @, tab, CR). */
/* The most characters an Excel cell holds (UTF-16 units), and what ends a
 * cell cut to fit. */
#define CSV_CELL_MAX 32767
#define CSV_CUT                                                                                    \
    " \xe2\x80\xa6 (cut: a spreadsheet cell holds no more; the HTML report and tickler updates "   \
    "--json have it whole)"

/* The length in bytes of s's longest start that is whole characters and
 * at most max UTF-16 units (a character beyond the BMP is two); all of s
 * when it fits. */
static size_t utf16_prefix(const char *s, size_t max)
{
    size_t units = 0, i = 0, whole = 0;
    for (; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80)
            continue; /* inside a character */
        whole = i;
        units += c >= 0xF0 ? 2 : 1;
        if (units > max)
            return whole;
    }
    return i;
}

static void csv_cell(FILE *out, const char *s, bool last)
{
    s = s ? s : "";
    /* a longer cell would be cut by the spreadsheet without a word */
    bool guard = *s && strchr("=+-@\t\r", *s); /* a leading ', one more character */
    size_t len = strlen(s), keep = utf16_prefix(s, CSV_CELL_MAX - guard);
    const char *cut = "";
    if (keep < len) {
        keep = utf16_prefix(s, CSV_CELL_MAX - guard - (sizeof(CSV_CUT) - 1));
        cut = CSV_CUT;
    }
    bool quote = *cut || strpbrk(s, ",;\t\"\r\n") != NULL;
    if (quote)
        fputc('"', out);
    if (guard)
        fputc('\'', out);
    for (const char *end = s + keep; s < end; s++) {
        if (*s == '\r' && s[1] == '\n')
            continue;
        if (*s == '"')
            fputc('"', out);
        fputc(*s == '\r' ? '\n' : *s, out);
    }
    fputs(cut, out);
    if (quote)
        fputc('"', out);
    fputs(last ? "\r\n" : ",", out);
}

static int write_csv(FILE *out, const struct tkl_report *r)
{
    char period[64], heading[96];
    tkl_report_period_text(r->from, r->to, period, sizeof(period));
    snprintf(heading, sizeof(heading), "Progress " EN_DASH " %s", period);
    fputs("\xef\xbb\xbf", out);
    const char *head[] = {
        "Ref",   "Objective", "Commitment", "Agreed Actions", "Responsibility", "Timeframe",
        heading, "Status",    "Why"};
    for (size_t i = 0; i < 9; i++)
        csv_cell(out, head[i], i == 8);
    struct tkl_buf b = {0};
    int err = 0;
    for (size_t i = 0; i < r->n && err == 0; i++) {
        const struct tkl_report_row *row = &r->rows[i];
        const struct tkl_action *a = row->action;
        tkl_buf_reset(&b);
        if ((err = progress_text(&b, row)) < 0)
            break;
        char why[TKL_REPORT_REASON_SIZE];
        csv_cell(out, a->id, false);
        csv_cell(out, a->objective, false);
        csv_cell(out, a->commitment, false);
        csv_cell(out, a->title, false);
        csv_cell(out, a->owners, false);
        csv_cell(out, a->deadline_text, false);
        csv_cell(out, b.data, false);
        csv_cell(out, tkl_report_status_words(r, row->status), false);
        csv_cell(out, tkl_report_reason_text(row, why, sizeof(why)), true);
    }
    for (size_t i = 0; i < r->n_orphans && err == 0; i++) {
        tkl_buf_reset(&b);
        if ((err = notes_text(&b, r->orphans[i].notes, r->orphans[i].n_notes, NULL)) < 0)
            break;
        csv_cell(out, r->orphans[i].action_id, false);
        csv_cell(out, "Not in the plan", false);
        for (int k = 0; k < 4; k++) /* commitment, action, responsibility, timeframe */
            csv_cell(out, "", false);
        csv_cell(out, b.data, false);
        csv_cell(out, "", false);
        csv_cell(out, ORPHANS_TEXT, true);
    }
    tkl_buf_free(&b);
    return err;
}

/* ---- Markdown --------------------------------------------------------- */

/* Writes s for a Markdown table cell (or, with cell false, a heading or
 * paragraph): the characters Markdown or HTML would read escaped with a
 * backslash, line breaks as <br> in a cell and a space elsewhere, other
 * control characters as a space. */
static void md_text(FILE *out, const char *s, bool cell)
{
    for (s = s ? s : ""; *s; s++) {
        if (*s == '\r' && s[1] == '\n')
            continue;
        if (*s == '\n' || *s == '\r')
            fputs(cell ? "<br>" : " ", out);
        else if ((unsigned char)*s < 0x20 || *s == 0x7f)
            fputc(' ', out);
        else if (strchr("\\`*_[]<>|~&#!", *s))
            fprintf(out, "\\%c", *s);
        else
            fputc(*s, out);
    }
}

static void md_row(FILE *out, const struct tkl_report *r, const struct tkl_report_row *row,
                   const char *progress)
{
    const struct tkl_action *a = row->action;
    char why[TKL_REPORT_REASON_SIZE];
    fputs("| ", out);
    if (row->opens_commitment)
        md_text(out, tkl_report_trim(a->commitment), true);
    fputs(" | ", out);
    md_text(out, a->title, true);
    fputs("<br>*Responsibility:* ", out);
    md_text(out, *tkl_report_trim(a->owners) ? a->owners : "none given", true);
    fputs(" " MID_DOT " *Timeframe:* ", out);
    md_text(out, *tkl_report_trim(a->deadline_text) ? a->deadline_text : "none given", true);
    fputs(" | ", out);
    md_text(out, progress, true);
    fputs(" | **", out);
    md_text(out, tkl_report_status_words(r, row->status), true);
    fputs("**<br>", out);
    md_text(out, tkl_report_reason_text(row, why, sizeof(why)), true);
    fputs(" |\n", out);
}

static void md_summary(FILE *out, const struct tkl_report *r, const char *period)
{
    char day[TKL_REPORT_AS_AT_SIZE];
    fputs("# ", out);
    md_text(out, tkl_report_title(r), false);
    fputs("\n\n**Progress " EN_DASH " ", out);
    md_text(out, period, false);
    fprintf(out, "**, %s. %zu actions: ", tkl_report_as_at(r, day, sizeof(day)), r->n);
    for (int s = 0; s < TKL_REPORT_N_STATUS; s++) {
        fprintf(out, "%zu ", r->counts[s]);
        md_text(out, tkl_report_status_words(r, (enum tkl_report_status)s), false);
        fputs(s + 1 < TKL_REPORT_N_STATUS ? ", " : ".", out);
    }
    if (r->n_orphans)
        fprintf(out, " %zu update%s for %zu action%s no longer in the plan, at the end.",
                r->n_orphan_notes, tkl_plural(r->n_orphan_notes), r->n_orphans,
                tkl_plural(r->n_orphans));
    fputc('\n', out);
}

static int write_md(FILE *out, const struct tkl_report *r)
{
    char period[64];
    tkl_report_period_text(r->from, r->to, period, sizeof(period));
    md_summary(out, r, period);
    struct tkl_buf b = {0};
    int err = 0;
    for (size_t i = 0; i < r->n && err == 0; i++) {
        const struct tkl_report_row *row = &r->rows[i];
        if (row->opens_objective) {
            const char *o = tkl_report_trim(row->action->objective);
            fputs("\n## ", out);
            md_text(out, *o ? o : "Actions without an objective", false);
            fprintf(out,
                    "\n\n| Commitment | Agreed Actions | Progress " EN_DASH " %s | Status |\n"
                    "| --- | --- | --- | --- |\n",
                    period);
        }
        tkl_buf_reset(&b);
        if ((err = progress_text(&b, row)) == 0)
            md_row(out, r, row, b.data);
    }
    if (r->n_orphans && err == 0)
        fprintf(out,
                "\n## " ORPHANS_HEADING "\n\n" ORPHANS_TEXT "\n\n| Ref | Progress " EN_DASH
                " %s |\n| --- | --- |\n",
                period);
    for (size_t i = 0; i < r->n_orphans && err == 0; i++) {
        tkl_buf_reset(&b);
        if ((err = notes_text(&b, r->orphans[i].notes, r->orphans[i].n_notes, NULL)) < 0)
            break;
        fputs("| ", out);
        md_text(out, r->orphans[i].action_id, true);
        fputs(" | ", out);
        md_text(out, b.data, true);
        fputs(" |\n", out);
    }
    tkl_buf_free(&b);
    return err;
}

/* ---- HTML ------------------------------------------------------------- */

/* Printed on A4: the header row of each objective's table is repeated on
 * every page, a row is not split across pages when it fits on one, a
 * heading stays with its table; colours print. No style attribute: the
 * page's one <style> holds it all. */
static const char html_style[] =
    "@page{size:A4;margin:14mm 12mm}\n"
    "body{font-family:Arial,Helvetica,sans-serif;font-size:10.5pt;color:#111;max-width:62em;"
    "margin:1.5em auto;padding:0 1em;line-height:1.35;-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}\n"
    "h1{font-size:16pt;margin:0 0 .3em}\n"
    "h2{font-size:13pt;margin:1.4em 0 .4em;break-after:avoid;page-break-after:avoid}\n"
    "p{margin:.3em 0}\n"
    "table{border-collapse:collapse;width:100%;table-layout:fixed}\n"
    "col.act{width:34%}col.prog{width:44%}col.st{width:22%}col.ref{width:16%}\n"
    "thead{display:table-header-group}\n"
    "th,td{border:1px solid #777;padding:4px 6px;vertical-align:top;text-align:left;"
    "overflow-wrap:anywhere}\n"
    "thead th{background:#1f3864;color:#fff}\n"
    "tr{break-inside:avoid;page-break-inside:avoid}\n"
    "tr.commitment th{background:#d9e2f3}\n"
    ".meta,.why,.when,.who,.from{font-size:8.5pt;color:#444}\n"
    ".meta,.why{display:block;margin-top:.3em}\n"
    "ul.notes{margin:0;padding-left:1.1em}\n"
    ".rag{font-size:8pt;font-weight:bold;padding:0 .3em;border-radius:2px}\n"
    ".rag.red{background:#f4cccc}.rag.amber{background:#fce5cd}.rag.green{background:#d9ead3}\n"
    ".from{font-style:italic}.none{color:#666}\n"
    "td.st strong{display:block}\n"
    ".s0{background:#e2efda}.s1{background:#fff2cc}.s2{background:#ededed}\n"
    "@media print{body{margin:0;max-width:none;padding:0}}\n";

static void html_head(FILE *out, const struct tkl_report *r, const char *period)
{
    char day[TKL_REPORT_AS_AT_SIZE];
    fputs("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          out);
    tkl_html_fputs(tkl_report_title(r), out);
    fprintf(out, ": progress " EN_DASH " %s</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>",
            period, html_style);
    tkl_html_fputs(tkl_report_title(r), out);
    fprintf(out, "</h1>\n<p class=\"period\"><strong>Progress " EN_DASH " %s</strong>, %s</p>\n",
            period, tkl_report_as_at(r, day, sizeof(day)));
    fprintf(out, "<p class=\"summary\">%zu actions: ", r->n);
    for (int s = 0; s < TKL_REPORT_N_STATUS; s++) {
        fprintf(out, "<span class=\"s%d\">%zu ", s, r->counts[s]);
        tkl_html_fputs(tkl_report_status_words(r, (enum tkl_report_status)s), out);
        fputs(s + 1 < TKL_REPORT_N_STATUS ? "</span>, " : "</span>.", out);
    }
    if (r->n_orphans)
        fprintf(out,
                " <a href=\"#orphans\">%zu update%s for %zu action%s no longer in the "
                "plan</a>, at the end.",
                r->n_orphan_notes, tkl_plural(r->n_orphan_notes), r->n_orphans,
                tkl_plural(r->n_orphans));
    fputs("</p>\n", out);
    fputs("<p class=\"note\">Progress is what officers recorded in the period, oldest first; "
          "where they recorded none, the plan's own Progress column, marked as from the "
          "plan.</p>\n",
          out);
}

static void html_table_head(FILE *out, const char *objective, const char *period)
{
    fputs("<section class=\"objective\">\n<h2>", out);
    tkl_html_fput_lines(out, *objective ? objective : "Actions without an objective");
    fprintf(out,
            "</h2>\n<table>\n<colgroup><col class=\"act\"><col class=\"prog\">"
            "<col class=\"st\"></colgroup>\n<thead><tr><th scope=\"col\">Agreed Actions</th>"
            "<th scope=\"col\">Progress " EN_DASH " %s</th><th scope=\"col\">Status</th>"
            "</tr></thead>\n",
            period);
}

static void html_note(FILE *out, const struct tkl_update *u, const struct tkl_action *a)
{
    char day[16];
    char label[48];
    const char *done = done_label(u, true, label);
    fprintf(out, "<li><span class=\"when\">%s</span> ", when_short(u->at, day));
    if (done) {
        fprintf(out, "%s by <span class=\"who\">", done);
        tkl_html_fputs(u->recipient, out);
        fputs("</span>", out);
        if (*suggesting(u)) {
            fputs(suggesting(u), out);
            tkl_html_fput_quote(out, u->suggested_team);
        }
        fputs(changed_since(u, a), out);
    } else {
        if (u->rag)
            fprintf(out, "<span class=\"rag %s\">%s</span> ", tkl_rag_name(u->rag),
                    tkl_report_rag_label(u->rag));
        fputs("<span class=\"who\">", out);
        tkl_html_fputs(u->recipient, out);
        fputs("</span>", out);
    }
    if (u->note && *u->note) {
        fputs("<br>", out);
        tkl_html_fput_quote(out, u->note);
    }
    fputs("</li>\n", out);
}

/* The n notes of action a (NULL: one the plan no longer has) as a list. */
static void html_notes(FILE *out, const struct tkl_update *const *notes, size_t n,
                       const struct tkl_action *a)
{
    fputs("<ul class=\"notes\">\n", out);
    for (size_t i = 0; i < n; i++)
        html_note(out, notes[i], a);
    fputs("</ul>", out);
}

static void html_progress(FILE *out, const struct tkl_report_row *row)
{
    const struct tkl_action *a = row->action;
    if (row->n_notes) {
        html_notes(out, row->notes, row->n_notes, a);
        if (tkl_report_notes_tell_progress(row))
            return;
    }
    if (a->progress && *tkl_report_trim(a->progress)) {
        fputs("<span class=\"from\">From the plan:</span> ", out);
        tkl_html_fput_lines(out, tkl_report_trim(a->progress));
    } else if (!row->n_notes) {
        fputs("<span class=\"none\">No update this period</span>", out);
    }
}

static void html_row(FILE *out, const struct tkl_report *r, const struct tkl_report_row *row)
{
    const struct tkl_action *a = row->action;
    char why[TKL_REPORT_REASON_SIZE];
    fputs("<tr class=\"action\"><td>", out);
    tkl_html_fput_lines(out, a->title);
    fputs("<br><span class=\"meta\">Responsibility: ", out);
    tkl_html_fput_lines(out, *tkl_report_trim(a->owners) ? a->owners : "none given");
    fputs(" " MID_DOT " Timeframe: ", out);
    tkl_html_fput_lines(out, *tkl_report_trim(a->deadline_text) ? a->deadline_text : "none given");
    fputs("</span></td>\n<td>", out);
    html_progress(out, row);
    fprintf(out, "</td>\n<td class=\"st s%d\"><strong>", (int)row->status);
    tkl_html_fputs(tkl_report_status_words(r, row->status), out);
    fputs("</strong><br><span class=\"why\">", out);
    tkl_html_fputs(tkl_report_reason_text(row, why, sizeof(why)), out);
    fputs("</span></td></tr>\n", out);
}

static int write_html(FILE *out, const struct tkl_report *r)
{
    char period[64];
    tkl_report_period_text(r->from, r->to, period, sizeof(period));
    html_head(out, r, period);
    for (size_t i = 0; i < r->n; i++) {
        const struct tkl_report_row *row = &r->rows[i];
        const struct tkl_action *a = row->action;
        if (row->opens_objective) {
            if (i)
                fputs("</tbody>\n</table>\n</section>\n", out);
            html_table_head(out, tkl_report_trim(a->objective), period);
        }
        if (row->opens_commitment) {
            fputs(row->opens_objective ? "<tbody>\n" : "</tbody>\n<tbody>\n", out);
            if (*tkl_report_trim(a->commitment)) {
                fputs("<tr class=\"commitment\"><th colspan=\"3\" scope=\"rowgroup\">", out);
                tkl_html_fput_lines(out, tkl_report_trim(a->commitment));
                fputs("</th></tr>\n", out);
            }
        }
        html_row(out, r, row);
    }
    if (r->n)
        fputs("</tbody>\n</table>\n</section>\n", out);
    else
        fputs("<p>The plan has no actions.</p>\n", out);
    if (r->n_orphans)
        fprintf(out,
                "<section class=\"objective\" id=\"orphans\">\n<h2>" ORPHANS_HEADING
                "</h2>\n<p>" ORPHANS_TEXT "</p>\n<table>\n<colgroup><col class=\"ref\">"
                "<col></colgroup>\n<thead><tr><th scope=\"col\">Ref</th><th scope=\"col\">"
                "Progress " EN_DASH " %s</th></tr></thead>\n<tbody>\n",
                period);
    for (size_t i = 0; i < r->n_orphans; i++) {
        const struct tkl_report_orphan *o = &r->orphans[i];
        fputs("<tr class=\"action\"><td>", out);
        tkl_html_fput_lines(out, o->action_id);
        fputs("</td>\n<td>", out);
        html_notes(out, o->notes, o->n_notes, NULL);
        fputs("</td></tr>\n", out);
    }
    if (r->n_orphans)
        fputs("</tbody>\n</table>\n</section>\n", out);
    fputs("</body>\n</html>\n", out);
    return 0;
}

int tkl_report_write(FILE *out, const struct tkl_report *r, enum tkl_report_format f)
{
    int err = f == TKL_REPORT_CSV        ? write_csv(out, r)
              : f == TKL_REPORT_MARKDOWN ? write_md(out, r)
              : f == TKL_REPORT_WORD     ? tkl_report_word_write(out, r)
                                         : write_html(out, r);
    if (err == 0 && ferror(out))
        err = -EIO;
    return err;
}

/* ---- the updates export ----------------------------------------------- */

/* For each update of l, whether an update of its action recorded after
 * it ends it: for a completion, a reopen that holds against the action's
 * plan (store's, or none when the plan no longer has it); for a snooze, a
 * later snooze of its kind, the owners' or not (holding or not: the
 * answers keep the latest of each only: tkl_update_by_owners), or a
 * resume; for a "not ours", a resume of its team. */
struct ended {
    bool *v; /* by update index */
};

/* Fills *ret with what an update's later ones end, in one pass over each
 * action's updates, latest first. Returns 0 or -ENOMEM. */
static int ended_make(const struct tkl_updates *l, const struct tkl_store *store,
                      const struct tkl_schedule_conf *sc, const struct tkl_team_dir *teams,
                      struct ended *ret)
{
    size_t n = l ? l->n : 0;
    const struct tkl_update **v = NULL;
    bool *end = calloc(n ? n : 1, sizeof(*end));
    const char **resumed = malloc((n ? n : 1) * sizeof(*resumed)); /* teams, of one action */
    if (!end || !resumed || index_updates(l, &v) < 0) {
        free(end);
        free(resumed);
        return -ENOMEM;
    }
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        const char *id = v[lo]->action_id;
        for (hi = lo + 1; hi < n && !strcmp(v[hi]->action_id, id); hi++)
            ;
        const struct tkl_action *a = store ? tkl_store_find(store, id) : NULL;
        bool reopened = false, snoozed[2] = {false, false}, resumed_any = false;
        size_t n_resumed = 0;
        for (size_t k = hi; k-- > lo;) { /* latest first */
            const struct tkl_update *u = v[k];
            bool ends = false;
            if (u->kind == TKL_UPDATE_COMPLETE)
                ends = reopened;
            else if (u->kind == TKL_UPDATE_SNOOZE)
                ends = snoozed[tkl_update_by_owners(u, a, sc, teams)] || resumed_any;
            else if (u->kind == TKL_UPDATE_NOT_OURS && u->team_id)
                for (size_t t = 0; !ends && t < n_resumed; t++)
                    ends = !strcmp(resumed[t], u->team_id);
            end[u - l->v] = ends;
            if (u->kind == TKL_UPDATE_REOPEN && a && tkl_update_holds(u, a))
                reopened = true;
            else if (u->kind == TKL_UPDATE_SNOOZE)
                snoozed[tkl_update_by_owners(u, a, sc, teams)] = true;
            else if (u->kind == TKL_UPDATE_RESUME) {
                resumed_any = true;
                if (u->team_id)
                    resumed[n_resumed++] = u->team_id;
            }
        }
    }
    free(v);
    free(resumed);
    ret->v = end;
    return 0;
}

/* Whether l->v[i] holds on day today against a, its action: the plan
 * still says what it said then, a snooze's day has not come, and no
 * update after it ended it (e). */
static bool holds_now(const struct tkl_updates *l, size_t i, const struct tkl_action *a,
                      int32_t today, const struct ended *e)
{
    const struct tkl_update *u = &l->v[i];
    if (!tkl_update_holds(u, a) || (u->kind == TKL_UPDATE_SNOOZE && u->until_day <= today))
        return false;
    return !e->v[i];
}

/* holds_now as "yes" or "no", or "" when the plan no longer has the
 * action (a NULL). */
static const char *holds_text(const struct tkl_updates *l, size_t i, const struct tkl_action *a,
                              int32_t today, const struct ended *e)
{
    return !a ? "" : holds_now(l, i, a, today, e) ? "yes" : "no";
}

int tkl_updates_csv(FILE *out, const struct tkl_updates *l, const struct tkl_store *store,
                    const struct tkl_schedule_conf *sc, const struct tkl_team_dir *teams,
                    int64_t since, int32_t today)
{
    static const char *const head[] = {
        "Id",          "Action",       "Action title",   "Who",
        "Team",        "Kind",         "When",           "RAG",
        "Note",        "Snooze until", "Suggested team", "Plan deadline",
        "Plan status", "Plan owners",  "Holds now"};
    enum { N = sizeof(head) / sizeof(head[0]) };
    struct ended e;
    if (ended_make(l, store, sc, teams, &e) < 0)
        return -ENOMEM;
    fputs("\xef\xbb\xbf", out);
    for (size_t i = 0; i < N; i++)
        csv_cell(out, head[i], i + 1 == N);
    for (size_t i = 0; l && i < l->n; i++) {
        const struct tkl_update *u = &l->v[i];
        if (u->at < since)
            continue;
        const struct tkl_action *a = store ? tkl_store_find(store, u->action_id) : NULL;
        char id[24], at[TKL_INSTANT_ISO_SIZE] = "", until[TKL_DAY_ISO_SIZE] = "";
        snprintf(id, sizeof(id), "%lld", (long long)u->id);
        (void)tkl_instant_iso(u->at, at, sizeof(at));
        if (u->until_day != TKL_NO_DAY)
            (void)tkl_day_iso(u->until_day, until, sizeof(until));
        const char *cells[N] = {id,
                                u->action_id,
                                a ? a->title : "",
                                u->recipient,
                                u->team_id,
                                tkl_update_kind_name(u->kind),
                                at,
                                tkl_rag_name(u->rag),
                                u->note,
                                until,
                                u->suggested_team,
                                u->plan_deadline_text,
                                u->plan_status,
                                u->plan_owners,
                                holds_text(l, i, a, today, &e)};
        for (size_t k = 0; k < N; k++)
            csv_cell(out, cells[k], k + 1 == N);
    }
    free(e.v);
    return ferror(out) ? -EIO : 0;
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* day as "2026-12-02", or null. */
static json_t *jday(int32_t day)
{
    char buf[TKL_DAY_ISO_SIZE];
    return day != TKL_NO_DAY && tkl_day_iso(day, buf, sizeof(buf)) == 0 ? json_string(buf)
                                                                        : json_null();
}

static json_t *jinstant(int64_t t)
{
    char buf[TKL_INSTANT_ISO_SIZE];
    return t && tkl_instant_iso(t, buf, sizeof(buf)) == 0 ? json_string(buf) : json_null();
}

/* One update as `tickler updates --json` gives it, or NULL when out of
 * memory. */
static json_t *update_json(const struct tkl_updates *l, size_t i, const struct tkl_action *a,
                           int32_t today, const struct ended *e)
{
    const struct tkl_update *u = &l->v[i];
    json_t *plan = json_pack("{s:o, s:o, s:o, s:o}", "deadline_text", jstr(u->plan_deadline_text),
                             "deadline", jday(u->plan_deadline_day), "status", jstr(u->plan_status),
                             "owners", jstr(u->plan_owners));
    return json_pack("{s:I, s:s, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)u->id, "action_id", u->action_id, "action_title",
                     a ? json_string(a->title) : json_null(), "who", u->recipient, "team",
                     jstr(u->team_id), "kind", tkl_update_kind_name(u->kind), "at", jinstant(u->at),
                     "link_issued_at", jinstant(u->link_issued_at), "rag",
                     u->rag ? json_string(tkl_rag_name(u->rag)) : json_null(), "note",
                     jstr(u->note), "until", jday(u->until_day), "suggested_team",
                     jstr(u->suggested_team), "plan", plan ? plan : NULL, "holds",
                     a ? json_boolean(holds_now(l, i, a, today, e)) : json_null());
}

json_t *tkl_updates_json(const struct tkl_updates *l, const struct tkl_store *store,
                         const struct tkl_schedule_conf *sc, const struct tkl_team_dir *teams,
                         int64_t since, int32_t today)
{
    struct ended e;
    if (ended_make(l, store, sc, teams, &e) < 0)
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; arr && l && i < l->n; i++) {
        const struct tkl_update *u = &l->v[i];
        if (u->at < since)
            continue;
        json_t *o =
            update_json(l, i, store ? tkl_store_find(store, u->action_id) : NULL, today, &e);
        if (!o || json_array_append_new(arr, o) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    free(e.v);
    return arr;
}

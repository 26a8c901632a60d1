#include "action.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/text.h"

_Static_assert(sizeof(void *) != 8 || sizeof(struct tkl_action) == 128,
               "an action is 128 bytes on 64-bit (action.h)");

const struct tkl_action_rare tkl_action_rare_none;

struct tkl_action_rare *tkl_action_rare_make(struct tkl_action *a)
{
    if (!a->rare)
        a->rare = calloc(1, sizeof(*a->rare));
    return a->rare;
}

bool tkl_action_active(const struct tkl_action *a)
{
    return a->status == TKL_STATUS_ACTIVE;
}

int tkl_strv_push(char ***v, size_t *n, char *s)
{
    if (!s)
        return -ENOMEM;
    char **p = realloc(*v, (*n + 1) * sizeof(*p));
    if (!p) {
        free(s);
        return -ENOMEM;
    }
    *v = p;
    (*v)[(*n)++] = s;
    return 0;
}

void tkl_action_free(struct tkl_action *a)
{
    free(a->id);
    free(a->file);
    free(a->title);
    free(a->commitment);
    free(a->objective);
    free(a->owners);
    free(a->deadline_text);
    free(a->status_text);
    free(a->progress);
    free(a->measure);
    tkl_deadline_clear(&a->deadline);
    for (size_t i = 0; i < a->n_teams; i++)
        free(a->teams[i]);
    free(a->teams);
    struct tkl_action_rare *x = a->rare;
    if (!x)
        return;
    free(x->category);
    free(x->url);
    for (size_t i = 0; i < x->n_unmatched; i++)
        free(x->unmatched[i]);
    free(x->unmatched);
    for (size_t i = 0; i < x->n_warnings; i++)
        free(x->warnings[i]);
    free(x->warnings);
    free(x);
}

/* Appends s to the list *v of *n (at most UINT32_MAX) strings, as
 * tkl_strv_push does. Returns 0 or -ENOMEM. */
static int strv_push32(char ***v, uint32_t *n, char *s)
{
    size_t k = *n;
    if (k == UINT32_MAX) {
        free(s);
        return -ENOMEM;
    }
    int r = tkl_strv_push(v, &k, s);
    *n = (uint32_t)k;
    return r;
}

/* A copy of the n texts of v in arena, each interned when intern is true,
 * into *ret (NULL when n is 0). Returns 0 or -ENOMEM. */
static int compact_strv(struct tkl_arena *arena, char *const *v, size_t n, bool intern, char ***ret)
{
    *ret = NULL;
    if (!n)
        return 0;
    char **c = tkl_arena_alloc(arena, n * sizeof(*c));
    if (!c)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(c[i] = intern ? tkl_arena_intern(arena, v[i]) : tkl_arena_strdup0(arena, v[i])))
            return -ENOMEM;
    *ret = c;
    return 0;
}

int tkl_action_compact(struct tkl_action *dst, const struct tkl_action *src,
                       struct tkl_arena *arena)
{
    struct tkl_action c = *src;
    /* which texts repeat from row to row is a guess from councils' plans:
     * the file, the owners and the teams they resolve to, statuses and
     * deadlines, commitments carried down over the rows below them */
    struct {
        char **field;
        bool intern;
    } texts[] = {
        {&c.id, false},           {&c.file, true},           {&c.title, false},
        {&c.commitment, true},    {&c.objective, true},      {&c.owners, true},
        {&c.deadline_text, true}, {&c.status_text, true},    {&c.progress, false},
        {&c.measure, false},      {&c.deadline.note, false},
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *t = *texts[i].field;
        if (!t)
            continue;
        *texts[i].field =
            texts[i].intern ? tkl_arena_intern(arena, t) : tkl_arena_strdup0(arena, t);
        if (!*texts[i].field)
            return -ENOMEM;
    }
    if (compact_strv(arena, src->teams, src->n_teams, true, &c.teams) < 0)
        return -ENOMEM;
    if (src->rare) {
        const struct tkl_action_rare *x = src->rare;
        struct tkl_action_rare *y = tkl_arena_alloc(arena, sizeof(*y));
        if (!y)
            return -ENOMEM;
        *y = *x;
        if ((x->category && !(y->category = tkl_arena_intern(arena, x->category))) ||
            (x->url && !(y->url = tkl_arena_strdup0(arena, x->url))) ||
            compact_strv(arena, x->unmatched, x->n_unmatched, true, &y->unmatched) < 0 ||
            compact_strv(arena, x->warnings, x->n_warnings, false, &y->warnings) < 0)
            return -ENOMEM;
        c.rare = y;
    }
    *dst = c;
    return 0;
}

int tkl_action_add_team(struct tkl_action *a, const char *id)
{
    for (size_t i = 0; i < a->n_teams; i++)
        if (strcmp(a->teams[i], id) == 0)
            return 0;
    if (a->n_teams == TKL_ACTION_MAX_TEAMS)
        return -EOVERFLOW;
    size_t n = a->n_teams;
    int r = tkl_strv_push(&a->teams, &n, strdup(id));
    a->n_teams = (uint16_t)n;
    return r;
}

int tkl_action_add_unmatched(struct tkl_action *a, const char *name)
{
    struct tkl_action_rare *x = tkl_action_rare_make(a);
    if (!x)
        return -ENOMEM;
    return strv_push32(&x->unmatched, &x->n_unmatched, strdup(name));
}

static int action_vwarn(struct tkl_action *a, struct tkl_diags *diags, unsigned column,
                        const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static int action_vwarn(struct tkl_action *a, struct tkl_diags *diags, unsigned column,
                        const char *field, const char *fmt, va_list ap)
{
    char msg[1024];
    va_list cp;
    va_copy(cp, ap);
    vsnprintf(msg, sizeof(msg), fmt, cp);
    va_end(cp);
    tkl_diag_add_at(diags, TKL_SEV_WARNING, a->file, a->line, column, field, "%s", msg);
    struct tkl_action_rare *x = tkl_action_rare_make(a);
    char *w = NULL;
    if (!x || asprintf(&w, "%s%s%s", field ? field : "", field ? ": " : "", msg) < 0)
        return -ENOMEM;
    return strv_push32(&x->warnings, &x->n_warnings, w);
}

int tkl_action_warn(struct tkl_action *a, struct tkl_diags *diags, const char *field,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = action_vwarn(a, diags, 0, field, fmt, ap);
    va_end(ap);
    return r;
}

int tkl_action_warn_at(struct tkl_action *a, struct tkl_diags *diags, unsigned column,
                       const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = action_vwarn(a, diags, column, field, fmt, ap);
    va_end(ap);
    return r;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    h = tkl_fnv1a(h, s ? s : "", s ? strlen(s) : 0);
    return tkl_fnv1a(h, "\x1f", 1);
}

bool tkl_action_text_is_clean(const char *s, bool fold)
{
    const unsigned char *start = (const unsigned char *)s, *p = start;
    unsigned char c = *p;
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c == 0xc2 && p[1] == 0xa0))
        return false; /* leading white space */
    for (;; p++) {
        c = *p;
        if (c > ' ' && c != 0xc2)
            continue;
        if (!c)
            break;
        /* past the first byte: p[-1] is in s */
        if (c == 0xc2   ? p[1] == 0xa0
            : c == ' '  ? fold && p[-1] == ' '
            : c == '\n' ? fold
                        : c >= '\t' && c <= '\r')
            return false;
    }
    return p == start || (p[-1] != ' ' && p[-1] != '\n');
}

/* hash_str of s with its white space folded. Returns 0 or -ENOMEM. */
static int hash_folded(uint64_t *h, const char *s)
{
    if (!s || tkl_action_text_is_clean(s, true)) {
        *h = hash_str(*h, s);
        return 0;
    }
    char *f = tkl_text_clean(s, true);
    if (!f)
        return -ENOMEM;
    *h = hash_str(*h, f);
    free(f);
    return 0;
}

int tkl_action_derive_id(struct tkl_action *a)
{
    uint64_t h = TKL_FNV_INIT;
    if (hash_folded(&h, a->title) < 0 || hash_folded(&h, a->commitment) < 0)
        return -ENOMEM;
    /* "a%011llx" of h >> 20, without printf's cost on every row */
    char id[13];
    uint64_t v = h >> 20;
    id[0] = 'a';
    for (int i = 11; i >= 1; i--, v >>= 4)
        id[i] = "0123456789abcdef"[v & 15];
    id[12] = '\0';
    if (!(a->id = strdup(id)))
        return -ENOMEM;
    a->id_derived = 1;
    return 0;
}

/* The memory hash of s with its end: a NULL text hashes as "". */
static uint64_t mem_hash_str(uint64_t h, const char *s)
{
    return s ? tkl_arena_hash(h, s, strlen(s) + 1) : tkl_arena_hash(h, "", 1);
}

uint64_t tkl_action_hash(const struct tkl_action *a)
{
    /* compared within one process only: the arena's hash, eight bytes at a
     * time, not FNV's one */
    const struct tkl_action_rare *x = tkl_action_rare(a);
    const char *texts[] = {
        a->id,          a->title,    a->commitment, a->objective, a->owners, a->deadline_text,
        a->status_text, a->progress, x->category,   x->url};
    uint64_t h = TKL_FNV_INIT;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        h = mem_hash_str(h, texts[i]);
    for (size_t i = 0; i < a->n_teams; i++)
        h = mem_hash_str(h, a->teams[i]);
    /* an observance's file is its source, whose prompt_days it follows */
    if (a->deadline.kind == TKL_DEADLINE_EVENT)
        h = mem_hash_str(h, a->file);
    /* what the texts were read as: a configuration reload may read the
     * same status or deadline text differently */
    const int32_t read[] = {(int32_t)a->status, (int32_t)a->deadline.kind, a->deadline.day,
                            a->deadline.last_day};
    return tkl_arena_hash(h, read, sizeof(read));
}

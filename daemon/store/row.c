#include "row.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/mem.h"
#include "../core/text.h"
#include "csv.h"
#include "index.h"

static const char *cell_of(const struct tkl_rows *R, enum tkl_field f)
{
    int c = R->column[f];
    if (c < 0 || (size_t)c >= R->n_cells)
        return "";
    return R->cells[c];
}

/* The column warnings about cell i (0 for A) name: none outside a sheet
 * (whose readers give at most 16,384 columns). */
static unsigned place_of(const struct tkl_rows *R, size_t i)
{
    return R->cells_named ? (unsigned)i + 1 : 0;
}

/* The column warnings about field f name. */
static unsigned place_field(const struct tkl_rows *R, enum tkl_field f)
{
    return R->column[f] >= 0 ? place_of(R, (size_t)R->column[f]) : 0;
}

/* The slot of text (interned in R->arena) in R's memo. */
static size_t memo_slot(const struct tkl_rows *R, const char *text)
{
    size_t mask = R->cap_memo - 1;
    size_t i = (size_t)tkl_arena_hash(0, &text, sizeof(text)) & mask;
    while (R->memo_of[i] && R->memo_of[i] != text)
        i = (i + 1) & mask;
    return i;
}

/* What text (interned) was read as earlier in this load, or NULL. */
static const struct tkl_cell_memo *memo_find(const struct tkl_rows *R, const char *text)
{
    if (!R->cap_memo)
        return NULL;
    size_t i = memo_slot(R, text);
    return R->memo_of[i] ? &R->memo[i] : NULL;
}

/* The memo of text (interned), added with nothing set when it has none.
 * Returns NULL on allocation failure. */
static struct tkl_cell_memo *memo_get(struct tkl_rows *R, const char *text)
{
    if ((R->n_memo + 1) * 2 > R->cap_memo) {
        size_t cap = R->cap_memo ? R->cap_memo * 2 : 64;
        const char **of = calloc(cap, sizeof(*of));
        struct tkl_cell_memo *memo = calloc(cap, sizeof(*memo));
        if (!of || !memo) {
            free(of);
            free(memo);
            return NULL;
        }
        const char **old_of = R->memo_of;
        struct tkl_cell_memo *old_memo = R->memo;
        size_t old_cap = R->cap_memo;
        R->memo_of = of;
        R->memo = memo;
        R->cap_memo = cap;
        for (size_t k = 0; old_of && old_memo && k < old_cap; k++)
            if (old_of[k]) {
                size_t i = memo_slot(R, old_of[k]);
                of[i] = old_of[k];
                memo[i] = old_memo[k];
            }
        free(old_of);
        free(old_memo);
    }
    size_t i = memo_slot(R, text);
    if (!R->memo_of[i]) {
        R->memo_of[i] = text;
        R->n_memo++;
    }
    return &R->memo[i];
}

/* The cleaned text of field f's cell into *ret: the cell itself when it
 * is clean already (borrowed: see owned), else a copy. Returns 0 or
 * -ENOMEM. */
static int clean_cell(const struct tkl_rows *R, enum tkl_field f, bool fold, char **ret)
{
    const char *cell = cell_of(R, f);
    if (tkl_action_text_is_clean(cell, fold)) {
        *ret = (char *)cell;
        return 0;
    }
    char *s = tkl_text_clean(cell, fold);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

/* Whether the text t, of field f of the row being read, is its own
 * allocation: not its cell, the text carried down to it or the file name. */
static bool owned(const struct tkl_rows *R, enum tkl_field f, const char *t)
{
    return t && t != cell_of(R, f) && t != R->fill[f] && t != R->file;
}

/* Frees t unless it is borrowed (owned). */
static void drop(const struct tkl_rows *R, enum tkl_field f, char *t)
{
    if (owned(R, f, t))
        free(t);
}

/* Frees what a owns; its borrowed texts are left. */
static void row_action_free(const struct tkl_rows *R, struct tkl_action *a)
{
    struct {
        char **t;
        enum tkl_field f;
    } texts[] = {
        {&a->title, TKL_FIELD_TITLE},
        {&a->owners, TKL_FIELD_OWNERS},
        {&a->deadline_text, TKL_FIELD_DEADLINE},
        {&a->status_text, TKL_FIELD_STATUS},
        {&a->progress, TKL_FIELD_PROGRESS},
        {&a->measure, TKL_FIELD_MEASURE},
        {&a->commitment, TKL_FIELD_COMMITMENT},
        {&a->objective, TKL_FIELD_OBJECTIVE},
        {&a->id, TKL_FIELD_ID},
        {&a->file, TKL_FIELD_ID},
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (!owned(R, texts[i].f, *texts[i].t))
            *texts[i].t = NULL;
    tkl_action_free(a);
}

/* Keeps the header row's column map in R->maps. Returns 0 or -ENOMEM. */
static int keep_map(struct tkl_rows *R, const int *fields)
{
    struct tkl_column_map *p = realloc(R->maps, (R->n_maps + 1) * sizeof(*p));
    if (!p)
        return -ENOMEM;
    R->maps = p;
    int r = tkl_column_map_make(R->file, R->line, R->cells, fields, R->n_cells, &p[R->n_maps]);
    if (r == 0)
        R->n_maps++;
    return r;
}

/* Warns of each field the header has no column for. */
static void warn_missing(const struct tkl_rows *R)
{
    static const struct {
        enum tkl_field f;
        const char *what;
    } wanted[] = {
        {TKL_FIELD_OWNERS, "owners (Responsibility, Responsible officer, Lead officer, Owner); "
                           "every action goes to the fallback team"},
        {TKL_FIELD_DEADLINE, "deadline (Timeframe, Timescale, Target date, By when, Deadline); "
                             "every action is undated"},
        {TKL_FIELD_STATUS, "status (Status); every action is treated as active"},
    };
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
        if (R->column[wanted[i].f] < 0)
            tkl_diag_add(R->diags, TKL_SEV_WARNING, R->file, R->line, tkl_field_name(wanted[i].f),
                         "no column for %s", wanted[i].what);
}

/* Takes the record as the header when it names an action column: sets
 * the columns, keeps its column map and warns about repeated and missing
 * columns (a record that is no header is warned of by the caller alone).
 * Returns 1 when it did, 0 when the record is no header, or -ENOMEM. */
static int take_header(struct tkl_rows *R)
{
    int column[TKL_FIELD_COUNT];
    int *fields = calloc(R->n_cells ? R->n_cells : 1, sizeof(*fields));
    if (!fields)
        return -ENOMEM;
    for (int f = 0; f < TKL_FIELD_COUNT; f++)
        column[f] = -1;
    for (size_t i = 0; i < R->n_cells; i++) {
        int f = fields[i] = tkl_field_for_heading(R->opts, R->cells[i]);
        if (f >= 0 && column[f] < 0)
            column[f] = (int)i;
    }
    if (column[TKL_FIELD_TITLE] < 0) {
        free(fields);
        return 0;
    }
    for (size_t i = 0; i < R->n_cells; i++) {
        int f = fields[i];
        if (f < 0 || column[f] == (int)i)
            continue;
        fields[i] = -1;
        tkl_diag_add_at(R->diags, TKL_SEV_WARNING, R->file, R->line, place_of(R, i),
                        tkl_field_name(f),
                        "column %zu (\"%s\") repeats the %s column %d; the first is used", i + 1,
                        R->cells[i], tkl_field_name(f), column[f] + 1);
    }
    int r = keep_map(R, fields);
    if (r == 0) {
        memcpy(R->column, column, sizeof(column));
        R->n_columns = R->n_cells;
        R->have_header = true;
        R->title_heading = R->maps[R->n_maps - 1].headings[column[TKL_FIELD_TITLE]];
        R->title_heading_len = strlen(R->title_heading);
        warn_missing(R);
        r = 1;
    }
    free(fields);
    return r;
}

/* Warns when the row has text after the header's last column. */
static void warn_extra_fields(const struct tkl_rows *R)
{
    if (!R->n_columns || R->n_cells <= R->n_columns)
        return;
    bool extra = false;
    for (size_t i = R->n_columns; i < R->n_cells; i++)
        extra |= R->cells[i][strspn(R->cells[i], " \t\r\n")] != '\0';
    if (extra)
        tkl_diag_add_at(R->diags, TKL_SEV_WARNING, R->file, R->line, place_of(R, R->n_columns),
                        NULL,
                        "%zu fields but the header has %zu; the fields after column %zu are "
                        "ignored (an unquoted comma?)",
                        R->n_cells, R->n_columns, R->n_columns);
}

/* The cell of field f into *ret, or the last value above it when it is
 * blank: merged cells (a commitment spanning several actions) export as
 * one value followed by blanks. Returns 0 or -ENOMEM. */
static int fill_down(struct tkl_rows *R, enum tkl_field f, char **ret)
{
    char *v;
    if (clean_cell(R, f, false, &v) < 0)
        return -ENOMEM;
    if (*v && (!R->fill[f] || strcmp(v, R->fill[f]) != 0)) {
        char *c = strdup(v);
        if (!c) {
            drop(R, f, v);
            return -ENOMEM;
        }
        free(R->fill[f]);
        R->fill[f] = c;
    } else if (!*v && R->fill[f]) {
        drop(R, f, v);
        v = R->fill[f];
    }
    *ret = v;
    return 0;
}

/* a's texts from the row's cells. Returns 0 or -ENOMEM. */
static int read_cells(struct tkl_rows *R, struct tkl_action *a)
{
    if (clean_cell(R, TKL_FIELD_TITLE, false, &a->title) < 0 ||
        clean_cell(R, TKL_FIELD_OWNERS, false, &a->owners) < 0 ||
        clean_cell(R, TKL_FIELD_DEADLINE, true, &a->deadline_text) < 0 ||
        clean_cell(R, TKL_FIELD_STATUS, true, &a->status_text) < 0 ||
        clean_cell(R, TKL_FIELD_PROGRESS, false, &a->progress) < 0 ||
        clean_cell(R, TKL_FIELD_MEASURE, false, &a->measure) < 0 ||
        fill_down(R, TKL_FIELD_COMMITMENT, &a->commitment) < 0 ||
        fill_down(R, TKL_FIELD_OBJECTIVE, &a->objective) < 0)
        return -ENOMEM;
    return 0;
}

/* A row with no action text: when it has no owner, deadline or status
 * either, it is a heading (or a commitment with no action of its own),
 * reported and not kept: returns 1. Otherwise the commitment is its title,
 * with a warning: returns 0. Or -ENOMEM. */
static int untitled(struct tkl_rows *R, struct tkl_action *a)
{
    if (!*a->owners && !*a->deadline_text && !*a->status_text) {
        tkl_diag_add_at(R->diags, TKL_SEV_WARNING, R->file, R->line,
                        place_field(R, TKL_FIELD_TITLE), "title",
                        "row has no action text, owner, deadline or status; read as a heading "
                        "and not as an action");
        return 1;
    }
    drop(R, TKL_FIELD_TITLE, a->title);
    a->title = strdup(*a->commitment ? a->commitment : "(no action text)");
    if (!a->title)
        return -ENOMEM;
    return tkl_action_warn_at(a, R->diags, place_field(R, TKL_FIELD_TITLE), "title",
                              "empty; the commitment is used as the title");
}

/* a's deadline and status from their texts, with a warning for each that
 * tickler cannot read; a text read earlier in this load is not parsed
 * again. Returns 0 or -ENOMEM. */
static int read_deadline_status(struct tkl_rows *R, struct tkl_action *a, const char **ret_dt,
                                const char **ret_st)
{
    const char *dt = tkl_arena_intern(&R->arena, a->deadline_text);
    const char *st = tkl_arena_intern(&R->arena, a->status_text);
    *ret_dt = dt;
    *ret_st = st;
    if (!dt || !st)
        return -ENOMEM;
    const struct tkl_cell_memo *m = memo_find(R, dt);
    if (m && m->has_deadline) {
        a->deadline = m->deadline;
    } else if (tkl_deadline_parse(a->deadline_text, &a->deadline) < 0) {
        return -ENOMEM;
    } else if (!a->deadline.note) {
        /* a note is the action's own allocation: not shared */
        struct tkl_cell_memo *w = memo_get(R, dt);
        if (!w)
            return -ENOMEM;
        w->deadline = a->deadline;
        w->has_deadline = true;
    }
    if (a->deadline.problem &&
        tkl_action_warn_at(a, R->diags, place_field(R, TKL_FIELD_DEADLINE), "deadline",
                           "\"%s\": %s; the action is kept as undated", a->deadline_text,
                           tkl_deadline_problem(&a->deadline)) < 0)
        return -ENOMEM;
    bool known;
    if ((m = memo_find(R, st)) && m->has_status) {
        a->status = m->status;
        known = m->status_known;
    } else {
        a->status = tkl_status_parse(R->opts, a->status_text, &known);
        struct tkl_cell_memo *w = memo_get(R, st);
        if (!w)
            return -ENOMEM;
        w->status = a->status;
        w->status_known = known;
        w->has_status = true;
    }
    if (!known && tkl_action_warn_at(a, R->diags, place_field(R, TKL_FIELD_STATUS), "status",
                                     "\"%s\" is not a status tickler knows; treated as active (map "
                                     "it in store.status)",
                                     a->status_text) < 0)
        return -ENOMEM;
    return 0;
}

/* a's teams from its owners cell; names that match no team are kept in
 * a->unmatched, with a warning, and send the action to the fallback team
 * as having no owner does. Returns 0 or -ENOMEM. */
static int resolve_owners(struct tkl_rows *R, struct tkl_action *a)
{
    const char *fallback =
        R->teams->fallback ? "sent to the fallback team" : "no fallback team is configured";
    char **names = NULL;
    size_t n = 0;
    int r = tkl_owners_split(a->owners, &names, &n);
    if (r < 0)
        return r;
    size_t read = n < TKL_ROW_MAX_OWNERS ? n : TKL_ROW_MAX_OWNERS;
    if (n > read)
        r = tkl_action_warn(a, R->diags, "owners",
                            "%zu names, more than the %u an action may have; those after "
                            "\"%s\" are not read",
                            n, TKL_ROW_MAX_OWNERS, names[read - 1]);
    for (size_t i = 0; i < read && r == 0; i++) {
        const struct tkl_team *found[32];
        size_t nf = 0;
        if ((r = tkl_team_match_list(R->teams, names[i], found, 32, &nf)) < 0)
            break;
        if (!nf) {
            r = tkl_action_add_unmatched(a, names[i]);
            if (r == 0)
                r = tkl_action_warn_at(a, R->diags, place_field(R, TKL_FIELD_OWNERS), "owners",
                                       "\"%s\" matches no team in the directory; %s", names[i],
                                       fallback);
            continue;
        }
        for (size_t f = 0; f < nf && r == 0; f++)
            r = tkl_action_add_team(a, found[f]->id);
    }
    if (r == 0 && n == 0)
        r = tkl_action_warn_at(a, R->diags, place_field(R, TKL_FIELD_OWNERS), "owners",
                               "no owner; %s", fallback);
    if (r == 0 && (tkl_action_rare(a)->n_unmatched || n == 0) && R->teams->fallback)
        r = tkl_action_add_team(a, R->teams->fallback);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

/* a's id: as written in the id column, or derived from the text that
 * names the action. Returns 0 or -ENOMEM. */
static int row_id(const struct tkl_rows *R, struct tkl_action *a)
{
    char *cell;
    if (clean_cell(R, TKL_FIELD_ID, true, &cell) < 0)
        return -ENOMEM;
    if (*cell) {
        a->id = cell;
        return 0;
    }
    drop(R, TKL_FIELD_ID, cell);
    return tkl_action_derive_id(a);
}

/* Actions of a store kept in cold memory are built there once their
 * block is this large: a large plan's are never in private memory. */
#define COLD_BUILD_MIN ((size_t)1 << 20)

/* Lets go of R->actions, of R->cap_actions. */
static void release_actions(struct tkl_rows *R)
{
    if (R->actions_cold) {
        tkl_mem_unmap(R->actions, R->cap_actions * sizeof(*R->actions));
        (void)close(R->actions_fd); /* with the mapping, the file goes */
    } else {
        free(R->actions);
    }
    R->actions = NULL;
    R->actions_cold = false;
}

/* R's actions in a block of cold memory of cap, moved there from malloc's
 * (grown in place or moved without a copy from then on). Returns the
 * block, or NULL when cold memory cannot be had (R as it was). */
static struct tkl_action *cold_actions(struct tkl_rows *R, size_t cap)
{
    const size_t size = cap * sizeof(struct tkl_action);
    struct tkl_action *p;
    if (R->actions_cold) {
        p = tkl_mem_cold_grow(R->actions_fd, R->actions, R->cap_actions * sizeof(*R->actions),
                              size);
        R->cold_error = p ? 0 : -errno;
        return p;
    }
    if (size < COLD_BUILD_MIN || !R->arena.cold_dir)
        return NULL;
    int fd;
    if (!(p = tkl_mem_cold_new(R->arena.cold_dir, size, &fd))) {
        R->cold_error = -errno;
        return NULL;
    }
    if (R->n_actions)
        memcpy(p, R->actions, R->n_actions * sizeof(*p));
    free(R->actions);
    R->actions_fd = fd;
    R->actions_cold = true;
    return p;
}

/* Makes room for cap actions in R->actions. Returns 0 or -ENOMEM. */
static int reserve_actions(struct tkl_rows *R, size_t cap)
{
    if (cap <= R->cap_actions)
        return 0;
    if (cap > SIZE_MAX / sizeof(struct tkl_action))
        return -ENOMEM;
    uint32_t *h = realloc(R->id_hashes, cap * sizeof(*h));
    if (!h)
        return -ENOMEM;
    R->id_hashes = h;
    if (!(R->opts && R->opts->once)) {
        uint64_t *v = realloc(R->hashes, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        R->hashes = v;
        if (!(v = realloc(R->row_hashes, cap * sizeof(*v))))
            return -ENOMEM;
        R->row_hashes = v;
    }
    tkl_mem_ahead_end(&R->ahead); /* before the block may move */
    const size_t size = cap * sizeof(struct tkl_action);
    struct tkl_action *p = cold_actions(R, cap);
    if (!p && R->actions_cold) { /* out of cold memory (the disk's room): into malloc's */
        if (!(p = malloc(size)))
            return -ENOMEM;
        if (R->n_actions)
            memcpy(p, R->actions, R->n_actions * sizeof(*p));
        release_actions(R);
    } else if (!p) {
        if (!(p = realloc(R->actions, size)))
            return -ENOMEM;
        /* the new room's pages mapped on another core as the pushes go on */
        tkl_mem_prefault_ahead(&R->ahead, p, size, R->n_actions * sizeof(*p));
    } else { /* the same for the file's pages */
        tkl_mem_populate_ahead(&R->ahead, p, size, R->n_actions * sizeof(*p));
    }
    R->actions = p;
    R->cap_actions = cap;
    return 0;
}

void tkl_rows_hand_actions(struct tkl_rows *R, struct tkl_action **ret, size_t *ret_cold,
                           int *ret_fd)
{
    tkl_mem_ahead_end(&R->ahead); /* before the block is cut or handed on */
    *ret = NULL;
    *ret_cold = 0;
    *ret_fd = -1;
    if (R->actions_cold && R->n_actions) {
        size_t had = R->cap_actions * sizeof(*R->actions),
               size = R->n_actions * sizeof(*R->actions);
        tkl_mem_cold_cut(R->actions_fd, R->actions, had, size);
        *ret = R->actions;
        *ret_cold = size;
        *ret_fd = R->actions_fd;
    } else if (R->actions_cold) {
        release_actions(R);
    } else {
        *ret = R->actions;
    }
    R->actions = NULL;
    R->actions_cold = false;
    R->n_actions = 0;
    R->cap_actions = 0;
}

/* Appends a (its texts in R->arena) to R->actions, with what the store
 * reads of every action (its id's hash, unless the store is read once its
 * own hash and row_hash, whether it is an event, its unmatched owner
 * names) taken now, while its texts are in the cache, rather than in
 * another pass over the whole store. hash is a's tkl_action_hash when
 * known (an action taken from the store in force), else 0. Returns 0 or
 * -ENOMEM. */
static int push(struct tkl_rows *R, const struct tkl_action *a, uint64_t hash, uint64_t row_hash)
{
    if (R->n_actions >= UINT32_MAX - 1)
        return -ENOMEM; /* indexes are 32 bits (R->again, the store's index) */
    if (R->n_actions == R->cap_actions &&
        reserve_actions(R, R->cap_actions ? R->cap_actions * 2 : 64) < 0)
        return -ENOMEM;
    struct tkl_action *p = &R->actions[R->n_actions];
    *p = *a;
    if (R->hashes) {
        R->hashes[R->n_actions] = hash ? hash : tkl_action_hash(p);
        R->row_hashes[R->n_actions] = row_hash;
    }
    R->id_hashes[R->n_actions++] = tkl_store_id_hash(p->id);
    R->n_events += p->deadline.kind == TKL_DEADLINE_EVENT;
    R->n_unmatched += tkl_action_rare(p)->n_unmatched;
    return 0;
}

static uint64_t hash_text(uint64_t h, const char *s)
{
    return s ? tkl_arena_hash(h, s, strlen(s) + 1) : tkl_arena_hash(h, "\xff", 1);
}

/* The hash of what reading a row depends on besides its cells: the
 * configured columns and statuses and the team directory. Never 0. */
static uint64_t config_seed(const struct tkl_rows *R)
{
    uint64_t h = TKL_FNV_INIT;
    for (int f = 0; R->opts && f < TKL_FIELD_COUNT; f++)
        h = hash_text(h, R->opts->columns[f]);
    for (size_t i = 0; R->opts && i < R->opts->n_status_rules; i++) {
        h = hash_text(h, R->opts->status_rules[i].text);
        h = tkl_arena_hash(h, &R->opts->status_rules[i].status,
                           sizeof(R->opts->status_rules[i].status));
    }
    for (size_t t = 0; t < R->teams->n; t++) {
        const struct tkl_team *team = &R->teams->teams[t];
        h = hash_text(h, team->id);
        for (size_t k = 0; k < team->n_keys; k++)
            h = hash_text(h, team->keys[k]);
        h = tkl_arena_hash(h, "\x1e", 1);
    }
    h = hash_text(h, R->teams->fallback);
    return h ? h : 1;
}

/* Whether s has a letter or digit: a cell that is no blank once cleaned,
 * so the text carried down does not reach it. */
static bool has_word(const char *s)
{
    for (; *s; s++)
        if (isalnum((unsigned char)*s))
            return true;
    return false;
}

/* The hash of the record as a row of the file being read: its cells, the
 * header's columns, the texts carried down to its blank cells and R->seed.
 * Its line is not part of it: a row moved by an edit above is the same row.
 * Never 0. */
static uint64_t row_key(const struct tkl_rows *R)
{
    uint64_t h = R->seed;
    h = hash_text(h, R->file);
    h = tkl_arena_hash(h, &R->cells_named, sizeof(R->cells_named));
    h = tkl_arena_hash(h, R->column, sizeof(R->column));
    h = tkl_arena_hash(h, &R->n_columns, sizeof(R->n_columns));
    for (int f = TKL_FIELD_COMMITMENT; f <= TKL_FIELD_OBJECTIVE; f++)
        if (!has_word(cell_of(R, f)))
            h = hash_text(h, R->fill[f]);
    h = tkl_arena_hash(h, &R->n_cells, sizeof(R->n_cells));
    for (size_t i = 0; i < R->n_cells; i++)
        h = hash_text(h, R->cells[i]);
    return h ? h : 1;
}

/* Builds R->reuse over R->prev's actions that may be taken again. Returns
 * 0 or -ENOMEM. */
static int reuse_index(struct tkl_rows *R)
{
    size_t cap = 16;
    while (cap < R->prev->n * 2 + 1)
        cap *= 2;
    if (!(R->reuse = calloc(cap, sizeof(*R->reuse))))
        return -ENOMEM;
    R->reuse_cap = cap;
    const uint64_t *rh = R->prev->row_hashes;
    for (size_t k = 0; rh && k < R->prev->n && k < UINT32_MAX; k++) {
        uint64_t h = rh[k];
        if (!h)
            continue;
        size_t i = (size_t)h & (cap - 1);
        while (R->reuse[i] && rh[R->reuse[i] - 1] != h)
            i = (i + 1) & (cap - 1);
        if (!R->reuse[i])
            R->reuse[i] = (uint32_t)k + 1;
    }
    return 0;
}

/* Whether the cell of field f, cleaned as read, is text (a cleaned text).
 * A cell equal to a cleaned text is clean itself, as cleaning a clean
 * text gives it back; a cell that is not clean is never taken as equal,
 * and its row is read again. */
static bool cell_is(const struct tkl_rows *R, enum tkl_field f, const char *text)
{
    return strcmp(cell_of(R, f), text ? text : "") == 0;
}

/* The same for a commitment or objective cell, or the text carried down
 * to it when it is blank. */
static bool filled_is(const struct tkl_rows *R, enum tkl_field f, const char *text)
{
    const char *cell = cell_of(R, f);
    const char *v = *cell || !R->fill[f] ? cell : R->fill[f];
    return strcmp(v, text ? text : "") == 0;
}

/* Whether reading the record would give was, found by the record's hash:
 * its cells (and the texts carried down to its blank cells) are the texts
 * was holds, and it has no text past the header's columns. What a row is
 * read by besides (columns, statuses, teams) is in the hash. */
static bool same_row(const struct tkl_rows *R, const struct tkl_action *was)
{
    for (size_t i = R->n_columns; i < R->n_cells; i++)
        if (R->cells[i][strspn(R->cells[i], " \t\r\n")] != '\0')
            return false;
    const char *id = cell_of(R, TKL_FIELD_ID);
    if (*id ? !cell_is(R, TKL_FIELD_ID, was->id) : !was->id_derived)
        return false;
    return strcmp(was->file, R->file) == 0 && cell_is(R, TKL_FIELD_TITLE, was->title) &&
           cell_is(R, TKL_FIELD_OWNERS, was->owners) &&
           cell_is(R, TKL_FIELD_DEADLINE, was->deadline_text) &&
           cell_is(R, TKL_FIELD_STATUS, was->status_text) &&
           cell_is(R, TKL_FIELD_PROGRESS, was->progress) &&
           cell_is(R, TKL_FIELD_MEASURE, was->measure) &&
           filled_is(R, TKL_FIELD_COMMITMENT, was->commitment) &&
           filled_is(R, TKL_FIELD_OBJECTIVE, was->objective);
}

/*
 * Sets *ret to the action of R->prev read from a row whose hash was key
 * and whose texts are the record's (same_row), or NULL. An edited plan
 * mostly keeps its rows' order, so the action after the last one taken
 * again is looked at first, then the one after it (a row inserted,
 * deleted or changed above), and only then R->reuse, built when first
 * needed: a reload of a few changed rows reads prev's hashes in order
 * instead of probing a table at random for every row. Returns 0 or
 * -ENOMEM.
 */
static int reusable(struct tkl_rows *R, uint64_t key, const struct tkl_action **ret)
{
    *ret = NULL;
    const struct tkl_store *prev = R->prev;
    if (!key || !prev || !prev->row_hashes)
        return 0;
    size_t k = SIZE_MAX;
    for (size_t g = R->next_prev; g < R->next_prev + 2 && g < prev->n; g++)
        if (prev->row_hashes[g] == key) {
            k = g;
            break;
        }
    if (k == SIZE_MAX) {
        if (!R->reuse_cap && reuse_index(R) < 0)
            return -ENOMEM;
        for (size_t i = (size_t)key & (R->reuse_cap - 1); R->reuse[i];
             i = (i + 1) & (R->reuse_cap - 1))
            if (prev->row_hashes[R->reuse[i] - 1] == key) {
                k = R->reuse[i] - 1;
                break;
            }
        if (k == SIZE_MAX)
            return 0;
    }
    if (!same_row(R, &prev->actions[k]))
        return 0;
    R->next_prev = k + 1;
    *ret = &prev->actions[k];
    return 0;
}

/* The text of R->file interned in R->arena, interned once while the row's
 * place stays the same (a reader may name each row's place anew in one
 * buffer: docx), or NULL on allocation failure. */
static const char *file_text(struct tkl_rows *R)
{
    if (!R->file_text || strcmp(R->file_text, R->file) != 0)
        R->file_text = tkl_arena_intern(&R->arena, R->file);
    return R->file_text;
}

/* Takes was, read from an identical row by the last load, as the action of
 * this row, its texts still prev's (noted in R->again for tkl_rows_settle),
 * and carries its texts down as reading the row would. Returns 0 or
 * -ENOMEM. */
static int take_again(struct tkl_rows *R, const struct tkl_action *was, uint64_t key)
{
    if (R->n_again == R->cap_again) {
        size_t cap = R->cap_again ? R->cap_again * 2 : 1024;
        struct tkl_row_again *v = realloc(R->again, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        R->again = v;
        R->cap_again = cap;
    }
    struct tkl_action a = *was;
    if (!(a.file = (char *)file_text(R)))
        return -ENOMEM;
    a.line = R->line;
    const char *carried[] = {
        [TKL_FIELD_COMMITMENT] = a.commitment, [TKL_FIELD_OBJECTIVE] = a.objective};
    for (int f = TKL_FIELD_COMMITMENT; f <= TKL_FIELD_OBJECTIVE; f++) {
        /* the cell's own text, or the one carried down to it already */
        if (!carried[f] || !*carried[f] || (R->fill[f] && !strcmp(R->fill[f], carried[f])))
            continue;
        char *v = strdup(carried[f]);
        if (!v)
            return -ENOMEM;
        free(R->fill[f]);
        R->fill[f] = v;
    }
    /* push keeps both indexes under UINT32_MAX */
    struct tkl_row_again at = {(uint32_t)R->n_actions, (uint32_t)(was - R->prev->actions)};
    int r = push(R, &a, tkl_store_hash(R->prev, at.was), key);
    if (r == 0)
        R->again[R->n_again++] = at;
    return r;
}

/* Whether the record repeats the header row, as a plan in sections, each
 * under a header of its own, does: one of its cells is the header's title
 * heading as written, white space around it aside (a comparison a cell,
 * which a row of actions fails at its first bytes). */
static bool repeats_header(const struct tkl_rows *R)
{
    const char *heading = R->title_heading;
    size_t n = R->title_heading_len;
    for (size_t i = 0; heading && n && i < R->n_cells; i++) {
        const char *c = R->cells[i];
        if (*c != *heading) { /* white space before it, at most */
            if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n')
                continue;
            c += strspn(c, " \t\r\n");
            if (*c != *heading)
                continue;
        }
        if (strncmp(c, heading, n) == 0 && c[n + strspn(c + n, " \t\r\n")] == '\0')
            return true;
    }
    return false;
}

/* A header row met again below the first: its columns read the rows
 * after it (a section may order them otherwise), the commitment and
 * objective carried down end with the section above, and it is reported,
 * not read as an action. Returns 1 when the record was such a row, 0 when
 * it is none, or -ENOMEM. */
static int take_header_again(struct tkl_rows *R)
{
    if (!repeats_header(R))
        return 0;
    int r = take_header(R);
    if (r <= 0)
        return r;
    for (int f = 0; f < TKL_FIELD_COUNT; f++) {
        free(R->fill[f]);
        R->fill[f] = NULL;
    }
    tkl_diag_add(R->diags, TKL_SEV_WARNING, R->file, R->line, NULL,
                 "the header row again; not read as an action, and the rows below it are "
                 "read by its columns");
    return 1;
}

/* A row whose objective cell starts an objective other than the one
 * carried down ends the commitment carried down: that commitment was the
 * last objective's. Returns 0 or -ENOMEM. */
static int objective_starts(struct tkl_rows *R, const char *objective)
{
    if (!R->fill[TKL_FIELD_COMMITMENT] || !has_word(objective))
        return 0;
    bool same = R->fill[TKL_FIELD_OBJECTIVE] && !strcmp(objective, R->fill[TKL_FIELD_OBJECTIVE]);
    if (!same && R->fill[TKL_FIELD_OBJECTIVE]) { /* the cell as read, cleaned */
        char *c = tkl_text_clean(objective, false);
        if (!c)
            return -ENOMEM;
        same = !strcmp(c, R->fill[TKL_FIELD_OBJECTIVE]);
        free(c);
    }
    if (!same) {
        free(R->fill[TKL_FIELD_COMMITMENT]);
        R->fill[TKL_FIELD_COMMITMENT] = NULL;
    }
    return 0;
}

/* The record as an action, or as a heading row that is reported. A row
 * read with no warning at all may be taken as it is by the next load
 * (its row_hash). Returns 0 or -ENOMEM. */
static int take_row(struct tkl_rows *R)
{
    int again = take_header_again(R);
    if (again != 0)
        return again < 0 ? again : 0;
    if (!R->seed) {
        R->seed = config_seed(R);
        /* a reload reads about as many rows as the store in force holds
         * actions (its observances are added after): room for them at
         * once, not grown by doubling */
        size_t rows = R->prev ? R->prev->n - R->prev->n_events : 0;
        if (R->prev && reserve_actions(R, rows + rows / 32 + 64) < 0)
            return -ENOMEM;
    }
    if (objective_starts(R, cell_of(R, TKL_FIELD_OBJECTIVE)) < 0)
        return -ENOMEM;
    /* a row of a store read once is never looked for again */
    uint64_t key = R->opts && R->opts->once ? 0 : row_key(R);
    const struct tkl_action *was;
    if (reusable(R, key, &was) < 0)
        return -ENOMEM;
    if (was)
        return take_again(R, was, key);
    size_t n_diags = R->diags->n;
    struct tkl_action a = {.line = R->line};
    const char *dt = NULL, *st = NULL; /* a's deadline and status texts, interned */
    int r = -ENOMEM;
    warn_extra_fields(R);
    a.file = (char *)R->file; /* borrowed */
    if (read_cells(R, &a) == 0)
        r = *a.title ? 0 : untitled(R, &a);
    if (r == 0)
        r = read_deadline_status(R, &a, &dt, &st);
    /* an owners cell repeats from row to row: read once a load, unless it
     * is warned about */
    const char *owners = NULL;
    const struct tkl_cell_memo *memo = NULL;
    size_t n_before_owners = R->diags->n;
    if (r == 0 && !(owners = tkl_arena_intern(&R->arena, a.owners)))
        r = -ENOMEM;
    if (r == 0 && (memo = memo_find(R, owners)) && !memo->has_teams)
        memo = NULL;
    if (r == 0 && !memo)
        r = resolve_owners(R, &a);
    if (r == 0)
        r = row_id(R, &a);
    struct tkl_action c;
    uint64_t row_hash = 0;
    if (r == 0) {
        row_hash = R->diags->n == n_diags && !R->diags->oom ? key : 0;
        /* the texts interned already are handed to the copy as such (the
         * same texts): interning them again is then a look-up */
        struct tkl_action in = a;
        in.file = (char *)file_text(R);
        in.owners = (char *)owners;
        in.deadline_text = (char *)dt;
        in.status_text = (char *)st;
        r = in.file ? tkl_action_compact(&c, &in, &R->arena) : -ENOMEM;
    }
    if (r == 0 && memo) {
        c.teams = memo->teams;
        c.n_teams = memo->n_teams;
    } else if (r == 0 && R->diags->n == n_before_owners && !tkl_action_rare(&c)->n_unmatched) {
        struct tkl_cell_memo *w = memo_get(R, owners);
        if (w) {
            w->teams = c.teams;
            w->n_teams = c.n_teams;
            w->has_teams = true;
        } else {
            r = -ENOMEM;
        }
    }
    if (r == 0)
        r = push(R, &c, 0, row_hash);
    row_action_free(R, &a);
    return r == 1 ? 0 : r;
}

/* Words the one warning of the records before the header row, when they
 * are more than TKL_ROWS_MAX_PREAMBLE_WARNINGS: in place of the first's,
 * at its place, or added when that one was not recorded. */
static void say_preamble(struct tkl_rows *R)
{
    char msg[512];
    if (R->preamble_first)
        snprintf(msg, sizeof(msg),
                 "rows %u to %u (%zu rows) come before any header row (no column "
                 "named " TKL_TITLE_HEADINGS " yet); not read as actions",
                 R->preamble_first, R->preamble_last, R->n_preamble);
    else /* a document's rows, named by their place, not by a number */
        snprintf(msg, sizeof(msg),
                 "this row and the %zu after it come before any header row (no column "
                 "named " TKL_TITLE_HEADINGS " yet); not read as actions",
                 R->n_preamble - 1);
    size_t *at = &R->preamble_said[0];
    if (*at < R->diags->n) {
        tkl_diag_reword(R->diags, *at, "%s", msg);
        return;
    }
    size_t n = R->diags->n;
    tkl_diag_add(R->diags, TKL_SEV_WARNING, R->file, R->preamble_first, NULL, "%s", msg);
    *at = R->diags->n > n ? n : SIZE_MAX;
}

/* Reports the record, which comes before the header row: a warning each
 * for the first TKL_ROWS_MAX_PREAMBLE_WARNINGS such records, then one for
 * all of them in place of theirs. That one is worded again at each record
 * after, so that it counts them all wherever the reading stops (a sheet
 * refused part way); take_header has looked at each cell of the record
 * already. */
static void before_header(struct tkl_rows *R)
{
    size_t k = R->n_preamble++;
    if (k == 0)
        R->preamble_first = R->line;
    R->preamble_last = R->line;
    if (k < TKL_ROWS_MAX_PREAMBLE_WARNINGS) {
        size_t n = R->diags->n;
        tkl_diag_add(R->diags, TKL_SEV_WARNING, R->file, R->line, NULL,
                     "before the header row (no column named " TKL_TITLE_HEADINGS
                     " yet); not read as an action");
        R->preamble_said[k] = R->diags->n > n ? n : SIZE_MAX;
        return;
    }
    /* one past the few: the warnings of each but the first go, the last
     * first, so that the indexes of those before it hold */
    if (k == TKL_ROWS_MAX_PREAMBLE_WARNINGS)
        for (size_t i = k - 1; i > 0; i--)
            if (R->preamble_said[i] < R->diags->n)
                tkl_diags_remove(R->diags, R->preamble_said[i]);
    say_preamble(R);
}

int tkl_rows_record(struct tkl_rows *R, char *const *cells, size_t n, unsigned line)
{
    int r = 0;
    R->cells = cells;
    R->n_cells = n;
    R->line = line;
    if (R->have_header)
        r = take_row(R);
    else if ((r = take_header(R)) == 0)
        before_header(R);
    R->cells = NULL;
    R->n_cells = 0;
    return r < 0 ? r : 0;
}

static int on_record(void *ctx, char *const *cells, size_t n, unsigned line)
{
    return tkl_rows_record(ctx, cells, n, line);
}

void tkl_rows_begin(struct tkl_rows *R, const char *file)
{
    R->file = file;
    R->file_text = NULL;
    R->cells_named = false;
    R->have_header = false;
    R->title_heading = NULL;
    R->title_heading_len = 0;
    R->n_preamble = 0;
    for (int f = 0; f < TKL_FIELD_COUNT; f++) {
        R->column[f] = -1;
        free(R->fill[f]);
        R->fill[f] = NULL;
    }
}

void tkl_rows_begin_sheet(struct tkl_rows *R, const char *file)
{
    tkl_rows_begin(R, file);
    R->cells_named = true;
}

int tkl_rows_end(struct tkl_rows *R)
{
    if (R->have_header)
        return 0;
    tkl_diag_add(R->diags, TKL_SEV_ERROR, R->file, 0, "title",
                 "no header row with an action column (" TKL_TITLE_HEADINGS
                 "; or set store.columns.title)");
    return -EINVAL;
}

int tkl_rows_carry(struct tkl_rows *R, enum tkl_field f, const char *text)
{
    char *v = tkl_text_clean(text, false);
    if (!v || (f == TKL_FIELD_OBJECTIVE && objective_starts(R, v) < 0)) {
        free(v);
        return -ENOMEM;
    }
    free(R->fill[f]);
    R->fill[f] = v;
    return 0;
}

int tkl_rows_read(struct tkl_rows *R, const char *file, const char *data, size_t len)
{
    tkl_rows_begin(R, file);
    int r = tkl_csv_read(file, data, len, R->opts && R->opts->may_hold, on_record, R, R->diags);
    return r == 0 ? tkl_rows_end(R) : r;
}

int tkl_rows_read_fd(struct tkl_rows *R, const char *file, int fd)
{
    size_t n_actions = R->n_actions, n_events = R->n_events, n_unmatched = R->n_unmatched;
    size_t n_maps = R->n_maps, n_diags = R->diags->n, next_prev = R->next_prev;
    bool unsettled = R->diags->unsettled;
    tkl_rows_begin(R, file);
    int r = tkl_csv_read_fd(file, fd, R->opts && R->opts->may_hold, on_record, R, R->diags);
    if (r == -EILSEQ) {
        /* what was read of the file is dropped: the texts of the rows
         * read anew stay in the arena unused, for as long as the arena
         * (counted in n_stale); those taken again put none there */
        size_t dropped = R->n_actions - n_actions, again = R->n_again;
        while (R->n_again && R->again[R->n_again - 1].at >= n_actions)
            R->n_again--;
        R->n_dropped += dropped - (again - R->n_again);
        R->n_actions = n_actions;
        R->next_prev = next_prev;
        R->n_events = n_events;
        R->n_unmatched = n_unmatched;
        for (; R->n_maps > n_maps; R->n_maps--)
            tkl_column_map_free(&R->maps[R->n_maps - 1]);
        R->title_heading = NULL; /* in a map just freed */
        R->title_heading_len = 0;
        tkl_diags_truncate(R->diags, n_diags);
        R->diags->unsettled = unsettled;
        return r;
    }
    return r == 0 ? tkl_rows_end(R) : r;
}

int tkl_rows_settle(struct tkl_rows *R, unsigned *ret_kept_loads, size_t *ret_stale)
{
    *ret_kept_loads = 0;
    *ret_stale = R->n_dropped;
    if (!R->n_again)
        return 0;
    const struct tkl_store *prev = R->prev;
    /* prev's actions taken again (repeated rows take one several times) */
    uint8_t *seen = calloc(prev->n / 8 + 1, 1);
    if (!seen)
        return -ENOMEM;
    size_t taken = 0;
    for (size_t i = 0; i < R->n_again; i++) {
        uint32_t w = R->again[i].was;
        taken += !(seen[w / 8] & 1u << (w % 8));
        seen[w / 8] |= (uint8_t)(1u << (w % 8));
    }
    free(seen);
    /* prev->n counts its observances, which a reload adds anew: they are
     * stale each time, and R->n_actions has none yet (a plan with many
     * observances for its rows copies) */
    size_t stale = prev->n_stale + (prev->n - taken) + R->n_dropped;
    if (prev->n_kept_loads < TKL_ROWS_MAX_KEPT_LOADS && stale <= R->n_actions / 8) {
        if (tkl_arena_keep(&R->arena, &prev->arena) < 0)
            return -ENOMEM;
        *ret_kept_loads = prev->n_kept_loads + 1;
        *ret_stale = stale;
        return 0;
    }
    for (size_t i = 0; i < R->n_again; i++) {
        struct tkl_action *a = &R->actions[R->again[i].at];
        if (tkl_action_compact(a, a, &R->arena) < 0)
            return -ENOMEM;
    }
    return 0;
}

void tkl_rows_free(struct tkl_rows *R)
{
    tkl_mem_ahead_end(&R->ahead);
    release_actions(R);
    R->n_actions = 0;
    R->cap_actions = 0;
    free(R->id_hashes);
    R->id_hashes = NULL;
    free(R->hashes);
    R->hashes = NULL;
    free(R->row_hashes);
    R->row_hashes = NULL;
    R->n_events = 0;
    R->n_unmatched = 0;
    tkl_arena_free(&R->arena);
    free(R->reuse);
    R->reuse = NULL;
    R->reuse_cap = 0;
    free(R->again);
    R->again = NULL;
    R->n_again = 0;
    R->cap_again = 0;
    R->n_dropped = 0;
    R->next_prev = 0;
    R->seed = 0;
    free(R->memo_of);
    free(R->memo);
    R->memo_of = NULL;
    R->memo = NULL;
    R->n_memo = 0;
    R->cap_memo = 0;
    for (size_t i = 0; i < R->n_maps; i++)
        tkl_column_map_free(&R->maps[i]);
    free(R->maps);
    R->maps = NULL;
    R->n_maps = 0;
    for (int f = 0; f < TKL_FIELD_COUNT; f++) {
        free(R->fill[f]);
        R->fill[f] = NULL;
    }
}

#include "store.h"

#include <csv.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../core/day.h"
#include "../core/text.h"

static const char *const field_names[TKL_FIELD_COUNT] = {
    [TKL_FIELD_ID] = "id",
    [TKL_FIELD_TITLE] = "title",
    [TKL_FIELD_COMMITMENT] = "commitment",
    [TKL_FIELD_OBJECTIVE] = "objective",
    [TKL_FIELD_OWNERS] = "owners",
    [TKL_FIELD_DEADLINE] = "deadline",
    [TKL_FIELD_STATUS] = "status",
    [TKL_FIELD_PROGRESS] = "progress",
};

/* Built-in headings, compared after heading_key(). */
static const struct {
    enum tkl_field field;
    const char *heading;
    bool prefix; /* heading may continue: "Progress - 2022" */
} aliases[] = {
    {TKL_FIELD_ID, "id", false},
    {TKL_FIELD_ID, "ref", false},
    {TKL_FIELD_ID, "reference", false},
    {TKL_FIELD_ID, "action id", false},
    {TKL_FIELD_ID, "action ref", false},
    {TKL_FIELD_TITLE, "actions", false},
    {TKL_FIELD_TITLE, "action", false},
    {TKL_FIELD_TITLE, "action title", false},
    {TKL_FIELD_TITLE, "agreed actions", false},
    {TKL_FIELD_TITLE, "title", false},
    {TKL_FIELD_COMMITMENT, "commitments", false},
    {TKL_FIELD_COMMITMENT, "commitment", false},
    {TKL_FIELD_OBJECTIVE, "objective", false},
    {TKL_FIELD_OBJECTIVE, "objectives", false},
    {TKL_FIELD_OBJECTIVE, "theme", false},
    {TKL_FIELD_OBJECTIVE, "section", false},
    {TKL_FIELD_OWNERS, "responsibility", false},
    {TKL_FIELD_OWNERS, "responsible service", false},
    {TKL_FIELD_OWNERS, "responsible", false},
    {TKL_FIELD_OWNERS, "responsible team", false},
    {TKL_FIELD_OWNERS, "owner", false},
    {TKL_FIELD_OWNERS, "owners", false},
    {TKL_FIELD_OWNERS, "lead", false},
    {TKL_FIELD_OWNERS, "lead officer", false},
    {TKL_FIELD_DEADLINE, "timeframe", false},
    {TKL_FIELD_DEADLINE, "timescale", false},
    {TKL_FIELD_DEADLINE, "timescales", false},
    {TKL_FIELD_DEADLINE, "deadline", false},
    {TKL_FIELD_DEADLINE, "due date", false},
    {TKL_FIELD_DEADLINE, "target date", false},
    {TKL_FIELD_DEADLINE, "by when", false},
    {TKL_FIELD_STATUS, "status", false},
    {TKL_FIELD_STATUS, "rag status", false},
    {TKL_FIELD_PROGRESS, "progress", true},
    {TKL_FIELD_PROGRESS, "latest update", false},
    {TKL_FIELD_PROGRESS, "update", false},
};

const char *tkl_field_name(enum tkl_field f)
{
    return (unsigned)f < TKL_FIELD_COUNT ? field_names[f] : "?";
}

/* Lower case, punctuation to spaces, spaces folded, into out (size bytes;
 * no allocation, so matching cannot fail). Returns false when s did not
 * fit and out holds its beginning only. */
static bool heading_key(const char *s, char *out, size_t size)
{
    size_t n = 0;
    bool space = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p >= 0x80) {
            if (n + 2 >= size) {
                out[n] = '\0';
                return false;
            }
            if (space && n)
                out[n++] = ' ';
            space = false;
            out[n++] = (char)tolower(*p);
        } else {
            space = true;
        }
    }
    out[n] = '\0';
    return true;
}

int tkl_field_for_heading(const struct tkl_store_opts *opts, const char *heading)
{
    char key[512], k[512];
    int found = -1;
    if (!heading_key(heading, key, sizeof(key)))
        return -1;
    for (int f = 0; opts && f < TKL_FIELD_COUNT && found < 0; f++)
        if (opts->columns[f] && heading_key(opts->columns[f], k, sizeof(k)) && !strcmp(k, key))
            found = f;
    for (size_t i = 0; found < 0 && i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        /* an override replaces the built-in headings of its field */
        if (opts && opts->columns[aliases[i].field])
            continue;
        size_t n = strlen(aliases[i].heading);
        if (strcmp(key, aliases[i].heading) == 0 ||
            (aliases[i].prefix && strncmp(key, aliases[i].heading, n) == 0 && key[n] == ' '))
            found = (int)aliases[i].field;
    }
    return found;
}

const char *tkl_status_name(enum tkl_status s)
{
    switch (s) {
    case TKL_STATUS_COMPLETE:
        return "complete";
    case TKL_STATUS_CLOSED:
        return "closed";
    default:
        return "active";
    }
}

static bool starts_with_word(const char *s, const char *w)
{
    size_t n = strlen(w);
    /* s has the n bytes of w, so s[n] is at most its terminator */
    // NOLINTNEXTLINE(clang-analyzer-core.uninitialized.ArraySubscript)
    return strncmp(s, w, n) == 0 && !isalpha((unsigned char)s[n]);
}

enum tkl_status tkl_status_parse(const struct tkl_store_opts *opts, const char *text,
                                 bool *ret_known)
{
    char key[512], k[512];
    enum tkl_status st = TKL_STATUS_ACTIVE;
    bool known = true;
    /* a longer text is matched by its beginning */
    bool whole = heading_key(text ? text : "", key, sizeof(key));
    for (size_t i = 0; whole && opts && i < opts->n_status_rules; i++) {
        if (heading_key(opts->status_rules[i].text, k, sizeof(k)) && strcmp(k, key) == 0) {
            st = opts->status_rules[i].status;
            goto out;
        }
    }
    /* Built-in wording, from the councils' plans and progress reports. */
    if (strstr(key, "cannot be carried forward") || starts_with_word(key, "cancelled") ||
        starts_with_word(key, "canceled") || starts_with_word(key, "closed") ||
        starts_with_word(key, "withdrawn") || starts_with_word(key, "superseded") ||
        starts_with_word(key, "no longer required"))
        st = TKL_STATUS_CLOSED;
    else if (starts_with_word(key, "complete") || starts_with_word(key, "completed") ||
             starts_with_word(key, "done") || starts_with_word(key, "achieved"))
        st = TKL_STATUS_COMPLETE;
    else if (!*key || starts_with_word(key, "ongoing") || starts_with_word(key, "new") ||
             starts_with_word(key, "active") || starts_with_word(key, "open") ||
             starts_with_word(key, "in progress") || starts_with_word(key, "not started") ||
             starts_with_word(key, "on track") || starts_with_word(key, "on hold") ||
             starts_with_word(key, "delayed") || starts_with_word(key, "at risk") ||
             starts_with_word(key, "incomplete") || starts_with_word(key, "red") ||
             starts_with_word(key, "amber") || starts_with_word(key, "green") ||
             starts_with_word(key, "a watching brief"))
        st = TKL_STATUS_ACTIVE;
    else
        known = false;
out:
    *ret_known = known;
    return st;
}

bool tkl_action_active(const struct tkl_action *a)
{
    return a->status == TKL_STATUS_ACTIVE;
}

/* ---- loading ---------------------------------------------------------- */

struct row {
    char **cells;
    size_t n;
    size_t cap;
    bool overflow_oom;
};

struct loader {
    const struct tkl_store_opts *opts;
    const struct tkl_team_dir *teams;
    struct tkl_diags *diags;
    const char *file;
    struct tkl_action *actions; /* grows */
    size_t n_actions;
    size_t cap_actions;
    /* per file */
    struct row row;
    struct tkl_buf cell;
    unsigned line;        /* physical line being fed */
    unsigned record_line; /* first line of the current record */
    bool record_started;
    bool have_header;
    int column[TKL_FIELD_COUNT]; /* cell index per field, or -1 */
    size_t n_columns;
    char *fill[TKL_FIELD_COUNT]; /* fill-down for merged cells */
    int err;                     /* first fatal error, negative errno */
};

static void row_clear(struct row *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->cells[i]);
    r->n = 0;
}

static void on_field(void *data, size_t len, void *ctx)
{
    struct loader *L = ctx;
    if (L->err)
        return;
    L->record_started = true;
    if (L->row.n == L->row.cap) {
        size_t cap = L->row.cap ? L->row.cap * 2 : 16;
        char **p = realloc(L->row.cells, cap * sizeof(*p));
        if (!p) {
            L->err = -ENOMEM;
            return;
        }
        L->row.cells = p;
        L->row.cap = cap;
    }
    char *s = strndup(data ? data : "", data ? len : 0);
    if (!s) {
        L->err = -ENOMEM;
        return;
    }
    L->row.cells[L->row.n++] = s;
}

static int grow_strv(char ***v, size_t *n, char *s)
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

static int action_warn(struct loader *L, struct tkl_action *a, const char *field, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

static int action_warn(struct loader *L, struct tkl_action *a, const char *field, const char *fmt,
                       ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    tkl_diag_add(L->diags, TKL_SEV_WARNING, L->file, a->line, field, "%s", msg);
    char *w = NULL;
    if (asprintf(&w, "%s%s%s", field ? field : "", field ? ": " : "", msg) < 0)
        return -ENOMEM;
    return grow_strv(&a->warnings, &a->n_warnings, w);
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
    free(a->category);
    free(a->url);
    tkl_deadline_clear(&a->deadline);
    for (size_t i = 0; i < a->n_teams; i++)
        free(a->teams[i]);
    free(a->teams);
    for (size_t i = 0; i < a->n_unmatched; i++)
        free(a->unmatched[i]);
    free(a->unmatched);
    for (size_t i = 0; i < a->n_warnings; i++)
        free(a->warnings[i]);
    free(a->warnings);
}

int tkl_action_add_team(struct tkl_action *a, const char *id)
{
    for (size_t i = 0; i < a->n_teams; i++)
        if (strcmp(a->teams[i], id) == 0)
            return 0;
    return grow_strv(&a->teams, &a->n_teams, strdup(id));
}

int tkl_action_add_unmatched(struct tkl_action *a, const char *name)
{
    return grow_strv(&a->unmatched, &a->n_unmatched, strdup(name));
}

static const char *cell_of(struct loader *L, enum tkl_field f)
{
    int c = L->column[f];
    if (c < 0 || (size_t)c >= L->row.n)
        return "";
    return L->row.cells[c];
}

static bool row_blank(const struct row *r)
{
    for (size_t i = 0; i < r->n; i++)
        for (const char *p = r->cells[i]; *p; p++)
            if (!isspace((unsigned char)*p))
                return false;
    return true;
}

static int take_header(struct loader *L)
{
    int column[TKL_FIELD_COUNT];
    for (int f = 0; f < TKL_FIELD_COUNT; f++)
        column[f] = -1;
    for (size_t i = 0; i < L->row.n; i++) {
        int f = tkl_field_for_heading(L->opts, L->row.cells[i]);
        if (f < 0)
            continue;
        if (column[f] >= 0) {
            tkl_diag_add(L->diags, TKL_SEV_WARNING, L->file, L->record_line, field_names[f],
                         "column %zu (\"%s\") repeats the %s column %d; the first is used", i + 1,
                         L->row.cells[i], field_names[f], column[f] + 1);
            continue;
        }
        column[f] = (int)i;
    }
    if (column[TKL_FIELD_TITLE] < 0)
        return 0;
    memcpy(L->column, column, sizeof(column));
    L->n_columns = L->row.n;
    L->have_header = true;
    static const struct {
        enum tkl_field f;
        const char *what;
    } wanted[] = {
        {TKL_FIELD_OWNERS, "owners (Responsibility, Responsible Service, Owner); every action "
                           "goes to the fallback team"},
        {TKL_FIELD_DEADLINE, "deadline (Timeframe, Timescale, Deadline); every action is undated"},
        {TKL_FIELD_STATUS, "status (Status); every action is treated as active"},
    };
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
        if (column[wanted[i].f] < 0)
            tkl_diag_add(L->diags, TKL_SEV_WARNING, L->file, L->record_line,
                         field_names[wanted[i].f], "no column for %s", wanted[i].what);
    return 1;
}

static int clean_cell(struct loader *L, enum tkl_field f, bool fold, char **ret)
{
    char *s = tkl_text_clean(cell_of(L, f), fold);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int resolve_owners(struct loader *L, struct tkl_action *a)
{
    char **names = NULL;
    size_t n = 0;
    int r = tkl_owners_split(a->owners, &names, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct tkl_team *found[32];
        size_t nf = 0;
        if ((r = tkl_team_match_list(L->teams, names[i], found, 32, &nf)) < 0)
            break;
        if (!nf) {
            r = tkl_action_add_unmatched(a, names[i]);
            if (r == 0)
                r = action_warn(L, a, "owners", "\"%s\" matches no team in the directory; %s",
                                names[i],
                                L->teams->fallback ? "sent to the fallback team"
                                                   : "no fallback team is configured");
            continue;
        }
        for (size_t f = 0; f < nf && r == 0; f++)
            r = tkl_action_add_team(a, found[f]->id);
    }
    if (r == 0 && n == 0)
        r = action_warn(L, a, "owners", "no owner; %s",
                        L->teams->fallback ? "sent to the fallback team"
                                           : "no fallback team is configured");
    if (r == 0 && (a->n_unmatched || n == 0) && L->teams->fallback)
        r = tkl_action_add_team(a, L->teams->fallback);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    h = tkl_fnv1a(h, s ? s : "", s ? strlen(s) : 0);
    return tkl_fnv1a(h, "\x1f", 1);
}

static int take_row(struct loader *L)
{
    struct tkl_action a = {.line = L->record_line};
    int r = -ENOMEM;

    if (L->n_columns && L->row.n > L->n_columns) {
        bool extra = false;
        for (size_t i = L->n_columns; i < L->row.n; i++)
            extra |= L->row.cells[i][strspn(L->row.cells[i], " \t\r\n")] != '\0';
        if (extra)
            tkl_diag_add(L->diags, TKL_SEV_WARNING, L->file, L->record_line, NULL,
                         "%zu fields but the header has %zu; the fields after column %zu are "
                         "ignored (an unquoted comma?)",
                         L->row.n, L->n_columns, L->n_columns);
    }
    if (!(a.file = strdup(L->file)))
        goto fail;
    if (clean_cell(L, TKL_FIELD_TITLE, false, &a.title) < 0 ||
        clean_cell(L, TKL_FIELD_OWNERS, false, &a.owners) < 0 ||
        clean_cell(L, TKL_FIELD_DEADLINE, true, &a.deadline_text) < 0 ||
        clean_cell(L, TKL_FIELD_STATUS, true, &a.status_text) < 0 ||
        clean_cell(L, TKL_FIELD_PROGRESS, false, &a.progress) < 0)
        goto fail;
    /* Merged cells (a commitment spanning several actions) export as one
     * value followed by blanks: carry the last value down. */
    enum tkl_field fill[] = {TKL_FIELD_COMMITMENT, TKL_FIELD_OBJECTIVE};
    for (size_t i = 0; i < 2; i++) {
        char *v;
        if (clean_cell(L, fill[i], false, &v) < 0)
            goto fail;
        if (*v) {
            free(L->fill[fill[i]]);
            L->fill[fill[i]] = strdup(v);
            if (!L->fill[fill[i]]) {
                free(v);
                goto fail;
            }
        } else if (L->fill[fill[i]]) {
            free(v);
            if (!(v = strdup(L->fill[fill[i]])))
                goto fail;
        }
        if (fill[i] == TKL_FIELD_COMMITMENT)
            a.commitment = v;
        else
            a.objective = v;
    }

    if (!*a.title) {
        if (!*a.owners && !*a.deadline_text && !*a.status_text) {
            /* a heading row or a commitment with no action of its own */
            tkl_diag_add(L->diags, TKL_SEV_WARNING, L->file, L->record_line, "title",
                         "row has no action text, owner, deadline or status; read as a heading "
                         "and not as an action");
            tkl_action_free(&a);
            return 0;
        }
        free(a.title);
        a.title = strdup(*a.commitment ? a.commitment : "(no action text)");
        if (!a.title)
            goto fail;
        if (action_warn(L, &a, "title", "empty; the commitment is used as the title") < 0)
            goto fail;
    }

    if (tkl_deadline_parse(a.deadline_text, &a.deadline) < 0)
        goto fail;
    if (a.deadline.problem &&
        action_warn(L, &a, "deadline", "\"%s\": %s; the action is kept as undated", a.deadline_text,
                    a.deadline.problem) < 0)
        goto fail;

    bool known;
    a.status = tkl_status_parse(L->opts, a.status_text, &known);
    if (!known && action_warn(L, &a, "status",
                              "\"%s\" is not a status tickler knows; treated as active (map it "
                              "in store.status)",
                              a.status_text) < 0)
        goto fail;

    if (resolve_owners(L, &a) < 0)
        goto fail;

    /* id: as written, or derived from the text that names the action, so
     * that editing a deadline, owner or status keeps it. */
    char *idcell;
    if (clean_cell(L, TKL_FIELD_ID, true, &idcell) < 0)
        goto fail;
    if (*idcell) {
        a.id = idcell;
    } else {
        free(idcell);
        char *nt = tkl_text_clean(a.title, true), *nc = tkl_text_clean(a.commitment, true);
        if (!nt || !nc) {
            free(nt);
            free(nc);
            goto fail;
        }
        uint64_t h = hash_str(hash_str(TKL_FNV_INIT, nt), nc);
        free(nt);
        free(nc);
        if (asprintf(&a.id, "a%011llx", (unsigned long long)(h >> 20)) < 0) {
            a.id = NULL;
            goto fail;
        }
    }

    if (L->n_actions == L->cap_actions) {
        size_t cap = L->cap_actions ? L->cap_actions * 2 : 64;
        struct tkl_action *p = realloc(L->actions, cap * sizeof(*p));
        if (!p)
            goto fail;
        L->actions = p;
        L->cap_actions = cap;
    }
    L->actions[L->n_actions++] = a;
    return 0;
fail:
    tkl_action_free(&a);
    return r;
}

static void on_record(int term, void *ctx)
{
    (void)term;
    struct loader *L = ctx;
    if (L->err) {
        row_clear(&L->row);
        return;
    }
    L->record_started = false;
    if (row_blank(&L->row)) {
        row_clear(&L->row);
        return;
    }
    if (!L->have_header) {
        if (!take_header(L))
            tkl_diag_add(L->diags, TKL_SEV_WARNING, L->file, L->record_line, NULL,
                         "before the header row (no column named Actions, Action Title or "
                         "Title yet); not read as an action");
    } else {
        int r = take_row(L);
        if (r < 0)
            L->err = r;
    }
    row_clear(&L->row);
}

/* Index of the first line holding bytes that are not UTF-8. */
static unsigned first_bad_line(const char *data, size_t len)
{
    unsigned line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || data[i] == '\n') {
            if (!tkl_utf8_valid(data + start, i - start))
                return line;
            line++;
            start = i + 1;
        }
    }
    return 0;
}

static int parse_buffer(struct loader *L, const char *data, size_t len)
{
    struct csv_parser p;
    char *converted = NULL;
    int r = 0;

    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    if (len && memchr(data, '\0', len)) {
        tkl_diag_add(L->diags, TKL_SEV_ERROR, L->file, 0, NULL,
                     "contains NUL bytes: not a CSV text file (saved as .xlsx or UTF-16?)");
        return -EINVAL;
    }
    if (!tkl_utf8_valid(data, len)) {
        unsigned bad = first_bad_line(data, len);
        converted = tkl_cp1252_to_utf8(data, len);
        if (!converted)
            return -ENOMEM;
        tkl_diag_add(L->diags, TKL_SEV_WARNING, L->file, bad, NULL,
                     "not valid UTF-8; the file was read as Windows-1252 (save it as \"CSV "
                     "UTF-8\" to avoid this)");
        data = converted;
        len = strlen(converted);
    }

    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        free(converted);
        return -ENOMEM;
    }
    L->line = 1;
    L->have_header = false;
    L->record_started = false;
    for (int f = 0; f < TKL_FIELD_COUNT; f++) {
        L->column[f] = -1;
        free(L->fill[f]);
        L->fill[f] = NULL;
    }
    size_t pos = 0;
    while (pos < len && !L->err) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t chunk = nl ? (size_t)(nl - (data + pos)) + 1 : len - pos;
        /* A record starts on the first line fed while libcsv is between
         * records; a quoted field can carry it over several lines. */
        if (p.pstate == 0 && !L->record_started)
            L->record_line = L->line;
        if (csv_parse(&p, data + pos, chunk, on_field, on_record, L) != chunk) {
            if (!L->err)
                L->err = csv_error(&p) == CSV_ENOMEM ? -ENOMEM : -EINVAL;
            break;
        }
        pos += chunk;
        L->line++;
    }
    if (!L->err) {
        unsigned open_line = L->record_line;
        /* libcsv reports an unclosed quote at the end only in strict mode */
        csv_set_opts(&p, CSV_APPEND_NULL | CSV_STRICT | CSV_STRICT_FINI);
        if (csv_fini(&p, on_field, on_record, L) != 0 && !L->err) {
            tkl_diag_add(L->diags, TKL_SEV_ERROR, L->file, open_line, NULL,
                         "a quoted field is never closed (a missing \")");
            L->err = -EINVAL;
        }
    }
    csv_free(&p);
    row_clear(&L->row);
    if (!L->err && !L->have_header) {
        tkl_diag_add(L->diags, TKL_SEV_ERROR, L->file, 0, "title",
                     "no header row with an action column (Actions, Action Title, Agreed "
                     "Actions or Title; or set store.columns.title)");
        L->err = -EINVAL;
    }
    r = L->err;
    L->err = 0;
    free(converted);
    return r;
}

/* ---- the index -------------------------------------------------------- */

static uint64_t id_hash(const char *id)
{
    return tkl_fnv1a(TKL_FNV_INIT, id, strlen(id));
}

#define NO_SLOT SIZE_MAX

/* The action of id in table (cap slots, a power of two, of indexes into
 * actions), or NO_SLOT. */
static size_t slot_lookup(const size_t *table, size_t cap, const struct tkl_action *actions,
                          const char *id)
{
    if (!cap)
        return NO_SLOT;
    size_t mask = cap - 1;
    for (size_t i = (size_t)id_hash(id) & mask;; i = (i + 1) & mask) {
        size_t v = table[i];
        if (v == NO_SLOT)
            return NO_SLOT;
        if (strcmp(actions[v].id, id) == 0)
            return v;
    }
}

/* Renames the id of actions[k] when table already holds it (two identical
 * rows), to the first free "<id>-<n>", with a warning. Returns 0 or -ENOMEM. */
static int distinct_id(const size_t *table, size_t cap, struct tkl_action *actions, size_t k,
                       struct tkl_diags *diags)
{
    struct tkl_action *a = &actions[k];
    size_t dup = slot_lookup(table, cap, actions, a->id);
    for (unsigned n = 2; dup != NO_SLOT; n++) {
        const struct tkl_action *first = &actions[dup];
        char *id = NULL;
        if (asprintf(&id, "%s-%u", first->id, n) < 0)
            return -ENOMEM;
        if (slot_lookup(table, cap, actions, id) != NO_SLOT) {
            free(id);
            continue;
        }
        tkl_diag_add(diags, TKL_SEV_WARNING, a->file, a->line, "id",
                     "same id as %s:%u (%s); this row is %s", first->file, first->line, first->id,
                     id);
        free(a->id);
        a->id = id;
        break;
    }
    return 0;
}

/* Builds the id index, renaming duplicate ids so that each action keeps a
 * distinct, stable id. Returns 0 or -ENOMEM (then s->index is unchanged,
 * though ids may have been renamed). */
static int build_index(struct tkl_store *s, struct tkl_diags *diags)
{
    size_t cap = 16;
    while (cap < s->n * 2 + 1)
        cap *= 2;
    size_t *table = malloc(cap * sizeof(*table));
    if (!table)
        return -ENOMEM;
    for (size_t i = 0; i < cap; i++)
        table[i] = NO_SLOT;
    size_t mask = cap - 1;
    for (size_t k = 0; k < s->n; k++) {
        int r = distinct_id(table, cap, s->actions, k, diags);
        if (r < 0) {
            free(table);
            return r;
        }
        size_t i = (size_t)id_hash(s->actions[k].id) & mask;
        while (table[i] != NO_SLOT)
            i = (i + 1) & mask;
        table[i] = k;
    }
    free(s->index);
    s->index = table;
    s->index_cap = cap;
    return 0;
}

static uint64_t action_hash(const struct tkl_action *a)
{
    uint64_t h = TKL_FNV_INIT;
    h = hash_str(h, a->id);
    h = hash_str(h, a->title);
    h = hash_str(h, a->commitment);
    h = hash_str(h, a->objective);
    h = hash_str(h, a->owners);
    h = hash_str(h, a->deadline_text);
    h = hash_str(h, a->status_text);
    h = hash_str(h, a->progress);
    h = hash_str(h, a->category);
    h = hash_str(h, a->url);
    for (size_t i = 0; i < a->n_teams; i++)
        h = hash_str(h, a->teams[i]);
    return h;
}

/* Indexes s (renaming repeated ids), then sets each action's hash and the
 * count of events. Returns 0 or -ENOMEM (then only ids may have changed). */
static int store_settle(struct tkl_store *s, struct tkl_diags *diags)
{
    int r = build_index(s, diags);
    if (r < 0)
        return r;
    s->n_events = 0;
    for (size_t k = 0; k < s->n; k++) {
        s->actions[k].hash = action_hash(&s->actions[k]);
        s->n_events += s->actions[k].deadline.kind == TKL_DEADLINE_EVENT;
    }
    return 0;
}

int tkl_store_append(struct tkl_store *s, struct tkl_action *v, size_t n, struct tkl_diags *diags)
{
    if (!n)
        return 0;
    struct tkl_action *all = realloc(s->actions, (s->n + n) * sizeof(*all));
    if (!all)
        return -ENOMEM;
    s->actions = all;
    memcpy(all + s->n, v, n * sizeof(*v));
    s->n += n;
    int r = store_settle(s, diags);
    if (r < 0) {
        /* back to the caller, with any id renamed */
        s->n -= n;
        memcpy(v, all + s->n, n * sizeof(*v));
    }
    return r;
}

const struct tkl_action *tkl_store_find(const struct tkl_store *store, const char *id)
{
    size_t i = slot_lookup(store->index, store->index_cap, store->actions, id);
    return i == NO_SLOT ? NULL : &store->actions[i];
}

void tkl_store_free(struct tkl_store *store)
{
    if (!store)
        return;
    for (size_t i = 0; i < store->n; i++)
        tkl_action_free(&store->actions[i]);
    free(store->actions);
    free(store->index);
    free(store);
}

static void loader_release(struct loader *L)
{
    for (size_t i = 0; i < L->n_actions; i++)
        tkl_action_free(&L->actions[i]);
    free(L->actions);
    L->actions = NULL;
    L->n_actions = 0;
}

static int loader_finish(struct loader *L, struct tkl_store **ret_store)
{
    /* a warning that could not be recorded would be a row problem nobody
     * hears of: the load fails instead */
    if (L->diags->oom)
        return -ENOMEM;
    struct tkl_store *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->actions = L->actions;
    s->n = L->n_actions;
    L->actions = NULL;
    L->n_actions = 0;
    int r = store_settle(s, L->diags);
    if (r == 0 && L->diags->oom)
        r = -ENOMEM;
    if (r < 0) {
        tkl_store_free(s);
        return r;
    }
    *ret_store = s;
    return 0;
}

static void loader_done(struct loader *L)
{
    free(L->row.cells);
    tkl_buf_free(&L->cell);
    for (int f = 0; f < TKL_FIELD_COUNT; f++)
        free(L->fill[f]);
    loader_release(L);
}

int tkl_store_load_buffer(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                          const char *file, const char *data, size_t len,
                          struct tkl_store **ret_store, struct tkl_diags *diags)
{
    struct loader L = {.opts = opts, .teams = teams, .diags = diags, .file = file};
    int r = parse_buffer(&L, data, len);
    if (r == 0)
        r = loader_finish(&L, ret_store);
    loader_done(&L);
    return r;
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct tkl_buf b = {0};
    char chunk[65536];
    size_t n;
    int r = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((r = tkl_buf_append(&b, chunk, n)) < 0)
            break;
    if (r == 0 && ferror(f))
        r = -EIO;
    (void)fclose(f); /* read only: the data were checked with ferror() */
    if (r < 0) {
        tkl_buf_free(&b);
        return r;
    }
    *ret_len = b.len;
    *ret = tkl_buf_steal(&b);
    return *ret ? 0 : -ENOMEM;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expands a path: a file is itself; a directory is its *.csv, sorted. */
static int expand_path(const char *path, char ***files, size_t *n, struct tkl_diags *diags)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        int e = errno;
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "cannot read the store: %s", strerror(e));
        return -e;
    }
    if (!S_ISDIR(st.st_mode))
        return grow_strv(files, n, strdup(path));
    DIR *d = opendir(path);
    if (!d) {
        int e = errno;
        tkl_diag_add(diags, TKL_SEV_ERROR, path, 0, NULL, "cannot list the store directory: %s",
                     strerror(e));
        return -e;
    }
    size_t first = *n;
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d)) && r == 0) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 5 || strcasecmp(de->d_name + l - 4, ".csv") != 0)
            continue;
        char *full = NULL;
        if (asprintf(&full, "%s/%s", path, de->d_name) < 0)
            r = -ENOMEM;
        else
            r = grow_strv(files, n, full);
    }
    closedir(d);
    if (r == 0 && *n == first)
        tkl_diag_add(diags, TKL_SEV_WARNING, path, 0, NULL, "no .csv files in this directory");
    if (*n > first)
        qsort(*files + first, *n - first, sizeof(char *), cmp_cstr);
    return r;
}

int tkl_store_load(const struct tkl_store_opts *opts, const struct tkl_team_dir *teams,
                   struct tkl_store **ret_store, struct tkl_diags *diags)
{
    struct loader L = {.opts = opts, .teams = teams, .diags = diags};
    char **files = NULL;
    size_t n_files = 0;
    int r = 0, first_err = 0;

    for (size_t i = 0; i < opts->n_paths && r != -ENOMEM; i++) {
        r = expand_path(opts->paths[i], &files, &n_files, diags);
        if (r < 0 && !first_err)
            first_err = r;
    }
    for (size_t i = 0; i < n_files && r != -ENOMEM; i++) {
        char *data = NULL;
        size_t len = 0;
        L.file = files[i];
        r = read_file(files[i], &data, &len);
        if (r < 0) {
            if (r != -ENOMEM)
                tkl_diag_add(diags, TKL_SEV_ERROR, files[i], 0, NULL, "cannot read: %s",
                             strerror(-r));
        } else {
            r = parse_buffer(&L, data, len);
            free(data);
        }
        if (r < 0 && !first_err)
            first_err = r;
    }
    if (r == -ENOMEM)
        first_err = -ENOMEM;
    if (first_err == 0 && opts->n_paths == 0) {
        tkl_diag_add(diags, TKL_SEV_ERROR, NULL, 0, "store.files", "no store files configured");
        first_err = -EINVAL;
    }
    if (first_err == 0)
        first_err = loader_finish(&L, ret_store);
    loader_done(&L);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    return first_err;
}

void tkl_store_opts_free(struct tkl_store_opts *opts)
{
    if (!opts)
        return;
    for (size_t i = 0; i < opts->n_paths; i++)
        free(opts->paths[i]);
    free(opts->paths);
    for (int f = 0; f < TKL_FIELD_COUNT; f++)
        free(opts->columns[f]);
    for (size_t i = 0; i < opts->n_status_rules; i++)
        free(opts->status_rules[i].text);
    free(opts->status_rules);
    memset(opts, 0, sizeof(*opts));
}

#include "heading.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/text.h"
#include "store.h"

static const char *const field_names[TKL_FIELD_COUNT] = {
    [TKL_FIELD_ID] = "id",
    [TKL_FIELD_TITLE] = "title",
    [TKL_FIELD_COMMITMENT] = "commitment",
    [TKL_FIELD_OBJECTIVE] = "objective",
    [TKL_FIELD_OWNERS] = "owners",
    [TKL_FIELD_DEADLINE] = "deadline",
    [TKL_FIELD_STATUS] = "status",
    [TKL_FIELD_PROGRESS] = "progress",
    [TKL_FIELD_MEASURE] = "measure",
};

/* Built-in headings, compared by their key: the headings of the equality
 * plans of UK councils. A heading that could name two fields goes to the
 * one councils mean by it most often ("To be delivered by" names who,
 * beside a "Timescale" column); tickler check shows what each file gave. */
static const struct {
    enum tkl_field field;
    const char *heading;
    bool prefix; /* heading may continue: "Progress - 2022" */
} aliases[] = {
    {TKL_FIELD_ID, "id", false},
    {TKL_FIELD_ID, "ref", false},
    {TKL_FIELD_ID, "reference", false},
    {TKL_FIELD_ID, "ref no", false},
    {TKL_FIELD_ID, "no", false},
    {TKL_FIELD_ID, "action id", false},
    {TKL_FIELD_ID, "action ref", false},
    {TKL_FIELD_ID, "action no", false},
    {TKL_FIELD_ID, "action number", false},
    {TKL_FIELD_TITLE, "actions", false},
    {TKL_FIELD_TITLE, "action", false},
    {TKL_FIELD_TITLE, "action title", false},
    {TKL_FIELD_TITLE, "agreed actions", false},
    {TKL_FIELD_TITLE, "key actions", false},
    {TKL_FIELD_TITLE, "actions required", false},
    {TKL_FIELD_TITLE, "action required", false},
    {TKL_FIELD_TITLE, "what we will do", false},
    {TKL_FIELD_TITLE, "what will we do", false},
    {TKL_FIELD_TITLE, "title", false},
    {TKL_FIELD_COMMITMENT, "commitments", false},
    {TKL_FIELD_COMMITMENT, "commitment", false},
    {TKL_FIELD_COMMITMENT, "our commitment", false},
    {TKL_FIELD_OBJECTIVE, "objective", false},
    {TKL_FIELD_OBJECTIVE, "objectives", false},
    {TKL_FIELD_OBJECTIVE, "equality objective", false},
    {TKL_FIELD_OBJECTIVE, "strategic objective", false},
    {TKL_FIELD_OBJECTIVE, "aim", false},
    {TKL_FIELD_OBJECTIVE, "aims", false},
    {TKL_FIELD_OBJECTIVE, "aim objective", false},
    {TKL_FIELD_OBJECTIVE, "objective aim", false},
    {TKL_FIELD_OBJECTIVE, "goal", false},
    {TKL_FIELD_OBJECTIVE, "theme", false},
    {TKL_FIELD_OBJECTIVE, "section", false},
    {TKL_FIELD_OWNERS, "responsibility", false},
    {TKL_FIELD_OWNERS, "responsible service", false},
    {TKL_FIELD_OWNERS, "responsible", false},
    {TKL_FIELD_OWNERS, "responsible team", false},
    {TKL_FIELD_OWNERS, "responsible officer", false},
    {TKL_FIELD_OWNERS, "responsible officer s", false},
    {TKL_FIELD_OWNERS, "responsible officers", false},
    {TKL_FIELD_OWNERS, "accountable officer", false},
    {TKL_FIELD_OWNERS, "owner", false},
    {TKL_FIELD_OWNERS, "owners", false},
    {TKL_FIELD_OWNERS, "owner s", false},
    {TKL_FIELD_OWNERS, "action owner", false},
    {TKL_FIELD_OWNERS, "lead", false},
    {TKL_FIELD_OWNERS, "lead s", false},
    {TKL_FIELD_OWNERS, "lead officer", false},
    {TKL_FIELD_OWNERS, "lead officer s", false},
    {TKL_FIELD_OWNERS, "lead officers", false},
    {TKL_FIELD_OWNERS, "lead service", false},
    {TKL_FIELD_OWNERS, "lead team", false},
    {TKL_FIELD_OWNERS, "lead directorate", false},
    {TKL_FIELD_OWNERS, "service area", false},
    {TKL_FIELD_OWNERS, "who", false},
    {TKL_FIELD_OWNERS, "to be delivered by", false},
    {TKL_FIELD_OWNERS, "delivered by", false},
    {TKL_FIELD_DEADLINE, "timeframe", false},
    {TKL_FIELD_DEADLINE, "timescale", false},
    {TKL_FIELD_DEADLINE, "timescales", false},
    {TKL_FIELD_DEADLINE, "timescale s", false},
    {TKL_FIELD_DEADLINE, "timescale for delivery", false},
    {TKL_FIELD_DEADLINE, "timescales for delivery", false},
    {TKL_FIELD_DEADLINE, "deadline", false},
    {TKL_FIELD_DEADLINE, "due date", false},
    {TKL_FIELD_DEADLINE, "due by", false},
    {TKL_FIELD_DEADLINE, "target date", false},
    {TKL_FIELD_DEADLINE, "target completion date", false},
    {TKL_FIELD_DEADLINE, "completion date", false},
    {TKL_FIELD_DEADLINE, "delivery date", false},
    {TKL_FIELD_DEADLINE, "by when", false},
    {TKL_FIELD_DEADLINE, "when", false},
    {TKL_FIELD_STATUS, "status", false},
    {TKL_FIELD_STATUS, "rag status", false},
    {TKL_FIELD_STATUS, "rag", false},
    {TKL_FIELD_STATUS, "rag rating", false},
    {TKL_FIELD_STATUS, "current status", false},
    {TKL_FIELD_PROGRESS, "progress", true},
    {TKL_FIELD_PROGRESS, "latest update", false},
    {TKL_FIELD_PROGRESS, "update", false},
    {TKL_FIELD_PROGRESS, "updates", false},
    {TKL_FIELD_PROGRESS, "comments", false},
    {TKL_FIELD_PROGRESS, "current position", false},
    {TKL_FIELD_MEASURE, "measure of success", false},
    {TKL_FIELD_MEASURE, "measures of success", false},
    {TKL_FIELD_MEASURE, "success measure", false},
    {TKL_FIELD_MEASURE, "success measures", false},
    {TKL_FIELD_MEASURE, "success criteria", false},
    {TKL_FIELD_MEASURE, "how will we measure success", false},
    {TKL_FIELD_MEASURE, "how we will measure success", false},
    {TKL_FIELD_MEASURE, "what success looks like", false},
    {TKL_FIELD_MEASURE, "performance measure", false},
    {TKL_FIELD_MEASURE, "performance measures", false},
    {TKL_FIELD_MEASURE, "performance indicator", false},
    {TKL_FIELD_MEASURE, "performance indicators", false},
    {TKL_FIELD_MEASURE, "kpi", false},
    {TKL_FIELD_MEASURE, "kpis", false},
    {TKL_FIELD_MEASURE, "outcome", false},
    {TKL_FIELD_MEASURE, "outcomes", false},
    {TKL_FIELD_MEASURE, "expected outcome", false},
    {TKL_FIELD_MEASURE, "expected outcomes", false},
    {TKL_FIELD_MEASURE, "intended outcome", false},
    {TKL_FIELD_MEASURE, "intended outcomes", false},
};

const char *tkl_field_name(enum tkl_field f)
{
    return (unsigned)f < TKL_FIELD_COUNT ? field_names[f] : "?";
}

bool tkl_heading_key(const char *s, char *out, size_t size)
{
    size_t n = 0;
    bool space = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* the no-break spaces (U+00A0, U+2007, U+202F) part words too */
        if ((p[0] == 0xc2 && p[1] == 0xa0) ||
            (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x87 || p[2] == 0xaf))) {
            p += p[0] == 0xc2 ? 1 : 2;
            space = true;
            continue;
        }
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
    if (!tkl_heading_key(heading, key, sizeof(key)))
        return -1;
    for (int f = 0; opts && f < TKL_FIELD_COUNT && found < 0; f++)
        if (opts->columns[f] && tkl_heading_key(opts->columns[f], k, sizeof(k)) && !strcmp(k, key))
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

int tkl_column_map_make(const char *file, unsigned line, char *const *headings, const int *fields,
                        size_t n, struct tkl_column_map *ret)
{
    struct tkl_column_map m = {.line = line, .n = n};
    if (!(m.file = strdup(file)) || !(m.headings = calloc(n ? n : 1, sizeof(*m.headings))) ||
        !(m.fields = calloc(n ? n : 1, sizeof(*m.fields))))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!(m.headings[i] = tkl_text_clean(headings[i], true)))
            goto fail;
        m.fields[i] = fields[i];
    }
    *ret = m;
    return 0;
fail:
    tkl_column_map_free(&m);
    return -ENOMEM;
}

/* Writes a heading (plan text) to out as a terminal may show it
 * (tkl_text_printable). */
static void put_printable(FILE *out, const char *text)
{
    char *s = strdup(text);
    if (!s) {
        fputs("(out of memory)", out);
        return;
    }
    tkl_text_printable(s, strlen(s), true);
    fputs(s, out);
    free(s);
}

void tkl_column_map_print(const struct tkl_column_map *m, FILE *out)
{
    const char *sep = "";
    if (m->line) /* a Word table's row is named in the file field, with no line */
        fprintf(out, "%s:%u: headings: ", m->file, m->line);
    else
        fprintf(out, "%s: headings: ", m->file);
    for (size_t i = 0; i < m->n; i++)
        if (m->fields[i] >= 0 && m->fields[i] < TKL_FIELD_COUNT) {
            fprintf(out, "%s%s \u2190 \"", sep, field_names[m->fields[i]]);
            put_printable(out, m->headings[i]);
            fprintf(out, "\" (column %zu)", i + 1);
            sep = ", ";
        }
    sep = "; not read: ";
    for (size_t i = 0; i < m->n; i++)
        if (m->fields[i] < 0 && *m->headings[i]) {
            fprintf(out, "%s\"", sep);
            put_printable(out, m->headings[i]);
            fprintf(out, "\" (column %zu)", i + 1);
            sep = ", ";
        }
    fputc('\n', out);
}

void tkl_column_map_free(struct tkl_column_map *m)
{
    for (size_t i = 0; m->headings && i < m->n; i++)
        free(m->headings[i]);
    free(m->headings);
    free(m->fields);
    free(m->file);
    memset(m, 0, sizeof(*m));
}

#include "heading.h"

#include <ctype.h>
#include <string.h>

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
};

/* Built-in headings, compared by their key. */
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

bool tkl_heading_key(const char *s, char *out, size_t size)
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

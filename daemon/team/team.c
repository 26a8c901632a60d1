#include "team.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/text.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *tkl_team_key(const char *name)
{
    /* Lower-case, map & and + to " and ", everything else that is not a
     * letter or digit (or a UTF-8 byte) to a space. */
    struct tkl_buf b = {0};
    char **words = NULL;
    size_t n = 0;
    char *key = NULL;
    for (const unsigned char *p = (const unsigned char *)name; p && *p; p++) {
        int r;
        if (*p == '&' || *p == '+')
            r = tkl_buf_puts(&b, " and ");
        else if (isalnum(*p) || *p >= 0x80)
            r = tkl_buf_putc(&b, (char)tolower(*p));
        else
            r = tkl_buf_putc(&b, ' ');
        if (r < 0)
            goto out;
    }
    if (tkl_buf_putc(&b, '\0') < 0)
        goto out;
    size_t cap = b.len / 2 + 1;
    words = calloc(cap, sizeof(*words));
    if (!words)
        goto out;
    char *save = NULL;
    for (char *w = strtok_r(b.data, " ", &save); w; w = strtok_r(NULL, " ", &save))
        if (strcmp(w, "and") != 0)
            words[n++] = w;
    if (n > 1 && (!strcmp(words[n - 1], "team") || !strcmp(words[n - 1], "teams")))
        n--;
    qsort(words, n, sizeof(*words), cmp_str);
    struct tkl_buf k = {0};
    for (size_t i = 0; i < n; i++)
        if ((i && tkl_buf_putc(&k, ' ') < 0) || tkl_buf_puts(&k, words[i]) < 0) {
            tkl_buf_free(&k);
            goto out;
        }
    key = tkl_buf_steal(&k);
out:
    free(words);
    tkl_buf_free(&b);
    return key;
}

/* Length of an owner separator at s, or 0. */
static size_t separator_len(const char *s)
{
    static const char *const seps[] = {
        "/",
        ";",
        "\n",
        "\r",
        "|",
        "\xe2\x80\xa2", /* U+2022 bullet */
        "\xc2\xb7",     /* U+00B7 middle dot */
        "\xef\x82\xb7", /* U+F0B7, Word's Symbol-font bullet */
    };
    for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
        size_t n = strlen(seps[i]);
        if (strncmp(s, seps[i], n) == 0)
            return n;
    }
    return 0;
}

static int push_owner(const char *start, size_t len, char ***names, size_t *n)
{
    char *raw = strndup(start, len);
    if (!raw)
        return -ENOMEM;
    char *clean = tkl_text_clean(raw, true);
    free(raw);
    if (!clean)
        return -ENOMEM;
    /* list markers left at the start: "- HR", "* HR" */
    char *p = clean;
    while (*p == '-' || *p == '*' || *p == ' ')
        p++;
    if (!*p) {
        free(clean);
        return 0;
    }
    if (p != clean)
        memmove(clean, p, strlen(p) + 1);
    char **grown = realloc(*names, (*n + 1) * sizeof(**names));
    if (!grown) {
        free(clean);
        return -ENOMEM;
    }
    *names = grown;
    (*names)[(*n)++] = clean;
    return 0;
}

int tkl_owners_split(const char *cell, char ***ret_names, size_t *ret_n)
{
    char **names = NULL;
    size_t n = 0;
    const char *start = cell ? cell : "";
    const char *p = start;
    for (;;) {
        size_t sl = *p ? separator_len(p) : 0;
        if (*p == '\0' || sl) {
            if (push_owner(start, (size_t)(p - start), &names, &n) < 0)
                goto fail;
            if (*p == '\0')
                break;
            p += sl;
            start = p;
        } else {
            p++;
        }
    }
    *ret_names = names;
    *ret_n = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return -ENOMEM;
}

int tkl_team_add_key(struct tkl_team *t, const char *name)
{
    char *key = tkl_team_key(name);
    if (!key)
        return -ENOMEM;
    char **grown = realloc(t->keys, (t->n_keys + 1) * sizeof(*grown));
    if (!grown) {
        free(key);
        return -ENOMEM;
    }
    t->keys = grown;
    t->keys[t->n_keys++] = key;
    return 0;
}

int tkl_team_match(const struct tkl_team_dir *dir, const char *name, const struct tkl_team **ret)
{
    char *key = tkl_team_key(name);
    const struct tkl_team *found = NULL;
    if (!key)
        return -ENOMEM;
    for (size_t i = 0; *key && i < dir->n && !found; i++) {
        if (strcasecmp(dir->teams[i].id, name) == 0)
            found = &dir->teams[i];
        for (size_t k = 0; k < dir->teams[i].n_keys && !found; k++)
            if (strcmp(dir->teams[i].keys[k], key) == 0)
                found = &dir->teams[i];
    }
    free(key);
    *ret = found;
    return 0;
}

int tkl_team_match_list(const struct tkl_team_dir *dir, const char *name,
                        const struct tkl_team **ret_teams, size_t max, size_t *ret_n)
{
    const struct tkl_team *t = NULL;
    int r = tkl_team_match(dir, name, &t);
    if (r < 0)
        return r;
    if (t || !strchr(name, ',')) {
        if (t && max)
            ret_teams[0] = t;
        *ret_n = t && max ? 1 : 0;
        return 0;
    }
    char *copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    /* segment boundaries at each comma */
    char *seg[64];
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(copy, ",", &save); p && n < 64; p = strtok_r(NULL, ",", &save))
        seg[n++] = p;
    size_t found = 0, i = 0;
    struct tkl_buf b = {0};
    while (i < n && found < max) {
        size_t j;
        const struct tkl_team *m = NULL;
        for (j = n; j > i && !m; j--) {
            tkl_buf_reset(&b);
            for (size_t k = i; k < j; k++)
                if ((k > i && tkl_buf_putc(&b, ',') < 0) || tkl_buf_puts(&b, seg[k]) < 0) {
                    r = -ENOMEM;
                    goto out;
                }
            if ((r = tkl_team_match(dir, b.data, &m)) < 0)
                goto out;
        }
        if (!m)
            break;
        ret_teams[found++] = m;
        i = j + 1;
    }
    *ret_n = i < n ? 0 : found; /* a partial reading is no reading */
out:
    tkl_buf_free(&b);
    free(copy);
    return r;
}

const struct tkl_team *tkl_team_find(const struct tkl_team_dir *dir, const char *id)
{
    for (size_t i = 0; id && i < dir->n; i++)
        if (strcmp(dir->teams[i].id, id) == 0)
            return &dir->teams[i];
    return NULL;
}

bool tkl_team_lists(const struct tkl_team *t, const char *address)
{
    for (size_t i = 0; t && i < t->n_recipients; i++)
        if (!strcasecmp(t->recipients[i].address, address))
            return true;
    return false;
}

void tkl_team_dir_free(struct tkl_team_dir *dir)
{
    if (!dir)
        return;
    for (size_t i = 0; i < dir->n; i++) {
        struct tkl_team *t = &dir->teams[i];
        free(t->id);
        free(t->name);
        for (size_t k = 0; k < t->n_keys; k++)
            free(t->keys[k]);
        free(t->keys);
        for (size_t k = 0; k < t->n_recipients; k++) {
            free(t->recipients[k].channel);
            free(t->recipients[k].address);
        }
        free(t->recipients);
        free(t->escalate_to);
    }
    free(dir->teams);
    free(dir->fallback);
    memset(dir, 0, sizeof(*dir));
}

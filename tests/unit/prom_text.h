/*
 * Shared by the unit tests of /metrics: a strict reader of the Prometheus
 * text format (version 0.0.4), as a scraper reads it. prom_check() asserts
 * what the format and STYLE.md ask of the whole text: HELP then TYPE
 * before each family, each family in one block, sample names and label
 * syntax, label values escaped (only \\, \" and \n), counters ending in
 * _total, histogram buckets cumulative with le ascending up to +Inf and
 * +Inf equal to _count. prom_value() reads one sample's value.
 */
#ifndef TKL_PROM_TEXT_H
#define TKL_PROM_TEXT_H

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_LABELS 8

/* ck_assert_msg without its mark point (a write to check's pipe per
 * call, too slow for every character of a long text). */
#define PROM_REQUIRE(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

struct prom_sample {
    char name[128];
    char label[PROM_MAX_LABELS][2][256]; /* name, decoded value */
    size_t n_labels;
    double value;
};

static inline bool prom_name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/* Reads a metric or label name at *p into out; advances *p. */
static inline void prom_read_name(const char **p, char *out, size_t size)
{
    size_t n = 0;
    PROM_REQUIRE(prom_name_char(**p, true), "a name expected at \"%.40s\"", *p);
    while (prom_name_char(**p, n == 0)) {
        PROM_REQUIRE(n + 1 < size, "too long");
        out[n++] = *(*p)++;
    }
    out[n] = '\0';
}

/* Reads a quoted label value at *p, decoding its escapes; advances *p. */
static inline void prom_read_value(const char **p, char *out, size_t size)
{
    size_t n = 0;
    PROM_REQUIRE(**p == '"', "a quoted label value expected at \"%.40s\"", *p);
    for ((*p)++; **p != '"'; (*p)++) {
        char c = **p;
        PROM_REQUIRE(c != '\0' && c != '\n', "unterminated label value");
        if (c == '\\') {
            c = *++(*p);
            PROM_REQUIRE(c == '\\' || c == '"' || c == 'n', "bad escape \\%c", c);
            c = c == 'n' ? '\n' : c;
        }
        PROM_REQUIRE(n + 1 < size, "too long");
        out[n++] = c;
    }
    (*p)++;
    out[n] = '\0';
}

/* Parses one sample line (without its newline). */
static inline void prom_parse(const char *line, struct prom_sample *ret)
{
    const char *p = line;
    memset(ret, 0, sizeof(*ret));
    prom_read_name(&p, ret->name, sizeof(ret->name));
    if (*p == '{') {
        p++;
        while (*p != '}') {
            PROM_REQUIRE(ret->n_labels < PROM_MAX_LABELS, "too many labels in \"%s\"", line);
            prom_read_name(&p, ret->label[ret->n_labels][0], sizeof(ret->label[0][0]));
            for (size_t i = 0; i < ret->n_labels; i++)
                PROM_REQUIRE(strcmp(ret->label[i][0], ret->label[ret->n_labels][0]) != 0,
                             "label repeated in \"%s\"", line);
            PROM_REQUIRE(*p++ == '=', "'=' expected in \"%s\"", line);
            prom_read_value(&p, ret->label[ret->n_labels][1], sizeof(ret->label[0][1]));
            ret->n_labels++;
            PROM_REQUIRE(*p == ',' || *p == '}', "',' or '}' expected in \"%s\"", line);
            if (*p == ',')
                p++;
        }
        p++;
    }
    PROM_REQUIRE(*p++ == ' ', "one space before the value in \"%s\"", line);
    char *end = NULL;
    ret->value = strcmp(p, "+Inf") == 0 ? INFINITY : strtod(p, &end);
    PROM_REQUIRE(isinf(ret->value) || (end != p && *end == '\0'), "bad value in \"%s\"", line);
}

/* The value of label name in s, or NULL. */
static inline const char *prom_label(const struct prom_sample *s, const char *name)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->label[i][0], name) == 0)
            return s->label[i][1];
    return NULL;
}

/* s's labels other than le, as one string: which histogram series. */
static inline void prom_series_key(const struct prom_sample *s, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->label[i][0], "le") != 0) {
            size_t n = strlen(out);
            snprintf(out + n, size - n, "%s=%s;", s->label[i][0], s->label[i][1]);
        }
}

static inline bool prom_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The family a sample of a family of type type belongs to. */
static inline void prom_family_of(const char *name, const char *type, char *out, size_t size)
{
    snprintf(out, size, "%s", name);
    if (strcmp(type, "histogram") != 0)
        return;
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++)
        if (prom_ends_with(out, suffixes[i])) {
            out[strlen(out) - strlen(suffixes[i])] = '\0';
            return;
        }
}

struct prom_reader {
    char family[128], type[16];
    char seen[64][128]; /* families met, to refuse a second block */
    size_t n_seen;
    char bucket_key[1024];
    double bucket_last, bucket_le; /* the series' last bucket value and bound */
    bool bucket_inf;               /* +Inf met for bucket_key */
};

static inline void prom_comment(struct prom_reader *r, const char *line)
{
    char name[128], rest[16];
    const char *p = line + 7;
    if (strncmp(line, "# HELP ", 7) == 0) {
        prom_read_name(&p, name, sizeof(name));
        PROM_REQUIRE(*p == ' ', "HELP text expected: \"%s\"", line);
        for (size_t i = 0; i < r->n_seen; i++)
            PROM_REQUIRE(strcmp(r->seen[i], name) != 0, "family %s in two blocks", name);
        PROM_REQUIRE(r->n_seen < 64, "too many families");
        snprintf(r->seen[r->n_seen++], sizeof(r->seen[0]), "%s", name);
        snprintf(r->family, sizeof(r->family), "%s", name);
        r->type[0] = '\0';
    } else if (strncmp(line, "# TYPE ", 7) == 0) {
        prom_read_name(&p, name, sizeof(name));
        PROM_REQUIRE(strcmp(name, r->family) == 0 && !r->type[0], "TYPE %s not after its HELP",
                     name);
        PROM_REQUIRE(sscanf(p, " %15s", rest) == 1, "no type: \"%s\"", line);
        PROM_REQUIRE(!strcmp(rest, "counter") || !strcmp(rest, "gauge") ||
                         !strcmp(rest, "histogram"),
                     "type %s", rest);
        snprintf(r->type, sizeof(r->type), "%s", rest);
        PROM_REQUIRE(strcmp(rest, "counter") != 0 || prom_ends_with(name, "_total"),
                     "counter %s does not end in _total", name);
    } else
        ck_abort_msg("a comment that is neither HELP nor TYPE: \"%s\"", line);
}

/* Checks one histogram sample against the buckets before it. */
static inline void prom_histogram(struct prom_reader *r, const struct prom_sample *s)
{
    char key[1024];
    prom_series_key(s, key, sizeof(key));
    if (prom_ends_with(s->name, "_bucket")) {
        const char *le = prom_label(s, "le");
        PROM_REQUIRE(le != NULL, "bucket without le");
        double bound = strcmp(le, "+Inf") == 0 ? INFINITY : strtod(le, NULL);
        if (strcmp(key, r->bucket_key) != 0) {
            PROM_REQUIRE(r->bucket_key[0] == '\0' || r->bucket_inf, "no +Inf bucket");
            snprintf(r->bucket_key, sizeof(r->bucket_key), "%s", key);
            r->bucket_last = 0;
            r->bucket_le = -INFINITY;
            r->bucket_inf = false;
        }
        PROM_REQUIRE(bound > r->bucket_le, "le %s not ascending", le);
        PROM_REQUIRE(s->value >= r->bucket_last, "buckets not cumulative at le=%s", le);
        r->bucket_le = bound;
        r->bucket_last = s->value;
        r->bucket_inf = isinf(bound);
    } else {
        PROM_REQUIRE(strcmp(key, r->bucket_key) == 0 && r->bucket_inf,
                     "%s without the buckets before it", s->name);
        if (prom_ends_with(s->name, "_count"))
            PROM_REQUIRE(s->value == r->bucket_last, "_count is not the +Inf bucket");
    }
}

/* Checks the whole exposition text; returns its number of samples. */
static inline size_t prom_check(const char *text)
{
    struct prom_reader r;
    size_t samples = 0;
    memset(&r, 0, sizeof(r));
    PROM_REQUIRE(*text && text[strlen(text) - 1] == '\n', "text must end with a newline");
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        char line[2048];
        PROM_REQUIRE((size_t)(nl - p) < sizeof(line), "line too long");
        memcpy(line, p, (size_t)(nl - p));
        line[nl - p] = '\0';
        p = nl + 1;
        if (line[0] == '#') {
            prom_comment(&r, line);
            continue;
        }
        struct prom_sample s;
        char family[128];
        prom_parse(line, &s);
        PROM_REQUIRE(r.type[0], "sample %s before any HELP and TYPE", s.name);
        prom_family_of(s.name, r.type, family, sizeof(family));
        PROM_REQUIRE(strcmp(family, r.family) == 0, "sample %s not under its HELP and TYPE",
                     s.name);
        if (strcmp(r.type, "histogram") == 0)
            prom_histogram(&r, &s);
        samples++;
    }
    return samples;
}

/*
 * The value of the sample named name whose labels are exactly the
 * (name, value) pairs given, ended by NULL; -1 when there is none.
 */
static inline double prom_value(const char *text, const char *name, ...)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        char line[2048];
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        PROM_REQUIRE(n < sizeof(line), "line too long");
        memcpy(line, p, n);
        line[n] = '\0';
        p += nl ? n + 1 : n;
        struct prom_sample s;
        if (line[0] == '#' || !line[0])
            continue;
        prom_parse(line, &s);
        if (strcmp(s.name, name) != 0)
            continue;
        va_list ap;
        va_start(ap, name);
        size_t matched = 0;
        bool all = true;
        for (const char *k; (k = va_arg(ap, const char *));) {
            const char *v = va_arg(ap, const char *), *got = prom_label(&s, k);
            all &= got && strcmp(got, v) == 0;
            matched++;
        }
        va_end(ap);
        if (all && matched == s.n_labels)
            return s.value;
    }
    return -1;
}

#endif

#include "deadline.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/day.h"
#include "../core/text.h"

enum tok_type { TOK_NUM, TOK_WORD, TOK_SEP };

struct tok {
    enum tok_type type;
    char text[16]; /* words are lower-cased; longer ones truncated */
    int len;       /* length in the source */
    long value;    /* TOK_NUM */
    char sep;      /* TOK_SEP */
};

#define MAX_TOKS 12

const char *tkl_deadline_problem(const struct tkl_deadline *d)
{
    switch ((enum tkl_deadline_problem)d->problem) {
    case TKL_DEADLINE_UNDERSTOOD:
        break;
    case TKL_DEADLINE_NO_SUCH_DATE:
        return "no such date";
    case TKL_DEADLINE_UNREADABLE:
        return "not a deadline tickler can read (expected e.g. \"April 2023\", "
               "\"30/04/2023\", \"2023/24\", \"Q1 2023/24\", \"Ongoing\" or \"TBC\")";
    case TKL_DEADLINE_NO_YEAR:
        return "a day and month with no year, or a month with its year in two digits after a "
               "space (expected e.g. \"30 April 2024\", \"April 2024\" or \"Apr-24\")";
    case TKL_DEADLINE_CENTURY:
        return "a two-digit year from 70 to 99, whose century tickler does not guess (write the "
               "year in full)";
    }
    return NULL;
}

void tkl_deadline_clear(struct tkl_deadline *d)
{
    if (!d)
        return;
    free(d->note);
    d->note = NULL;
}

/* Splits s into tokens. Returns the count, or -1 when s holds a character
 * no deadline form uses or too many tokens. */
static int tokenize(const char *s, struct tok *toks)
{
    int n = 0;
    while (*s) {
        unsigned char c = (unsigned char)*s;
        if (c == ' ' || c == ',') {
            s++;
            continue;
        }
        if (n == MAX_TOKS)
            return -1;
        struct tok *t = &toks[n];
        memset(t, 0, sizeof(*t));
        if (isdigit(c)) {
            t->type = TOK_NUM;
            while (isdigit((unsigned char)s[t->len]) && t->len < 9)
                t->len++;
            if (isdigit((unsigned char)s[t->len]))
                return -1;
            memcpy(t->text, s, (size_t)t->len);
            t->value = strtol(t->text, NULL, 10);
        } else if (isalpha(c)) {
            t->type = TOK_WORD;
            while (isalpha((unsigned char)s[t->len])) {
                if (t->len < (int)sizeof(t->text) - 1)
                    t->text[t->len] = (char)tolower((unsigned char)s[t->len]);
                t->len++;
            }
            /* "Sept." and "Apr." */
            if (s[t->len] == '.' && !isdigit((unsigned char)s[t->len + 1]))
                t->len++;
        } else if (c == '/' || c == '-' || c == '.') {
            t->type = TOK_SEP;
            t->sep = (char)c;
            t->len = 1;
        } else {
            return -1;
        }
        s += t->len;
        n++;
    }
    return n;
}

static int month_from_word(const char *w)
{
    static const char *const names[12][3] = {
        {"jan", "january", NULL}, {"feb", "february", NULL}, {"mar", "march", NULL},
        {"apr", "april", NULL},   {"may", NULL, NULL},       {"jun", "june", NULL},
        {"jul", "july", NULL},    {"aug", "august", NULL},   {"sep", "sept", "september"},
        {"oct", "october", NULL}, {"nov", "november", NULL}, {"dec", "december", NULL},
    };
    for (int m = 0; m < 12; m++)
        for (int k = 0; k < 3 && names[m][k]; k++)
            if (strcmp(w, names[m][k]) == 0)
                return m + 1;
    return 0;
}

static bool is_ordinal(const char *w)
{
    return !strcmp(w, "st") || !strcmp(w, "nd") || !strcmp(w, "rd") || !strcmp(w, "th");
}

/* A year written with 4 digits, or 2 (2000 to 2069). Returns it, 0 when t
 * is no year, or -TKL_DEADLINE_CENTURY for two digits from 70. */
static int year_of(const struct tok *t)
{
    if (t->type != TOK_NUM)
        return 0;
    if (t->len == 4 && t->value >= 1900 && t->value <= 2199)
        return (int)t->value;
    if (t->len == 2)
        return t->value < 70 ? 2000 + (int)t->value : -TKL_DEADLINE_CENTURY;
    return 0;
}

/* "2023/24", "2023/2024", "2023-24": the later calendar year, or 0. */
static int fy_end_year(const struct tok *t, int n)
{
    if (n != 3 || t[0].type != TOK_NUM || t[0].len != 4 || t[1].type != TOK_SEP ||
        (t[1].sep != '/' && t[1].sep != '-') || t[2].type != TOK_NUM)
        return 0;
    int first = (int)t[0].value;
    int second;
    if (t[2].len == 2) {
        second = first / 100 * 100 + (int)t[2].value;
        if (second <= first) /* 2099/00 */
            second += 100;
    } else if (t[2].len == 4) {
        second = (int)t[2].value;
    } else {
        return 0;
    }
    if (second != first + 1)
        return 0;
    return second;
}

static int32_t month_end(int y, int m)
{
    return tkl_day_from_civil(y, m, tkl_days_in_month(y, m));
}

/* Drops "of" and the ordinal suffix after a number ("30th" -> "30");
 * returns the count of tokens left. */
static int drop_fillers(struct tok *t, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (t[i].type == TOK_WORD && i > 0 && t[i - 1].type == TOK_NUM && is_ordinal(t[i].text))
            continue;
        if (t[i].type == TOK_WORD && !strcmp(t[i].text, "of"))
            continue;
        t[k++] = t[i];
    }
    return k;
}

/*
 * Each match_* below reads one of the forms in deadline.h. Returns 1 with
 * *ret_day set, 0 when t is not in that form, -1 when it is but the date
 * is impossible. The forms differ in their first tokens or their count, so
 * at most one of them answers anything but 0 and their order does not
 * matter.
 */

/* A valid civil date, as a match_* answers. */
static int civil_day(int y, int m, int d, int32_t *ret_day)
{
    if (!tkl_civil_valid(y, m, d))
        return -TKL_DEADLINE_NO_SUCH_DATE;
    *ret_day = tkl_day_from_civil(y, m, d);
    return 1;
}

/* FY 2023/24 */
static int match_fy_prefix(const struct tok *t, int n, int32_t *ret_day)
{
    if (n < 1 || t[0].type != TOK_WORD || strcmp(t[0].text, "fy") != 0)
        return 0;
    int y = fy_end_year(t + 1, n - 1);
    if (!y)
        return 0;
    *ret_day = tkl_day_from_civil(y, 3, 31);
    return 1;
}

/* Q3 2023, Q1 2023/24 */
static int match_quarter(const struct tok *t, int n, int32_t *ret_day)
{
    if (!(n >= 3 && t[0].type == TOK_WORD && !strcmp(t[0].text, "q") && t[1].type == TOK_NUM &&
          t[1].value >= 1 && t[1].value <= 4 && t[1].len == 1))
        return 0;
    int q = (int)t[1].value;
    if (n == 3 && t[2].type == TOK_NUM && t[2].len == 4 && year_of(&t[2])) {
        *ret_day = month_end((int)t[2].value, q * 3);
        return 1;
    }
    int later = fy_end_year(t + 2, n - 2);
    if (!later)
        return 0;
    int m = (q * 3 + 3 - 1) % 12 + 1; /* Q1 -> June, Q4 -> March */
    int y = q == 4 ? later : later - 1;
    *ret_day = month_end(y, m);
    return 1;
}

/* ISO 2023-04-30 */
static int match_iso(const struct tok *t, int n, int32_t *ret_day)
{
    if (!(n == 5 && t[0].type == TOK_NUM && t[0].len == 4 && t[1].type == TOK_SEP &&
          t[1].sep == '-' && t[2].type == TOK_NUM && t[3].type == TOK_SEP && t[3].sep == '-' &&
          t[4].type == TOK_NUM))
        return 0;
    return civil_day((int)t[0].value, (int)t[2].value, (int)t[4].value, ret_day);
}

/* UK 30/04/2023, 30-04-23, 30.04.2023 */
static int match_uk(const struct tok *t, int n, int32_t *ret_day)
{
    if (!(n == 5 && t[0].type == TOK_NUM && t[0].len <= 2 && t[1].type == TOK_SEP &&
          t[2].type == TOK_NUM && t[2].len <= 2 && t[3].type == TOK_SEP && t[3].sep == t[1].sep &&
          t[4].type == TOK_NUM))
        return 0;
    int y = year_of(&t[4]);
    if (y <= 0)
        return y;
    return civil_day(y, (int)t[2].value, (int)t[0].value, ret_day);
}

/* financial year 2023/24, 2023/2024, 2023-24 */
static int match_fy(const struct tok *t, int n, int32_t *ret_day)
{
    int fy = fy_end_year(t, n);
    if (!fy)
        return 0;
    *ret_day = tkl_day_from_civil(fy, 3, 31);
    return 1;
}

/* 30 April 2023 (and 30 April, which has no year) */
static int match_day_month_year(const struct tok *t, int n, int32_t *ret_day)
{
    if (n == 2 && t[0].type == TOK_NUM && t[0].len <= 2 && t[1].type == TOK_WORD &&
        month_from_word(t[1].text))
        return -TKL_DEADLINE_NO_YEAR;
    if (!(n == 3 && t[0].type == TOK_NUM && t[0].len <= 2 && t[1].type == TOK_WORD &&
          month_from_word(t[1].text) && year_of(&t[2]) && t[2].len == 4))
        return 0;
    return civil_day(year_of(&t[2]), month_from_word(t[1].text), (int)t[0].value, ret_day);
}

/* April 30 2023 */
static int match_month_day_year(const struct tok *t, int n, int32_t *ret_day)
{
    if (!(n == 3 && t[0].type == TOK_WORD && month_from_word(t[0].text) && t[1].type == TOK_NUM &&
          t[1].len <= 2 && t[2].type == TOK_NUM && t[2].len == 4 && year_of(&t[2])))
        return 0;
    return civil_day((int)t[2].value, month_from_word(t[0].text), (int)t[1].value, ret_day);
}

/* April 2023, Apr-23, Sept 2023 (and April 30, June 10th: a month and a
 * day with no year, not a year in two digits) */
static int match_month_year(const struct tok *t, int n, int32_t *ret_day)
{
    if (!((n == 2 || (n == 3 && t[1].type == TOK_SEP && t[1].sep != '.')) &&
          t[0].type == TOK_WORD && month_from_word(t[0].text)))
        return 0;
    if (n == 2 && t[1].type == TOK_NUM && t[1].len <= 2)
        return -TKL_DEADLINE_NO_YEAR;
    int y = year_of(&t[n - 1]);
    if (y <= 0)
        return y;
    *ret_day = month_end(y, month_from_word(t[0].text));
    return 1;
}

/* 2024 */
static int match_year(const struct tok *t, int n, int32_t *ret_day)
{
    if (!(n == 1 && t[0].type == TOK_NUM && t[0].len == 4 && year_of(&t[0])))
        return 0;
    *ret_day = tkl_day_from_civil((int)t[0].value, 12, 31);
    return 1;
}

/* Excel serial day number (1900 date system), 1954 to 2119 */
static int match_excel_serial(const struct tok *t, int n, int32_t *ret_day)
{
    if (!(n == 1 && t[0].type == TOK_NUM && t[0].len == 5 && t[0].value >= 20000 &&
          t[0].value <= 80000))
        return 0;
    *ret_day = tkl_day_from_civil(1899, 12, 30) + (int32_t)t[0].value;
    return 1;
}

/*
 * Matches the token forms listed in deadline.h, after dropping fillers
 * from t. Returns 1 with *ret_day set, 0 when no form matches, or minus
 * the problem (enum tkl_deadline_problem) of a form that matches but
 * gives no date.
 */
static int match_date(struct tok *t, int n, int32_t *ret_day)
{
    static int (*const forms[])(const struct tok *, int, int32_t *) = {
        match_fy_prefix,
        match_quarter,
        match_iso,
        match_uk,
        match_fy,
        match_day_month_year,
        match_month_day_year,
        match_month_year,
        match_year,
        match_excel_serial,
    };
    n = drop_fillers(t, n);
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        int r = forms[i](t, n, ret_day);
        if (r != 0)
            return r;
    }
    return 0;
}

static bool starts_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    return strncasecmp(s, word, n) == 0 && !isalpha((unsigned char)s[n]);
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == ':' || *s == '-')
        s++;
    return s;
}

int tkl_deadline_parse(const char *text, struct tkl_deadline *ret)
{
    struct tkl_deadline d = {.kind = TKL_DEADLINE_UNDATED, .day = TKL_NO_DAY};
    char *clean = tkl_text_clean(text, true);
    if (!clean)
        return -ENOMEM;

    /* trailing note in brackets */
    size_t len = strlen(clean);
    if (len > 0 && clean[len - 1] == ')') {
        char *open = strrchr(clean, '(');
        if (open) {
            clean[len - 1] = '\0';
            d.note = tkl_text_clean(open + 1, true);
            if (!d.note) {
                free(clean);
                return -ENOMEM;
            }
            *open = '\0';
            len = strlen(clean);
            while (len > 0 && clean[len - 1] == ' ')
                clean[--len] = '\0';
        }
    }
    while (len > 0 && (clean[len - 1] == '.' || clean[len - 1] == ' ' || clean[len - 1] == '-'))
        clean[--len] = '\0';
    if (!len && d.note) { /* "(April 2023)": the bracket is the deadline */
        free(clean);
        clean = d.note;
        d.note = NULL;
    }

    const char *s = clean;
    if (!*s || !strcasecmp(s, "tbc") || !strcasecmp(s, "tba") || !strcasecmp(s, "tbd") ||
        !strcasecmp(s, "to be confirmed") || !strcasecmp(s, "to be agreed")) {
        goto done;
    }
    /* "Ongoing", "Ongoing project": no date; "Ongoing until March 2024",
     * "Ongoing - review April 2024": that date, the word kept as a note */
    bool ongoing = starts_word(s, "ongoing");
    if (ongoing) {
        s = skip_spaces(s + 7);
        static const char *const joins[] = {"until", "till", "til", "to", "through", "with", "and"};
        for (size_t i = 0; i < sizeof(joins) / sizeof(joins[0]); i++)
            if (starts_word(s, joins[i])) {
                s = skip_spaces(s + strlen(joins[i]));
                break;
            }
    }
    enum tkl_deadline_kind kind = TKL_DEADLINE_DATE;
    if (starts_word(s, "review")) {
        kind = TKL_DEADLINE_REVIEW;
        s = skip_spaces(s + 6);
        if (starts_word(s, "by") || starts_word(s, "in"))
            s = skip_spaces(s + 2);
    }
    for (;;) {
        if (starts_word(s, "by") || starts_word(s, "due")) {
            s = skip_spaces(s + (s[0] == 'b' || s[0] == 'B' ? 2 : 3));
        } else if (starts_word(s, "deadline")) {
            s = skip_spaces(s + 8);
        } else if (starts_word(s, "end") && starts_word(skip_spaces(s + 3), "of")) {
            s = skip_spaces(skip_spaces(s + 3) + 2);
        } else {
            break;
        }
    }

    struct tok toks[MAX_TOKS];
    int n = tokenize(s, toks);
    int32_t day = TKL_NO_DAY;
    int r = n > 0 ? match_date(toks, n, &day) : 0;
    if (r == 1) {
        d.kind = kind;
        d.day = day;
        if (ongoing && !d.note && !(d.note = strdup("ongoing"))) {
            free(clean);
            return -ENOMEM;
        }
    } else if (ongoing && r == 0) {
        d.kind = TKL_DEADLINE_ONGOING; /* words, no date */
    } else {
        d.problem = r < 0 ? (uint8_t)-r : TKL_DEADLINE_UNREADABLE;
    }
done:
    free(clean);
    *ret = d;
    return 0;
}

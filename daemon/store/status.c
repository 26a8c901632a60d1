#include "status.h"

#include <ctype.h>
#include <string.h>

#include "heading.h"
#include "store.h"

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

/* Whether key is the councils' "Complete/on schedule to deliver", said of
 * work on schedule as much as of work done: still reminded. */
static bool done_or_on_schedule(const char *key)
{
    return starts_with_word(key, "complete on schedule") ||
           starts_with_word(key, "complete or on schedule") ||
           starts_with_word(key, "complete on track") ||
           starts_with_word(key, "complete or on track");
}

/* The built-in wording, from the councils' plans and progress reports:
 * sets *ret and returns true when key (a heading key) is known. */
static bool builtin_status(const char *key, enum tkl_status *ret)
{
    if (strstr(key, "cannot be carried forward") || starts_with_word(key, "cancelled") ||
        starts_with_word(key, "canceled") || starts_with_word(key, "closed") ||
        starts_with_word(key, "withdrawn") || starts_with_word(key, "superseded") ||
        starts_with_word(key, "no longer required"))
        *ret = TKL_STATUS_CLOSED;
    else if (!done_or_on_schedule(key) &&
             (starts_with_word(key, "complete") || starts_with_word(key, "completed") ||
              starts_with_word(key, "done") || starts_with_word(key, "achieved") ||
              starts_with_word(key, "delivered")))
        *ret = TKL_STATUS_COMPLETE;
    else if (!*key || done_or_on_schedule(key) || starts_with_word(key, "ongoing") ||
             starts_with_word(key, "new") || starts_with_word(key, "active") ||
             starts_with_word(key, "open") || starts_with_word(key, "in progress") ||
             starts_with_word(key, "not started") || starts_with_word(key, "on track") ||
             starts_with_word(key, "on hold") || starts_with_word(key, "delayed") ||
             starts_with_word(key, "at risk") || starts_with_word(key, "incomplete") ||
             starts_with_word(key, "red") || starts_with_word(key, "amber") ||
             starts_with_word(key, "green") || starts_with_word(key, "a watching brief"))
        *ret = TKL_STATUS_ACTIVE;
    else
        return false;
    return true;
}

enum tkl_status tkl_status_parse(const struct tkl_store_opts *opts, const char *text,
                                 bool *ret_known)
{
    char key[512], k[512];
    /* a longer text is matched by its beginning */
    bool whole = tkl_heading_key(text ? text : "", key, sizeof(key));
    for (size_t i = 0; whole && opts && i < opts->n_status_rules; i++) {
        if (tkl_heading_key(opts->status_rules[i].text, k, sizeof(k)) && strcmp(k, key) == 0) {
            *ret_known = true;
            return opts->status_rules[i].status;
        }
    }
    enum tkl_status st = TKL_STATUS_ACTIVE;
    *ret_known = builtin_status(key, &st);
    return st;
}

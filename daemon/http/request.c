#include "request.h"

#include <errno.h>
#include <string.h>

#include "../core/text.h"
#include "../update/update.h"

static const char *const route_paths[TKL_ROUTE_COUNT] = {
    [TKL_ROUTE_INDEX] = "/",
    [TKL_ROUTE_CALENDAR_ICS] = "/calendar.ics",
    [TKL_ROUTE_CATEGORY_ICS] = "/calendar/{category}.ics",
    [TKL_ROUTE_CALENDAR_HTML] = "/calendar.html",
    [TKL_ROUTE_STATUS_HTML] = "/status",
    [TKL_ROUTE_STATUS_JSON] = "/status.json",
    [TKL_ROUTE_OUTBOX] = "/outbox",
    [TKL_ROUTE_METRICS] = "/metrics",
    [TKL_ROUTE_HEALTH] = "/healthz",
    [TKL_ROUTE_ACT] = "/a/{token}",
    [TKL_ROUTE_REPORT] = "/report",
};

/* The query keys each route takes, space-separated. */
static const char *const route_keys[TKL_ROUTE_COUNT] = {
    [TKL_ROUTE_STATUS_HTML] = "team state", [TKL_ROUTE_STATUS_JSON] = "team state",
    [TKL_ROUTE_OUTBOX] = "state",           [TKL_ROUTE_CALENDAR_HTML] = "year",
    [TKL_ROUTE_ACT] = "done same",          [TKL_ROUTE_REPORT] = "from to format",
};

/* Whether route ignores a query key it does not take: the calendar feeds,
 * whose address calendar clients and shared links add their own
 * arguments to, and a link's page, whose address mail gateways and
 * trackers add theirs to (utm_source=...): the officer gets the page. */
static bool query_ignored(enum tkl_route route)
{
    return route == TKL_ROUTE_CALENDAR_ICS || route == TKL_ROUTE_CATEGORY_ICS ||
           route == TKL_ROUTE_ACT;
}

/* The fields of the forms of a link's page (web/act.c). */
static const struct tkl_form_field act_fields[] = {
    {"token", TKL_TOKEN_MAX, false},
    {"do", 16, false},
    {"snooze", 8, false},
    {"until", 10, false},
    {"shown", 10, false},
    {"rag", 8, false},
    {"note", TKL_UPDATE_BYTES(TKL_UPDATE_NOTE_MAX), true},
    {"suggested", TKL_UPDATE_BYTES(TKL_UPDATE_SUGGESTED_MAX), false},
};
static const struct tkl_form_spec act_form = {act_fields,
                                              sizeof(act_fields) / sizeof(act_fields[0])};

const struct tkl_form_spec *tkl_route_form(enum tkl_route route)
{
    return route == TKL_ROUTE_ACT ? &act_form : NULL;
}

bool tkl_token_text_valid(const char *s)
{
    size_t n = strnlen(s, TKL_TOKEN_MAX + 1);
    if (n == 0 || n > TKL_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

size_t tkl_token_trailing(const char *s, size_t n)
{
    static const char *const quotes[] = {"\xe2\x80\x99", "\xe2\x80\x9d", "\xc2\xbb"};
    size_t end = n;
    while (end > 0) {
        size_t cut = strchr(".,;:!?)]>\"'", s[end - 1]) && s[end - 1] ? 1 : 0;
        for (size_t i = 0; !cut && i < sizeof(quotes) / sizeof(quotes[0]); i++) {
            size_t q = strlen(quotes[i]);
            if (end >= q && !memcmp(s + end - q, quotes[i], q))
                cut = q;
        }
        if (!cut)
            break;
        end -= cut;
    }
    return n - end;
}

const char *tkl_route_name(enum tkl_route route)
{
    return (unsigned)route < TKL_ROUTE_COUNT ? route_paths[route] : "other";
}

bool tkl_slug_valid(const char *slug)
{
    size_t n = strlen(slug);
    if (n == 0 || n >= TKL_REQUEST_ARG_LEN || slug[0] == '-' || slug[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = slug[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static bool path_ok(const char *path)
{
    size_t n = strnlen(path, 1025);
    if (n == 0 || n > 1024 || path[0] != '/')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
            return false;
    return strstr(path, "/..") == NULL && strstr(path, "//") == NULL;
}

/* /a/<one segment>: the link's page; the token kept only if it is one. */
static bool act_route(const char *path, struct tkl_request *ret)
{
    static const char prefix[] = "/a/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0 || strchr(path + sizeof(prefix) - 1, '/'))
        return false;
    const char *token = path + sizeof(prefix) - 1;
    size_t n = strlen(token), cut = tkl_token_trailing(token, n);
    ret->route = TKL_ROUTE_ACT;
    if (n - cut > TKL_TOKEN_MAX)
        return true;
    memcpy(ret->token, token, n - cut);
    ret->token[n - cut] = '\0';
    if (!tkl_token_text_valid(ret->token))
        ret->token[0] = '\0';
    else
        ret->token_trimmed = cut > 0;
    return true;
}

int tkl_request_route(const char *path, struct tkl_request *ret)
{
    if (!path_ok(path))
        return -EINVAL;
    static const char prefix[] = "/calendar/", suffix[] = ".ics";
    size_t n = strlen(path);
    memset(ret, 0, sizeof(*ret));
    if (act_route(path, ret))
        return 0;
    if (n > sizeof(prefix) - 1 + sizeof(suffix) - 1 && !strncmp(path, prefix, sizeof(prefix) - 1) &&
        !strcmp(path + n - (sizeof(suffix) - 1), suffix)) {
        size_t len = n - (sizeof(prefix) - 1) - (sizeof(suffix) - 1);
        if (len >= TKL_REQUEST_ARG_LEN)
            return -ENOENT;
        memcpy(ret->arg, path + sizeof(prefix) - 1, len);
        ret->arg[len] = '\0';
        for (size_t i = 0; i < len; i++) /* /calendar/Race.ics is race's */
            if (ret->arg[i] >= 'A' && ret->arg[i] <= 'Z')
                ret->arg[i] = (char)(ret->arg[i] - 'A' + 'a');
        if (!tkl_slug_valid(ret->arg)) {
            ret->arg[0] = '\0';
            return -ENOENT;
        }
        ret->route = TKL_ROUTE_CATEGORY_ICS;
        return 0;
    }
    for (int r = 0; r < TKL_ROUTE_COUNT; r++) {
        if (r != TKL_ROUTE_CATEGORY_ICS && !strcmp(path, route_paths[r])) {
            ret->route = (enum tkl_route)r;
            return 0;
        }
    }
    return -ENOENT;
}

static bool key_taken(enum tkl_route route, const char *key)
{
    const char *keys = (unsigned)route < TKL_ROUTE_COUNT ? route_keys[route] : NULL;
    size_t n = strlen(key);
    if (!keys || n == 0)
        return false;
    for (const char *p = keys; *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && !strncmp(p, key, n))
            return true;
        p += w;
        p += *p == ' ';
    }
    return false;
}

/* Printable UTF-8: well-formed (tkl_utf8_valid) and no control character,
 * C0, DEL or C1 (U+0080-U+009F, encoded 0xC2 0x80-0x9F). */
static bool printable_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 && i + 1 < n && s[i + 1] < 0xa0))
            return false;
    return tkl_utf8_valid((const char *)s, n);
}

int tkl_request_add_query(struct tkl_request *r, const char *key, const char *value)
{
    if (!value)
        value = "";
    if (query_ignored(r->route) && !key_taken(r->route, key))
        return 0;
    size_t klen = strnlen(key, TKL_REQUEST_KEY_LEN),
           vlen = strnlen(value, TKL_REQUEST_VALUE_LEN + 1);
    if (klen >= TKL_REQUEST_KEY_LEN || !key_taken(r->route, key) || vlen > TKL_REQUEST_VALUE_LEN ||
        !printable_utf8((const unsigned char *)value, vlen))
        return -EINVAL;
    if (r->n_q == TKL_REQUEST_MAX_ARGS)
        return -E2BIG;
    struct tkl_request_arg *a = &r->q[r->n_q++];
    memcpy(a->key, key, klen + 1);
    memcpy(a->value, value, vlen + 1);
    return 0;
}

const char *tkl_request_get(const struct tkl_request *r, const char *key, size_t nth)
{
    for (size_t i = 0; i < r->n_q; i++)
        if (!strcmp(r->q[i].key, key) && nth-- == 0)
            return r->q[i].value;
    return NULL;
}

bool tkl_etag_matches(const char *header, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = header;
    for (;;) {
        p += strspn(p, " \t,");
        if (!*p)
            return false;
        if (*p == '*')
            return true;
        if (!strncmp(p, "W/", 2))
            p += 2;
        if (*p != '"') /* not an entity tag: the rest cannot be read */
            return false;
        const char *end = strchr(p + 1, '"');
        if (!end)
            return false;
        if ((size_t)(end + 1 - p) == elen && !strncmp(p, etag, elen))
            return true;
        p = end + 1;
    }
}

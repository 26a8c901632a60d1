/*
 * The one place a request's path and query are read: the path is matched
 * against the routes of the web face, the query's keys and values are
 * checked (known keys only, short printable UTF-8 values), so that no page
 * reads raw request text. The server hands over what libmicrohttpd
 * decoded; nothing here parses HTTP.
 */
#ifndef TKL_REQUEST_H
#define TKL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "../token/token.h"
#include "form.h"

enum tkl_route {
    TKL_ROUTE_INDEX,         /* / */
    TKL_ROUTE_CALENDAR_ICS,  /* /calendar.ics */
    TKL_ROUTE_CATEGORY_ICS,  /* /calendar/<category>.ics: arg is the category's slug */
    TKL_ROUTE_CALENDAR_HTML, /* /calendar.html */
    TKL_ROUTE_STATUS_HTML,   /* /status */
    TKL_ROUTE_STATUS_JSON,   /* /status.json */
    TKL_ROUTE_OUTBOX,        /* /outbox */
    TKL_ROUTE_METRICS,       /* /metrics */
    TKL_ROUTE_HEALTH,        /* /healthz */
    TKL_ROUTE_ACT,           /* /a/<token>: a signed link's page; GET shows, POST acts */
    TKL_ROUTE_REPORT,        /* /report */
    TKL_ROUTE_COUNT
};

#define TKL_REQUEST_MAX_ARGS  8
#define TKL_REQUEST_ARG_LEN   64 /* a slug: [a-z0-9-]{1,63} */
#define TKL_REQUEST_KEY_LEN   16
#define TKL_REQUEST_VALUE_LEN 128 /* bytes, NUL excluded */

struct tkl_request_arg {
    char key[TKL_REQUEST_KEY_LEN];
    char value[TKL_REQUEST_VALUE_LEN + 1];
};

struct tkl_request {
    enum tkl_route route;
    char arg[TKL_REQUEST_ARG_LEN];
    /* TKL_ROUTE_ACT: the token, base64url of 1 to TKL_TOKEN_MAX characters,
     * or "" when the path's was not one (the page says it is malformed) */
    char token[TKL_TOKEN_MAX + 1];
    /* TKL_ROUTE_ACT: the path's segment was the token followed by closing
     * punctuation, cut off (tkl_token_trailing) */
    bool token_trimmed;
    struct tkl_request_arg q[TKL_REQUEST_MAX_ARGS];
    size_t n_q;
};

/*
 * Matches path (as decoded by the server, starting with '/') to a route.
 * Returns 0 with *ret's route, arg and token set and its query emptied,
 * -ENOENT when no route matches, or -EINVAL when the path is malformed
 * (NUL or control characters, "..", longer than 1 KiB). "/a/" and any one
 * segment after it is TKL_ROUTE_ACT; its token is kept only when it has
 * the characters and length of one, once any closing punctuation a link
 * copied from the end of a sentence carries is cut off (token_trimmed
 * then says so).
 */
int tkl_request_route(const char *path, struct tkl_request *ret);

/*
 * Adds one query argument for r's route. Keys a route knows: /status and
 * /status.json take team and state, /outbox takes state, /calendar.html
 * takes year, /report takes from, to and format, /a/<token> takes done
 * and same (what a POST did). value may be NULL ("?team"), read as "".
 * The calendar feeds (/calendar.ics, /calendar/<category>.ics) take no key
 * and ignore any (calendar clients and shared links add their own): 0,
 * nothing added. Returns 0, -EINVAL (a key the route does not take, a value that is not
 * printable UTF-8 or longer than TKL_REQUEST_VALUE_LEN) or -E2BIG (more
 * than TKL_REQUEST_MAX_ARGS arguments).
 */
int tkl_request_add_query(struct tkl_request *r, const char *key, const char *value);

/* The nth (from 0) value of key in r's query, or NULL. */
const char *tkl_request_get(const struct tkl_request *r, const char *key, size_t nth);

/*
 * The form a POST to route carries, or NULL when the route takes no POST
 * (only /a/<token> does: token, do, snooze, until, rag, note and
 * suggested).
 */
const struct tkl_form_spec *tkl_route_form(enum tkl_route route);

/* Whether s (NUL-terminated) has the characters and length of a token:
 * 1 to TKL_TOKEN_MAX of A-Z a-z 0-9 - _. */
bool tkl_token_text_valid(const char *s);

/*
 * How many bytes at the end of s[0..n) are closing punctuation that mail
 * puts after a link at the end of a sentence or in brackets, none of
 * which a token can hold: . , ; : ! ? ) ] > " ' and the typographic
 * closing quotes ’ ” » (UTF-8). Returns 0 when s ends otherwise.
 */
size_t tkl_token_trailing(const char *s, size_t n);

/* The route's name for metrics labels ("/calendar/{category}.ics"): a
 * bounded set, never request text. "other" for TKL_ROUTE_COUNT. */
const char *tkl_route_name(enum tkl_route route);

/*
 * Whether an If-None-Match header value (a comma-separated list of entity
 * tags, weak or strong, or "*") names etag (a quoted strong tag), by the
 * weak comparison RFC 9110 asks of If-None-Match.
 */
bool tkl_etag_matches(const char *header, const char *etag);

/* Whether slug is a valid category slug: [a-z0-9-]{1,63}, not starting or
 * ending with '-'. */
bool tkl_slug_valid(const char *slug);

#endif

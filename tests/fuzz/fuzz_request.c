/* libFuzzer: the web face's request module (daemon/http/request.c), the
 * one place request paths, query arguments and If-None-Match headers are
 * read. Input: a path, then "key=value" lines, then a last line read as an
 * If-None-Match header. What it accepts must hold: a category route has a
 * valid slug, every stored value is printable UTF-8 within its limit, a
 * lookup finds what was stored, a calendar feed stores no argument, a
 * link's page keeps a token-shaped token or none (its closing punctuation
 * cut off) and stores only the keys it takes ("done", "same"). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"

static void check_value(const char *v)
{
    size_t n = strlen(v);
    if (n > TKL_REQUEST_VALUE_LEN)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            abort();
}

static bool feed_route(enum tkl_route route)
{
    return route == TKL_ROUTE_CALENDAR_ICS || route == TKL_ROUTE_CATEGORY_ICS;
}

static void one_arg(struct tkl_request *r, char *line)
{
    char *eq = strchr(line, '=');
    if (eq)
        *eq = '\0';
    size_t before = r->n_q;
    int rc = tkl_request_add_query(r, line, eq ? eq + 1 : NULL);
    bool taken = !strcmp(line, "done") || !strcmp(line, "same");
    if (feed_route(r->route)) {
        if (rc != 0 || r->n_q != before)
            abort();
    } else if (r->route == TKL_ROUTE_ACT && !taken) {
        /* what mail gateways add is ignored, never stored */
        if (rc != 0 || r->n_q != before)
            abort();
    } else if (rc == 0) {
        if (r->n_q != before + 1 || strcmp(r->q[before].key, line))
            abort();
        check_value(r->q[before].value);
        if (!tkl_request_get(r, line, 0))
            abort();
    } else if (r->n_q != before) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    struct tkl_request r;
    if (line && tkl_request_route(line, &r) == 0) {
        if (r.route == TKL_ROUTE_CATEGORY_ICS && !tkl_slug_valid(r.arg))
            abort();
        if (r.route >= TKL_ROUTE_COUNT || !tkl_route_name(r.route))
            abort();
        /* a link's token is a token or none, cut from punctuation only
         * when there is one */
        if (r.route == TKL_ROUTE_ACT &&
            (r.token[0] ? !tkl_token_text_valid(r.token) : r.token_trimmed))
            abort();
        char *last = NULL;
        while ((line = strtok_r(NULL, "\n", &save))) {
            if (last)
                one_arg(&r, last);
            last = line;
        }
        if (last)
            (void)tkl_etag_matches(last, "\"0123456789abcdef\"");
    }
    free(text);
    return 0;
}

/* Tests for daemon/http/request.c: paths to routes, the category slug, a
 * signed link's token (its characters and length checked first), the
 * query keys each route takes and the values refused, the form only the
 * link's page takes, lookups, and the If-None-Match comparison. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http/request.h"

START_TEST(paths_name_their_routes)
{
    static const struct {
        const char *path;
        enum tkl_route route;
    } ok[] = {
        {"/", TKL_ROUTE_INDEX},
        {"/calendar.ics", TKL_ROUTE_CALENDAR_ICS},
        {"/calendar.html", TKL_ROUTE_CALENDAR_HTML},
        {"/status", TKL_ROUTE_STATUS_HTML},
        {"/status.json", TKL_ROUTE_STATUS_JSON},
        {"/outbox", TKL_ROUTE_OUTBOX},
        {"/metrics", TKL_ROUTE_METRICS},
        {"/healthz", TKL_ROUTE_HEALTH},
        {"/report", TKL_ROUTE_REPORT},
    };
    struct tkl_request r;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_int_eq(tkl_request_route(ok[i].path, &r), 0);
        ck_assert_int_eq(r.route, ok[i].route);
        ck_assert_str_eq(r.arg, "");
        ck_assert_uint_eq(r.n_q, 0);
        ck_assert_str_eq(tkl_route_name(r.route), ok[i].path);
    }
    ck_assert_int_eq(tkl_request_route("/calendar/sexual-orientation.ics", &r), 0);
    ck_assert_int_eq(r.route, TKL_ROUTE_CATEGORY_ICS);
    ck_assert_str_eq(r.arg, "sexual-orientation");
    ck_assert_str_eq(tkl_route_name(r.route), "/calendar/{category}.ics");
    /* typed with capitals, the same category */
    ck_assert_int_eq(tkl_request_route("/calendar/Sexual-ORIENTATION.ics", &r), 0);
    ck_assert_int_eq(r.route, TKL_ROUTE_CATEGORY_ICS);
    ck_assert_str_eq(r.arg, "sexual-orientation");
    ck_assert_str_eq(tkl_route_name(TKL_ROUTE_COUNT), "other");
}
END_TEST

START_TEST(other_paths_are_not_found_or_bad)
{
    static const char *const missing[] = {
        "/status/",
        "/Status",
        "/calendar/.ics",
        "/calendar/-x.ics",
        "/calendar/x-.ics",
        "/calendar/a_b.ics",
        "/calendar/a/b.ics",
        "/metrics.txt",
        "/calendar/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.ics"};
    static const char *const bad[] = {"",         "status",    "/..",    "/calendar/../status",
                                      "//status", "/sta\ttus", "/st\x7f"};
    struct tkl_request r;
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
        ck_assert_msg(tkl_request_route(missing[i], &r) == -ENOENT, "%s", missing[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(tkl_request_route(bad[i], &r) == -EINVAL, "%s", bad[i]);
    char longpath[1100];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    ck_assert_int_eq(tkl_request_route(longpath, &r), -EINVAL);
}
END_TEST

/* A link copied from the end of a sentence, or from brackets or quotes,
 * carries closing punctuation no token holds: it is cut off, and said. */
START_TEST(a_link_path_drops_the_closing_punctuation_a_sentence_adds)
{
    struct tkl_request r;
    static const char *const copied[] = {"/a/AQVrZXktYQ_-9.",
                                         "/a/AQVrZXktYQ_-9,",
                                         "/a/AQVrZXktYQ_-9)",
                                         "/a/AQVrZXktYQ_-9>",
                                         "/a/AQVrZXktYQ_-9]",
                                         "/a/AQVrZXktYQ_-9;",
                                         "/a/AQVrZXktYQ_-9:",
                                         "/a/AQVrZXktYQ_-9!",
                                         "/a/AQVrZXktYQ_-9?",
                                         "/a/AQVrZXktYQ_-9\"",
                                         "/a/AQVrZXktYQ_-9'",
                                         "/a/AQVrZXktYQ_-9).",
                                         "/a/AQVrZXktYQ_-9\">.",
                                         "/a/AQVrZXktYQ_-9\xe2\x80\x9d",
                                         "/a/AQVrZXktYQ_-9\xe2\x80\x99.",
                                         "/a/AQVrZXktYQ_-9\xc2\xbb"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
        ck_assert_msg(tkl_request_route(copied[i], &r) == 0, "%s", copied[i]);
        ck_assert_int_eq(r.route, TKL_ROUTE_ACT);
        ck_assert_str_eq(r.token, "AQVrZXktYQ_-9");
        ck_assert_msg(r.token_trimmed, "%s", copied[i]);
    }
    /* the token's own last characters stay, - and _ too */
    ck_assert_int_eq(tkl_request_route("/a/AQVrZXktYQ_-", &r), 0);
    ck_assert_str_eq(r.token, "AQVrZXktYQ_-");
    ck_assert(!r.token_trimmed);
    ck_assert_uint_eq(tkl_token_trailing("abc", 3), 0);
    ck_assert_uint_eq(tkl_token_trailing("abc.)", 5), 2);
    ck_assert_uint_eq(tkl_token_trailing("\x99", 1), 0); /* half a closing quote */
    ck_assert_uint_eq(tkl_token_trailing("", 0), 0);
    /* a token of the longest length, then a full stop */
    char path[TKL_TOKEN_MAX + 8] = "/a/";
    memset(path + 3, 'A', TKL_TOKEN_MAX);
    path[3 + TKL_TOKEN_MAX] = '\0';
    strcat(path, ".");
    ck_assert_int_eq(tkl_request_route(path, &r), 0);
    ck_assert_uint_eq(strlen(r.token), TKL_TOKEN_MAX);
    ck_assert(r.token_trimmed);
}
END_TEST

START_TEST(a_link_path_keeps_only_a_token_shaped_token)
{
    struct tkl_request r;
    ck_assert_int_eq(tkl_request_route("/a/AQVrZXktYQ_-9", &r), 0);
    ck_assert_int_eq(r.route, TKL_ROUTE_ACT);
    ck_assert_str_eq(r.token, "AQVrZXktYQ_-9");
    ck_assert_str_eq(r.arg, "");
    /* the route's name for metrics and logs never holds the token */
    ck_assert_str_eq(tkl_route_name(r.route), "/a/{token}");
    /* what is not a token is the link's page with no token: it says the
     * link is damaged; the text itself is not kept */
    static const char *const damaged[] = {
        "/a/",  "/a/abc=", "/a/a+b",  "/a/%41",   "/a/caf\xc3\xa9",
        "/a/.", "/a/ab(c", "/a/a.b.", "/a/abc)x", "/a/abc\xe2\x80\x9c"};
    for (size_t i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
        ck_assert_msg(tkl_request_route(damaged[i], &r) == 0, "%s", damaged[i]);
        ck_assert_int_eq(r.route, TKL_ROUTE_ACT);
        ck_assert_str_eq(r.token, "");
        ck_assert(!r.token_trimmed);
    }
    char path[TKL_TOKEN_MAX + 8] = "/a/";
    memset(path + 3, 'A', TKL_TOKEN_MAX);
    path[3 + TKL_TOKEN_MAX] = '\0';
    ck_assert_int_eq(tkl_request_route(path, &r), 0);
    ck_assert_uint_eq(strlen(r.token), TKL_TOKEN_MAX);
    strcat(path, "A"); /* one too many */
    ck_assert_int_eq(tkl_request_route(path, &r), 0);
    ck_assert_str_eq(r.token, "");
    /* another segment, or none, is no route */
    ck_assert_int_eq(tkl_request_route("/a/abc/def", &r), -ENOENT);
    ck_assert_int_eq(tkl_request_route("/a", &r), -ENOENT);
    ck_assert_int_eq(tkl_request_route("/ab/c", &r), -ENOENT);
    ck_assert(tkl_token_text_valid("x"));
    ck_assert(!tkl_token_text_valid(""));
}
END_TEST

START_TEST(only_the_link_page_takes_a_form)
{
    for (int r = 0; r < TKL_ROUTE_COUNT; r++)
        ck_assert_msg((tkl_route_form((enum tkl_route)r) != NULL) == (r == TKL_ROUTE_ACT), "%d", r);
    const struct tkl_form_spec *f = tkl_route_form(TKL_ROUTE_ACT);
    const char *names = "token do snooze until shown rag note suggested";
    char got[128] = "";
    for (size_t i = 0; i < f->n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
                 f->fields[i].name);
    ck_assert_str_eq(got, names);
    ck_assert_ptr_null(tkl_route_form(TKL_ROUTE_COUNT));
}
END_TEST

START_TEST(each_route_takes_its_own_query_keys)
{
    struct tkl_request r;
    ck_assert_int_eq(tkl_request_route("/status", &r), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "team", "housing"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "team", "Policy & Strategy"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "state", NULL), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "year", "2027"), -EINVAL);
    ck_assert_int_eq(tkl_request_add_query(&r, "", "x"), -EINVAL);
    ck_assert_str_eq(tkl_request_get(&r, "team", 0), "housing");
    ck_assert_str_eq(tkl_request_get(&r, "team", 1), "Policy & Strategy");
    ck_assert_ptr_null(tkl_request_get(&r, "team", 2));
    ck_assert_str_eq(tkl_request_get(&r, "state", 0), "");
    ck_assert_uint_eq(r.n_q, 3);
    ck_assert_int_eq(tkl_request_route("/calendar.html", &r), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "year", "2027"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "team", "x"), -EINVAL);
    ck_assert_int_eq(tkl_request_route("/outbox", &r), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "state", "failed"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "team", "x"), -EINVAL);
    ck_assert_int_eq(tkl_request_route("/report", &r), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "from", "2026-04-01"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "to", "2027-03-31"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "format", "csv"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "state", "x"), -EINVAL);
    ck_assert_int_eq(tkl_request_route("/metrics", &r), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "state", "x"), -EINVAL);
    /* the calendar feeds ignore what clients and shared links add */
    static const char *const feeds[] = {"/calendar.ics", "/calendar/race.ics"};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(tkl_request_route(feeds[i], &r), 0);
        ck_assert_int_eq(tkl_request_add_query(&r, "x", "1"), 0);
        ck_assert_int_eq(tkl_request_add_query(&r, "token", "abc"), 0);
        ck_assert_int_eq(tkl_request_add_query(&r, "", "\x01"), 0);
        for (int k = 0; k < TKL_REQUEST_MAX_ARGS + 2; k++)
            ck_assert_int_eq(tkl_request_add_query(&r, "year", NULL), 0);
        ck_assert_uint_eq(r.n_q, 0);
        ck_assert_ptr_null(tkl_request_get(&r, "x", 0));
    }
    ck_assert_uint_eq(r.n_q, 0);
    ck_assert_int_eq(tkl_request_route("/a/abc", &r), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "done", "complete"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "same", "1"), 0);
    /* a link's page ignores what mail gateways and trackers add */
    ck_assert_int_eq(tkl_request_add_query(&r, "utm_source", "newsletter"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "token", "x"), 0);
    ck_assert_uint_eq(r.n_q, 2);
    ck_assert_ptr_null(tkl_request_get(&r, "utm_source", 0));
    ck_assert_str_eq(tkl_request_get(&r, "done", 0), "complete");
}
END_TEST

START_TEST(values_must_be_short_printable_utf8)
{
    struct tkl_request r;
    ck_assert_int_eq(tkl_request_route("/status", &r), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "team", "Équipe logement – Nord"), 0);
    static const char *const bad[] = {
        "a\nb", "a\rb",     "\x7f", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "\xc3", "\xc2\x85", "\xff"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(tkl_request_add_query(&r, "team", bad[i]) == -EINVAL, "value %zu", i);
    char v[TKL_REQUEST_VALUE_LEN + 2];
    memset(v, 'x', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    ck_assert_int_eq(tkl_request_add_query(&r, "team", v), -EINVAL);
    v[TKL_REQUEST_VALUE_LEN] = '\0';
    ck_assert_int_eq(tkl_request_add_query(&r, "team", v), 0);
    for (size_t i = r.n_q; i < TKL_REQUEST_MAX_ARGS; i++)
        ck_assert_int_eq(tkl_request_add_query(&r, "state", "overdue"), 0);
    ck_assert_int_eq(tkl_request_add_query(&r, "state", "overdue"), -E2BIG);
    ck_assert_uint_eq(r.n_q, TKL_REQUEST_MAX_ARGS);
}
END_TEST

START_TEST(if_none_match_compares_weakly)
{
    const char *tag = "\"00ff\"";
    ck_assert(tkl_etag_matches("\"00ff\"", tag));
    ck_assert(tkl_etag_matches("W/\"00ff\"", tag));
    ck_assert(tkl_etag_matches("\"a\", W/\"00ff\"", tag));
    ck_assert(tkl_etag_matches(" *", tag));
    ck_assert(!tkl_etag_matches("\"00f\"", tag));
    ck_assert(!tkl_etag_matches("\"00ffx\"", tag));
    ck_assert(!tkl_etag_matches("00ff", tag));
    ck_assert(!tkl_etag_matches("\"00ff", tag));
    ck_assert(!tkl_etag_matches("", tag));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("request");
    tcase_add_test(tc, paths_name_their_routes);
    tcase_add_test(tc, other_paths_are_not_found_or_bad);
    tcase_add_test(tc, a_link_path_drops_the_closing_punctuation_a_sentence_adds);
    tcase_add_test(tc, a_link_path_keeps_only_a_token_shaped_token);
    tcase_add_test(tc, only_the_link_page_takes_a_form);
    tcase_add_test(tc, each_route_takes_its_own_query_keys);
    tcase_add_test(tc, values_must_be_short_printable_utf8);
    tcase_add_test(tc, if_none_match_compares_weakly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

/* Tests for daemon/web/progress.c against a real service
 * (page_fixture.h): /report is the report of the plan in force and the
 * updates recorded through the service, byte for byte what
 * tkl_report_write gives for the same period (what `tickler report`
 * prints), in each format; the CSV an attachment; the observance left
 * out, the plan's markup escaped, no secret; its entity tag moves when an
 * update is recorded; a bad period or format is answered 400. */
#include <check.h>

#include "check_run.h"
#include "record_fixture.h"

#include "page_fixture.h"

#include "outbox/updates.h"
#include "report/report.h"

static void setup(void)
{
    page_setup("progress");
}

/* What tkl_report_write gives for the plan in force and the updates of
 * the service, for days [from, to) on the fixture's day. */
static char *expected(int32_t from, int32_t to, enum tkl_report_format f)
{
    struct tkl_report r;
    ck_assert_int_eq(tkl_report_build(page_s.rt->store, &page_s.answers.updates, NULL, from, to,
                                      tkl_day_from_civil(2023, 6, 30), &r),
                     0);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(tkl_report_write(out, &r, f), 0);
    ck_assert_int_eq(fclose(out), 0);
    tkl_report_free(&r);
    return buf;
}

/* Records an update of kind k of action id (the plan as it stands) by
 * hr@x.org at 08:00 on the fixture's day. */
static void record(const char *id, enum tkl_update_kind k, enum tkl_rag rag, const char *note)
{
    const struct tkl_action *a = tkl_store_find(page_s.rt->store, id);
    ck_assert_ptr_nonnull(a);
    struct tkl_update u = {.action_id = a->id,
                           .recipient = (char *)"hr@x.org",
                           .team_id = (char *)"hr",
                           .kind = k,
                           .at = tkl_local_instant(tkl_day_from_civil(2023, 6, 30), 8 * 60),
                           .link_issued_at = tkl_local_instant(tkl_day_from_civil(2023, 6, 29), 0),
                           .until_day = TKL_NO_DAY,
                           .rag = rag,
                           .note = (char *)note,
                           .plan_deadline_day = a->deadline.day,
                           .plan_deadline_text = a->deadline_text,
                           .plan_status = a->status_text,
                           .plan_owners = a->owners};
    bool is_new = false;
    ck_assert_int_eq(record_now(&page_s, &u, &is_new), 0);
    ck_assert(is_new);
}

START_TEST(the_report_tickler_report_prints)
{
    page_load();
    record("A", TKL_UPDATE_PROGRESS, TKL_RAG_GREEN, "On <track> & \"fine\"");
    record("D", TKL_UPDATE_COMPLETE, TKL_RAG_NONE, NULL);
    struct tkl_http_response r;
    page_get(tkl_web_report, &r, "/report", NULL);
    ck_assert_uint_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
    ck_assert_str_eq(r.disposition, "");
    /* the twelve months to the fixture's day, 30 June 2023 */
    char *want =
        expected(tkl_day_from_civil(2022, 7, 1), tkl_day_from_civil(2023, 7, 1), TKL_REPORT_HTML);
    ck_assert_str_eq(r.body, want);
    free(want);
    const char *b = r.body;
    ck_assert(page_has(b, "Progress \xe2\x80\x93 1 Jul 2022 to 30 Jun 2023"));
    ck_assert(page_has(b, "<h2>People &amp; &lt;b&gt;culture&lt;/b&gt;</h2>"));
    ck_assert(page_has(b, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    ck_assert(page_has(b, "On &lt;track&gt; &amp; &quot;fine&quot;"));
    ck_assert(page_has(b, "Marked complete by <span class=\"who\">hr@x.org</span>"));
    ck_assert(!page_has(b, "<script"));
    ck_assert(!page_has(b, "Pride Month")); /* an observance, not the plan */
    ck_assert(!page_has(b, PAGE_SECRET));
    /* A green and due today: on schedule; D marked complete; E complete
     * and F closed in the plan: 3 complete, 4 ongoing, 1 incomplete */
    ck_assert(page_has(b, "8 actions: <span class=\"s0\">3 Complete"));
    ck_assert(page_has(b, "<span class=\"s1\">4 Ongoing"));
    ck_assert(page_has(b, "<span class=\"s2\">1 Incomplete"));
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(csv_and_markdown_for_a_period)
{
    page_load();
    record("B", TKL_UPDATE_PROGRESS, TKL_RAG_AMBER, "=1+2");
    struct tkl_http_response r;
    page_get(tkl_web_report, &r, "/report", "format", "csv", "from", "2023-01-01", "to",
             "2023-12-31", NULL);
    ck_assert_uint_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/csv; charset=utf-8");
    ck_assert_str_eq(r.disposition, "attachment; filename=\"progress-report.csv\"");
    char *want =
        expected(tkl_day_from_civil(2023, 1, 1), tkl_day_from_civil(2024, 1, 1), TKL_REPORT_CSV);
    ck_assert_str_eq(r.body, want);
    free(want);
    ck_assert(page_has(r.body, "Progress \xe2\x80\x93 2023,Status,Why\r\n"));
    ck_assert(page_has(r.body, "30 Jun 2023, Amber, hr@x.org: =1+2"));
    tkl_http_response_free(&r);
    page_get(tkl_web_report, &r, "/report", "format", "md", "from", "2023-04-01", NULL);
    ck_assert_str_eq(r.content_type, "text/markdown; charset=utf-8");
    want = expected(tkl_day_from_civil(2023, 4, 1), tkl_day_from_civil(2024, 4, 1),
                    TKL_REPORT_MARKDOWN);
    ck_assert_str_eq(r.body, want);
    free(want);
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(the_entity_tag_moves_with_an_update)
{
    page_load();
    struct tkl_http_response r1, r2, r3;
    page_get(tkl_web_report, &r1, "/report", NULL);
    page_get(tkl_web_report, &r2, "/report", NULL);
    ck_assert_str_ne(r1.etag, "");
    ck_assert_str_eq(r1.etag, r2.etag);
    /* officers' names and notes: no cache keeps it, no index lists it */
    ck_assert_str_eq(r1.cache, "private, no-store");
    ck_assert(r1.noindex);
    record("C", TKL_UPDATE_PROGRESS, TKL_RAG_RED, "stuck");
    page_get(tkl_web_report, &r3, "/report", NULL);
    ck_assert_str_ne(r1.etag, r3.etag);
    ck_assert(page_has(r3.body, "stuck"));
    tkl_http_response_free(&r1);
    tkl_http_response_free(&r2);
    tkl_http_response_free(&r3);
    /* another period, another tag */
    page_get(tkl_web_report, &r1, "/report", "from", "2023-01-01", NULL);
    ck_assert_str_ne(r1.etag, r3.etag);
    tkl_http_response_free(&r1);
}
END_TEST

START_TEST(a_bad_query_is_answered_400)
{
    page_load();
    static const char *const bad[][2] = {
        {"format", "pdf"}, {"from", "2023-02-30"}, {"to", "tomorrow"}, {"from", ""}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tkl_http_response r;
        page_get(tkl_web_report, &r, "/report", bad[i][0], bad[i][1], NULL);
        ck_assert_msg(r.status == 400, "%s=%s: %u", bad[i][0], bad[i][1], r.status);
        tkl_http_response_free(&r);
    }
    struct tkl_http_response r;
    page_get(tkl_web_report, &r, "/report", "from", "2023-06-01", "to", "2023-05-01", NULL);
    ck_assert_uint_eq(r.status, 400);
    tkl_http_response_free(&r);
    page_get(tkl_web_report, &r, "/report", "format", "csv", "format", "md", NULL);
    ck_assert_uint_eq(r.status, 400);
    tkl_http_response_free(&r);
    /* a key the route does not take is refused before the page */
    struct tkl_request q;
    ck_assert_int_eq(tkl_request_route("/report", &q), 0);
    ck_assert_int_eq(q.route, TKL_ROUTE_REPORT);
    ck_assert_int_eq(tkl_request_add_query(&q, "team", "hr"), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("page");
    tcase_add_checked_fixture(tc, setup, page_teardown);
    tcase_add_test(tc, the_report_tickler_report_prints);
    tcase_add_test(tc, csv_and_markdown_for_a_period);
    tcase_add_test(tc, the_entity_tag_moves_with_an_update);
    tcase_add_test(tc, a_bad_query_is_answered_400);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

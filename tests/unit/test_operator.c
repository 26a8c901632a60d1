/* Tests for daemon/web/operator.c against a real service (page_fixture.h):
 * /outbox lists the notices not delivered (failed, retrying, pending, in
 * that order) with their last reply cut short and escaped, filters by
 * state, refuses an unknown state, and never shows the webhook's URL. */
#include <check.h>

#include "check_run.h"

#include "page_fixture.h"

static void setup(void)
{
    page_setup("operator");
}

/* Commits a notice of one entry for item to recipient by chat, and marks
 * it failed with reply when reply is not NULL. Returns its id. */
static uint64_t put(const char *item, const char *recipient, const char *reply)
{
    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = item,
                                 .title = "Late report",
                                 .deadline_day = TKL_NO_DAY,
                                 .kind = TKL_DEADLINE_UNDATED,
                                 .stage = TKL_STAGE_CHECKIN};
    struct tkl_notice n = {.size = sizeof(n),
                           .channel = "chat",
                           .recipient = recipient,
                           .team_id = "hr",
                           .team_name = "Human Resources",
                           .due_at = tkl_service_now(&page_s),
                           .entries = &e,
                           .n_entries = 1};
    const char *keys[] = {recipient};
    uint64_t id = 0;
    int64_t now = tkl_service_now(&page_s);
    ck_assert_int_eq(tkl_outbox_put(page_s.outbox, &n, keys, now, &id), 0);
    ck_assert_uint_gt(id, 0);
    if (reply)
        ck_assert_int_eq(tkl_outbox_mark_failed(page_s.outbox, id, now, reply), 0);
    return id;
}

/* A reply of 199 bytes ending in markup, then "é" across byte 200. */
static const char long_reply[] =
    "550 5.1.1 <hr@example.org>: Recipient address rejected: User unknown in virtual mailbox "
    "table; see https://mail.example.org/why for more about this and the other problems we met "
    "today, all of<b>x</b>\xc3\xa9 and more after the cut";

START_TEST(lists_what_waits_failed_first)
{
    page_run_once(); /* A delivered by chat; B refused by the webhook's server */
    put("D", "boss", long_reply);
    put("E", "deputy", NULL);
    struct tkl_http_response r;
    page_get(tkl_web_outbox, &r, "/outbox", NULL);
    ck_assert_uint_eq(r.status, 200);
    ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
    const char *b = r.body;
    ck_assert(page_has(b, "1 pending, 1 retrying, 1 failed; 1 delivered today, 1 in all; 0 "
                          "withdrawn (their actions completed first)."));
    const char *failed = strstr(b, "<span class=\"state failed\">failed</span>");
    const char *retrying = strstr(b, "<span class=\"state retrying\">retrying</span>");
    const char *pending = strstr(b, "<span class=\"state pending\">pending</span>");
    ck_assert(failed && retrying && pending && failed < retrying && retrying < pending);
    /* the webhook's reply names its host, never its URL */
    ck_assert(page_has(retrying, "<td>hooks</td><td>ops</td><td>ICT &amp; Digital</td><td>1</td>"
                                 "<td class=\"when\">30 Jun 2023 09:00</td><td>1</td>"));
    ck_assert(page_has(retrying, "127.0.0.1"));
    ck_assert(!page_has(b, PAGE_SECRET));
    ck_assert(!page_has(b, "/hooks/"));
    /* the delivered notice is not listed */
    ck_assert(!page_has(b, "<td>chat</td><td>hr</td>"));
    ck_assert(page_has(failed, "<td>chat</td><td>boss</td><td>Human Resources</td>"));
    ck_assert(page_has(failed, "none: <code>tickler retry</code> sends it again"));
    /* the reply escaped and cut before the character that crosses byte 200 */
    ck_assert(page_has(failed, "550 5.1.1 &lt;hr@example.org&gt;: Recipient"));
    ck_assert(page_has(failed, "all of&lt;b&gt;x&lt;/b&gt;\xe2\x80\xa6</td>"));
    ck_assert(!page_has(b, "after the cut"));
    ck_assert(!page_has(b, "<b>"));
    ck_assert(page_has(b, "<meta name=\"viewport\""));
    ck_assert(page_has(b, "@media print"));
    ck_assert(!page_has(b, "<script"));
    ck_assert_str_eq(r.cache, "no-store");
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(filters_by_state)
{
    page_load();
    put("D", "boss", "550 no such user");
    put("E", "deputy", NULL);
    struct tkl_http_response r;
    page_get(tkl_web_outbox, &r, "/outbox", "state", "failed", NULL);
    ck_assert_uint_eq(r.status, 200);
    ck_assert(page_has(r.body, "<td>boss</td>"));
    ck_assert(!page_has(r.body, "<td>deputy</td>"));
    tkl_http_response_free(&r);
    page_get(tkl_web_outbox, &r, "/outbox", "state", "pending", "state", "retrying", NULL);
    ck_assert(!page_has(r.body, "<td>boss</td>"));
    ck_assert(page_has(r.body, "<td>deputy</td>"));
    tkl_http_response_free(&r);
    page_get(tkl_web_outbox, &r, "/outbox", "state", "retrying", NULL);
    ck_assert(page_has(r.body, "<p>No notice in these states.</p>"));
    ck_assert(page_has(r.body, "<a href=\"outbox?state=failed\">failed (1)</a>"));
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(an_unknown_state_is_refused)
{
    page_load();
    static const char *const bad[] = {"delivered", "Failed", "", "all"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tkl_http_response r;
        page_get(tkl_web_outbox, &r, "/outbox", "state", "failed", "state", bad[i], NULL);
        ck_assert_uint_eq(r.status, 400);
        ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
        ck_assert(page_has(r.body, "unknown state"));
        ck_assert_ptr_eq(strchr(r.body, '\n'), r.body + r.len - 1);
        tkl_http_response_free(&r);
    }
}
END_TEST

START_TEST(an_empty_outbox)
{
    page_load();
    struct tkl_http_response r;
    page_get(tkl_web_outbox, &r, "/outbox", NULL);
    ck_assert_uint_eq(r.status, 200);
    ck_assert(page_has(r.body, "0 pending, 0 retrying, 0 failed"));
    ck_assert(page_has(r.body, "<p>No notice in these states.</p>"));
    ck_assert(page_has(r.body, "<strong>Every state</strong>"));
    tkl_http_response_free(&r);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("operator");
    TCase *tc = tcase_create("operator");
    tcase_add_checked_fixture(tc, setup, page_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, lists_what_waits_failed_first);
    tcase_add_test(tc, filters_by_state);
    tcase_add_test(tc, an_unknown_state_is_refused);
    tcase_add_test(tc, an_empty_outbox);
    suite_add_tcase(su, tc);
    return tkl_check_run(su);
}

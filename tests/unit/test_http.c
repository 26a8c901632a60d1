/* Tests for daemon/http/http.c: the response helpers pages use. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

START_TEST(a_text_answer_owns_a_copy_with_a_line_end)
{
    struct tkl_http_response r = {.status = 200};
    ck_assert_int_eq(tkl_http_text(&r, 404, "Not found."), 0);
    ck_assert_uint_eq(r.status, 404);
    ck_assert_str_eq(r.body, "Not found.\n");
    ck_assert_uint_eq(r.len, 11);
    ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
    ck_assert_int_eq(tkl_http_text(&r, 503, "again"), 0); /* the first is freed */
    ck_assert_str_eq(r.body, "again\n");
    tkl_http_response_free(&r);
    ck_assert_ptr_null(r.body);
    tkl_http_response_free(&r);
}
END_TEST

START_TEST(the_etag_follows_the_body)
{
    struct tkl_http_response a = {0}, b = {0};
    tkl_http_take(&a, "text/calendar; charset=utf-8", strdup("BEGIN:VCALENDAR"), 15);
    tkl_http_take(&b, "text/calendar; charset=utf-8", strdup("BEGIN:VCALENDAR"), 15);
    tkl_http_etag_body(&a);
    tkl_http_etag_body(&b);
    ck_assert_uint_eq(strlen(a.etag), 18);
    ck_assert_int_eq(a.etag[0], '"');
    ck_assert_int_eq(a.etag[17], '"');
    ck_assert_str_eq(a.etag, b.etag);
    b.body[0] = 'b';
    tkl_http_etag_body(&b);
    ck_assert_str_ne(a.etag, b.etag);
    tkl_http_response_free(&a);
    tkl_http_response_free(&b);
}
END_TEST

START_TEST(a_refused_post_links_back_to_its_page)
{
    struct tkl_http_response r = {.status = 200};
    /* no page to go back to: plain text */
    ck_assert_int_eq(tkl_http_post_refused(&r, 400, "Bad form.", NULL), 0);
    ck_assert_str_eq(r.body, "Bad form.\n");
    ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
    tkl_http_response_free(&r);
    r = (struct tkl_http_response){.status = 200};
    ck_assert_int_eq(tkl_http_post_refused(&r, 413, "The field \"<note>\" & more.", "ab\"c"), 0);
    ck_assert_uint_eq(r.status, 413);
    ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
    ck_assert_str_eq(r.cache, "no-store");
    ck_assert(r.noindex);
    char *b = strndup(r.body, r.len);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(strstr(b, "<h1>Nothing recorded</h1>"));
    ck_assert_ptr_nonnull(strstr(b, "<p>The field &quot;&lt;note&gt;&quot; &amp; more.</p>"));
    ck_assert_ptr_nonnull(strstr(b, "<a href=\"ab&quot;c\">Back to the action</a>"));
    free(b);
    tkl_http_response_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_add_test(tc, a_text_answer_owns_a_copy_with_a_line_end);
    tcase_add_test(tc, the_etag_follows_the_body);
    tcase_add_test(tc, a_refused_post_links_back_to_its_page);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

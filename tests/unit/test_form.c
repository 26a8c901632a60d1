/* Tests for daemon/http/form.c: forms POSTed over a real connection to
 * libmicrohttpd and read by its post processor (form_conn.h): fields kept
 * within their limits, line breaks of multiline fields read as LF, and
 * every refusal with the words a page shows: unknown field, a field sent
 * twice, too long, not UTF-8, NUL and control characters, a body that is
 * not url-encoded; and the iterator's contract on pieces of a value. */
#include <check.h>

#include "check_run.h"
#include "form_conn.h"

static const struct tkl_form_field fields[] = {
    {"token", 20, false},
    {"do", 16, false},
    {"note", 40, true},
};
static const struct tkl_form_spec spec = {fields, 3};

static struct form_conn fc;
static struct tkl_form form;

static void setup(void)
{
    ck_assert_int_eq(form_conn_start(&fc), 0);
    tkl_form_init(&form, &spec);
}

static void teardown(void)
{
    tkl_form_free(&form);
    form_conn_stop(&fc);
}

/* POSTs body (url-encoded) and returns what reading the form gave. */
static int post(const char *body)
{
    tkl_form_free(&form);
    tkl_form_init(&form, &spec);
    ck_assert_int_eq(
        form_conn_post(&fc, "application/x-www-form-urlencoded", body, strlen(body), &form), 0);
    return fc.r;
}

static const char *why(void)
{
    static char buf[256];
    tkl_form_why(&form, buf, sizeof(buf));
    return buf;
}

START_TEST(a_good_form_gives_its_fields)
{
    ck_assert_int_eq(post("token=abc-_9&do=complete&note=Line+one%0D%0ALine%09two%0Dthree"), 0);
    ck_assert_str_eq(tkl_form_get(&form, "token"), "abc-_9");
    ck_assert_str_eq(tkl_form_get(&form, "do"), "complete");
    ck_assert_str_eq(tkl_form_get(&form, "note"), "Line one\nLine\ttwo\nthree");
    ck_assert_str_eq(why(), "");
    /* a field not sent is NULL; one sent empty, or without '=', is "" */
    ck_assert_int_eq(post("do&note="), 0);
    ck_assert_ptr_null(tkl_form_get(&form, "token"));
    ck_assert_str_eq(tkl_form_get(&form, "do"), "");
    ck_assert_str_eq(tkl_form_get(&form, "note"), "");
    ck_assert_ptr_null(tkl_form_get(&form, "other"));
    /* UTF-8 is kept as sent */
    ck_assert_int_eq(post("note=caf%C3%A9+%E2%9C%93"), 0);
    ck_assert_str_eq(tkl_form_get(&form, "note"), "café ✓");
    /* an empty body is an empty form */
    ck_assert_int_eq(post(""), 0);
    ck_assert_ptr_null(tkl_form_get(&form, "do"));
}
END_TEST

START_TEST(an_unknown_field_or_one_sent_twice_refuses_the_form)
{
    ck_assert_int_eq(post("do=complete&is_admin=1"), -EINVAL);
    ck_assert_ptr_nonnull(strstr(why(), "a field it does not take"));
    ck_assert_int_eq(post("do=complete&do=snooze"), -EEXIST);
    ck_assert_str_eq(why(), "The field \"do\" is sent twice.");
    ck_assert_int_eq(post("do=&do="), -EEXIST);
    ck_assert_int_eq(post("do&do&token=x"), -EEXIST);
    /* a key without '=' at the very end is not url-encoding (nor what a
     * browser sends) */
    ck_assert_int_eq(post("token=x&do"), -EINVAL);
    /* "d%6F" is "do" */
    ck_assert_int_eq(post("do=a&d%6F=b"), -EEXIST);
}
END_TEST

START_TEST(values_are_held_to_their_limits)
{
    char body[600];
    /* 20 bytes is the limit of token; 21 is over it */
    ck_assert_int_eq(post("token=aaaaaaaaaaaaaaaaaaaa"), 0);
    ck_assert_int_eq(post("token=aaaaaaaaaaaaaaaaaaaaa"), -E2BIG);
    ck_assert_str_eq(why(), "The field \"token\" is longer than 20 bytes.");
    /* the limit counts bytes once decoded, and a note's line breaks as one */
    ck_assert_int_eq(post("token=%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41%41"), 0);
    strcpy(body, "note=");
    for (int i = 0; i < 20; i++)
        strcat(body, "a%0D%0A"); /* 60 bytes sent, 40 read */
    ck_assert_int_eq(post(body), 0);
    ck_assert_uint_eq(strlen(tkl_form_get(&form, "note")), 40);
    strcat(body, "b");
    ck_assert_int_eq(post(body), -E2BIG);
    ck_assert_str_eq(why(), "The field \"note\" is longer than 40 bytes.");
}
END_TEST

START_TEST(text_that_is_not_utf8_or_holds_controls_is_refused)
{
    static const char *const bad[] = {
        "do=%FF",         /* not UTF-8 */
        "do=%C3",         /* a sequence cut short */
        "do=%ED%A0%80",   /* a surrogate */
        "do=a%00b",       /* NUL */
        "token=a%01",     /* C0 */
        "token=a%7F",     /* DEL */
        "token=a%C2%85",  /* C1 (NEL) */
        "do=two%0Alines", /* a line break in a field of one line */
        "do=tab%09",      /* a tab likewise */
        "note=ok%00",     /* NUL even where line breaks are fine */
        "note=bell%07",   /* other controls likewise */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(post(bad[i]) == -EILSEQ, "%s: %d", bad[i], fc.r);
        ck_assert_msg(strstr(why(), "not UTF-8, or control characters") != NULL, "%s", bad[i]);
    }
}
END_TEST

START_TEST(a_body_that_is_not_url_encoded_is_refused)
{
    static const char *const bad[] = {"=x", "do==x", "do=1&=2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(post(bad[i]) == -EINVAL, "%s: %d", bad[i], fc.r);
    /* libmicrohttpd's post processor reads multipart bodies too: the
     * form does not (nor does the server, which answers 415 first) */
    const char mp[] = "--b\r\nContent-Disposition: form-data; name=\"do\"\r\n\r\nx\r\n--b--\r\n";
    tkl_form_free(&form);
    tkl_form_init(&form, &spec);
    ck_assert_int_eq(form_conn_post(&fc, "multipart/form-data; boundary=b", mp, strlen(mp), &form),
                     0);
    ck_assert_int_eq(fc.r, -EPROTONOSUPPORT);
    ck_assert_ptr_null(tkl_form_get(&form, "do"));
    ck_assert_str_eq(why(), "Only forms (application/x-www-form-urlencoded) are taken here.");
    ck_assert(tkl_form_type_ok("Application/X-WWW-Form-URLEncoded; charset=UTF-8"));
    ck_assert(!tkl_form_type_ok("application/x-www-form-urlencodedX"));
    ck_assert(!tkl_form_type_ok(NULL));
}
END_TEST

START_TEST(a_long_value_arrives_whole)
{
    /* longer than libmicrohttpd's 512-byte pieces, escapes across them */
    static const struct tkl_form_field big[] = {{"note", 4000, true}};
    static const struct tkl_form_spec big_spec = {big, 1};
    char body[8000] = "note=", want[2000] = "";
    for (int i = 0; i < 400; i++) {
        strcat(body, i % 3 ? "ab%C3%A9" : "x%0D%0A");
        strcat(want, i % 3 ? "abé" : "x\n");
    }
    tkl_form_init(&form, &big_spec);
    ck_assert_int_eq(
        form_conn_post(&fc, "application/x-www-form-urlencoded", body, strlen(body), &form), 0);
    ck_assert_int_eq(fc.r, 0);
    ck_assert_str_eq(tkl_form_get(&form, "note"), want);
}
END_TEST

START_TEST(the_iterator_takes_pieces_in_order_only)
{
    /* the pieces of one value, as the post processor hands them over */
    ck_assert_int_eq(
        tkl_form_iterate(&form, MHD_POSTDATA_KIND, "note", NULL, NULL, NULL, "abc", 0, 3), MHD_YES);
    ck_assert_int_eq(
        tkl_form_iterate(&form, MHD_POSTDATA_KIND, "note", NULL, NULL, NULL, "def", 3, 3), MHD_YES);
    ck_assert_int_eq(tkl_form_finish(&form), 0);
    ck_assert_str_eq(tkl_form_get(&form, "note"), "abcdef");
    /* a piece that does not follow is not part of one value */
    ck_assert_int_eq(
        tkl_form_iterate(&form, MHD_POSTDATA_KIND, "note", NULL, NULL, NULL, "x", 9, 1), MHD_NO);
    ck_assert_int_eq(form.error, -EINVAL);
    /* once refused, nothing more is taken */
    ck_assert_int_eq(tkl_form_iterate(&form, MHD_POSTDATA_KIND, "do", NULL, NULL, NULL, "x", 0, 1),
                     MHD_NO);
    ck_assert_ptr_null(tkl_form_get(&form, "do"));
    ck_assert_int_eq(tkl_form_finish(&form), -EINVAL);
    /* a file upload is not a field */
    tkl_form_free(&form);
    tkl_form_init(&form, &spec);
    ck_assert_int_eq(
        tkl_form_iterate(&form, MHD_POSTDATA_KIND, "do", "f.txt", NULL, NULL, "x", 0, 1), MHD_NO);
}
END_TEST

START_TEST(a_body_over_the_limit_is_refused_unread)
{
    static char body[TKL_FORM_BODY_MAX + 2];
    memset(body, 'a', sizeof(body) - 1);
    memcpy(body, "do=", 3);
    ck_assert_int_eq(tkl_form_read(&form, NULL, body, TKL_FORM_BODY_MAX + 1), -E2BIG);
    ck_assert_str_eq(why(), "The form is larger than 64 KiB.");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("form");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_good_form_gives_its_fields);
    tcase_add_test(tc, an_unknown_field_or_one_sent_twice_refuses_the_form);
    tcase_add_test(tc, values_are_held_to_their_limits);
    tcase_add_test(tc, text_that_is_not_utf8_or_holds_controls_is_refused);
    tcase_add_test(tc, a_body_that_is_not_url_encoded_is_refused);
    tcase_add_test(tc, a_long_value_arrives_whole);
    tcase_add_test(tc, the_iterator_takes_pieces_in_order_only);
    tcase_add_test(tc, a_body_over_the_limit_is_refused_unread);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

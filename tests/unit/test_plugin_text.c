/* Tests for include/tickler/text.h: HTML escaping as plugins and the
 * calendar export use it. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <tickler/text.h>

START_TEST(entities)
{
    static const struct {
        char c;
        const char *want; /* NULL: c stands for itself */
    } cases[] =
        {
            {'<', "&lt;"},   {'>', "&gt;"}, {'&', "&amp;"}, {'"', "&quot;"},
            {'\'', "&#39;"}, {'\n', " "},   {'\t', " "},    {'\x7f', " "},
            {'a', NULL},     {' ', NULL},   {'\xc3', NULL}, /* UTF-8 bytes stand */
        };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        const char *got = tkl_html_char(cases[i].c);
        if (cases[i].want)
            ck_assert_str_eq(got, cases[i].want);
        else
            ck_assert_ptr_null(got);
    }
}
END_TEST

/* What tkl_html_fputs writes for s. */
static char *escaped(const char *s)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(tkl_html_fputs(s, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return out;
}

START_TEST(strings)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"<a href=\"x\">Tom & Jerry's</a>",
         "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"},
        {"&amp;", "&amp;amp;"},
        {"one\r\ntwo\tthree\x01", "one  two three "},
        {"caf\xc3\xa9 \xe2\x80\x93 ok", "caf\xc3\xa9 \xe2\x80\x93 ok"},
        {"", ""},
        {NULL, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *got = escaped(cases[i].in);
        ck_assert_str_eq(got, cases[i].want);
        free(got);
    }
}
END_TEST

START_TEST(write_error)
{
    FILE *f = fopen("/dev/null", "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(tkl_html_fputs("x", f), -EIO);
    ck_assert_int_eq(tkl_html_fputs("<", f), -EIO);
    ck_assert_int_eq(fclose(f), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_text");
    TCase *tc = tcase_create("html");
    tcase_add_test(tc, entities);
    tcase_add_test(tc, strings);
    tcase_add_test(tc, write_error);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

/* Tests for include/tickler/text.h: UTF-8 characters, and HTML escaping
 * as plugins and the calendar export use it. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <tickler/text.h>

/* Each well-formed character is taken whole, with its code point; what
 * is not one (a stray byte, a sequence cut by the length or by a byte that
 * is no continuation, an overlong form, a surrogate, past U+10FFFF) is
 * none. */
START_TEST(utf8_characters)
{
    static const struct {
        const char *s;
        size_t len, want;
        uint32_t cp;
    } cases[] = {
        {"a", 1, 1, 'a'},
        {"", 1, 1, 0}, /* a NUL byte is ASCII */
        {"\xc3\xa9", 2, 2, 0xe9},
        {"\xe2\x80\x93", 3, 3, 0x2013},
        {"\xf0\x9f\x98\x80", 4, 4, 0x1f600},
        {"\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff},
        {"\xf0\x9f\x98\x80", 3, 0, 0},     /* cut by the length */
        {"\xe2\x80", 3, 0, 0},             /* cut by the NUL after it */
        {"\xc3(", 2, 0, 0},                /* no continuation */
        {"\xc0\xaf", 2, 0, 0},             /* overlong '/' */
        {"\xc1\xbf", 2, 0, 0},             /* overlong DEL */
        {"\xf5\x80\x80\x80", 4, 0, 0},     /* a lead byte past U+10FFFF */
        {"\xe0\x80\xaf", 3, 0, 0},         /* overlong '/' */
        {"\xed\xa0\x80", 3, 0, 0},         /* a surrogate */
        {"\xf4\x90\x80\x80", 4, 0, 0},     /* past U+10FFFF */
        {"\xf8\x88\x80\x80\x80", 5, 0, 0}, /* no lead byte */
        {"\x80", 1, 0, 0},                 /* a continuation alone */
        {"\xff", 1, 0, 0},
        {"x", 0, 0, 0}, /* nothing */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        uint32_t cp = 0xdead;
        ck_assert_uint_eq(tkl_utf8_decode(cases[i].s, cases[i].len, &cp), cases[i].want);
        ck_assert_uint_eq(cp, cases[i].want ? cases[i].cp : 0xdead);
        ck_assert_uint_eq(tkl_utf8_decode(cases[i].s, cases[i].len, NULL), cases[i].want);
    }
}
END_TEST

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
    tcase_add_test(tc, utf8_characters);
    tcase_add_test(tc, entities);
    tcase_add_test(tc, strings);
    tcase_add_test(tc, write_error);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

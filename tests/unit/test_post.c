/* Tests for plugins/common/post.c's check of a peer's answer: an answer
 * that repeats any secret part of the destination's URL, in any of the
 * forms a web server or framework echoes text in, is recognised (and then
 * never kept); an answer that does not is. */
#include <check.h>

#include "check_run.h"
#include <string.h>

#include "post.h"

#define URL                                                                                        \
    "https://prod-12.uksouth.logic.azure.com/workflows/a1b2c3d4e5/triggers/manual/"                \
    "paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sig=Zx9%2bQ7%2fkLm%3d"

START_TEST(an_answer_that_repeats_the_url_is_caught)
{
    static const char *const echoes[] = {
        "Cannot POST /workflows/a1b2c3d4e5/triggers/manual/paths/invoke",
        "{\"error\":\"bad signature Zx9%2BQ7%2FkLm%3D\"}",     /* upper-case escapes */
        "{\"error\":\"bad signature Zx9+Q7/kLm=\"}",           /* decoded */
        "{\"path\":\"\\/workflows\\/a1b2c3d4e5\\/triggers\"}", /* JSON's escaped slash */
        "<p>No workflow &quot;A1B2C3D4E5&quot;</p>",           /* case and entities */
        "<p>No workflow &#97;1b2c3d4e5</p>",                   /* numeric entity */
        "sp=/triggers/manual/run",
        "the api-version 2016-06-01 is retired",
    };
    for (size_t i = 0; i < sizeof(echoes) / sizeof(echoes[0]); i++)
        ck_assert_msg(hp_echoes_url(echoes[i], URL), "not caught: %s", echoes[i]);
    /* a value with spaces written as '+' */
    ck_assert(
        hp_echoes_url("token ab cd ef gh not valid", "https://h.example/x?token=ab+cd+ef+gh"));
    /* a raw "%00" in an echo does not end the comparison */
    ck_assert(hp_echoes_url("x%00 Cannot POST /hooks/T0001/s3cr3tSEGMENT",
                            "https://h.example/hooks/T0001/s3cr3tSEGMENT"));
    /* a URL with a user or password: its Authorization header may be echoed */
    ck_assert(
        hp_echoes_url("denied: Basic YWxpY2U6UGE1NXdvcmQ5", "https://alice:Pa55word9@h.example/x"));
    /* what cannot be read counts as repeated */
    ck_assert(hp_echoes_url("anything", NULL));
    ck_assert(hp_echoes_url("anything", "not a url at all\x01"));
}
END_TEST

START_TEST(an_answer_that_does_not_is_kept)
{
    static const char *const fine[] = {
        "{\"error\":{\"code\":\"WorkflowNotFound\",\"message\":\"The workflow was not found.\"}}",
        "Too many requests; retry after 30 seconds",
        "",
    };
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
        ck_assert_msg(!hp_echoes_url(fine[i], URL), "wrongly caught: %s", fine[i]);
    /* words of a URL and query names are not secrets: an error page that
     * names them is kept */
    ck_assert(!hp_echoes_url("the API is down", "https://h.example/api/x1?a=b"));
    ck_assert(!hp_echoes_url("Invalid token; invoke again later",
                             "https://h.example/hooks/invoke?token=Q7kLm9ZxT"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("post");
    TCase *tc = tcase_create("post");
    tcase_add_test(tc, an_answer_that_repeats_the_url_is_caught);
    tcase_add_test(tc, an_answer_that_does_not_is_kept);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

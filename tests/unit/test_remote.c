/* Tests for daemon/store/remote.c: what may be shown of a URL (never its
 * query or userinfo), which URLs store.files takes, the plan's format
 * from the URL, Content-Disposition or Content-Type, and the cached copy
 * (named by a hash, written whole, the other endings removed). */
#include <check.h>

#include "check_run.h"
#include "tmpdir.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/remote.h"

static char dir[256];

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "remote");
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

static void place_is(const char *url, const char *want)
{
    char *p = tkl_remote_place(url);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p, want);
    free(p);
}

/* A shared link's key is in its query or its path: a place shows the
 * host and the file's name only. */
START_TEST(a_place_never_shows_query_or_userinfo)
{
    place_is("https://council.sharepoint.com/:x:/g/personal/a/EaBc?e=4%3aXyz&download=1",
             "https://council.sharepoint.com/…");
    place_is("https://user:secret@example.org:8443/plans/plan.xlsx?sig=abc#Actions 2025",
             "https://example.org:8443/…/plan.xlsx#Actions 2025");
    place_is("https://docs.google.com/spreadsheets/d/e/2PACX-1vQabc/pub?output=csv",
             "https://docs.google.com/…");
    place_is("https://1drv.ms/x/s!AbCdEfGh", "https://1drv.ms/…");
    place_is("https://www.dropbox.com/s/k3yk3yk3y/plan.csv?dl=1",
             "https://www.dropbox.com/…/plan.csv");
    place_is("https://example.org/plan.csv", "https://example.org/plan.csv");
    place_is("https://example.org/plans/", "https://example.org/…");
    place_is("https://example.org/a/.xlsx", "https://example.org/…");
    place_is("https://example.org", "https://example.org/");
    place_is("https://exa^mple.org/x?sig=abc", "(a URL tickler cannot read)");
}
END_TEST

START_TEST(only_https_urls_with_a_host_are_taken)
{
    char err[200];
    ck_assert(tkl_remote_is_url("https://example.org/plan.csv"));
    ck_assert(tkl_remote_is_url("http://example.org/plan.csv"));
    ck_assert(!tkl_remote_is_url("plans/plan.csv"));
    ck_assert(!tkl_remote_is_url("/srv/plans:2025/plan.csv"));
    ck_assert(!tkl_remote_is_url("://x"));
    ck_assert_int_eq(tkl_remote_check_url("https://example.org/plan.csv?x=1", err, sizeof(err)), 0);
    ck_assert_int_eq(tkl_remote_check_url("HTTPS://example.org/plan.csv", err, sizeof(err)), 0);
    ck_assert_int_eq(
        tkl_remote_check_url("http://example.org/plan.csv?sig=s3cr3t", err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "http:// is refused"));
    ck_assert_ptr_null(strstr(err, "s3cr3t"));
    ck_assert_int_eq(tkl_remote_check_url("ftp://example.org/plan.csv", err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(tkl_remote_check_url("https://h/plan 2025.csv", err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(tkl_remote_check_url("https://h/plan.xlsx#Sheet 1", err, sizeof(err)), 0);
}
END_TEST

START_TEST(the_format_comes_from_the_path_then_the_headers)
{
    const char *xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    ck_assert_str_eq(tkl_remote_format("https://h/p/Plan.CSV?x=.docx", NULL, xlsx), ".csv");
    ck_assert_str_eq(tkl_remote_format("https://h/p/plan.xlsx#Sheet 1", NULL, NULL), ".xlsx");
    ck_assert_str_eq(tkl_remote_format("https://h/download?id=1",
                                       "attachment; filename=\"Action plan 2025.ods\"", xlsx),
                     ".ods");
    ck_assert_str_eq(tkl_remote_format("https://h/download",
                                       "attachment; filename*=UTF-8''Plan%202025.docx; "
                                       "filename=\"Plan.csv\"",
                                       NULL),
                     ".docx");
    ck_assert_str_eq(tkl_remote_format("https://h/download", "inline", "text/csv; charset=utf-8"),
                     ".csv");
    ck_assert_str_eq(tkl_remote_format("https://h/download", NULL, xlsx), ".xlsx");
    ck_assert_ptr_null(tkl_remote_format("https://h/download", "attachment; filename=plan.pdf",
                                         "application/pdf"));
    ck_assert_ptr_null(tkl_remote_format("https://h/csv", "filename=\"\"", "text/csvx"));
    ck_assert_ptr_null(tkl_remote_format("https://h/.csv/x", NULL, NULL));
}
END_TEST

static const char *const exts[] = {".csv", ".xlsx", NULL};

START_TEST(the_cached_copy_is_named_by_a_hash_and_written_whole)
{
    const char *url = "https://h/plan?sig=s3cr3t";
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/state/plans", dir); /* neither exists yet */
    char *stem = tkl_remote_cache_stem(sub, url);
    ck_assert_ptr_nonnull(stem);
    ck_assert_ptr_null(strstr(stem, "s3cr3t"));
    ck_assert_uint_eq(strlen(stem), strlen(sub) + 1 + 64);
    char *other = tkl_remote_cache_stem(sub, "https://h/plan?sig=other");
    ck_assert_str_ne(stem, other);
    free(other);

    int err = 0;
    ck_assert_ptr_null(tkl_remote_cached(sub, url, exts, &err));
    ck_assert_int_eq(err, 0);
    ck_assert_int_eq(tkl_remote_save(stem, ".xlsx", exts, "PK\3\4", 4, 0), 0);
    ck_assert_int_eq(tkl_remote_save(stem, ".csv", exts, "a,b\n", 4, 1700000000), 0);
    char *path = tkl_remote_cached(sub, url, exts, &err);
    ck_assert_ptr_nonnull(path);
    ck_assert_str_eq(path + strlen(stem), ".csv"); /* the .xlsx copy was removed */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mtim.tv_sec, 1700000000);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert(tkl_remote_same(path, "a,b\n", 4));
    ck_assert(!tkl_remote_same(path, "a,b\n\n", 5));
    ck_assert(!tkl_remote_same(path, "a,c\n", 4));
    ck_assert(!tkl_remote_same(path, "a,b", 3));
    free(path);
    char xlsx[400], tmp[400];
    snprintf(xlsx, sizeof(xlsx), "%s.xlsx", stem);
    snprintf(tmp, sizeof(tmp), "%s.csv.tmp", stem);
    ck_assert_int_eq(access(xlsx, F_OK), -1);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_ptr_null(tkl_remote_cached(NULL, url, exts, &err));
    free(stem);
}
END_TEST

START_TEST(a_save_that_fails_leaves_the_copy_before)
{
    char *stem = tkl_remote_cache_stem(dir, "https://h/plan.csv");
    ck_assert_int_eq(tkl_remote_save(stem, ".csv", exts, "old\n", 4, 0), 0);
    char blocker[400];
    /* the temporary file's name is taken by a directory */
    snprintf(blocker, sizeof(blocker), "%s.csv.tmp", stem);
    ck_assert_int_eq(mkdir(blocker, 0700), 0);
    ck_assert_int_lt(tkl_remote_save(stem, ".csv", exts, "new\n", 4, 0), 0);
    snprintf(blocker, sizeof(blocker), "%s.csv", stem);
    ck_assert(tkl_remote_same(blocker, "old\n", 4));
    free(stem);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("remote");
    TCase *tc = tcase_create("remote");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_place_never_shows_query_or_userinfo);
    tcase_add_test(tc, only_https_urls_with_a_host_are_taken);
    tcase_add_test(tc, the_format_comes_from_the_path_then_the_headers);
    tcase_add_test(tc, the_cached_copy_is_named_by_a_hash_and_written_whole);
    tcase_add_test(tc, a_save_that_fails_leaves_the_copy_before);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

/* Tests for daemon/store/fetch.c without a server: a URL nobody answers
 * (a closed port on the loopback) fails with a warning that names the
 * place only, and says when the daemon's copy is read instead; on the
 * loop, a failure is reported as a change of state once and not again
 * while it stays the same; a token file that cannot be read is a failure
 * too; a store without URLs starts nothing. The fetches against a real
 * HTTPS server are tests/integration/test_remote.py's. */
#include <check.h>

#include "check_run.h"
#include "loop_wait.h"
#include "tmpdir.h"
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/fetch.h"
#include "store/remote.h"

/* A port nothing listens on: connections are refused at once. */
#define NOBODY "https://127.0.0.1:1/plans/plan.csv?sig=s3cr3t"

static char dir[256];
static uv_loop_t loop;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "fetch");
    ck_assert_int_eq(uv_loop_init(&loop), 0);
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* Store options naming paths; freed with tkl_store_opts_free. */
static struct tkl_store_opts opts_of(const char *path, const char *token_file)
{
    struct tkl_store_opts o = {0};
    o.paths = calloc(2, sizeof(char *));
    ck_assert_ptr_nonnull(o.paths);
    o.paths[0] = strdup(path);
    o.n_paths = 1;
    o.fetch.interval_s = 1;
    o.fetch.max_bytes = 1 << 20;
    o.fetch.config_dir = strdup(dir);
    o.fetch.token_file = token_file ? strdup(token_file) : NULL;
    return o;
}

/* The text of the only diagnostic of d, which must be a warning. */
static const char *only_warning(const struct tkl_diags *d)
{
    ck_assert_uint_eq(d->n, 1);
    ck_assert_int_eq(d->items[0].severity, TKL_SEV_WARNING);
    ck_assert_str_eq(d->items[0].file, "https://127.0.0.1:1/…/plan.csv");
    return d->items[0].message;
}

START_TEST(a_failed_fetch_is_a_warning_naming_the_place)
{
    struct tkl_store_opts o = opts_of(NOBODY, NULL);
    struct tkl_team_dir teams = {0};
    struct tkl_diags d = {0};
    char fresh[300];
    snprintf(fresh, sizeof(fresh), "%s/fresh", dir);
    ck_assert_int_eq(tkl_fetch_prepare(&o, &teams, dir, fresh, true, &d), 0);
    ck_assert_str_eq(only_warning(&d), "cannot fetch: Couldn't connect to server");
    ck_assert_str_eq(o.fresh_dir, fresh);
    ck_assert_ptr_nonnull(strstr(o.cache_dir, "/plans"));
    tkl_diags_free(&d);

    /* with a copy of the daemon's, the warning says it is read instead */
    char *stem = tkl_remote_cache_stem(o.cache_dir, NOBODY);
    ck_assert_int_eq(
        tkl_remote_save(stem, ".csv", tkl_store_endings(), "Action\nx\n", 9, 1700000000), 0);
    free(stem);
    ck_assert_int_eq(tkl_fetch_prepare(&o, &teams, dir, fresh, true, &d), 0);
    ck_assert_str_eq(only_warning(&d), "cannot fetch: Couldn't connect to server; reading the "
                                       "daemon's copy instead (last changed 2023-11-14 22:13 UTC)");
    tkl_diags_free(&d);

    /* the daemon (no fresh directory) fetches only what it has no copy of */
    ck_assert_int_eq(tkl_fetch_prepare(&o, &teams, dir, NULL, true, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    free(o.fresh_dir);
    o.fresh_dir = NULL;
    char *held = tkl_remote_cache_stem(o.cache_dir, NOBODY), copy[400];
    snprintf(copy, sizeof(copy), "%s.csv", held);
    free(held);
    ck_assert_int_eq(unlink(copy), 0);
    ck_assert_int_eq(tkl_fetch_prepare(&o, &teams, dir, NULL, true, &d), 0);
    ck_assert_str_eq(only_warning(&d), "cannot fetch: Couldn't connect to server");
    tkl_diags_free(&d);
    /* tickler without a directory of its own fetches nothing */
    ck_assert_int_eq(tkl_fetch_prepare(&o, &teams, dir, NULL, false, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    tkl_store_opts_free(&o);
}
END_TEST

START_TEST(a_store_without_urls_fetches_nothing)
{
    struct tkl_store_opts o = opts_of("plan.csv", NULL);
    struct tkl_team_dir teams = {0};
    struct tkl_diags d = {0};
    struct tkl_fetcher *f = (void *)&o;
    ck_assert_int_eq(tkl_fetch_prepare(&o, &teams, dir, dir, true, &d), 0);
    ck_assert_ptr_null(o.cache_dir);
    ck_assert_ptr_null(o.fresh_dir);
    const struct tkl_fetcher_host host = {0};
    ck_assert_int_eq(tkl_fetcher_start(&loop, NULL, &o, &teams, &host, &f), 0);
    ck_assert_ptr_null(f);
    tkl_fetcher_close(NULL);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
    tkl_store_opts_free(&o);
}
END_TEST

struct seen {
    int n, changes;
    char why[256];
};

static void on_fetched(void *data, const char *place, const struct tkl_fetch_result *res,
                       bool state_changed, const char *was)
{
    struct seen *s = data;
    ck_assert_str_eq(place, "https://127.0.0.1:1/…/plan.csv");
    ck_assert_int_eq(res->outcome, TKL_FETCH_FAILED);
    ck_assert_ptr_null(strstr(res->why, "s3cr3t"));
    ck_assert_ptr_null(was); /* it never succeeded */
    snprintf(s->why, sizeof(s->why), "%s", res->why);
    s->n++;
    s->changes += state_changed;
}

/* Polls NOBODY with token_file until three results came; returns them. */
static struct seen poll_three(const char *token_file)
{
    struct tkl_store_opts o = opts_of(NOBODY, token_file);
    struct tkl_team_dir teams = {0};
    struct tkl_transfers *t = NULL;
    struct tkl_fetcher *f = NULL;
    struct seen s = {0};
    const struct tkl_fetcher_host host = {on_fetched, &s};
    ck_assert_int_eq(tkl_store_opts_cache_in(&o, dir), 0);
    ck_assert_int_eq(tkl_transfers_new(&loop, &t), 0);
    ck_assert_int_eq(tkl_fetcher_start(&loop, t, &o, &teams, &host, &f), 0);
    ck_assert_ptr_nonnull(f);
    ck_assert(tkl_run_until_count(&loop, &s.n, 3));
    tkl_fetcher_close(f);
    tkl_transfers_close(t);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
    tkl_store_opts_free(&o);
    return s;
}

START_TEST(a_lasting_failure_is_one_change_of_state)
{
    struct seen s = poll_three(NULL);
    ck_assert_int_eq(s.changes, 1);
    ck_assert_str_eq(s.why, "Couldn't connect to server");
}
END_TEST

START_TEST(a_reload_carries_the_failure_over)
{
    struct tkl_store_opts o = opts_of(NOBODY, NULL), o2 = opts_of(NOBODY, NULL);
    struct tkl_team_dir teams = {0};
    struct tkl_transfers *t = NULL;
    struct tkl_fetcher *f = NULL, *f2 = NULL;
    struct seen s = {0}, s2 = {0};
    const struct tkl_fetcher_host host = {on_fetched, &s}, host2 = {on_fetched, &s2};
    ck_assert_int_eq(tkl_store_opts_cache_in(&o, dir), 0);
    ck_assert_int_eq(tkl_store_opts_cache_in(&o2, dir), 0);
    ck_assert_int_eq(tkl_transfers_new(&loop, &t), 0);
    ck_assert_int_eq(tkl_fetcher_start(&loop, t, &o, &teams, &host, &f), 0);
    ck_assert(tkl_run_until_count(&loop, &s.n, 1));
    ck_assert_int_eq(tkl_fetcher_start(&loop, t, &o2, &teams, &host2, &f2), 0);
    tkl_fetcher_carry(f, f2);
    tkl_fetcher_close(f);
    tkl_store_opts_free(&o); /* the new fetcher owns nothing of the old one's */
    ck_assert(tkl_run_until_count(&loop, &s2.n, 2));
    ck_assert_int_eq(s.changes, 1);
    ck_assert_int_eq(s2.changes, 0);
    tkl_fetcher_close(f2);
    tkl_fetcher_carry(NULL, NULL);
    tkl_transfers_close(t);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
    tkl_store_opts_free(&o2);
}
END_TEST

START_TEST(a_token_file_that_cannot_be_read_is_a_failure)
{
    struct seen s = poll_three("no-such.token");
    ck_assert_int_eq(s.changes, 1);
    ck_assert_str_eq(s.why, "cannot read store.fetch_token_file: No such file or directory");
}
END_TEST

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    Suite *s = suite_create("fetch");
    TCase *tc = tcase_create("fetch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_failed_fetch_is_a_warning_naming_the_place);
    tcase_add_test(tc, a_store_without_urls_fetches_nothing);
    tcase_add_test(tc, a_lasting_failure_is_one_change_of_state);
    tcase_add_test(tc, a_reload_carries_the_failure_over);
    tcase_add_test(tc, a_token_file_that_cannot_be_read_is_a_failure);
    suite_add_tcase(s, tc);
    int r = tkl_check_run(s);
    curl_global_cleanup();
    return r;
}

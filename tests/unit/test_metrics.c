/* Tests for daemon/metrics/metrics.c: what is reported shows in the text a
 * scraper reads (checked with tests/unit/prom_text.h: HELP and TYPE before
 * each family, cumulative buckets, escaped label values), a NULL registry
 * is a no-op, a write error is reported, and with any allocation failing
 * nothing is half counted. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "prom_text.h"
#include "metrics/metrics.h"

#define MS 1000000ULL /* nanoseconds */

static struct tkl_metrics *m;

static void setup(void)
{
    ck_assert_int_eq(tkl_metrics_new(&m), 0);
}

static void teardown(void)
{
    tkl_metrics_free(m);
    m = NULL;
}

/* The registry's text, checked; the caller frees it. */
static char *render(const struct tkl_metrics *reg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(tkl_metrics_render(reg, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_uint_eq(strlen(text), len);
    (void)prom_check(text);
    return text;
}

/* Whether a occurs in text before b (both occur). */
static bool before(const char *text, const char *a, const char *b)
{
    const char *pa = strstr(text, a), *pb = strstr(text, b);
    ck_assert_msg(pa && pb, "%s or %s missing", a, b);
    return pa < pb;
}

static double bucket(const char *text, const char *channel, const char *le)
{
    return prom_value(text, "tickler_notification_latency_seconds_bucket", "channel", channel, "le",
                      le, NULL);
}

START_TEST(an_empty_registry_shows_every_family)
{
    char *text = render(m);
    const char *families[] = {"tickler_notifications_total counter",
                              "tickler_notifications_failed_total counter",
                              "tickler_notifications_withdrawn_total counter",
                              "tickler_notification_requests_total counter",
                              "tickler_notification_requests_failed_total counter",
                              "tickler_notification_latency_seconds histogram",
                              "tickler_store_reloads_total counter",
                              "tickler_store_last_reload_success_timestamp_seconds gauge",
                              "tickler_store_last_reload_successful gauge",
                              "tickler_store_files_from_copy gauge",
                              "tickler_store_bytes gauge",
                              "tickler_http_requests_total counter"};
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "# TYPE %s\n", families[i]);
        ck_assert_msg(strstr(text, line), "no %s", line);
    }
    ck_assert_double_eq(prom_value(text, "tickler_store_reloads_total", "result", "success", NULL),
                        0);
    ck_assert_double_eq(prom_value(text, "tickler_store_reloads_total", "result", "failure", NULL),
                        0);
    free(text);
}
END_TEST

START_TEST(attempts_and_outcomes_show_per_channel)
{
    ck_assert_int_eq(tkl_metrics_channel(m, "email"), 0);
    ck_assert_int_eq(tkl_metrics_channel(m, "teams"), 0);
    ck_assert_int_eq(tkl_metrics_channel(m, "email"), 0); /* once */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tkl_metrics_attempt(m, "email"), 0);
    ck_assert_int_eq(tkl_metrics_attempt_done(m, "email", true, 3 * MS), 0);
    ck_assert_int_eq(tkl_metrics_attempt_done(m, "email", true, 700 * MS), 0);
    ck_assert_int_eq(tkl_metrics_attempt_done(m, "email", false, 45000 * MS), 0);
    ck_assert_int_eq(tkl_metrics_delivered(m, "email"), 0);
    ck_assert_int_eq(tkl_metrics_delivered(m, "email"), 0);
    ck_assert_int_eq(tkl_metrics_failed(m, "email", TKL_FAIL_EXPIRED), 0);
    ck_assert_int_eq(tkl_metrics_failed(m, "email", TKL_FAIL_COUNT), -EINVAL);
    char *text = render(m);
    ck_assert_double_eq(prom_value(text, "tickler_notifications_total", "channel", "email", NULL),
                        3);
    ck_assert_double_eq(prom_value(text, "tickler_notifications_failed_total", "channel", "email",
                                   "reason", "expired", NULL),
                        1);
    ck_assert_double_eq(prom_value(text, "tickler_notifications_failed_total", "channel", "email",
                                   "reason", "permanent", NULL),
                        0);
    ck_assert_double_eq(
        prom_value(text, "tickler_notification_requests_total", "channel", "email", NULL), 3);
    ck_assert_double_eq(
        prom_value(text, "tickler_notification_requests_failed_total", "channel", "email", NULL),
        1);
    /* 3 ms, 700 ms and 45 s: cumulative per bound */
    ck_assert_double_eq(bucket(text, "email", "0.001"), -1); /* no such bound */
    ck_assert_double_eq(bucket(text, "email", "0.005"), 1);
    ck_assert_double_eq(bucket(text, "email", "0.5"), 1);
    ck_assert_double_eq(bucket(text, "email", "1"), 2);
    ck_assert_double_eq(bucket(text, "email", "30"), 2);
    ck_assert_double_eq(bucket(text, "email", "60"), 3);
    ck_assert_double_eq(bucket(text, "email", "+Inf"), 3);
    ck_assert_double_eq(
        prom_value(text, "tickler_notification_latency_seconds_sum", "channel", "email", NULL),
        45.703);
    ck_assert_ptr_nonnull(
        strstr(text, "tickler_notification_latency_seconds_sum{channel=\"email\"} 45.703000000\n"));
    /* teams: shown, all at 0 */
    ck_assert_double_eq(prom_value(text, "tickler_notifications_total", "channel", "teams", NULL),
                        0);
    ck_assert_double_eq(bucket(text, "teams", "+Inf"), 0);
    /* email first: the order channels were seen in */
    ck_assert(before(text, "{channel=\"email\"}", "{channel=\"teams\"}"));
    free(text);
}
END_TEST

START_TEST(a_latency_on_a_bound_falls_in_that_bucket)
{
    ck_assert_int_eq(tkl_metrics_attempt_done(m, "webhook", true, 250 * MS), 0);
    ck_assert_int_eq(tkl_metrics_attempt_done(m, "webhook", true, 250 * MS + 1), 0);
    ck_assert_int_eq(tkl_metrics_attempt_done(m, "webhook", false, 3600000 * MS), 0);
    char *text = render(m);
    ck_assert_double_eq(bucket(text, "webhook", "0.1"), 0);
    ck_assert_double_eq(bucket(text, "webhook", "0.25"), 1);
    ck_assert_double_eq(bucket(text, "webhook", "0.5"), 2);
    ck_assert_double_eq(bucket(text, "webhook", "300"), 2);
    ck_assert_double_eq(bucket(text, "webhook", "+Inf"), 3);
    free(text);
}
END_TEST

START_TEST(label_values_are_escaped)
{
    const char *name = "ops \"night\" \\ desk\nline two";
    ck_assert_int_eq(tkl_metrics_delivered(m, name), 0);
    char *text = render(m);
    ck_assert_ptr_nonnull(strstr(
        text,
        "tickler_notifications_total{channel=\"ops \\\"night\\\" \\\\ desk\\nline two\"} 1\n"));
    /* read back by a scraper as the name it was */
    ck_assert_double_eq(prom_value(text, "tickler_notifications_total", "channel", name, NULL), 1);
    free(text);
}
END_TEST

START_TEST(http_requests_show_by_route_and_code)
{
    ck_assert_int_eq(tkl_metrics_http(m, TKL_ROUTE_METRICS, 200), 0);
    ck_assert_int_eq(tkl_metrics_http(m, TKL_ROUTE_STATUS_HTML, 304), 0);
    ck_assert_int_eq(tkl_metrics_http(m, TKL_ROUTE_METRICS, 200), 0);
    ck_assert_int_eq(tkl_metrics_http(m, TKL_ROUTE_COUNT, 404), 0);
    ck_assert_int_eq(tkl_metrics_http(m, TKL_ROUTE_CATEGORY_ICS, 200), 0);
    ck_assert_int_eq(tkl_metrics_http(m, TKL_ROUTE_INDEX, 200), 0);
    char *text = render(m);
    ck_assert_double_eq(
        prom_value(text, "tickler_http_requests_total", "path", "/metrics", "code", "200", NULL),
        2);
    ck_assert_double_eq(
        prom_value(text, "tickler_http_requests_total", "path", "/status", "code", "304", NULL), 1);
    ck_assert_double_eq(
        prom_value(text, "tickler_http_requests_total", "path", "other", "code", "404", NULL), 1);
    ck_assert_double_eq(prom_value(text, "tickler_http_requests_total", "path",
                                   "/calendar/{category}.ics", "code", "200", NULL),
                        1);
    ck_assert_double_eq(
        prom_value(text, "tickler_http_requests_total", "path", "/", "code", "200", NULL), 1);
    /* by route, then code */
    ck_assert(before(text, "path=\"/\"", "path=\"/calendar/"));
    ck_assert(before(text, "path=\"/metrics\"", "path=\"other\""));
    ck_assert(before(text, "path=\"/status\",code=\"304\"", "path=\"/metrics\""));
    free(text);
}
END_TEST

START_TEST(store_reloads_count_by_result_and_keep_the_last_success)
{
    tkl_metrics_store_loaded(m, 1700000000);
    char *text = render(m);
    ck_assert_double_eq(
        prom_value(text, "tickler_store_last_reload_success_timestamp_seconds", NULL), 1700000000);
    ck_assert_double_eq(prom_value(text, "tickler_store_last_reload_successful", NULL), 1);
    ck_assert_double_eq(prom_value(text, "tickler_store_reloads_total", "result", "success", NULL),
                        0);
    free(text);
    tkl_metrics_store_reload(m, true, 1700000100);
    tkl_metrics_store_reload(m, false, 1700000200);
    tkl_metrics_store_reload(m, false, 1700000300);
    text = render(m);
    ck_assert_double_eq(prom_value(text, "tickler_store_reloads_total", "result", "success", NULL),
                        1);
    ck_assert_double_eq(prom_value(text, "tickler_store_reloads_total", "result", "failure", NULL),
                        2);
    ck_assert_double_eq(
        prom_value(text, "tickler_store_last_reload_success_timestamp_seconds", NULL), 1700000100);
    /* the plan could not be read again, and still cannot */
    ck_assert_double_eq(prom_value(text, "tickler_store_last_reload_successful", NULL), 0);
    free(text);
    tkl_metrics_store_reload(m, true, 1700000400);
    tkl_metrics_store_from_copies(m, 2); /* read, but two files from their copies */
    text = render(m);
    ck_assert_double_eq(prom_value(text, "tickler_store_last_reload_successful", NULL), 1);
    ck_assert_double_eq(prom_value(text, "tickler_store_files_from_copy", NULL), 2);
    free(text);
    tkl_metrics_store_from_copies(m, 0);
    text = render(m);
    ck_assert_double_eq(prom_value(text, "tickler_store_files_from_copy", NULL), 0);
    free(text);
}
END_TEST

START_TEST(the_store_bytes_show_where_they_are_held)
{
    tkl_metrics_store_bytes(m, 17000000, 1234);
    char *text = render(m);
    ck_assert_double_eq(prom_value(text, "tickler_store_bytes", "held_in", "files", NULL),
                        17000000);
    ck_assert_double_eq(prom_value(text, "tickler_store_bytes", "held_in", "private", NULL), 1234);
    free(text);
    tkl_metrics_store_bytes(m, 0, 987654321);
    text = render(m);
    ck_assert_double_eq(prom_value(text, "tickler_store_bytes", "held_in", "files", NULL), 0);
    ck_assert_double_eq(prom_value(text, "tickler_store_bytes", "held_in", "private", NULL),
                        987654321);
    free(text);
}
END_TEST

START_TEST(a_null_registry_counts_nothing_and_shows_the_families)
{
    ck_assert_int_eq(tkl_metrics_channel(NULL, "email"), 0);
    ck_assert_int_eq(tkl_metrics_attempt(NULL, "email"), 0);
    ck_assert_int_eq(tkl_metrics_attempt_done(NULL, "email", true, 1), 0);
    ck_assert_int_eq(tkl_metrics_delivered(NULL, "email"), 0);
    ck_assert_int_eq(tkl_metrics_failed(NULL, "email", TKL_FAIL_PERMANENT), 0);
    ck_assert_int_eq(tkl_metrics_http(NULL, TKL_ROUTE_INDEX, 200), 0);
    tkl_metrics_store_reload(NULL, true, 1);
    tkl_metrics_store_loaded(NULL, 1);
    tkl_metrics_free(NULL);
    char *text = render(NULL);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE tickler_notifications_total counter\n"));
    ck_assert_ptr_null(strstr(text, "channel="));
    free(text);
}
END_TEST

START_TEST(a_write_error_is_reported)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f) {
        fprintf(stderr, "a_write_error_is_reported: no /dev/full here, skipped\n");
        return;
    }
    ck_assert_int_eq(setvbuf(f, NULL, _IONBF, 0), 0);
    ck_assert_int_eq(tkl_metrics_delivered(m, "email"), 0);
    ck_assert_int_eq(tkl_metrics_render(m, f), -EIO);
    fclose(f);
}
END_TEST

START_TEST(reason_names_are_the_documented_label_values)
{
    ck_assert_str_eq(tkl_fail_reason_name(TKL_FAIL_PERMANENT), "permanent");
    ck_assert_str_eq(tkl_fail_reason_name(TKL_FAIL_EXPIRED), "expired");
    ck_assert_str_eq(tkl_fail_reason_name(TKL_FAIL_RECIPIENT), "recipient");
    ck_assert_str_eq(tkl_fail_reason_name(TKL_FAIL_NO_NOTIFIER), "no_notifier");
    ck_assert_str_eq(tkl_fail_reason_name(TKL_FAIL_COUNT), "other");
}
END_TEST

/* Reports for 6 channels and 20 (route, code) pairs with allocation i
 * failing; r_ch and r_http get what each call returned (no ck_assert
 * meanwhile: check allocates). Returns the number of allocations made. */
static unsigned long report_with_failure(unsigned long i, int r_ch[6], int r_http[20])
{
    char name[16];
    alloc_fail_nth(i);
    for (int c = 0; c < 6; c++) {
        snprintf(name, sizeof(name), "chan%d", c);
        r_ch[c] = tkl_metrics_attempt(m, name);
    }
    for (int h = 0; h < 20; h++)
        r_http[h] = tkl_metrics_http(m, (enum tkl_route)(h % TKL_ROUTE_COUNT), 200 + (unsigned)h);
    unsigned long used = alloc_count;
    alloc_fail_nth(0);
    return used;
}

START_TEST(a_failed_allocation_loses_one_count_and_nothing_else)
{
    unsigned long i;
    for (i = 1;; i++) {
        int r_ch[6], r_http[20];
        char name[16], code[12];
        tkl_metrics_free(m);
        ck_assert_int_eq(tkl_metrics_new(&m), 0);
        unsigned long used = report_with_failure(i, r_ch, r_http);
        char *text = render(m);
        for (int c = 0; c < 6; c++) {
            snprintf(name, sizeof(name), "chan%d", c);
            ck_assert(r_ch[c] == 0 || r_ch[c] == -ENOMEM);
            ck_assert_double_eq(
                prom_value(text, "tickler_notification_requests_total", "channel", name, NULL),
                r_ch[c] == 0 ? 1 : -1);
        }
        for (int h = 0; h < 20; h++) {
            snprintf(code, sizeof(code), "%d", 200 + h);
            ck_assert(r_http[h] == 0 || r_http[h] == -ENOMEM);
            ck_assert_double_eq(prom_value(text, "tickler_http_requests_total", "path",
                                           tkl_route_name((enum tkl_route)(h % TKL_ROUTE_COUNT)),
                                           "code", code, NULL),
                                r_http[h] == 0 ? 1 : -1);
        }
        free(text);
        if (used < i)
            break;
    }
    ck_assert_uint_gt(i, 5);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, an_empty_registry_shows_every_family);
    tcase_add_test(tc, attempts_and_outcomes_show_per_channel);
    tcase_add_test(tc, a_latency_on_a_bound_falls_in_that_bucket);
    tcase_add_test(tc, label_values_are_escaped);
    tcase_add_test(tc, http_requests_show_by_route_and_code);
    tcase_add_test(tc, store_reloads_count_by_result_and_keep_the_last_success);
    tcase_add_test(tc, the_store_bytes_show_where_they_are_held);
    tcase_add_test(tc, a_null_registry_counts_nothing_and_shows_the_families);
    tcase_add_test(tc, a_write_error_is_reported);
    tcase_add_test(tc, reason_names_are_the_documented_label_values);
    tcase_add_test(tc, a_failed_allocation_loses_one_count_and_nothing_else);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

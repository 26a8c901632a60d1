/* Tests for plugins/common/digest.c, the wording shared by the notifiers:
 * dates in the host's time zone and HTML escaping of plan text. */
#include <check.h>

#include "check_run.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tickler/day.h>

#include "digest.h"

static void use_zone(const char *zone)
{
    ck_assert_int_eq(setenv("TZ", zone, 1), 0);
    tzset();
}

/* Renders tmpl for a notice of one entry titled title, sent at now. */
static char *render(const char *tmpl, enum dg_mode mode, const char *title, int64_t now)
{
    struct tkl_notice_entry e = {
        .size = sizeof(e),
        .item_id = "A1",
        .title = title,
        .deadline_day = tkl_day_from_civil(2023, 7, 7),
        .kind = TKL_DEADLINE_DATE,
        .stage = TKL_STAGE_LEAD,
        .days_left = 6,
    };
    struct tkl_notice n = {
        .size = sizeof(n),
        .recipient = "bravo@example.org",
        .team_name = "Bravo",
        .due_at = now,
        .entries = &e,
        .n_entries = 1,
    };
    struct dg_buf b = {0};
    dg_render(&b, tmpl, &n, &(struct dg_render_opts){.now = now}, mode, "\n");
    ck_assert(!b.oom);
    return b.data;
}

START_TEST(date_is_the_local_day)
{
    /* 00:30 BST on Saturday 1 July is still 30 June in UTC */
    use_zone("Europe/London");
    char *s = render("{{date}}", DG_SUBJECT, "x", 1688167800);
    ck_assert_str_eq(s, "Saturday 1 July 2023");
    free(s);
    /* 21:00 on Thursday 2 March in New York is 3 March in UTC */
    use_zone("America/New_York");
    s = render("{{date}}", DG_SUBJECT, "x", 1677808800);
    ck_assert_str_eq(s, "Thursday 2 March 2023");
    free(s);
    use_zone("Europe/London");
}
END_TEST

START_TEST(day_names)
{
    char buf[64];
    dg_format_day(tkl_day_from_civil(2023, 3, 31), buf, sizeof(buf));
    ck_assert_str_eq(buf, "Friday 31 March 2023");
    dg_format_day(TKL_NO_DAY, buf, sizeof(buf));
    ck_assert_str_eq(buf, "no date");
}
END_TEST

START_TEST(html_escapes_plan_text)
{
    char *s = render("{{first_title}}", DG_HTML, "<b>Tom & Jerry's \"show\"</b>\r\nnext\x7f", 0);
    ck_assert_str_eq(s, "&lt;b&gt;Tom &amp; Jerry&#39;s &quot;show&quot;&lt;/b&gt;<br>\r\nnext ");
    free(s);
}
END_TEST

/* An update request's notice: n entries, the summary's (each without an
 * answer) when summary. */
static void subject_of(size_t n, bool summary, char *buf, size_t size)
{
    struct tkl_notice_entry e[2];
    for (size_t i = 0; i < 2; i++)
        e[i] = (struct tkl_notice_entry){.size = sizeof(e[i]),
                                         .item_id = i ? "A2" : "A1",
                                         .title = i ? "Train managers" : "Review the pay gap",
                                         .deadline_day = TKL_NO_DAY,
                                         .kind = TKL_DEADLINE_UNDATED,
                                         .stage = TKL_STAGE_REQUEST,
                                         .answer = summary ? "No answer yet" : NULL};
    struct tkl_notice notice = {.size = sizeof(notice),
                                .recipient = "hr@example.org",
                                .team_name = "Human Resources",
                                .entries = e,
                                .n_entries = n,
                                .intro = "Please give your progress on each action below by "
                                         "Monday 22 March 2027."};
    dg_subject(&notice, buf, size);
}

START_TEST(update_requests_say_so_and_open_with_their_intro)
{
    char buf[256];
    subject_of(2, false, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request: 2 actions for Human Resources");
    subject_of(1, false, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request: Review the pay gap");
    subject_of(2, true, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request: 2 actions without an answer");
    subject_of(1, true, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request: 1 action without an answer");
    /* the intro opens the message, escaped in HTML; without one, the
     * usual words */
    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = "A1",
                                 .title = "Review",
                                 .deadline_day = TKL_NO_DAY,
                                 .kind = TKL_DEADLINE_UNDATED,
                                 .stage = TKL_STAGE_REQUEST};
    struct tkl_notice n = {.size = sizeof(n),
                           .team_name = "HR",
                           .entries = &e,
                           .n_entries = 1,
                           .intro = "By Monday: <yes> & no"};
    struct dg_buf b = {0};
    dg_render(&b, "{{intro}}", &n, &(struct dg_render_opts){0}, DG_HTML, "\n");
    ck_assert_str_eq(b.data, "By Monday: &lt;yes&gt; &amp; no");
    free(b.data);
    n.intro = NULL;
    b = (struct dg_buf){0};
    dg_render(&b, "{{intro}}", &n, &(struct dg_render_opts){0}, DG_TEXT, "\n");
    ck_assert_str_eq(b.data, "This item needs your attention.");
    free(b.data);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("digest");
    TCase *tc = tcase_create("digest");
    tcase_add_test(tc, date_is_the_local_day);
    tcase_add_test(tc, day_names);
    tcase_add_test(tc, html_escapes_plan_text);
    tcase_add_test(tc, update_requests_say_so_and_open_with_their_intro);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

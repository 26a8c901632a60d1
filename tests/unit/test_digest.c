/* Tests for plugins/common/digest.c, the wording shared by the notifiers:
 * dates in the host's time zone, HTML escaping of plan text, and what a
 * notice carries for acting on it: a link under each action that has one
 * (never in the subject), officers' answers, the notice's intro, update
 * requests and answers told to the report route; quoted-printable bodies. */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>

#include "check_run.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tickler/day.h>
#include <tickler/text.h>

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

/* dg_put_int writes what "%lld" writes, the ends of the range too. */
START_TEST(an_integer_is_written_as_printf_writes_it)
{
    static const long long v[] = {0, 7, -1, 42, -365, 1000000007LL, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct dg_buf b = {0};
        char want[32];
        snprintf(want, sizeof(want), "%lld", v[i]);
        dg_puts(&b, "x");
        dg_put_int(&b, v[i]);
        ck_assert(!b.oom);
        ck_assert_str_eq(b.data + 1, want);
        free(b.data);
    }
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

/* A long deadline cell is cut at a character, never inside one: a card or
 * JSON body refuses text that is not UTF-8. */
START_TEST(a_long_deadline_is_cut_at_a_character)
{
    char dt[256] = "a";
    for (int i = 0; i < 100; i++)
        strcat(dt, "\xC3\xA9"); /* é: 201 bytes in all */
    struct tkl_notice_entry e = {
        .size = sizeof(e),
        .item_id = "A1",
        .title = "t",
        .deadline_text = dt,
        .deadline_day = TKL_NO_DAY,
        .kind = TKL_DEADLINE_DATE,
        .stage = TKL_STAGE_LEAD,
    };
    char buf[512];
    for (int with_when = 0; with_when < 2; with_when++) {
        dg_deadline(&e, with_when, buf, sizeof(buf));
        json_t *j = json_string(buf); /* NULL for text that is not UTF-8 */
        ck_assert_ptr_nonnull(j);
        json_decref(j);
        ck_assert(!strncmp(buf, dt, 199)); /* "a" and 99 é whole */
        ck_assert(buf[199] != '\xC3');
    }
}
END_TEST

/* A reminder sent after its time says the reminder is late, apart from
 * the deadline's own words: "overdue [sent late]" read as the officer's
 * lateness. An observance's prompt says the prompt is. */
START_TEST(a_late_reminder_says_the_reminder_is_late)
{
    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = "A1",
                                 .title = "t",
                                 .deadline_text = "Jan 2023",
                                 .deadline_day = 19388, /* 31 January 2023 */
                                 .days_left = -29,
                                 .kind = TKL_DEADLINE_DATE,
                                 .stage = TKL_STAGE_OVERDUE,
                                 .late = 1};
    char buf[256];
    dg_deadline(&e, true, buf, sizeof(buf));
    ck_assert_str_eq(buf,
                     "Jan 2023 (Tuesday 31 January 2023), 29 days overdue (this reminder is late)");
    dg_deadline(&e, false, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Jan 2023 (Tuesday 31 January 2023)");
    e.late = 0;
    dg_deadline(&e, true, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Jan 2023 (Tuesday 31 January 2023), 29 days overdue");
    e = (struct tkl_notice_entry){.size = sizeof(e),
                                  .item_id = "bhm@2027",
                                  .title = "Black History Month",
                                  .deadline_text = "1-31 October 2027",
                                  .deadline_day = 20727,
                                  .days_left = -2,
                                  .kind = TKL_DEADLINE_EVENT,
                                  .stage = TKL_STAGE_PROMPT,
                                  .late = 1};
    dg_deadline(&e, true, buf, sizeof(buf));
    ck_assert_str_eq(buf, "1-31 October 2027, under way, began 2 days ago (this prompt is late)");
    /* an undated check-in sent late says so too, as on a Teams card */
    e = (struct tkl_notice_entry){.size = sizeof(e),
                                  .item_id = "C1",
                                  .title = "t",
                                  .deadline_text = "Ongoing",
                                  .deadline_day = TKL_NO_DAY,
                                  .kind = TKL_DEADLINE_ONGOING,
                                  .stage = TKL_STAGE_CHECKIN,
                                  .late = 1};
    dg_deadline(&e, true, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Ongoing, no deadline: this is a check-in (this reminder is late)");
}
END_TEST

START_TEST(text_that_is_not_utf8_is_repaired)
{
    static const char bad[] = "ok \xe2\x80\x9cq\xe2\x80\x9d \xed\xa0\x80 x\xc3";
    char *s = tkl_utf8_repaired(bad, strlen(bad));
    ck_assert_ptr_nonnull(s);
    /* a lone surrogate's three bytes, and a cut é's one, each U+FFFD */
    ck_assert_str_eq(s, "ok \xe2\x80\x9cq\xe2\x80\x9d \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
                        "x\xef\xbf\xbd");
    json_t *j = json_string(s);
    ck_assert_ptr_nonnull(j);
    json_decref(j);
    free(s);
}
END_TEST

START_TEST(html_escapes_plan_text)
{
    char *s = render("{{first_title}}", DG_HTML, "<b>Tom & Jerry's \"show\"</b>\r\nnext\x7f", 0);
    ck_assert_str_eq(s, "&lt;b&gt;Tom &amp; Jerry&#39;s &quot;show&quot;&lt;/b&gt;<br>\nnext ");
    free(s);
}
END_TEST

START_TEST(an_officers_update_is_shown_as_text)
{
    struct tkl_notice_entry e = {
        .size = sizeof(e),
        .item_id = "A1",
        .title = "Pay gap",
        .deadline_day = tkl_day_from_civil(2023, 7, 7),
        .kind = TKL_DEADLINE_DATE,
        .stage = TKL_STAGE_LEAD,
        .days_left = 6,
        .answer = "Progress (amber), a@example.org on 3 Dec 2026: <b>drafted</b>",
    };
    struct tkl_notice n = {.size = sizeof(n), .team_name = "Bravo", .entries = &e, .n_entries = 1};
    struct dg_buf b = {0}, h = {0};
    dg_render(&b, "{{actions}}", &n, &(struct dg_render_opts){0}, DG_TEXT, "\n");
    dg_render(&h, "{{actions}}", &n, &(struct dg_render_opts){0}, DG_HTML, "\n");
    ck_assert(!b.oom && !h.oom);
    /* wrapped at 76 columns, under its label; plain text, never markup */
    ck_assert_ptr_nonnull(strstr(b.data, "    Latest update: Progress (amber), a@example.org on 3 "
                                         "Dec 2026:\n"));
    ck_assert_ptr_nonnull(strstr(b.data, "<b>drafted</b>\n"));
    ck_assert_ptr_nonnull(strstr(h.data, "Latest update"));
    ck_assert_ptr_nonnull(strstr(h.data, "3 Dec 2026: &lt;b&gt;drafted&lt;/b&gt;</td>"));
    free(b.data);
    free(h.data);
}
END_TEST

#define LINK1 "https://tickler.example/eap/a/AQJrMQ5lYXAtMjAyMy1oci03"
#define LINK2 "https://tickler.example/eap/a/AQJrMQ5lYXAtMjAyMy1oci04"

/* Two actions of Bravo's, the first overdue, the second due soon, and an
 * observance; links and answers as given. */
static struct tkl_notice_entry entries[3];
static struct tkl_notice two(const char *link1, const char *link2, const char *answer,
                             enum tkl_stage stage)
{
    entries[0] = (struct tkl_notice_entry){
        .size = sizeof(entries[0]),
        .item_id = "eap-hr-7",
        .title = "Review the <pay> gap",
        .deadline_day = tkl_day_from_civil(2026, 11, 1),
        .kind = TKL_DEADLINE_DATE,
        .stage = stage == TKL_STAGE_REQUEST ? stage : TKL_STAGE_OVERDUE,
        .days_left = -31,
        .link = link1,
        .answer = answer,
    };
    entries[1] = (struct tkl_notice_entry){
        .size = sizeof(entries[1]),
        .item_id = "eap-hr-8",
        .title = "Publish the gender pay gap",
        .deadline_day = tkl_day_from_civil(2026, 12, 5),
        .kind = TKL_DEADLINE_DATE,
        .stage = stage,
        .days_left = 3,
        .link = link2,
    };
    return (struct tkl_notice){
        .size = sizeof(struct tkl_notice),
        .recipient = "bravo@example.org",
        .team_name = "Bravo",
        .entries = entries,
        .n_entries = 2,
    };
}

static char *render_notice(const struct tkl_notice *n, const char *tmpl, enum dg_mode mode)
{
    struct dg_buf b = {0};
    dg_render(&b, tmpl, n, &(struct dg_render_opts){.now = 1796200000}, mode, "\n");
    ck_assert(!b.oom);
    ck_assert_ptr_nonnull(b.data);
    return b.data;
}

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

START_TEST(each_action_shows_its_link_under_it_in_text)
{
    struct tkl_notice n = two(LINK1, LINK2, NULL, TKL_STAGE_LEAD);
    char *s = render_notice(&n, NULL, DG_TEXT);
    ck_assert_uint_eq(occurrences(s, LINK1), 1);
    ck_assert_uint_eq(occurrences(s, LINK2), 1);
    ck_assert_uint_eq(occurrences(s, "Update this action (mark complete, snooze, progress):\n"), 2);
    /* under its own action: after the action's id, before the next action */
    const char *a = strstr(s, "Action id: eap-hr-7"), *l = strstr(s, LINK1),
               *b = strstr(s, "Publish the gender pay gap");
    ck_assert(a && l && b && a < l && l < b);
    ck_assert_ptr_nonnull(strstr(s, "    " LINK1 "\n"));
    ck_assert_ptr_nonnull(
        strstr(s, "The links open a page; nothing changes until you press a button there."));
    /* the footer points to the links, not to the plan's owner, for an
     * action that is not the team's */
    char *flat = strdup(s); /* the footer is wrapped at 76 columns */
    ck_assert_ptr_nonnull(flat);
    for (char *p = flat; (p = strchr(p, '\n'));)
        *p = ' ';
    ck_assert_ptr_nonnull(strstr(
        flat, "If an action the plan gives your team is not your team's, say so from its link"));
    free(flat);
    ck_assert_ptr_null(strstr(s, "if an action is not yours, contact"));
    for (char *line = s; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        ck_assert_uint_lt(strcspn(line, "\n"), 998);
    free(s);
    /* one action without a link (it could not be signed) shows none */
    n = two(LINK1, NULL, NULL, TKL_STAGE_LEAD);
    s = render_notice(&n, NULL, DG_TEXT);
    ck_assert_uint_eq(occurrences(s, "Update this action"), 1);
    free(s);
    /* no links at all: no label, no word about links */
    n = two(NULL, NULL, NULL, TKL_STAGE_LEAD);
    s = render_notice(&n, NULL, DG_TEXT);
    ck_assert_ptr_null(strstr(s, "Update this action"));
    ck_assert_ptr_null(strstr(s, "The links open a page"));
    ck_assert_ptr_nonnull(strstr(s, "or if an action is not yours, contact"));
    ck_assert_ptr_null(strstr(s, "say so from its link"));
    free(s);
}
END_TEST

START_TEST(each_action_has_a_button_in_html)
{
    struct tkl_notice n = two(LINK1, LINK2, NULL, TKL_STAGE_LEAD);
    char *s = render_notice(&n, NULL, DG_HTML);
    ck_assert_ptr_nonnull(strstr(s, "<a href=\"" LINK1 "\" aria-label=\"Update this action: "
                                    "Review the &lt;pay&gt; gap\""));
    ck_assert_ptr_nonnull(strstr(s, "<a href=\"" LINK2 "\""));
    ck_assert_uint_eq(occurrences(s, ">Update this action</a>"), 2);
    ck_assert_ptr_nonnull(
        strstr(s, "<br>\nThe links open a page; nothing changes until you press a button there."));
    free(s);
    /* a link is escaped as an attribute value: it cannot end the attribute */
    n = two("https://x.example/a?b=1&c=\"><script>", NULL, NULL, TKL_STAGE_LEAD);
    s = render_notice(&n, NULL, DG_HTML);
    ck_assert_ptr_nonnull(
        strstr(s, "href=\"https://x.example/a?b=1&amp;c=&quot;&gt;&lt;script&gt;\""));
    ck_assert_ptr_null(strstr(s, "<script>"));
    free(s);
}
END_TEST

/* An observance's resources are a link in HTML when they are a web
 * address, and text otherwise (a javascript: or mailto: address is never
 * made a link). */
START_TEST(an_observances_resources_are_a_link_when_a_web_address)
{
    struct tkl_notice_entry e = {.size = sizeof(e),
                                 .item_id = "bhm@2027",
                                 .title = "Black History Month",
                                 .deadline_text = "1-31 October 2027",
                                 .deadline_day = 20727,
                                 .days_left = 14,
                                 .url = "https://example.org/bhm?a=1&b=\"2\"",
                                 .kind = TKL_DEADLINE_EVENT,
                                 .stage = TKL_STAGE_PROMPT};
    struct tkl_notice n = {.size = sizeof(n), .team_name = "Comms", .entries = &e, .n_entries = 1};
    char *s = render_notice(&n, NULL, DG_HTML);
    ck_assert_ptr_nonnull(strstr(s, ">Resources</th><td style=\"padding:2px 0;color:#1f1f1f\">"
                                    "<a href=\"https://example.org/bhm?a=1&amp;b=&quot;2&quot;\""));
    ck_assert_ptr_nonnull(strstr(s, ">https://example.org/bhm?a=1&amp;b=&quot;2&quot;</a></td>"));
    free(s);
    e.url = "javascript:alert(1)";
    s = render_notice(&n, NULL, DG_HTML);
    ck_assert_ptr_nonnull(strstr(s, ">Resources</th><td style=\"padding:2px 0;color:#1f1f1f\">"
                                    "javascript:alert(1)</td>"));
    ck_assert_ptr_null(strstr(s, "href=\"javascript"));
    free(s);
}
END_TEST

START_TEST(the_subject_never_holds_a_link)
{
    struct tkl_notice n = two(LINK1, LINK2, NULL, TKL_STAGE_LEAD);
    char *s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Reminder: 2 actions for Bravo (1 overdue)");
    free(s);
    /* how many are overdue, told as it is */
    entries[1].days_left = -2;
    s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Reminder: 2 actions for Bravo (both overdue)");
    free(s);
    entries[2] = entries[1];
    n.n_entries = 3;
    s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Reminder: 3 actions for Bravo (all overdue)");
    free(s);
    entries[2].days_left = 5;
    s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Reminder: 3 actions for Bravo (2 overdue)");
    free(s);
    entries[1].days_left = 3;
    n.n_entries = 1;
    s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Reminder (31 days overdue): Review the <pay> gap");
    free(s);
}
END_TEST

/* A comms team's check-ins on the day of its monthly look-ahead: the
 * subject counts each kind, not every entry as an action. */
START_TEST(the_subject_counts_actions_and_observances_apart)
{
    struct tkl_notice n = two(NULL, NULL, NULL, TKL_STAGE_CHECKIN);
    entries[1].kind = TKL_DEADLINE_EVENT;
    entries[1].stage = TKL_STAGE_LOOKAHEAD;
    char *s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Reminder: 1 action and 1 observance for Bravo (1 overdue)");
    free(s);
    entries[0].stage = TKL_STAGE_CHECKIN;
    entries[0].days_left = 3;
    entries[2] = entries[1];
    entries[2].item_id = "pride@test";
    n.n_entries = 3;
    s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Reminder: 1 action and 2 observances for Bravo");
    free(s);
}
END_TEST

START_TEST(answers_show_as_plain_text_under_their_action)
{
    const char *hostile = "Amber: <b>waiting</b> on HR's \"data\" & more\r\nBcc: x@evil.example "
                          "(a@example.org, 1 December 2026)";
    struct tkl_notice n = two(LINK1, NULL, hostile, TKL_STAGE_LEAD);
    char *s = render_notice(&n, NULL, DG_TEXT);
    ck_assert_ptr_nonnull(
        strstr(s, "    Latest update: Amber: <b>waiting</b> on HR's \"data\" & more\n"));
    const char *a = strstr(s, "Latest update:"), *b = strstr(s, "Publish the gender pay gap");
    ck_assert(a && b && a < b);
    free(s);
    s = render_notice(&n, NULL, DG_HTML);
    ck_assert_ptr_nonnull(
        strstr(s, ">Latest update</th><td style=\"padding:2px 0;color:#1f1f1f\">Amber: "
                  "&lt;b&gt;waiting&lt;/b&gt; on HR&#39;s &quot;data&quot; &amp; more<br>\n"
                  "Bcc: x@evil.example"));
    ck_assert_ptr_null(strstr(s, "<b>waiting"));
    free(s);
}
END_TEST

START_TEST(the_intro_opens_the_message)
{
    struct tkl_notice n = two(LINK1, LINK2, NULL, TKL_STAGE_LEAD);
    n.intro = "Please give your progress by <Friday> 15 January 2027 & no later: the annual "
              "report goes to the committee on 1 February.";
    char *s = render_notice(&n, NULL, DG_TEXT);
    /* wrapped at 76 columns, right after the greeting */
    ck_assert_ptr_nonnull(strstr(s, "Hello Bravo,\n\nPlease give your progress by <Friday> 15 "
                                    "January 2027 & no later: the annual\nreport goes"));
    ck_assert_ptr_null(strstr(s, "These items need your attention."));
    free(s);
    s = render_notice(&n, NULL, DG_HTML);
    ck_assert_ptr_nonnull(strstr(s, "<p>Please give your progress by &lt;Friday&gt; 15 January "
                                    "2027 &amp; no later"));
    free(s);
    n.intro = NULL;
    s = render_notice(&n, "{{intro}}", DG_TEXT);
    ck_assert_str_eq(s, "These items need your attention.");
    free(s);
}
END_TEST

START_TEST(update_requests_say_what_they_ask)
{
    struct tkl_notice n = two(LINK1, LINK2, NULL, TKL_STAGE_REQUEST);
    char *s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Update request: 2 actions for Bravo");
    free(s);
    s = render_notice(&n, "{{intro}}", DG_TEXT);
    ck_assert_str_eq(s, "Please tell us how each action below is going: open its link to mark it\n"
                        "complete, snooze it or give a progress note.");
    free(s);
    s = render_notice(&n, NULL, DG_TEXT);
    ck_assert_uint_eq(occurrences(s, "Update this action (mark complete, snooze, progress):"), 2);
    free(s);
    n.entries = &entries[1];
    n.n_entries = 1;
    entries[1].title = "Publish\r\nBcc: evil@attacker.example";
    s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Update request: Publish  Bcc: evil@attacker.example");
    free(s);
}
END_TEST

START_TEST(answers_told_to_the_report_route)
{
    struct tkl_notice n = two(NULL, NULL, NULL, TKL_STAGE_ANSWER);
    entries[0].stage = TKL_STAGE_ANSWER;
    entries[0].answer = "Not ours, says hr@example.org: <suggested> Finance";
    n.team_name = "EDI officers";
    char *s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Officers' answers: 2 actions");
    free(s);
    s = render_notice(&n, NULL, DG_TEXT);
    ck_assert_ptr_nonnull(strstr(s, "Officers have answered reminders.\n"));
    ck_assert_ptr_nonnull(strstr(s, "\nOfficers' answers\n"));
    ck_assert_ptr_nonnull(
        strstr(s, "    Answer: Not ours, says hr@example.org: <suggested> Finance\n"));
    ck_assert_ptr_null(strstr(s, "Update this action"));
    free(s);
    s = render_notice(&n, NULL, DG_HTML);
    ck_assert_ptr_nonnull(strstr(s, ">Answer</th>"));
    ck_assert_ptr_nonnull(strstr(s, "&lt;suggested&gt; Finance"));
    free(s);
    n.n_entries = 1;
    s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Officer's answer: Review the <pay> gap");
    free(s);
}
END_TEST

/* Another owning team's update of a joint action: the subject says who
 * did what (its answer's first line), the intro what it means, the answer
 * shows under "Update" with the recipient's link after it; the plan's and
 * the configuration's text escaped, no line break in the subject. */
START_TEST(another_owning_teams_update_says_who_did_what)
{
    struct tkl_notice n = two(LINK1, NULL, NULL, TKL_STAGE_JOINT);
    entries[0].stage = TKL_STAGE_JOINT;
    entries[0].answer = "Snoozed by Human <Resources> until Monday 7 December 2026\n"
                        "hr@example.org, Monday 2 November 2026";
    n.n_entries = 1;
    n.team_name = "ICT";
    n.intro = "Human <Resources> snoozed this action on Monday 2 November 2026. The plan names "
              "your team for it too, so your reminders for it are held: they go on from Monday "
              "7 December 2026.";
    char *s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_str_eq(s, "Snoozed by Human <Resources> until Monday 7 December 2026: Review the "
                        "<pay> gap");
    free(s);
    s = render_notice(&n, NULL, DG_TEXT);
    ck_assert_ptr_nonnull(strstr(s, "Human <Resources> snoozed this action on Monday 2 November"));
    ck_assert_ptr_nonnull(strstr(s, "\nAnother owning team's update\n"));
    ck_assert_ptr_nonnull(strstr(s, "    Update: Snoozed by Human <Resources> until Monday 7 "
                                    "December 2026\n            hr@example.org, Monday 2 November "
                                    "2026\n"));
    ck_assert_uint_eq(occurrences(s, LINK1), 1);
    ck_assert_ptr_null(strstr(s, "Officers' answers"));
    free(s);
    s = render_notice(&n, NULL, DG_HTML);
    ck_assert_ptr_nonnull(strstr(s, ">Update</th>"));
    ck_assert_ptr_nonnull(strstr(s, "Human &lt;Resources&gt; snoozed this action"));
    ck_assert_ptr_null(strstr(s, "Human <Resources>"));
    ck_assert_uint_eq(occurrences(s, LINK1), 1);
    free(s);
    ck_assert_ptr_eq(dg_default_footer_of(&n), dg_default_footer_links);
    /* a team's name can never break the subject into a second header */
    entries[0].answer = "Marked complete by HR\r\nBcc: x@example.org\nhr@example.org";
    s = render_notice(&n, NULL, DG_SUBJECT);
    ck_assert_ptr_null(strpbrk(s, "\r\n"));
    free(s);
}
END_TEST

START_TEST(link_tokens_for_answers_that_must_not_be_kept)
{
    struct tkl_notice n = two(LINK1, NULL, NULL, TKL_STAGE_LEAD);
    char **tokens = NULL;
    ck_assert_int_eq(dg_link_tokens(&n, &tokens), 0);
    ck_assert_ptr_nonnull(tokens);
    ck_assert_str_eq(tokens[0], "AQJrMQ5lYXAtMjAyMy1oci03");
    ck_assert_ptr_null(tokens[1]);
    ck_assert(
        dg_holds_token("{\"link\":\"https:\\/\\/x\\/a\\/AQJrMQ5lYXAtMjAyMy1oci03\"}", tokens));
    ck_assert(!dg_holds_token("HTTP 400: bad request", tokens));
    ck_assert(!dg_holds_token("anything", NULL));
    dg_secrets_free(tokens);
    n = two(NULL, NULL, NULL, TKL_STAGE_LEAD);
    tokens = (char **)&n; /* overwritten */
    ck_assert_int_eq(dg_link_tokens(&n, &tokens), 0);
    ck_assert_ptr_null(tokens);
}
END_TEST

/* An update request's notice: n entries, each with answer (NULL: none;
 * TKL_NO_ANSWER_YET...: the summary's). */
static void subject_of(size_t n, const char *answer, char *buf, size_t size)
{
    struct tkl_notice_entry e[2];
    for (size_t i = 0; i < 2; i++)
        e[i] = (struct tkl_notice_entry){.size = sizeof(e[i]),
                                         .item_id = i ? "A2" : "A1",
                                         .title = i ? "Train managers" : "Review the pay gap",
                                         .deadline_day = TKL_NO_DAY,
                                         .kind = TKL_DEADLINE_UNDATED,
                                         .stage = TKL_STAGE_REQUEST,
                                         .answer = answer};
    struct tkl_notice notice = {.size = sizeof(notice),
                                .recipient = "hr@example.org",
                                .team_name = "Human Resources",
                                .entries = e,
                                .n_entries = n,
                                .intro = "Please give your progress on each action below by "
                                         "Monday 22 March 2027."};
    dg_subject(&notice, buf, size);
}

/* A comms prompt sent late, its observance begun: the subject and the
 * opening say it is under way, not coming up. */
START_TEST(a_prompt_for_an_observance_under_way_says_so)
{
    struct tkl_notice_entry e[2];
    for (size_t i = 0; i < 2; i++)
        e[i] =
            (struct tkl_notice_entry){.size = sizeof(e[i]),
                                      .item_id = i ? "diwali@2027" : "bhm@2027",
                                      .title = i ? "Diwali" : "Black History Month",
                                      .deadline_text = i ? "29 October 2027" : "1-31 October 2027",
                                      .deadline_day = 20727,
                                      .days_left = i ? 3 : -2,
                                      .kind = TKL_DEADLINE_EVENT,
                                      .stage = TKL_STAGE_PROMPT};
    struct tkl_notice n = {.size = sizeof(n), .team_name = "Comms", .entries = e, .n_entries = 1};
    char buf[256];
    dg_subject(&n, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Comms prompt (under way, began 2 days ago): Black History Month");
    ck_assert_str_eq(dg_intro(&n),
                     "This observance is under way: there is still time for its comms.");
    n.n_entries = 2;
    ck_assert_str_eq(dg_intro(&n),
                     "These observances are coming up or under way: time to plan the comms for "
                     "them.");
    n.entries = e + 1;
    n.n_entries = 1;
    ck_assert_str_eq(dg_intro(&n), "This observance is coming up: time to plan the comms for it.");
}
END_TEST

/* A look-ahead lists observances still under way beside those coming up:
 * its subject and its heading (in the text, the HTML and a Teams card,
 * which takes both from here) say which it holds. */
START_TEST(a_look_ahead_says_what_is_coming_up_and_what_is_under_way)
{
    struct tkl_notice_entry e[3];
    static const char *const titles[] = {"Black History Month", "Diwali", "Interfaith Week"};
    static const int left[] = {-14, 14, 27};
    for (size_t i = 0; i < 3; i++)
        e[i] = (struct tkl_notice_entry){.size = sizeof(e[i]),
                                         .item_id = titles[i],
                                         .title = titles[i],
                                         .deadline_text = "a day",
                                         .deadline_day = 20740 + left[i],
                                         .days_left = left[i],
                                         .kind = TKL_DEADLINE_EVENT,
                                         .stage = TKL_STAGE_LOOKAHEAD};
    struct tkl_notice n = {.size = sizeof(n), .team_name = "Comms", .entries = e, .n_entries = 3};
    static const struct {
        size_t from, n;
        const char *subject, *heading;
    } cases[] = {
        {1, 2, "Diversity calendar: 2 observances coming up", "Diversity calendar: coming up"},
        {0, 1, "Diversity calendar (under way, began 14 days ago): Black History Month",
         "Diversity calendar: under way"},
        {0, 3, "Diversity calendar: 2 observances coming up, 1 under way",
         "Diversity calendar: coming up or under way"},
        {0, 2, "Diversity calendar: 1 observance coming up, 1 under way",
         "Diversity calendar: coming up or under way"},
    };
    char heading[DG_HEADING_SIZE];
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char buf[256];
        n.entries = e + cases[k].from;
        n.n_entries = cases[k].n;
        dg_subject(&n, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[k].subject);
        ck_assert_str_eq(dg_group_heading(&n, DG_LOOKAHEAD, heading, sizeof(heading)),
                         cases[k].heading);
        struct dg_buf t = {0}, h = {0};
        dg_render(&t, "{{actions}}", &n, &(struct dg_render_opts){0}, DG_TEXT, "\n");
        dg_render(&h, "{{actions}}", &n, &(struct dg_render_opts){0}, DG_HTML, "\n");
        ck_assert(!t.oom && !h.oom);
        ck_assert_ptr_nonnull(strstr(t.data, cases[k].heading));
        ck_assert_ptr_nonnull(strstr(h.data, cases[k].heading));
        free(t.data);
        free(h.data);
    }
    /* two under way: the subject says so, not "coming up" */
    e[1].days_left = -1;
    n.entries = e;
    n.n_entries = 2;
    char buf[256];
    dg_subject(&n, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Diversity calendar: 2 observances under way");
    ck_assert_str_eq(dg_group_heading(&n, DG_LOOKAHEAD, heading, sizeof(heading)),
                     "Diversity calendar: under way");
    /* other groups keep their titles */
    ck_assert_str_eq(dg_group_heading(&n, DG_PROMPTS, heading, sizeof(heading)),
                     dg_group_title(DG_PROMPTS));
}
END_TEST

/* Observances of the calendar from (the prompts' stage when prompt, else
 * the look-ahead's), titled as in the shipped calendar, each days_left[i]
 * days away. */
static void observances(struct tkl_notice_entry *e, size_t n, const int *days_left, bool prompt)
{
    static const char *const titles[] = {"Black History Month", "Diwali", "Interfaith Week"};
    for (size_t i = 0; i < n; i++)
        e[i] = (struct tkl_notice_entry){.size = sizeof(e[i]),
                                         .item_id = titles[i % 3],
                                         .title = titles[i % 3],
                                         .deadline_text = "a day",
                                         .deadline_day = 20740 + days_left[i],
                                         .days_left = days_left[i],
                                         .kind = TKL_DEADLINE_EVENT,
                                         .stage = prompt ? TKL_STAGE_PROMPT : TKL_STAGE_LOOKAHEAD};
}

/* The council names its calendar (calendar.title, which the host gives
 * the notice): the subjects and headings that named the diversity
 * calendar name it instead, in the text, the HTML (escaped) and a Teams
 * card (which takes them from here). */
START_TEST(the_calendar_is_named_by_the_notices_title)
{
    static const char title[] = "Maidstone \u2013 equality & <diversity> dates";
    struct tkl_notice_entry e[3];
    observances(e, 3, (const int[]){-14, 14, 27}, false);
    struct tkl_notice n = {.size = sizeof(n),
                           .team_name = "Comms",
                           .entries = e,
                           .n_entries = 3,
                           .calendar_title = title};
    char buf[512], heading[DG_HEADING_SIZE];
    ck_assert_str_eq(dg_calendar_title(&n), title);
    dg_subject(&n, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Maidstone \u2013 equality & <diversity> dates: 2 observances coming up, "
                          "1 under way");
    ck_assert_str_eq(dg_group_heading(&n, DG_LOOKAHEAD, heading, sizeof(heading)),
                     "Maidstone \u2013 equality & <diversity> dates: coming up or under way");
    struct dg_buf t = {0}, h = {0};
    dg_render(&t, NULL, &n, &(struct dg_render_opts){0}, DG_TEXT, "\n");
    dg_render(&h, NULL, &n, &(struct dg_render_opts){0}, DG_HTML, "\n");
    ck_assert(!t.oom && !h.oom);
    ck_assert_ptr_nonnull(strstr(
        t.data, "\nMaidstone \u2013 equality & <diversity> dates: coming up or under way\n"));
    ck_assert_ptr_nonnull(strstr(h.data, ">Maidstone \u2013 equality &amp; &lt;diversity&gt; "
                                         "dates: coming up or under way</h2>"));
    ck_assert_ptr_nonnull(strstr(h.data, "<title>Maidstone \u2013 equality &amp; "
                                         "&lt;diversity&gt; dates: 2 observances"));
    ck_assert_ptr_null(strstr(t.data, "iversity calendar"));
    ck_assert_ptr_null(strstr(h.data, "<diversity>"));
    free(t.data);
    free(h.data);
    /* a template's {{calendar}}: the name, escaped in HTML */
    unsigned line = 0;
    char err[256];
    ck_assert_int_eq(dg_template_check("From {{calendar}}\n", &line, err, sizeof(err)), 0);
    ck_assert_int_eq(dg_template_check("x\n{{calender}}", &line, err, sizeof(err)), -EINVAL);
    ck_assert_uint_eq(line, 2);
    ck_assert_str_eq(err, "unknown placeholder \"{{calender}}\" (known: team, recipient, count, "
                          "overdue, date, summary, subject, intro, actions, plan_url, plan_link, "
                          "footer, first_title, calendar)");
    struct dg_buf c = {0};
    dg_render(&c, "[{{calendar}}]", &n, &(struct dg_render_opts){0}, DG_HTML, "\n");
    ck_assert(!c.oom);
    ck_assert_str_eq(c.data, "[Maidstone \u2013 equality &amp; &lt;diversity&gt; dates]");
    free(c.data);
    /* one entry of the look-ahead, and prompts only */
    n.n_entries = 1;
    dg_subject(&n, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Maidstone \u2013 equality & <diversity> dates (under way, began 14 "
                          "days ago): Black History Month");
    /* the longest title (100 characters of 3 bytes) beside an entry's
     * long title: the subject fits a header's 480 bytes with the entry's
     * title whole (its first 160 bytes), the calendar's cut at a
     * character */
    char cal[301] = "", entry[201] = "";
    for (int i = 0; i < 100; i++)
        strcat(cal, "\u65e5");
    memset(entry, 'e', 200);
    n.calendar_title = cal;
    e[0].title = entry;
    dg_subject(&n, buf, sizeof(buf));
    ck_assert_uint_le(strlen(buf), 480);
    ck_assert_int_eq(strspn(buf, "\u65e5") % 3, 0);
    ck_assert_uint_gt(strspn(buf, "\u65e5"), 200);
    ck_assert_str_eq(
        strstr(buf, " (under way, began 14 days ago): "),
        " (under way, began 14 days ago): "
        "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
        "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");
    n.calendar_title = title;
    observances(e, 3, (const int[]){14, 27, 40}, true);
    n.n_entries = 3;
    dg_subject(&n, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Maidstone \u2013 equality & <diversity> dates: 3 observances to prepare "
                          "for");
}
END_TEST

/* Prompts digested with a look-ahead (its day is a prompt's too): the
 * subject counts the observances to prepare for, then says of the
 * look-ahead's which are coming up and which under way, as the headings
 * of the message do. */
START_TEST(prompts_beside_a_look_ahead_say_what_each_is)
{
    static const struct {
        int prompts, left[4];
        size_t n;
        const char *subject;
    } cases[] = {
        {1, {10, -3, -9}, 3, "Pride dates: 1 observance to prepare for, 2 under way"},
        {1, {10, 5, 20}, 3, "Pride dates: 1 observance to prepare for, 2 coming up"},
        {2,
         {10, 40, 5, -2},
         4,
         "Pride dates: 2 observances to prepare for, 1 coming up, 1 under way"},
        {1, {10, 5}, 2, "Pride dates: 1 observance to prepare for, 1 coming up"},
        {2, {10, -4, -1}, 3, "Pride dates: 2 observances to prepare for, 1 under way"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct tkl_notice_entry e[4];
        observances(e, cases[k].n, cases[k].left, false);
        for (int i = 0; i < cases[k].prompts; i++)
            e[i].stage = TKL_STAGE_PROMPT;
        struct tkl_notice n = {.size = sizeof(n),
                               .team_name = "Comms",
                               .entries = e,
                               .n_entries = cases[k].n,
                               .calendar_title = "Pride dates"};
        char buf[512];
        dg_subject(&n, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[k].subject);
    }
}
END_TEST

/* A notice from a host that predates calendar_title (which leaves it NULL)
 * or smaller than the member (a size that does not cover it, whatever
 * its bytes there hold) names the calendar as before: "Diversity
 * calendar". So does an empty title. */
START_TEST(a_notice_without_the_title_says_diversity_calendar)
{
    struct tkl_notice_entry e[2];
    observances(e, 2, (const int[]){14, 27}, false);
    struct tkl_notice n = {.size = sizeof(n), .team_name = "Comms", .entries = e, .n_entries = 2};
    char buf[512], heading[DG_HEADING_SIZE];
    for (int k = 0; k < 3; k++) {
        if (k == 1) {
            n.size = offsetof(struct tkl_notice, calendar_title);
            n.calendar_title = "Maidstone equality dates";
        } else if (k == 2) {
            n.size = sizeof(n);
            n.calendar_title = "";
        }
        ck_assert_str_eq(dg_calendar_title(&n), "Diversity calendar");
        dg_subject(&n, buf, sizeof(buf));
        ck_assert_str_eq(buf, "Diversity calendar: 2 observances coming up");
        ck_assert_str_eq(dg_group_heading(&n, DG_LOOKAHEAD, heading, sizeof(heading)),
                         "Diversity calendar: coming up");
        struct dg_buf t = {0};
        dg_render(&t, NULL, &n, &(struct dg_render_opts){0}, DG_TEXT, "\n");
        ck_assert(!t.oom);
        ck_assert_ptr_nonnull(strstr(t.data, "\nDiversity calendar: coming up\n"));
        ck_assert_ptr_null(strstr(t.data, "Maidstone"));
        free(t.data);
    }
}
END_TEST

/* A failure report of one entry: the subject is its title, a whole
 * sentence ("Delivery failures" for a group of several notices, which the
 * report's intro counts), and the body gives the reply under it, labelled
 * as one notice's or the latest of a group's. */
START_TEST(a_failure_reports_subject_is_a_sentence_and_its_reply_in_the_body)
{
    static const struct {
        const char *item, *title, *intro, *subject, *text, *html;
    } cases[] = {
        {"notices 4, 5",
         "2 notices for Housing (2 actions) could not be delivered to 2 "
         "recipients by mail",
         "2 notices could not be delivered; the latest reply is below.",
         "Delivery failures: 2 notices for Housing (2 actions) could not be delivered to 2 "
         "recipients by mail",
         "    Latest reply: SMTP 550 mailbox unavailable", ">Latest reply</th>"},
        {"notice-4",
         "A reminder for Housing (1 action) could not be delivered to "
         "h@example.org by mail",
         NULL,
         "Delivery failure: A reminder for Housing (1 action) could not be delivered to "
         "h@example.org by mail",
         "    Reply: SMTP 550 mailbox unavailable", ">Reply</th>"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct tkl_notice_entry e = {.size = sizeof(e),
                                     .item_id = cases[k].item,
                                     .title = cases[k].title,
                                     .status = "failed",
                                     .progress = "SMTP 550 mailbox unavailable",
                                     .deadline_day = TKL_NO_DAY,
                                     .kind = TKL_DEADLINE_UNDATED,
                                     .stage = TKL_STAGE_REPORT};
        struct tkl_notice n = {.size = sizeof(n),
                               .team_name = "Admin",
                               .entries = &e,
                               .n_entries = 1,
                               .intro = cases[k].intro};
        char buf[512];
        dg_subject(&n, buf, sizeof(buf));
        ck_assert_str_eq(buf, cases[k].subject);
        ck_assert_str_eq(dg_reply_label(&e), cases[k].html[1] == 'L' ? "Latest reply" : "Reply");
        struct dg_buf t = {0}, h = {0};
        dg_render(&t, NULL, &n, &(struct dg_render_opts){0}, DG_TEXT, "\n");
        dg_render(&h, NULL, &n, &(struct dg_render_opts){0}, DG_HTML, "\n");
        ck_assert(!t.oom && !h.oom);
        char head[40]; /* the title's start: the text wraps it */
        snprintf(head, sizeof(head), "  * %.24s", cases[k].title);
        ck_assert_ptr_nonnull(strstr(t.data, head));
        ck_assert_ptr_nonnull(strstr(t.data, cases[k].text));
        ck_assert_ptr_nonnull(strstr(h.data, cases[k].html));
        ck_assert_ptr_null(strstr(t.data, "reply:\n"));
        free(t.data);
        free(h.data);
    }
}
END_TEST

/* The footer says why the reader receives the message: a team's actions,
 * its observances, or the report route's answers and reports. */
START_TEST(the_footer_fits_what_the_message_holds)
{
    struct tkl_notice_entry e[2] = {
        {.size = sizeof(e[0]),
         .item_id = "bhm@2027",
         .title = "Black History Month",
         .deadline_day = 20727,
         .kind = TKL_DEADLINE_EVENT,
         .stage = TKL_STAGE_PROMPT},
        {.size = sizeof(e[1]),
         .item_id = "A1",
         .title = "Review the pay gap",
         .deadline_day = 20727,
         .kind = TKL_DEADLINE_DATE,
         .stage = TKL_STAGE_LEAD},
    };
    struct tkl_notice n = {.size = sizeof(n), .team_name = "Comms", .entries = e, .n_entries = 1};
    ck_assert_ptr_eq(dg_default_footer_of(&n), dg_default_footer_calendar);
    n.n_entries = 2; /* a team's actions beside its calendar */
    ck_assert_ptr_eq(dg_default_footer_of(&n), dg_default_footer);
    e[1].link = "https://tickler.example/a/x";
    ck_assert_ptr_eq(dg_default_footer_of(&n), dg_default_footer_links);
    e[1].stage = TKL_STAGE_ANSWER;
    e[1].link = NULL;
    n.entries = e + 1;
    n.n_entries = 1;
    ck_assert_ptr_eq(dg_default_footer_of(&n), dg_default_footer_reports);
    e[1].stage = TKL_STAGE_REQUEST;
    e[1].answer = TKL_NO_ANSWER_YET;
    ck_assert_ptr_eq(dg_default_footer_of(&n), dg_default_footer_reports);
    e[1].answer = "Progress (green), hr@example.org on 1 Mar 2027";
    ck_assert_ptr_eq(dg_default_footer_of(&n), dg_default_footer); /* a request to the team */
    /* and it is what {{footer}} gives, unless the settings name one */
    struct dg_buf b = {0};
    n.entries = e;
    dg_render(&b, "{{footer}}", &n, &(struct dg_render_opts){0}, DG_HTML, "\n");
    ck_assert_ptr_nonnull(b.data);
    ck_assert_ptr_nonnull(strstr(b.data, "To change who is prompted"));
    b.len = 0;
    dg_render(&b, "{{footer}}", &n, &(struct dg_render_opts){.footer = "Ours."}, DG_HTML, "\n");
    ck_assert_str_eq(b.data, "Ours.");
    free(b.data);
}
END_TEST

START_TEST(update_requests_say_so_and_open_with_their_intro)
{
    char buf[256];
    subject_of(2, NULL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request: 2 actions for Human Resources");
    subject_of(1, NULL, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request: Review the pay gap");
    /* a request's actions with what officers said last are still asked
     * about, not counted as without an answer */
    static const char said[] = "Progress (red), hr@example.org on 14 Dec 2026: Delayed";
    subject_of(2, said, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request: 2 actions for Human Resources");
    subject_of(2, TKL_NO_ANSWER_YET, buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request summary: 2 actions without an answer");
    subject_of(1, TKL_NO_ANSWER_YET ". Before the request: Progress (red)", buf, sizeof(buf));
    ck_assert_str_eq(buf, "Update request summary: 1 action without an answer");
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
    ck_assert_str_eq(b.data, "Please tell us how this action is going: open its link to mark it "
                             "complete,\nsnooze it or give a progress note.");
    free(b.data);
}
END_TEST

/* Decodes quoted-printable text q (lines ending in "\n") in place. */
static void qp_decode(char *q)
{
    char *w = q;
    for (char *r = q; *r;) {
        if (r[0] == '=' && r[1] == '\n') {
            r += 2;
        } else if (r[0] == '=') {
            char hex[3] = {r[1], r[2], 0};
            *w++ = (char)strtol(hex, NULL, 16);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

START_TEST(quoted_printable_keeps_lines_short_and_the_text_whole)
{
    char in[1200];
    /* a long line of plan text: non-ASCII, '=', spaces, a space before a
     * line break and at the very end */
    snprintf(in, sizeof(in), "%s", "<p style=\"a:b\">Let\u2019s Talk Maidstone = 1 \n");
    for (int i = 0; i < 12; i++)
        strcat(in, "Equality, Diversity and Inclusion \u2013 ");
    strcat(in, "end \t");
    struct dg_buf b = {0};
    dg_put_qp(&b, in, "\n");
    ck_assert(!b.oom);
    ck_assert_ptr_null(strstr(b.data, "=_"));
    size_t col = 0;
    for (const char *p = b.data; *p; p++) {
        col = *p == '\n' ? 0 : col + 1;
        ck_assert_uint_le(col, 76);
        ck_assert((*p >= 33 && *p <= 126) || *p == ' ' || *p == '\t' || *p == '\n');
        if (*p == '\n' && p > b.data)
            ck_assert(p[-1] != ' ' && p[-1] != '\t');
    }
    ck_assert(strstr(b.data, "Let=E2=80=99s Talk Maidstone =3D 1=20\n"));
    ck_assert(strstr(b.data, "end =09"));
    qp_decode(b.data);
    ck_assert_str_eq(b.data, in);
    free(b.data);
}
END_TEST

/* jansson's JSON_ENSURE_ASCII text of s, or NULL when jansson refuses s. */
static char *jansson_text(const char *s)
{
    json_t *j = json_string(s);
    char *out = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(j);
    return out;
}

START_TEST(json_strings_are_written_as_jansson_writes_them)
{
    static const char *const texts[] = {
        "",
        "plain ASCII: Review the fire risk assessment",
        "quote \" backslash \\ slash / tab \t newline \n return \r",
        "\x01\x02\x08\x0b\x0c\x1b\x1f\x7f",
        "Let\xe2\x80\x99s \xc3\xa9t\xc3\xa9 \xe2\x82\xac 5", /* U+2019, U+00E9, U+20AC */
        "astral \xf0\x9f\x93\x85 and \xf4\x8f\xbf\xbf",      /* U+1F4C5, U+10FFFF */
        /* U+010A U+0122 U+015C U+200A: low bytes of \n, ", \\ and a space */
        "\xc4\x8a \xc4\xa2 \xc5\x9c \xe2\x80\x8a",
        "\xef\xbf\xbf \xe0\xa0\x80 \xc2\x80 \xdf\xbf", /* edges of each length */
        "\xc0\xaf",                                    /* overlong '/' */
        "\xe0\x80\xaf",                                /* overlong, 3 bytes */
        "\xed\xa0\x80",                                /* a surrogate */
        "\xf4\x90\x80\x80",                            /* past U+10FFFF */
        "cut \xe2\x82",                                /* cut short */
        "\x80 lone continuation",
        "\xff",
    };
    /* the text jansson writes, and for text it refuses, what it writes of
     * the text with each bad byte replaced by U+FFFD */
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char *want = jansson_text(texts[i]), *fixed = NULL;
        bool valid = want != NULL;
        if (!want) {
            fixed = tkl_utf8_repaired(texts[i], strlen(texts[i]));
            ck_assert_ptr_nonnull(fixed);
            ck_assert_str_ne(fixed, texts[i]);
            want = jansson_text(fixed);
            ck_assert_ptr_nonnull(want);
        }
        struct dg_buf b = {0};
        dg_puts(&b, "before ");
        dg_put_json_string(&b, texts[i]);
        ck_assert(!b.oom);
        ck_assert_str_eq(b.data + strlen("before "), want);
        if (!valid)
            ck_assert(strstr(b.data, "\\uFFFD"));
        free(fixed);
        free(want);
        free(b.data);
    }
    struct dg_buf b = {0};
    dg_put_json_string(&b, NULL);
    ck_assert_str_eq(b.data, "null");
    free(b.data);
}
END_TEST

/* The text of the encoded words in header h (after "Name: "), decoded and
 * joined, into out; each line of h checked: at most 76 characters, each
 * after the first folded (a space first). */
static void decode_header(const char *h, char *out, size_t size)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, lines = 0;
    for (const char *line = h; *line;) {
        const char *end = strstr(line, "\r\n");
        ck_assert_ptr_nonnull(end);
        ck_assert_int_le(end - line, 76);
        if (lines++)
            ck_assert_int_eq(line[0], ' ');
        for (const char *w = strstr(line, "=?UTF-8?B?"); w && w < end;
             w = strstr(w, "=?UTF-8?B?")) {
            w += 10;
            unsigned v = 0, bits = 0;
            for (; *w != '?'; w++) {
                if (*w == '=')
                    continue;
                v = (v << 6) | (unsigned)(strchr(b64, *w) - b64);
                if ((bits += 6) >= 8) {
                    bits -= 8;
                    ck_assert_uint_lt(o, size - 1);
                    out[o++] = (char)((v >> bits) & 0xff);
                }
            }
        }
        line = end + 2;
    }
    out[o] = '\0';
    ck_assert_uint_gt(lines, 1);
}

START_TEST(long_encoded_headers_are_folded)
{
    const char *title = "R\xc3\xa9vision de l\xe2\x80\x99\xc3\xa9valuation des risques "
                        "d\xe2\x80\x99incendie \xe2\x80\x94 b\xc3\xa2timents municipaux, "
                        "\xc3\xa9"
                        "coles et biblioth\xc3\xa8ques \xf0\x9f\x93\x85 2027";
    char got[512];
    struct dg_buf b = {0};
    dg_header(&b, "Subject", title, "\r\n");
    ck_assert(!b.oom);
    ck_assert_int_eq(strncmp(b.data, "Subject: =?UTF-8?B?", 19), 0);
    decode_header(b.data, got, sizeof(got));
    ck_assert_str_eq(got, title);
    free(b.data);
    b = (struct dg_buf){0};
    dg_puts(&b, "To: ");
    dg_mailbox(&b, title, "equality.diversity.inclusion@maidstone.gov.uk", "\r\n");
    dg_puts(&b, "\r\n");
    ck_assert(!b.oom);
    decode_header(b.data, got, sizeof(got));
    ck_assert_str_eq(got, title);
    ck_assert(strstr(b.data, "?=\r\n <equality.diversity.inclusion@maidstone.gov.uk>\r\n"));
    free(b.data);
}
END_TEST

/* An address is something@domain, its domain a host name as RFC 5321
 * writes one; an internationalised domain is UTF-8 and passes. */
START_TEST(an_address_needs_a_host_name_for_its_domain)
{
    static const char *const good[] = {
        "housing@x.example",
        "first.last+tag@mail-1.x.example",
        "a@localhost",
        "info@b\xc3\xbc"
        "cher.example",
        "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a",
        "a@xn--bcher-kva.example",
        "a@0123456789012345678901234567890123456789012345678901234567890ab.example",
    };
    static const struct {
        const char *address, *problem;
    } bad[] = {
        {"a@b@c", "local@domain"},
        {"housing@", "local@domain"},
        {"@x.example", "local@domain"},
        {"housing@x..example", "no leading, trailing or doubled dot in the domain"},
        {"housing@x.example.", "no leading, trailing or doubled dot in the domain"},
        {"housing@.x.example", "no leading, trailing or doubled dot in the domain"},
        {"housing@.", "no leading, trailing or doubled dot in the domain"},
        {"housing@-x.example", "no hyphen at either end of a domain label"},
        {"housing@x-.example", "no hyphen at either end of a domain label"},
        {"housing@x_y.example", "a domain of letters, digits, hyphens and dots"},
        {"housing@x.example/y", "a domain of letters, digits, hyphens and dots"},
        {"a@0123456789012345678901234567890123456789012345678901234567890abc.example",
         "domain labels of at most 63 characters"},
        {"housing@[192.0.2.1]", "one plain address, without <>\"(),;:\\[]"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(!dg_address_problem(good[i]), "%s: %s", good[i], dg_address_problem(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *got = dg_address_problem(bad[i].address);
        ck_assert_msg(got, "%s passed", bad[i].address);
        ck_assert_str_eq(got, bad[i].problem);
    }
    /* a sender's address is checked alike */
    char *name = NULL, *addr = NULL;
    ck_assert_int_eq(dg_split_mailbox("Tickler <tickler@x..example>", &name, &addr), -EINVAL);
    ck_assert_int_eq(dg_split_mailbox("Tickler <tickler@x.example>", &name, &addr), 0);
    ck_assert_str_eq(addr, "tickler@x.example");
    free(name);
    free(addr);
}
END_TEST

START_TEST(plan_links_are_web_urls)
{
    ck_assert(dg_web_url_ok("https://intranet.example/eap?a=1&b=2"));
    ck_assert(dg_web_url_ok("http://intranet"));
    static const char *const bad[] = {
        "",
        "javascript:alert(1)",
        "ftp://intranet.example/",
        "https://",
        "http:///path",
        "https://intranet.example/a plan",
        "https://intranet.example/\n",
        "HTTPS:intranet",
        "data:text/html,x",
        "https://x\x7f",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!dg_web_url_ok(bad[i]), "%s", bad[i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("digest");
    TCase *tc = tcase_create("digest");
    tcase_add_test(tc, date_is_the_local_day);
    tcase_add_test(tc, day_names);
    tcase_add_test(tc, an_integer_is_written_as_printf_writes_it);
    tcase_add_test(tc, a_prompt_for_an_observance_under_way_says_so);
    tcase_add_test(tc, a_look_ahead_says_what_is_coming_up_and_what_is_under_way);
    tcase_add_test(tc, the_calendar_is_named_by_the_notices_title);
    tcase_add_test(tc, a_notice_without_the_title_says_diversity_calendar);
    tcase_add_test(tc, prompts_beside_a_look_ahead_say_what_each_is);
    tcase_add_test(tc, a_long_deadline_is_cut_at_a_character);
    tcase_add_test(tc, a_late_reminder_says_the_reminder_is_late);
    tcase_add_test(tc, text_that_is_not_utf8_is_repaired);
    tcase_add_test(tc, html_escapes_plan_text);
    tcase_add_test(tc, an_officers_update_is_shown_as_text);
    tcase_add_test(tc, each_action_shows_its_link_under_it_in_text);
    tcase_add_test(tc, each_action_has_a_button_in_html);
    tcase_add_test(tc, an_observances_resources_are_a_link_when_a_web_address);
    tcase_add_test(tc, the_subject_never_holds_a_link);
    tcase_add_test(tc, the_subject_counts_actions_and_observances_apart);
    tcase_add_test(tc, answers_show_as_plain_text_under_their_action);
    tcase_add_test(tc, the_intro_opens_the_message);
    tcase_add_test(tc, update_requests_say_what_they_ask);
    tcase_add_test(tc, answers_told_to_the_report_route);
    tcase_add_test(tc, another_owning_teams_update_says_who_did_what);
    tcase_add_test(tc, link_tokens_for_answers_that_must_not_be_kept);
    tcase_add_test(tc, update_requests_say_so_and_open_with_their_intro);
    tcase_add_test(tc, a_failure_reports_subject_is_a_sentence_and_its_reply_in_the_body);
    tcase_add_test(tc, the_footer_fits_what_the_message_holds);
    tcase_add_test(tc, quoted_printable_keeps_lines_short_and_the_text_whole);
    tcase_add_test(tc, json_strings_are_written_as_jansson_writes_them);
    tcase_add_test(tc, plan_links_are_web_urls);
    tcase_add_test(tc, an_address_needs_a_host_name_for_its_domain);
    tcase_add_test(tc, long_encoded_headers_are_folded);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

/* Tests for daemon/route/route.c: due reminders become one digest per
 * (channel, recipient), ordered overdue first, each action once, with
 * escalations reaching the escalation team. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/day.h"
#include "route/route.h"
#include "update/answer.h"
#include "schedule/scheduler.h"

static struct tkl_config *cfg;
static struct tkl_diags diags;
static struct tkl_store *st;

static void setup(void)
{
    memset(&diags, 0, sizeof(diags));
    ck_assert_int_eq(tkl_config_load(TICKLER_SOURCE_DIR "/etc/tickler.conf", &cfg, &diags), 0);
    static const char csv[] = "Ref,Actions,Responsibility,Timeframe,Status\n"
                              "A,Late one,HR,31/01/2023,\n"         /* overdue on 1 March */
                              "B,Due soon,HR/Housing,31/03/2023,\n" /* 28 days before: 1 March */
                              "C,Ongoing one,HR,Ongoing,\n"         /* no reminder on 1 March */
                              "D,Very late,Housing,30/11/2022,\n" /* overdue 13 weeks: escalated */
                              "E,Twice,HR/Human Resources,31/03/2023,\n" /* one team named twice */
                              "F,Ours,EDI Officer Group,31/03/2023,\n"
                              "G,Shared,Housing/EDI Officer Group,30/11/2022,\n";
    ck_assert_int_eq(
        tkl_store_load_buffer(&cfg->store, &cfg->teams, "plan.csv", csv, strlen(csv), &st, &diags),
        0);
}

static void teardown(void)
{
    tkl_store_free(st);
    tkl_config_free(cfg);
    tkl_diags_free(&diags);
}

static size_t team_index(const char *id)
{
    for (size_t i = 0; i < cfg->teams.n; i++)
        if (!strcmp(cfg->teams.teams[i].id, id))
            return i;
    ck_abort_msg("no team %s", id);
    return 0;
}

static struct tkl_due due(const char *action, const char *team, enum tkl_stage stage, bool esc)
{
    const struct tkl_action *a = tkl_store_find(st, action);
    ck_assert_ptr_nonnull(a);
    struct tkl_due d = {.action = a, .team = team_index(team), .at = 1000};
    d.r.stage = stage;
    d.r.escalate = esc;
    d.r.day = tkl_day_from_civil(2023, 3, 1);
    strcpy(d.r.key, stage == TKL_STAGE_OVERDUE ? "overdue-1" : "lead-28");
    return d;
}

static const struct tkl_digest *digest_to(const struct tkl_route_batch *b, const char *recipient)
{
    for (size_t i = 0; i < b->n; i++)
        if (!strcmp(b->digests[i].recipient, recipient))
            return &b->digests[i];
    return NULL;
}

START_TEST(one_digest_per_recipient_overdue_first)
{
    struct tkl_route_batch b = {0};
    int32_t today = tkl_day_from_civil(2023, 3, 1);
    struct tkl_due v[] = {
        due("B", "hr", TKL_STAGE_LEAD, false),        due("B", "housing", TKL_STAGE_LEAD, false),
        due("A", "hr", TKL_STAGE_OVERDUE, false),     due("E", "hr", TKL_STAGE_LEAD, false),
        due("D", "housing", TKL_STAGE_OVERDUE, true),
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t routed = 0;
        ck_assert_int_eq(
            tkl_route_add(&b, &cfg->teams, cfg->schedule.escalate_to, &v[i], NULL, today, &routed),
            0);
        ck_assert_uint_ge(routed, 1);
    }
    ck_assert_int_eq(tkl_route_sort(&b), 0);
    ck_assert_uint_eq(b.n, 3); /* hr, housing, and the escalation team */

    const struct tkl_digest *hr = digest_to(&b, "hr@maidstone.example");
    ck_assert_ptr_nonnull(hr);
    ck_assert_uint_eq(hr->n, 3);
    ck_assert_str_eq(hr->entries[0].item_id, "A"); /* overdue first */
    ck_assert_int_eq(hr->entries[0].days_left, tkl_day_from_civil(2023, 1, 31) - today);
    ck_assert_str_eq(hr->entries[1].item_id, "B"); /* then by deadline, then id */
    ck_assert_str_eq(hr->entries[2].item_id, "E");
    ck_assert_str_eq(hr->stage_keys[0], "overdue-1");
    ck_assert_str_eq(hr->stage_keys[1], "lead-28");

    const struct tkl_digest *housing = digest_to(&b, "housing@maidstone.example");
    ck_assert_ptr_nonnull(housing);
    ck_assert_uint_eq(housing->n, 2);
    ck_assert_str_eq(housing->entries[0].item_id, "D");
    ck_assert_str_eq(housing->entries[1].item_id, "B");

    /* the escalated nag also reaches schedule.escalate_to */
    const struct tkl_digest *edi = digest_to(&b, "edi.officers@maidstone.example");
    ck_assert_ptr_nonnull(edi);
    ck_assert_uint_eq(edi->n, 1);
    ck_assert_str_eq(edi->entries[0].item_id, "D");

    struct tkl_notice n;
    tkl_route_notice(hr, &n);
    ck_assert_str_eq(n.channel, "email");
    ck_assert_str_eq(n.team_id, "hr");
    ck_assert_ptr_null(n.thread_key); /* a digest of several: no thread */
    tkl_route_notice(edi, &n);
    ck_assert_str_eq(n.thread_key, "D");
    tkl_route_batch_free(&b);
}
END_TEST

START_TEST(an_action_reached_twice_is_listed_once)
{
    /* the same action reaches one recipient through two teams that share
     * it, with other actions routed in between */
    free(cfg->teams.teams[team_index("housing")].recipients[0].address);
    cfg->teams.teams[team_index("housing")].recipients[0].address = strdup("hr@maidstone.example");
    struct tkl_route_batch b = {0};
    int32_t today = tkl_day_from_civil(2023, 3, 1);
    struct tkl_due v[] = {
        due("B", "hr", TKL_STAGE_LEAD, false),
        due("A", "hr", TKL_STAGE_OVERDUE, false),
        due("B", "housing", TKL_STAGE_LEAD, false),
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t routed = 0;
        ck_assert_int_eq(
            tkl_route_add(&b, &cfg->teams, cfg->schedule.escalate_to, &v[i], NULL, today, &routed),
            0);
    }
    ck_assert_int_eq(tkl_route_sort(&b), 0);
    ck_assert_uint_eq(b.n, 1);
    ck_assert_uint_eq(b.digests[0].n, 2);
    ck_assert_str_eq(b.digests[0].entries[0].item_id, "A");
    ck_assert_str_eq(b.digests[0].entries[1].item_id, "B");
    tkl_route_batch_free(&b);
}
END_TEST

/* The intro the escalation team's message gets when handed out: which of
 * its actions are other teams' copies, by the plan as it stands. An
 * action one of its own teams owns too is its own. */
START_TEST(copies_to_the_escalation_team_are_said_to_be_other_teams)
{
    int32_t today = tkl_day_from_civil(2023, 3, 1);
    struct {
        struct tkl_due v[3];
        size_t n;
        const char *intro; /* of the escalation team's message; NULL: none */
    } cases[] = {
        {{due("D", "housing", TKL_STAGE_OVERDUE, true), due("A", "hr", TKL_STAGE_OVERDUE, true)},
         2,
         "These actions are other teams' and long overdue. They are copied to you, the team "
         "their reminders escalate to, to follow them up with their owners."},
        {{due("D", "housing", TKL_STAGE_OVERDUE, true)},
         1,
         "This action is another team's and long overdue. It is copied to you, the team its "
         "reminders escalate to, to follow it up with them."},
        {{due("D", "housing", TKL_STAGE_OVERDUE, true),
          due("F", "edi-officers", TKL_STAGE_LEAD, false), due("A", "hr", TKL_STAGE_OVERDUE, true)},
         3,
         "Copied to you, the team their reminders escalate to, as they are other teams' and long "
         "overdue: D and A. The other is your team's."}, /* as the message lists them */
        /* G is the escalation team's own too */
        {{due("G", "housing", TKL_STAGE_OVERDUE, true),
          due("G", "edi-officers", TKL_STAGE_OVERDUE, false)},
         2,
         NULL},
        {{due("G", "housing", TKL_STAGE_OVERDUE, true)}, 1, NULL},
        /* only overdue reminders are escalated: one queued before the plan
         * gave A to other owners is not called a copy */
        {{due("A", "edi-officers", TKL_STAGE_LEAD, false)}, 1, NULL},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct tkl_route_batch b = {0};
        for (size_t i = 0; i < cases[k].n; i++) {
            size_t routed = 0;
            ck_assert_int_eq(tkl_route_add(&b, &cfg->teams, cfg->schedule.escalate_to,
                                           &cases[k].v[i], NULL, today, &routed),
                             0);
        }
        ck_assert_int_eq(tkl_route_sort(&b), 0);
        for (size_t i = 0; i < b.n; i++) {
            struct tkl_notice n;
            char *intro = NULL;
            tkl_route_notice(&b.digests[i], &n);
            ck_assert_int_eq(tkl_route_copies_intro(&n, st, NULL, today, &cfg->teams, &intro), 0);
            bool edi = !strcmp(n.recipient, "edi.officers@maidstone.example");
            /* the owning teams' own messages are theirs: nothing said */
            if (edi && cases[k].intro)
                ck_assert_str_eq(intro, cases[k].intro);
            else
                ck_assert_msg(!intro, "case %zu, %s: %s", k, n.recipient, intro);
            /* a message with an intro of its own keeps it */
            n.intro = "An intro of its own.";
            char *none = NULL;
            ck_assert_int_eq(tkl_route_copies_intro(&n, st, NULL, today, &cfg->teams, &none), 0);
            ck_assert_ptr_null(none);
            free(intro);
        }
        tkl_route_batch_free(&b);
    }
}
END_TEST

/* An update of action id, with the plan as it stands in st (it holds). */
static struct tkl_update update(const char *id, enum tkl_update_kind kind, const char *who,
                                const char *team)
{
    const struct tkl_action *a = tkl_store_find(st, id);
    ck_assert_ptr_nonnull(a);
    return (struct tkl_update){
        .action_id = (char *)id,
        .recipient = (char *)who,
        .team_id = (char *)team,
        .kind = kind,
        .at = tkl_local_instant(tkl_day_from_civil(2023, 2, 27), 10 * 60),
        .until_day = TKL_NO_DAY,
        .plan_deadline_day = a->deadline.day,
        .plan_deadline_text = a->deadline_text,
        .plan_status = a->status_text,
        .plan_owners = a->owners,
    };
}

static void answers_of(struct tkl_answers *ret, struct tkl_update *v, size_t n)
{
    struct tkl_updates l = {0};
    for (size_t i = 0; i < n; i++) {
        v[i].id = (int64_t)i + 1;
        ck_assert_int_eq(tkl_updates_push(&l, &v[i]), 0);
    }
    ck_assert_int_eq(tkl_answers_build(ret, &l, st, NULL, NULL), 0);
}

START_TEST(entries_carry_what_officers_said)
{
    /* D's progress note goes with it; the escalation team said D is not
     * theirs, so the escalation does not bring it back to them */
    struct tkl_update v[] = {
        update("D", TKL_UPDATE_PROGRESS, "housing@maidstone.example", "housing"),
        update("D", TKL_UPDATE_NOT_OURS, "edi.officers@maidstone.example", "edi-officers"),
        update("A", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr"),
    };
    v[0].rag = TKL_RAG_AMBER;
    v[0].note = (char *)"Waiting on funding";
    v[2].plan_status = (char *)"Started"; /* the plan has changed since */
    struct tkl_answers ans;
    answers_of(&ans, v, 3);
    struct tkl_route_batch b = {0};
    int32_t today = tkl_day_from_civil(2023, 3, 1);
    struct tkl_due d = due("D", "housing", TKL_STAGE_OVERDUE, true),
                   a = due("A", "hr", TKL_STAGE_OVERDUE, false);
    size_t routed = 0;
    ck_assert_int_eq(tkl_route_add(&b, &cfg->teams, cfg->schedule.escalate_to, &d,
                                   tkl_answers_find(&ans, "D"), today, &routed),
                     0);
    ck_assert_uint_eq(routed, 1);
    ck_assert_uint_eq(b.n, 1);
    ck_assert_str_eq(b.digests[0].recipient, "housing@maidstone.example");
    ck_assert_str_eq(b.digests[0].entries[0].answer,
                     "Progress (amber), housing@maidstone.example on 27 Feb 2023: Waiting on "
                     "funding");
    ck_assert_int_eq(tkl_route_add(&b, &cfg->teams, cfg->schedule.escalate_to, &a,
                                   tkl_answers_find(&ans, "A"), today, &routed),
                     0);
    const struct tkl_digest *hr = digest_to(&b, "hr@maidstone.example");
    ck_assert_str_eq(hr->entries[0].answer,
                     "hr@maidstone.example marked it complete on Monday 27 February 2023; the "
                     "plan now gives the deadline as 31/01/2023 and the status as none, so "
                     "reminders go on.");
    /* the plan's own progress column stays where it was */
    ck_assert_ptr_null(hr->entries[0].progress);
    /* the texts live as long as the batch, whatever the answers do */
    tkl_answers_free(&ans);
    ck_assert_int_eq(tkl_route_sort(&b), 0);
    ck_assert_ptr_nonnull(strstr(b.digests[0].entries[0].answer, "Waiting on funding"));
    tkl_route_batch_free(&b);
}
END_TEST

/* A mailbox in an owning team and in the escalation team gets the
 * escalation's copy as its own, unless its owning team said the action is
 * not theirs (its reminders are held): then it is a copy. */
START_TEST(a_copy_is_one_unless_an_owning_team_that_still_owns_it_reaches_the_mailbox)
{
    struct tkl_team *edi = &cfg->teams.teams[team_index("edi-officers")];
    free(edi->recipients[0].address);
    edi->recipients[0].address = strdup("hr@maidstone.example");
    ck_assert_ptr_nonnull(edi->recipients[0].address);
    int32_t today = tkl_day_from_civil(2023, 3, 1);
    struct tkl_route_batch b = {0};
    struct tkl_due d = due("B", "housing", TKL_STAGE_OVERDUE, true); /* B: HR and Housing's */
    size_t routed = 0;
    ck_assert_int_eq(
        tkl_route_add(&b, &cfg->teams, cfg->schedule.escalate_to, &d, NULL, today, &routed), 0);
    ck_assert_int_eq(tkl_route_sort(&b), 0);
    const struct tkl_digest *to = digest_to(&b, "hr@maidstone.example");
    ck_assert_ptr_nonnull(to);
    struct tkl_notice n;
    tkl_route_notice(to, &n);
    char *intro = NULL;
    ck_assert_int_eq(tkl_route_copies_intro(&n, st, NULL, today, &cfg->teams, &intro), 0);
    ck_assert_ptr_null(intro); /* HR's own */
    struct tkl_update v[] = {update("B", TKL_UPDATE_NOT_OURS, "hr@maidstone.example", "hr")};
    struct tkl_answers ans;
    answers_of(&ans, v, 1);
    ck_assert_int_eq(tkl_route_copies_intro(&n, st, &ans, today, &cfg->teams, &intro), 0);
    ck_assert_str_eq(intro, "This action is another team's and long overdue. It is copied to you, "
                            "the team its reminders escalate to, to follow it up with them.");
    free(intro);
    tkl_answers_free(&ans);
    tkl_route_batch_free(&b);
}
END_TEST

START_TEST(answer_text_of_progress_and_overruled_together)
{
    struct tkl_update v[] = {
        update("B", TKL_UPDATE_PROGRESS, "hr@maidstone.example", "hr"),
        update("B", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr"),
    };
    v[1].until_day = tkl_day_from_civil(2023, 3, 20);
    v[1].plan_deadline_day = tkl_day_from_civil(2023, 2, 28);
    struct tkl_answers ans;
    answers_of(&ans, v, 2);
    char *text = NULL;
    const struct tkl_action *b = tkl_store_find(st, "B");
    ck_assert_int_eq(tkl_route_answer_text(tkl_answers_find(&ans, "B"), b, "hr",
                                           tkl_day_from_civil(2023, 3, 1), false, &text),
                     0);
    ck_assert_str_eq(text, "Progress, hr@maidstone.example on 27 Feb 2023\n"
                           "hr@maidstone.example snoozed it until Monday 20 March 2023 on Monday "
                           "27 February 2023; the plan now gives the deadline as 31/03/2023 and "
                           "the status as none, so reminders go on.");
    free(text);
    ck_assert_int_eq(
        tkl_route_answer_text(NULL, b, "hr", tkl_day_from_civil(2023, 3, 1), false, &text), 0);
    ck_assert_ptr_null(text);
    tkl_answers_free(&ans);
}
END_TEST

/* A completion reopened: the reminders that come back say who reopened
 * it, when and why. */
START_TEST(answer_text_of_a_reopened_completion)
{
    struct tkl_update v[] = {
        update("B", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr"),
        update("B", TKL_UPDATE_REOPEN, "edi@maidstone.example", "hr"),
    };
    v[1].at += 86400;
    v[1].note = "Policy not yet updated";
    struct tkl_answers ans;
    answers_of(&ans, v, 2);
    char *text = NULL;
    ck_assert_int_eq(tkl_route_answer_text(tkl_answers_find(&ans, "B"), tkl_store_find(st, "B"),
                                           "hr", tkl_day_from_civil(2023, 3, 1), false, &text),
                     0);
    ck_assert_str_eq(text, "Reopened after it was marked complete, edi@maidstone.example on 28 Feb "
                           "2023: Policy not yet updated");
    free(text);
    tkl_answers_free(&ans);
}
END_TEST

/* A snooze resumed: the reminders that come back say who resumed them,
 * when and why, for TKL_RESUME_SHOWN_DAYS. */
START_TEST(answer_text_of_a_resume)
{
    struct tkl_update v[] = {
        update("B", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr"),
        update("B", TKL_UPDATE_RESUME, "edi@maidstone.example", "hr"),
    };
    v[0].until_day = tkl_day_from_civil(2023, 3, 20);
    v[1].at += 86400;
    v[1].note = "Back <early>";
    struct tkl_answers ans;
    answers_of(&ans, v, 2);
    char *text = NULL;
    const struct tkl_answer *a = tkl_answers_find(&ans, "B");
    const struct tkl_action *b = tkl_store_find(st, "B");
    int32_t day = tkl_day_from_civil(2023, 2, 28);
    ck_assert_int_eq(tkl_route_answer_text(a, b, "hr", day + 1, false, &text), 0);
    ck_assert_str_eq(text, "Reminders resumed, edi@maidstone.example on 28 Feb 2023: Back <early>");
    free(text);
    ck_assert_int_eq(
        tkl_route_answer_text(a, b, "hr", day + TKL_RESUME_SHOWN_DAYS - 1, false, &text), 0);
    ck_assert_ptr_nonnull(text);
    free(text);
    ck_assert_int_eq(tkl_route_answer_text(a, b, "hr", day + TKL_RESUME_SHOWN_DAYS, false, &text),
                     0);
    ck_assert_ptr_null(text);
    tkl_answers_free(&ans);
    /* HR's "not ours" taken back: said in HR's reminders, not another team's */
    v[0].kind = TKL_UPDATE_NOT_OURS;
    v[0].until_day = TKL_NO_DAY;
    answers_of(&ans, v, 2);
    a = tkl_answers_find(&ans, "B");
    ck_assert_int_eq(tkl_route_answer_text(a, b, "hr", day + 1, false, &text), 0);
    ck_assert_ptr_nonnull(text);
    free(text);
    ck_assert_int_eq(tkl_route_answer_text(a, b, "ict", day + 1, false, &text), 0);
    ck_assert_ptr_null(text);
    tkl_answers_free(&ans);
}
END_TEST

/* The escalation's copy of a reminder the owners' snooze holds quotes
 * its why on one line: every kind of line break in it (CR, LF, NEL,
 * LINE and PARAGRAPH SEPARATOR, which a mail client or a card may break
 * a line at) one space. */
START_TEST(answer_text_of_an_owners_snooze_quotes_its_why_on_one_line)
{
    struct tkl_update v[] = {
        update("B", TKL_UPDATE_SNOOZE, "hr@maidstone.example", "hr"),
    };
    v[0].until_day = tkl_day_from_civil(2023, 3, 20);
    v[0].note = "Board\r\n\xe2\x80\xa8Progress (green), x@y on 1 Mar 2023\xe2\x80\xa9\xc2\x85"
                "Not ours, z@y\xe2\x80\xa8";
    struct tkl_answers ans;
    answers_of(&ans, v, 1);
    char *text = NULL;
    ck_assert_int_eq(tkl_route_answer_text(tkl_answers_find(&ans, "B"), tkl_store_find(st, "B"),
                                           "ict", tkl_day_from_civil(2023, 3, 1), true, &text),
                     0);
    ck_assert_str_eq(text, "Snoozed by its owners until Monday 20 March 2023, hr@maidstone.example "
                           "on 27 Feb 2023; their reminders are held until then, this escalation "
                           "goes on. Their reason: \xe2\x80\x9c\xe2\x81\xa8"
                           "Board Progress (green), x@y on 1 Mar 2023 Not ours, z@y "
                           "\xe2\x81\xa9\xe2\x80\x9d");
    free(text);
    tkl_answers_free(&ans);
}
END_TEST

/* Every text an officer wrote that an entry's answer quotes is on one
 * line and isolated (tkl_text_fput_quote): a reopen's why, a progress
 * note, a resume's why, a "not ours" note and the team it suggests, so
 * that none can pass for a line of the answer or of the message around
 * it, nor reorder the answer's text after it. */
START_TEST(answer_text_quotes_every_note_on_one_line)
{
    static char forged[] = "Yes\r\nSubject: forged\xe2\x80\xa8Progress (red)\xc2\x85x";
    /* inside FSI ... PDI: it holds more than ASCII */
    static const char one[] = "\xe2\x81\xa8Yes Subject: forged Progress (red) x\xe2\x81\xa9";
    struct tkl_update v[] = {
        update("B", TKL_UPDATE_COMPLETE, "hr@maidstone.example", "hr"),
        update("B", TKL_UPDATE_REOPEN, "edi@maidstone.example", "hr"),
        update("B", TKL_UPDATE_PROGRESS, "hr@maidstone.example", "hr"),
    };
    v[1].at += 86400;
    v[1].note = forged;
    v[2].note = forged;
    struct tkl_answers ans;
    answers_of(&ans, v, 3);
    char *text = NULL, want[512];
    const struct tkl_action *b = tkl_store_find(st, "B");
    int32_t day = tkl_day_from_civil(2023, 3, 1);
    ck_assert_int_eq(tkl_route_answer_text(tkl_answers_find(&ans, "B"), b, "hr", day, false, &text),
                     0);
    snprintf(want, sizeof(want),
             "Reopened after it was marked complete, edi@maidstone.example on 28 Feb 2023: %s\n"
             "Progress, hr@maidstone.example on 27 Feb 2023: %s",
             one, one);
    ck_assert_str_eq(text, want);
    free(text);
    tkl_answers_free(&ans);
    /* a resume's why */
    v[0].kind = TKL_UPDATE_SNOOZE;
    v[0].until_day = tkl_day_from_civil(2023, 3, 20);
    v[1].kind = TKL_UPDATE_RESUME;
    answers_of(&ans, v, 2);
    ck_assert_int_eq(tkl_route_answer_text(tkl_answers_find(&ans, "B"), b, "hr", day, false, &text),
                     0);
    snprintf(want, sizeof(want), "Reminders resumed, edi@maidstone.example on 28 Feb 2023: %s",
             one);
    ck_assert_str_eq(text, want);
    free(text);
    tkl_answers_free(&ans);
    /* a "not ours" and the team it suggests, told to the team's escalation */
    v[0].kind = TKL_UPDATE_NOT_OURS;
    v[0].until_day = TKL_NO_DAY;
    v[0].note = forged;
    v[0].suggested_team = "Estates\nSubject: forged";
    answers_of(&ans, v, 1);
    ck_assert_int_eq(tkl_route_answer_text(tkl_answers_find(&ans, "B"), b, "hr", day, false, &text),
                     0);
    snprintf(want, sizeof(want),
             "Not ours, hr@maidstone.example on 27 Feb 2023: %s (suggested: Estates Subject: "
             "forged)",
             one);
    ck_assert_str_eq(text, want);
    free(text);
    tkl_answers_free(&ans);
    /* a right-to-left override left open (RLO, U+202E) in the note and
     * in the team: each closed (PDF) inside its isolate, so "(suggested:"
     * and the closing parenthesis keep their order */
    v[0].note = "\xe2\x80\xaeYes";
    v[0].suggested_team = "\xe2\x80\xae"
                          "Estates";
    answers_of(&ans, v, 1);
    ck_assert_int_eq(tkl_route_answer_text(tkl_answers_find(&ans, "B"), b, "hr", day, false, &text),
                     0);
    ck_assert_str_eq(text, "Not ours, hr@maidstone.example on 27 Feb 2023: "
                           "\xe2\x81\xa8\xe2\x80\xaeYes\xe2\x80\xac\xe2\x81\xa9 (suggested: "
                           "\xe2\x81\xa8\xe2\x80\xae"
                           "Estates\xe2\x80\xac\xe2\x81\xa9)");
    free(text);
    tkl_answers_free(&ans);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("digests");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_digest_per_recipient_overdue_first);
    tcase_add_test(tc, an_action_reached_twice_is_listed_once);
    tcase_add_test(tc, copies_to_the_escalation_team_are_said_to_be_other_teams);
    tcase_add_test(tc, a_copy_is_one_unless_an_owning_team_that_still_owns_it_reaches_the_mailbox);
    tcase_add_test(tc, entries_carry_what_officers_said);
    tcase_add_test(tc, answer_text_of_progress_and_overruled_together);
    tcase_add_test(tc, answer_text_of_a_reopened_completion);
    tcase_add_test(tc, answer_text_of_a_resume);
    tcase_add_test(tc, answer_text_of_an_owners_snooze_quotes_its_why_on_one_line);
    tcase_add_test(tc, answer_text_quotes_every_note_on_one_line);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

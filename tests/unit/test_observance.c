/* Tests for daemon/source/observance.c: calendar items joining the store. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "core/day.h"
#include "source/observance.h"
#include "store_fixture.h"

#define DAY(y, m, d) tkl_day_from_civil(y, m, d)

/* A plan of one action, EAP-1, owned by HR. */
static struct tkl_store *plan(void)
{
    struct tkl_store *s = load("Ref,Actions,Responsibility\nEAP-1,Train staff,HR\n");
    ck_assert_ptr_nonnull(s);
    return s;
}

static const char *const edi_by_name[] = {"EDI Officer Group"};
static const char *const planning[] = {"Planning"};

static struct tkl_event event(const char *id, const char *title, int32_t first, int32_t last)
{
    return (struct tkl_event){.source = "observances",
                              .id = id,
                              .title = title,
                              .first_day = first,
                              .last_day = last,
                              .team = "hr"};
}

START_TEST(items_become_actions_of_kind_event)
{
    struct tkl_store *s = plan();
    struct tkl_event ev[2] = {
        event("bhm", "Black History Month", DAY(2027, 10, 1), DAY(2027, 10, 31)),
        event("wmhd", NULL, DAY(2027, 10, 10), DAY(2027, 10, 10)),
    };
    ev[0].description = "Celebrate";
    ev[0].category = "race";
    ev[0].url = "https://example.org/bhm";
    ev[0].teams = edi_by_name;
    ev[0].n_teams = 1;
    ev[1].description = ""; /* empty, as an empty cell: no commitment */
    ck_assert_int_eq(tkl_observances_add(s, ev, 2, &dir, &diags), 0);
    ck_assert_uint_eq(s->n, 3);
    ck_assert_uint_eq(s->n_events, 2);

    const struct tkl_action *a = tkl_store_find(s, "bhm");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->deadline.kind, TKL_DEADLINE_EVENT);
    ck_assert_int_eq(a->deadline.day, DAY(2027, 10, 1));
    ck_assert_int_eq(a->deadline.last_day, DAY(2027, 10, 31));
    ck_assert_str_eq(a->deadline_text, "1\u201331 October 2027");
    ck_assert_str_eq(a->file, "observances");
    ck_assert_str_eq(a->title, "Black History Month");
    ck_assert_str_eq(a->commitment, "Celebrate");
    ck_assert_str_eq(tkl_action_rare(a)->category, "race");
    ck_assert_str_eq(tkl_action_rare(a)->url, "https://example.org/bhm");
    ck_assert_uint_eq(a->n_teams, 2);
    ck_assert_str_eq(a->teams[0], "hr");
    ck_assert_str_eq(a->teams[1], "edi");
    ck_assert_str_eq(a->owners, "Human Resources, EDI Officer Group");
    ck_assert(tkl_action_active(a));

    a = tkl_store_find(s, "wmhd");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->title, "wmhd"); /* no title: the id */
    ck_assert_ptr_null(a->commitment);
    ck_assert_str_eq(a->deadline_text, "10 October 2027");
    ck_assert_str_eq(a->owners, "Human Resources");
    /* the plan's action is still there, and an event of its own */
    ck_assert_ptr_nonnull(tkl_store_find(s, "EAP-1"));
    ck_assert_uint_eq(diags.n, 2); /* the plan's: no deadline, no status column */
    tkl_store_free(s);
}
END_TEST

START_TEST(unknown_team_is_warned_and_kept)
{
    struct tkl_store *s = plan();
    struct tkl_event ev = event("idahobit", "IDAHOBIT", DAY(2027, 5, 17), DAY(2027, 5, 17));
    ev.teams = planning;
    ev.n_teams = 1;
    ck_assert_int_eq(tkl_observances_add(s, &ev, 1, &dir, &diags), 0);
    const struct tkl_action *a = tkl_store_find(s, "idahobit");
    ck_assert_uint_eq(a->n_teams, 1);
    ck_assert_str_eq(a->teams[0], "hr");
    ck_assert_uint_eq(tkl_action_rare(a)->n_unmatched, 1);
    ck_assert_str_eq(tkl_action_rare(a)->unmatched[0], "Planning");
    const struct tkl_diag *d = &diags.items[diags.n - 1];
    ck_assert_str_eq(d->file, "observances");
    ck_assert_str_eq(d->field, "X-TICKLER-TEAMS");
    ck_assert_str_eq(d->message, "IDAHOBIT (idahobit): \"Planning\" is not a team in the team "
                                 "directory; the prompt goes to the other teams");
    ck_assert_uint_eq(d->line, 0);
    tkl_store_free(s);
}
END_TEST

/* With two calendar files one can tell which to fix: the warning is at
 * the file and line the source says the event is written at. */
START_TEST(an_unknown_team_is_warned_of_at_the_events_file_and_line)
{
    struct tkl_store *s = plan();
    struct tkl_event ev = event("good", "Good", DAY(2027, 3, 10), DAY(2027, 3, 10));
    ev.teams = planning;
    ev.n_teams = 1;
    ev.file = "./cal/bad.ics";
    ev.line = 12;
    ck_assert_int_eq(tkl_observances_add(s, &ev, 1, &dir, &diags), 0);
    const struct tkl_diag *d = &diags.items[diags.n - 1];
    ck_assert_int_eq(d->severity, TKL_SEV_WARNING);
    ck_assert_str_eq(d->file, "./cal/bad.ics");
    ck_assert_uint_eq(d->line, 12);
    ck_assert_str_eq(d->field, "X-TICKLER-TEAMS");
    ck_assert_str_eq(tkl_store_find(s, "good")->file, "observances"); /* still its source's */
    tkl_store_free(s);
}
END_TEST

START_TEST(an_id_the_plan_has_is_renamed)
{
    struct tkl_store *s = plan();
    struct tkl_event ev = event("EAP-1", "Pride Month", DAY(2027, 6, 1), DAY(2027, 6, 30));
    ck_assert_int_eq(tkl_observances_add(s, &ev, 1, &dir, &diags), 0);
    ck_assert_str_eq(tkl_store_find(s, "EAP-1")->title, "Train staff");
    ck_assert_str_eq(tkl_store_find(s, "EAP-1-2")->title, "Pride Month");
    ck_assert(has_diag(0, "same id as plan.csv:2 (EAP-1); this row is EAP-1-2"));
    tkl_store_free(s);
}
END_TEST

START_TEST(day_ranges_in_words)
{
    char buf[64];
    int32_t oct1 = DAY(2027, 10, 1);
    ck_assert_str_eq(tkl_day_range_format(oct1, oct1, buf, sizeof(buf)), "1 October 2027");
    ck_assert_str_eq(tkl_day_range_format(oct1, oct1 + 30, buf, sizeof(buf)),
                     "1\u201331 October 2027");
    ck_assert_str_eq(tkl_day_range_format(oct1 - 3, oct1 + 3, buf, sizeof(buf)),
                     "28 September \u2013 4 October 2027");
    ck_assert_str_eq(tkl_day_range_format(DAY(2027, 12, 27), DAY(2028, 1, 2), buf, sizeof(buf)),
                     "27 December 2027 \u2013 2 January 2028");
}
END_TEST

START_TEST(every_allocation_failure_leaves_the_store_unchanged)
{
    /* failing the 1st, 2nd, ... allocation: each run returns -ENOMEM with
     * the store as it was, until one fails nothing. A failed allocation
     * inside a warning only loses the warning (diags.oom says so). */
    struct tkl_event ev[2] = {
        event("EAP-1", "Pride Month", DAY(2027, 6, 1), DAY(2027, 6, 30)),
        event("bhm", "Black History Month", DAY(2027, 10, 1), DAY(2027, 10, 31)),
    };
    ev[1].teams = planning;
    ev[1].n_teams = 1;
    unsigned long n;
    for (n = 1;; n++) {
        struct tkl_store *s = plan();
        uint64_t hash = tkl_store_hash(s, 0);
        struct tkl_diags d = {0};
        alloc_fail_nth(n);
        int r = tkl_observances_add(s, ev, 2, &dir, &d);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        bool lost_warning = d.oom;
        tkl_diags_free(&d);
        if (r == 0) {
            ck_assert_uint_eq(s->n, 3);
            ck_assert_uint_eq(s->n_events, 2);
            tkl_store_free(s);
            if (lost_warning)
                continue;
            ck_assert_uint_lt(used, n); /* it did not need the failed one */
            break;
        }
        ck_assert_int_eq(r, -ENOMEM);
        ck_assert_uint_eq(s->n, 1);
        ck_assert_uint_eq(s->n_events, 0);
        ck_assert_uint_eq(tkl_store_hash(s, 0), hash);
        ck_assert_ptr_eq(tkl_store_find(s, "EAP-1"), &s->actions[0]);
        ck_assert_ptr_null(tkl_store_find(s, "bhm"));
        tkl_store_free(s);
    }
    ck_assert_uint_gt(n, 10);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("observance");
    TCase *tc = tcase_create("events");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, items_become_actions_of_kind_event);
    tcase_add_test(tc, unknown_team_is_warned_and_kept);
    tcase_add_test(tc, an_unknown_team_is_warned_of_at_the_events_file_and_line);
    tcase_add_test(tc, an_id_the_plan_has_is_renamed);
    tcase_add_test(tc, day_ranges_in_words);
    tcase_add_test(tc, every_allocation_failure_leaves_the_store_unchanged);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

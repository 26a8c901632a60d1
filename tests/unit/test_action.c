/* Tests for daemon/store/action.c: one action's teams, warnings, id and hash. */
#include <check.h>

#include "check_run.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "store_fixture.h"

static struct tkl_action a;

static void action_setup(void)
{
    setup();
    memset(&a, 0, sizeof(a));
    a.file = strdup("plan.csv");
    a.line = 7;
    a.title = strdup("Train staff");
    a.commitment = strdup("We will train");
}

static void action_teardown(void)
{
    tkl_action_free(&a);
    teardown();
}

START_TEST(a_team_is_added_once)
{
    ck_assert_int_eq(tkl_action_add_team(&a, "hr"), 0);
    ck_assert_int_eq(tkl_action_add_team(&a, "edi"), 0);
    ck_assert_int_eq(tkl_action_add_team(&a, "hr"), 0);
    ck_assert_uint_eq(a.n_teams, 2);
    ck_assert_str_eq(a.teams[0], "hr");
    ck_assert_str_eq(a.teams[1], "edi");
    ck_assert_int_eq(tkl_action_add_unmatched(&a, "Planning"), 0);
    ck_assert_uint_eq(tkl_action_rare(&a)->n_unmatched, 1);
    ck_assert_str_eq(tkl_action_rare(&a)->unmatched[0], "Planning");
}
END_TEST

START_TEST(a_warning_goes_to_diags_and_stays_with_the_action)
{
    ck_assert_int_eq(tkl_action_warn(&a, &diags, "status", "\"%s\" is unknown", "Parked"), 0);
    ck_assert_int_eq(tkl_action_warn(&a, &diags, NULL, "no field"), 0);
    ck_assert_uint_eq(diags.n, 2);
    ck_assert_int_eq(diags.items[0].severity, TKL_SEV_WARNING);
    ck_assert_str_eq(diags.items[0].file, "plan.csv");
    ck_assert_uint_eq(diags.items[0].line, 7);
    ck_assert_str_eq(diags.items[0].field, "status");
    ck_assert_str_eq(diags.items[0].message, "\"Parked\" is unknown");
    ck_assert_uint_eq(tkl_action_rare(&a)->n_warnings, 2);
    ck_assert_str_eq(tkl_action_rare(&a)->warnings[0], "status: \"Parked\" is unknown");
    ck_assert_str_eq(tkl_action_rare(&a)->warnings[1], "no field");
}
END_TEST

START_TEST(a_derived_id_follows_the_naming_text_only)
{
    ck_assert_int_eq(tkl_action_derive_id(&a), 0);
    ck_assert_uint_eq(strlen(a.id), 12);
    ck_assert_int_eq(a.id[0], 'a');
    for (size_t i = 1; i < 12; i++)
        ck_assert(isxdigit((unsigned char)a.id[i]));
    /* the same words spaced differently, another deadline: the same id */
    struct tkl_action b = {.title = strdup(" Train\n staff "),
                           .commitment = strdup("We  will train"),
                           .deadline_text = strdup("May 2023")};
    ck_assert_int_eq(tkl_action_derive_id(&b), 0);
    ck_assert_str_eq(a.id, b.id);
    /* another commitment: another id */
    struct tkl_action c = {.title = strdup("Train staff"), .commitment = strdup("We will listen")};
    ck_assert_int_eq(tkl_action_derive_id(&c), 0);
    ck_assert_str_ne(a.id, c.id);
    tkl_action_free(&b);
    tkl_action_free(&c);
}
END_TEST

/* The check that lets a clean cell be read in place says "clean" exactly
 * when cleaning would give the text back. */
START_TEST(a_text_is_clean_when_cleaning_gives_it_back)
{
    static const char *texts[] = {
        "",
        "Train staff",
        " Train",
        "Train ",
        "Train  staff",
        "Train\nstaff",
        "Train\n",
        "Train\r\nstaff",
        "Train\tstaff",
        "Train\xc2\xa0staff",
        "\xc2\xa0x",
        "caf\xc3\xa9",
        "x\x01y",
        "\n",
        " ",
        "a \n b",
        "Train\vstaff",
        "x\xc2",
        "\xc2\xa9 2024",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        for (int fold = 0; fold <= 1; fold++) {
            char *c = tkl_text_clean(texts[i], fold);
            ck_assert_ptr_nonnull(c);
            ck_assert_msg(tkl_action_text_is_clean(texts[i], fold) == (strcmp(c, texts[i]) == 0),
                          "text %zu, fold %d", i, fold);
            free(c);
        }
}
END_TEST

START_TEST(the_hash_sees_texts_teams_and_their_reading_not_the_place)
{
    a.id = strdup("EAP-1");
    uint64_t h = tkl_action_hash(&a);
    a.line = 9;
    ck_assert_uint_eq(tkl_action_hash(&a), h);
    a.deadline_text = strdup("April 2023");
    uint64_t dated = tkl_action_hash(&a);
    ck_assert_uint_ne(dated, h);
    ck_assert_int_eq(tkl_action_add_team(&a, "hr"), 0);
    ck_assert_uint_ne(tkl_action_hash(&a), dated);
    /* the same texts read differently (the status words or deadline
     * reading of a new configuration) are a change */
    uint64_t teamed = tkl_action_hash(&a);
    a.status = a.status == TKL_STATUS_COMPLETE ? TKL_STATUS_ACTIVE : TKL_STATUS_COMPLETE;
    uint64_t restatused = tkl_action_hash(&a);
    ck_assert_uint_ne(restatused, teamed);
    a.deadline.day += 1;
    ck_assert_uint_ne(tkl_action_hash(&a), restatused);
    /* a text moved from one field to the next is a change */
    struct tkl_action b = {.id = strdup("EAP-1"), .title = strdup("Train staff We will train")};
    struct tkl_action c = {.id = strdup("EAP-1"),
                           .title = strdup("Train staff"),
                           .commitment = strdup("We will train")};
    ck_assert_uint_ne(tkl_action_hash(&b), tkl_action_hash(&c));
    tkl_action_free(&b);
    tkl_action_free(&c);
}
END_TEST

START_TEST(active_is_the_status)
{
    ck_assert(tkl_action_active(&a));
    a.status = TKL_STATUS_COMPLETE;
    ck_assert(!tkl_action_active(&a));
    a.status = TKL_STATUS_CLOSED;
    ck_assert(!tkl_action_active(&a));
}
END_TEST

START_TEST(a_string_list_owns_what_it_is_given)
{
    char **v = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_strv_push(&v, &n, strdup("one")), 0);
    ck_assert_int_eq(tkl_strv_push(&v, &n, NULL), -ENOMEM); /* a failed strdup */
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(v[0], "one");
    free(v[0]);
    free(v);
    struct tkl_action zero = {0};
    tkl_action_free(&zero);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("action");
    TCase *tc = tcase_create("action");
    tcase_add_checked_fixture(tc, action_setup, action_teardown);
    tcase_add_test(tc, a_team_is_added_once);
    tcase_add_test(tc, a_warning_goes_to_diags_and_stays_with_the_action);
    tcase_add_test(tc, a_derived_id_follows_the_naming_text_only);
    tcase_add_test(tc, a_text_is_clean_when_cleaning_gives_it_back);
    tcase_add_test(tc, the_hash_sees_texts_teams_and_their_reading_not_the_place);
    tcase_add_test(tc, active_is_the_status);
    tcase_add_test(tc, a_string_list_owns_what_it_is_given);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

/* Tests for daemon/store/index.c: distinct ids, found by id. */
#include <check.h>

#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "store/index.h"
#include "store_fixture.h"

START_TEST(every_action_is_found_by_its_id)
{
    struct tkl_store *s = load("Ref,Actions,Responsibility\nEAP-1,One,HR\nEAP-2,Two,HR\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_eq(tkl_store_find(s, "EAP-1"), &s->actions[0]);
    ck_assert_ptr_eq(tkl_store_find(s, "EAP-2"), &s->actions[1]);
    ck_assert_ptr_null(tkl_store_find(s, "EAP-3"));
    ck_assert_ptr_null(tkl_store_find(s, "eap-1")); /* ids are as written */
    tkl_store_free(s);
}
END_TEST

START_TEST(an_empty_store_finds_nothing)
{
    struct tkl_store *s = load("Ref,Actions,Responsibility\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 0);
    ck_assert_ptr_null(tkl_store_find(s, "EAP-1"));
    tkl_store_free(s);
    struct tkl_store none = {0};
    ck_assert_ptr_null(tkl_store_find(&none, "EAP-1"));
}
END_TEST

START_TEST(a_repeated_id_is_renamed_and_warned)
{
    struct tkl_store *s = load("Ref,Actions,Responsibility\nA1,One,HR\nA1,Two,HR\nA1-2,Three,HR\n"
                               "A1,Four,HR\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->actions[0].id, "A1");
    /* A1-2 is written by a later row: it keeps it, and no new name takes it */
    ck_assert_str_eq(s->actions[1].id, "A1-3");
    ck_assert_str_eq(s->actions[2].id, "A1-2");
    ck_assert_str_eq(s->actions[3].id, "A1-4");
    ck_assert(has_diag(3, "same id as plan.csv:2 (A1); this row is A1-3"));
    ck_assert(!has_diag(4, "same id"));
    ck_assert(has_diag(5, "same id as plan.csv:2 (A1); this row is A1-4"));
    for (size_t i = 0; i < s->n; i++)
        ck_assert_ptr_eq(tkl_store_find(s, s->actions[i].id), &s->actions[i]);
    tkl_store_free(s);
}
END_TEST

START_TEST(identical_rows_get_distinct_ids)
{
    struct tkl_store *s = load("Actions,Responsibility\nTwo,HR\nTwo,HR\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_ne(s->actions[0].id, s->actions[1].id);
    char want[32];
    snprintf(want, sizeof(want), "%s-2", s->actions[0].id);
    ck_assert_str_eq(s->actions[1].id, want);
    tkl_store_free(s);
}
END_TEST

START_TEST(a_large_plan_is_indexed_whole)
{
    struct tkl_buf csv = {0};
    ck_assert_int_eq(tkl_buf_puts(&csv, "Ref,Actions,Responsibility\n"), 0);
    for (int i = 0; i < 5000; i++)
        ck_assert_int_eq(tkl_buf_printf(&csv, "R%d,Action %d,HR\n", i, i), 0);
    struct tkl_store *s = load(csv.data);
    tkl_buf_free(&csv);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 5000);
    ck_assert_uint_ge(s->index_cap, 2 * s->n);
    for (int i = 0; i < 5000; i++) {
        char id[16];
        snprintf(id, sizeof(id), "R%d", i);
        ck_assert_ptr_eq(tkl_store_find(s, id), &s->actions[i]);
    }
    tkl_store_free(s);
}
END_TEST

/* Many rows repeating one id (a table of identical rows) are renamed in
 * one pass: each rename starts where the last stopped, instead of trying
 * every suffix again (quadratic: minutes for 100,000 rows). */
START_TEST(many_rows_of_one_id_are_renamed_in_turn)
{
    enum { N = 100000 };
    struct tkl_buf csv = {0};
    ck_assert_int_eq(tkl_buf_puts(&csv, "Ref,Actions,Responsibility\nA1,One,HR\nA1-3,Taken,HR\n"),
                     0);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(tkl_buf_puts(&csv, "A1,Same,HR\n"), 0);
    struct tkl_store *s = load(csv.data);
    tkl_buf_free(&csv);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, N + 2);
    ck_assert_str_eq(s->actions[2].id, "A1-2");
    ck_assert_str_eq(s->actions[3].id, "A1-4"); /* A1-3 is written in the plan */
    ck_assert_str_eq(s->actions[N + 1].id, "A1-100002");
    for (size_t i = 0; i < s->n; i++)
        ck_assert_ptr_eq(tkl_store_find(s, s->actions[i].id), &s->actions[i]);
    tkl_store_free(s);
}
END_TEST

START_TEST(rebuilding_keeps_the_ids_already_distinct)
{
    struct tkl_store *s = load("Ref,Actions,Responsibility\nA1,One,HR\nA1,Two,HR\n");
    ck_assert_ptr_nonnull(s);
    size_t warnings = diags.n;
    ck_assert_int_eq(tkl_store_index(s, NULL, &diags), 0);
    ck_assert_str_eq(s->actions[1].id, "A1-2");
    ck_assert_uint_eq(diags.n, warnings);
    ck_assert_ptr_eq(tkl_store_find(s, "A1-2"), &s->actions[1]);
    tkl_store_free(s);
}
END_TEST

/* Two ids whose hashes are equal in all 32 bits share a slot's chain and
 * its tag: each is still found at its own action, and neither is renamed. */
START_TEST(ids_of_one_hash_are_told_apart)
{
    /* found by trying "EAP-<n>" in turn; if the hash changes, find another pair */
    ck_assert_uint_eq(tkl_store_id_hash("EAP-14084"), tkl_store_id_hash("EAP-72590"));
    struct tkl_store *one = load("Ref,Actions,Responsibility\nEAP-14084,One,HR\n");
    ck_assert_ptr_nonnull(one);
    ck_assert_ptr_eq(tkl_store_find(one, "EAP-14084"), &one->actions[0]);
    ck_assert_ptr_null(tkl_store_find(one, "EAP-72590"));
    tkl_store_free(one);
    struct tkl_store *s =
        load("Ref,Actions,Responsibility\nEAP-72590,One,HR\nEAP-1,Two,HR\nEAP-14084,Three,HR\n");
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < diags.n; i++)
        ck_assert_ptr_null(strstr(diags.items[i].message, "same id"));
    ck_assert_str_eq(s->actions[2].id, "EAP-14084");
    ck_assert_ptr_eq(tkl_store_find(s, "EAP-72590"), &s->actions[0]);
    ck_assert_ptr_eq(tkl_store_find(s, "EAP-14084"), &s->actions[2]);
    tkl_store_free(s);
}
END_TEST

/* Each action's hash is taken as its row is read; a renamed action's is
 * taken again, of its new id, so that a reload sees it as it is. */
START_TEST(every_hash_is_of_the_action_as_indexed)
{
    struct tkl_store *s = load("Ref,Actions,Responsibility\nA1,One,HR\nA1,One,HR\nA2,Two,HR\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->actions[1].id, "A1-2");
    for (size_t i = 0; i < s->n; i++) {
        ck_assert_uint_ne(tkl_store_hash(s, i), 0);
        ck_assert_uint_eq(tkl_store_hash(s, i), tkl_action_hash(&s->actions[i]));
    }
    ck_assert_uint_ne(tkl_store_hash(s, 0), tkl_store_hash(s, 1));
    /* the renamed row is read again by the next load: its id repeats */
    ck_assert_uint_ne(s->row_hashes[0], 0);
    ck_assert_uint_eq(s->row_hashes[1], 0);
    /* the index built again from the ids alone finds the same */
    ck_assert_int_eq(tkl_store_index(s, NULL, &diags), 0);
    for (size_t i = 0; i < s->n; i++)
        ck_assert_ptr_eq(tkl_store_find(s, s->actions[i].id), &s->actions[i]);
    tkl_store_free(s);
}
END_TEST

START_TEST(a_counterpart_is_the_action_of_the_same_id)
{
    struct tkl_store *was = load("Ref,Actions,Responsibility\nA1,One,HR\nA2,Two,HR\nA3,Three,HR\n");
    /* A2 gone, A3 moved up a place, A1 in its place, A4 new */
    struct tkl_store *now =
        load("Ref,Actions,Responsibility\nA1,One,HR\nA3,Three,HR\nA4,Four,HR\n");
    ck_assert_ptr_nonnull(was);
    ck_assert_ptr_nonnull(now);
    ck_assert_ptr_eq(tkl_store_counterpart(now, was, 0), &now->actions[0]);
    ck_assert_ptr_null(tkl_store_counterpart(now, was, 1));
    ck_assert_ptr_eq(tkl_store_counterpart(now, was, 2), &now->actions[1]);
    ck_assert_ptr_eq(tkl_store_counterpart(was, now, 1), &was->actions[2]);
    ck_assert_ptr_null(tkl_store_counterpart(was, now, 2));
    /* a store longer than the other: places past its end are looked up */
    struct tkl_store *one = load("Ref,Actions,Responsibility\nA3,Three,HR\n");
    ck_assert_ptr_nonnull(one);
    ck_assert_ptr_eq(tkl_store_counterpart(one, was, 2), &one->actions[0]);
    ck_assert_ptr_null(tkl_store_counterpart(one, was, 0));
    tkl_store_free(one);
    tkl_store_free(now);
    tkl_store_free(was);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("ids");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_action_is_found_by_its_id);
    tcase_add_test(tc, an_empty_store_finds_nothing);
    tcase_add_test(tc, a_repeated_id_is_renamed_and_warned);
    tcase_add_test(tc, identical_rows_get_distinct_ids);
    tcase_add_test(tc, a_large_plan_is_indexed_whole);
    tcase_add_test(tc, many_rows_of_one_id_are_renamed_in_turn);
    tcase_add_test(tc, rebuilding_keeps_the_ids_already_distinct);
    tcase_add_test(tc, ids_of_one_hash_are_told_apart);
    tcase_add_test(tc, every_hash_is_of_the_action_as_indexed);
    tcase_add_test(tc, a_counterpart_is_the_action_of_the_same_id);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

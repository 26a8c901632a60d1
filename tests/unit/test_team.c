/* Tests for daemon/team/team.c: splitting owner cells and matching teams. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "team/team.h"

static struct tkl_team_dir dir;

static void add_team(const char *id, const char *name, const char *alias)
{
    dir.teams = realloc(dir.teams, (dir.n + 1) * sizeof(*dir.teams));
    struct tkl_team *t = &dir.teams[dir.n++];
    memset(t, 0, sizeof(*t));
    t->id = strdup(id);
    t->name = strdup(name);
    ck_assert_int_eq(tkl_team_add_key(t, name), 0);
    if (alias)
        ck_assert_int_eq(tkl_team_add_key(t, alias), 0);
}

static void setup(void)
{
    memset(&dir, 0, sizeof(dir));
    add_team("pce", "Policy, Communities and Engagement", NULL);
    add_team("housing", "Housing", NULL);
    add_team("revben", "Revenues and Benefits", "Revs and Bens");
    add_team("hr", "Human Resources", "HR");
    add_team("ld", "Learning and Development", "L&D");
    add_team("data", "Data Analytics", NULL);
}

static void teardown(void)
{
    tkl_team_dir_free(&dir);
}

static const char *match(const char *name)
{
    const struct tkl_team *t = NULL;
    ck_assert_int_eq(tkl_team_match(&dir, name, &t), 0);
    return t ? t->id : "(none)";
}

START_TEST(forgiving_match)
{
    ck_assert_str_eq(match("Policy, Communities and Engagement"), "pce");
    ck_assert_str_eq(match("Communities, Policy & Engagement team"), "pce");
    ck_assert_str_eq(match("Policy Communities & Engagement team"), "pce");
    ck_assert_str_eq(match("POLICY, COMMUNITIES AND ENGAGEMENT."), "pce");
    ck_assert_str_eq(match("Data Analytics team"), "data");
    ck_assert_str_eq(match("Revs & Bens"), "revben");
    ck_assert_str_eq(match("hr"), "hr");
    ck_assert_str_eq(match("Planning"), "(none)");
    ck_assert_str_eq(match(""), "(none)");
}
END_TEST

static void expect_split(const char *cell, const char *const *want, size_t n_want)
{
    char **names = NULL;
    size_t n = 0;
    ck_assert_int_eq(tkl_owners_split(cell, &names, &n), 0);
    ck_assert_uint_eq(n, n_want);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(names[i], want[i]);
        free(names[i]);
    }
    free(names);
}

START_TEST(split_owner_cells)
{
    expect_split("Housing/Revs and Bens", (const char *[]){"Housing", "Revs and Bens"}, 2);
    expect_split("Housing\nCommunities, Policy & Engagement team",
                 (const char *[]){"Housing", "Communities, Policy & Engagement team"}, 2);
    expect_split("HR/L&D; Data Analytics", (const char *[]){"HR", "L&D", "Data Analytics"}, 3);
    expect_split("\xe2\x80\xa2 HR \xe2\x80\xa2 Housing", (const char *[]){"HR", "Housing"}, 2);
    expect_split("Policy, Communities and Engagement/ Data Analytics/ ",
                 (const char *[]){"Policy, Communities and Engagement", "Data Analytics"}, 2);
    expect_split("", NULL, 0);
}
END_TEST

START_TEST(comma_separated_teams)
{
    const struct tkl_team *t[8];
    size_t n = 0;
    ck_assert_int_eq(tkl_team_match_list(&dir,
                                         "Housing, Revenues and Benefits, Policy, Communities "
                                         "and Engagement.",
                                         t, 8, &n),
                     0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(t[0]->id, "housing");
    ck_assert_str_eq(t[1]->id, "revben");
    ck_assert_str_eq(t[2]->id, "pce");
    /* one unknown name spoils the reading: reported, not guessed */
    ck_assert_int_eq(tkl_team_match_list(&dir, "Housing, Planning", t, 8, &n), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("team");
    TCase *tc = tcase_create("match");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, forgiving_match);
    tcase_add_test(tc, split_owner_cells);
    tcase_add_test(tc, comma_separated_teams);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

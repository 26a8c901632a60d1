/* Tests for daemon/team/team_conf.c: the teams ( ... ) slice read into the
 * team directory (names, aliases, recipients per channel with their line,
 * escalation), and its mistakes at their lines. */
#include <check.h>

#include "check_run.h"
#include "conf_fixture.h"
#include <errno.h>
#include <string.h>

#include "team/team_conf.h"

static const char *const channels[] = {"email", "teams"};

START_TEST(teams_are_read)
{
    struct conf_fixture f;
    conf_parse(&f, "teams = (\n"
                   "  { id = \"hr\"; name = \"Human Resources\"; aliases = [ \"HR & OD\" ];\n"
                   "    recipients = {\n"
                   "      email = [ \"hr@example.org\", \"od@example.org\" ];\n"
                   "      teams = [ \"hr-channel\" ];\n"
                   "    };\n"
                   "    escalate_to = \"ceo\"; ladder = [ 7 ]; },\n"
                   "  { id = \"ceo\"; }\n"
                   ");\n");
    struct tkl_team_dir dir = {0};
    ck_assert_int_eq(tkl_teams_conf_read(&f.x, conf_at(&f, "teams"), channels, 2, &dir), 0);
    /* a team no one can reach is taken, with a warning at its group */
    ck_assert_uint_eq(f.diags.n, 1);
    ck_assert_uint_eq(f.diags.n_errors, 0);
    ck_assert_int_eq(f.diags.items[0].severity, TKL_SEV_WARNING);
    ck_assert_uint_eq(f.diags.items[0].line, 8);
    ck_assert_str_eq(f.diags.items[0].message,
                     "team \"ceo\" has no recipients; its reminders go nowhere");
    ck_assert_uint_eq(dir.n, 2);
    const struct tkl_team *hr = &dir.teams[0], *ceo = &dir.teams[1];
    ck_assert_str_eq(hr->id, "hr");
    ck_assert_str_eq(hr->name, "Human Resources");
    ck_assert_str_eq(hr->escalate_to, "ceo");
    ck_assert_uint_eq(hr->n_recipients, 3);
    ck_assert_str_eq(hr->recipients[0].channel, "email");
    ck_assert_str_eq(hr->recipients[1].address, "od@example.org");
    ck_assert_uint_eq(hr->recipients[1].line, 4);
    ck_assert_str_eq(hr->recipients[2].channel, "teams");
    ck_assert_str_eq(hr->recipients[2].address, "hr-channel");
    ck_assert_uint_eq(hr->recipients[2].line, 5);
    /* a team without a name is named by its id */
    ck_assert_str_eq(ceo->name, "ceo");
    ck_assert_ptr_null(ceo->escalate_to);
    ck_assert_uint_eq(ceo->n_recipients, 0);
    /* the name and the aliases match */
    const struct tkl_team *m = NULL;
    ck_assert_int_eq(tkl_team_match(&dir, "human resources team", &m), 0);
    ck_assert_ptr_eq(m, hr);
    ck_assert_int_eq(tkl_team_match(&dir, "HR and OD", &m), 0);
    ck_assert_ptr_eq(m, hr);
    tkl_team_dir_free(&dir);
    conf_done(&f);
}
END_TEST

START_TEST(no_teams_is_an_empty_directory)
{
    struct conf_fixture f;
    conf_parse(&f, "store = {};\n");
    struct tkl_team_dir dir = {0};
    ck_assert_int_eq(tkl_teams_conf_read(&f.x, conf_at(&f, "teams"), channels, 2, &dir), 0);
    ck_assert_uint_eq(dir.n, 0);
    tkl_team_dir_free(&dir);
    conf_done(&f);
}
END_TEST

START_TEST(mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "teams = (\n"
                   "  { id = \"hr\";\n"
                   "    recipients = { sms = [ \"0700\" ];\n"
                   "                   email = [ \"a@b, c@d\", \"ok@example.org\" ]; };\n"
                   "    colour = \"red\"; },\n"
                   "  { id = \"HR\"; },\n"
                   "  { name = \"Nobody\"; },\n"
                   "  \"ict\",\n"
                   "  { id = \"hr\"; },\n"
                   "  { id = \"ict\"; escalate_to = \"board\"; aliases = \"IT\";\n"
                   "    recipients = [ \"it@example.org\" ]; }\n"
                   ");\n"
                   "other = { id = \"x\"; };\n");
    struct tkl_team_dir dir = {0};
    ck_assert_int_eq(tkl_teams_conf_read(&f.x, conf_at(&f, "teams"), channels, 2, &dir), -EINVAL);
    ck_assert(conf_error_at(&f, 3, "\"sms\" is not the name of a configured notifier"));
    ck_assert(conf_error_at(&f, 4, "recipient \"a@b, c@d\" has spaces"));
    ck_assert(conf_error_at(&f, 5, "unknown key \"colour\" in a team"));
    ck_assert(conf_error_at(&f, 6, "a team needs an id of lower-case letters"));
    ck_assert(conf_error_at(&f, 7, "a team needs an id of lower-case letters"));
    ck_assert(conf_error_at(&f, 8, "each team is a group"));
    ck_assert(conf_error_at(&f, 9, "team id \"hr\" is used twice"));
    ck_assert(conf_error_at(&f, 10, "escalate_to names no team: \"board\""));
    ck_assert(conf_error_at(&f, 10, "aliases must be a list of strings"));
    ck_assert(conf_error_at(&f, 11, "recipients is a group"));
    ck_assert_uint_eq(f.diags.n_errors, 10);
    /* the good teams and addresses are kept, each team once */
    ck_assert_uint_eq(dir.n, 2);
    ck_assert_str_eq(dir.teams[0].id, "hr");
    ck_assert_uint_eq(dir.teams[0].n_recipients, 1);
    ck_assert_str_eq(dir.teams[0].recipients[0].address, "ok@example.org");
    ck_assert_str_eq(dir.teams[1].id, "ict");
    tkl_team_dir_free(&dir);
    tkl_diags_free(&f.diags);
    ck_assert_int_eq(tkl_teams_conf_read(&f.x, conf_at(&f, "other"), channels, 2, &dir), -EINVAL);
    ck_assert(conf_error_at(&f, 13, "teams must be a list of groups"));
    ck_assert_uint_eq(dir.n, 0);
    conf_done(&f);
}
END_TEST

/* A refused recipient is quoted as the file writes it, on the one line
 * of its message, and an empty one is called empty. */
START_TEST(a_refused_recipient_is_quoted_on_one_line)
{
    struct conf_fixture f;
    conf_parse(&f, "teams = (\n"
                   "  { id = \"housing\";\n"
                   "    recipients = { email = [ \"housing@x.example\\nBcc: evil@x.example\",\n"
                   "                             \"\", \"tab\\there@x.example\" ]; }; }\n"
                   ");\n");
    struct tkl_team_dir dir = {0};
    ck_assert_int_eq(tkl_teams_conf_read(&f.x, conf_at(&f, "teams"), channels, 2, &dir), -EINVAL);
    ck_assert_uint_eq(f.diags.n_errors, 3);
    for (size_t i = 0; i < f.diags.n; i++)
        ck_assert_ptr_null(strpbrk(f.diags.items[i].message, "\r\n\t"));
    ck_assert(conf_error_at(&f, 3,
                            "recipient \"housing@x.example\\nBcc: evil@x.example\" has spaces, "
                            "control characters or separators; give one plain address per "
                            "string"));
    ck_assert(conf_error_at(&f, 3, "recipient \"\" is empty; give one plain address per string"));
    ck_assert(conf_error_at(&f, 3, "recipient \"tab\\there@x.example\" has spaces"));
    ck_assert_uint_eq(dir.teams[0].n_recipients, 0);
    tkl_team_dir_free(&dir);
    conf_done(&f);
}
END_TEST

START_TEST(a_team_may_have_a_weekly_digest)
{
    struct conf_fixture f;
    conf_parse(&f, "teams = (\n"
                   "  { id = \"hr\"; digest = \"weekly\"; digest_day = \"Wednesday\"; },\n"
                   "  { id = \"ict\"; digest = \"weekly\"; },\n"
                   "  { id = \"pce\"; digest = \"daily\"; },\n"
                   "  { id = \"ceo\"; }\n"
                   ");\n");
    struct tkl_team_dir dir = {0};
    ck_assert_int_eq(tkl_teams_conf_read(&f.x, conf_at(&f, "teams"), channels, 2, &dir), 0);
    ck_assert_uint_eq(f.diags.n_errors, 0);
    ck_assert_uint_eq(f.diags.n, 4); /* that none has recipients, each */
    for (size_t i = 0; i < 4; i++)
        ck_assert_ptr_nonnull(strstr(f.diags.items[i].message, "has no recipients"));
    ck_assert(dir.teams[0].weekly);
    ck_assert_int_eq(dir.teams[0].weekday, 2);
    ck_assert(dir.teams[1].weekly); /* on Mondays unless told */
    ck_assert_int_eq(dir.teams[1].weekday, 0);
    ck_assert(!dir.teams[2].weekly);
    ck_assert(!dir.teams[3].weekly);
    tkl_team_dir_free(&dir);
    conf_done(&f);
}
END_TEST

START_TEST(digest_mistakes_are_named_at_their_lines)
{
    struct conf_fixture f;
    conf_parse(&f, "teams = (\n"
                   "  { id = \"a\"; digest = \"fortnightly\"; },\n"
                   "  { id = \"b\"; digest_day = \"monday\"; },\n"
                   "  { id = \"c\"; digest = \"weekly\"; digest_day = \"saturday\"; },\n"
                   "  { id = \"d\"; digest = \"weekly\"; digest_day = \"mon\"; },\n"
                   "  { id = \"e\"; digest = 7; }\n"
                   ");\n");
    struct tkl_team_dir dir = {0};
    ck_assert_int_eq(tkl_teams_conf_read(&f.x, conf_at(&f, "teams"), channels, 2, &dir), -EINVAL);
    ck_assert(conf_error_at(&f, 2, "digest must be \"daily\" or \"weekly\" (got \"fortnightly\")"));
    ck_assert(conf_error_at(&f, 3, "digest_day needs digest = \"weekly\""));
    ck_assert(conf_error_at(&f, 4,
                            "digest_day must be a weekday from monday to friday (got "
                            "\"saturday\")"));
    ck_assert(conf_error_at(&f, 5, "digest_day must be a weekday"));
    ck_assert(conf_error_at(&f, 6, "digest"));
    ck_assert_uint_eq(f.diags.n_errors, 5);
    /* the teams are kept, daily */
    ck_assert_uint_eq(dir.n, 5);
    ck_assert(!dir.teams[1].weekly);
    tkl_team_dir_free(&dir);
    conf_done(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("team_conf");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, teams_are_read);
    tcase_add_test(tc, no_teams_is_an_empty_directory);
    tcase_add_test(tc, mistakes_are_named_at_their_lines);
    tcase_add_test(tc, a_refused_recipient_is_quoted_on_one_line);
    tcase_add_test(tc, a_team_may_have_a_weekly_digest);
    tcase_add_test(tc, digest_mistakes_are_named_at_their_lines);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

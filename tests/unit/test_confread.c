/* Tests for daemon/core/confread.c: reading a libconfig file safely (each
 * @include checked before libconfig sees it), and the getters every slice
 * of the configuration is read with, each problem at its file and line. */
#include <check.h>

#include "check_run.h"
#include "conf_fixture.h"
#include "tmpdir.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/confread.h"

static char dir[256];

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "confread");
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* An error of d at file:line holding text. */
static bool error_in(const struct tkl_diags *d, const char *file, unsigned line, const char *text)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].severity == TKL_SEV_ERROR && d->items[i].line == line && d->items[i].file &&
            !strcmp(d->items[i].file, file) && strstr(d->items[i].message, text))
            return true;
    return false;
}

/* Reads the file name of dir (written with text first); returns the result. */
static int read_text(const char *name, const char *text, config_t *cfg, struct tkl_diags *d)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    tkl_write_text(dir, name, text);
    config_init(cfg);
    return tkl_conf_read_file(cfg, path, dir, d);
}

START_TEST(a_file_with_includes_is_read)
{
    tkl_write_text(dir, "teams.conf", "teams = ( { id = \"hr\"; } );\n");
    config_t cfg;
    struct tkl_diags d = {0};
    ck_assert_int_eq(read_text("main.conf", "a = 1;\n  @include \"teams.conf\"\n", &cfg, &d), 0);
    ck_assert_uint_eq(d.n, 0);
    const char *id = NULL;
    ck_assert(config_lookup_string(&cfg, "teams.[0].id", &id));
    ck_assert_str_eq(id, "hr");
    config_destroy(&cfg);
}
END_TEST

/* A whole number beyond 32 bits, which libconfig would read as its low
 * 32 bits (4294967344 as 48, 0x1FFFFFFFF as -1), is an error at its
 * line, in the file and its includes; one in a text (over lines too) or
 * a comment, a 64-bit one (L) and a float are not. */
static char last_error[512];

/* Whether the message of one_error's last error holds text. */
static bool error_in_last(const char *text)
{
    return strstr(last_error, text) != NULL;
}

/* The one error tkl_conf_read_file gave for text, at path's line. */
static void one_error(const char *text, unsigned line, const char *want)
{
    config_t cfg;
    struct tkl_diags d = {0};
    char path[512];
    snprintf(path, sizeof(path), "%s/bad.conf", dir);
    ck_assert_int_eq(read_text("bad.conf", text, &cfg, &d), -EINVAL);
    ck_assert_msg(d.n == 1 && error_in(&d, path, line, want), "want %u: %s; got %s:%u: %s", line,
                  want, d.n ? d.items[0].file : "", d.n ? d.items[0].line : 0,
                  d.n ? d.items[0].message : "nothing");
    snprintf(last_error, sizeof(last_error), "%s", d.items[0].message);
    config_destroy(&cfg);
    tkl_diags_free(&d);
}

START_TEST(a_bracket_never_closed_or_closing_nothing_is_named)
{
    /* libconfig gives up at the end of the file: the group is named where
     * it opened, brackets in texts and comments not counted */
    one_error("daemon = { log_level = \"info\"; };\n"
              "delivery:\n{\n  report_to = \"a}b\"; # }\n  /* } */\n"
              "  connections = { email = 3; };\n\nstore = { files = [ \"x.csv\" ]; };\n",
              3,
              "syntax error: the group \"delivery\" opened on this line is not closed before the "
              "end of the file (it ends with };)");
    one_error("a = 1;\nl = [ 1,\n  2 ;\n", 2,
              "syntax error: the array \"l\" opened on this line is not closed before the end of "
              "the file (it ends with ])");
    one_error("teams = (\n  { id = \"a\"; },\n  { id = \"b\";\n);\n", 4,
              "syntax error: this ) cannot close the group opened at line 3, which ends with }");
    one_error("a = { b = 1; };\n};\n", 2, "syntax error: this } closes nothing opened before it");
    /* a file that ends in a comment or a text, or that has @include
     * lines, keeps libconfig's words: its brackets may not be what they
     * seem */
    one_error("daemon = {\n /* note\n};\n", 4, "syntax error");
    ck_assert(!error_in_last("not closed"));
    one_error("daemon = { log_level = \"info;\n};\n", 3, "syntax error");
    ck_assert(!error_in_last("not closed"));
    tkl_write_text(dir, "open.conf", "daemon = {\n");
    one_error("@include \"open.conf\"\n  log_level = \"info\";\n};\nx = ;\n", 4, "syntax error");
    ck_assert(!error_in_last("closes nothing"));
    /* anything else keeps libconfig's place and the hint */
    one_error("a = { b = 1; };\nc = 09:00;\n", 2,
              "syntax error (look on this line and the one before it");
}
END_TEST

START_TEST(a_number_libconfig_would_wrap_is_an_error_at_its_line)
{
    tkl_write_text(dir, "more.conf", "x = [ 1, 99999999999 ];\n");
    config_t cfg;
    struct tkl_diags d = {0};
    char path[512], more[512];
    ck_assert_int_eq(read_text("big.conf",
                               "a = 4294967344;\n"
                               "b = \"4294967344\"; # 4294967344\n"
                               "c = 4294967296L; d = 1.5e10; // 4294967296\n"
                               "/* 4294967296\n 99999999999 */ e = -2147483648;\n"
                               "f = 2147483647; g = { h = -2147483649; };\n"
                               "id9 = 0x10; big = 0x1FFFFFFFF; all = 0xFFFFFFFF;\n"
                               "title = \"a text \\\" on two lines\n"
                               " 99999999999 # not a number \";\n"
                               "@include \"more.conf\"\n",
                               &cfg, &d),
                     -EINVAL);
    snprintf(path, sizeof(path), "%s/big.conf", dir);
    snprintf(more, sizeof(more), "%s/more.conf", dir);
    ck_assert(error_in(&d, path, 1,
                       "4294967344 is out of range: a whole number here is from -2147483648 to "
                       "2147483647 (0xFFFFFFFF)"));
    ck_assert(error_in(&d, path, 6, "-2147483649 is out of range"));
    ck_assert(error_in(&d, path, 7, "0x1FFFFFFFF is out of range"));
    ck_assert(error_in(&d, more, 1, "99999999999 is out of range"));
    ck_assert_uint_eq(d.n, 4);
    config_destroy(&cfg);
    tkl_diags_free(&d);
}
END_TEST

START_TEST(syntax_errors_and_unreadable_files_say_where)
{
    config_t cfg;
    struct tkl_diags d = {0};
    char path[512];
    ck_assert_int_eq(read_text("bad.conf", "a = 1;\n\nb = 09:00;\n", &cfg, &d), -EINVAL);
    snprintf(path, sizeof(path), "%s/bad.conf", dir);
    ck_assert(error_in(&d, path, 3,
                       "syntax error (look on this line and the one before it: a "
                       "setting ends with ';'"));
    ck_assert(!error_in(&d, path, 3, "syntax error: syntax error"));
    config_destroy(&cfg);
    tkl_diags_free(&d);
    snprintf(path, sizeof(path), "%s/none.conf", dir);
    config_init(&cfg);
    ck_assert_int_eq(tkl_conf_read_file(&cfg, path, dir, &d), -EINVAL);
    ck_assert(error_in(&d, path, 0, "cannot read: No such file or directory"));
    config_destroy(&cfg);
    tkl_diags_free(&d);
}
END_TEST

/* libconfig ends the process on an @include of "" or a directory: these
 * are refused first, at their line, in the file that holds them. */
START_TEST(includes_are_checked_first)
{
    static const char *const bad[] = {"@include \"\"\n", "@include \"/tmp\"\n",
                                      "@include \"x\\\"y\"\n", "@include nothing\n",
                                      "@include \"missing.conf\"\n"};
    static const char *const why[] = {"needs a file name", "\"/tmp\": not a regular file",
                                      "needs a file name", "needs a file name",
                                      "\"missing.conf\": No such file or directory"};
    char inner[512];
    snprintf(inner, sizeof(inner), "%s/inner.conf", dir);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char text[256];
        config_t cfg;
        struct tkl_diags d = {0};
        snprintf(text, sizeof(text), "a = 1;\n%s", bad[i]);
        tkl_write_text(dir, "inner.conf", text);
        ck_assert_int_eq(read_text("main.conf", "@include \"inner.conf\"\n", &cfg, &d), -EINVAL);
        ck_assert_msg(error_in(&d, inner, 2, why[i]), "case %zu", i);
        config_destroy(&cfg);
        tkl_diags_free(&d);
    }
}
END_TEST

START_TEST(includes_nest_at_most_ten_deep)
{
    config_t cfg;
    struct tkl_diags d = {0};
    /* a file that includes itself */
    ck_assert_int_eq(read_text("loop.conf", "\n@include \"loop.conf\"\n", &cfg, &d), -EINVAL);
    char path[512];
    snprintf(path, sizeof(path), "%s/loop.conf", dir);
    ck_assert(error_in(&d, path, 2, "@include nests more than 10 deep"));
    ck_assert_uint_eq(d.n, 1);
    config_destroy(&cfg);
    tkl_diags_free(&d);
}
END_TEST

START_TEST(getters_read_good_values)
{
    struct conf_fixture f;
    conf_parse(&f, "g = { s = \"text\"; n = 7; v = [ \"a\", \"b\" ]; l = ( \"c\" ); };\n");
    const config_setting_t *g = conf_at(&f, "g");
    const char *s = NULL;
    int n = 0;
    char **v = NULL;
    size_t nv = 0;
    ck_assert_int_eq(tkl_conf_get_string(&f.x, g, "s", &s), 1);
    ck_assert_str_eq(s, "text");
    ck_assert_int_eq(tkl_conf_get_int(&f.x, g, "n", 1, 10, &n), 1);
    ck_assert_int_eq(n, 7);
    ck_assert_int_eq(tkl_conf_get_strings(&f.x, conf_at(&f, "g.v"), "v", &v, &nv), 0);
    ck_assert_uint_eq(nv, 2);
    ck_assert_str_eq(v[0], "a");
    ck_assert_str_eq(v[1], "b");
    ck_assert_ptr_null(v[2]);
    tkl_strv_free(v, nv);
    ck_assert_int_eq(tkl_conf_get_strings(&f.x, conf_at(&f, "g.l"), "l", &v, &nv), 0);
    ck_assert_uint_eq(nv, 1);
    tkl_strv_free(v, nv);
    /* absent keys, and an absent group, leave *ret alone */
    ck_assert_int_eq(tkl_conf_get_string(&f.x, g, "missing", &s), 0);
    ck_assert_str_eq(s, "text");
    ck_assert_int_eq(tkl_conf_get_int(&f.x, NULL, "n", 1, 10, &n), 0);
    ck_assert_int_eq(n, 7);
    ck_assert_uint_eq(f.diags.n, 0);
    conf_done(&f);
}
END_TEST

START_TEST(getters_name_the_line_of_a_bad_value)
{
    struct conf_fixture f;
    conf_parse(&f, "g = {\n"
                   "  s = 1;\n"
                   "  n = \"7\";\n"
                   "  m = 11;\n"
                   "  v = \"a\";\n"
                   "  w = ( \"a\",\n"
                   "        2 );\n"
                   "};\n");
    const config_setting_t *g = conf_at(&f, "g");
    const char *s = "kept";
    int n = 3;
    char **v = NULL;
    size_t nv = 0;
    ck_assert_int_eq(tkl_conf_get_string(&f.x, g, "s", &s), -EINVAL);
    ck_assert(conf_error_at(&f, 2, "s must be a string in double quotes"));
    ck_assert_int_eq(tkl_conf_get_int(&f.x, g, "n", 1, 10, &n), -EINVAL);
    ck_assert(conf_error_at(&f, 3, "n must be a whole number"));
    ck_assert_int_eq(tkl_conf_get_int(&f.x, g, "m", 1, 10, &n), -EINVAL);
    ck_assert(conf_error_at(&f, 4, "m must be between 1 and 10 (got 11)"));
    ck_assert_int_eq(tkl_conf_get_strings(&f.x, conf_at(&f, "g.v"), "the v list", &v, &nv),
                     -EINVAL);
    ck_assert(conf_error_at(&f, 5, "the v list must be a list of strings"));
    ck_assert_int_eq(tkl_conf_get_strings(&f.x, conf_at(&f, "g.w"), "the w list", &v, &nv),
                     -EINVAL);
    ck_assert(conf_error_at(&f, 7, "the w list must hold only strings"));
    ck_assert_str_eq(s, "kept");
    ck_assert_int_eq(n, 3);
    ck_assert_ptr_null(v);
    ck_assert_str_eq(f.diags.items[0].field, "s");
    conf_done(&f);
}
END_TEST

/* Text a page, a message or a calendar shows as it is: one line of UTF-8,
 * something besides spaces, no control character, not too long. */
START_TEST(text_is_one_line_without_control_characters)
{
    struct conf_fixture f;
    conf_parse(&f, "g = {\n"
                   "  good = \"Ca\u00f1ada \u2014 diversity, & <more>\";\n"
                   "  empty = \"\";\n"
                   "  spaces = \"   \";\n"
                   "  tab = \"a\\tb\";\n"
                   "  nel = \"a\xc2\x85"
                   "b\";\n"
                   "  ls = \"a\u2028b\";\n"
                   "  long = \"\u00e9\u00e9\u00e9\u00e9\u00e9\";\n"
                   "  latin1 = \"\\xe9\";\n"
                   "  n = 1;\n"
                   "};\n");
    const config_setting_t *g = conf_at(&f, "g");
    char *t = strdup("before");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(tkl_conf_get_text(&f.x, g, "missing", "g.missing", 0, &t), 0);
    ck_assert_str_eq(t, "before");
    ck_assert_int_eq(tkl_conf_get_text(&f.x, g, "good", "g.good", 40, &t), 1);
    ck_assert_str_eq(t, "Ca\u00f1ada \u2014 diversity, & <more>");
    ck_assert_uint_eq(f.diags.n, 0);
    static const struct {
        const char *key;
        unsigned line;
        const char *says;
    } bad[] = {
        {"empty", 3, "g.empty must be text on one line, not empty and without control characters"},
        {"spaces", 4, "g.spaces must be text on one line"},
        {"tab", 5, "g.tab must be text on one line"},
        {"nel", 6, "g.nel must be text on one line"},
        {"ls", 7, "g.ls must be text on one line"},
        {"long", 8, "g.long must be at most 4 characters long (got 5)"},
        {"latin1", 9, "g.latin1 must be text on one line"},
        {"n", 10, "n must be a string"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char where[32];
        snprintf(where, sizeof(where), "g.%s", bad[i].key);
        ck_assert_int_lt(tkl_conf_get_text(&f.x, g, bad[i].key, where, 4, &t), 0);
        ck_assert_msg(conf_error_at(&f, bad[i].line, bad[i].says), "%s", bad[i].key);
    }
    ck_assert_str_eq(t, "Ca\u00f1ada \u2014 diversity, & <more>"); /* kept */
    free(t);
    conf_done(&f);
}
END_TEST

START_TEST(unknown_keys_are_errors_listing_the_known_ones)
{
    static const char *const keys[] = {"files", "columns", NULL};
    struct conf_fixture f;
    conf_parse(&f, "store = {\n  files = [];\n  colums = 1;\n};\nlist = [ 1 ];\n");
    ck_assert(!tkl_conf_check_keys(&f.x, conf_at(&f, "store"), "store", keys));
    ck_assert(conf_error_at(&f, 3, "unknown key \"colums\" in store (known keys: files, columns)"));
    ck_assert(!tkl_conf_check_keys(&f.x, conf_at(&f, "list"), "list", keys));
    ck_assert(conf_error_at(&f, 5, "list must be a group { ... }"));
    ck_assert(tkl_conf_check_keys(&f.x, NULL, "absent", keys));
    ck_assert_uint_eq(f.diags.n_errors, 2);
    /* a problem with no setting is at the file, line 0 */
    tkl_conf_err_at(&f.x, NULL, "no %s", "store");
    ck_assert(conf_error_at(&f, 0, "no store"));
    ck_assert_ptr_null(f.diags.items[2].field);
    conf_done(&f);
}
END_TEST

START_TEST(paths_and_ids)
{
    struct tkl_confread x = {.dir = "/etc/tickler"};
    char *p = tkl_conf_path(&x, "plan.csv");
    ck_assert_str_eq(p, "/etc/tickler/plan.csv");
    free(p);
    p = tkl_conf_path(&x, "/srv/plan.csv");
    ck_assert_str_eq(p, "/srv/plan.csv");
    free(p);
    ck_assert(tkl_conf_valid_id("comms-team_2"));
    ck_assert(!tkl_conf_valid_id(""));
    ck_assert(!tkl_conf_valid_id("Comms"));
    ck_assert(!tkl_conf_valid_id("a b"));
    tkl_strv_free(NULL, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("confread");
    TCase *file = tcase_create("file");
    tcase_add_checked_fixture(file, setup, teardown);
    tcase_add_test(file, a_file_with_includes_is_read);
    tcase_add_test(file, syntax_errors_and_unreadable_files_say_where);
    tcase_add_test(file, a_bracket_never_closed_or_closing_nothing_is_named);
    tcase_add_test(file, a_number_libconfig_would_wrap_is_an_error_at_its_line);
    tcase_add_test(file, includes_are_checked_first);
    tcase_add_test(file, includes_nest_at_most_ten_deep);
    suite_add_tcase(s, file);
    TCase *get = tcase_create("settings");
    tcase_add_test(get, getters_read_good_values);
    tcase_add_test(get, getters_name_the_line_of_a_bad_value);
    tcase_add_test(get, text_is_one_line_without_control_characters);
    tcase_add_test(get, unknown_keys_are_errors_listing_the_known_ones);
    tcase_add_test(get, paths_and_ids);
    suite_add_tcase(s, get);
    return tkl_check_run(s);
}

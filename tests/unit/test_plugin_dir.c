/* Tests for daemon/plugin/plugin_dir.c: a program beside a build tree's
 * marker takes the plugin directory the marker names (relative to the
 * marker, or absolute); without a marker, or with one that names nothing
 * usable, it takes the installed directory; the running test program,
 * which CMake does not mark, takes the installed directory. */
#include <check.h>

#include "check_run.h"
#include "tmpdir.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/plugin_dir.h"

static char dir[PATH_MAX];

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "plugin-dir");
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* The plugin directory of a program dir/daemon/ticklerd, whose marker
 * (when marker is not NULL) holds marker. */
static char *dir_of_program(const char *marker, size_t marker_len)
{
    char exe[PATH_MAX + 32];
    snprintf(exe, sizeof(exe), "%s/daemon", dir);
    ck_assert_int_eq(mkdir(exe, 0700), 0);
    if (marker)
        tkl_write_file(dir, "daemon/" TKL_PLUGIN_DIR_MARKER, marker, marker_len);
    snprintf(exe, sizeof(exe), "%s/daemon/ticklerd", dir);
    char *got = tkl_plugin_dir_for(exe);
    ck_assert_ptr_nonnull(got);
    return got;
}

START_TEST(a_marked_build_tree_gives_its_plugins)
{
    char *got = dir_of_program("../plugins\n", 11);
    char want[PATH_MAX + 32];
    snprintf(want, sizeof(want), "%s/daemon/../plugins", dir);
    ck_assert_str_eq(got, want);
    free(got);
}
END_TEST

START_TEST(a_marker_may_name_an_absolute_directory)
{
    char *got = dir_of_program("/srv/build/plugins", 18); /* no line break */
    ck_assert_str_eq(got, "/srv/build/plugins");
    free(got);
}
END_TEST

START_TEST(no_marker_gives_the_installed_directory)
{
    char *got = dir_of_program(NULL, 0);
    ck_assert_str_eq(got, tkl_installed_plugin_dir);
    free(got);
    got = tkl_plugin_dir_for("ticklerd"); /* no directory at all */
    ck_assert_str_eq(got, tkl_installed_plugin_dir);
    free(got);
}
END_TEST

START_TEST(an_unusable_marker_gives_the_installed_directory)
{
    static const struct {
        const char *text;
        size_t len;
    } bad[] = {{"", 0}, {"\n", 1}, {"../plu\0gins\n", 12}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *got = dir_of_program(bad[i].text, bad[i].len);
        ck_assert_msg(!strcmp(got, tkl_installed_plugin_dir), "marker %zu gave %s", i, got);
        free(got);
        tkl_rmtree(dir);
        ck_assert_int_eq(mkdir(dir, 0700), 0);
    }
    /* a line longer than any path */
    char *longer = malloc(PATH_MAX + 10);
    ck_assert_ptr_nonnull(longer);
    memset(longer, 'a', PATH_MAX + 10);
    char *got = dir_of_program(longer, PATH_MAX + 10);
    ck_assert_str_eq(got, tkl_installed_plugin_dir);
    free(got);
    free(longer);
}
END_TEST

/* A marker another user could have written is not taken: one others may
 * write, a symbolic link (to any file whose first line names a directory),
 * and, when the test runs as root, one owned by a user who is neither the
 * program's owner nor root. Beside a program in /tmp such a marker would
 * make root load another user's plugins. */
START_TEST(a_marker_others_could_write_is_not_taken)
{
    char *got = dir_of_program("../plugins\n", 11);
    char marker[PATH_MAX + 64], exe[PATH_MAX + 64];
    snprintf(marker, sizeof(marker), "%s/daemon/" TKL_PLUGIN_DIR_MARKER, dir);
    snprintf(exe, sizeof(exe), "%s/daemon/ticklerd", dir);
    ck_assert_str_ne(got, tkl_installed_plugin_dir);
    free(got);

    ck_assert_int_eq(chmod(marker, 0666), 0);
    got = tkl_plugin_dir_for(exe);
    ck_assert_str_eq(got, tkl_installed_plugin_dir);
    free(got);
    ck_assert_int_eq(chmod(marker, 0644), 0);

    ck_assert_int_eq(rename(marker, exe), 0); /* the marker's text, elsewhere */
    ck_assert_int_eq(symlink(exe, marker), 0);
    got = tkl_plugin_dir_for(exe);
    ck_assert_str_eq(got, tkl_installed_plugin_dir);
    free(got);
    ck_assert_int_eq(unlink(marker), 0);
    ck_assert_int_eq(rename(exe, marker), 0);

    if (geteuid() != 0)
        return; /* chown needs root */
    tkl_write_file(dir, "daemon/ticklerd",
                   "\x7f"
                   "ELF",
                   4);
    ck_assert_int_eq(chown(marker, 65534, 65534), 0);
    got = tkl_plugin_dir_for(exe); /* root's program, another user's marker */
    ck_assert_str_eq(got, tkl_installed_plugin_dir);
    free(got);
    ck_assert_int_eq(chown(exe, 65534, 65534), 0);
    got = tkl_plugin_dir_for(exe); /* that user's own build tree */
    ck_assert_str_ne(got, tkl_installed_plugin_dir);
    free(got);
}
END_TEST

START_TEST(an_unmarked_program_gives_the_installed_directory)
{
    char *got = tkl_plugin_dir_default();
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, tkl_installed_plugin_dir);
    free(got);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("plugin_dir");
    TCase *tc = tcase_create("plugin_dir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_marked_build_tree_gives_its_plugins);
    tcase_add_test(tc, a_marker_may_name_an_absolute_directory);
    tcase_add_test(tc, no_marker_gives_the_installed_directory);
    tcase_add_test(tc, an_unusable_marker_gives_the_installed_directory);
    tcase_add_test(tc, a_marker_others_could_write_is_not_taken);
    tcase_add_test(tc, an_unmarked_program_gives_the_installed_directory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tkl_check_run(suite());
}

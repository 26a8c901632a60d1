/* Tests for daemon/store/watch.c on a real loop with real files: an
 * editor's save (write a temporary file, rename it over the store) is
 * seen, again and again; a burst of writes is one reload; other files are
 * ignored; a directory stands for its plan files (.csv, .xlsx, .ods); a
 * workbook's sheet named after '#' is its file; asked again, it calls
 * back once more; closing frees
 * everything (uv_loop_close() returns 0 at the end of every test). */
#include <check.h>

#include "check_run.h"
#include "loop_wait.h"
#include "tmpdir.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/watch.h"

#define DEBOUNCE_MS 50
#define QUIET_MS    (6 * DEBOUNCE_MS) /* long enough for a wrong reload to show */

static char dir[256];
static uv_loop_t loop;
static int changes;

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "watch");
    tkl_write_text(dir, "plan.csv", "Action,Deadline\nTrain staff,April 2027\n");
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    changes = 0;
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

static void on_changed(void *data)
{
    ck_assert_ptr_eq(data, &changes);
    changes++;
}

/* Watches the one path given, relative to dir unless absolute. */
static struct tkl_watch *watch(const char *name)
{
    char path[300];
    if (name[0] == '/' || name[0] == '.')
        snprintf(path, sizeof(path), "%s", name);
    else
        snprintf(path, sizeof(path), "%s/%s", dir, name);
    char *paths[] = {path};
    struct tkl_store_opts opts = {.paths = paths, .n_paths = 1};
    struct tkl_watch *w = NULL;
    ck_assert_int_eq(tkl_watch_start(&loop, &opts, DEBOUNCE_MS, on_changed, &changes, &w), 0);
    ck_assert_ptr_nonnull(w);
    return w;
}

/* What an editor does on save: write a new file beside it, rename it over. */
static void editor_save(const char *name, const char *text)
{
    char tmp[300], from[600], to[600];
    snprintf(tmp, sizeof(tmp), ".%s.swp", name);
    tkl_write_text(dir, tmp, text);
    snprintf(from, sizeof(from), "%s/%s", dir, tmp);
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    ck_assert_int_eq(rename(from, to), 0);
}

static void finish(struct tkl_watch *w)
{
    tkl_watch_close(w);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
}

START_TEST(an_editor_save_is_one_change)
{
    struct tkl_watch *w = watch("plan.csv");
    editor_save("plan.csv", "Action,Deadline\nTrain staff,May 2027\n");
    ck_assert(tkl_run_until_count(&loop, &changes, 1));
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 1);
    /* the file is a new inode now; the directory watch still sees it */
    editor_save("plan.csv", "Action,Deadline\nTrain staff,June 2027\n");
    ck_assert(tkl_run_until_count(&loop, &changes, 2));
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 2);
    finish(w);
}
END_TEST

START_TEST(a_burst_of_saves_is_one_change)
{
    struct tkl_watch *w = watch("plan.csv");
    /* saved five times and touched, all before the loop reads any event
     * (events that differ, which the kernel does not merge): each restarts
     * the quiet period */
    char path[300];
    snprintf(path, sizeof(path), "%s/plan.csv", dir);
    for (int i = 0; i < 5; i++) {
        char text[64];
        snprintf(text, sizeof(text), "Action\nstep %d\n", i);
        editor_save("plan.csv", text);
        ck_assert_int_eq(chmod(path, i % 2 ? 0600 : 0644), 0);
    }
    ck_assert(tkl_run_until_count(&loop, &changes, 1));
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 1);
    finish(w);
}
END_TEST

/* Asked to call again (a plan read mid-save), it calls once more with no
 * change; a change meanwhile restarts the quiet period, still one call. */
START_TEST(asked_again_it_calls_back_once_more)
{
    struct tkl_watch *w = watch("plan.csv");
    ck_assert_int_eq(tkl_watch_again(w, DEBOUNCE_MS), 0);
    ck_assert(tkl_run_until_count(&loop, &changes, 1));
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 1);
    ck_assert_int_eq(tkl_watch_again(w, 3600 * 1000), 0);
    editor_save("plan.csv", "Action,Deadline\nTrain staff,May 2027\n");
    ck_assert(tkl_run_until_count(&loop, &changes, 2));
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 2);
    finish(w);
}
END_TEST

START_TEST(other_files_beside_it_are_ignored)
{
    struct tkl_watch *w = watch("plan.csv");
    tkl_write_text(dir, "other.csv", "Action\nx\n");
    tkl_write_text(dir, "plan.csv.bak", "Action\nx\n");
    tkl_write_text(dir, "notes.txt", "x");
    editor_save("plan.csv.orig", "x"); /* a rename to another name */
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 0);
    /* and the watched file still counts */
    tkl_write_text(dir, "plan.csv", "Action\nchanged\n");
    ck_assert(tkl_run_until_count(&loop, &changes, 1));
    finish(w);
}
END_TEST

START_TEST(a_directory_stands_for_its_csv_files)
{
    struct tkl_watch *w = watch(dir);
    tkl_write_text(dir, "notes.txt", "not a plan");
    tkl_write_text(dir, "plan.csv.tmp", "not yet");
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 0);
    /* a new file, saved by rename from a temporary name */
    editor_save("housing.csv", "Action\nx\n");
    ck_assert(tkl_run_until_count(&loop, &changes, 1));
    /* the extension in any case */
    tkl_write_text(dir, "REVENUES.CSV", "Action\nx\n");
    ck_assert(tkl_run_until_count(&loop, &changes, 2));
    /* a file taken away changes the store too */
    char path[300];
    snprintf(path, sizeof(path), "%s/plan.csv", dir);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert(tkl_run_until_count(&loop, &changes, 3));
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 3);
    finish(w);
}
END_TEST

START_TEST(a_named_sheet_is_its_workbook)
{
    tkl_write_text(dir, "plan.xlsx", "PK");
    struct tkl_watch *w = watch("plan.xlsx#Actions 2025");
    tkl_write_text(dir, "other.xlsx", "PK");
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 0);
    editor_save("plan.xlsx", "PK!");
    ck_assert(tkl_run_until_count(&loop, &changes, 1));
    finish(w);
}
END_TEST

START_TEST(a_directory_stands_for_its_workbooks_too)
{
    struct tkl_watch *w = watch(dir);
    tkl_write_text(dir, "~$plan.xlsx", "owner file of Excel");
    tkl_run_for(&loop, QUIET_MS);
    ck_assert_int_eq(changes, 0);
    editor_save("plan.xlsx", "PK");
    ck_assert(tkl_run_until_count(&loop, &changes, 1));
    editor_save("Plan.ODS", "PK");
    ck_assert(tkl_run_until_count(&loop, &changes, 2));
    finish(w);
}
END_TEST

START_TEST(several_paths_and_a_relative_one)
{
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/teams", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    char *cwd = getcwd(NULL, 0);
    ck_assert_ptr_nonnull(cwd);
    ck_assert_int_eq(chdir(dir), 0);
    /* a bare file name is watched through the working directory */
    char rel[] = "plan.csv", *paths[] = {rel, sub};
    struct tkl_store_opts opts = {.paths = paths, .n_paths = 2};
    struct tkl_watch *w = NULL;
    ck_assert_int_eq(tkl_watch_start(&loop, &opts, DEBOUNCE_MS, on_changed, &changes, &w), 0);
    ck_assert_int_eq(chdir(cwd), 0);
    free(cwd);
    editor_save("plan.csv", "Action\nx\n");
    ck_assert(tkl_run_until_count(&loop, &changes, 1));
    tkl_write_text(dir, "teams/hr.csv", "Action\nx\n");
    ck_assert(tkl_run_until_count(&loop, &changes, 2));
    finish(w);
}
END_TEST

START_TEST(a_path_that_cannot_be_watched_leaves_nothing_open)
{
    char good[300], bad[300];
    snprintf(good, sizeof(good), "%s/plan.csv", dir);
    snprintf(bad, sizeof(bad), "%s/missing/plan.csv", dir);
    char *paths[] = {good, bad};
    struct tkl_store_opts opts = {.paths = paths, .n_paths = 2};
    struct tkl_watch *w = (struct tkl_watch *)&changes; /* must stay as it is */
    int r = tkl_watch_start(&loop, &opts, DEBOUNCE_MS, on_changed, &changes, &w);
    ck_assert_int_eq(r, UV_ENOENT);
    ck_assert_ptr_eq(w, (struct tkl_watch *)&changes);
    /* the first path's handle and the timer close; LeakSanitizer checks
     * their memory went with them */
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
}
END_TEST

/* Whether the loop has an active timer other than a test's guard: the
 * watch's quiet period is running. */
static void find_timer(uv_handle_t *h, void *arg)
{
    if (h->type == UV_TIMER && uv_is_active(h) && !uv_is_closing(h))
        ++*(int *)arg;
}

static bool reload_pending(void *arg)
{
    int n = 0;
    uv_walk(arg, find_timer, &n);
    return n > 1; /* the guard of tkl_run_until is one */
}

START_TEST(closing_with_a_change_pending_never_calls_back)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/plan.csv", dir);
    char *paths[] = {path};
    struct tkl_store_opts opts = {.paths = paths, .n_paths = 1};
    struct tkl_watch *w = NULL;
    /* a quiet period that outlasts the test */
    ck_assert_int_eq(tkl_watch_start(&loop, &opts, 3600 * 1000, on_changed, &changes, &w), 0);
    tkl_write_text(dir, "plan.csv", "Action\nx\n");
    ck_assert(tkl_run_until(&loop, reload_pending, &loop, 20000));
    tkl_watch_close(w);
    tkl_watch_close(NULL);
    ck_assert_int_eq(tkl_loop_finish(&loop), 0);
    ck_assert_int_eq(changes, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("watch");
    TCase *tc = tcase_create("watch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, an_editor_save_is_one_change);
    tcase_add_test(tc, a_burst_of_saves_is_one_change);
    tcase_add_test(tc, asked_again_it_calls_back_once_more);
    tcase_add_test(tc, other_files_beside_it_are_ignored);
    tcase_add_test(tc, a_directory_stands_for_its_csv_files);
    tcase_add_test(tc, a_named_sheet_is_its_workbook);
    tcase_add_test(tc, a_directory_stands_for_its_workbooks_too);
    tcase_add_test(tc, several_paths_and_a_relative_one);
    tcase_add_test(tc, a_path_that_cannot_be_watched_leaves_nothing_open);
    tcase_add_test(tc, closing_with_a_change_pending_never_calls_back);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

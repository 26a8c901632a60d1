/* Tests for daemon/store/keep.c: a plan file's copy as last read good is
 * named by a hash of its path under the state directory's plans/, written
 * whole (owner-only, with the file's time), not written again while it is
 * of the file already, and never from a file that changed since it was
 * read. */
#include <check.h>

#include "check_run.h"
#include "tmpdir.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/keep.h"

static char dir[256];

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "keep");
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* path under dir, in buf. */
static const char *in_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

/* fstat(2) of the file at path, as a load records it when reading it. */
static struct stat read_stat(const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    close(fd);
    return st;
}

static char *contents(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The names in dir/plans. */
static size_t entries(char names[][256], size_t max)
{
    char path[300];
    DIR *d = opendir(in_dir(path, sizeof(path), "plans"));
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && n < max)
            snprintf(names[n++], 256, "%s", de->d_name);
    closedir(d);
    return n;
}

/* dir/plan.csv (into plan) written with one good row, read: fstat of it
 * into *as_read; returns its copy's path (malloc()ed). */
static char *plan_read(char plan[300], struct stat *as_read)
{
    in_dir(plan, 300, "plan.csv");
    write_text(plan, "Ref,Actions\nA1,One\n");
    *as_read = read_stat(plan);
    char *copy = tkl_keep_path(dir, plan, ".csv");
    ck_assert_ptr_nonnull(copy);
    return copy;
}

START_TEST(a_copy_is_named_by_a_hash_of_the_path_under_plans)
{
    char *a = tkl_keep_path(dir, "/srv/plans/Equality plan.xlsx", ".xlsx");
    char *b = tkl_keep_path(dir, "/srv/plans/other.csv", ".csv");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    char want[300];
    snprintf(want, sizeof(want), "%s/plans/", dir);
    ck_assert_int_eq(strncmp(a, want, strlen(want)), 0);
    const char *name = a + strlen(want);
    ck_assert_uint_eq(strlen(name), 64 + 5); /* SHA-256 in hex, the ending */
    ck_assert_uint_eq(strspn(name, "0123456789abcdef"), 64);
    ck_assert_str_eq(name + 64, ".xlsx");
    ck_assert_ptr_null(strstr(a, "Equality"));
    ck_assert_str_ne(a, b);
    free(a);
    free(b);
}
END_TEST

START_TEST(a_copy_is_the_file_as_read_owner_only_with_its_time)
{
    char plan[300];
    struct stat as_read;
    char *copy = plan_read(plan, &as_read);
    ck_assert_int_eq(tkl_keep_save(copy, plan, &as_read), 0);
    ck_assert_str_eq(contents(copy), "Ref,Actions\nA1,One\n");
    struct stat st;
    ck_assert_int_eq(stat(copy, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_mtim.tv_sec, as_read.st_mtim.tv_sec);
    ck_assert_int_eq(st.st_mtim.tv_nsec, as_read.st_mtim.tv_nsec);
    char path[300];
    ck_assert_int_eq(stat(in_dir(path, sizeof(path), "plans"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    /* of the file already: not written again */
    struct stat before;
    ck_assert_int_eq(stat(copy, &before), 0);
    ck_assert_int_eq(tkl_keep_save(copy, plan, &as_read), 0);
    ck_assert_int_eq(stat(copy, &st), 0);
    ck_assert_uint_eq(st.st_ino, before.st_ino);
    char names[4][256];
    ck_assert_uint_eq(entries(names, 4), 1); /* no temporary file left */
    free(copy);
}
END_TEST

START_TEST(a_file_changed_since_it_was_read_is_not_copied)
{
    char plan[300], moved[300];
    struct stat as_read;
    char *copy = plan_read(plan, &as_read);
    ck_assert_int_eq(tkl_keep_save(copy, plan, &as_read), 0);
    struct stat first = as_read;
    /* saved again as editors save (a new file renamed over it), broken,
     * after the good read: the copy stays the good one */
    write_text(in_dir(moved, sizeof(moved), "new.csv"), "Ref,Actions\nA1,\"One\n");
    ck_assert_int_eq(rename(moved, plan), 0);
    as_read.st_mtim.tv_sec -= 10; /* read good before that: another file now */
    as_read.st_size = 99;
    ck_assert_int_eq(tkl_keep_save(copy, plan, &as_read), 1);
    ck_assert_str_eq(contents(copy), "Ref,Actions\nA1,One\n");
    /* written in place since (the same file, another size) */
    struct stat now = read_stat(plan);
    now.st_size += 1;
    ck_assert_int_eq(tkl_keep_save(copy, plan, &now), 1);
    ck_assert_str_eq(contents(copy), "Ref,Actions\nA1,One\n");
    /* gone since */
    ck_assert_int_eq(unlink(plan), 0);
    ck_assert_int_eq(tkl_keep_save(copy, plan, &first), 0); /* the copy is of it already */
    now = first;
    now.st_size += 1;
    ck_assert_int_eq(tkl_keep_save(copy, plan, &now), 1);
    ck_assert_str_eq(contents(copy), "Ref,Actions\nA1,One\n");
    char names[4][256];
    ck_assert_uint_eq(entries(names, 4), 1);
    free(copy);
}
END_TEST

START_TEST(a_copy_that_cannot_be_put_in_place_is_an_error_and_leaves_no_file)
{
    char plan[300], inside[400];
    struct stat as_read;
    char *copy = plan_read(plan, &as_read);
    /* the copy's name taken by a directory that is not empty: no rename
     * puts a file there, whoever runs it */
    char plans[300];
    ck_assert_int_eq(mkdir(in_dir(plans, sizeof(plans), "plans"), 0700), 0);
    ck_assert_int_eq(mkdir(copy, 0700), 0);
    snprintf(inside, sizeof(inside), "%s/x", copy);
    write_text(inside, "x");
    int r = tkl_keep_save(copy, plan, &as_read);
    ck_assert(r == -EISDIR || r == -ENOTEMPTY || r == -EEXIST);
    char names[4][256];
    ck_assert_uint_eq(entries(names, 4), 1); /* the directory; no temporary file */
    ck_assert_int_eq(unlink(inside), 0);
    ck_assert_int_eq(rmdir(copy), 0);
    free(copy);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keep");
    TCase *tc = tcase_create("keep");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_copy_is_named_by_a_hash_of_the_path_under_plans);
    tcase_add_test(tc, a_copy_is_the_file_as_read_owner_only_with_its_time);
    tcase_add_test(tc, a_file_changed_since_it_was_read_is_not_copied);
    tcase_add_test(tc, a_copy_that_cannot_be_put_in_place_is_an_error_and_leaves_no_file);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

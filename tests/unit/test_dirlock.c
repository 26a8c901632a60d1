/* Tests for daemon/core/dirlock.c: one holder of a state directory's lock
 * at a time, its pid named to the one refused, let go with its
 * descriptor. Two opens of the file conflict under flock(2) even in one
 * process, so one process plays both daemons. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/dirlock.h"
#include "tmpdir.h"

static char dir[256];

static void setup(void)
{
    tkl_tmpdir(dir, sizeof(dir), "dirlock");
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

START_TEST(one_holder_at_a_time_named_to_the_next)
{
    int fd = -1, other = -1;
    pid_t holder = -1;
    ck_assert_int_eq(tkl_dirlock_take(dir, &fd, &holder), 0);
    ck_assert_int_eq(holder, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(tkl_dirlock_take(dir, &other, &holder), -EBUSY);
    ck_assert_int_eq(holder, getpid());
    ck_assert_int_eq(other, -1); /* untouched */
    /* let go: the next takes it, the file left behind */
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(tkl_dirlock_take(dir, &other, &holder), 0);
    char path[300], text[32] = {0};
    snprintf(path, sizeof(path), "%s/%s", dir, TKL_DIRLOCK_FILE);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
    fclose(f);
    char want[32];
    snprintf(want, sizeof(want), "%ld\n", (long)getpid());
    ck_assert_str_eq(text, want);
    close(other);
}
END_TEST

/* Whether a ticklerd runs on the directory, read without taking or
 * making anything: none before the lock file, none while it is let go,
 * and the holder's pid while it is held. */
START_TEST(the_holder_is_read_without_taking_the_lock)
{
    int fd = -1, other = -1;
    pid_t holder = -1;
    char path[300];
    snprintf(path, sizeof(path), "%s/%s", dir, TKL_DIRLOCK_FILE);
    ck_assert_int_eq(tkl_dirlock_holder(dir, &holder), 0);
    ck_assert_int_eq(holder, 0);
    ck_assert_int_eq(access(path, F_OK), -1); /* nothing made */
    ck_assert_int_eq(tkl_dirlock_take(dir, &fd, &holder), 0);
    holder = -1;
    ck_assert_int_eq(tkl_dirlock_holder(dir, &holder), 1);
    ck_assert_int_eq(holder, getpid());
    /* the look held nothing: still the holder's alone */
    ck_assert_int_eq(tkl_dirlock_take(dir, &other, &holder), -EBUSY);
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(tkl_dirlock_holder(dir, &holder), 0);
    ck_assert_int_eq(holder, 0);
    /* and after the look, the lock is free to take */
    ck_assert_int_eq(tkl_dirlock_take(dir, &other, &holder), 0);
    close(other);
}
END_TEST

static int reader_fd = -1;

static void *let_go_soon(void *arg)
{
    (void)arg;
    usleep(50 * 1000);
    (void)flock(reader_fd, LOCK_UN);
    return NULL;
}

/* A daemon starting while tickler status looks (a shared lock held a
 * moment) waits the look out, where it would have been refused. */
START_TEST(a_look_in_progress_is_waited_out)
{
    char path[300];
    int fd = -1, other = -1;
    pid_t holder = -1;
    ck_assert_int_eq(tkl_dirlock_take(dir, &fd, &holder), 0); /* the file made */
    ck_assert_int_eq(close(fd), 0);
    snprintf(path, sizeof(path), "%s/%s", dir, TKL_DIRLOCK_FILE);
    reader_fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(reader_fd, 0);
    ck_assert_int_eq(flock(reader_fd, LOCK_SH | LOCK_NB), 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, let_go_soon, NULL), 0);
    ck_assert_int_eq(tkl_dirlock_take(dir, &other, &holder), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    close(reader_fd);
    close(other);
}
END_TEST

START_TEST(a_directory_that_is_not_there_is_an_error)
{
    char missing[300];
    int fd = -1;
    pid_t holder;
    snprintf(missing, sizeof(missing), "%s/none", dir);
    ck_assert_int_eq(tkl_dirlock_take(missing, &fd, &holder), -ENOENT);
    ck_assert_int_eq(fd, -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dirlock");
    TCase *tc = tcase_create("lock");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, one_holder_at_a_time_named_to_the_next);
    tcase_add_test(tc, the_holder_is_read_without_taking_the_lock);
    tcase_add_test(tc, a_look_in_progress_is_waited_out);
    tcase_add_test(tc, a_directory_that_is_not_there_is_an_error);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

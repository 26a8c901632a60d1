/* Tests for daemon/core/thread.c: a thread of the daemon's takes no signal
 * but its own faults, carries its name and the stack asked for, and leaves
 * the caller's signal mask as it was. */
#include <check.h>

#include "check_run.h"
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/thread.h"

/* What the thread saw of itself, read on it (the test's assertions are
 * made on the test's own thread); it then waits for go. */
struct seen {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready, go;
    int mask_rc, attr_rc, size_rc;
    sigset_t mask;
    size_t stack;
};

static void *look(void *arg)
{
    struct seen *s = arg;
    pthread_attr_t attr;
    sigset_t mask;
    size_t stack = 0;
    int mask_rc = pthread_sigmask(SIG_SETMASK, NULL, &mask);
    int attr_rc = pthread_getattr_np(pthread_self(), &attr), size_rc = -1;
    if (attr_rc == 0) {
        size_rc = pthread_attr_getstacksize(&attr, &stack);
        (void)pthread_attr_destroy(&attr);
    }
    pthread_mutex_lock(&s->lock);
    s->mask_rc = mask_rc;
    s->attr_rc = attr_rc;
    s->size_rc = size_rc;
    s->mask = mask;
    s->stack = stack;
    s->ready = true;
    pthread_cond_broadcast(&s->cond);
    while (!s->go)
        pthread_cond_wait(&s->cond, &s->lock);
    pthread_mutex_unlock(&s->lock);
    return s;
}

/* The default stack size of a new thread. */
static size_t default_stack(void)
{
    pthread_attr_t attr;
    size_t size = 0;
    ck_assert_int_eq(pthread_attr_init(&attr), 0);
    ck_assert_int_eq(pthread_attr_getstacksize(&attr, &size), 0);
    ck_assert_int_eq(pthread_attr_destroy(&attr), 0);
    return size;
}

START_TEST(a_thread_takes_only_its_faults_and_has_its_name_and_stack)
{
    struct seen s = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    sigset_t before, after;
    ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
    pthread_t t;
    ck_assert_int_eq(tkl_thread_start(&t, "tkl-test", (size_t)256 << 10, look, &s), 0);
    ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
    for (int sig = 1; sig < NSIG; sig++) /* the caller's mask as it was */
        ck_assert_int_eq(sigismember(&after, sig), sigismember(&before, sig));
    pthread_mutex_lock(&s.lock);
    while (!s.ready)
        pthread_cond_wait(&s.cond, &s.lock);
    pthread_mutex_unlock(&s.lock);
    ck_assert_int_eq(s.mask_rc, 0);
    ck_assert_int_eq(s.attr_rc, 0);
    ck_assert_int_eq(s.size_rc, 0);
    char name[16] = "";
    ck_assert_int_eq(pthread_getname_np(t, name, sizeof(name)), 0);
    ck_assert_str_eq(name, "tkl-test");
    /* the stack asked for, not the default (glibc's 8 MiB) */
    ck_assert_uint_ge(s.stack, (size_t)256 << 10);
    ck_assert_uint_lt(s.stack, default_stack());
    static const int taken[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
    static const int blocked[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE};
    for (size_t i = 0; i < sizeof(taken) / sizeof(*taken); i++)
        ck_assert_msg(!sigismember(&s.mask, taken[i]), "signal %d blocked", taken[i]);
    for (size_t i = 0; i < sizeof(blocked) / sizeof(*blocked); i++)
        ck_assert_msg(sigismember(&s.mask, blocked[i]), "signal %d not blocked", blocked[i]);
    pthread_mutex_lock(&s.lock);
    s.go = true;
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.lock);
    void *back = NULL;
    ck_assert_int_eq(pthread_join(t, &back), 0);
    ck_assert_ptr_eq(back, &s);
}
END_TEST

/* The default stack when none is asked for, the least a thread may have
 * when less is asked; a name longer than the kernel keeps is no failure,
 * and is cut to what it keeps. */
START_TEST(the_default_and_the_least_stack_and_a_long_name)
{
    struct seen s = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    pthread_t t;
    ck_assert_int_eq(tkl_thread_start(&t, "a-name-longer-than-fifteen-bytes", 0, look, &s), 0);
    pthread_mutex_lock(&s.lock);
    while (!s.ready)
        pthread_cond_wait(&s.cond, &s.lock);
    pthread_mutex_unlock(&s.lock);
    char name[16] = "";
    ck_assert_int_eq(pthread_getname_np(t, name, sizeof(name)), 0);
    ck_assert_str_eq(name, "a-name-longer-t");
    pthread_mutex_lock(&s.lock);
    s.go = true;
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.lock);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(s.size_rc, 0);
    ck_assert_uint_ge(s.stack, default_stack());
    s = (struct seen){
        .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER, .go = true};
    ck_assert_int_eq(tkl_thread_start(&t, "tkl-least", 1, look, &s), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(s.size_rc, 0);
    ck_assert_uint_ge(s.stack, (size_t)PTHREAD_STACK_MIN);
    ck_assert_uint_lt(s.stack, default_stack());
}
END_TEST

int main(void)
{
    Suite *s = suite_create("thread");
    TCase *tc = tcase_create("start");
    tcase_add_test(tc, a_thread_takes_only_its_faults_and_has_its_name_and_stack);
    tcase_add_test(tc, the_default_and_the_least_stack_and_a_long_name);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

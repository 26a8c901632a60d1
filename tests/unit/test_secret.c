/* Tests for daemon/core/secret.c with real files: a path relative to the
 * configuration's directory, a systemd credential, the one trailing line
 * break an editor adds, the refusals, and that a secret never reaches the
 * log or an error text. */
#include <check.h>

#include "capture.h"
#include "check_run.h"
#include "tmpdir.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/secret.h"
#include <tickler/text.h>

static char dir[256];

static void setup(void)
{
    umask(077); /* as a secret is written; the mode test sets its own */
    tkl_tmpdir(dir, sizeof(dir), "secret");
    unsetenv("CREDENTIALS_DIRECTORY");
}

static void teardown(void)
{
    tkl_rmtree(dir);
}

/* The secret read from spec; the test fails if it cannot be read. */
static char *must_read(const char *base, const char *spec)
{
    char *s = NULL;
    int r = tkl_secret_read(base, spec, &s);
    ck_assert_msg(r == 0, "%s: %s", spec, strerror(-r));
    ck_assert_ptr_nonnull(s);
    return s;
}

/* The error reading spec; *ret stays as it was. */
static int must_fail(const char *base, const char *spec)
{
    char sentinel[] = "untouched", *s = sentinel;
    int r = tkl_secret_read(base, spec, &s);
    ck_assert_int_lt(r, 0);
    ck_assert_ptr_eq(s, sentinel);
    return r;
}

START_TEST(a_relative_path_is_read_from_the_config_directory)
{
    tkl_write_text(dir, "smtp-password", "s3cret;with,punct \"quoted\"\n");
    char *s = must_read(dir, "smtp-password");
    ck_assert_str_eq(s, "s3cret;with,punct \"quoted\""); /* only the line break goes */
    tkl_secret_free(s);
    /* an absolute path is read as it is, wherever the configuration is */
    const char *abs = tkl_write_text(dir, "abs", "token");
    s = must_read("/nonexistent", abs);
    ck_assert_str_eq(s, "token");
    tkl_secret_free(s);
    /* a subdirectory of the configuration's */
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/secrets", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    tkl_write_text(dir, "secrets/teams-url", "https://example.org/hook?sig=abc\n");
    s = must_read(dir, "secrets/teams-url");
    ck_assert_str_eq(s, "https://example.org/hook?sig=abc");
    tkl_secret_free(s);
    /* without a base directory, relative to the working directory */
    char *cwd = getcwd(NULL, 0);
    ck_assert_ptr_nonnull(cwd);
    ck_assert_int_eq(chdir(dir), 0);
    s = must_read(NULL, "abs");
    ck_assert_str_eq(s, "token");
    tkl_secret_free(s);
    ck_assert_int_eq(chdir(cwd), 0);
    free(cwd);
}
END_TEST

START_TEST(a_credential_is_read_from_the_credentials_directory)
{
    char creds[300];
    snprintf(creds, sizeof(creds), "%s/creds", dir);
    ck_assert_int_eq(mkdir(creds, 0700), 0);
    tkl_write_text(dir, "creds/smtp", "from-systemd\n");
    tkl_write_text(dir, "smtp", "from-the-config-dir\n");
    /* no $CREDENTIALS_DIRECTORY: the service has no credentials */
    ck_assert_int_eq(must_fail(dir, "credential:smtp"), -ENOENT);
    ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", "", 1), 0);
    ck_assert_int_eq(must_fail(dir, "credential:smtp"), -ENOENT);
    ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
    char *s = must_read(dir, "credential:smtp");
    ck_assert_str_eq(s, "from-systemd");
    tkl_secret_free(s);
    ck_assert_int_eq(must_fail(dir, "credential:other"), -ENOENT);
    /* by hand, without the unit: tickler_NAME from the directory the unit
     * loads them from, NAME there; other names are still not found */
    ck_assert_int_eq(unsetenv("CREDENTIALS_DIRECTORY"), 0);
    tkl_secret_set_credentials_fallback(creds);
    s = must_read(dir, "credential:tickler_smtp");
    ck_assert_str_eq(s, "from-systemd");
    tkl_secret_free(s);
    ck_assert_int_eq(must_fail(dir, "credential:smtp"), -ENOENT);
    ck_assert_int_eq(must_fail(dir, "credential:tickler_"), -ENOENT);
    ck_assert_int_eq(must_fail(dir, "credential:tickler_../smtp"), -EINVAL);
    ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
    ck_assert_int_eq(must_fail(dir, "credential:tickler_smtp"), -ENOENT); /* the unit's own */
    tkl_secret_set_credentials_fallback(NULL);
    /* a credential is a name, not a path out of the directory */
    ck_assert_int_eq(must_fail(dir, "credential:"), -EINVAL);
    ck_assert_int_eq(must_fail(dir, "credential:../smtp"), -EINVAL);
    ck_assert_int_eq(must_fail(dir, "credential:sub/smtp"), -EINVAL);
}
END_TEST

START_TEST(one_trailing_line_break_is_removed)
{
    static const struct {
        const char *content;
        const char *secret;
    } ok[] = {
        {"tok", "tok"},   {"tok\n", "tok"},     {"tok\r\n", "tok"},
        {"tok\r", "tok"}, {" tok\t", " tok\t"}, /* other white space is part of it */
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        tkl_write_text(dir, "s", ok[i].content);
        char *s = must_read(dir, "s");
        ck_assert_str_eq(s, ok[i].secret);
        tkl_secret_free(s);
    }
    /* what is not one line of text is refused, empty apart from the rest */
    static const char *const empty[] = {"", "\n", "\r\n"};
    for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
        tkl_write_text(dir, "s", empty[i]);
        ck_assert_int_eq(must_fail(dir, "s"), -ENODATA);
    }
    static const char *const bad[] = {"tok\n\n", "a\nb", "a\nb\n", "a\rb", "\n\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tkl_write_text(dir, "s", bad[i]);
        ck_assert_int_eq(must_fail(dir, "s"), -EBADMSG);
    }
    tkl_write_file(dir, "s", "ab\0cd\n", 6); /* a NUL would cut it short */
    ck_assert_int_eq(must_fail(dir, "s"), -EBADMSG);
    /* and each is said as what it is */
    ck_assert_str_eq(tkl_secret_strerror(-ENODATA),
                     "the file is empty (it must hold the secret, on one line)");
    ck_assert_ptr_nonnull(strstr(tkl_secret_strerror(-EBADMSG), "a second line"));
    ck_assert_str_eq(tkl_secret_strerror(-EACCES), strerror(EACCES));
}
END_TEST

START_TEST(a_text_secret_keeps_its_lines)
{
    static const char pem[] =
        "-----BEGIN PRIVATE KEY-----\nMIIB\nAAAA\n-----END PRIVATE KEY-----\n";
    tkl_write_text(dir, "key.pem", pem);
    char *s = NULL;
    ck_assert_int_eq(tkl_secret_read_text(dir, "key.pem", &s), 0);
    ck_assert_str_eq(s, pem);
    tkl_secret_free(s);
    /* still refused: nothing at all, or a NUL inside */
    char sentinel[] = "untouched";
    s = sentinel;
    tkl_write_text(dir, "key.pem", "");
    ck_assert_int_eq(tkl_secret_read_text(dir, "key.pem", &s), -ENODATA);
    tkl_write_file(dir, "key.pem", "ab\0cd\n", 6);
    ck_assert_int_eq(tkl_secret_read_text(dir, "key.pem", &s), -EBADMSG);
    ck_assert_ptr_eq(s, sentinel);
}
END_TEST

START_TEST(sizes_up_to_64_kib_are_read)
{
    size_t max = 65536;
    char *big = malloc(max + 2);
    ck_assert_ptr_nonnull(big);
    memset(big, 'k', max + 1);
    tkl_write_file(dir, "s", big, max);
    char *s = must_read(dir, "s");
    ck_assert_uint_eq(strlen(s), max);
    tkl_secret_free(s);
    tkl_write_file(dir, "s", big, max + 1);
    ck_assert_int_eq(must_fail(dir, "s"), -EFBIG);
    free(big);
    big = calloc(1, 1 << 20);
    ck_assert_ptr_nonnull(big);
    memset(big, 'k', (1 << 20) - 1);
    tkl_write_file(dir, "s", big, 1 << 20);
    ck_assert_int_eq(must_fail(dir, "s"), -EFBIG);
    free(big);
}
END_TEST

/* Writes n bytes of 'p' into the FIFO dir/name from a child process. */
static pid_t fifo_writer(const char *name, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY);
        char block[4096];
        memset(block, 'p', sizeof(block));
        for (size_t done = 0; fd >= 0 && done < n;) {
            size_t k = n - done < sizeof(block) ? n - done : sizeof(block);
            ssize_t w = write(fd, block, k);
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        _exit(0);
    }
    return pid;
}

/* A pipe has no size to read ahead of time: the block grows as it fills,
 * to the same limit as a file's. */
START_TEST(a_secret_of_unknown_size_is_read_whole)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    size_t sizes[] = {1, 255, 256, 257, 5000, 65536};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
        pid_t pid = fifo_writer("fifo", sizes[i]);
        char *s = must_read(dir, "fifo");
        ck_assert_uint_eq(strlen(s), sizes[i]);
        ck_assert_uint_eq(strspn(s, "p"), sizes[i]);
        tkl_secret_free(s);
        ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    }
    pid_t pid = fifo_writer("fifo", 65537);
    ck_assert_int_eq(must_fail(dir, "fifo"), -EFBIG);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
}
END_TEST

START_TEST(what_cannot_be_read_is_an_error)
{
    ck_assert_int_eq(must_fail(dir, "missing"), -ENOENT);
    ck_assert_int_eq(must_fail(dir, "no/such/dir"), -ENOENT);
    ck_assert_int_eq(must_fail(dir, "."), -EISDIR);
    ck_assert_int_eq(must_fail(dir, ""), -EINVAL);
    ck_assert_int_eq(must_fail(dir, NULL), -EINVAL);
    if (geteuid() != 0) { /* root reads it anyway */
        const char *p = tkl_write_text(dir, "locked", "tok");
        ck_assert_int_eq(chmod(p, 0), 0);
        ck_assert_int_eq(must_fail(dir, "locked"), -EACCES);
    }
    tkl_secret_free(NULL);
}
END_TEST

START_TEST(a_secret_never_reaches_an_error_text)
{
    /* every refusal of a file that holds secret material: nothing is
     * written to the log, and the error (an errno) says nothing of it */
    static const char marker[] = "hunter2-do-not-log";
    char *big = malloc(70000);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < 69999; i++)
        big[i] = marker[i % (sizeof(marker) - 1)];
    big[69999] = '\n';
    const char *contents[] = {"hunter2-do-not-log\nsecond line\n", "hunter2-do-not-log\n\n",
                              "hunter2-do-not-log\rx"};
    tkl_capture_begin();
    int errors[4];
    for (size_t i = 0; i < 3; i++) {
        tkl_write_text(dir, "s", contents[i]);
        errors[i] = tkl_secret_read(dir, "s", &(char *){NULL});
    }
    tkl_write_file(dir, "s", big, 70000);
    errors[3] = tkl_secret_read(dir, "s", &(char *){NULL});
    char *logged = tkl_capture_end();
    ck_assert_str_eq(logged, "");
    free(logged);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_lt(errors[i], 0);
        ck_assert_ptr_null(strstr(strerror(-errors[i]), "hunter2"));
    }
    free(big);
}
END_TEST

/* The warnings reading spec adds to a load's diagnostics (the secret is
 * read, and must be "tok"); the log says nothing. */
static struct tkl_diags warned_reading(const char *spec)
{
    struct tkl_diags diags = {0};
    tkl_secret_set_diags(&diags);
    tkl_capture_begin();
    char *s = must_read(dir, spec);
    char *logged = tkl_capture_end();
    tkl_secret_set_diags(NULL);
    ck_assert_str_eq(s, "tok");
    ck_assert_str_eq(logged, "");
    free(logged);
    tkl_secret_free(s);
    ck_assert_uint_eq(diags.n_errors, 0);
    return diags;
}

START_TEST(a_secret_every_user_can_read_or_change_is_a_warning_of_the_load)
{
    const char *p = tkl_write_text(dir, "pw", "tok\n");
    char path[4096];
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s", p), (int)sizeof(path));
    ck_assert_int_eq(chmod(dir, 0755), 0); /* others may enter, as /etc/tickler */
    static const struct {
        mode_t mode;
        const char *said; /* NULL: nothing said */
    } cases[] = {
        {0600, NULL},
        {0400, NULL},
        {0640, NULL}, /* the group that runs tickler may read it */
        {0660, NULL},
        {0644, "mode is 0644: every user of this machine can read it"},
        {0604, "mode is 0604: every user of this machine can read it"},
        {0602, "mode is 0602: every user of this machine can change it"},
        {0606, "mode is 0606: every user of this machine can read and change it"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(chmod(path, cases[i].mode), 0);
        struct tkl_diags d = warned_reading("pw");
        if (!cases[i].said) {
            ck_assert_msg(d.n == 0, "%04o: %s", (unsigned)cases[i].mode,
                          d.n ? d.items[0].message : "");
        } else {
            ck_assert_msg(d.n == 1, "%04o: %zu warnings", (unsigned)cases[i].mode, d.n);
            ck_assert_int_eq(d.items[0].severity, TKL_SEV_WARNING);
            ck_assert_str_eq(d.items[0].file, path);
            ck_assert_msg(strstr(d.items[0].message, cases[i].said) &&
                              strstr(d.items[0].message, "make it 0600"),
                          "%04o: %s", (unsigned)cases[i].mode, d.items[0].message);
            ck_assert_ptr_null(strstr(d.items[0].message, "tok"));
        }
        tkl_diags_free(&d);
    }
    /* in a directory others cannot enter (the credentials' 0700), no one
     * else can read it: nothing to say */
    ck_assert_int_eq(chmod(path, 0644), 0);
    ck_assert_int_eq(chmod(dir, 0700), 0);
    struct tkl_diags d = warned_reading("pw");
    ck_assert_uint_eq(d.n, 0);
    tkl_diags_free(&d);
    /* checked without a read (a secret read after the load), and both
     * checked and read: told once */
    ck_assert_int_eq(chmod(dir, 0755), 0);
    d = (struct tkl_diags){0};
    tkl_secret_set_diags(&d);
    tkl_secret_check(dir, "pw");
    tkl_secret_check(dir, "no-such-file"); /* its read says why */
    tkl_secret_check(dir, "credential:x"); /* no credentials here: nothing */
    tkl_secret_set_diags(NULL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.items[0].file, path);
    tkl_secret_set_diags(&d);
    char *again = must_read(dir, "pw");
    tkl_secret_free(again);
    tkl_secret_set_diags(NULL);
    ck_assert_uint_eq(d.n, 1);
    tkl_diags_free(&d);
    ck_assert_int_eq(chmod(path, 0600), 0);
    d = (struct tkl_diags){0};
    tkl_secret_set_diags(&d);
    tkl_secret_check(dir, "pw");
    tkl_secret_set_diags(NULL);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_int_eq(chmod(path, 0644), 0);
    /* one file named two ways, or through a link: told once, as the file
     * the link names */
    char sub[300], sym[320];
    snprintf(sub, sizeof(sub), "%s/private", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    snprintf(sym, sizeof(sym), "%s/link", sub);
    ck_assert_int_eq(symlink(path, sym), 0);
    d = (struct tkl_diags){0};
    tkl_secret_set_diags(&d);
    tkl_secret_check(dir, "pw");
    tkl_secret_check(dir, "./pw");
    tkl_secret_check(dir, "private/link");
    tkl_secret_set_diags(NULL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.items[0].file, path);
    tkl_diags_free(&d);
    d = (struct tkl_diags){0};
    tkl_secret_set_diags(&d);
    tkl_secret_check(dir, "private/link");
    tkl_secret_set_diags(NULL);
    ck_assert_uint_eq(d.n, 1);
    ck_assert_str_eq(d.items[0].file, path); /* the exposed file, not the link */
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "; named as "));
    ck_assert_ptr_nonnull(strstr(d.items[0].message, "/private/link"));
    tkl_diags_free(&d);
    /* a hard link is the same file under another resolved name: told
     * once, as the first name read; another file beside it is told too */
    char hard[320];
    snprintf(hard, sizeof(hard), "%s/hard", dir);
    ck_assert_int_eq(link(path, hard), 0);
    ck_assert_int_eq(chmod(tkl_write_text(dir, "other", "tok\n"), 0644), 0);
    d = (struct tkl_diags){0};
    tkl_secret_set_diags(&d);
    tkl_secret_check(dir, "pw");
    tkl_secret_check(dir, "other");
    tkl_secret_check(dir, "hard");
    tkl_secret_set_diags(NULL);
    ck_assert_uint_eq(d.n, 2);
    ck_assert_str_eq(d.items[0].file, path);
    ck_assert_ptr_nonnull(strstr(d.items[1].file, "/other"));
    tkl_diags_free(&d);
    ck_assert_int_eq(unlink(hard), 0);
    /* read between loads (a token file renewed): nothing is said */
    ck_assert_int_eq(chmod(dir, 0755), 0);
    tkl_capture_begin();
    char *s = must_read(dir, "pw");
    char *logged = tkl_capture_end();
    ck_assert_str_eq(logged, "");
    free(logged);
    tkl_secret_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("secret");
    TCase *tc = tcase_create("secret");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_relative_path_is_read_from_the_config_directory);
    tcase_add_test(tc, a_credential_is_read_from_the_credentials_directory);
    tcase_add_test(tc, one_trailing_line_break_is_removed);
    tcase_add_test(tc, a_text_secret_keeps_its_lines);
    tcase_add_test(tc, sizes_up_to_64_kib_are_read);
    tcase_add_test(tc, a_secret_of_unknown_size_is_read_whole);
    tcase_add_test(tc, what_cannot_be_read_is_an_error);
    tcase_add_test(tc, a_secret_never_reaches_an_error_text);
    tcase_add_test(tc, a_secret_every_user_can_read_or_change_is_a_warning_of_the_load);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

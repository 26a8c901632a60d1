/* Shared by the unit tests: what the code under test writes to stderr
 * (the log), read back through a pipe. Keep captured output under the
 * pipe's capacity (64 KiB): it is read only at the end. */
#ifndef TKL_CAPTURE_H
#define TKL_CAPTURE_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int tkl_capture_saved = -1, tkl_capture_pipe = -1;

/* From now on stderr goes into a pipe. */
static inline void tkl_capture_begin(void)
{
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    ck_assert_int_eq(fflush(stderr), 0);
    tkl_capture_saved = dup(STDERR_FILENO);
    ck_assert_int_ge(tkl_capture_saved, 0);
    ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
    close(p[1]);
    tkl_capture_pipe = p[0];
}

/* Puts stderr back and returns what was written to it since
 * tkl_capture_begin(), as a string the caller frees. */
static inline char *tkl_capture_end(void)
{
    ck_assert_int_eq(fflush(stderr), 0);
    ck_assert_int_eq(dup2(tkl_capture_saved, STDERR_FILENO), STDERR_FILENO);
    close(tkl_capture_saved);
    /* the pipe's last writer is closed: read to the end */
    size_t len = 0, cap = 1024;
    char *text = malloc(cap);
    ck_assert_ptr_nonnull(text);
    for (;;) {
        if (cap - len < 512) {
            text = realloc(text, cap *= 2);
            ck_assert_ptr_nonnull(text);
        }
        ssize_t n = read(tkl_capture_pipe, text + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        ck_assert_int_ge(n, 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    text[len] = '\0';
    close(tkl_capture_pipe);
    return text;
}

#endif

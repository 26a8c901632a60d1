/*
 * Allocation failure injection, in the spirit of curl's torture tests: a
 * test binary linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,
 * --wrap=strdup,--wrap=strndup (see tests/CMakeLists.txt) routes tickler's
 * own allocations through these wrappers. With alloc_fail_at = N > 0 the
 * Nth allocation from then on fails; 0 fails none. alloc_count counts them.
 * Include this header in exactly one file of the test.
 */
#ifndef TKL_ALLOC_FAIL_H
#define TKL_ALLOC_FAIL_H

#include <stddef.h>
#include <string.h>

static unsigned long alloc_fail_at, alloc_count;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static int alloc_fails(void)
{
    alloc_count++;
    return alloc_fail_at && alloc_count == alloc_fail_at;
}

void *__wrap_malloc(size_t n)
{
    return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return alloc_fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return alloc_fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return alloc_fails() ? NULL : __real_strndup(s, n);
}

/* Arms failure of the nth allocation from now (0: none). */
static void alloc_fail_nth(unsigned long n)
{
    alloc_count = 0;
    alloc_fail_at = n;
}

#endif

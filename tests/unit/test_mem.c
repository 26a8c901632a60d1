/* Tests for daemon/core/mem.c: advice that maps memory ahead of its
 * writes and never changes what it holds. */
#include <check.h>

#include "check_run.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/mem.h"

#define LEN ((size_t)4 << 20)

/* How many of the pages of [p, p + len) are resident. */
static size_t resident(void *p, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t n = len / page, in = 0;
    unsigned char *v = malloc(n);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(mincore(p, len, v), 0);
    for (size_t i = 0; i < n; i++)
        in += v[i] & 1;
    free(v);
    return in;
}

static void *fresh_map(void)
{
    void *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    return p;
}

/* Whether this kernel populates on advice (Linux 5.14 and later). */
static bool kernel_populates(void)
{
#ifdef MADV_POPULATE_WRITE
    void *p = fresh_map();
    int r = madvise(p, LEN, MADV_POPULATE_WRITE);
    ck_assert_int_eq(munmap(p, LEN), 0);
    return r == 0;
#else
    return false;
#endif
}

START_TEST(fresh_memory_is_mapped_before_it_is_written)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (int huge = 0; huge < 2; huge++) {
        unsigned char *p = fresh_map();
        ck_assert_uint_eq(resident(p, LEN), 0);
        /* an unaligned range: the pages wholly inside it */
        if (huge)
            tkl_mem_prefault_huge(p + 100, LEN - 100);
        else
            tkl_mem_prefault(p + 100, LEN - 100);
        size_t in = resident(p, LEN);
        if (kernel_populates())
            ck_assert_uint_ge(in, LEN / page - 1);
        else
            ck_assert_uint_eq(in, 0);
        size_t nonzero = 0;
        for (size_t i = 0; i < LEN; i++)
            nonzero += p[i] != 0;
        ck_assert_uint_eq(nonzero, 0); /* still zero */
        ck_assert_int_eq(munmap(p, LEN), 0);
    }
}
END_TEST

START_TEST(what_memory_holds_is_kept)
{
    unsigned char *p = malloc(LEN), *want = malloc(LEN);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(want);
    for (size_t i = 0; i < LEN; i++)
        want[i] = (unsigned char)(i * 7 + 3);
    memcpy(p, want, LEN);
    tkl_mem_prefault(p, LEN);
    tkl_mem_prefault_huge(p, LEN);
    ck_assert_int_eq(memcmp(p, want, LEN), 0);
    free(want);
    free(p);
}
END_TEST

START_TEST(small_ranges_and_null_are_left_alone)
{
    unsigned char *p = fresh_map();
    tkl_mem_prefault(p, ((size_t)1 << 20) - 1);
    tkl_mem_prefault_huge(p, 4096);
    ck_assert_uint_eq(resident(p, LEN), 0);
    tkl_mem_prefault(NULL, LEN);
    tkl_mem_prefault_huge(NULL, LEN);
    ck_assert_int_eq(munmap(p, LEN), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("advice");
    tcase_add_test(tc, fresh_memory_is_mapped_before_it_is_written);
    tcase_add_test(tc, what_memory_holds_is_kept);
    tcase_add_test(tc, small_ranges_and_null_are_left_alone);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

/* Tests for daemon/core/mem.c: advice that maps the pages a block touches
 * ahead of its writes, keeps a large block one mapping, and never changes
 * what memory holds. */
#include <check.h>

#include "check_run.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/mem.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define LEN ((size_t)4 << 20)

static size_t page_size(void)
{
    long page = sysconf(_SC_PAGESIZE);
    ck_assert_int_gt(page, 0);
    return (size_t)page;
}

/* Whether each page of [p, p + len) is resident, into v. */
static void residency(void *p, size_t len, unsigned char *v)
{
    ck_assert_int_eq(mincore(p, len, v), 0);
}

static size_t count_resident(void *p, size_t len)
{
    size_t n = len / page_size(), in = 0;
    unsigned char *v = malloc(n);
    ck_assert_ptr_nonnull(v);
    residency(p, len, v);
    for (size_t i = 0; i < n; i++)
        in += v[i] & 1;
    free(v);
    return in;
}

static unsigned char *fresh_map(void)
{
    void *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    return p;
}

/* Whether this machine maps pages on the advice: Linux 5.14 and later
 * does; an emulator or an older kernel may accept it and do nothing. Seen
 * on a probe mapping, advised directly, not through the code under test. */
static bool machine_populates(void)
{
    unsigned char *p = fresh_map();
    bool all =
        madvise(p, LEN, MADV_POPULATE_WRITE) == 0 && count_resident(p, LEN) == LEN / page_size();
    ck_assert_int_eq(munmap(p, LEN), 0);
    return all;
}

/* Whether a fault may map a huge page around a small page (THP "always"),
 * which makes the edge pages' residency the kernel's choice. */
static bool huge_pages_always(void)
{
    char mode[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return false;
    size_t n = fread(mode, 1, sizeof(mode) - 1, f);
    (void)fclose(f);
    mode[n] = '\0';
    return strstr(mode, "[always]") != NULL;
}

START_TEST(the_pages_a_block_touches_are_mapped_before_it_is_written)
{
    size_t page = page_size();
    unsigned char *p = fresh_map();
    ck_assert_uint_eq(count_resident(p, LEN), 0);
    /* a block unaligned at both ends, ending half way: the pages it
     * touches, the partial ones included, and none after */
    size_t len = LEN / 2;
    tkl_mem_prefault(p + 100, len);
    size_t n = LEN / page, last = (100 + len - 1) / page;
    unsigned char *v = malloc(n);
    ck_assert_ptr_nonnull(v);
    residency(p, LEN, v);
    if (machine_populates()) {
        for (size_t i = 0; i <= last; i++)
            ck_assert_msg(v[i] & 1, "page %zu of the block not mapped", i);
        if (!huge_pages_always())
            for (size_t i = last + 1; i < n; i++)
                ck_assert_msg(!(v[i] & 1), "page %zu, after the block, was mapped", i);
    } else {
        fprintf(stderr, "test_mem: this machine does not map pages on advice; "
                        "checking only that nothing changed\n");
    }
    free(v);
    size_t nonzero = 0;
    for (size_t i = 0; i < LEN; i++)
        nonzero += p[i] != 0;
    ck_assert_uint_eq(nonzero, 0); /* still zero */
    ck_assert_int_eq(munmap(p, LEN), 0);
}
END_TEST

/* How many mappings of /proc/self/maps hold part of [p, p + len). */
static int mappings_over(const void *p, size_t len)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    uintptr_t lo = (uintptr_t)p, hi = lo + len;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        char *dash, *end;
        uintptr_t a = strtoul(line, &dash, 16);
        ck_assert_int_eq(*dash, '-');
        uintptr_t b = strtoul(dash + 1, &end, 16);
        ck_assert_int_eq(*end, ' ');
        n += a < hi && b > lo;
    }
    ck_assert_int_eq(fclose(f), 0);
    return n;
}

START_TEST(a_large_block_stays_one_mapping_and_grows_in_place)
{
    /* malloc gives a block this large a mapping of its own */
    size_t len = (size_t)8 << 20;
    unsigned char *p = malloc(len);
    ck_assert_ptr_nonnull(p);
    memset(p, 0x5a, 4096);
    ck_assert_int_eq(mappings_over(p, len), 1);
    tkl_mem_prefault(p, len);
    /* one mapping still, so mremap may grow it (it refuses a split one) */
    ck_assert_int_eq(mappings_over(p, len), 1);
    unsigned char *q = realloc(p, 4 * len);
    ck_assert_ptr_nonnull(q);
    tkl_mem_prefault(q, 4 * len);
    ck_assert_int_eq(mappings_over(q, 4 * len), 1);
    for (size_t i = 0; i < 4096; i++)
        ck_assert_uint_eq(q[i], 0x5a);
    free(q);
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
    tkl_mem_prefault(p + 1, LEN - 1);
    ck_assert_int_eq(memcmp(p, want, LEN), 0);
    free(want);
    free(p);
}
END_TEST

START_TEST(small_ranges_and_null_are_left_alone)
{
    unsigned char *p = fresh_map();
    tkl_mem_prefault(p, ((size_t)1 << 20) - 1);
    tkl_mem_prefault(p + 1, page_size());
    ck_assert_uint_eq(count_resident(p, LEN), 0);
    tkl_mem_prefault(NULL, LEN);
    ck_assert_int_eq(munmap(p, LEN), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("advice");
    tcase_add_test(tc, the_pages_a_block_touches_are_mapped_before_it_is_written);
    tcase_add_test(tc, a_large_block_stays_one_mapping_and_grows_in_place);
    tcase_add_test(tc, what_memory_holds_is_kept);
    tcase_add_test(tc, small_ranges_and_null_are_left_alone);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

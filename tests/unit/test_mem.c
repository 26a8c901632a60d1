/* Tests for daemon/core/mem.c: advice that maps the pages of a large block
 * ahead of its writes, here or on a thread of its own, keeps the block one
 * mapping (so realloc may still grow it in place), and never changes what
 * memory holds; blocks mapped on their own for huge pages. */
#include <check.h>
#include <malloc.h>

#include "check_run.h"
#include "cold_fixture.h"
#include "cpus.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
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

/* How many of the pages of [p, p + len) are resident (p page-aligned). */
static size_t count_resident(void *p, size_t len)
{
    size_t n = len / page_size(), in = 0;
    unsigned char *v = malloc(n);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(mincore(p, len, v), 0);
    for (size_t i = 0; i < n; i++)
        in += v[i] & 1;
    free(v);
    return in;
}

/* A zeroed block of len bytes in a mapping of its own, none of its pages
 * written but malloc's header (glibc's large blocks and AddressSanitizer's
 * are mapped fresh; calloc knows fresh pages are zero). */
static unsigned char *fresh_block(size_t len)
{
    (void)mallopt(M_MMAP_THRESHOLD, 128 << 10); /* glibc's; ASan maps large blocks anyway */
    unsigned char *p = calloc(1, len);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* The pages the block at p of len bytes touches: [*lo, *lo + *span). */
static void block_pages(unsigned char *p, size_t len, unsigned char **lo, size_t *span)
{
    size_t page = page_size();
    size_t lead = (size_t)((uintptr_t)p % page);
    *lo = p - lead;
    *span = (lead + len + page - 1) / page * page;
}

/* Whether this machine maps pages on the advice: Linux 5.14 and later
 * does; an emulator or an older kernel may accept it and do nothing. Seen
 * on a probe mapping, advised directly, not through the code under test. */
static bool machine_populates(void)
{
    void *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    bool all =
        madvise(p, LEN, MADV_POPULATE_WRITE) == 0 && count_resident(p, LEN) == LEN / page_size();
    ck_assert_int_eq(munmap(p, LEN), 0);
    return all;
}

START_TEST(the_pages_of_a_large_block_are_mapped_before_it_is_written)
{
    unsigned char *p = fresh_block(LEN), *lo;
    size_t span;
    block_pages(p, LEN, &lo, &span);
    /* malloc's own header is written; the rest is not yet */
    ck_assert_uint_le(count_resident(lo, span), 2);
    tkl_mem_prefault(p, LEN);
    if (machine_populates())
        ck_assert_uint_eq(count_resident(lo, span), span / page_size());
    else
        fprintf(stderr, "test_mem: this machine does not map pages on advice; "
                        "checking only that nothing changed\n");
    size_t nonzero = 0;
    for (size_t i = 0; i < LEN; i++)
        nonzero += p[i] != 0;
    ck_assert_uint_eq(nonzero, 0); /* still zero */
    free(p);
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

/* How many mappings hold the pages of the block at p (its whole room). */
static int mappings_of_block(unsigned char *p)
{
    unsigned char *lo;
    size_t span;
    block_pages(p, malloc_usable_size(p), &lo, &span);
    return mappings_over(lo, span);
}

/* A large block advised, then grown as the loader grows its actions. */
static void advise_and_grow(size_t len)
{
    unsigned char *p = malloc(len);
    ck_assert_ptr_nonnull(p);
    memset(p, 0x5a, 4096);
    ck_assert_int_eq(mappings_of_block(p), 1);
    tkl_mem_prefault(p, len);
    /* one mapping still, so mremap may grow it (it refuses a split one) */
    ck_assert_msg(mappings_of_block(p) == 1, "a block of %zu bytes split by the advice", len);
    for (int i = 0; i < 3; i++) {
        len *= 2;
        p = realloc(p, len);
        ck_assert_ptr_nonnull(p);
        tkl_mem_prefault(p, len);
        ck_assert_msg(mappings_of_block(p) == 1, "a block of %zu bytes split by the advice", len);
    }
    for (size_t i = 0; i < 4096; i++)
        ck_assert_uint_eq(p[i], 0x5a);
    free(p);
}

START_TEST(a_large_block_stays_one_mapping)
{
    (void)mallopt(M_MMAP_THRESHOLD, 128 << 10); /* glibc's; ASan maps large blocks anyway */
    size_t page = page_size();
    advise_and_grow((size_t)8 << 20);
    /* sizes whose mapping (glibc) ends a page past the requested end */
    advise_and_grow(259 * page - 16);
    advise_and_grow(259 * page - 23);
    advise_and_grow(1060 * page - 20);
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
    ck_assert_int_eq(memcmp(p, want, LEN), 0);
    free(want);
    free(p);
}
END_TEST

START_TEST(small_blocks_and_null_are_left_alone)
{
    size_t len = ((size_t)1 << 20) - 1;
    unsigned char *p = fresh_block(len), *lo;
    size_t span;
    block_pages(p, len, &lo, &span);
    size_t before = count_resident(lo, span);
    tkl_mem_prefault(p, len);
    ck_assert_uint_eq(count_resident(lo, span), before);
    tkl_mem_prefault(NULL, LEN);
    free(p);
}
END_TEST

/* The VmFlags line of the mapping of /proc/self/smaps that starts at p,
 * into line; false when no mapping starts there. */
static bool vm_flags(const void *p, char *line, size_t size)
{
    char want[32];
    snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)p);
    FILE *f = fopen("/proc/self/smaps", "r");
    ck_assert_ptr_nonnull(f);
    bool in = false, found = false;
    while (!found && fgets(line, (int)size, f)) {
        if (strchr(line, '-') && strncmp(line, want, strlen(want)) == 0)
            in = true;
        else if (in && strncmp(line, "VmFlags:", 8) == 0)
            found = true;
    }
    ck_assert_int_eq(fclose(f), 0);
    return found;
}

/* A block mapped for huge pages: aligned to one, zero, writable, a mapping
 * of its own the kernel holds the advice for (where it has huge pages),
 * and gone once unmapped. Sizes that are not whole huge pages are
 * refused. */
START_TEST(a_huge_block_is_aligned_zero_and_advised)
{
    size_t size = 2 * TKL_MEM_HUGE_PAGE;
    unsigned char *p = tkl_mem_map_huge(size);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % TKL_MEM_HUGE_PAGE, 0);
    for (size_t i = 0; i < size; i += 4093)
        ck_assert_uint_eq(p[i], 0);
    memset(p, 0x5a, size);
    ck_assert_uint_eq(p[size - 1], 0x5a);
    char line[512];
    ck_assert(vm_flags(p, line, sizeof(line)));
    if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0)
        ck_assert_ptr_nonnull(strstr(line, " hg"));
    tkl_mem_unmap(p, size);
    ck_assert(!vm_flags(p, line, sizeof(line)));
    ck_assert_ptr_null(tkl_mem_map_huge(0));
    ck_assert_ptr_null(tkl_mem_map_huge(TKL_MEM_HUGE_PAGE + 4096));
    tkl_mem_unmap(NULL, size);
}
END_TEST

/* The Rss of the mapping of /proc/self/smaps that starts at p, in kB. */
static long mapping_rss_kb(const void *p)
{
    char want[32], line[512];
    snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)p);
    FILE *f = fopen("/proc/self/smaps", "r");
    ck_assert_ptr_nonnull(f);
    bool in = false;
    long kb = -1;
    while (kb < 0 && fgets(line, (int)sizeof(line), f)) {
        if (strchr(line, '-') && strncmp(line, want, strlen(want)) == 0)
            in = true;
        else if (in && strncmp(line, "Rss:", 4) == 0)
            kb = strtol(line + 4, NULL, 10);
    }
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_ge(kb, 0);
    return kb;
}

/* Cold memory: zero, writable, the pages of a file of the directory that
 * has no name and no descriptor held, with its blocks on disk reserved;
 * what is written there survives the pages being dropped from the mapping;
 * gone with the mapping, leaving the directory as it was. */
START_TEST(cold_memory_is_a_file_of_its_directory_with_no_name)
{
    char dir[4096];
    cold_dir_make(dir);
    const size_t size = (size_t)1 << 20;
    unsigned char *p = tkl_mem_map_cold(dir, size), *want = malloc(size);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(want);
    ck_assert(cold_at(p, dir));
    ck_assert(cold_at(p + size - 1, dir));
    ck_assert_int_eq(cold_dir_entries(dir), 0);
    ck_assert_int_eq(cold_fds(dir), 0);
    char link[96];
    snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)(uintptr_t)p,
             (unsigned long)(uintptr_t)(p + size));
    struct stat st;
    ck_assert_int_eq(stat(link, &st), 0);
    ck_assert_int_eq(st.st_size, (off_t)size);
    ck_assert_int_ge(st.st_blocks * 512, (blkcnt_t)size); /* reserved */
    memset(want, 0, size);
    ck_assert_int_eq(memcmp(p, want, size), 0);
    for (size_t i = 0; i < size; i++)
        want[i] = (unsigned char)(i * 7 + 1);
    memcpy(p, want, size);
    /* what the kernel does to such pages when memory is short */
    ck_assert_int_ge(mapping_rss_kb(p), (long)(size >> 10));
    ck_assert_int_eq(madvise(p, size, MADV_DONTNEED), 0);
    ck_assert_int_eq(mapping_rss_kb(p), 0);
    ck_assert_int_eq(memcmp(p, want, size), 0);
    free(want);
    tkl_mem_unmap(p, size);
    cold_dir_remove(dir);
}
END_TEST

/* No cold memory without a directory on disk that can hold it: the caller
 * then uses private memory. */
START_TEST(cold_memory_is_refused_where_it_gains_nothing)
{
    ck_assert_ptr_null(tkl_mem_map_cold(NULL, 4096));
    ck_assert_ptr_null(tkl_mem_map_cold("/nonexistent/tickler", 4096));
    char dir[4096];
    cold_dir_make(dir);
    ck_assert_ptr_null(tkl_mem_map_cold(dir, 0));
    cold_dir_remove(dir);
    ck_assert_ptr_null(tkl_mem_map_cold(dir, 4096)); /* gone */
    struct statfs fs;
    if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC)
        ck_assert_ptr_null(tkl_mem_map_cold("/dev/shm", 4096));
}
END_TEST

/* The size of the file behind the mapping [p, p + len), and the bytes of
 * disk it holds, from /proc/self/map_files. */
static void mapped_file(const void *p, size_t len, off_t *size, off_t *disk)
{
    char link[96];
    snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)(uintptr_t)p,
             (unsigned long)(uintptr_t)p + len);
    struct stat st;
    ck_assert_int_eq(stat(link, &st), 0);
    *size = st.st_size;
    *disk = (off_t)st.st_blocks * 512;
}

/* A cold file grows with its room reserved and what it holds kept, and
 * is cut in place with its room given back; it is gone once neither its
 * descriptor nor a mapping holds it. Directories that cannot hold one say
 * why. */
START_TEST(a_cold_file_grows_and_is_cut_keeping_what_it_holds)
{
    char dir[4096];
    cold_dir_make(dir);
    int fd = tkl_mem_cold_open(dir);
    ck_assert_int_ge(fd, 0);
    const size_t page = page_size(), a = 64 * page, b = 1000 * page, c = 10 * page + 100;
    unsigned char *p = tkl_mem_cold_grow(fd, NULL, 0, a);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < a; i++)
        p[i] = (unsigned char)(i * 13 + 5);
    ck_assert_ptr_eq(tkl_mem_cold_grow(fd, p, a, a), p);
    unsigned char *q = tkl_mem_cold_grow(fd, p, a, b);
    ck_assert_ptr_nonnull(q);
    off_t size, disk;
    mapped_file(q, b, &size, &disk);
    ck_assert_int_eq(size, (off_t)b);
    ck_assert_int_ge(disk, (off_t)b); /* reserved */
    for (size_t i = 0; i < a; i++)
        ck_assert_uint_eq(q[i], (unsigned char)(i * 13 + 5));
    ck_assert_uint_eq(q[b - 1], 0);
    q[b - 1] = 7;
    ck_assert_ptr_null(tkl_mem_cold_grow(fd, q, b, a)); /* not a cut */
    tkl_mem_cold_cut(fd, q, b, c);
    const size_t kept = (c + page - 1) / page * page;
    mapped_file(q, kept, &size, &disk);
    ck_assert_int_eq(size, (off_t)c);
    ck_assert_int_lt(disk, (off_t)b / 2); /* given back */
    ck_assert_int_eq(mappings_over(q, b), 1);
    ck_assert_int_eq(mappings_over(q + kept, b - kept), 0);
    for (size_t i = 0; i < c; i++)
        ck_assert_uint_eq(q[i], (unsigned char)(i * 13 + 5));
    /* written to disk, and out of memory: read back from the file */
    ck_assert_int_eq(msync(q, c, MS_SYNC), 0);
    ck_assert_int_eq(madvise(q, kept, MADV_DONTNEED), 0);
    ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    ck_assert_uint_eq(count_resident(q, kept), 0); /* not even in the page cache */
    for (size_t i = 0; i < c; i++)
        ck_assert_uint_eq(q[i], (unsigned char)(i * 13 + 5));
    ck_assert_int_eq(cold_fds(dir), 1);
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(cold_fds(dir), 0);
    ck_assert(cold_at(q, dir)); /* the mapping keeps it */
    tkl_mem_unmap(q, c);
    cold_dir_remove(dir);
    ck_assert_int_eq(tkl_mem_cold_open(NULL), -EINVAL);
    ck_assert_int_eq(tkl_mem_cold_open(dir), -ENOENT);
    struct statfs fs;
    if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC)
        ck_assert_int_eq(tkl_mem_cold_open("/dev/shm"), -EMEDIUMTYPE);
}
END_TEST

/* The pages of a block from the first byte not yet written are mapped by
 * a thread of their own; what the block holds is kept; it stays one
 * mapping. */
START_TEST(the_pages_past_what_is_written_are_mapped_on_another_thread)
{
    size_t len = 4 * LEN, done = ((size_t)1 << 20) + 100;
    unsigned char *p = fresh_block(len), *lo;
    size_t span, page = page_size();
    block_pages(p, len, &lo, &span);
    memset(p, 0x5a, done);
    struct tkl_mem_ahead h = {0};
    bool populates = machine_populates();
    tkl_mem_prefault_ahead(&h, p, len, done);
    if (!tkl_test_several_cpus()) { /* mapped here, in the one call */
        ck_assert(!h.running);
        ck_assert(!populates || count_resident(lo, span) == span / page);
        free(p);
        return;
    }
    ck_assert(h.running); /* the work is the thread's */
    /* this thread touches no page meanwhile: the thread maps them all,
     * however long a loaded machine makes it take (20 s at most) */
    struct timespec t0, t;
    ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
    size_t resident = populates ? count_resident(lo, span) : 0;
    for (t = t0; populates && resident < span / page && t.tv_sec - t0.tv_sec < 20;
         resident = count_resident(lo, span)) {
        usleep(1000);
        ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t), 0);
    }
    ck_assert_msg(!populates || resident == span / page, "%zu of %zu pages resident", resident,
                  span / page);
    tkl_mem_ahead_end(&h);
    ck_assert(!h.running);
    ck_assert_int_eq(mappings_of_block(p), 1);
    size_t wrong = 0;
    for (size_t i = 0; i < len; i++)
        wrong += p[i] != (i < done ? 0x5a : 0);
    ck_assert_uint_eq(wrong, 0);
    free(p);
}
END_TEST

/* The pages of a cold block past what is written are mapped ahead, on a
 * thread where the machine has another CPU, and what it holds is kept. */
START_TEST(the_pages_of_a_cold_block_are_mapped_ahead)
{
    char dir[4096];
    cold_dir_make(dir);
    int fd = tkl_mem_cold_open(dir);
    ck_assert_int_ge(fd, 0);
    const size_t len = 4 * LEN, done = ((size_t)1 << 20) + 100;
    unsigned char *p = tkl_mem_cold_grow(fd, NULL, 0, len);
    ck_assert_ptr_nonnull(p);
    memset(p, 0x5a, done);
    struct tkl_mem_ahead h = {0};
    tkl_mem_populate_ahead(&h, p, len, done);
    ck_assert(h.running == tkl_test_several_cpus());
    if (machine_populates()) { /* the thread maps them all (20 s at most) */
        struct timespec t0, t;
        ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
        long kb = mapping_rss_kb(p);
        for (t = t0; kb < (long)(len >> 10) && t.tv_sec - t0.tv_sec < 20; kb = mapping_rss_kb(p)) {
            usleep(1000);
            ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t), 0);
        }
        ck_assert_int_eq(kb, (long)(len >> 10));
    }
    tkl_mem_ahead_end(&h);
    ck_assert(!h.running);
    size_t wrong = 0;
    for (size_t i = 0; i < len; i++)
        wrong += p[i] != (i < done ? 0x5a : 0);
    ck_assert_uint_eq(wrong, 0);
    tkl_mem_populate_ahead(&h, p + 1, len - 1, 0); /* not a mapping's start */
    ck_assert(!h.running);
    tkl_mem_unmap(p, len);
    ck_assert_int_eq(close(fd), 0);
    cold_dir_remove(dir);
}
END_TEST

/* The owner writes the block while the thread maps it: every byte written
 * is there afterwards, the last chunk's too. */
START_TEST(the_owner_writes_the_block_while_the_thread_maps_it)
{
    size_t len = 8 * LEN + 12345;
    unsigned char *p = fresh_block(len);
    struct tkl_mem_ahead h = {0};
    tkl_mem_prefault_ahead(&h, p, len, 0);
    ck_assert(!tkl_test_several_cpus() || h.running);
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i * 31 + 7);
    tkl_mem_ahead_end(&h);
    size_t wrong = 0;
    for (size_t i = 0; i < len; i++)
        wrong += p[i] != (unsigned char)(i * 31 + 7);
    ck_assert_uint_eq(wrong, 0);
    free(p);
}
END_TEST

/* A block grown as the loader grows its actions: the thread ended before
 * each realloc, started again for the new room. The block stays one
 * mapping (realloc may grow it in place) and keeps what was written. */
START_TEST(a_block_grown_between_threads_keeps_what_it_holds)
{
    (void)mallopt(M_MMAP_THRESHOLD, 128 << 10); /* glibc's; ASan maps large blocks anyway */
    struct tkl_mem_ahead h = {0};
    size_t len = (size_t)2 << 20, written = 0;
    unsigned char *p = malloc(len);
    ck_assert_ptr_nonnull(p);
    for (int round = 0; round < 4; round++) {
        tkl_mem_prefault_ahead(&h, p, len, written);
        for (; written < len; written++)
            p[written] = (unsigned char)(written % 251);
        tkl_mem_ahead_end(&h);
        ck_assert_int_eq(mappings_of_block(p), 1);
        len *= 2;
        p = realloc(p, len);
        ck_assert_ptr_nonnull(p);
    }
    size_t wrong = 0;
    for (size_t i = 0; i < written; i++)
        wrong += p[i] != (unsigned char)(i % 251);
    ck_assert_uint_eq(wrong, 0);
    free(p);
}
END_TEST

/* Ending with no thread is nothing; a thread ended as soon as started is
 * stopped and joined, and h can start another; a block under 1 MiB, or
 * written whole already, gets no thread. */
START_TEST(ending_stops_the_thread_and_small_blocks_get_none)
{
    struct tkl_mem_ahead h = {0};
    tkl_mem_ahead_end(&h);
    ck_assert(!h.running);
    size_t len = 16 * LEN;
    unsigned char *p = fresh_block(len);
    tkl_mem_prefault_ahead(&h, p, len, 0);
    tkl_mem_ahead_end(&h);
    ck_assert(!h.running);
    tkl_mem_ahead_end(&h);
    tkl_mem_prefault_ahead(&h, p, len, len / 2);
    ck_assert(!tkl_test_several_cpus() || h.running);
    tkl_mem_ahead_end(&h);
    size_t nonzero = 0;
    for (size_t i = 0; i < len; i++)
        nonzero += p[i] != 0;
    ck_assert_uint_eq(nonzero, 0);
    tkl_mem_prefault_ahead(&h, p, len, len);
    ck_assert(!h.running);
    free(p);

    size_t small = ((size_t)1 << 20) - 1;
    unsigned char *q = fresh_block(small), *lo;
    size_t span;
    block_pages(q, small, &lo, &span);
    size_t before = count_resident(lo, span);
    tkl_mem_prefault_ahead(&h, q, small, 0);
    ck_assert(!h.running);
    ck_assert_uint_eq(count_resident(lo, span), before);
    free(q);
}
END_TEST

/* Under 1 MiB left to map of a large block: mapped in the call, no
 * thread. */
START_TEST(a_short_rest_is_mapped_in_the_call)
{
    size_t len = 4 * LEN, done = len - ((size_t)512 << 10);
    unsigned char *p = fresh_block(len), *lo;
    size_t span, page = page_size();
    block_pages(p, len, &lo, &span);
    struct tkl_mem_ahead h = {0};
    tkl_mem_prefault_ahead(&h, p, len, done);
    ck_assert(!h.running);
    if (machine_populates()) {
        /* the pages from done's on */
        size_t first = (size_t)(p + done - lo) / page;
        ck_assert_uint_eq(count_resident(lo + first * page, span - first * page),
                          span / page - first);
        /* and none of the whole huge pages between the one malloc's
         * header is in and the one done is in (the kernel may map either
         * of those two whole) */
        unsigned char *from = lo + page, *to = p + done;
        from += (TKL_MEM_HUGE_PAGE - (uintptr_t)from % TKL_MEM_HUGE_PAGE) % TKL_MEM_HUGE_PAGE;
        to -= (uintptr_t)to % TKL_MEM_HUGE_PAGE;
        ck_assert(from < to);
        ck_assert_uint_eq(count_resident(from, (size_t)(to - from)), 0);
    }
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("advice");
    tcase_add_test(tc, the_pages_of_a_large_block_are_mapped_before_it_is_written);
    tcase_add_test(tc, a_large_block_stays_one_mapping);
    tcase_add_test(tc, what_memory_holds_is_kept);
    tcase_add_test(tc, small_blocks_and_null_are_left_alone);
    tcase_add_test(tc, a_huge_block_is_aligned_zero_and_advised);
    tcase_add_test(tc, cold_memory_is_a_file_of_its_directory_with_no_name);
    tcase_add_test(tc, cold_memory_is_refused_where_it_gains_nothing);
    tcase_add_test(tc, a_cold_file_grows_and_is_cut_keeping_what_it_holds);
    suite_add_tcase(s, tc);
    TCase *ahead = tcase_create("ahead");
    tcase_add_test(ahead, the_pages_past_what_is_written_are_mapped_on_another_thread);
    tcase_add_test(ahead, the_owner_writes_the_block_while_the_thread_maps_it);
    tcase_add_test(ahead, the_pages_of_a_cold_block_are_mapped_ahead);
    tcase_add_test(ahead, a_block_grown_between_threads_keeps_what_it_holds);
    tcase_add_test(ahead, ending_stops_the_thread_and_small_blocks_get_none);
    tcase_add_test(ahead, a_short_rest_is_mapped_in_the_call);
    suite_add_tcase(s, ahead);
    return tkl_check_run(s);
}

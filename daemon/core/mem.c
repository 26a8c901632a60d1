#include "mem.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "thread.h"

/* Linux 5.14's advice, for C libraries whose headers predate it */
#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23
#endif

/* below this, a few page faults cost less than the advice */
#define PREFAULT_MIN ((size_t)1 << 20)

#define HUGE_PAGE ((uintptr_t)TKL_MEM_HUGE_PAGE)

/* The page-aligned span [*ret_start, *ret_start + *ret_span) of the
 * block's whole room, with the huge-page advice given for it; false when
 * the block is left alone. */
static bool advise_block(void *block, size_t len, char **ret_start, size_t *ret_span)
{
    if (!block || len < PREFAULT_MIN)
        return false;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return false;
#ifdef __GLIBC__
    /* the block's whole room: glibc maps a large block with a few bytes
     * past len, which the advice must cover to cover the whole mapping */
    size_t usable = malloc_usable_size(block);
    if (usable > len)
        len = usable;
#endif
    size_t pg = (size_t)page;
    /* the pages the block touches: the first starts lead bytes before it */
    size_t lead = (size_t)((uintptr_t)block % pg);
    char *start = (char *)block - lead;
    size_t span = (lead + len + pg - 1) / pg * pg;
    /* advice, so the result is ignored (EINVAL where not supported). Huge
     * pages only where one fits: the advice splits a mapping it covers only
     * in part, and mremap refuses to grow a split one (EFAULT), so realloc
     * would copy it */
#ifdef MADV_HUGEPAGE
    uintptr_t first_huge = ((uintptr_t)start + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (first_huge + HUGE_PAGE <= (uintptr_t)start + span)
        (void)madvise(start, span, MADV_HUGEPAGE);
#endif
    *ret_start = start;
    *ret_span = span;
    return true;
}

/* Maps the pages of [start, start + len) (page-aligned) now: advice,
 * refused with EINVAL by a kernel older than Linux 5.14. */
static void populate(char *start, size_t len)
{
#ifdef MADV_POPULATE_WRITE
    (void)madvise(start, len, MADV_POPULATE_WRITE);
#else
    (void)start;
    (void)len;
#endif
}

void tkl_mem_prefault(void *block, size_t len)
{
    char *start;
    size_t span;
    if (advise_block(block, len, &start, &span))
        populate(start, span);
}

/* Whether another CPU may run a thread beside this one. */
static bool other_cpu(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        return CPU_COUNT(&set) > 1;
#endif
    return sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

/* Up to the next huge page boundary, then a huge page a call: each call
 * faults in one huge page where the kernel gives them, a stop is seen
 * soon, and a writer that catches up waits on at most one call. */
static void *ahead_run(void *arg)
{
    struct tkl_mem_ahead *h = arg;
    size_t len = (size_t)(h->end - h->from);
    size_t step = HUGE_PAGE - (uintptr_t)h->from % HUGE_PAGE;
    for (size_t at = 0; at < len; at += step, step = HUGE_PAGE) {
        if (atomic_load_explicit(&h->stop, memory_order_relaxed))
            break;
        populate(h->from + at, step < len - at ? step : len - at);
    }
    return NULL;
}

/* The prefault thread's stack: it calls madvise in a loop */
#define AHEAD_STACK ((size_t)128 << 10)

/* Maps the pages of [first, end) on h's thread, from the page of first
 * (end page-aligned), or here when that is short or no thread can run. */
static void ahead_start(struct tkl_mem_ahead *h, char *first, char *end)
{
    long page = sysconf(_SC_PAGESIZE); /* > 0: the callers read it */
    h->from = first - (uintptr_t)first % (uintptr_t)page;
    h->end = end;
    atomic_store(&h->stop, false);
    size_t left = (size_t)(h->end - h->from);
    if (left >= PREFAULT_MIN && other_cpu() &&
        tkl_thread_start(&h->thread, "tkl-prefault", AHEAD_STACK, ahead_run, h) == 0)
        h->running = true;
    else
        populate(h->from, left);
}

void tkl_mem_prefault_ahead(struct tkl_mem_ahead *h, void *block, size_t len, size_t done)
{
    char *start;
    size_t span;
    assert(!h->running);
    if (h->running || done >= len || !advise_block(block, len, &start, &span))
        return;
    /* from the page of the first byte not written yet */
    ahead_start(h, (char *)block + done, start + span);
}

void tkl_mem_populate_ahead(struct tkl_mem_ahead *h, void *block, size_t len, size_t done)
{
    long page = sysconf(_SC_PAGESIZE);
    assert(!h->running);
    if (h->running || !block || done >= len || len < PREFAULT_MIN || page <= 0 ||
        (uintptr_t)block % (uintptr_t)page)
        return;
    size_t pg = (size_t)page;
    ahead_start(h, (char *)block + done, (char *)block + (len + pg - 1) / pg * pg);
}

void tkl_mem_ahead_end(struct tkl_mem_ahead *h)
{
    if (!h->running)
        return;
    atomic_store(&h->stop, true);
    (void)pthread_join(h->thread, NULL); /* fails only for a thread not ours */
    h->running = false;
}

void *tkl_mem_map_huge(size_t size)
{
    if (!size || size % TKL_MEM_HUGE_PAGE || size > SIZE_MAX - TKL_MEM_HUGE_PAGE)
        return NULL;
    /* a huge page more than needed, then the parts outside the aligned
     * block given back: whole pages of a mapping of ours, so munmap fails
     * only when splitting it would pass vm.max_map_count, and then those
     * pages, never touched, stay mapped but not resident */
    size_t span = size + TKL_MEM_HUGE_PAGE;
    char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    char *start = m + (HUGE_PAGE - (uintptr_t)m % HUGE_PAGE) % HUGE_PAGE;
    if (start > m)
        (void)munmap(m, (size_t)(start - m));
    if (start + size < m + span)
        (void)munmap(start + size, (size_t)(m + span - (start + size)));
#ifdef MADV_HUGEPAGE
    /* advice: a kernel without huge pages refuses it (EINVAL), and the
     * block is used as it is */
    (void)madvise(start, size, MADV_HUGEPAGE);
#endif
    return start;
}

void tkl_mem_unmap(void *block, size_t size)
{
    if (block)
        (void)munmap(block, size); /* see tkl_mem_map_huge for its one failure */
}

int tkl_mem_cold_open(const char *dir)
{
    if (!dir)
        return -EINVAL;
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    struct statfs fs;
    /* only where the room fallocate reserves is the room a later write
     * takes: a copy-on-write file system (btrfs, ZFS) needs new room to
     * write a page again, and a full disk then is SIGBUS */
    int r = fstatfs(fd, &fs) < 0                                            ? -errno
            : fs.f_type != EXT4_SUPER_MAGIC && fs.f_type != XFS_SUPER_MAGIC ? -EMEDIUMTYPE
                                                                            : 0;
    if (r < 0) {
        (void)close(fd); /* nothing written through it */
        return r;
    }
    return fd;
}

/* 0 when the file system of fd has room for more bytes and still the
 * room the rest of the state directory may need (TKL_MEM_COLD_SPARE_PART),
 * else -ENOSPC, or fstatvfs's -errno. */
static int cold_room(int fd, size_t more)
{
    struct statvfs st;
    if (fstatvfs(fd, &st) < 0)
        return -errno;
    uint64_t total = (uint64_t)st.f_blocks * st.f_frsize,
             avail = (uint64_t)st.f_bavail * st.f_frsize;
    uint64_t spare = total / TKL_MEM_COLD_SPARE_PART;
    if (spare > TKL_MEM_COLD_SPARE_MAX)
        spare = TKL_MEM_COLD_SPARE_MAX;
    return avail >= spare && avail - spare >= more ? 0 : -ENOSPC;
}

void *tkl_mem_cold_grow(int fd, void *block, size_t old, size_t size)
{
    if (size < old || !size || size > (size_t)INT64_MAX || (!block && old)) {
        errno = EINVAL;
        return NULL;
    }
    if (size == old)
        return block;
    /* the blocks reserved now, so that a write to a page can never find the
     * disk full (which would be SIGBUS, not an error) */
    int r = cold_room(fd, size - old);
    if (r < 0) {
        errno = -r;
        return NULL;
    }
    if (fallocate(fd, 0, (off_t)old, (off_t)(size - old)) < 0)
        return NULL;
    void *m = block ? mremap(block, old, size, MREMAP_MAYMOVE)
                    : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        int e = errno;
        (void)ftruncate(fd, (off_t)old); /* the room back; kept, if not, until the file goes */
        errno = e;
        return NULL;
    }
    return m;
}

void tkl_mem_cold_cut(int fd, void *block, size_t old, size_t size)
{
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || !size || size >= old)
        return;
    size_t p = (size_t)page, keep = (size + p - 1) / p * p, had = (old + p - 1) / p * p;
    /* the mapping's own tail: unmapping it splits nothing, so it fails only
     * for arguments this never gives */
    if (keep < had)
        (void)munmap((char *)block + keep, had - keep);
    (void)ftruncate(fd, (off_t)size); /* if not, the room is kept until the file goes */
}

void *tkl_mem_cold_new(const char *dir, size_t size, int *ret_fd)
{
    *ret_fd = -1;
    int fd = tkl_mem_cold_open(dir);
    if (fd < 0) {
        errno = -fd;
        return NULL;
    }
    void *m = tkl_mem_cold_grow(fd, NULL, 0, size);
    if (!m) {
        int e = errno;
        (void)close(fd); /* nothing written through it */
        errno = e;
        return NULL;
    }
    *ret_fd = fd;
    return m;
}

void *tkl_mem_map_cold(const char *dir, size_t size)
{
    int fd;
    void *m = tkl_mem_cold_new(dir, size, &fd);
    if (m)
        (void)close(fd); /* the mapping keeps the file; nothing was written through fd */
    return m;
}

#include "mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* Linux 5.14's advice, for C libraries whose headers predate it */
#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23
#endif

/* below this, a few page faults cost less than the advice */
#define PREFAULT_MIN ((size_t)1 << 20)

#define HUGE_PAGE ((uintptr_t)TKL_MEM_HUGE_PAGE)

void tkl_mem_prefault(void *block, size_t len)
{
    if (!block || len < PREFAULT_MIN)
        return;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
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
    /* each fails with EINVAL where not supported: advice, so the results
     * are ignored. Huge pages only where one fits: the advice splits a
     * mapping it covers only in part, and mremap refuses to grow a split
     * one (EFAULT), so realloc would copy it */
#ifdef MADV_HUGEPAGE
    uintptr_t first_huge = ((uintptr_t)start + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    if (first_huge + HUGE_PAGE <= (uintptr_t)start + span)
        (void)madvise(start, span, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
    (void)madvise(start, span, MADV_POPULATE_WRITE);
#endif
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

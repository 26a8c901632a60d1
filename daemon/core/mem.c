#include "mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* Linux 5.14's advice, for C libraries whose headers predate it */
#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23
#endif

/* below this, a few page faults cost less than the advice */
#define PREFAULT_MIN ((size_t)1 << 20)

void tkl_mem_prefault(void *block, size_t len)
{
    if (!block || len < PREFAULT_MIN)
        return;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    size_t pg = (size_t)page;
    /* the pages the block touches: the first starts lead bytes before it */
    size_t lead = (size_t)((uintptr_t)block % pg);
    char *start = (char *)block - lead;
    size_t span = (lead + len + pg - 1) / pg * pg;
    /* each fails with EINVAL where not supported: advice, so the results
     * are ignored. A range short of the whole mapping would split it, and
     * mremap refuses to grow a split one (EFAULT): realloc would copy it */
#ifdef MADV_HUGEPAGE
    (void)madvise(start, span, MADV_HUGEPAGE);
#endif
#ifdef MADV_POPULATE_WRITE
    (void)madvise(start, span, MADV_POPULATE_WRITE);
#endif
}

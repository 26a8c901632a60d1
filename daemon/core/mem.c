#include "mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* below this, a few page faults cost less than the advice */
#define PREFAULT_MIN ((size_t)1 << 20)

/* The pages wholly inside [p, p + len) advised; each madvise may fail
 * (EINVAL: not supported here), and is advice, so its result is ignored. */
static void prefault(void *p, size_t len, bool huge)
{
    if (!p || len < PREFAULT_MIN)
        return;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    size_t pg = (size_t)page;
    size_t lead = (pg - (size_t)((uintptr_t)p % pg)) % pg;
    if (len <= lead)
        return;
    char *start = (char *)p + lead;
    size_t span = (len - lead) / pg * pg;
    if (!span)
        return;
#ifdef MADV_HUGEPAGE
    if (huge)
        (void)madvise(start, span, MADV_HUGEPAGE);
#else
    (void)huge;
#endif
#ifdef MADV_POPULATE_WRITE
    (void)madvise(start, span, MADV_POPULATE_WRITE);
#endif
}

void tkl_mem_prefault(void *p, size_t len)
{
    prefault(p, len, false);
}

void tkl_mem_prefault_huge(void *p, size_t len)
{
    prefault(p, len, true);
}

#ifndef TICKLER_CORE_MEM_H
#define TICKLER_CORE_MEM_H

#include <stddef.h>

/*
 * Advice to the kernel for [p, p + len), memory about to be written whole:
 * map it now, in one call, rather than a page fault at a time. Advice only:
 * a kernel that does not take it (older than Linux 5.14) leaves the memory
 * as it was, and nothing else changes. Ranges below 1 MiB are left alone.
 */
void tkl_mem_prefault(void *p, size_t len);

/*
 * The same, in transparent huge pages where the kernel has them (a page
 * fault per 2 MiB instead of per 4 KiB). Only for a block that will not
 * grow: the advice splits its mapping, and realloc then copies a block it
 * would otherwise have grown in place.
 */
void tkl_mem_prefault_huge(void *p, size_t len);

#endif

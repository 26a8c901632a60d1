#ifndef TICKLER_CORE_MEM_H
#define TICKLER_CORE_MEM_H

#include <stddef.h>

/*
 * Advice to the kernel for a block malloc, calloc or realloc gave (block,
 * its start; len, the size asked for), about to be written whole: map the
 * pages of its room now, in one call, in huge pages where one fits, rather
 * than a page fault per 4 KiB. The advice covers whole pages, so a large
 * block malloc mapped on its own stays one mapping, which realloc can still
 * grow in place. Advice only: a kernel that does not take it (older than
 * Linux 5.14) leaves the memory as it was; what the memory holds is never
 * changed. Blocks below 1 MiB are left alone.
 */
void tkl_mem_prefault(void *block, size_t len);

#endif

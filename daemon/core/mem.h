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

/* A transparent huge page (x86-64, arm64 with 4 KiB pages). */
#define TKL_MEM_HUGE_PAGE ((size_t)2 << 20)

/*
 * size bytes (a multiple of TKL_MEM_HUGE_PAGE) mapped on their own, apart
 * from malloc's heap, aligned to a huge page and advised to be backed by
 * huge pages as they are first written: for a block that will be written
 * whole, one page fault every 2 MiB instead of every 4 KiB. The pages are
 * zero and not resident until written. Returns NULL when the memory cannot
 * be mapped (or size is not such a multiple). Freed with tkl_mem_unmap.
 */
void *tkl_mem_map_huge(size_t size);

/* Unmaps what tkl_mem_map_huge gave (block, and its size). */
void tkl_mem_unmap(void *block, size_t size);

#endif

#ifndef TICKLER_CORE_MEM_H
#define TICKLER_CORE_MEM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
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

/*
 * A block whose pages are mapped on a thread of its own while its owner
 * writes it from the front: the kernel zeroes the fresh pages on another
 * CPU, ahead of the writer, instead of in the writer's page faults. The
 * thread only gives advice about the block (never reads or writes it), so
 * the owner writes it meanwhile as it likes; but it must call
 * tkl_mem_ahead_end before it reallocates, frees or unmaps the block or
 * hands it on, and must not copy the struct while a thread runs (the
 * thread reads it where it was). A zeroed struct is one with no thread.
 */
struct tkl_mem_ahead {
    pthread_t thread;
    char *from; /* the first page the thread maps */
    char *end;  /* past the last */
    atomic_bool stop;
    bool running;
};

/*
 * tkl_mem_prefault for a block of len bytes whose first done bytes are
 * written already: the huge-page advice is given here, and the pages from
 * done on are mapped, in order, on h's thread, 2 MiB a call. Mapped here
 * instead, as tkl_mem_prefault does, when that is under 1 MiB, when the
 * process may run on one CPU only, or when no thread can be started. h
 * must run no thread (tkl_mem_ahead_end). Blocks below 1 MiB are left
 * alone.
 */
void tkl_mem_prefault_ahead(struct tkl_mem_ahead *h, void *block, size_t len, size_t done);

/* Stops h's thread where it is, and waits for it; nothing when h runs none. */
void tkl_mem_ahead_end(struct tkl_mem_ahead *h);

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

/* Unmaps what tkl_mem_map_huge or tkl_mem_map_cold gave (block, and its
 * size). */
void tkl_mem_unmap(void *block, size_t size);

/*
 * size bytes of cold memory: for data written once and read seldom (a
 * loaded plan's actions and texts), the pages of a file of their own in
 * dir, unnamed (O_TMPFILE) and with its blocks on disk reserved, mapped
 * shared. The kernel writes such pages back to the file and can drop them
 * when memory is short, where private memory stays resident (or goes to
 * swap, if the machine has any); they are read back from the file when
 * next used. The file has no name and no descriptor is kept: it is freed
 * with its mapping (tkl_mem_unmap), or when the process ends, however it
 * ends. The pages are zero. Returns NULL when dir is NULL, cannot hold such
 * a file (it does not exist, its file system has no unnamed files), is in
 * memory itself (tmpfs, ramfs: nothing would be gained), or has not the
 * room: then the caller uses private memory.
 */
void *tkl_mem_map_cold(const char *dir, size_t size);

#endif

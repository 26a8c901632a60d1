#ifndef TICKLER_CORE_MEM_H
#define TICKLER_CORE_MEM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* tkl_mem_prefault_ahead for a block mapped on its own, page-aligned, of
 * len bytes (tkl_mem_cold_grow's): its pages from done on mapped on h's
 * thread (or here), with no huge-page advice. */
void tkl_mem_populate_ahead(struct tkl_mem_ahead *h, void *block, size_t len, size_t done);

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
 * Cold memory: for data written once and read seldom (a loaded plan's
 * actions and texts), the pages of a file of its own in a directory,
 * unnamed (O_TMPFILE), its blocks on disk reserved as it grows, mapped
 * shared. The kernel writes such pages back to the file and can drop them
 * when memory is short, where private memory stays resident (or goes to
 * swap, if the machine has any); they are read back from the file when
 * next used. The file has no name: it is freed with its last mapping and
 * descriptor, or when the process ends, however it ends. Its pages are
 * zero.
 *
 * tkl_mem_cold_open gives such a file in dir: its descriptor, or -EINVAL
 * for a NULL dir, -EMEDIUMTYPE when dir's file system is not ext4 or XFS
 * (where the room reserved is the room a later write of a page takes; not
 * so on a copy-on-write file system, where a full disk would make a write
 * SIGBUS; nor worth it in memory, tmpfs), or the errno of a dir that cannot
 * hold one (it does not exist, is read-only). The caller then uses private
 * memory.
 */
int tkl_mem_cold_open(const char *dir);

/* Cold memory never takes the last 1/TKL_MEM_COLD_SPARE_PART of its file
 * system (at most TKL_MEM_COLD_SPARE_MAX bytes of it): the room the rest
 * of the state directory (the outbox) needs. */
#define TKL_MEM_COLD_SPARE_PART 10u
#define TKL_MEM_COLD_SPARE_MAX  ((uint64_t)1 << 30)

/*
 * block, the first old bytes of the cold file fd mapped (NULL and 0: none
 * yet), grown to its first size bytes (size >= old): the file's new room
 * reserved, and the mapping moved where it cannot grow in place, what it
 * holds kept (mremap: nothing copied). Returns the block, or NULL with
 * errno set when the disk has not the room beside its spare part (ENOSPC),
 * the file system cannot reserve it (fallocate's errno: EOPNOTSUPP for
 * ext2 and ext3) or the mapping cannot be made (then block is as it was).
 */
void *tkl_mem_cold_grow(int fd, void *block, size_t old, size_t size);

/* block, the first old bytes of the cold file fd mapped, cut in place to
 * its first size bytes (0 < size <= old), and the file's room past them
 * given back. Freed with tkl_mem_unmap(block, size). */
void tkl_mem_cold_cut(int fd, void *block, size_t old, size_t size);

/* size bytes of cold memory in a new file of their own in dir, its
 * descriptor into *ret_fd; or NULL with errno set (tkl_mem_cold_open's,
 * tkl_mem_cold_grow's) and *ret_fd -1. */
void *tkl_mem_cold_new(const char *dir, size_t size, int *ret_fd);

/* tkl_mem_cold_new keeping no descriptor (the mapping keeps the file). */
void *tkl_mem_map_cold(const char *dir, size_t size);

#endif

/*
 * CSV text as spreadsheets save it, read with libcsv into records of
 * fields: a UTF-8 byte order mark is skipped; in text that is not UTF-8
 * but has the mark or is mostly UTF-8 (tkl_utf8_mostly), each byte that
 * starts no UTF-8 character is read as Windows-1252, the UTF-8 around it
 * kept, with a warning naming each line that holds one (the first five,
 * then one for the rest), while other text that is not UTF-8 is read
 * whole as Windows-1252 (with a warning naming its first such line); a
 * quoted field may run over several lines; blank records are skipped.
 */
#ifndef TKL_CSV_H
#define TKL_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/diag.h"

/* Called with each record that is not blank: its n fields (borrowed for
 * the call) and the line it starts on. Returns 0, or a negative errno
 * that ends the reading. */
typedef int tkl_csv_record_fn(void *ctx, char *const *fields, size_t n, unsigned line);

/*
 * Reads len bytes of data, the text of the file named file, record by
 * record. Returns 0, the callback's error, -EINVAL when the text is not
 * CSV (NUL bytes, a quote never closed: an error in diags with file and
 * line) or -ENOMEM.
 *
 * A text that ends inside a row, with fewer fields than the row before it
 * and no line break after it, looks read while it was being saved: the row
 * is given as far as it goes, with a warning at its line, and
 * diags->unsettled is set. With may_hold (the caller puts no read that
 * looks so in force, but reads the file again later), so is a text that
 * ends inside a quoted field: its field is read as far as the text goes,
 * where without may_hold that is a quote never closed.
 */
int tkl_csv_read(const char *file, const char *data, size_t len, bool may_hold,
                 tkl_csv_record_fn *fn, void *ctx, struct tkl_diags *diags);

/*
 * The same for the text read from fd, 64 KiB at a time (the file is never
 * held whole); the stray bytes of a text mostly UTF-8 are read as they are
 * read whole, whichever block they are in (a block before them, UTF-8,
 * reads the same). Returns -EILSEQ, having given some records maybe, when
 * the text holds NUL bytes, or is not UTF-8 and, with no byte order mark,
 * mostly not (or fd cannot be read again from its start with pread(2) to
 * tell), for the caller to drop what it read and read the file whole
 * with tkl_csv_read (which reads it as Windows-1252, or refuses it); or a
 * read(2) error.
 */
int tkl_csv_read_fd(const char *file, int fd, bool may_hold, tkl_csv_record_fn *fn, void *ctx,
                    struct tkl_diags *diags);

#endif

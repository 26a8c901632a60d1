/*
 * Members of a ZIP archive held in memory, read with libzip: .xlsx, .ods
 * and .docx plans are ZIP archives of XML parts. Expansion is bounded, so
 * that a small hostile file (a ZIP bomb) cannot exhaust memory: no member
 * may expand past TKL_ZIP_MEMBER_MAX bytes, nor the members read from one
 * archive together past TKL_ZIP_TOTAL_MAX (a member read again counts
 * once: its most expanded in one reading). Sizes are counted as bytes come
 * out of the decompressor, and a member is refused before any of it is
 * expanded when the archive's directory declares it past the limit or,
 * past TKL_ZIP_RATIO_FROM bytes, expanding more than TKL_ZIP_RATIO_MAX
 * times (as no document does), and as soon as it expands past the size
 * declared. Only stored and deflated members are read.
 */
#ifndef TKL_ARCHIVE_H
#define TKL_ARCHIVE_H

#include <libxml/xmlreader.h>
#include <stddef.h>

#include "../core/diag.h"

#define TKL_ZIP_MEMBER_MAX (256u << 20)
#define TKL_ZIP_TOTAL_MAX  (512u << 20)
#define TKL_ZIP_RATIO_MAX  100u
#define TKL_ZIP_RATIO_FROM (1u << 20)

struct tkl_zip;

/*
 * Opens the archive of len bytes at data (borrowed until tkl_zip_close),
 * the text of the file named file, loading libzip and libxml2 when first
 * called (dynlib/). Returns 0, -EINVAL when it is not a ZIP archive or a
 * library cannot be loaded (an error in diags naming file and why) or
 * -ENOMEM.
 */
int tkl_zip_open(const char *file, const void *data, size_t len, struct tkl_zip **ret,
                 struct tkl_diags *diags);

/* Whether the archive has a member of this name. */
int tkl_zip_has(const struct tkl_zip *z, const char *name);

/*
 * The member name, expanded, into *ret (NUL-terminated, *ret_len bytes
 * before the NUL; the caller frees it). Returns 0, -ENOENT when there is no
 * such member (nothing in diags), -EFBIG past a limit, -EINVAL when the
 * member cannot be expanded (both with an error in diags naming file and
 * member) or -ENOMEM.
 */
int tkl_zip_read(struct tkl_zip *z, const char *name, char **ret, size_t *ret_len,
                 struct tkl_diags *diags);

/*
 * A libxml2 streaming reader over the member name, expanded as it is read
 * and under the same limits; it never loads a DTD or reaches the network,
 * and entities are not substituted. The first error of the XML (or a limit met
 * while reading: xmlTextReaderRead then returns -1) is recorded in diags
 * naming file and member. Returns 0, -ENOENT (nothing in diags), -EINVAL
 * or -ENOMEM. The reader must be freed with xmlFreeTextReader before
 * tkl_zip_close.
 */
int tkl_zip_xml(struct tkl_zip *z, const char *name, xmlTextReaderPtr *ret,
                struct tkl_diags *diags);

/* The bytes counted towards TKL_ZIP_TOTAL_MAX so far: the most each
 * member read expanded in one reading. */
size_t tkl_zip_expanded(const struct tkl_zip *z);

/* Whether a reader made by tkl_zip_xml stopped at a limit (-EFBIG) or an
 * XML error (-EINVAL); 0 otherwise. */
int tkl_zip_xml_error(const struct tkl_zip *z);

/*
 * Refuses the document type declaration met in part name: its entities
 * would not be substituted (the reader never loads them), so their text
 * would vanish from the cells; no office program writes one. Adds the
 * error naming the file and part to z's diags, and returns -EINVAL.
 */
int tkl_zip_refuse_doctype(struct tkl_zip *z, const char *name);

/* Accepts NULL. */
void tkl_zip_close(struct tkl_zip *z);

#endif

/*
 * What every notifier says, said once: the wording, grouping and layout of
 * a digest (plain text and HTML), and safe RFC 5322 header text. Linked
 * into the plugins that need it; compiles against include/tickler/ only.
 *
 * Grouping: delivery failures (to the admin route), then overdue, due
 * within 7 days, coming up, and check-ins for actions with no deadline.
 */
#ifndef TKL_DIGEST_H
#define TKL_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tickler/notice.h>

/* A growable string; after a failed allocation oom is set and further
 * writes are ignored, so callers check once at the end. */
struct dg_buf {
    char *data;
    size_t len, cap;
    bool oom;
};

void dg_put(struct dg_buf *b, const char *s, size_t n);
void dg_puts(struct dg_buf *b, const char *s);
void dg_printf(struct dg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum dg_group {
    DG_FAILURES,
    DG_OVERDUE,
    DG_THIS_WEEK,
    DG_COMING_UP,
    DG_CHECKINS,
    DG_GROUPS,
};

enum dg_group dg_group_of(const struct tkl_notice_entry *e);
const char *dg_group_title(enum dg_group g);

/* "Friday 31 March 2023", or "no date". */
void dg_format_day(int32_t day, char *buf, size_t size);

/* "3 days overdue", "due today", "5 days left", "no deadline: ...". */
void dg_when(const struct tkl_notice_entry *e, char *buf, size_t size);

/* The subject line (UTF-8, not yet encoded). */
void dg_subject(const struct tkl_notice *n, char *buf, size_t size);

/*
 * A header line "Name: value" + eol. Control characters in value (CR, LF,
 * NUL, TAB...) become spaces, so nothing can start a new header; text that
 * is not plain ASCII, or that holds "=?" (which a reader would decode), is
 * written as RFC 2047 encoded words, so it shows exactly as written.
 */
void dg_header(struct dg_buf *b, const char *name, const char *value, const char *eol);

/* A mailbox "Display Name <addr>" with the name quoted or encoded as
 * needed and control characters removed. */
void dg_mailbox(struct dg_buf *b, const char *name, const char *address);

/* Control characters become spaces (in place). */
void dg_header_safe(char *s);

/* The plain-text body; lines end in eol and are at most 998 octets. */
void dg_text_body(struct dg_buf *b, const struct tkl_notice *n, const char *footer,
                  const char *plan_url, const char *eol);

/* The HTML body: a complete document, every text from the plan escaped. */
void dg_html_body(struct dg_buf *b, const struct tkl_notice *n, const char *footer,
                  const char *plan_url);

/* The default footer: why the reader received this. */
extern const char dg_default_footer[];

#endif

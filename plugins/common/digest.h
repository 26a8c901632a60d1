/*
 * What every notifier says, said once: the wording, grouping and layout of
 * a digest (plain text and HTML), safe RFC 5322 header text, and the
 * handling of text that must not leak or break a line (secrets, peers'
 * replies). Linked into the plugins that need it; compiles against
 * include/tickler/ only.
 *
 * Grouping: delivery failures (to the admin route), then overdue, due
 * within 7 days, coming up, and check-ins for actions with no deadline;
 * observances; officers' answers (to the report route).
 *
 * Links: an entry's link (entry.link, made by the host at delivery) is a
 * secret of the recipient's, shown under its action and nowhere else:
 * never in a subject, a header or a log line.
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
/* v in decimal, as "%lld" writes it (without vsnprintf's cost). */
void dg_put_int(struct dg_buf *b, long long v);

/*
 * Keeps the last status line of a server's reply: data (size bytes, as a
 * peer sent them) starting with 2 goes to ok, with 4 or 5 to fail; each
 * holds at most cap - 1 bytes, cut at the first line break and made
 * printable ASCII. Other lines are ignored.
 */
void dg_reply_capture(const char *data, size_t size, char *ok, char *fail, size_t cap);

enum dg_group {
    DG_FAILURES,
    DG_OVERDUE,
    DG_THIS_WEEK,
    DG_COMING_UP,
    DG_CHECKINS,
    DG_PROMPTS,   /* observances to prepare for */
    DG_LOOKAHEAD, /* the monthly look-ahead of observances */
    DG_ANSWERS,   /* officers' answers, told to the report route */
    DG_JOINT,     /* another owning team's update of a joint action */
    DG_GROUPS,
};

enum dg_group dg_group_of(const struct tkl_notice_entry *e);

/* The title of group g; the look-ahead's is that of a notice without a
 * calendar title ("Diversity calendar: coming up"). */
const char *dg_group_title(enum dg_group g);

/* The name of the calendar n's observances are from: its calendar_title
 * when the notice's size covers it and it is set, else
 * TKL_CALENDAR_TITLE_DEFAULT. */
const char *dg_calendar_title(const struct tkl_notice *n);

/* Bytes dg_group_heading may write. */
#define DG_HEADING_SIZE 512

/* The heading of group g in notice n: its title, except that the
 * look-ahead's names the calendar (dg_calendar_title) and says whether its
 * observances are coming up, under way, or both ("Diversity calendar:
 * under way"), written into buf (size bytes: DG_HEADING_SIZE holds any
 * heading). Returns the heading, buf or a static string. */
const char *dg_group_heading(const struct tkl_notice *n, enum dg_group g, char *buf, size_t size);

/* The label of a delivery failure's reply (its progress): "Reply" for one
 * notice's (item id "notice-N"), "Latest reply" for a group's, which
 * carries the reply the latest of its notices got. */
const char *dg_reply_label(const struct tkl_notice_entry *e);

/* The label of e's answer: "Answer" for an officer's answer told to the
 * report route, "Update" for another owning team's update
 * (TKL_STAGE_JOINT), else "Latest update". */
const char *dg_answer_label(const struct tkl_notice_entry *e);

/* "Friday 31 March 2023" (tkl_day_long), or "no date". */
void dg_format_day(int32_t day, char *buf, size_t size);

/* "3 days overdue", "due today", "5 days left", "no deadline: ...". */
void dg_when(const struct tkl_notice_entry *e, char *buf, size_t size);

/* " (this reminder is late)" for an entry sent after its time (a first
 * start's catch-up, days the daemon was stopped), " (this prompt is
 * late)" for an observance's, else "": the message, not the action, is
 * late. */
const char *dg_late(const struct tkl_notice_entry *e);

/* The deadline as written and as a date: "Dec 2022 (Saturday 31 December
 * 2022)", with_when adding ", 62 days overdue" and dg_late(e); for an
 * action without a date, its timeframe ("Ongoing", "not set"). */
void dg_deadline(const struct tkl_notice_entry *e, bool with_when, char *buf, size_t size);

/* Overwrites and frees a secret (a password, a token, a URL). Accepts NULL. */
void dg_secret_free(char *s);

/* Anything but printable ASCII becomes a space (in place), so a peer's
 * reply cannot break a log line. */
void dg_printable(char *s);

/* The subject line (UTF-8, not yet encoded). Never holds a link. */
void dg_subject(const struct tkl_notice *n, char *buf, size_t size);

/* The opening paragraph: the notice's intro when it has one, else a
 * sentence that fits its entries ("These items need your attention."). */
const char *dg_intro(const struct tkl_notice *n);

/* Whether any entry of n carries a link. */
bool dg_has_links(const struct tkl_notice *n);

/* What a message with links says of them (after the footer). */
extern const char dg_links_note[];

/* The label of an action's link. */
extern const char dg_link_label[];

/*
 * The tokens of n's links (each link's text after its last '/'), copied,
 * in a NULL-terminated array, for a notifier to make sure a peer's answer
 * that repeats one is never kept or logged. *ret is NULL when n has no
 * link. Returns 0 or -ENOMEM. Free with dg_secrets_free.
 */
int dg_link_tokens(const struct tkl_notice *n, char ***ret);

/* Whether text holds one of tokens (NULL-terminated; NULL: none). */
bool dg_holds_token(const char *text, char *const *tokens);

/* Wipes and frees each string of a NULL-terminated array, and the array.
 * Accepts NULL. */
void dg_secrets_free(char **v);

/*
 * A header line "Name: value" + eol. Control characters in value (CR, LF,
 * NUL, TAB...) become spaces, so nothing can start a new header; text that
 * is not plain ASCII, or that holds "=?" (which a reader would decode), is
 * written as RFC 2047 encoded words, so it shows exactly as written, folded
 * (eol and a space) between words so that no line exceeds 76 characters
 * with a name of up to 15.
 */
void dg_header(struct dg_buf *b, const char *name, const char *value, const char *eol);

/*
 * s as a quoted-printable body (RFC 2045 6.7): each "\n" of s becomes eol,
 * every other byte that is not printable ASCII, '=' and a space or tab
 * ending a line become =XX, and longer lines are broken with soft line
 * breaks so that none exceeds 76 characters. Its output never holds "=_".
 */
void dg_put_qp(struct dg_buf *b, const char *s, const char *eol);

/*
 * s as a JSON string, quotes included, in ASCII: '"' and '\\' escaped,
 * control characters as \b \f \n \r \t or \u00XX, every character past
 * ASCII as \uXXXX (a surrogate pair past U+FFFF), hex in capitals: the
 * bytes jansson's json_dumps(..., JSON_ENSURE_ASCII) writes, without
 * building a tree. NULL is written as null. Each byte of s that is not
 * part of valid UTF-8 (an overlong form, a surrogate, past U+10FFFF, a
 * sequence cut short) is written as \uFFFD, as jansson writes
 * tkl_utf8_repaired (<tickler/text.h>): a text never stops the JSON it is in.
 */
void dg_put_json_string(struct dg_buf *b, const char *s);

/*
 * Why a is not an address a message can carry, or NULL when it is one:
 * something@domain, at most 254 bytes, with no spaces, controls, brackets,
 * quotes, commas or other specials (so it cannot add a recipient, or a
 * header, and needs no quoting in To: or RCPT TO), its domain a host name
 * as RFC 5321 writes one: labels of letters, digits and hyphens split by
 * dots, none empty, none starting or ending with a hyphen (a label of an
 * internationalised domain may hold UTF-8; an address literal, [192.0.2.1],
 * is refused with the brackets).
 */
const char *dg_address_problem(const char *a);

/*
 * Splits a configured sender, "Name <addr>", "\"Name\" <addr>" or "addr",
 * into a new name ("" when none) and address. Returns 0, -EINVAL (not of
 * that form, or an address dg_address_problem refuses; nothing is set) or
 * -ENOMEM.
 */
int dg_split_mailbox(const char *from, char **ret_name, char **ret_addr);

/* A mailbox "Display Name <addr>" with the name quoted or encoded as
 * needed (encoded words folded with eol, as dg_header's) and control
 * characters removed. */
void dg_mailbox(struct dg_buf *b, const char *name, const char *address, const char *eol);

/* Control characters become spaces (in place). */
void dg_header_safe(char *s);

/* Whether s is a link a reader can follow from a message: http:// or
 * https://, a host, and no space or control character. */
bool dg_web_url_ok(const char *s);

/*
 * Templates. Text with {{name}} placeholders: team, recipient, count,
 * overdue, date, summary (the default subject), subject, intro, actions
 * (the grouped list, laid out for the mode), plan_url, plan_link, footer,
 * first_title. In DG_HTML every value from the plan or the config is
 * HTML-escaped; in DG_TEXT lines end in eol and stay under 998 octets; in
 * DG_SUBJECT line breaks become spaces (dg_header neutralises the rest).
 */
enum dg_mode {
    DG_SUBJECT,
    DG_TEXT,
    DG_HTML,
};

struct dg_render_opts {
    const char *footer;   /* NULL: dg_default_footer_of */
    const char *plan_url; /* or NULL */
    int64_t now;          /* send instant, for {{date}} */
};

extern const char dg_default_subject[], dg_default_text[], dg_default_html[];

/* 0, or -EINVAL with the line in *ret_line and why in err. */
int dg_template_check(const char *tmpl, unsigned *ret_line, char *err, size_t size);

/* Renders tmpl (NULL: the default of the mode) for notice n. */
void dg_render(struct dg_buf *b, const char *tmpl, const struct tkl_notice *n,
               const struct dg_render_opts *o, enum dg_mode mode, const char *eol);

/* The default footers: why the reader received this, and whom to tell of
 * an action that is not the team's: the plan's owner, or in a message
 * with links (dg_has_links) the link's page; of a message of observances
 * only, whom to tell to change the prompts; of one of officers' answers,
 * failure reports or an update request's summary only (the report
 * route's), whom to tell to change that. */
extern const char dg_default_footer[];
extern const char dg_default_footer_links[];
extern const char dg_default_footer_calendar[];
extern const char dg_default_footer_reports[];

/* The default footer of n, of those above. */
const char *dg_default_footer_of(const struct tkl_notice *n);

#endif

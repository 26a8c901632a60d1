/*
 * The status of an action, from its Status cell: the configured rules
 * (store.status) first, then the wording of councils' plans and progress
 * reports. Texts are compared as headings are (tkl_heading_key).
 */
#ifndef TKL_STATUS_H
#define TKL_STATUS_H

#include <stdbool.h>

struct tkl_store_opts;

enum tkl_status {
    TKL_STATUS_ACTIVE = 0,
    TKL_STATUS_COMPLETE = 1,
    TKL_STATUS_CLOSED = 2,
};

struct tkl_status_rule {
    char *text; /* status text, compared case- and space-insensitively */
    enum tkl_status status;
};

/* "active", "complete" or "closed". */
const char *tkl_status_name(enum tkl_status s);

/*
 * Reads a status text with the configured rules first, then the built-in
 * wording (see tickler.conf(5)); a longer text is read by its beginning.
 * *ret_known is false when neither knew the text (then the action is
 * treated as active).
 */
enum tkl_status tkl_status_parse(const struct tkl_store_opts *opts, const char *text,
                                 bool *ret_known);

#endif

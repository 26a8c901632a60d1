/*
 * The updates table of the state database: officers' updates
 * (daemon/update/update.h), append-only. Nothing here changes or deletes
 * a row.
 */
#ifndef TKL_OUTBOX_UPDATES_H
#define TKL_OUTBOX_UPDATES_H

#include <stdbool.h>
#include <stdint.h>

#include "../update/update.h"
#include "outbox.h"

/*
 * Records u (its id is ignored) after tkl_update_check. Recording is
 * idempotent: an update equal to one already recorded in what was done
 * (action, recipient, kind, link issue time, until_day, rag, note,
 * suggested team) against the same plan (what tkl_update_holds compares:
 * the deadline's day, the status and, for "not ours", the owners), with
 * nothing else said through the link since, is not written again; then
 * *ret_new is false and *ret_id is the earlier row's. Said again once the
 * plan has changed, or after the link said something else (green, amber,
 * green again), it is a new update. The write
 * joins the open group, as the outbox's others do (tkl_outbox_set_grouped).
 * Returns 0, -EINVAL (tkl_update_check refused it), -EBUSY or another
 * negative errno.
 */
int tkl_outbox_add_update(struct tkl_outbox *o, const struct tkl_update *u, int64_t *ret_id,
                          bool *ret_new);

/*
 * How many updates were recorded through u's link (u's action by u's
 * recipient, with a link issued at u->link_issued_at), not counting one
 * that u would be found to be (tkl_outbox_add_update), into *ret: the
 * count a limit on the link
 * compares, so that u pressed again once the limit is reached is still
 * found recorded already. Returns 0 or a negative errno (-EBUSY: try
 * again).
 */
int tkl_outbox_link_updates(struct tkl_outbox *o, const struct tkl_update *u, int64_t *ret);

/*
 * The updates recorded in [since, until) (0 and INT64_MAX: all), of
 * action_id only unless it is NULL, oldest first. Returns 0 with *ret
 * filled (free with tkl_updates_free), or a negative errno (then *ret is
 * untouched).
 */
int tkl_outbox_updates(struct tkl_outbox *o, const char *action_id, int64_t since, int64_t until,
                       struct tkl_updates *ret);

/*
 * A number that moves on whenever an update is recorded (through this
 * connection or another): the largest row id. Returns 0 or a negative
 * errno.
 */
int tkl_outbox_updates_version(struct tkl_outbox *o, int64_t *ret);

#endif

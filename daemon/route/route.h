/*
 * Routing: reminders that fall due together become one digest per
 * (channel, recipient). A team's recipients come from the team directory;
 * an overdue nag past the escalation point also goes to the escalation
 * team (the owning team's escalate_to, else schedule.escalate_to).
 */
#ifndef TKL_ROUTE_H
#define TKL_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include <tickler/notice.h>

#include "../schedule/scheduler.h"
#include "../team/team.h"

struct tkl_digest {
    char *channel;
    char *recipient;
    const struct tkl_team *team; /* first team that routed here */
    int64_t at;
    struct tkl_notice_entry *entries;
    char (*stage_keys)[32];
    size_t n;
    size_t cap;
};

struct tkl_route_batch {
    struct tkl_digest *digests;
    size_t n;
    size_t cap;
};

/* The digest entry of action a at stage, seen from today; its strings
 * point into the action. */
void tkl_route_entry(const struct tkl_action *a, enum tkl_stage stage, int32_t today, bool late,
                     struct tkl_notice_entry *ret);

/*
 * Adds one due reminder of team index due->team of teams to the batch; an
 * escalation also goes to the team's escalate_to, else to escalate_to (a
 * team id, or NULL). Strings in the entries point into the action, which
 * must outlive the batch. *ret_routed gets how many recipients it reached
 * (0: the team has none on any channel). Returns 0 or -ENOMEM.
 */
int tkl_route_add(struct tkl_route_batch *b, const struct tkl_team_dir *teams,
                  const char *escalate_to, const struct tkl_due *due, int32_t today,
                  size_t *ret_routed);

/*
 * Finishes each digest: an action that reached one recipient through two
 * teams is listed once; entries are ordered overdue first, then by
 * deadline, check-ins last, ties by action id. Returns 0 or -ENOMEM (the
 * digests are then whole but may be unordered).
 */
int tkl_route_sort(struct tkl_route_batch *b);

/* Fills a notice that views digest d (valid while the batch is). */
void tkl_route_notice(const struct tkl_digest *d, struct tkl_notice *ret);

void tkl_route_batch_free(struct tkl_route_batch *b);

#endif

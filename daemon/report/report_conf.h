/*
 * The report's slice of the configuration, report { ... }: when update
 * requests go to the owning teams, how long they have to answer, and the
 * council's wording of each status in the progress report.
 */
#ifndef TKL_REPORT_CONF_H
#define TKL_REPORT_CONF_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/confread.h"

/* A day of the year on which update requests go: month 1..12, day 1..31
 * (29 February goes on 28 February in other years). */
struct tkl_request_date {
    int month;
    int day;
};

/* The three statuses of the council's progress report, and their words. */
enum tkl_report_status {
    TKL_REPORT_COMPLETE = 0, /* done, or on schedule to be */
    TKL_REPORT_ONGOING = 1,  /* stays in the plan */
    TKL_REPORT_INCOMPLETE = 2,
};
#define TKL_REPORT_N_STATUS 3

struct tkl_report_conf {
    struct tkl_request_date *request_updates; /* none: no update requests */
    size_t n_request_updates;
    int respond_within_days;  /* the "by" date of a request; default 21 */
    int follow_up_after_days; /* the one follow-up; default 14, < respond_within_days */
    /* the words of each status; defaults from the council's 2022 report:
     * "Complete/on schedule to deliver", "Ongoing/remain included in
     * action plan", "Incomplete/cannot be carried forward" */
    char *status_words[TKL_REPORT_N_STATUS];
    char *title;   /* the report's heading; default "Equality action plan: progress report" */
    unsigned line; /* of the group, 0 without one */
};

/* The defaults of a configuration without a report group. Returns 0 or
 * -ENOMEM. */
int tkl_report_conf_init(struct tkl_report_conf *r);

/*
 * Reads the report group g (NULL: none, the defaults stay) over *r:
 * request_updates = [ "03-01", "09-01" ] (MM-DD), respond_within_days,
 * follow_up_after_days, status_words = { complete = "..."; ongoing =
 * "..."; incomplete = "..."; }, title. Returns 0, -EINVAL (problems in
 * x->diags) or -ENOMEM; r holds what was read either way.
 */
int tkl_report_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                         struct tkl_report_conf *r);

void tkl_report_conf_free(struct tkl_report_conf *r);

#endif

#include "report_conf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_keys[TKL_REPORT_N_STATUS] = {"complete", "ongoing", "incomplete"};
static const char *const status_defaults[TKL_REPORT_N_STATUS] = {
    "Complete/on schedule to deliver", "Ongoing/remain included in action plan",
    "Incomplete/cannot be carried forward"};
static const char default_title[] = "Equality action plan: progress report";

int tkl_report_conf_init(struct tkl_report_conf *r)
{
    struct tkl_report_conf d = {.respond_within_days = 21, .follow_up_after_days = 14};
    bool ok = (d.title = strdup(default_title)) != NULL;
    for (int i = 0; ok && i < TKL_REPORT_N_STATUS; i++)
        ok = (d.status_words[i] = strdup(status_defaults[i])) != NULL;
    if (!ok) {
        tkl_report_conf_free(&d);
        return -ENOMEM;
    }
    *r = d;
    return 0;
}

/* "MM-DD" as a day of the year (29 February allowed). Returns whether it
 * is one. */
static bool parse_month_day(const char *s, struct tkl_request_date *ret)
{
    static const int days_in[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    for (int i = 0; i < 5; i++)
        if (i == 2 ? s[i] != '-' : !(s[i] >= '0' && s[i] <= '9'))
            return false;
    if (s[5])
        return false;
    int m = (s[0] - '0') * 10 + (s[1] - '0'), d = (s[3] - '0') * 10 + (s[4] - '0');
    if (m < 1 || m > 12 || d < 1 || d > days_in[m - 1])
        return false;
    *ret = (struct tkl_request_date){.month = m, .day = d};
    return true;
}

/* report.request_updates, when there, over r's. Returns 0, -EINVAL or
 * -ENOMEM. */
static int read_dates(const struct tkl_confread *x, const config_setting_t *g,
                      struct tkl_report_conf *r)
{
    const config_setting_t *s = config_setting_get_member(g, "request_updates");
    char **v = NULL;
    size_t n = 0;
    if (!s)
        return 0;
    int rr = tkl_conf_get_strings(x, s, "request_updates", &v, &n);
    if (rr < 0)
        return rr;
    struct tkl_request_date *dates = calloc(n ? n : 1, sizeof(*dates));
    if (!dates) {
        tkl_strv_free(v, n);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (!parse_month_day(v[i], &dates[i])) {
            tkl_conf_err_at(x, e,
                            "request_updates: \"%s\" is not a day of the year as MM-DD "
                            "(\"03-01\" is 1 March)",
                            v[i]);
            rr = -EINVAL;
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (dates[j].month == dates[i].month && dates[j].day == dates[i].day) {
                tkl_conf_err_at(x, e, "request_updates: \"%s\" is given twice", v[i]);
                rr = -EINVAL;
            }
    }
    tkl_strv_free(v, n);
    free(r->request_updates);
    r->request_updates = dates;
    r->n_request_updates = n;
    return rr;
}

/* report.status_words { complete; ongoing; incomplete; }. Returns 0,
 * -EINVAL or -ENOMEM. */
static int read_words(const struct tkl_confread *x, const config_setting_t *g,
                      struct tkl_report_conf *r)
{
    static const char *const keys[] = {"complete", "ongoing", "incomplete", NULL};
    static const char *const where[TKL_REPORT_N_STATUS] = {"report.status_words.complete",
                                                           "report.status_words.ongoing",
                                                           "report.status_words.incomplete"};
    const config_setting_t *w = config_setting_get_member(g, "status_words");
    int res = 0;
    if (!w)
        return 0;
    if (!tkl_conf_check_keys(x, w, "report.status_words", keys))
        res = -EINVAL;
    if (!config_setting_is_group(w))
        return -EINVAL;
    for (int i = 0; i < TKL_REPORT_N_STATUS; i++) {
        int rr = tkl_conf_get_text(x, w, status_keys[i], where[i], 0, &r->status_words[i]);
        if (rr == -ENOMEM)
            return rr;
        if (rr < 0)
            res = rr;
    }
    return res;
}

/* respond_within_days and follow_up_after_days, the follow-up before the
 * "by" date. Without follow_up_after_days, a respond_within_days given
 * moves it to two thirds of the time (14 of 21). Returns 0 or -EINVAL. */
static int read_days(const struct tkl_confread *x, const config_setting_t *g,
                     struct tkl_report_conf *r)
{
    int res = 0, within = r->respond_within_days, after = r->follow_up_after_days;
    int got_within = tkl_conf_get_int(x, g, "respond_within_days", 2, 90, &within);
    int got_after = tkl_conf_get_int(x, g, "follow_up_after_days", 1, 89, &after);
    if (got_within < 0 || got_after < 0)
        res = -EINVAL;
    if (got_within > 0 && got_after == 0)
        after = within * 2 / 3;
    if (got_after > 0 && after >= within) {
        tkl_conf_err_at(x, config_setting_get_member(g, "follow_up_after_days"),
                        "follow_up_after_days (%d) must be less than respond_within_days (%d): "
                        "the follow-up goes before the answers are due",
                        after, within);
        res = -EINVAL;
    }
    if (res == 0) {
        r->respond_within_days = within;
        r->follow_up_after_days = after;
    }
    return res;
}

int tkl_report_conf_read(const struct tkl_confread *x, const config_setting_t *g,
                         struct tkl_report_conf *r)
{
    static const char *const keys[] = {"request_updates",
                                       "respond_within_days",
                                       "follow_up_after_days",
                                       "status_words",
                                       "title",
                                       NULL};
    int res = 0, rr;
    if (!g)
        return 0;
    r->line = config_setting_source_line(g);
    if (!tkl_conf_check_keys(x, g, "report", keys))
        res = -EINVAL;
    if (!config_setting_is_group(g))
        return -EINVAL;
    if ((rr = read_dates(x, g, r)) == -ENOMEM)
        return rr;
    if (rr < 0)
        res = rr;
    if (read_days(x, g, r) < 0)
        res = -EINVAL;
    if ((rr = read_words(x, g, r)) == -ENOMEM)
        return rr;
    if (rr < 0)
        res = rr;
    if ((rr = tkl_conf_get_text(x, g, "title", "report.title", 0, &r->title)) == -ENOMEM)
        return rr;
    if (rr < 0)
        res = rr;
    return res;
}

void tkl_report_conf_free(struct tkl_report_conf *r)
{
    free(r->request_updates);
    r->request_updates = NULL;
    r->n_request_updates = 0;
    for (int i = 0; i < TKL_REPORT_N_STATUS; i++) {
        free(r->status_words[i]);
        r->status_words[i] = NULL;
    }
    free(r->title);
    r->title = NULL;
}

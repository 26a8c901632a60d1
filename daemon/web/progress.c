/*
 * /report: the progress report (daemon/report/report.h) of the plan in
 * force and the updates officers recorded, the same bytes `tickler report`
 * prints for the same period and day. Query: from and to (YYYY-MM-DD, the
 * period's first and last day; default the twelve months to today) and
 * format (html, docx, csv or md; default html); anything else is answered
 * 400. The Word document and the CSV come as attachments, for Word and
 * Excel. The body depends only on the
 * plan in force, the updates, the period, the format and today, so its
 * entity tag (a hash of the body) moves exactly when one of them does.
 *
 * The page names who recorded each note (the recipient its link was
 * issued to), as the report does; no other address and no secret.
 */
#include "web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <tickler/day.h>

#include "../core/log.h"
#include "../report/report.h"
#include "../report/word.h"

#define CSV_DISPOSITION  "attachment; filename=\"progress-report.csv\""
#define MD_DISPOSITION   "inline; filename=\"progress-report.md\""
#define DOCX_DISPOSITION "attachment; filename=\"progress-report.docx\""

/* The report's words and title: the configuration's report group. */
static const struct tkl_report_conf *report_conf(const struct tkl_service *s)
{
    return &s->rt->cfg->report;
}

int tkl_web_report(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp)
{
    if (!s->rt || !s->rt->store)
        return -EAGAIN;
    const struct tkl_request *q = req->req;
    const char *fmt = tkl_request_get(q, "format", 0);
    enum tkl_report_format f = TKL_REPORT_HTML;
    int32_t from, to, today = tkl_local_day(req->now);
    if (tkl_request_get(q, "from", 1) || tkl_request_get(q, "to", 1) ||
        tkl_request_get(q, "format", 1) || (fmt && tkl_report_format_parse(fmt, &f) < 0))
        return tkl_http_text(resp, 400, "format is html, docx, csv or md, given once.");
    if (tkl_report_period(tkl_request_get(q, "from", 0), tkl_request_get(q, "to", 0), today, &from,
                          &to) < 0)
        return tkl_http_text(resp, 400,
                             "from and to are days (YYYY-MM-DD), to not before from, "
                             "at most 50 years apart.");
    char why[512];
    if (f == TKL_REPORT_WORD && tkl_report_word_load(why, sizeof(why)) < 0) {
        log_error("/report: %s", why);
        return tkl_http_text(resp, 503,
                             "This server cannot write Word documents (see its log); the "
                             "report is at /report as a web page, and for Excel.");
    }
    if (s->answers_stale) { /* a report without them would say no one answered */
        resp->retry_after = 1;
        return tkl_http_text(resp, 503,
                             "The officers' updates are being read; try again in a moment.");
    }
    struct tkl_report r;
    int err =
        tkl_report_build(s->rt->store, &s->answers.updates, report_conf(s), from, to, today, &r);
    if (err < 0)
        return err;
    char *body = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&body, &len);
    if (!out) {
        tkl_report_free(&r);
        return -ENOMEM;
    }
    err = tkl_report_write(out, &r, f);
    tkl_report_free(&r);
    if (fclose(out) != 0 && err == 0)
        err = -ENOMEM;
    if (err < 0) {
        free(body);
        return err;
    }
    tkl_http_take(resp, tkl_report_format_type(f), body, len);
    tkl_http_etag_body(resp);
    /* officers' names and notes: kept by no cache, indexed by no one */
    resp->cache = "private, no-store";
    resp->noindex = true;
    const char *disposition = f == TKL_REPORT_CSV        ? CSV_DISPOSITION
                              : f == TKL_REPORT_MARKDOWN ? MD_DISPOSITION
                              : f == TKL_REPORT_WORD     ? DOCX_DISPOSITION
                                                         : "";
    snprintf(resp->disposition, sizeof(resp->disposition), "%s", disposition);
    return 0;
}

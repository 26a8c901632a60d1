/*
 * The pages of ticklerd's web face, one file each, all reading the running
 * service: feeds.c (/calendar.ics, /calendar/<category>.ics,
 * /calendar.html), overview.c (/status, /status.json), operator.c (/outbox),
 * exposition.c (/metrics), progress.c (/report), act.c (/a/<token>, a
 * signed link's page), web.c (/ and /healthz, and the dispatch).
 *
 * Every page escapes the plan's text for its format, shows no secret
 * (passwords, tokens, webhook URLs; a recipient address only on /outbox,
 * on /status as the last reminder's recipient and as who gave an officer's
 * update, and as who recorded a note on /report), runs on the loop thread
 * and does not block beyond one read of the outbox.
 */
#ifndef TKL_WEB_H
#define TKL_WEB_H

#include "../http/http.h"
#include "../service/service.h"

/* A page: fills resp for req. Returns 0 (resp holds the answer, any
 * status) or a negative errno (the server answers 500 or 503). */
typedef int (*tkl_web_page)(struct tkl_service *s, const struct tkl_http_request *req,
                            struct tkl_http_response *resp);

/* Answers req from the page of its route: the server's handler. */
int tkl_web_handle(void *service, const struct tkl_http_request *req,
                   struct tkl_http_response *resp);

int tkl_web_calendar_ics(struct tkl_service *s, const struct tkl_http_request *req,
                         struct tkl_http_response *resp);
int tkl_web_calendar_html(struct tkl_service *s, const struct tkl_http_request *req,
                          struct tkl_http_response *resp);
int tkl_web_status(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp);
int tkl_web_outbox(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp);
int tkl_web_metrics(struct tkl_service *s, const struct tkl_http_request *req,
                    struct tkl_http_response *resp);
int tkl_web_health(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp);
int tkl_web_report(struct tkl_service *s, const struct tkl_http_request *req,
                   struct tkl_http_response *resp);
int tkl_web_index(struct tkl_service *s, const struct tkl_http_request *req,
                  struct tkl_http_response *resp);
/* The outbox every node shares (the PostgreSQL state in force) as last read
 * (operator.c), with when in *ret_read_at; a new read is queued when that
 * is older than a few seconds. NULL: none read yet, or another backend. */
const struct tkl_state_view *tkl_web_outbox_view(struct tkl_service *s, int64_t now,
                                                 int64_t *ret_read_at);

/* Every item's latest notice in the outbox every node shares
 * (state.backend "postgresql") as last read (operator.c), by item id;
 * *ret_version moves on with every read taken. A new read is queued
 * when that is older than a few seconds. NULL: none read yet, or another
 * backend. */
const struct tkl_item_notices *tkl_web_last_notices(struct tkl_service *s, int64_t now,
                                                    uint64_t *ret_version);

/* Text the pages share: s, or alt when s is NULL or empty. */
const char *tkl_web_text_or(const char *s, const char *alt);

/* Writes instant t as "30 Jun 2023 09:00", local time, into buf (or
 * "@<seconds>" for an instant without a local time) and returns buf. */
const char *tkl_web_when(int64_t t, char *buf, size_t size);

/* /a/<token>: a signed link's page (act.c); GET shows, POST acts. */
int tkl_web_act(struct tkl_service *s, const struct tkl_http_request *req,
                struct tkl_http_response *resp);

#endif

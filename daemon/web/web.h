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

#include "../export/export.h"
#include "../http/http.h"
#include "../service/service.h"

/* A page: fills resp for req. Returns 0 (resp holds the answer, any
 * status) or a negative errno (the server answers 500 or 503). */
typedef int (*tkl_web_page)(struct tkl_service *s, const struct tkl_http_request *req,
                            struct tkl_http_response *resp);

/* Answers req from the page of its route: the server's handler. */
int tkl_web_handle(void *service, const struct tkl_http_request *req,
                   struct tkl_http_response *resp);

/* A calendar feed of one category (/calendar/<slug>.ics): its name as the
 * palette or the events name it, and how many events it holds. */
struct tkl_feed_category {
    char slug[TKL_CATEGORY_SLUG_SIZE];
    const char *name; /* the palette's, or the first event's category */
    size_t count;
};

/* The observances the calendar feeds serve, from the running sources:
 * the window around now's local day (feeds.c). Returns 0 or a negative
 * errno (-EAGAIN before the first load). */
int tkl_web_feed_events(struct tkl_service *s, int64_t now, struct tkl_event_list *ret);

/*
 * The categories with a feed of l's events, in the order pages list them:
 * the palette's in its order (each, with or without events), then the
 * others (a local calendar's) as the events first name them. *ret (free()
 * it; its names are l's or static) and *ret_n. Returns 0 or -ENOMEM.
 */
int tkl_feed_categories(const struct tkl_event_list *l, struct tkl_feed_category **ret,
                        size_t *ret_n);

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

/* A notice's stage key in words ("lead-7": "7 days before the deadline",
 * "overdue-1": "overdue, reminder 1"), in buf when it needs one (len 80
 * holds them all). NULL key: "a reminder". */
const char *tkl_web_stage_words(const char *key, char *buf, size_t len);

/* What tickler reads a plan status as, for the words after it on a page:
 * "read as not yet done", "read as complete", "read as closed" (the plan's
 * alone: what officers said is the standing's). */
const char *tkl_web_status_reading(enum tkl_status status);

/* Text the pages share: s, or alt when s is NULL or empty. */
const char *tkl_web_text_or(const char *s, const char *alt);

/* Writes instant t as "30 Jun 2023 09:00", local time, into buf (or
 * "@<seconds>" for an instant without a local time) and returns buf. */
const char *tkl_web_when(int64_t t, char *buf, size_t size);

/* Instant t as a person reads a time to come, local:
 * "Tuesday 15 December 2026 at 09:00". buf holds TKL_WEB_WHEN_LONG_SIZE.
 * Returns buf. */
#define TKL_WEB_WHEN_LONG_SIZE (TKL_DAY_LONG_SIZE + 12)
const char *tkl_web_when_long(int64_t t, char *buf, size_t size);

/* /a/<token>: a signed link's page (act.c); GET shows, POST acts. */
int tkl_web_act(struct tkl_service *s, const struct tkl_http_request *req,
                struct tkl_http_response *resp);

#endif

/*
 * The data that crosses the plugin ABI: dated items from sources, notices to
 * notifiers, and delivery results back. See <tickler/plugin.h> for the rules
 * on sizes, ownership and threading that apply to every structure here.
 *
 * Dates are civil days counted from 1970-01-01 (day 0), with no time zone:
 * a deadline is a calendar date, not an instant. TKL_NO_DAY marks "no date".
 */
#ifndef TICKLER_NOTICE_H
#define TICKLER_NOTICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TKL_NO_DAY INT32_MIN

/* What a deadline is, once the store has read it. */
enum tkl_deadline_kind {
    TKL_DEADLINE_DATE = 1,    /* a due date */
    TKL_DEADLINE_REVIEW = 2,  /* a review date ("Review Jan 2023") */
    TKL_DEADLINE_ONGOING = 3, /* no deadline; check-ins instead */
    TKL_DEADLINE_UNDATED = 4, /* empty, TBC, or text tickler could not read */
    TKL_DEADLINE_EVENT = 5,   /* an observance from a calendar source */
};

/* Why a notice goes out. */
enum tkl_stage {
    TKL_STAGE_LEAD = 1,      /* `lead_days` before the deadline */
    TKL_STAGE_DUE = 2,       /* on the day */
    TKL_STAGE_OVERDUE = 3,   /* a nag, `overdue_weeks` after the deadline */
    TKL_STAGE_CHECKIN = 4,   /* periodic check-in on an ongoing action */
    TKL_STAGE_PROMPT = 5,    /* ahead of a calendar observance */
    TKL_STAGE_REPORT = 6,    /* a delivery failure, told to the admin route */
    TKL_STAGE_LOOKAHEAD = 7, /* monthly list of the observances ahead */
    TKL_STAGE_REQUEST = 8,   /* an update request: progress asked for by a date */
    TKL_STAGE_ANSWER = 9,    /* what an officer answered, told to the report route */
    TKL_STAGE_JOINT = 10,    /* what one owning team of a joint action did, told to the */
                             /* others: see below */
};

/*
 * An entry of stage TKL_STAGE_JOINT tells the recipients of an action's
 * other owning teams that one of them marked it complete, snoozed it, or
 * undid either (reopened it, resumed its reminders), which stops, holds or
 * lets go their reminders too. Its answer's first line is the headline
 * ("Marked complete by Human Resources", "Snoozed by Human Resources until
 * Monday 10 July 2023", "Reopened by ...", "Reminders resumed by ..."),
 * the next line who and when ("hr@example.org, Monday 5 June 2023"), then
 * any comment ("Comment: ..."); the notice's intro says what it means for
 * the team; its link is the recipient's own for the action.
 *
 * Stages are only ever added. A plugin built before a stage was added sees
 * a value it does not name (tkl_stage_name says "unknown"), and shows such
 * an entry as it shows any other: its title, answer, intro and link.
 */

/* One dated item a source plugin emits. Its texts are UTF-8; a text that
 * is not is read as Windows-1252. */
struct tkl_item {
    uint32_t size;  /* sizeof(struct tkl_item) in the emitter */
    const char *id; /* stable across reloads */
    const char *title;
    const char *description;
    const char *category;
    int32_t start_day;        /* first day of this occurrence */
    int32_t end_day;          /* last day (== start_day for one day) */
    const char *const *teams; /* team ids or names to prompt besides the */
    size_t n_teams;           /* source's default route */
    const char *url;          /* more about it (resources), or NULL */
    void *reserved[3];        /* never read: a plugin may leave anything here */
    /* Where the item is written, for the host's warnings about it
     * ("file:line: warning: ..."): the path as the source's own messages
     * name it, or NULL (the host then names the source); and the line
     * where the item begins, 1 for the first, or 0 when unknown. Appended
     * after the reserved pointers, which an item of a plugin built before
     * them covers with its size, and read only when size covers them
     * (TKL_HAS_MEMBER). */
    const char *file;
    uint32_t line;
};

/* One action or observance inside a notice. */
struct tkl_notice_entry {
    uint32_t size;
    const char *item_id;
    const char *title;
    const char *commitment;    /* the plan's commitment, or NULL */
    const char *owners;        /* the Responsibility cell as written */
    const char *deadline_text; /* the deadline as written */
    const char *status;        /* the status as written */
    const char *progress;      /* latest progress note, or NULL */
    int32_t deadline_day;      /* TKL_NO_DAY when there is none */
    enum tkl_deadline_kind kind;
    enum tkl_stage stage;
    int32_t days_left; /* deadline - send day; negative if overdue */
    int late;          /* sent after its time (catch-up) */
    /* Observances (kind TKL_DEADLINE_EVENT): deadline_day is the first
     * day, deadline_text the days as words, commitment the description. */
    const char *category; /* protected characteristic, or NULL */
    const char *url;      /* resources, or NULL */
    /* Where the recipient acts on this action (public_url and a signed
     * token: mark complete, snooze, report progress), or NULL. A secret of
     * the recipient's: never logged, never in a reply. */
    const char *link;
    /* What officers' updates say of the action, plain text, or NULL: the
     * latest progress note's RAG status and who gave it, or that the plan
     * has since overruled an update ("the plan wins"). */
    const char *answer;
};

/* Whether e is an update request's own line (the summary to the report
 * route when every team asked answered for every action), not an action:
 * its item_id is the request's key ("request:YYYY-MM-DD"), and it has no
 * deadline, action id or link to show. Header-only: no ABI change. */
static inline bool tkl_entry_is_request_line(const struct tkl_notice_entry *e)
{
    return e->stage == TKL_STAGE_REQUEST && e->item_id && strncmp(e->item_id, "request:", 8) == 0;
}

/*
 * The answer the summary of an update request (to the report route) gives
 * an action no team answered since the request: this text, alone, or
 * followed by ". Before the request: " and what officers said last.
 */
#define TKL_NO_ANSWER_YET "No answer yet"

/* Whether e is such an action of a summary. Header-only: no ABI change. */
static inline bool tkl_entry_is_unanswered(const struct tkl_notice_entry *e)
{
    return e->stage == TKL_STAGE_REQUEST && e->answer &&
           strncmp(e->answer, TKL_NO_ANSWER_YET, sizeof(TKL_NO_ANSWER_YET) - 1) == 0;
}

/*
 * One message to one recipient on one channel: a digest of every entry that
 * falls due for that recipient at the same send time.
 */
struct tkl_notice {
    uint32_t size;
    uint64_t id;           /* outbox id; stable across retries */
    const char *channel;   /* notifier instance name */
    const char *recipient; /* address or destination name */
    const char *team_id;
    const char *team_name;
    int64_t due_at; /* seconds since the epoch */
    const struct tkl_notice_entry *entries;
    size_t n_entries;
    const char *thread_key; /* for threading headers: one per action if */
                            /* the digest holds one entry, else NULL   */
    const char *intro;      /* a paragraph that opens the message (an update */
                            /* request's "by when"), plain text, or NULL    */
    /* The name of the calendar of the sources' observances (the host's
     * calendar.title: one line of UTF-8, no control characters), for the
     * subjects and headings that name it, or NULL. It took a reserved
     * pointer, so the structure's size and TICKLER_ABI_VERSION stay as
     * they were: a host that predates it leaves it NULL, and a plugin that
     * predates it never reads it. A reader takes it only when the notice's
     * size covers it (TKL_HAS_MEMBER) and it is set, and says
     * TKL_CALENDAR_TITLE_DEFAULT otherwise. */
    const char *calendar_title;
    void *reserved[2];
};

/* The calendar's name when a notice gives none (see calendar_title). */
#define TKL_CALENDAR_TITLE_DEFAULT "Diversity calendar"

enum tkl_delivery_status {
    TKL_DELIVERY_OK = 0,
    TKL_DELIVERY_TRANSIENT = 1, /* retry later */
    TKL_DELIVERY_PERMANENT = 2, /* do not retry; report */
};

struct tkl_delivery {
    uint32_t size;
    enum tkl_delivery_status status;
    const char *reply;   /* the peer's reply or the local error; no secrets; */
                         /* the host keeps and logs it as one line of       */
                         /* printable UTF-8, whatever its bytes             */
    int32_t retry_after; /* seconds the peer asked to wait, or 0 */
    void *reserved[4];
};

/* The names used in logs, JSON and documentation ("lead", "check-in"). */
static inline const char *tkl_stage_name(enum tkl_stage s)
{
    switch (s) {
    case TKL_STAGE_LEAD:
        return "lead";
    case TKL_STAGE_DUE:
        return "due";
    case TKL_STAGE_OVERDUE:
        return "overdue";
    case TKL_STAGE_CHECKIN:
        return "check-in";
    case TKL_STAGE_PROMPT:
        return "prompt";
    case TKL_STAGE_REPORT:
        return "report";
    case TKL_STAGE_LOOKAHEAD:
        return "look-ahead";
    case TKL_STAGE_REQUEST:
        return "request";
    case TKL_STAGE_ANSWER:
        return "answer";
    case TKL_STAGE_JOINT:
        return "joint";
    }
    return "unknown";
}

/* "date", "review", "ongoing", "undated", "event". */
static inline const char *tkl_deadline_kind_name(enum tkl_deadline_kind k)
{
    switch (k) {
    case TKL_DEADLINE_DATE:
        return "date";
    case TKL_DEADLINE_REVIEW:
        return "review";
    case TKL_DEADLINE_ONGOING:
        return "ongoing";
    case TKL_DEADLINE_UNDATED:
        return "undated";
    case TKL_DEADLINE_EVENT:
        return "event";
    }
    return "unknown";
}

#ifdef __cplusplus
}
#endif

#endif /* TICKLER_NOTICE_H */

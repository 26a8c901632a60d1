/*
 * Officers' updates: what a person did from the page a notice's link
 * opens (mark complete, snooze, a progress note, "not ours", reopen what
 * was marked complete, resume reminders a snooze or a "not ours" held).
 * Updates are
 * append-only: each is recorded once, in the state database
 * (daemon/outbox/updates.h), with who (the recipient the link was issued
 * to), when, what, and the plan as it stood then, so that a later change
 * of the plan can overrule it (daemon/update/answer.h).
 */
#ifndef TKL_UPDATE_H
#define TKL_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tickler/notice.h>

enum tkl_update_kind {
    TKL_UPDATE_COMPLETE = 1, /* marked complete */
    TKL_UPDATE_SNOOZE = 2,   /* no reminders before until_day */
    TKL_UPDATE_PROGRESS = 3, /* a progress note with a RAG status */
    TKL_UPDATE_NOT_OURS = 4, /* not the team's; suggested names another */
    TKL_UPDATE_REOPEN = 5,   /* not complete after all: ends the "complete" that held */
    TKL_UPDATE_RESUME = 6,   /* reminders again: ends the snooze and the team's "not ours" */
};

enum tkl_rag {
    TKL_RAG_NONE = 0,
    TKL_RAG_RED = 1,
    TKL_RAG_AMBER = 2,
    TKL_RAG_GREEN = 3,
};

/*
 * What makes two updates through one link the same update, as an SQL
 * condition the SQLite outbox and PostgreSQL both read: the columns of the
 * unique index updates_once_after but the link's and after_id. A row of
 * updates (its columns prefixed by r: "" or "p.") against the values of
 * the update given as SQL expressions (parameters with their casts, or
 * another row's columns); is is the dialect's equality that takes two
 * NULLs as equal ("IS" in SQLite, "IS NOT DISTINCT FROM" in PostgreSQL);
 * an owners cell counts for "not ours" only (kind 4, TKL_UPDATE_NOT_OURS).
 * tkl_update_same is the same rule in C. PostgreSQL's migration 2,
 * shipped, keeps the rule of its day written out.
 */
/* clang-format off */
#define TKL_UPDATE_SAME_SQL(r, is, kind, until, rag, note, sugg, dday, status, owners)             \
    r "kind = " kind " AND " r "until_day " is " " until " AND " r "rag = " rag                   \
      " AND coalesce(" r "note, '') = coalesce(" note ", '')"                                     \
      " AND coalesce(" r "suggested_team, '') = coalesce(" sugg ", '')"                           \
      " AND " r "plan_deadline_day " is " " dday                                                  \
      " AND coalesce(" r "plan_status, '') = coalesce(" status ", '')"                            \
      " AND (" r "kind <> 4 OR coalesce(" r "plan_owners, '') = coalesce(" owners ", ''))"
/* clang-format on */

/*
 * For an update of kind kind of action action by team team (SQL
 * expressions; is the dialect's equality that takes two NULLs as equal),
 * a row of updates of that action, through any link, that turns what it
 * does the other way: a complete against a reopen, and back (kinds 1 and
 * 5, TKL_UPDATE_COMPLETE and TKL_UPDATE_REOPEN); a snooze against a resume
 * by any team, and back; a "not ours" against a resume by its team, and
 * back (kinds 2, 4 and 6: TKL_UPDATE_SNOOZE, TKL_UPDATE_NOT_OURS,
 * TKL_UPDATE_RESUME). What such an update follows (after_id) besides its
 * own link's rows, so that a hold and its end pressed through two links
 * alternate.
 */
/* clang-format off */
#define TKL_UPDATE_TOGGLES_SQL(action, kind, team, is)                                             \
    "(action_id = " action " AND ((" kind " IN (1, 5) AND kind IN (1, 5) AND kind <> " kind ")"    \
    " OR (" kind " = 2 AND kind = 6)"                                                             \
    " OR (" kind " = 4 AND kind = 6 AND team_id " is " " team ")"                                 \
    " OR (" kind " = 6 AND (kind = 2 OR (kind = 4 AND team_id " is " " team ")))))"
/* clang-format on */

/*
 * For an update of kind kind of action action by team team (SQL
 * expressions; is the dialect's equality that takes two NULLs as equal),
 * a row of updates of that action of the same kind, a snooze or a
 * progress note (kinds 2 and 3) or the same team's "not ours" (kind 4),
 * through another link (not the SQL condition link) that says something
 * else (not the condition same): what such an update follows too, so that
 * an officer saying again what a colleague's answer has since
 * contradicted records it anew, and it holds, where it would be found
 * recorded already. A repeat after that is found as before.
 */
/* clang-format off */
#define TKL_UPDATE_ANSWERED_SQL(action, kind, team, is, link, same)                                \
    "(action_id = " action " AND kind = " kind " AND (" kind " IN (2, 3)"                         \
    " OR (" kind " = 4 AND team_id " is " " team ")) AND NOT (" link ") AND NOT (" same "))"
/* clang-format on */

/* The same of two rows of updates, p and u ("p", "updates"). */
#define TKL_UPDATE_SAME_ROWS(p, u, is)                                                             \
    TKL_UPDATE_SAME_SQL(p ".", is, u ".kind", u ".until_day", u ".rag", u ".note",                 \
                        u ".suggested_team", u ".plan_deadline_day", u ".plan_status",             \
                        u ".plan_owners")

/* Limits in characters, as a page's maxlength counts them; the bytes of
 * UTF-8 are at most four times as many. */
#define TKL_UPDATE_NOTE_MAX      4000 /* characters of a note */
#define TKL_UPDATE_SUGGESTED_MAX 200  /* characters of a suggested team */
#define TKL_UPDATE_BYTES(chars)  ((size_t)4 * (chars))

struct tkl_update {
    int64_t id; /* in the order recorded; 0 before it is */
    char *action_id;
    char *recipient; /* who: the address the link was issued to */
    char *team_id;   /* the owning team the recipient answered for, or NULL */
    enum tkl_update_kind kind;
    int64_t at;             /* when it was recorded */
    int64_t link_issued_at; /* the issue time of the link used */
    int32_t until_day;      /* snooze: the first day reminders go again; else TKL_NO_DAY */
    enum tkl_rag rag;       /* progress: its RAG status; else TKL_RAG_NONE */
    /* progress: the note; not ours: a comment; snooze, reopen, resume:
     * why; plain text, or NULL */
    char *note;
    char *suggested_team; /* not ours: the team suggested, as typed, or NULL */
    /* The plan as it stood when the update was recorded. An update holds
     * while the plan still says this (see answer.h). */
    int32_t plan_deadline_day; /* TKL_NO_DAY when there was none */
    char *plan_deadline_text;
    char *plan_status;
    char *plan_owners;
};

struct tkl_updates {
    struct tkl_update *v; /* oldest first */
    size_t n;
};

/* "complete", "snooze", "progress", "not-ours", "reopen", "resume". */
const char *tkl_update_kind_name(enum tkl_update_kind k);

/* What a page or a report says of the kind: "Marked complete", "Snoozed",
 * "Progress", "Not ours", "Reopened", "Reminders resumed". */
const char *tkl_update_kind_label(enum tkl_update_kind k);

/* Reads a name of tkl_update_kind_name. Returns 0 or -EINVAL. */
int tkl_update_kind_parse(const char *s, enum tkl_update_kind *ret);

/* "red", "amber", "green"; "" for TKL_RAG_NONE. */
const char *tkl_rag_name(enum tkl_rag r);

/* Reads "red", "amber" or "green" (any case). Returns 0 or -EINVAL. */
int tkl_rag_parse(const char *s, enum tkl_rag *ret);

/*
 * Whether u is one an officer may record: action_id and recipient set,
 * kind known, until_day set for a snooze only, rag set for progress only,
 * a note for any kind but a completion, suggested_team for not ours only,
 * note and suggested_team within their limits, valid UTF-8 without
 * control characters (C0, DEL and, but in the ids, which come from the
 * plan and the configuration as a link carries them, C1, U+0080 to
 * U+009F, NEL among them) other than a note's line breaks, CR and LF,
 * and tabs. Returns 0,
 * -EMSGSIZE (the note or the team suggested too long, and nothing else
 * wrong) or -EINVAL.
 */
int tkl_update_check(const struct tkl_update *u);

/*
 * Whether b records what a does: TKL_UPDATE_SAME_SQL in C, the rule the
 * state database's unique index finds a repeat by (the kind, snooze day,
 * RAG, note, suggested team, the plan's deadline day and status and, for
 * "not ours", its owners; a NULL text is the same as an empty one).
 */
bool tkl_update_same(const struct tkl_update *a, const struct tkl_update *b);

/* Deep copy. Returns 0 or -ENOMEM (then *ret untouched). */
int tkl_update_copy(const struct tkl_update *u, struct tkl_update *ret);

/* Frees u's strings (not u); a zeroed update is fine. */
void tkl_update_free(struct tkl_update *u);

/* Appends a copy of u. Returns 0 or -ENOMEM (l unchanged). */
int tkl_updates_push(struct tkl_updates *l, const struct tkl_update *u);

/* Frees what l holds and empties it. */
void tkl_updates_free(struct tkl_updates *l);

#endif

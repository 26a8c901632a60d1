/* Shared by the tests of the state backends (test_state.c: SQLite,
 * test_pg_state.c: PostgreSQL): the officers' updates through the state
 * (state.h), held to the same contract on both: completions told once,
 * later, never inside a call; the same update said again is not added
 * again, and is again once the plan changed or the link said something
 * else since (complete, reopen, complete, reopen: four; a snooze or a "not
 * ours" and its resume likewise); reads, the
 * link's count and the version see what was added (on PostgreSQL by
 * another node). */
#ifndef TKL_STATE_UPDATES_H
#define TKL_STATE_UPDATES_H

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "state/state.h"
#include "state_told.h"

/* What an update completion was told. */
struct update_told {
    int calls, r;
    int64_t id;
    bool is_new;
    struct tkl_updates u; /* a read's, owned */
};

static inline void on_update_added(void *data, int r, int64_t id, bool is_new)
{
    struct update_told *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    t->id = id;
    t->is_new = is_new;
}

static inline void on_updates_read(void *data, int r, struct tkl_updates *u)
{
    struct update_told *t = data;
    ck_assert(!inside);
    if (r != 0)
        ck_assert(!u->n && !u->v);
    t->calls++;
    t->r = r;
    t->u = *u;
    *u = (struct tkl_updates){0};
}

/* Commits st and waits until *calls is 1 (the backend's way). */
typedef void (*updates_settle_fn)(struct tkl_state *st, int *calls);

static inline struct tkl_update updates_sample(enum tkl_update_kind kind)
{
    return (struct tkl_update){.action_id = "A1",
                               .recipient = "hr@x",
                               .team_id = "hr",
                               .kind = kind,
                               .at = 1000,
                               .link_issued_at = 900,
                               .until_day = kind == TKL_UPDATE_SNOOZE ? 19500 : TKL_NO_DAY,
                               .rag = kind == TKL_UPDATE_PROGRESS ? TKL_RAG_AMBER : TKL_RAG_NONE,
                               .note = kind == TKL_UPDATE_PROGRESS ? "Half done & <ok>" : NULL,
                               .plan_deadline_day = 19477,
                               .plan_deadline_text = "29/04/2023",
                               .plan_status = "In progress",
                               .plan_owners = "HR"};
}

/* Adds u through st: told later, once; returns the completion. */
static inline struct update_told updates_add(struct tkl_state *st, const struct tkl_update *u,
                                             updates_settle_fn settle)
{
    struct update_told t = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_add_update(st, u, on_update_added, &t), 0);
    inside = false;
    ck_assert_int_eq(t.calls, 0);
    settle(st, &t.calls);
    ck_assert_int_eq(t.calls, 1);
    return t;
}

/* The updates version, or with link_of the count of its link's updates
 * less itself. */
static inline int64_t updates_value(struct tkl_state *st, const struct tkl_update *link_of,
                                    updates_settle_fn settle)
{
    struct told t = {0};
    inside = true;
    if (link_of)
        ck_assert_int_eq(tkl_state_link_updates(st, link_of, on_value, &t), 0);
    else
        ck_assert_int_eq(tkl_state_updates_version(st, on_value, &t), 0);
    inside = false;
    settle(st, &t.calls);
    ck_assert_int_eq(t.calls, 1);
    ck_assert_int_eq(t.r, 0);
    return t.value;
}

/* The updates contract: w adds, rd (the same state, or another node's)
 * reads. */
static inline void updates_contract(struct tkl_state *w, struct tkl_state *rd,
                                    updates_settle_fn settle)
{
    struct tkl_update done = updates_sample(TKL_UPDATE_COMPLETE);
    struct tkl_update snooze = updates_sample(TKL_UPDATE_SNOOZE);
    struct tkl_update progress = updates_sample(TKL_UPDATE_PROGRESS);
    struct tkl_update bad = updates_sample(TKL_UPDATE_COMPLETE);
    bad.until_day = 19500; /* a "complete" with a snooze's day: refused */
    int64_t v0 = updates_value(rd, NULL, settle);

    struct update_told first = updates_add(w, &done, settle);
    ck_assert_int_eq(first.r, 0);
    ck_assert(first.is_new);
    ck_assert_int_gt(first.id, 0);
    /* said again: the same row */
    struct update_told again = updates_add(w, &done, settle);
    ck_assert_int_eq(again.r, 0);
    ck_assert(!again.is_new);
    ck_assert_int_eq(again.id, first.id);
    /* refused at once: nothing queued, never told */
    struct update_told none = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_add_update(w, &bad, on_update_added, &none), -EINVAL);
    inside = false;
    ck_assert(updates_add(w, &snooze, settle).is_new);
    ck_assert(updates_add(w, &progress, settle).is_new);
    /* the plan changed: the same words are a new update */
    done.plan_status = "Delayed";
    struct update_told changed = updates_add(w, &done, settle);
    ck_assert(changed.is_new);
    ck_assert_int_ne(changed.id, first.id);
    ck_assert_int_eq(none.calls, 0);

    int64_t v1 = updates_value(rd, NULL, settle);
    ck_assert_int_ne(v1, v0);
    /* through the link: the four less the one given when it would be a
     * repeat, the last said; the progress note said again after the
     * completion is a new update */
    struct tkl_update fifth = updates_sample(TKL_UPDATE_PROGRESS);
    fifth.note = "Nearly done";
    ck_assert_int_eq(updates_value(rd, &fifth, settle), 4);
    ck_assert_int_eq(updates_value(rd, &progress, settle), 4);
    ck_assert_int_eq(updates_value(rd, &done, settle), 3); /* "Delayed", the last */
    struct update_told progress_again = updates_add(w, &progress, settle);
    ck_assert(progress_again.is_new);
    ck_assert_int_eq(updates_value(rd, &progress, settle), 4);
    struct update_told repeat = updates_add(w, &progress, settle);
    ck_assert(!repeat.is_new);
    ck_assert_int_eq(repeat.id, progress_again.id);
    struct tkl_update none_of_it = updates_sample(TKL_UPDATE_NOT_OURS);
    none_of_it.plan_owners = "ICT"; /* not ours on another plan: its own */
    ck_assert_int_eq(updates_value(rd, &none_of_it, settle), 5);

    struct update_told all = {0}, of = {0}, window = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_updates(rd, NULL, 0, INT64_MAX, on_updates_read, &all), 0);
    ck_assert_int_eq(tkl_state_updates(rd, "B2", 0, INT64_MAX, on_updates_read, &of), 0);
    ck_assert_int_eq(tkl_state_updates(rd, "A1", 0, 1000, on_updates_read, &window), 0);
    inside = false;
    settle(rd, &window.calls);
    ck_assert_int_eq(all.calls + of.calls + window.calls, 3);
    ck_assert_int_eq(all.r, 0);
    ck_assert_uint_eq(all.u.n, 5);
    ck_assert_uint_eq(of.u.n, 0);
    ck_assert_uint_eq(window.u.n, 0); /* recorded at 1000: not before it */
    /* oldest first, read whole */
    ck_assert_int_eq(all.u.v[0].id, first.id);
    ck_assert_int_eq(all.u.v[0].kind, TKL_UPDATE_COMPLETE);
    ck_assert_int_eq(all.u.v[0].until_day, TKL_NO_DAY);
    ck_assert_str_eq(all.u.v[0].plan_status, "In progress");
    ck_assert_str_eq(all.u.v[0].team_id, "hr");
    ck_assert_int_eq(all.u.v[1].until_day, 19500);
    ck_assert_int_eq(all.u.v[2].rag, TKL_RAG_AMBER);
    ck_assert_str_eq(all.u.v[2].note, "Half done & <ok>");
    ck_assert_ptr_null(all.u.v[2].suggested_team);
    ck_assert_int_eq(all.u.v[2].plan_deadline_day, 19477);
    ck_assert_int_eq(all.u.v[2].link_issued_at, 900);
    ck_assert_str_eq(all.u.v[3].plan_status, "Delayed");
    ck_assert_int_eq(all.u.v[4].id, progress_again.id);
    ck_assert_str_eq(all.u.v[4].note, "Half done & <ok>");
    tkl_updates_free(&all.u);
}

/* Fills buf (size bytes) with size - 1 letters and digits that do not
 * repeat in any pattern a compressor finds, from seed. */
static inline void updates_random_text(char *buf, size_t size, uint32_t seed)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint32_t x = seed ? seed : 1;
    for (size_t i = 0; i + 1 < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = abc[x % (sizeof(abc) - 1)];
    }
    buf[size - 1] = '\0';
}

/* Texts longer than an index entry holds (PostgreSQL's btree takes 2,704
 * bytes): the plan's status and owners of 3,000 characters and a note of
 * TKL_UPDATE_NOTE_MAX, beside an id of the most an update takes (128).
 * Recorded, found when said again, read back whole. w adds, rd reads. */
static inline void updates_long_texts_contract(struct tkl_state *w, struct tkl_state *rd,
                                               updates_settle_fn settle)
{
    static char id[129], status[3001], owners[3001], note[TKL_UPDATE_NOTE_MAX + 1];
    updates_random_text(id, sizeof(id), 11);
    updates_random_text(status, sizeof(status), 12);
    updates_random_text(owners, sizeof(owners), 13);
    updates_random_text(note, sizeof(note), 14);
    struct tkl_update progress = updates_sample(TKL_UPDATE_PROGRESS);
    struct tkl_update done = updates_sample(TKL_UPDATE_COMPLETE);
    progress.action_id = done.action_id = id;
    progress.plan_status = done.plan_status = status;
    progress.plan_owners = done.plan_owners = owners;
    progress.note = note;
    struct update_told first = updates_add(w, &progress, settle);
    ck_assert_int_eq(first.r, 0);
    ck_assert(first.is_new);
    struct update_told again = updates_add(w, &progress, settle);
    ck_assert_int_eq(again.r, 0);
    ck_assert(!again.is_new);
    ck_assert_int_eq(again.id, first.id);
    struct update_told complete = updates_add(w, &done, settle);
    ck_assert_int_eq(complete.r, 0);
    ck_assert(complete.is_new);
    /* the link's two: the note said again now would follow the completion */
    ck_assert_int_eq(updates_value(rd, &progress, settle), 2);

    struct update_told of = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_updates(rd, id, 0, INT64_MAX, on_updates_read, &of), 0);
    inside = false;
    settle(rd, &of.calls);
    ck_assert_int_eq(of.r, 0);
    ck_assert_uint_eq(of.u.n, 2);
    ck_assert_str_eq(of.u.v[0].action_id, id);
    ck_assert_str_eq(of.u.v[0].note, note);
    ck_assert_str_eq(of.u.v[0].plan_status, status);
    ck_assert_str_eq(of.u.v[0].plan_owners, owners);
    ck_assert_int_eq(of.u.v[1].kind, TKL_UPDATE_COMPLETE);
    tkl_updates_free(&of.u);
}

/* A reopen through one link (of action R1): a repeat of it is the same
 * row; after a completion said again, it is a new one, as is that
 * completion; read back with its why. Through two links (action R2), each
 * completion and reopen is new and its repeat the same row. w adds, rd
 * reads. */
static inline void updates_reopen_contract(struct tkl_state *w, struct tkl_state *rd,
                                           updates_settle_fn settle)
{
    struct tkl_update done = updates_sample(TKL_UPDATE_COMPLETE);
    struct tkl_update reopen = updates_sample(TKL_UPDATE_REOPEN);
    done.action_id = reopen.action_id = "R1";
    reopen.note = "Pressed by mistake";
    int64_t ids[4];
    const struct tkl_update *said[4] = {&done, &reopen, &done, &reopen};
    for (size_t i = 0; i < 4; i++) {
        struct update_told t = updates_add(w, said[i], settle);
        ck_assert_int_eq(t.r, 0);
        ck_assert(t.is_new);
        ids[i] = t.id;
        /* pressed again at once: recorded already */
        struct update_told again = updates_add(w, said[i], settle);
        ck_assert(!again.is_new);
        ck_assert_int_eq(again.id, ids[i]);
    }
    ck_assert_int_ne(ids[1], ids[3]);
    /* a repeat of the last is left out of the link's count */
    ck_assert_int_eq(updates_value(rd, &reopen, settle), 3);
    ck_assert_int_eq(updates_value(rd, &done, settle), 4);
    struct update_told all = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_updates(rd, "R1", 0, INT64_MAX, on_updates_read, &all), 0);
    inside = false;
    settle(rd, &all.calls);
    ck_assert_int_eq(all.r, 0);
    ck_assert_uint_eq(all.u.n, 4);
    ck_assert_int_eq(all.u.v[1].kind, TKL_UPDATE_REOPEN);
    ck_assert_str_eq(all.u.v[1].note, "Pressed by mistake");
    ck_assert_int_eq(all.u.v[1].rag, TKL_RAG_NONE);
    ck_assert_int_eq(all.u.v[1].until_day, TKL_NO_DAY);
    ck_assert_int_eq(all.u.v[2].kind, TKL_UPDATE_COMPLETE);
    ck_assert_ptr_null(all.u.v[2].note);
    tkl_updates_free(&all.u);
    /* a completion and its reopen through two links (of action R2) take
     * turns: each follows the other's latest, whichever link said it */
    struct tkl_update done1 = done, reopen1 = reopen, done2 = done;
    done1.action_id = reopen1.action_id = done2.action_id = "R2";
    done2.link_issued_at = done1.link_issued_at + 86400; /* a later reminder's link */
    const struct tkl_update *turns[5] = {&done1, &reopen1, &done2, &reopen1, &done1};
    int64_t turn_ids[5];
    for (size_t i = 0; i < 5; i++) {
        struct update_told t = updates_add(w, turns[i], settle);
        ck_assert_int_eq(t.r, 0);
        ck_assert_msg(t.is_new, "turn %zu was found, not recorded", i);
        turn_ids[i] = t.id;
        struct update_told again = updates_add(w, turns[i], settle);
        ck_assert(!again.is_new);
        ck_assert_int_eq(again.id, turn_ids[i]);
    }
}

/* A hold and its resume take turns, through one link or two: a snooze
 * (of action S1, link 1) resumed through link 2, the same snooze said
 * again through link 1, resumed again through link 2; a "not ours" (of
 * S2) resumed and said again through one link. Each is a new row, and its
 * repeat at once the same row; but another team's resume takes back no
 * "not ours" (S3). w adds, rd reads. */
static inline void updates_resume_contract(struct tkl_state *w, struct tkl_state *rd,
                                           updates_settle_fn settle)
{
    struct tkl_update snooze = updates_sample(TKL_UPDATE_SNOOZE);
    struct tkl_update resume = updates_sample(TKL_UPDATE_RESUME);
    snooze.action_id = resume.action_id = "S1";
    resume.link_issued_at = snooze.link_issued_at + 86400; /* a later reminder's link */
    resume.note = "Back early";
    struct tkl_update not_ours = updates_sample(TKL_UPDATE_NOT_OURS), back = resume;
    not_ours.action_id = back.action_id = "S2";
    back.link_issued_at = not_ours.link_issued_at;
    const struct tkl_update *turns[7] = {&snooze,   &resume, &snooze,  &resume,
                                         &not_ours, &back,   &not_ours};
    int64_t ids[7];
    for (size_t i = 0; i < 7; i++) {
        struct update_told t = updates_add(w, turns[i], settle);
        ck_assert_int_eq(t.r, 0);
        ck_assert_msg(t.is_new, "turn %zu was found, not recorded", i);
        ids[i] = t.id;
        struct update_told again = updates_add(w, turns[i], settle);
        ck_assert(!again.is_new);
        ck_assert_int_eq(again.id, ids[i]);
    }
    struct update_told all = {0};
    inside = true;
    ck_assert_int_eq(tkl_state_updates(rd, "S1", 0, INT64_MAX, on_updates_read, &all), 0);
    inside = false;
    settle(rd, &all.calls);
    ck_assert_int_eq(all.r, 0);
    ck_assert_uint_eq(all.u.n, 4);
    ck_assert_int_eq(all.u.v[1].kind, TKL_UPDATE_RESUME);
    ck_assert_str_eq(all.u.v[1].note, "Back early");
    ck_assert_int_eq(all.u.v[1].until_day, TKL_NO_DAY);
    tkl_updates_free(&all.u);
    /* another team's resume takes back nothing of ICT's "not ours" (of
     * S3): said again, it is the same row, and a resume of ICT's follows
     * only ICT's */
    struct tkl_update ict = updates_sample(TKL_UPDATE_NOT_OURS), hr = resume;
    ict.action_id = hr.action_id = "S3";
    ict.recipient = "ict@x";
    ict.team_id = "ict";
    struct update_told said = updates_add(w, &ict, settle);
    ck_assert(said.is_new);
    ck_assert(updates_add(w, &hr, settle).is_new);
    struct update_told again = updates_add(w, &ict, settle);
    ck_assert_msg(!again.is_new, "another team's resume took back ICT's \"not ours\"");
    ck_assert_int_eq(again.id, said.id);
    ck_assert_int_eq(updates_value(rd, &ict, settle), 0);
}

/* An officer's progress note (of action C1), a colleague's contrary one
 * through their own link, then the first said again: a new row, which
 * the link's count leaves out as the one an add would find; pressed
 * again, the same row. The same for a snooze (C2) to another day, and a
 * "not ours" (C3) suggesting another team. w adds, rd reads. */
static inline void updates_colleague_contract(struct tkl_state *w, struct tkl_state *rd,
                                              updates_settle_fn settle)
{
    static const enum tkl_update_kind kinds[] = {TKL_UPDATE_PROGRESS, TKL_UPDATE_SNOOZE,
                                                 TKL_UPDATE_NOT_OURS};
    static char ids[][3] = {"C1", "C2", "C3"};
    for (int k = 0; k < 3; k++) {
        struct tkl_update mine = updates_sample(kinds[k]);
        struct tkl_update theirs = mine;
        mine.action_id = theirs.action_id = ids[k];
        theirs.recipient = "colleague@x";
        theirs.link_issued_at = mine.link_issued_at + 60;
        theirs.at = mine.at + 100;
        if (k == 2) {
            mine.suggested_team = "Housing";
            theirs.suggested_team = "ICT";
        } else if (k) {
            theirs.until_day = mine.until_day - 14;
        } else {
            theirs.rag = TKL_RAG_RED;
        }
        struct update_told first = updates_add(w, &mine, settle);
        ck_assert(first.is_new);
        ck_assert(updates_add(w, &theirs, settle).is_new);
        mine.at = theirs.at + 100;
        ck_assert_int_eq(updates_value(rd, &mine, settle), 1); /* the first alone */
        struct update_told again = updates_add(w, &mine, settle);
        ck_assert_msg(again.is_new, "said again after a colleague's was found, not recorded");
        ck_assert_int_gt(again.id, first.id);
        struct update_told repeat = updates_add(w, &mine, settle);
        ck_assert(!repeat.is_new);
        ck_assert_int_eq(repeat.id, again.id);
        ck_assert_int_eq(updates_value(rd, &mine, settle), 1);
    }
}

#endif

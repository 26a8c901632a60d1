/* Shared by test_dump and test_migrate: an outbox holding one of every
 * kind of row a state can hold (notices delivered, failed, retrying and
 * in flight; entries with texts that JSON and SQL must carry as they are;
 * the notification log; an update; meta values). */
#ifndef TKL_DUMP_FIXTURE_H
#define TKL_DUMP_FIXTURE_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>

#include "outbox/outbox.h"
#include "outbox/updates.h"

/* Texts that must arrive byte for byte: quotes, a backslash, a newline,
 * a control character, non-ASCII, JSON and SQL delimiters. */
#define TKL_DUMP_HARD_TITLE                                                                        \
    "Publish \"pay gap\" data \\ O'Brien\nnext\tline \xe2\x80\x99 \xc3\xa9 }]"

static const struct tkl_notice_entry tkl_dump_entries[] = {
    {.size = sizeof(struct tkl_notice_entry),
     .item_id = "EAP-1",
     .title = TKL_DUMP_HARD_TITLE,
     .owners = "HR",
     .deadline_text = "April 2023",
     .deadline_day = 19477,
     .kind = TKL_DEADLINE_DATE,
     .stage = TKL_STAGE_LEAD,
     .days_left = 7},
    {.size = sizeof(struct tkl_notice_entry),
     .item_id = "EAP-2",
     .title = "Second",
     .deadline_day = TKL_NO_DAY,
     .kind = TKL_DEADLINE_ONGOING,
     .stage = TKL_STAGE_CHECKIN},
};

/* The counts tkl_dump_fixture_fill leaves. */
enum {
    TKL_DUMP_NOTICES = 4,
    TKL_DUMP_PENDING = 2, /* one retrying, one being sent */
    TKL_DUMP_SENDING = 1,
    TKL_DUMP_ENTRIES = 8,
    TKL_DUMP_LOG = 8,
    TKL_DUMP_UPDATES = 1,
    TKL_DUMP_META = 1,
};

/* Fills o (empty): notices 1 delivered, 2 failed, 3 retrying, 4 being
 * sent, two entries each; one progress update; last_run. */
static inline void tkl_dump_fixture_fill(struct tkl_outbox *o)
{
    const char *recipients[] = {"a@example.org", "b@example.org", "c@example.org", "d@example.org"};
    uint64_t id[4];
    for (int i = 0; i < 4; i++) {
        char k1[32], k2[32];
        snprintf(k1, sizeof(k1), "EAP-1:lead-7:%d", i);
        snprintf(k2, sizeof(k2), "EAP-2:checkin:%d", i);
        const char *keys[] = {k1, k2};
        struct tkl_notice n = {.size = sizeof(struct tkl_notice),
                               .channel = "email",
                               .recipient = recipients[i],
                               .team_id = "hr",
                               .team_name = "Human \"Resources\"",
                               .due_at = 1680000000 + i,
                               .entries = tkl_dump_entries,
                               .n_entries = 2};
        ck_assert_int_eq(tkl_outbox_put(o, &n, keys, 1680000000, &id[i]), 0);
        ck_assert_uint_gt(id[i], 0);
    }
    ck_assert_int_eq(tkl_outbox_mark_delivered(o, id[0], 1680000100, "250 OK"), 0);
    ck_assert_int_eq(tkl_outbox_mark_failed(o, id[1], 1680000200, "550 no such \"user\""), 0);
    ck_assert_int_eq(tkl_outbox_mark_retry(o, id[2], 1680000900, "451 try later"), 0);
    ck_assert_int_eq(tkl_outbox_mark_sending(o, id[3]), 0);
    struct tkl_update u = {.action_id = "EAP-1",
                           .recipient = "a@example.org",
                           .team_id = "hr",
                           .kind = TKL_UPDATE_PROGRESS,
                           .at = 1680000300,
                           .link_issued_at = 1680000000,
                           .until_day = TKL_NO_DAY,
                           .rag = TKL_RAG_AMBER,
                           .note = TKL_DUMP_HARD_TITLE,
                           .plan_deadline_day = 19477,
                           .plan_deadline_text = "April 2023",
                           .plan_status = "In progress",
                           .plan_owners = "HR"};
    int64_t uid = 0;
    bool is_new = false;
    ck_assert_int_eq(tkl_outbox_add_update(o, &u, &uid, &is_new), 0);
    ck_assert(is_new);
    ck_assert_int_eq(tkl_outbox_set_meta(o, "last_run", 1680000400), 0);
}

#endif

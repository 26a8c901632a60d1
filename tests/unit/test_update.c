/* Tests for daemon/update/update.c: the names of kinds and RAG statuses
 * read back, what an officer may record (and what is refused), what
 * counts as the same update, copies. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <string.h>

#include "update/update.h"

static struct tkl_update progress(void)
{
    return (struct tkl_update){.action_id = "a0123456789a",
                               .recipient = "policy@example.org",
                               .kind = TKL_UPDATE_PROGRESS,
                               .at = 1796000000,
                               .link_issued_at = 1795000000,
                               .until_day = TKL_NO_DAY,
                               .rag = TKL_RAG_AMBER,
                               .note = "Draft with legal.\nBack in January.",
                               .plan_deadline_day = TKL_NO_DAY};
}

START_TEST(names_read_back)
{
    enum tkl_update_kind k;
    enum tkl_rag g;
    for (int i = TKL_UPDATE_COMPLETE; i <= TKL_UPDATE_RESUME; i++) {
        ck_assert_int_eq(tkl_update_kind_parse(tkl_update_kind_name(i), &k), 0);
        ck_assert_int_eq(k, i);
    }
    ck_assert_str_eq(tkl_update_kind_name(TKL_UPDATE_NOT_OURS), "not-ours");
    ck_assert_str_eq(tkl_update_kind_label(TKL_UPDATE_COMPLETE), "Marked complete");
    ck_assert_str_eq(tkl_update_kind_name(TKL_UPDATE_REOPEN), "reopen");
    ck_assert_str_eq(tkl_update_kind_label(TKL_UPDATE_REOPEN), "Reopened");
    ck_assert_int_eq(tkl_update_kind_parse("reopen", &k), 0);
    ck_assert_int_eq(k, TKL_UPDATE_REOPEN);
    ck_assert_str_eq(tkl_update_kind_name(TKL_UPDATE_RESUME), "resume");
    ck_assert_str_eq(tkl_update_kind_label(TKL_UPDATE_RESUME), "Reminders resumed");
    ck_assert_int_eq(tkl_update_kind_parse("Reopen", &k), -EINVAL);
    ck_assert_int_eq(tkl_update_kind_parse("delete", &k), -EINVAL);
    ck_assert_int_eq(tkl_update_kind_parse(NULL, &k), -EINVAL);
    ck_assert_int_eq(tkl_rag_parse("Amber", &g), 0);
    ck_assert_int_eq(g, TKL_RAG_AMBER);
    ck_assert_int_eq(tkl_rag_parse("blue", &g), -EINVAL);
    ck_assert_str_eq(tkl_rag_name(TKL_RAG_NONE), "");
}
END_TEST

START_TEST(good_updates_pass)
{
    struct tkl_update u = progress();
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u = (struct tkl_update){.action_id = "a1",
                            .recipient = "x@y",
                            .kind = TKL_UPDATE_SNOOZE,
                            .until_day = 20800,
                            .plan_deadline_day = TKL_NO_DAY};
    ck_assert_int_eq(tkl_update_check(&u), 0);
    /* a snooze, with its why (line breaks as a browser sends them) */
    u.note = "Waiting for the \"budget\" <b>vote</b>:\r\nback in January.";
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u.note = "escape \x1b[2J";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    /* C1 controls too (CSI, NEL among them), as C0; NBSP is text */
    static const char *const c1[] = {"x\xc2\x80",
                                     "CSI \xc2\x9b"
                                     "2J",
                                     "a\xc2\x85"
                                     "b",
                                     "\xc2\x9f"};
    for (size_t i = 0; i < sizeof(c1) / sizeof(*c1); i++) {
        u.note = (char *)c1[i];
        ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    }
    u.note = "a\xc2\xa0"
             "b\xc2\xa1";
    ck_assert_int_eq(tkl_update_check(&u), 0);
    /* an id as the plan has it, mojibake and all, as its link carries it */
    u.action_id = "2.1 \xc3\xa2\xc2\x80\xc2\x99";
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u.action_id = "a1";
    u.note = NULL;
    u.kind = TKL_UPDATE_NOT_OURS;
    u.until_day = TKL_NO_DAY;
    u.suggested_team = "Communications";
    u.note = "We only publish it.";
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u.suggested_team = "Comms\xc2\x9b";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.suggested_team = "Communications";
    /* a reopen, with its why or without */
    u.kind = TKL_UPDATE_REOPEN;
    u.suggested_team = NULL;
    u.note = "Pressed by mistake:\nthe board has not signed it off.";
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u.note = NULL;
    ck_assert_int_eq(tkl_update_check(&u), 0);
    /* a resume, with its why or without; no day, RAG or suggested team */
    u.kind = TKL_UPDATE_RESUME;
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u.note = "Back from leave: it is ours.";
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u.until_day = 20800;
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.until_day = TKL_NO_DAY;
    u.suggested_team = "Communications";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.suggested_team = NULL;
    u.rag = TKL_RAG_GREEN;
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
}
END_TEST

/* A reopen carries no day, RAG or suggested team, and its why keeps to
 * a note's limits. */
START_TEST(bad_reopens_are_refused)
{
    struct tkl_update u = progress();
    u.kind = TKL_UPDATE_REOPEN;
    u.rag = TKL_RAG_NONE;
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u.rag = TKL_RAG_GREEN;
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.rag = TKL_RAG_NONE;
    u.until_day = 20800;
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.until_day = TKL_NO_DAY;
    u.suggested_team = "Communications";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.suggested_team = NULL;
    u.note = "escape \x1b[2J";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    static char big[TKL_UPDATE_NOTE_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    u.note = big;
    ck_assert_int_eq(tkl_update_check(&u), -EMSGSIZE); /* too long, and only that */
    big[0] = '\x1b';
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    big[0] = 'x';
    big[TKL_UPDATE_NOTE_MAX] = '\0';
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u.kind = TKL_UPDATE_RESUME + 1;
    u.note = NULL;
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
}
END_TEST

/* The same update, as the state's unique index tells a repeat: the kind
 * and what it says against the same plan; who and when do not count (the
 * link does, in the state), and an empty note is no note. */
START_TEST(the_same_update_is_what_the_state_finds_again)
{
    struct tkl_update a = progress(), b = progress();
    a.plan_status = "In progress";
    b.plan_status = "In progress";
    b.at += 60;
    b.recipient = "other@example.org";
    ck_assert(tkl_update_same(&a, &b));
    b.note = "Something else";
    ck_assert(!tkl_update_same(&a, &b));
    b = a;
    b.rag = TKL_RAG_GREEN;
    ck_assert(!tkl_update_same(&a, &b));
    b = a;
    b.plan_status = "Delayed";
    ck_assert(!tkl_update_same(&a, &b));
    b = a;
    b.plan_deadline_day = 20800;
    ck_assert(!tkl_update_same(&a, &b));
    /* a reopen is not the complete it ends; its why counts, "" is none */
    a = (struct tkl_update){
        .kind = TKL_UPDATE_COMPLETE, .until_day = TKL_NO_DAY, .plan_deadline_day = 20800};
    b = a;
    b.kind = TKL_UPDATE_REOPEN;
    ck_assert(!tkl_update_same(&a, &b));
    a.kind = TKL_UPDATE_REOPEN;
    a.note = "";
    ck_assert(tkl_update_same(&a, &b));
    b.note = "why";
    ck_assert(!tkl_update_same(&a, &b));
    /* the owners count for "not ours" only */
    a = b = (struct tkl_update){
        .kind = TKL_UPDATE_REOPEN, .until_day = TKL_NO_DAY, .plan_owners = "HR"};
    b.plan_owners = "ICT";
    ck_assert(tkl_update_same(&a, &b));
    a.kind = b.kind = TKL_UPDATE_NOT_OURS;
    ck_assert(!tkl_update_same(&a, &b));
}
END_TEST

START_TEST(bad_updates_are_refused)
{
    struct tkl_update u = progress();
    u.rag = TKL_RAG_NONE; /* progress needs a RAG status */
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u = progress();
    u.until_day = 20800; /* only a snooze has a day */
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u = progress();
    u.kind = TKL_UPDATE_COMPLETE; /* a completion carries no RAG or note */
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.rag = TKL_RAG_NONE;
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.note = NULL;
    ck_assert_int_eq(tkl_update_check(&u), 0);
    u = progress();
    u.note = "bell \a";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u.note = "\xc3\x28 not UTF-8";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u = progress();
    u.recipient = "";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u = progress();
    u.action_id = "a1\nBcc: x";
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    u = progress();
    u.kind = 7;
    ck_assert_int_eq(tkl_update_check(&u), -EINVAL);
    static char big[TKL_UPDATE_NOTE_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    u = progress();
    u.note = big;
    ck_assert_int_eq(tkl_update_check(&u), -EMSGSIZE);
    big[TKL_UPDATE_NOTE_MAX] = '\0';
    ck_assert_int_eq(tkl_update_check(&u), 0);
    /* the limit counts characters, as the page's maxlength does: 4,000
     * accented letters are 8,000 bytes and pass; one more does not */
    static char accented[2 * TKL_UPDATE_NOTE_MAX + 3];
    for (size_t i = 0; i < TKL_UPDATE_NOTE_MAX; i++)
        memcpy(accented + 2 * i, "\xc3\xa9", 2);
    u.note = accented;
    ck_assert_int_eq(tkl_update_check(&u), 0);
    memcpy(accented + 2 * TKL_UPDATE_NOTE_MAX, "\xc3\xa9", 3);
    ck_assert_int_eq(tkl_update_check(&u), -EMSGSIZE);
}
END_TEST

START_TEST(copies_are_deep)
{
    struct tkl_update u = progress(), c;
    struct tkl_updates l = {0};
    ck_assert_int_eq(tkl_update_copy(&u, &c), 0);
    ck_assert_ptr_ne(c.note, u.note);
    ck_assert_str_eq(c.note, u.note);
    ck_assert_ptr_null(c.team_id);
    ck_assert_int_eq(tkl_updates_push(&l, &c), 0);
    tkl_update_free(&c);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_str_eq(l.v[0].recipient, "policy@example.org");
    tkl_updates_free(&l);
    ck_assert_uint_eq(l.n, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("update");
    TCase *tc = tcase_create("update");
    tcase_add_test(tc, names_read_back);
    tcase_add_test(tc, good_updates_pass);
    tcase_add_test(tc, bad_updates_are_refused);
    tcase_add_test(tc, bad_reopens_are_refused);
    tcase_add_test(tc, the_same_update_is_what_the_state_finds_again);
    tcase_add_test(tc, copies_are_deep);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

/* Tests for daemon/store/store.c: loading plans from files and directories,
 * appending actions, and every allocation failure on the way. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "alloc_fail.h"
#include "cold_fixture.h"
#include "core/day.h"
#include "store/remote.h"
#include "store/row.h"
#include "store_fixture.h"

/* The hash s keeps of its action a (tkl_store_hash). */
static uint64_t hash_of(const struct tkl_store *s, const struct tkl_action *a)
{
    return tkl_store_hash(s, (size_t)(a - s->actions));
}

START_TEST(a_spreadsheet_export_loads_end_to_end)
{
    const char *csv = "\xef\xbb\xbf"
                      "Actions,Responsibility,Timeframe,Status\r\n"
                      "\"Train staff, \"\"all\"\" of them\r\non two lines\",HR,April 2023,\r\n"
                      "Second action,HR,Ongoing,Complete\r\n"
                      "\r\n\r\n";
    struct tkl_store *s = load(csv);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->actions[0].title, "Train staff, \"all\" of them\non two lines");
    ck_assert_uint_eq(s->actions[0].line, 2);
    ck_assert_uint_eq(s->actions[1].line, 4); /* the quoted break took line 3 */
    ck_assert_int_eq(s->actions[0].deadline.day, tkl_day_from_civil(2023, 4, 30));
    ck_assert_str_eq(s->actions[0].teams[0], "hr");
    ck_assert_int_eq(s->actions[1].status, TKL_STATUS_COMPLETE);
    ck_assert(!tkl_action_active(&s->actions[1]));
    tkl_store_free(s);
}
END_TEST

START_TEST(reloading_an_edited_plan_keeps_the_ids)
{
    struct tkl_store *a = load("Actions,Responsibility,Timeframe\nOne,HR,April 2023\nTwo,HR,\n"
                               "Two,HR,\n");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_ne(a->actions[1].id, a->actions[2].id); /* duplicates renamed */
    /* editing one row's deadline keeps every id; only that row's hash moves */
    struct tkl_store *b = load("Actions,Responsibility,Timeframe\nOne,HR,May 2023\nTwo,HR,\n"
                               "Two,HR,\n");
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(a->actions[i].id, b->actions[i].id);
    ck_assert_uint_ne(tkl_store_hash(a, 0), tkl_store_hash(b, 0));
    ck_assert_uint_eq(tkl_store_hash(a, 1), tkl_store_hash(b, 1));
    ck_assert_ptr_eq(tkl_store_find(b, a->actions[2].id), &b->actions[2]);
    tkl_store_free(a);
    tkl_store_free(b);
}
END_TEST

START_TEST(a_repeated_owners_cell_reads_the_same_each_time)
{
    struct tkl_store *s = load("Actions,Responsibility\nOne,HR\nTwo,Payroll\nThree,HR\n"
                               "Four,Payroll\nFive,\"HR, EDI Officer Group\"\n"
                               "Six,\"HR, EDI Officer Group\"\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 6);
    ck_assert_uint_eq(s->actions[2].n_teams, 1);
    ck_assert_str_eq(s->actions[2].teams[0], "hr");
    /* each row of a name matching no team is warned about, not only the first */
    ck_assert(has_diag(3, "\"Payroll\" matches no team"));
    ck_assert(has_diag(5, "\"Payroll\" matches no team"));
    ck_assert_uint_eq(tkl_action_rare(&s->actions[3])->n_warnings, 1);
    ck_assert_str_eq(s->actions[3].teams[0], "edi");
    ck_assert_uint_eq(s->actions[5].n_teams, 2);
    ck_assert_str_eq(s->actions[5].teams[1], "edi");
    tkl_store_free(s);
}
END_TEST

START_TEST(columns_by_alias_and_config)
{
    opts.columns[TKL_FIELD_TITLE] = strdup("What we will do");
    struct tkl_store *s = load("RESPONSIBLE SERVICE,What we will do,Timescale,Progress - 2022\n"
                               "HR,Act,Q1 2023/24,Going well\n");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->actions[0].title, "Act");
    ck_assert_str_eq(s->actions[0].progress, "Going well");
    ck_assert_int_eq(s->actions[0].deadline.day, tkl_day_from_civil(2023, 6, 30));
    tkl_store_free(s);
}
END_TEST

START_TEST(sample_plan_loads_every_row)
{
    opts.paths = calloc(1, sizeof(char *));
    opts.paths[0] = strdup(TICKLER_SOURCE_DIR "/etc/sample-plan.csv");
    opts.n_paths = 1;
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_uint_eq(s->n, 39);
    const struct tkl_action *a = tkl_store_find(s, "EAP22-15");
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->deadline.note, "ongoing release");
    tkl_store_free(s);
}
END_TEST

/* A scratch directory for files; removed with its files by rm_tree(). */
static char tmp[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Configures path (under tmp unless absolute) as one more store path. */
static void add_path(const char *path)
{
    opts.paths = realloc(opts.paths, (opts.n_paths + 1) * sizeof(char *));
    ck_assert_ptr_nonnull(opts.paths);
    char full[128];
    snprintf(full, sizeof(full), "%s%s%s", path[0] == '/' ? "" : tmp, path[0] == '/' ? "" : "/",
             path);
    opts.paths[opts.n_paths++] = strdup(full);
}

/* path under tmp, in a static buffer. */
static const char *tmp_path(const char *name)
{
    static char full[128];
    snprintf(full, sizeof(full), "%s/%s", tmp, name);
    return full;
}

static void files_setup(void)
{
    setup();
    snprintf(tmp, sizeof(tmp), "/tmp/tickler-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void files_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
    teardown();
}

/* The store of the configured files read again with prev in force. */
static struct tkl_store *reload(const struct tkl_store *prev)
{
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_reload(&opts, &dir, prev, &s, &diags), 0);
    return s;
}

/* A deadline no row of these plans has: an action that shows it after a
 * reload was taken from the store in force, not read again. */
#define UNREAD_DAY 12345

/* Whether a and b hold the same actions, field by field. */
static bool same_actions(const struct tkl_store *a, const struct tkl_store *b)
{
#define SAME(x, y) ((x) == (y) || ((x) && (y) && strcmp((x), (y)) == 0))
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct tkl_action *x = &a->actions[i], *y = &b->actions[i];
        if (!SAME(x->id, y->id) || !SAME(x->title, y->title) ||
            !SAME(x->commitment, y->commitment) || !SAME(x->objective, y->objective) ||
            !SAME(x->owners, y->owners) || x->line != y->line || x->status != y->status ||
            x->deadline.kind != y->deadline.kind || x->deadline.day != y->deadline.day ||
            tkl_store_hash(a, i) != tkl_store_hash(b, i) || x->n_teams != y->n_teams ||
            tkl_action_rare(x)->n_warnings != tkl_action_rare(y)->n_warnings ||
            tkl_action_rare(x)->n_unmatched != tkl_action_rare(y)->n_unmatched)
            return false;
        for (size_t t = 0; t < x->n_teams; t++)
            if (!SAME(x->teams[t], y->teams[t]))
                return false;
    }
    return true;
#undef SAME
}

/* One row of a plan drawn from texts that repeat, warn, merge and clash. */
static void draw_row(unsigned *seed, char *row, size_t size)
{
    static const char *const ids[] = {"", "", "A1", "A2", "A1-2"};
    static const char *const objs[] = {"", "", "", "Employer", "Provider", " Employer "};
    static const char *const coms[] = {"", "", "Be fair", "Be open", "-"};
    static const char *const titles[] = {"Train staff", "Review pay", "", "Train staff"};
    static const char *const owners[] = {"HR", "Payroll", "", "\"HR, EDI Officer Group\""};
    static const char *const dls[] = {"April 2023", "", "Ongoing", "bogus"};
    static const char *const sts[] = {"", "Complete", "weird", ",extra"};
#define DRAW(v) v[rand_r(seed) % (sizeof(v) / sizeof(v[0]))]
    snprintf(row, size, "%s,%s,%s,%s,%s,%s,%s\n", DRAW(ids), DRAW(objs), DRAW(coms), DRAW(titles),
             DRAW(owners), DRAW(dls), DRAW(sts));
#undef DRAW
}

START_TEST(a_reload_gives_the_store_and_warnings_of_a_full_load)
{
    add_path("plan.csv");
    enum { MAX_ROWS = 16, ROW = 96 };
    char cold[4096];
    cold_dir_make(cold);
    for (unsigned seed = 1; seed <= 150; seed++) {
        unsigned rng = seed;
        opts.cold_dir = seed % 2 ? cold : NULL; /* the daemon's stores, and others */
        char rows[MAX_ROWS][ROW], text[MAX_ROWS * ROW + 64];
        size_t n = 1 + (size_t)rand_r(&rng) % 6;
        for (size_t i = 0; i < n; i++)
            draw_row(&rng, rows[i], ROW);
        struct tkl_store *prev = NULL;
        for (int step = 0; step < 4; step++) {
            /* a row inserted, deleted or redrawn */
            size_t at = (size_t)rand_r(&rng) % n;
            int op = step ? rand_r(&rng) % 3 : -1;
            if (op == 0 && n < MAX_ROWS) {
                memmove(rows[at + 1], rows[at], (n - at) * ROW);
                draw_row(&rng, rows[at], ROW);
                n++;
            } else if (op == 1 && n > 1) {
                memmove(rows[at], rows[at + 1], (n - at - 1) * ROW);
                n--;
            } else if (op == 2) {
                draw_row(&rng, rows[at], ROW);
            }
            strcpy(text, "Ref,Objective,Commitments,Actions,Responsibility,Timeframe,Status\n");
            for (size_t i = 0; i < n; i++)
                strcat(text, rows[i]);
            write_file("plan.csv", text);
            struct tkl_diags full_diags = {0};
            struct tkl_store *full = NULL, *s = NULL;
            ck_assert_int_eq(tkl_store_load(&opts, &dir, &full, &full_diags), 0);
            tkl_diags_free(&diags);
            memset(&diags, 0, sizeof(diags));
            s = reload(prev);
            ck_assert_msg(same_actions(full, s), "seed %u step %d:\n%s", seed, step, text);
            ck_assert_uint_eq(diags.n, full_diags.n);
            for (size_t i = 0; i < diags.n; i++)
                ck_assert_str_eq(diags.items[i].message, full_diags.items[i].message);
            tkl_diags_free(&full_diags);
            tkl_store_free(full);
            tkl_store_free(prev);
            prev = s;
        }
        tkl_store_free(prev);
    }
    opts.cold_dir = NULL;
    cold_dir_remove(cold);
}
END_TEST

START_TEST(a_store_read_once_has_the_same_actions_and_keeps_no_hashes)
{
    const char *csv = "Ref,Actions,Responsibility,Timeframe\nA1,Train staff,HR,April 2023\n"
                      "A1,Train staff,HR,April 2023\nA2,Review pay,Nobody,May 2023\n";
    struct tkl_store *kept = load(csv);
    ck_assert_ptr_nonnull(kept);
    opts.once = true;
    struct tkl_store *once = load(csv);
    ck_assert_ptr_nonnull(once);
    ck_assert_uint_eq(once->n, kept->n);
    ck_assert_ptr_null(once->hashes);
    ck_assert_ptr_null(once->row_hashes);
    for (size_t i = 0; i < once->n; i++) {
        ck_assert_uint_eq(tkl_store_hash(once, i), 0);
        ck_assert_uint_eq(tkl_store_hash(kept, i), tkl_action_hash(&kept->actions[i]));
        /* the same actions, A1-2 renamed in both */
        const struct tkl_action *x = &once->actions[i], *y = &kept->actions[i];
        ck_assert_str_eq(x->id, y->id);
        ck_assert_str_eq(x->title, y->title);
        ck_assert_int_eq(x->deadline.day, y->deadline.day);
        ck_assert_uint_eq(x->n_teams, y->n_teams);
        ck_assert_uint_eq(x->line, y->line);
    }
    ck_assert_str_eq(once->actions[1].id, "A1-2");
    ck_assert_uint_eq(once->n_unmatched, kept->n_unmatched);
    /* an observance appended to it gets no hash either */
    struct tkl_action *v = calloc(1, sizeof(*v));
    ck_assert_ptr_nonnull(v);
    *v = (struct tkl_action){.id = strdup("bhm"),
                             .file = strdup("events"),
                             .title = strdup("Black History Month"),
                             .deadline = {.kind = TKL_DEADLINE_EVENT}};
    ck_assert_int_eq(tkl_store_append(once, v, 1, &diags), 0);
    free(v);
    ck_assert_ptr_null(once->hashes);
    ck_assert_uint_eq(tkl_store_hash(once, 3), 0);
    tkl_store_free(once);
    tkl_store_free(kept);
}
END_TEST

START_TEST(a_reload_reads_again_only_the_rows_that_changed)
{
    write_file("plan.csv", "Ref,Commitments,Actions,Responsibility,Timeframe\n"
                           "A1,Be fair,Train staff,HR,April 2023\n"
                           "A2,,Review pay,HR,May 2023\n"
                           "A3,Be open,Publish data,HR,June 2023\n");
    add_path("plan.csv");
    struct tkl_store *old = reload(NULL);
    ck_assert_uint_eq(old->n, 3);
    uint64_t h1 = hash_of(old, tkl_store_find(old, "A1"));
    ck_assert_uint_eq(h1, tkl_action_hash(tkl_store_find(old, "A1")));
    for (size_t i = 0; i < old->n; i++)
        old->actions[i].deadline.day = UNREAD_DAY;
    /* a row inserted above them, and A3 given a new deadline */
    write_file("plan.csv", "Ref,Commitments,Actions,Responsibility,Timeframe\n"
                           "A0,Be quick,New action,HR,March 2023\n"
                           "A1,Be fair,Train staff,HR,April 2023\n"
                           "A2,,Review pay,HR,May 2023\n"
                           "A3,Be open,Publish data,HR,July 2023\n");
    struct tkl_store *s = reload(old);
    tkl_store_free(old); /* the new store holds nothing of the old */
    ck_assert_uint_eq(s->n, 4);
    ck_assert_int_eq(s->actions[0].deadline.day, tkl_day_from_civil(2023, 3, 31));
    const struct tkl_action *a1 = tkl_store_find(s, "A1"), *a2 = tkl_store_find(s, "A2");
    ck_assert_int_eq(a1->deadline.day, UNREAD_DAY); /* taken as read before */
    ck_assert_uint_eq(a1->line, 3);                 /* at its new line */
    ck_assert_str_eq(a1->file, tmp_path("plan.csv"));
    ck_assert_str_eq(a1->teams[0], "hr");
    ck_assert_uint_eq(hash_of(s, a1), h1); /* kept from the read before */
    ck_assert_int_eq(a2->deadline.day, UNREAD_DAY);
    ck_assert_str_eq(a2->commitment, "Be fair"); /* carried down, as read */
    ck_assert_uint_eq(a2->line, 4);
    const struct tkl_action *a3 = tkl_store_find(s, "A3");
    ck_assert_int_eq(a3->deadline.day, tkl_day_from_civil(2023, 7, 31)); /* read again */
    ck_assert_uint_eq(hash_of(s, a3), tkl_action_hash(a3));
    for (unsigned line = 2; line <= 5; line++)
        ck_assert(!has_diag(line, ""));
    tkl_store_free(s);
}
END_TEST

/* The plan of the keeping test: n rows, row i's deadline month
 * months[i], and its last row ending in a byte that is not UTF-8 when
 * late (past the first 64 KiB the file is read by). */
static void write_kept_plan(const int *months, size_t n, bool late)
{
    size_t size = 128 + n * 80;
    char *text = malloc(size);
    ck_assert_ptr_nonnull(text);
    size_t len = (size_t)snprintf(text, size, "Ref,Commitments,Actions,Responsibility,Timeframe\n");
    static const char *const names[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, size - len,
                                "A%zu,Be fair,Train staff group %zu%s,HR,%s 2023\n", i, i,
                                late && i == n - 1 ? " caf\xe9" : "", names[months[i] - 1]);
    ck_assert_uint_lt(len, size);
    ck_assert(!late || len > 65536);
    write_file("plan.csv", text);
    free(text);
}

/* The store of the keeping test's first plan, months[i] its row i's
 * deadline month, configured as the only file. */
static struct tkl_store *load_kept_plan(int *months, size_t n)
{
    for (size_t i = 0; i < n; i++)
        months[i] = 1 + (int)(i % 12);
    write_kept_plan(months, n, false);
    add_path("plan.csv");
    return reload(NULL);
}

/* Every text of s read (AddressSanitizer sees one freed with a store
 * before it), and s the store a full load of the same files gives. */
static void check_like_a_full_load(const struct tkl_store *s)
{
    size_t sum = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct tkl_action *a = &s->actions[i];
        sum += strlen(a->id) + strlen(a->file) + strlen(a->title) + strlen(a->owners) +
               strlen(a->deadline_text) + strlen(a->commitment);
        for (size_t t = 0; t < a->n_teams; t++)
            sum += strlen(a->teams[t]);
    }
    ck_assert_uint_gt(sum, 0);
    struct tkl_diags d = {0};
    struct tkl_store *full = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &full, &d), 0);
    ck_assert(same_actions(full, s));
    tkl_store_free(full);
    tkl_diags_free(&d);
}

/* A reload that changes one row of many keeps the texts of the rows it
 * takes again where the store before held them (that store's arena kept,
 * not copied), for up to TKL_ROWS_MAX_KEPT_LOADS reloads in a row; the
 * next copies them all, and so does one that changes more than an eighth
 * of the rows. Each store outlives the one before it, and is the store a
 * full load gives. */
START_TEST(a_reload_keeps_the_texts_of_the_rows_it_takes_again)
{
    enum { N = 1500 };
    static int months[N];
    struct tkl_store *prev = load_kept_plan(months, N);
    ck_assert_uint_eq(prev->n_kept_loads, 0);
    for (unsigned k = 1; k <= TKL_ROWS_MAX_KEPT_LOADS + 1; k++) {
        months[10] = 1 + (int)(k % 12); /* one row changed */
        write_kept_plan(months, N, false);
        struct tkl_store *s = reload(prev);
        const char *was = tkl_store_find(prev, "A5")->title;
        const char *is = tkl_store_find(s, "A5")->title;
        if (k <= TKL_ROWS_MAX_KEPT_LOADS) {
            ck_assert_uint_eq(s->n_kept_loads, k);
            ck_assert_uint_eq(s->n_stale, k); /* each reload's changed row */
            ck_assert_ptr_eq(is, was);
        } else {
            ck_assert_uint_eq(s->n_kept_loads, 0);
            ck_assert_uint_eq(s->n_stale, 0);
            ck_assert_ptr_ne(is, was);
        }
        ck_assert_str_eq(is, "Train staff group 5");
        tkl_store_free(prev);
        check_like_a_full_load(s);
        prev = s;
    }
    /* more than an eighth of the rows changed */
    for (size_t i = 0; i <= N / 8; i++)
        months[i] = 1 + (int)((i + 5) % 12);
    write_kept_plan(months, N, false);
    struct tkl_store *s = reload(prev);
    ck_assert_uint_eq(s->n_kept_loads, 0);
    ck_assert_ptr_ne(tkl_store_find(s, "A1400")->title, tkl_store_find(prev, "A1400")->title);
    tkl_store_free(prev);
    check_like_a_full_load(s);
    prev = s;
    /* the last row not UTF-8: the rows taken again before the byte was
     * met are dropped (they put no text in the new arena), the file read
     * again as Windows-1252, and each row taken again once */
    write_kept_plan(months, N, true);
    s = reload(prev);
    ck_assert_uint_eq(s->n_kept_loads, 1);
    ck_assert_uint_eq(s->n_stale, 1);
    ck_assert_str_eq(tkl_store_find(s, "A1499")->title, "Train staff group 1499 caf\xc3\xa9");
    ck_assert_ptr_eq(tkl_store_find(s, "A1400")->title, tkl_store_find(prev, "A1400")->title);
    tkl_store_free(prev);
    check_like_a_full_load(s);
    prev = s;
    /* 100 rows before the byte changed: read anew, dropped, read anew
     * again; the 100 dropped count as texts no action reads, and with
     * the 100 of prev not taken again they pass an eighth: copied */
    for (size_t i = 0; i < 100; i++)
        months[i] = 1 + (months[i] % 12);
    write_kept_plan(months, N, true);
    s = reload(prev);
    ck_assert_uint_eq(s->n_kept_loads, 0);
    ck_assert_uint_eq(s->n_stale, 100);
    tkl_store_free(prev);
    check_like_a_full_load(s);
    tkl_store_free(s);
}
END_TEST

/* A store that may be reloaded, given a cold directory (the daemon's
 * state directory), holds its actions, their hashes and their texts in
 * cold memory there, through reloads and appended observances, with the
 * actions a store in private memory has; a store read once, or one whose
 * directory cannot hold cold memory, is in private memory. Nothing stays
 * mapped, and the directory holds no file. */
START_TEST(a_reloadable_store_is_held_in_cold_memory)
{
    char cold[4096];
    cold_dir_make(cold);
    add_path("plan.csv");
    write_file("plan.csv", "Ref,Actions,Responsibility,Timeframe\nA1,Train staff,HR,April 2023\n"
                           "A2,Review pay,Nobody,May 2023\nA3,Publish data,HR,June 2023\n");
    struct tkl_store *warm = NULL, *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &warm, &diags), 0);
    ck_assert_uint_eq(warm->actions_cold, 0);
    opts.cold_dir = cold;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_uint_gt(s->actions_cold, 0);
    ck_assert(cold_at(s->actions, cold));
    ck_assert(cold_at(&s->actions[s->n - 1], cold));
    ck_assert(cold_at(s->hashes, cold));
    ck_assert(cold_at(&s->row_hashes[s->n - 1], cold));
    ck_assert(cold_at(s->actions[1].title, cold));
    ck_assert(same_actions(warm, s));
    ck_assert_int_eq(cold_dir_entries(cold), 0);
    ck_assert_int_eq(cold_fds(cold), 2); /* the actions', the hashes' */
    size_t in_files, in_private;
    tkl_store_bytes(s, &in_files, &in_private);
    ck_assert_uint_eq(in_private, 0);
    ck_assert_uint_ge(in_files, 3 * (sizeof(struct tkl_action) + 16));
    tkl_store_bytes(warm, &in_files, &in_private);
    ck_assert_uint_eq(in_files, 0);
    ck_assert_uint_ge(in_private, 3 * (sizeof(struct tkl_action) + 16));

    write_file("plan.csv", "Ref,Actions,Responsibility,Timeframe\nA1,Train staff,HR,April 2023\n"
                           "A2,Review pay fairly,Nobody,May 2023\nA3,Publish data,HR,June 2023\n");
    struct tkl_store *next = reload(s);
    tkl_store_free(s);
    tkl_store_free(warm);
    opts.cold_dir = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &warm, &diags), 0);
    ck_assert_uint_gt(next->actions_cold, 0);
    ck_assert(same_actions(warm, next));
    ck_assert_str_eq(tkl_store_find(next, "A1")->title, "Train staff");
    ck_assert(cold_at(tkl_store_find(next, "A2")->title, cold));

    /* an observance appended: still cold, with its hash, the row hashes
     * of the others moved up in their block as it grew */
    uint64_t row_hashes[3];
    memcpy(row_hashes, next->row_hashes, sizeof(row_hashes));
    ck_assert(row_hashes[0] || row_hashes[1] || row_hashes[2]); /* not all 0: the check can fail */
    struct tkl_action *v = calloc(1, sizeof(*v));
    ck_assert_ptr_nonnull(v);
    *v = (struct tkl_action){.id = strdup("bhm"),
                             .file = strdup("events"),
                             .title = strdup("Black History Month"),
                             .deadline = {.kind = TKL_DEADLINE_EVENT}};
    ck_assert_int_eq(tkl_store_append(next, v, 1, &diags), 0);
    free(v);
    ck_assert_uint_gt(next->actions_cold, 0);
    ck_assert(cold_at(&next->actions[3], cold));
    ck_assert(cold_at(tkl_store_find(next, "bhm")->title, cold));
    ck_assert_str_eq(tkl_store_find(next, "bhm")->title, "Black History Month");
    ck_assert_uint_eq(tkl_store_hash(next, 3), tkl_action_hash(&next->actions[3]));
    ck_assert_str_eq(tkl_store_find(next, "A3")->title, "Publish data");
    ck_assert_uint_eq(tkl_store_hash(next, 2), hash_of(warm, tkl_store_find(warm, "A3")));
    ck_assert_int_eq(memcmp(row_hashes, next->row_hashes, sizeof(row_hashes)), 0);
    ck_assert_uint_eq(next->row_hashes[3], 0);
    tkl_store_free(next);

    opts.cold_dir = cold; /* read once: private memory */
    opts.once = true;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_uint_eq(s->actions_cold + s->hashes_cold, 0);
    ck_assert(!cold_at(s->actions[0].title, cold));
    tkl_store_free(s);
    opts.once = false;
    cold_dir_remove(cold);
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0); /* its directory gone */
    ck_assert_uint_eq(s->actions_cold + s->hashes_cold, 0);
    ck_assert(same_actions(warm, s));
    tkl_store_free(s);
    tkl_store_free(warm);
    opts.cold_dir = NULL;
}
END_TEST

/* plan.csv of n rows A0.. (deadlines in April and May 2023), configured
 * as the store's one path. */
static void write_large_plan(int n)
{
    char *text = malloc((size_t)n * 64 + 64);
    ck_assert_ptr_nonnull(text);
    size_t len = (size_t)sprintf(text, "Ref,Actions,Responsibility,Timeframe\n");
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "A%d,Train staff group %d,HR,%s 2023\n", i, i,
                               i % 2 ? "April" : "May");
    write_file("plan.csv", text);
    free(text);
    add_path("plan.csv");
}

/* A large plan of a store kept in cold memory (whose actions are built
 * there, row.c) loads as in private memory, at every allocation that can
 * fail, and leaves nothing mapped when it fails. */
START_TEST(a_large_plan_loads_in_cold_memory_at_every_failure)
{
    enum { N = 9000 }; /* actions past 1 MiB */
    char cold[4096];
    cold_dir_make(cold);
    write_large_plan(N);
    struct tkl_store *warm = NULL, *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &warm, &diags), 0);
    opts.cold_dir = cold;
    unsigned long n;
    for (n = 1;; n++) {
        struct tkl_diags d = {0};
        alloc_fail_nth(n);
        int r = tkl_store_load(&opts, &dir, &s, &d);
        alloc_fail_nth(0);
        tkl_diags_free(&d);
        if (r == 0)
            break;
        ck_assert_int_eq(r, -ENOMEM);
        ck_assert_int_eq(cold_maps(NULL, cold), 0); /* nothing left behind */
    }
    ck_assert_uint_gt(n, 5);
    ck_assert(s->actions_cold && s->hashes_cold);
    ck_assert(cold_at(&s->actions[N - 1], cold));
    ck_assert(same_actions(warm, s));
    struct tkl_store *next = reload(s); /* reserves prev's size at once */
    ck_assert_uint_gt(next->actions_cold, 0);
    ck_assert(same_actions(warm, next));
    tkl_store_free(s);
    tkl_store_free(next);
    tkl_store_free(warm);
    opts.cold_dir = NULL;
    cold_dir_remove(cold);
}
END_TEST

/* A store whose cold files cannot grow (here the process's file size
 * limit, as a full disk would) moves what it holds into private memory and
 * loads, reloads and takes observances as it would there. */
START_TEST(a_store_out_of_cold_room_goes_on_in_private_memory)
{
    enum { N = 9000 };
    char cold[4096];
    cold_dir_make(cold);
    write_large_plan(N);
    struct tkl_store *warm = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &warm, &diags), 0);
    opts.cold_dir = cold;
    struct sigaction ign = {.sa_handler = SIG_IGN}, was;
    ck_assert_int_eq(sigaction(SIGXFSZ, &ign, &was), 0);
    struct rlimit lim, old_lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    /* the actions' file starts at 1 MiB and cannot double; the hashes'
     * (16 bytes an action) fits. Nothing is asserted under the limit:
     * Check writes its messages to a file too */
    lim = old_lim;
    lim.rlim_cur = (rlim_t)1 << 20;
    struct tkl_store *s = NULL, *next = NULL;
    int r1 = setrlimit(RLIMIT_FSIZE, &lim);
    int r2 = r1 ? r1 : tkl_store_load(&opts, &dir, &s, &diags);
    int r3 = r2 ? r2 : tkl_store_reload(&opts, &dir, s, &next, &diags);
    int r4 = setrlimit(RLIMIT_FSIZE, &old_lim);
    ck_assert_int_eq(r4, 0);
    ck_assert_int_eq(r3, 0);
    ck_assert_uint_eq(s->actions_cold, 0);
    ck_assert_int_eq(s->cold_error, -EFBIG);
    ck_assert_uint_gt(s->hashes_cold, 0);
    ck_assert(same_actions(warm, s));
    ck_assert_uint_eq(next->actions_cold, 0);
    ck_assert(same_actions(warm, next));
    tkl_store_free(s);
    tkl_store_free(next);

    /* a small plan, all of it cold; then no room at all: what is cold
     * moves out into private memory as an observance is appended */
    write_file("plan.csv", "Ref,Actions,Responsibility,Timeframe\nA1,Train staff,HR,April 2023\n"
                           "A2,Review pay,Nobody,May 2023\n");
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_uint_gt(s->actions_cold, 0);
    ck_assert_uint_gt(s->hashes_cold, 0);
    uint64_t h[2] = {s->hashes[0], s->hashes[1]}, rh[2] = {s->row_hashes[0], s->row_hashes[1]};
    ck_assert_int_eq(cold_fds(cold), 2);
    struct tkl_action *v = calloc(1, sizeof(*v));
    ck_assert_ptr_nonnull(v);
    *v = (struct tkl_action){.id = strdup("bhm"),
                             .file = strdup("events"),
                             .title = strdup("Black History Month"),
                             .deadline = {.kind = TKL_DEADLINE_EVENT}};
    lim.rlim_cur = 0;
    r1 = setrlimit(RLIMIT_FSIZE, &lim);
    r2 = r1 ? r1 : tkl_store_append(s, v, 1, &diags);
    r4 = setrlimit(RLIMIT_FSIZE, &old_lim);
    ck_assert_int_eq(r4, 0);
    ck_assert_int_eq(r2, 0);
    free(v);
    ck_assert_int_eq(sigaction(SIGXFSZ, &was, NULL), 0);
    ck_assert_uint_eq(s->actions_cold, 0);
    ck_assert_uint_eq(s->hashes_cold, 0);
    ck_assert_int_eq(cold_fds(cold), 0);
    ck_assert_uint_eq(s->n, 3);
    ck_assert_str_eq(tkl_store_find(s, "A1")->title, "Train staff");
    ck_assert_str_eq(tkl_store_find(s, "bhm")->title, "Black History Month");
    ck_assert(s->hashes[0] == h[0] && s->hashes[1] == h[1]);
    ck_assert(s->row_hashes[0] == rh[0] && s->row_hashes[1] == rh[1]);
    ck_assert_uint_eq(s->hashes[2], tkl_action_hash(&s->actions[2]));
    tkl_store_free(s);
    tkl_store_free(warm);
    opts.cold_dir = NULL;
    cold_dir_remove(cold);
}
END_TEST

/* A reload failing its 1st, 2nd, ... allocation returns -ENOMEM and
 * leaves the store in force whole, whether it would keep that store's
 * texts or copy them, until one fails nothing. */
START_TEST(a_reload_out_of_memory_leaves_the_store_in_force)
{
    enum { N = 200 };
    static int months[N];
    char cold[4096];
    cold_dir_make(cold);
    for (int in_cold = 0; in_cold < 2; in_cold++) { /* private memory, then cold */
        opts.cold_dir = in_cold ? cold : NULL;
        if (in_cold) /* load_kept_plan adds its path again */
            free(opts.paths[--opts.n_paths]);
        struct tkl_store *prev = load_kept_plan(months, N);
        ck_assert((prev->actions_cold != 0) == (bool)in_cold);
        for (size_t changed = 1; changed <= N / 4; changed += N / 4 - 1) {
            for (size_t i = 0; i < changed; i++)
                months[i] = 1 + (int)((months[i] + 1) % 12);
            write_kept_plan(months, N, false);
            unsigned long n;
            struct tkl_store *s = NULL;
            for (n = 1;; n++) {
                struct tkl_diags d = {0};
                alloc_fail_nth(n);
                int r = tkl_store_reload(&opts, &dir, prev, &s, &d);
                alloc_fail_nth(0);
                tkl_diags_free(&d);
                if (r == 0)
                    break;
                ck_assert_int_eq(r, -ENOMEM);
                ck_assert_ptr_null(s);
                ck_assert_str_eq(tkl_store_find(prev, "A150")->title, "Train staff group 150");
            }
            ck_assert_uint_gt(n, 10);
            ck_assert_uint_eq(s->n_kept_loads, changed == 1 ? 1 : 0);
            ck_assert((s->actions_cold != 0) == (bool)in_cold);
            tkl_store_free(prev);
            check_like_a_full_load(s);
            prev = s;
        }
        tkl_store_free(prev);
    }
    opts.cold_dir = NULL;
    cold_dir_remove(cold);
}
END_TEST

START_TEST(a_row_below_a_changed_carried_text_is_read_again)
{
    write_file("plan.csv", "Ref,Commitments,Actions,Responsibility\n"
                           "A1,Be fair,Train staff,HR\nA2,,Review pay,HR\n");
    add_path("plan.csv");
    struct tkl_store *old = reload(NULL);
    old->actions[1].deadline.day = UNREAD_DAY;
    write_file("plan.csv", "Ref,Commitments,Actions,Responsibility\n"
                           "A1,Be kind,Train staff,HR\nA2,,Review pay,HR\n");
    struct tkl_store *s = reload(old);
    tkl_store_free(old);
    /* A2's own cells are the same; the commitment merged over it is not */
    ck_assert_str_eq(s->actions[1].commitment, "Be kind");
    ck_assert_int_ne(s->actions[1].deadline.day, UNREAD_DAY);
    tkl_store_free(s);
}
END_TEST

/* Loads plan.csv: a header, first (a row owned by Payroll, which matches
 * no team), a row past the first 64 KiB the file is read in, and last on
 * line 4. Checks the row warned about, read in the first block, is warned
 * of once (no second reading of the file repeats it). */
static struct tkl_store *load_long_plan(const char *first, const char *last)
{
    char *text = malloc(70200);
    ck_assert_ptr_nonnull(text);
    snprintf(text, 200, "Actions,Responsibility\n%s,Payroll\nLong ", first);
    size_t at = strlen(text);
    memset(text + at, 'x', 70000);
    snprintf(text + at + 70000, 200, ",HR\n%s,HR\n", last);
    write_file("plan.csv", text);
    free(text);
    add_path("plan.csv");
    struct tkl_store *s = reload(NULL);
    ck_assert_uint_eq(s->n, 3);
    ck_assert_uint_eq(s->actions[2].line, 4);
    size_t payroll = 0;
    for (size_t i = 0; i < diags.n; i++)
        payroll += strstr(diags.items[i].message, "\"Payroll\" matches no team") != NULL;
    ck_assert_uint_eq(payroll, 1);
    return s;
}

START_TEST(a_file_not_utf8_is_read_as_windows_1252_once)
{
    /* mostly not UTF-8: dropped when the byte is met, read again whole */
    struct tkl_store *s = load_long_plan("Train staff", "R\xe9view pay");
    ck_assert_str_eq(s->actions[2].title, "R\xc3\xa9view pay");
    ck_assert(has_diag(4, "not valid UTF-8; the file was read as Windows-1252"));
    tkl_store_free(s);
}
END_TEST

/* A plan mostly UTF-8 with a stray byte past its first 64 KiB: its UTF-8
 * kept and the byte alone read as Windows-1252, the warning at the byte's
 * line. */
START_TEST(a_stray_byte_in_a_utf8_file_is_read_alone_as_windows_1252)
{
    struct tkl_store *s = load_long_plan("Caf\xc3\xa9 \xe2\x80\x93 staff", "Let\x92s review pay");
    ck_assert_str_eq(s->actions[0].title, "Caf\xc3\xa9 \xe2\x80\x93 staff");
    ck_assert_str_eq(s->actions[2].title, "Let\xe2\x80\x99s review pay");
    ck_assert(has_diag(4, "not valid UTF-8: byte 0x92 \"\xe2\x80\x99\" read as Windows-1252"));
    ck_assert(!has_diag(4, "the file was read as Windows-1252"));
    tkl_store_free(s);
}
END_TEST

START_TEST(a_row_whose_hash_matches_another_row_is_read_again)
{
    add_path("plan.csv");
    write_file("plan.csv", "Ref,Actions,Responsibility,Timeframe\nA1,Review pay,HR,May 2023\n");
    struct tkl_store *other = reload(NULL);
    write_file("plan.csv", "Ref,Actions,Responsibility,Timeframe\nA1,Train staff,HR,April 2023\n");
    struct tkl_store *old = reload(NULL);
    /* the 64-bit hash of the next plan's row, as a collision would give it */
    old->row_hashes[0] = other->row_hashes[0];
    old->actions[0].deadline.day = UNREAD_DAY;
    tkl_store_free(other);
    write_file("plan.csv", "Ref,Actions,Responsibility,Timeframe\nA1,Review pay,HR,May 2023\n");
    struct tkl_store *s = reload(old);
    tkl_store_free(old);
    ck_assert_str_eq(s->actions[0].title, "Review pay");
    ck_assert_int_eq(s->actions[0].deadline.day, tkl_day_from_civil(2023, 5, 31));
    tkl_store_free(s);
}
END_TEST

START_TEST(a_row_is_read_again_when_the_teams_change)
{
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,Train staff,Payroll\n");
    add_path("plan.csv");
    struct tkl_store *old = reload(NULL);
    ck_assert_str_eq(old->actions[0].teams[0], "edi"); /* the fallback */
    ck_assert_uint_eq(tkl_action_rare(&old->actions[0])->n_warnings, 1);
    ck_assert(has_diag(2, "\"Payroll\" matches no team"));
    /* a warned row is read again, warnings and all */
    tkl_diags_free(&diags);
    memset(&diags, 0, sizeof(diags));
    struct tkl_store *again = reload(old);
    ck_assert(has_diag(2, "\"Payroll\" matches no team"));
    ck_assert_uint_eq(tkl_action_rare(&again->actions[0])->n_warnings, 1);
    tkl_store_free(old);
    /* the team directory learns the name: the row resolves to hr now */
    again->actions[0].deadline.day = UNREAD_DAY;
    ck_assert_int_eq(tkl_team_add_key(&dir.teams[0], "Payroll"), 0);
    tkl_diags_free(&diags);
    memset(&diags, 0, sizeof(diags));
    struct tkl_store *s = reload(again);
    tkl_store_free(again);
    ck_assert_uint_eq(s->actions[0].n_teams, 1);
    ck_assert_str_eq(s->actions[0].teams[0], "hr");
    ck_assert_int_ne(s->actions[0].deadline.day, UNREAD_DAY);
    ck_assert(!has_diag(2, ""));
    tkl_store_free(s);
}
END_TEST

START_TEST(repeated_rows_taken_again_keep_distinct_ids)
{
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,Train staff,HR\nA1,Train staff,HR\n");
    add_path("plan.csv");
    struct tkl_store *old = reload(NULL);
    ck_assert_str_eq(old->actions[1].id, "A1-2");
    old->actions[0].deadline.day = UNREAD_DAY;
    tkl_diags_free(&diags);
    memset(&diags, 0, sizeof(diags));
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,Train staff,HR\nA1,Train staff,HR\n"
                           "A1,Train staff,HR\n");
    struct tkl_store *s = reload(old);
    tkl_store_free(old);
    ck_assert_uint_eq(s->n, 3);
    ck_assert_str_eq(s->actions[0].id, "A1");
    ck_assert_str_eq(s->actions[1].id, "A1-2");
    ck_assert_str_eq(s->actions[2].id, "A1-3");
    ck_assert(has_diag(3, "this row is A1-2"));
    ck_assert(has_diag(4, "this row is A1-3"));
    for (size_t i = 0; i < 3; i++) /* each identical row took the first */
        ck_assert_int_eq(s->actions[i].deadline.day, UNREAD_DAY);
    ck_assert_ptr_eq(tkl_store_find(s, "A1-3"), &s->actions[2]);
    tkl_store_free(s);
}
END_TEST

/* Identical rows all take the one action they match; the others a load
 * read from them (renamed, so never taken) count as texts no reload
 * reads: each action of the store before counts once, however often it
 * is taken. */
START_TEST(repeated_rows_count_each_action_taken_once)
{
    char text[4096] = "Ref,Actions,Responsibility\n";
    for (int i = 0; i < 64; i++) {
        char row[64];
        snprintf(row, sizeof(row), "A%d,Train staff group %d,HR\n", i < 6 ? 0 : i, i < 6 ? 0 : i);
        strcat(text, row);
    }
    write_file("plan.csv", text);
    add_path("plan.csv");
    struct tkl_store *old = reload(NULL);
    ck_assert_str_eq(old->actions[5].id, "A0-6");
    struct tkl_store *s = reload(old); /* unchanged */
    ck_assert_uint_eq(s->n_kept_loads, 1);
    ck_assert_uint_eq(s->n_stale, 5); /* A0-2 to A0-6 of old */
    for (size_t i = 0; i < 6; i++)    /* each identical row took the first */
        ck_assert_ptr_eq(s->actions[i].title, old->actions[0].title);
    tkl_store_free(old);
    check_like_a_full_load(s);
    tkl_store_free(s);
}
END_TEST

START_TEST(a_directory_is_its_csv_files_in_name_order)
{
    char plans[128];
    snprintf(plans, sizeof(plans), "%s/plans", tmp);
    ck_assert_int_eq(mkdir(plans, 0700), 0);
    write_file("plans/b.csv", "Actions,Responsibility\nFrom b,HR\n");
    write_file("plans/a.CSV", "Actions,Responsibility\nFrom a,HR\n");
    write_file("plans/notes.txt", "not a plan\n");
    write_file("plans/.hidden.csv", "not, read\n");
    write_file("extra.csv", "Actions,Responsibility\nFrom extra,HR\n");
    add_path("plans");
    add_path("extra.csv");
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_uint_eq(s->n, 3);
    ck_assert_str_eq(s->actions[0].title, "From a");
    ck_assert_str_eq(s->actions[1].title, "From b");
    ck_assert_str_eq(s->actions[2].title, "From extra");
    ck_assert_ptr_nonnull(strstr(s->actions[0].file, "/plans/a.CSV"));
    ck_assert_uint_eq(s->actions[0].line, 2);
    tkl_store_free(s);
}
END_TEST

START_TEST(an_empty_directory_is_a_warning)
{
    add_path(".");
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_uint_eq(s->n, 0);
    ck_assert(has_diag(0, "no plan files in this directory"));
    ck_assert(!tkl_diags_has_errors(&diags));
    tkl_store_free(s);
}
END_TEST

/* A FIFO (which blocked the load, and the daemon's loop, until a writer
 * came) or a directory with a plan's name is refused as not a regular
 * file; the regular plans beside them are read. */
START_TEST(what_is_not_a_regular_file_is_refused)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/plans", tmp);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    write_file("plans/a.csv", "Actions,Responsibility\nOne,HR\n");
    snprintf(path, sizeof(path), "%s/plans/fifo.csv", tmp);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    snprintf(path, sizeof(path), "%s/plans/old.docx", tmp);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    add_path("plans");
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -ENODEV);
    ck_assert_ptr_null(s);
    ck_assert_uint_eq(diags.n_errors, 2);
    for (size_t i = 0; i < diags.n; i++)
        if (diags.items[i].severity == TKL_SEV_ERROR)
            ck_assert_str_eq(diags.items[i].message,
                             "cannot read: not a regular file (a directory, FIFO or device)");
}
END_TEST

START_TEST(one_bad_file_fails_the_whole_load)
{
    write_file("good.csv", "Actions,Responsibility\nOne,HR\n");
    write_file("bad.csv", "Name,Owner\nx,HR\n");
    add_path("good.csv");
    add_path("bad.csv");
    add_path("missing.csv");
    static struct tkl_store untouched;
    struct tkl_store *s = &untouched;
    /* the first error met: paths are looked at before files are read */
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -ENOENT);
    ck_assert_ptr_eq(s, &untouched);
    ck_assert(has_diag(0, "no header row with an action column"));
    ck_assert(has_diag(0, "cannot read the store: No such file or directory"));
    ck_assert_uint_eq(diags.n_errors, 2);
}
END_TEST

/* Whether diags has a diagnostic of severity sev whose message holds text. */
static bool has_diag_of(enum tkl_severity sev, const char *text)
{
    for (size_t i = 0; i < diags.n; i++)
        if (diags.items[i].severity == sev && strstr(diags.items[i].message, text))
            return true;
    return false;
}

/* The store of the configured files, loaded with copies kept in tmp (the
 * state directory), and their copies made as the daemon makes them. */
static struct tkl_store *load_keeping(const struct tkl_store *prev)
{
    opts.keep_dir = tmp;
    struct tkl_store *s = NULL;
    int r = tkl_store_reload(&opts, &dir, prev, &s, &diags);
    if (r < 0)
        return NULL;
    ck_assert_int_ge(tkl_store_keep(s, tmp), 0);
    return s;
}

/* A warning of the copy in force names the line of the copy, not of the
 * file now there: it says so, where one the broken file repeats is told
 * once, as the file's. */
START_TEST(a_warning_of_the_copy_in_force_says_it_is_of_the_copy)
{
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,Train managers,HR\n"
                           "A2,Audit,Nobody Known\n");
    add_path("plan.csv");
    struct tkl_store *good = load_keeping(NULL);
    ck_assert_ptr_nonnull(good);
    ck_assert(has_diag(3, "Nobody Known"));
    /* rows added above it, then saved broken further down */
    write_file("plan.csv", "Ref,Actions,Responsibility\nA0,New,HR\nA1,Train managers,HR\n"
                           "A2,Audit,Nobody Known\nA3,\"Broken,HR\n");
    tkl_diags_free(&diags);
    struct tkl_store *s = load_keeping(good);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n_from_copies, 1);
    ck_assert_uint_eq(s->n, 2);
    size_t of_copy = 0, of_file = 0;
    for (size_t i = 0; i < diags.n; i++) {
        if (!strstr(diags.items[i].message, "Nobody Known"))
            continue;
        if (strstr(diags.items[i].message, "(in the file as last read good, in force)")) {
            ck_assert_uint_eq(diags.items[i].line, 3); /* the copy's line */
            of_copy++;
        } else {
            of_file++;
        }
    }
    ck_assert_uint_eq(of_copy, 1);
    /* the broken file's own read told its row 4 before failing, or not at all */
    ck_assert_uint_le(of_file, 1);
    if (of_file)
        ck_assert(has_diag(4, "Nobody Known"));
    tkl_store_free(s);
    tkl_store_free(good);
}
END_TEST

/* A plan file saved broken, or gone, is read from its copy as last read
 * good: the load succeeds on it, says so, and tells the file's own
 * problems as warnings; the other files are read as they now are. */
START_TEST(a_file_that_cannot_be_read_is_read_as_last_read_good)
{
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,Train managers,HR\nA2,Audit,HR\n");
    write_file("more.csv", "Ref,Actions,Responsibility\nB1,Recruit,HR\n");
    add_path("plan.csv");
    add_path("more.csv");
    struct tkl_store *good = load_keeping(NULL);
    ck_assert_ptr_nonnull(good);
    ck_assert_uint_eq(good->n_reads, 2);
    ck_assert_uint_eq(good->n_from_copies, 0);
    /* saved broken (a quote never closed), while the other file changes */
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,\"Train managers,HR\n");
    write_file("more.csv", "Ref,Actions,Responsibility\nB1,Recruit,HR\nB2,Retain,HR\n");
    tkl_diags_free(&diags);
    struct tkl_store *s = load_keeping(good);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(diags.n_errors, 0);
    ck_assert(has_diag_of(TKL_SEV_WARNING, "a quoted field is never closed"));
    ck_assert(has_diag_of(TKL_SEV_WARNING, "cannot be read, so the file as last read good"));
    ck_assert_uint_eq(s->n_from_copies, 1);
    ck_assert_uint_eq(s->n, 4);
    ck_assert_ptr_nonnull(tkl_store_find(s, "A2"));
    ck_assert_ptr_nonnull(tkl_store_find(s, "B2")); /* the other file as it now is */
    ck_assert_uint_eq(s->n_reads, 1);               /* the broken file's copy stays */
    /* gone (a share not mounted): the same */
    ck_assert_int_eq(unlink(tmp_path("plan.csv")), 0);
    tkl_diags_free(&diags);
    struct tkl_store *gone = load_keeping(s);
    ck_assert_ptr_nonnull(gone);
    ck_assert(has_diag_of(TKL_SEV_WARNING, "cannot read the store: No such file or directory"));
    ck_assert_uint_eq(gone->n, 4);
    ck_assert_ptr_nonnull(tkl_store_find(gone, "A1"));
    /* caught while being saved (it ends inside a row): read, but not
     * kept as the copy */
    write_file("plan.csv", "Ref,Actions,Responsibility\nA4,Cut,HR\nA5,Cu");
    tkl_diags_free(&diags);
    struct tkl_store *cut = load_keeping(gone);
    ck_assert_ptr_nonnull(cut);
    ck_assert_ptr_nonnull(tkl_store_find(cut, "A5"));
    tkl_store_free(cut);
    ck_assert_int_eq(unlink(tmp_path("plan.csv")), 0);
    tkl_diags_free(&diags);
    cut = load_keeping(gone);
    ck_assert_ptr_nonnull(cut);
    ck_assert_ptr_nonnull(tkl_store_find(cut, "A1")); /* the copy before */
    ck_assert_ptr_null(tkl_store_find(cut, "A5"));
    tkl_store_free(cut);
    /* mended: read as it is again */
    write_file("plan.csv", "Ref,Actions,Responsibility\nA3,New,HR\n");
    tkl_diags_free(&diags);
    struct tkl_store *mended = load_keeping(gone);
    ck_assert_ptr_nonnull(mended);
    ck_assert_uint_eq(mended->n_from_copies, 0);
    ck_assert(!has_diag_of(TKL_SEV_WARNING, "last read good"));
    ck_assert_ptr_null(tkl_store_find(mended, "A1"));
    ck_assert_ptr_nonnull(tkl_store_find(mended, "A3"));
    tkl_store_free(mended);
    tkl_store_free(gone);
    tkl_store_free(s);
    tkl_store_free(good);
}
END_TEST

/* A plan caught while being saved inside a quoted field (a cell of
 * several lines): a read that may be held (the daemon's, after a file
 * changed) reads it as caught so (unsettled), neither refused nor read
 * from its copy, and not kept as the copy; read again whole, it loads as
 * one never caught does, each action once. A read that may not be held
 * refuses it as a quote never closed, and reads the copy. */
START_TEST(a_plan_cut_inside_a_quoted_field_is_unsettled_when_held)
{
    static const char whole[] = "Ref,Actions,Responsibility\nA1,Train managers,HR\n"
                                "A2,\"Audit pay,\nby grade\",HR\nA3,Recruit,HR\n";
    write_file("plan.csv", whole);
    add_path("plan.csv");
    struct tkl_store *good = load_keeping(NULL);
    ck_assert_ptr_nonnull(good);
    ck_assert_uint_eq(good->n_reads, 1);
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,Train managers,HR\n"
                           "A2,\"Audit pay,\nby");
    opts.may_hold = true;
    tkl_diags_free(&diags);
    struct tkl_store *cut = load_keeping(good);
    ck_assert_ptr_nonnull(cut);
    ck_assert(diags.unsettled);
    ck_assert_uint_eq(diags.n_errors, 0);
    ck_assert(has_diag(3, "the file ends inside a quoted field of this row"));
    ck_assert(!has_diag_of(TKL_SEV_WARNING, "last read good"));
    ck_assert_uint_eq(cut->n_from_copies, 0);
    ck_assert_uint_eq(cut->n_reads, 0); /* the copy stays the whole file's */
    ck_assert_uint_eq(cut->n, 2);
    tkl_store_free(cut);
    /* read again whole, against the store in force */
    write_file("plan.csv", whole);
    tkl_diags_free(&diags);
    struct tkl_store *again = load_keeping(good);
    ck_assert_ptr_nonnull(again);
    ck_assert(!diags.unsettled);
    ck_assert_uint_eq(diags.n_errors, 0);
    ck_assert(!has_diag_of(TKL_SEV_WARNING, "ends inside"));
    ck_assert_uint_eq(again->n, 3);
    ck_assert_uint_eq(again->n_reads, 1);
    const char *ids[] = {"A1", "A2", "A3"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_str_eq(again->actions[i].id, ids[i]);
        ck_assert_str_eq(again->actions[i].title, good->actions[i].title);
    }
    ck_assert_str_eq(tkl_store_find(again, "A2")->title, "Audit pay,\nby grade");
    /* a read that may not be held (a start, or the third read) */
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,Train managers,HR\n"
                           "A2,\"Audit pay,\nby");
    opts.may_hold = false;
    tkl_diags_free(&diags);
    struct tkl_store *s = load_keeping(again);
    ck_assert_ptr_nonnull(s);
    ck_assert(!diags.unsettled);
    ck_assert(has_diag_of(TKL_SEV_WARNING, "a quoted field is never closed"));
    ck_assert(has_diag_of(TKL_SEV_WARNING, "cannot be read, so the file as last read good"));
    ck_assert_uint_eq(s->n_from_copies, 1);
    ck_assert_uint_eq(s->n, 3);
    tkl_store_free(s);
    tkl_store_free(again);
    tkl_store_free(good);
}
END_TEST

/* How many diagnostics hold text. */
static size_t count_diags(const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < diags.n; i++)
        n += strstr(diags.items[i].message, text) != NULL;
    return n;
}

/* The copies as last read good are of each file alone: a file caught
 * while being saved is not copied while the others are; the problems of
 * finding the files are told once, and a copy's own warnings not twice;
 * a file gone with its directory has no fallback (its directory could
 * not be watched); and a row moved from a file read from its copy to one
 * read as it is, which would hold its id twice, is no fallback either. */
START_TEST(copies_are_per_file_and_never_make_an_id_twice)
{
    ck_assert_int_eq(mkdir(tmp_path("sub"), 0700), 0);
    ck_assert_int_eq(mkdir(tmp_path("empty"), 0700), 0);
    write_file("plan.csv", "Ref,Actions\nA1,One\nX1,Moved later\n");
    write_file("sub/more.csv", "Ref,Actions\nB1,Two\n");
    add_path("plan.csv");
    add_path("sub/more.csv");
    add_path("empty");
    struct tkl_store *good = load_keeping(NULL);
    ck_assert_ptr_nonnull(good);
    ck_assert_uint_eq(good->n_reads, 2);
    /* more.csv caught mid-save, plan.csv edited: plan.csv alone is copied */
    write_file("plan.csv", "Ref,Actions\nA1,One\nA2,Edited\nX1,Moved later\n");
    write_file("sub/more.csv", "Ref,Actions,Responsibility\nB1,Two,HR\nB2,Cu");
    tkl_diags_free(&diags);
    struct tkl_store *cut = load_keeping(good);
    ck_assert_ptr_nonnull(cut);
    ck_assert_uint_eq(cut->n_reads, 1);
    ck_assert_str_eq(cut->reads[0].path, tmp_path("plan.csv"));
    /* plan.csv saved broken: its copy (with A2) is read; the warning about
     * the empty directory and the copy's missing columns are told once */
    write_file("sub/more.csv", "Ref,Actions\nB1,Two\n");
    write_file("plan.csv", "Ref,Actions\nA1,\"One\n");
    tkl_diags_free(&diags);
    struct tkl_store *s = load_keeping(cut);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(tkl_store_find(s, "A2"));
    ck_assert_uint_eq(count_diags("no plan files in this directory"), 1);
    ck_assert_uint_eq(count_diags("cannot be read, so the file as last read good"), 1);
    /* the copy's rows, each said to be the copy's */
    ck_assert_uint_eq(count_diags("no owner; sent to the fallback team (in the file as last read "
                                  "good, in force)"),
                      3);
    for (size_t i = 0; i < diags.n; i++)
        for (size_t j = i + 1; j < diags.n; j++)
            ck_assert_msg(diags.items[i].line != diags.items[j].line ||
                              strcmp(diags.items[i].message, diags.items[j].message) ||
                              strcmp(diags.items[i].file ? diags.items[i].file : "",
                                     diags.items[j].file ? diags.items[j].file : ""),
                          "twice: %s", diags.items[i].message);
    /* X1 moved to more.csv meanwhile: with the copy it would be there twice */
    write_file("sub/more.csv", "Ref,Actions\nB1,Two\nX1,Moved later\n");
    tkl_diags_free(&diags);
    struct tkl_store *twice = &(struct tkl_store){0}, *was = twice;
    ck_assert_int_eq(tkl_store_reload(&opts, &dir, s, &twice, &diags), -EINVAL);
    ck_assert_ptr_eq(twice, was);
    ck_assert_uint_eq(diags.n_errors, 2); /* the broken file, as an error, and why */
    ck_assert(has_diag(3, "\"X1\" is also in the plan as last read good of a file that cannot "
                          "be read now"));
    /* more.csv gone with its directory: no fallback for it */
    write_file("plan.csv", "Ref,Actions\nA1,One\n");
    ck_assert_int_eq(unlink(tmp_path("sub/more.csv")), 0);
    ck_assert_int_eq(rmdir(tmp_path("sub")), 0);
    tkl_diags_free(&diags);
    struct tkl_store *gone = &(struct tkl_store){0};
    was = gone;
    ck_assert_int_eq(tkl_store_reload(&opts, &dir, s, &gone, &diags), -ENOENT);
    ck_assert_ptr_eq(gone, was);
    tkl_store_free(s);
    tkl_store_free(cut);
    tkl_store_free(good);
}
END_TEST

/* A copy that repeats an id of its own (a warning when it was read good)
 * is read all the same: only an id it shares with a file read as it is
 * stops it. */
START_TEST(a_copy_with_an_id_repeated_within_it_is_read)
{
    write_file("plan.csv", "Ref,Actions\nA1,One\nA1,Again\n");
    write_file("more.csv", "Ref,Actions\nB1,Two\n");
    add_path("plan.csv");
    add_path("more.csv");
    struct tkl_store *good = load_keeping(NULL);
    ck_assert_ptr_nonnull(good);
    write_file("plan.csv", "Ref,Actions\nA1,\"One\n");
    tkl_diags_free(&diags);
    struct tkl_store *s = load_keeping(good);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n_from_copies, 1);
    ck_assert_ptr_nonnull(tkl_store_find(s, "A1-2"));
    ck_assert_uint_eq(diags.n_errors, 0);
    tkl_store_free(s);
    tkl_store_free(good);
}
END_TEST

/* Without a copy of every file that failed, the load fails as it would
 * without copies; and a store read without keep_dir records nothing to
 * copy. */
START_TEST(without_its_copy_a_file_that_cannot_be_read_fails_the_load)
{
    write_file("plan.csv", "Ref,Actions,Responsibility\nA1,Train managers,HR\n");
    add_path("plan.csv");
    struct tkl_store *plain = reload(NULL);
    ck_assert_uint_eq(plain->n_reads, 0);
    tkl_store_free(plain);
    /* kept, then saved broken beside a new file that is broken too */
    struct tkl_store *good = load_keeping(NULL);
    ck_assert_ptr_nonnull(good);
    write_file("plan.csv", "Name,Owner\nx,HR\n");
    write_file("new.csv", "Name,Owner\nx,HR\n");
    add_path("new.csv");
    tkl_diags_free(&diags);
    struct tkl_store *s = &(struct tkl_store){0}, *was = s;
    ck_assert_int_eq(tkl_store_reload(&opts, &dir, good, &s, &diags), -EINVAL);
    ck_assert_ptr_eq(s, was);
    ck_assert_uint_eq(diags.n_errors, 2); /* both files, as errors */
    ck_assert(!has_diag_of(TKL_SEV_WARNING, "last read good"));
    tkl_store_free(good);
}
END_TEST

START_TEST(a_workbook_entry_names_its_sheet_after_a_hash)
{
    ck_assert_uint_eq(tkl_store_path_len("plan.xlsx#Actions 2025"), 9);
    ck_assert_uint_eq(tkl_store_path_len("dir#1/plan.ODS#A#B"), 14); /* the first after .ods */
    ck_assert_uint_eq(tkl_store_path_len("plan#1.xlsx"), 11);
    ck_assert_uint_eq(tkl_store_path_len("plan.csv#x"), 10); /* a CSV file has no sheets */
    ck_assert_uint_eq(tkl_store_path_len(""), 0);
    /* a URL's fragment names the sheet even when its path names no format
     * (the format then comes from the answer's headers) */
    ck_assert_uint_eq(tkl_store_path_len("https://h.example/:x:/r/Doc#Actions"), 27);
    ck_assert_uint_eq(tkl_store_path_len("https://h.example/a#b.xlsx#S"), 19);
    ck_assert(tkl_store_is_plan("a.CSV") && tkl_store_is_plan("b.xlsx") &&
              tkl_store_is_plan("c.Ods"));
    ck_assert(!tkl_store_is_plan(".xlsx") && !tkl_store_is_plan("d.xls") &&
              !tkl_store_is_plan("e.xlsx#S") && !tkl_store_is_plan("~$plan.xlsx"));
    /* the path before '#' is what is looked at and read */
    add_path("book.xlsx#Actions");
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -ENOENT);
    ck_assert(has_diag(0, "cannot read the store: No such file or directory"));
    ck_assert_ptr_nonnull(strstr(diags.items[0].file, "/book.xlsx"));
    ck_assert_ptr_null(strchr(diags.items[0].file, '#'));
    tkl_diags_free(&diags);
    write_file("book.xlsx", "PK\003\004 not a workbook");
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -EINVAL);
    ck_assert(has_diag(0, "not a readable ZIP archive"));
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(a_directory_takes_workbooks_and_no_sheet_name)
{
    char plans[128];
    snprintf(plans, sizeof(plans), "%s/plans", tmp);
    ck_assert_int_eq(mkdir(plans, 0700), 0);
    write_file("plans/a.csv", "Actions,Responsibility\nFrom a,HR\n");
    write_file("plans/b.ods", "not a zip");
    add_path("plans");
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -EINVAL);
    ck_assert(has_diag(0, "not a readable ZIP archive")); /* b.ods was read as .ods */
    tkl_diags_free(&diags);
    char renamed[160];
    snprintf(renamed, sizeof(renamed), "%s.ods", plans);
    ck_assert_int_eq(rename(plans, renamed), 0);
    opts.n_paths--;
    free(opts.paths[opts.n_paths]);
    add_path("plans.ods#Sheet");
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -EINVAL);
    ck_assert(has_diag(0, "is a directory; a sheet can be named only after a workbook"));
}
END_TEST

START_TEST(no_store_files_is_an_error)
{
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(diags.items[0].field, "store.files");
    ck_assert_str_eq(diags.items[0].message, "no store files configured");
}
END_TEST

/* Saves text as the copy of url in tmp/sub. */
static void save_copy(const char *sub, const char *url, const char *text)
{
    char d[128];
    snprintf(d, sizeof(d), "%s/%s", tmp, sub);
    char *stem = tkl_remote_cache_stem(d, url);
    ck_assert_ptr_nonnull(stem);
    ck_assert_int_eq(tkl_remote_save(stem, ".csv", tkl_store_endings(), text, strlen(text), 0), 0);
    free(stem);
}

START_TEST(a_url_is_read_from_its_copy_and_named_by_its_host)
{
    const char *url = "https://council.example/plans/export?id=7&sig=s3cr3t";
    char d[128];
    opts.paths = calloc(1, sizeof(char *));
    ck_assert_ptr_nonnull(opts.paths);
    opts.paths[opts.n_paths++] = strdup(url);
    snprintf(d, sizeof(d), "%s/state", tmp);
    ck_assert_int_eq(tkl_store_opts_cache_in(&opts, d), 0);
    struct tkl_store *s = NULL;
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -ENOENT);
    ck_assert_ptr_null(s);
    ck_assert(has_diag(0, "not fetched yet: no copy of this plan in"));
    ck_assert_str_eq(diags.items[0].file, "https://council.example/…");
    tkl_diags_free(&diags);

    save_copy("state/plans", url, "Actions,Responsibility\nFrom the daemon,HR\n\"open\n");
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), -EINVAL);
    ck_assert_str_eq(diags.items[0].file, "https://council.example/…");
    tkl_diags_free(&diags);
    save_copy("state/plans", url, "Actions,Responsibility\nFrom the daemon,HR\n");
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_str_eq(s->actions[0].title, "From the daemon");
    ck_assert_str_eq(s->actions[0].file, "https://council.example/…");
    tkl_store_free(s);

    /* a copy fetched just now comes first */
    save_copy("fresh", url, "Actions,Responsibility\nFetched now,HR\n");
    snprintf(d, sizeof(d), "%s/fresh", tmp);
    opts.fresh_dir = strdup(d);
    ck_assert_int_eq(tkl_store_load(&opts, &dir, &s, &diags), 0);
    ck_assert_str_eq(s->actions[0].title, "Fetched now");
    tkl_store_free(s);
}
END_TEST

START_TEST(a_plan_is_checked_by_the_reader_its_name_ends_with)
{
    static const char good[] = "Actions,Responsibility\nOne,HR\n";
    static const char bad[] = "Name,Owner\nx,HR\n";
    ck_assert_int_eq(
        tkl_store_check_plan(&opts, &dir, "x.csv", "https://h/p", good, strlen(good), &diags), 0);
    ck_assert_int_eq(
        tkl_store_check_plan(&opts, &dir, "x.csv", "https://h/p", bad, strlen(bad), &diags),
        -EINVAL);
    ck_assert_str_eq(diags.items[0].file, "https://h/p");
    ck_assert(has_diag(0, "no header row with an action column"));
    ck_assert_str_eq(tkl_store_endings()[0], ".csv");
}
END_TEST

START_TEST(appended_actions_join_the_store)
{
    struct tkl_store *s = load("Ref,Actions,Responsibility\nEAP-1,Train staff,HR\n");
    ck_assert_ptr_nonnull(s);
    struct tkl_action *v = calloc(2, sizeof(*v));
    v[0] =
        (struct tkl_action){.id = strdup("EAP-1"), .file = strdup("events"), .title = strdup("X")};
    v[1] = (struct tkl_action){.id = strdup("bhm"),
                               .file = strdup("events"),
                               .title = strdup("Black History Month"),
                               .deadline = {.kind = TKL_DEADLINE_EVENT}};
    ck_assert_int_eq(tkl_store_append(s, v, 2, &diags), 0);
    free(v); /* the store owns what they held */
    ck_assert_uint_eq(s->n, 3);
    ck_assert_uint_eq(s->n_events, 1); /* counted by kind */
    ck_assert_str_eq(s->actions[1].id, "EAP-1-2");
    ck_assert(has_diag(0, "same id as plan.csv:2 (EAP-1); this row is EAP-1-2"));
    /* the renamed action's hash is of its new id; no row gives any of them */
    ck_assert_uint_eq(tkl_store_hash(s, 1), tkl_action_hash(&s->actions[1]));
    for (size_t i = 1; i < s->n; i++)
        ck_assert_uint_eq(s->row_hashes[i], 0);
    const struct tkl_action *a = tkl_store_find(s, "bhm");
    ck_assert_ptr_eq(a, &s->actions[2]);
    ck_assert_uint_eq(hash_of(s, a), tkl_action_hash(a));
    ck_assert_ptr_eq(tkl_store_find(s, "EAP-1"), &s->actions[0]);
    ck_assert_int_eq(tkl_store_append(s, NULL, 0, &diags), 0);
    tkl_store_free(s);
    tkl_store_free(NULL);
}
END_TEST

START_TEST(every_allocation_failure_is_clean)
{
    /* the sample plan loaded failing the 1st, 2nd, ... allocation: each
     * run returns -ENOMEM (nothing kept, nothing leaked: LeakSanitizer
     * checks at exit) until one fails nothing */
    FILE *f = fopen(TICKLER_SOURCE_DIR "/etc/sample-plan.csv", "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    unsigned long n;
    for (n = 1;; n++) {
        struct tkl_store *st = NULL;
        struct tkl_diags d = {0};
        alloc_fail_nth(n);
        int r = tkl_store_load_buffer(&opts, &dir, "plan.csv", buf, len, &st, &d);
        unsigned long used = alloc_count;
        alloc_fail_nth(0);
        tkl_diags_free(&d);
        if (r == 0) {
            ck_assert_ptr_nonnull(st);
            ck_assert_uint_eq(st->n, 39);
            tkl_store_free(st);
            ck_assert_uint_lt(used, n); /* it did not need the failed one */
            break;
        }
        ck_assert_int_eq(r, -ENOMEM);
        ck_assert_ptr_null(st);
    }
    ck_assert_uint_gt(n, 100);
}
END_TEST

START_TEST(a_store_file_given_replaces_the_configured_ones)
{
    char *paths[] = {strdup("a.csv"), strdup("plans/")};
    struct tkl_store_opts o = {.paths = malloc(2 * sizeof(char *)), .n_paths = 2};
    ck_assert_ptr_nonnull(o.paths);
    memcpy(o.paths, paths, sizeof(paths));
    alloc_fail_nth(1); /* out of memory: unchanged */
    ck_assert_int_eq(tkl_store_opts_use_file(&o, "other.csv"), -ENOMEM);
    alloc_fail_nth(0);
    ck_assert_uint_eq(o.n_paths, 2);
    ck_assert_str_eq(o.paths[1], "plans/");
    ck_assert_int_eq(tkl_store_opts_use_file(&o, "other.csv"), 0);
    ck_assert_uint_eq(o.n_paths, 1);
    ck_assert_str_eq(o.paths[0], "other.csv");
    tkl_store_opts_free(&o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("csv");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_spreadsheet_export_loads_end_to_end);
    tcase_add_test(tc, reloading_an_edited_plan_keeps_the_ids);
    tcase_add_test(tc, columns_by_alias_and_config);
    tcase_add_test(tc, a_repeated_owners_cell_reads_the_same_each_time);
    tcase_add_test(tc, sample_plan_loads_every_row);
    tcase_add_test(tc, appended_actions_join_the_store);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    suite_add_tcase(s, tc);
    TCase *files = tcase_create("files");
    tcase_add_checked_fixture(files, files_setup, files_teardown);
    tcase_add_test(files, a_directory_is_its_csv_files_in_name_order);
    tcase_add_test(files, a_store_read_once_has_the_same_actions_and_keeps_no_hashes);
    tcase_add_test(files, a_reload_reads_again_only_the_rows_that_changed);
    tcase_add_test(files, a_reload_gives_the_store_and_warnings_of_a_full_load);
    tcase_add_test(files, a_reload_keeps_the_texts_of_the_rows_it_takes_again);
    tcase_add_test(files, a_reload_out_of_memory_leaves_the_store_in_force);
    tcase_add_test(files, a_reloadable_store_is_held_in_cold_memory);
    tcase_add_test(files, a_large_plan_loads_in_cold_memory_at_every_failure);
    tcase_add_test(files, a_store_out_of_cold_room_goes_on_in_private_memory);
    tcase_add_test(files, a_row_whose_hash_matches_another_row_is_read_again);
    tcase_add_test(files, a_file_not_utf8_is_read_as_windows_1252_once);
    tcase_add_test(files, a_stray_byte_in_a_utf8_file_is_read_alone_as_windows_1252);
    tcase_add_test(files, a_row_below_a_changed_carried_text_is_read_again);
    tcase_add_test(files, a_row_is_read_again_when_the_teams_change);
    tcase_add_test(files, repeated_rows_taken_again_keep_distinct_ids);
    tcase_add_test(files, repeated_rows_count_each_action_taken_once);
    tcase_add_test(files, an_empty_directory_is_a_warning);
    tcase_add_test(files, what_is_not_a_regular_file_is_refused);
    tcase_add_test(files, one_bad_file_fails_the_whole_load);
    tcase_add_test(files, a_warning_of_the_copy_in_force_says_it_is_of_the_copy);
    tcase_add_test(files, a_file_that_cannot_be_read_is_read_as_last_read_good);
    tcase_add_test(files, a_plan_cut_inside_a_quoted_field_is_unsettled_when_held);
    tcase_add_test(files, without_its_copy_a_file_that_cannot_be_read_fails_the_load);
    tcase_add_test(files, copies_are_per_file_and_never_make_an_id_twice);
    tcase_add_test(files, a_copy_with_an_id_repeated_within_it_is_read);
    tcase_add_test(files, no_store_files_is_an_error);
    tcase_add_test(files, a_workbook_entry_names_its_sheet_after_a_hash);
    tcase_add_test(files, a_directory_takes_workbooks_and_no_sheet_name);
    tcase_add_test(files, a_store_file_given_replaces_the_configured_ones);
    tcase_add_test(files, a_url_is_read_from_its_copy_and_named_by_its_host);
    tcase_add_test(files, a_plan_is_checked_by_the_reader_its_name_ends_with);
    suite_add_tcase(s, files);
    return tkl_check_run(s);
}

/* Tests for daemon/store/arena.c: texts copied and interned, objects
 * aligned, and everything freed at once. */
#include <check.h>

#include "check_run.h"
#include "cold_fixture.h"
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc_fail.h"
#include "store/arena.h"

START_TEST(texts_are_copied_and_interned_once)
{
    struct tkl_arena a = {0};
    char src[] = "Human Resources";
    char *c = tkl_arena_strdup0(&a, src);
    ck_assert_str_eq(c, "Human Resources");
    ck_assert_ptr_ne(c, src);
    ck_assert_str_eq(tkl_arena_strndup(&a, "HR team", 2), "HR");
    char *i1 = tkl_arena_intern(&a, src), *i2 = tkl_arena_intern(&a, "Human Resources");
    ck_assert_ptr_eq(i1, i2);
    ck_assert_ptr_ne(i1, tkl_arena_intern(&a, "Housing"));
    ck_assert_str_eq(tkl_arena_intern(&a, ""), "");
    ck_assert_ptr_null(tkl_arena_intern(&a, NULL));
    ck_assert_ptr_null(tkl_arena_strdup0(&a, NULL));
    tkl_arena_free(&a);
}
END_TEST

START_TEST(an_interned_text_interned_again_is_itself)
{
    struct tkl_arena a = {0};
    char *i = tkl_arena_intern(&a, "Policy team");
    ck_assert_ptr_eq(tkl_arena_intern(&a, i), i);
    /* a copy of the same text in the arena is not the interned one */
    char *copy = tkl_arena_strdup0(&a, "Policy team");
    ck_assert_ptr_ne(copy, i);
    ck_assert_ptr_eq(tkl_arena_intern(&a, copy), i);
    /* a buffer written again gives the interned text it holds now */
    char buf[32] = "Policy team";
    ck_assert_ptr_eq(tkl_arena_intern(&a, buf), i);
    strcpy(buf, "HR");
    char *hr = tkl_arena_intern(&a, buf);
    ck_assert_str_eq(hr, "HR");
    ck_assert_ptr_eq(tkl_arena_intern(&a, "HR"), hr);
    ck_assert_str_eq(i, "Policy team");
    tkl_arena_free(&a);
}
END_TEST

START_TEST(many_texts_and_objects_stay_where_they_were_put)
{
    struct tkl_arena a = {0};
    char *texts[5000];
    char buf[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "text %d", i);
        texts[i] = i % 2 ? tkl_arena_intern(&a, buf) : tkl_arena_strdup0(&a, buf);
        ck_assert_ptr_nonnull(texts[i]);
        uint64_t *o = tkl_arena_alloc(&a, 3 * sizeof(*o));
        ck_assert_uint_eq((uintptr_t)o % alignof(max_align_t), 0);
        o[0] = o[1] = o[2] = (uint64_t)i;
    }
    /* larger than any chunk */
    char *big = tkl_arena_alloc(&a, (size_t)5 << 20);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', (size_t)5 << 20);
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "text %d", i);
        ck_assert_str_eq(texts[i], buf);
        if (i % 2)
            ck_assert_ptr_eq(tkl_arena_intern(&a, buf), texts[i]);
    }
    tkl_arena_free(&a);
    ck_assert_ptr_null(a.chunks);
    ck_assert_str_eq(tkl_arena_strdup0(&a, "again"), "again"); /* usable after */
    tkl_arena_free(&a);
}
END_TEST

/* A load large enough for the arena's chunks in huge pages (past 8 MiB)
 * keeps every text, across the chunks of both kinds. */
START_TEST(a_large_arena_keeps_every_text)
{
    struct tkl_arena a = {0};
    enum { N = 400000 }; /* 54 bytes each with the NUL: about 21 MB */
    char **texts = calloc(N, sizeof(*texts));
    ck_assert_ptr_nonnull(texts);
    char buf[64];
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof(buf), "row %07d of a plan large enough for huge pages..", i);
        texts[i] = tkl_arena_strdup0(&a, buf);
        ck_assert_ptr_nonnull(texts[i]);
    }
    ck_assert_uint_ge(a.held, (size_t)16 << 20);
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof(buf), "row %07d of a plan large enough for huge pages..", i);
        ck_assert_str_eq(texts[i], buf);
    }
    tkl_arena_free(&a);
    ck_assert_uint_eq(a.held, 0);
    free(texts);
}
END_TEST

/* An arena that keeps another keeps its texts, and those it keeps,
 * readable after the other is freed (AddressSanitizer sees a read of a
 * freed chunk), interns its own copy of them, and frees them with the last
 * arena that holds them. */
START_TEST(a_kept_arena_outlives_its_owner)
{
    struct tkl_arena a = {0}, b = {0}, c = {0};
    char *in_a = tkl_arena_strdup0(&a, "Train staff");
    char *interned_a = tkl_arena_intern(&a, "Human Resources");
    char buf[64];
    for (int i = 0; i < 5000; i++) { /* several chunks */
        snprintf(buf, sizeof(buf), "row %d of the first load", i);
        ck_assert_ptr_nonnull(tkl_arena_strdup0(&a, buf));
    }
    char *last_a = tkl_arena_strdup0(&a, "the last text of a");
    ck_assert_int_eq(tkl_arena_keep(&b, &a), 0);
    ck_assert_uint_ge(b.n_kept, 2);
    char *in_b = tkl_arena_strdup0(&b, "Review pay");
    /* interning in b copies a's text: each arena interns its own */
    char *interned_b = tkl_arena_intern(&b, interned_a);
    ck_assert_ptr_ne(interned_b, interned_a);
    ck_assert_str_eq(interned_b, "Human Resources");
    tkl_arena_free(&a);
    ck_assert_str_eq(in_a, "Train staff");
    ck_assert_str_eq(interned_a, "Human Resources");
    ck_assert_str_eq(last_a, "the last text of a");
    /* c keeps b, and through it what b keeps of a */
    ck_assert_int_eq(tkl_arena_keep(&c, &b), 0);
    ck_assert_uint_eq(c.n_kept, b.n_kept + 1);
    tkl_arena_free(&b);
    ck_assert_str_eq(in_a, "Train staff");
    ck_assert_str_eq(last_a, "the last text of a");
    ck_assert_str_eq(in_b, "Review pay");
    ck_assert_str_eq(interned_b, "Human Resources");
    tkl_arena_free(&c); /* the last holder: LeakSanitizer sees a chunk left */
    ck_assert_uint_eq(c.n_kept, 0);
    ck_assert_ptr_null(c.kept);
    /* an empty arena keeps nothing */
    struct tkl_arena empty = {0};
    ck_assert_int_eq(tkl_arena_keep(&c, &empty), 0);
    ck_assert_uint_eq(c.n_kept, 0);
    tkl_arena_free(&c);
}
END_TEST

/* Keeping fails cleanly: out of memory, the arena keeps what it kept. */
START_TEST(keeping_out_of_memory_keeps_what_was_kept)
{
    struct tkl_arena a = {0}, b = {0};
    char *t = tkl_arena_strdup0(&a, "Publish data");
    ck_assert_int_eq(tkl_arena_keep(&b, &a), 0);
    size_t kept = b.n_kept;
    alloc_fail_nth(1);
    int r = tkl_arena_keep(&b, &a);
    alloc_fail_nth(0);
    ck_assert_int_eq(r, -ENOMEM);
    ck_assert_uint_eq(b.n_kept, kept);
    tkl_arena_free(&a);
    ck_assert_str_eq(t, "Publish data");
    tkl_arena_free(&b);
}
END_TEST

/* An arena given a cold directory holds its texts and objects in cold
 * memory there, chunk after chunk; one it keeps stays mapped while either
 * arena holds it; freed, the arena keeps its directory, and nothing of it
 * stays mapped. Without a directory that can hold it, the same in malloc's
 * memory. */
START_TEST(an_arena_with_a_cold_dir_holds_its_texts_there)
{
    char dir[4096];
    cold_dir_make(dir);
    struct tkl_arena a = {.cold_dir = dir}, b = {.cold_dir = dir};
    char text[64];
    const char *first = tkl_arena_strdup0(&a, "Black History Month");
    ck_assert(cold_at(first, dir));
    const char *last = NULL;
    for (int i = 0; i < 200000; i++) { /* several chunks, up to the largest */
        snprintf(text, sizeof(text), "Train staff group %d", i);
        ck_assert_ptr_nonnull(last = tkl_arena_strdup0(&a, text));
        ck_assert(i % 10007 || cold_at(last, dir));
    }
    int *obj = tkl_arena_alloc(&a, sizeof(*obj));
    ck_assert(cold_at(obj, dir));
    ck_assert_int_gt(cold_maps(NULL, dir), 4);
    ck_assert_int_eq(tkl_arena_keep(&b, &a), 0);
    int held = cold_maps(NULL, dir);
    tkl_arena_free(&a);
    ck_assert_int_eq(cold_maps(NULL, dir), held); /* b keeps them */
    ck_assert_str_eq(first, "Black History Month");
    ck_assert_str_eq(last, "Train staff group 199999");
    ck_assert_ptr_eq(a.cold_dir, dir);
    ck_assert(cold_at(tkl_arena_strdup0(&a, "again"), dir));
    tkl_arena_free(&a);
    tkl_arena_free(&b);
    cold_dir_remove(dir);
    struct tkl_arena c = {.cold_dir = dir}; /* gone: malloc's */
    const char *t = tkl_arena_strdup0(&c, "Pride Month");
    ck_assert_str_eq(t, "Pride Month");
    ck_assert(!cold_at(t, dir));
    tkl_arena_free(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_add_test(tc, texts_are_copied_and_interned_once);
    tcase_add_test(tc, an_interned_text_interned_again_is_itself);
    tcase_add_test(tc, many_texts_and_objects_stay_where_they_were_put);
    tcase_add_test(tc, a_large_arena_keeps_every_text);
    tcase_add_test(tc, a_kept_arena_outlives_its_owner);
    tcase_add_test(tc, keeping_out_of_memory_keeps_what_was_kept);
    tcase_add_test(tc, an_arena_with_a_cold_dir_holds_its_texts_there);
    suite_add_tcase(s, tc);
    return tkl_check_run(s);
}

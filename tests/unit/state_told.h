/* Shared by the tests of the state backends (test_state.c: SQLite,
 * test_pg_state.c: PostgreSQL): completions that record what they were
 * told and assert they never run inside a state call, so both backends
 * are held to the same contract (state/state.h). */
#ifndef TKL_STATE_TOLD_H
#define TKL_STATE_TOLD_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "state/state.h"

/* Set by a test around each state call it makes. */
static bool inside;

/* What one completion was told. */
struct told {
    int calls;
    int r;
    uint64_t id;
    int64_t value;
    size_t n;
    uint64_t ids[64];
    /* a claim's first notice */
    char first_title[64], first_owners[64], first_thread[64];
};

static inline void on_done(void *data, int r)
{
    struct told *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
}

static inline void on_put(void *data, int r, uint64_t id)
{
    struct told *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    t->id = id;
}

static inline void on_value(void *data, int r, int64_t value)
{
    struct told *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    t->value = value;
}

static inline void on_claim(void *data, int r, struct tkl_stored_notice **v, size_t n)
{
    struct told *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    t->n = n;
    if (r != 0)
        ck_assert(!v && !n);
    for (size_t i = 0; i < n; i++) {
        if (i < 64)
            t->ids[i] = v[i]->notice.id;
        if (i == 0) {
            const struct tkl_notice_entry *e = &v[0]->entries[0];
            snprintf(t->first_title, sizeof(t->first_title), "%s", e->title ? e->title : "");
            snprintf(t->first_owners, sizeof(t->first_owners), "%s", e->owners ? e->owners : "");
            snprintf(t->first_thread, sizeof(t->first_thread), "%s",
                     v[0]->notice.thread_key ? v[0]->notice.thread_key : "");
        }
        tkl_stored_notice_free(v[i]);
    }
    free(v);
}

/* n counts the channels; "email" must be the one given. */
static inline void on_channels(void *data, int r, char **v, size_t n)
{
    struct told *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(v[i], "email");
        free(v[i]);
    }
    free(v);
}

/* The failures not reported: n, their ids, and the first one's
 * created_at (as value) and last error (first_title). */
static inline void on_failures(void *data, int r, struct tkl_failures *l)
{
    struct told *t = data;
    ck_assert(!inside);
    t->calls++;
    t->r = r;
    t->n = l->n;
    if (r != 0)
        ck_assert(!l->v && !l->n);
    for (size_t i = 0; i < l->n && i < 64; i++)
        t->ids[i] = l->v[i].id;
    if (l->n) {
        t->value = l->v[0].created_at;
        snprintf(t->first_title, sizeof(t->first_title), "%s",
                 l->v[0].last_error ? l->v[0].last_error : "");
    }
}

#endif

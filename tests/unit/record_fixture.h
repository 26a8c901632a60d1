/* Shared by the tests that record officers' updates through a service
 * (test_service, test_overview, test_progress, test_act): the recording
 * is asynchronous (tkl_service_record_update); on SQLite its completion
 * is told by the commit that makes it durable. */
#ifndef TKL_RECORD_FIXTURE_H
#define TKL_RECORD_FIXTURE_H

#include <check.h>
#include <stdbool.h>

#include "service/service.h"
#include "state/state.h"

struct recorded {
    int calls, r;
    bool is_new;
};

static inline void recorded_told(void *data, int r, bool is_new)
{
    struct recorded *t = data;
    t->calls++;
    t->r = r;
    t->is_new = is_new;
}

/* Records u through s's state, commits it and returns what the completion
 * was told (its r; *is_new), told exactly once and not before the commit. */
static inline int record_now(struct tkl_service *s, const struct tkl_update *u, bool *is_new)
{
    struct recorded t = {0};
    int r = tkl_service_record_update(s, u, recorded_told, &t);
    if (r < 0)
        return r;
    ck_assert_int_eq(t.calls, 0);
    (void)tkl_state_commit(s->state);
    ck_assert_int_eq(t.calls, 1);
    *is_new = t.is_new;
    return t.r;
}

#endif

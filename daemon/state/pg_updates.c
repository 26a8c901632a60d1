#include "pg_updates.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynlib/libpq.h"
#include "state/pg.h"

static char *text_dup(const PGresult *res, int row, int col, bool *oom)
{
    if (sym_PQgetisnull(res, row, col))
        return NULL;
    char *s = strdup(sym_PQgetvalue(res, row, col));
    if (!s)
        *oom = true;
    return s;
}

static int64_t int_of(const PGresult *res, int row, int col)
{
    return sym_PQgetisnull(res, row, col) ? 0 : strtoll(sym_PQgetvalue(res, row, col), NULL, 10);
}

static int32_t day_of(const PGresult *res, int row, int col)
{
    return sym_PQgetisnull(res, row, col) ? TKL_NO_DAY : (int32_t)int_of(res, row, col);
}

int tkl_pg_update_read(const PGresult *res, int row, struct tkl_update *u)
{
    bool oom = false;
    *u = (struct tkl_update){.id = int_of(res, row, 0)};
    u->action_id = text_dup(res, row, 1, &oom);
    u->recipient = text_dup(res, row, 2, &oom);
    u->team_id = text_dup(res, row, 3, &oom);
    u->kind = (enum tkl_update_kind)int_of(res, row, 4);
    u->at = int_of(res, row, 5);
    u->link_issued_at = int_of(res, row, 6);
    u->until_day = day_of(res, row, 7);
    u->rag = (enum tkl_rag)int_of(res, row, 8);
    u->note = text_dup(res, row, 9, &oom);
    u->suggested_team = text_dup(res, row, 10, &oom);
    u->plan_deadline_day = day_of(res, row, 11);
    u->plan_deadline_text = text_dup(res, row, 12, &oom);
    u->plan_status = text_dup(res, row, 13, &oom);
    u->plan_owners = text_dup(res, row, 14, &oom);
    return oom || !u->action_id || !u->recipient ? -ENOMEM : 0;
}

int tkl_pg_updates_of(const PGresult *res, struct tkl_updates *ret)
{
    int rows = sym_PQntuples(res);
    struct tkl_updates l = {0};
    int r = 0;
    if (rows > 0 && !(l.v = calloc((size_t)rows, sizeof(*l.v))))
        r = -ENOMEM;
    for (int i = 0; r == 0 && i < rows; i++) {
        r = tkl_pg_update_read(res, i, &l.v[i]);
        l.n++; /* freed with the list, whole or not */
    }
    if (r < 0)
        tkl_updates_free(&l);
    *ret = l;
    return r;
}

struct reading {
    struct tkl_updates *ret;
    bool done;
    int r;
    char *err;
};

static void on_read(void *data, int r, const PGresult *res)
{
    struct reading *x = data;
    x->done = true;
    const char *code = res && r < 0 ? sym_PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    /* 42P01: undefined table: no ticklerd has made the schema yet */
    if (code && strcmp(code, "42P01") == 0) {
        x->r = -ENOENT;
        x->err = strdup("the database holds no tickler state yet (ticklerd makes it when it "
                        "first runs)");
        return;
    }
    if (r == 0)
        r = tkl_pg_updates_of(res, x->ret);
    if (r < 0) {
        x->r = r;
        if (asprintf(&x->err, "cannot read the updates: %s", tkl_pg_error_text(r, res)) < 0)
            x->err = NULL;
    }
}

static int start(struct tkl_pg *pg, void *data)
{
    const struct tkl_pg_stmt st = {.sql = "SELECT id, " TKL_PG_UPDATE_COLUMNS
                                          " FROM updates ORDER BY id"};
    return tkl_pg_query(pg, &st, on_read, data);
}

int tkl_pg_updates_read(const char *conninfo_file, struct tkl_updates *ret, char **ret_err)
{
    struct reading x = {.ret = ret};
    *ret = (struct tkl_updates){0};
    *ret_err = NULL;
    int r = tkl_pg_run(conninfo_file, start, &x, &x.done);
    if (r < 0 && x.r == 0)
        x.r = tkl_pg_run_failed(r, "cannot use the conninfo", NULL, &x.err);
    if (x.r < 0) {
        tkl_updates_free(ret);
        *ret_err = x.err ? x.err : strdup(strerror(-x.r));
        return x.r;
    }
    free(x.err);
    return 0;
}

/* Shared by the unit tests of daemon/state: the real PostgreSQL the ctest
 * fixture started (tests/integration/pg_fixture.py), found through
 * $TICKLER_PG_FIXTURE, a fresh database per test, blocking connections
 * for the test's own checks, and a restart of the server. */
#ifndef TKL_PG_FIXTURE_H
#define TKL_PG_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "tmpdir.h"

/* $TICKLER_PG_FIXTURE/name, in a static buffer. */
static inline const char *tkl_pg_fixture_file(const char *name)
{
    static char path[4096];
    const char *dir = getenv("TICKLER_PG_FIXTURE");
    ck_assert_msg(dir != NULL, "TICKLER_PG_FIXTURE is not set: run through ctest");
    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir, name), (int)sizeof(path));
    return path;
}

/* The trusted conninfo, its dbname replaced by db (NULL: as given); the
 * caller frees it. */
static inline char *tkl_pg_fixture_conninfo(const char *db)
{
    char *text = tkl_read_all(tkl_pg_fixture_file("conninfo"), NULL);
    text[strcspn(text, "\n")] = '\0';
    if (!db)
        return text;
    char *at = strstr(text, "dbname=");
    ck_assert_ptr_nonnull(at);
    char *end = at + strcspn(at, " ");
    char *out = NULL;
    ck_assert_int_ge(asprintf(&out, "%.*sdbname=%s%s", (int)(at - text), text, db, end), 0);
    free(text);
    return out;
}

static inline void tkl_pg_fixture_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* A blocking connection to db, for the test's own checks (its notices
 * dropped). */
static inline PGconn *tkl_pg_fixture_connect(const char *db)
{
    char *ci = tkl_pg_fixture_conninfo(db);
    PGconn *c = PQconnectdb(ci);
    free(ci);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect: %s", PQerrorMessage(c));
    PQsetNoticeProcessor(c, tkl_pg_fixture_quiet, NULL);
    return c;
}

/* Runs sql on c and asserts it worked; returns the result (PQclear it). */
static inline PGresult *tkl_pg_fixture_exec(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    return res;
}

/* The first value of the first row sql returns, as a number. */
static inline long long tkl_pg_fixture_value(PGconn *c, const char *sql)
{
    PGresult *res = tkl_pg_fixture_exec(c, sql);
    ck_assert_int_eq(PQntuples(res), 1);
    long long v = PQgetisnull(res, 0, 0) ? -1 : atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

/* Makes database db empty (created, or its public schema made again: far
 * quicker than a new database with fsync on) and writes a conninfo file
 * for it into dir; returns the file's path (static). */
static inline const char *tkl_pg_fixture_db(const char *dir, const char *db)
{
    PGconn *c = tkl_pg_fixture_connect(NULL);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_database WHERE datname = '%s'", db);
    bool exists = tkl_pg_fixture_value(c, sql) == 1;
    if (!exists) {
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
        PQclear(tkl_pg_fixture_exec(c, sql));
    }
    PQfinish(c);
    if (exists) {
        c = tkl_pg_fixture_connect(db);
        PQclear(tkl_pg_fixture_exec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                       " WHERE datname = current_database()"
                                       " AND pid <> pg_backend_pid()"));
        PQclear(tkl_pg_fixture_exec(c, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
                                       " GRANT ALL ON SCHEMA public TO PUBLIC;"
                                       " DROP TABLE IF EXISTS tickler_schema_version"));
        PQfinish(c);
    }
    char *ci = tkl_pg_fixture_conninfo(db);
    const char *path = tkl_write_text(dir, "conninfo", ci);
    free(ci);
    return path;
}

/* Restarts the server (pg_ctl restart -m fast: every session cut). */
static inline void tkl_pg_fixture_restart(void)
{
    char *cmd = NULL;
    const char *dir = getenv("TICKLER_PG_FIXTURE");
    ck_assert_ptr_nonnull(dir);
    ck_assert_int_ge(
        asprintf(&cmd, "'%s' '%s' restart '%s'", TKL_PYTHON3, TKL_PG_FIXTURE_SCRIPT, dir), 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

#endif

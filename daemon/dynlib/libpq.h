#ifndef TICKLER_DYNLIB_LIBPQ_H
#define TICKLER_DYNLIB_LIBPQ_H

#include <libpq-fe.h>

#include "dynlib/dynlib.h"

/* The functions of libpq the PostgreSQL backend calls (state/pg*.c). */
#define TKL_LIBPQ_SYMBOLS(X)                                                                       \
    X(PQclear)                                                                                     \
    X(PQcmdTuples)                                                                                 \
    X(PQconnectPoll)                                                                               \
    X(PQconnectStartParams)                                                                        \
    X(PQconninfoFree)                                                                              \
    X(PQconninfoParse)                                                                             \
    X(PQconsumeInput)                                                                              \
    X(PQenterPipelineMode)                                                                         \
    X(PQerrorMessage)                                                                              \
    X(PQfinish)                                                                                    \
    X(PQflush)                                                                                     \
    X(PQfreemem)                                                                                   \
    X(PQgetResult)                                                                                 \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQisBusy)                                                                                    \
    X(PQnfields)                                                                                   \
    X(PQnotifies)                                                                                  \
    X(PQntuples)                                                                                   \
    X(PQpipelineSync)                                                                              \
    X(PQresultErrorField)                                                                          \
    X(PQresultErrorMessage)                                                                        \
    X(PQresultStatus)                                                                              \
    X(PQsendPrepare)                                                                               \
    X(PQsendQueryParams)                                                                           \
    X(PQsendQueryPrepared)                                                                         \
    X(PQsetNoticeProcessor)                                                                        \
    X(PQsetnonblocking)                                                                            \
    X(PQsocket)                                                                                    \
    X(PQstatus)

TKL_LIBPQ_SYMBOLS(TKL_DYNSYM_DECLARE)

/* Loads libpq (tkl_dynlib_load): 0, or a negative errno
 * with a message in err. */
int tkl_libpq_load(char *err, size_t size);

#endif

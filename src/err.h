/*
 * Error codes and the small error record every fallible function fills.
 * Codes are stable: append new ones, never renumber.
 */
#ifndef PETL_ERR_H
#define PETL_ERR_H

#include "common.h"

/* X(name, value, meaning): the enum and err_str's names come from this one list. */
#define ERR_CODES(X)                                                                               \
    X(ERR_OK, 0, "success")                                                                        \
    X(ERR_USAGE, 1, "bad command line")                                                            \
    X(ERR_CONFIG, 2, "bad or missing setting")                                                     \
    X(ERR_INVALID, 3, "bad input value (parameter, date, ...)")                                    \
    X(ERR_IO, 4, "file or socket error")                                                           \
    X(ERR_JSON, 5, "malformed or unexpected JSON")                                                 \
    X(ERR_HTTP, 6, "transport failure talking to Bsale")                                           \
    X(ERR_BSALE_AUTH, 7, "Bsale rejected the token")                                               \
    X(ERR_BSALE, 8, "Bsale answered an error that retries did not fix")                            \
    X(ERR_DB, 9, "database failure")                                                               \
    X(ERR_BUSY, 10, "another sync holds the lock")                                                 \
    X(ERR_INTERRUPTED, 11, "stopped by a signal or shutdown")                                      \
    X(ERR_NOT_FOUND, 12, "no such item")                                                           \
    X(ERR_LIMIT, 13, "input over a hard cap")                                                      \
    X(ERR_INTERNAL, 14, "a bug")                                                                   \
    X(ERR_SCHEMA, 15, "database schema missing or too new/old")

#define ERR_ENUM_ENTRY(name, value, meaning) name = (value),
enum err_code { ERR_CODES(ERR_ENUM_ENTRY) };
#undef ERR_ENUM_ENTRY

#define ERR_MSG_MAX 256

struct err {
    enum err_code code;
    char msg[ERR_MSG_MAX];
};

#define ERR_INIT                                                                                   \
    {                                                                                              \
        ERR_OK,                                                                                    \
        {                                                                                          \
            0                                                                                      \
        }                                                                                          \
    }

/* Records code and message in e (which may be NULL) and returns code. */
enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...) PRINTF_FMT(3, 4);

/* Prefixes e's message with context ("syncing products: ...") and returns e->code. */
enum err_code err_prefix(struct err *e, const char *fmt, ...) PRINTF_FMT(2, 3);

/* Stable name of a code, e.g. "ERR_DB". Borrowed, static. */
const char *err_str(enum err_code code);
/* The code err_str names name; fallback when name is NULL or unknown. */
enum err_code err_from_str(const char *name, enum err_code fallback);

void err_clear(struct err *e);

#endif

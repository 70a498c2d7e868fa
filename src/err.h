/*
 * Error codes and the small error record every fallible function fills.
 * Codes are stable: append new ones, never renumber.
 */
#ifndef PETL_ERR_H
#define PETL_ERR_H

#include "common.h"

enum err_code {
    ERR_OK = 0,
    ERR_USAGE = 1,        /* bad command line */
    ERR_CONFIG = 2,       /* bad or missing setting */
    ERR_INVALID = 3,      /* bad input value (parameter, date, ...) */
    ERR_IO = 4,           /* file or socket error */
    ERR_JSON = 5,         /* malformed or unexpected JSON */
    ERR_HTTP = 6,         /* transport failure talking to Bsale */
    ERR_BSALE_AUTH = 7,   /* Bsale rejected the token */
    ERR_BSALE = 8,        /* Bsale answered an error that retries did not fix */
    ERR_DB = 9,           /* database failure */
    ERR_BUSY = 10,        /* another sync holds the lock */
    ERR_INTERRUPTED = 11, /* stopped by a signal or shutdown */
    ERR_NOT_FOUND = 12,   /* no such item */
    ERR_LIMIT = 13,       /* input over a hard cap */
    ERR_INTERNAL = 14,    /* a bug */
    ERR_SCHEMA = 15,      /* database schema missing or too new/old */
};

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

void err_clear(struct err *e);

#endif

/*
 * Query-parameter validation for the HTTP routes: pure functions over
 * already-decoded key/value pairs, so they can be tested without a socket.
 * Knows nothing of libmicrohttpd or of the runner's internals.
 */
#ifndef PETL_HTTP_PARAMS_H
#define PETL_HTTP_PARAMS_H

#include "common.h"
#include "err.h"
#include "sync_runner.h"

#define HTTP_QUERY_MAX 16

/* One query argument; key and value are borrowed (value "" for `?wait`). */
struct http_param {
    const char *key;
    const char *value;
};

struct http_query {
    struct http_param p[HTTP_QUERY_MAX];
    size_t n;
    bool overflow; /* more than HTTP_QUERY_MAX arguments were sent */
};

/* Appends one argument (value may be NULL); sets overflow past HTTP_QUERY_MAX. */
void http_query_add(struct http_query *q, const char *key, const char *value);

/*
 * Validates a trigger's query (full: from, to, wait; daily: date | from+to, wait)
 * and fills req (kind and dates; origin HTTP) and *wait (default true).
 * ERR_INVALID with a message naming the offending parameter.
 */
enum err_code http_params_trigger(enum etl_kind kind, const struct http_query *q,
                                  long max_range_days, struct etl_request *req, bool *wait,
                                  struct err *e) MUST_CHECK;

/* GET /etl/runs: `limit` in 1..500, default 50. ERR_INVALID otherwise. */
enum err_code http_params_limit(const struct http_query *q, int *limit, struct err *e) MUST_CHECK;

/* A run id path segment: a positive decimal integer without sign or padding. */
enum err_code http_params_run_id(const char *s, long long *id, struct err *e) MUST_CHECK;

/* Where a raw request target (as received, before decoding) carries a control character. */
enum http_uri_fault { HTTP_URI_OK = 0, HTTP_URI_BAD_PATH, HTTP_URI_BAD_QUERY };

/*
 * Finds a control character (0x00-0x1f, 0x7f), raw or percent-encoded, in the
 * path or the query of raw: decoding would cut the text at an encoded NUL.
 * For a query fault, name gets the parameter's name made safe to echo.
 */
enum http_uri_fault http_uri_check(const char *raw, char *name, size_t name_len);

/* Days from a to b inclusive (valid dates; b before a gives <= 0). */
long http_days_inclusive(const char *a, const char *b);

#endif

/* A small libcurl client for the HTTP tests: one request, whole reply in memory. */
#ifndef PETL_TEST_HTTP_CLIENT_H
#define PETL_TEST_HTTP_CLIENT_H

#include "common.h"

#include <jansson.h>

struct reply {
    long status; /* 0 when the request could not be made */
    char *body;  /* owned, NUL-terminated */
    size_t len;
    char *headers; /* owned, raw header block */
    json_t *json;  /* owned; NULL unless the body is JSON */
    double seconds;
};

struct request_opts {
    const char *token; /* Authorization: Bearer <token> when set */
    const char *body;  /* request body (POST) */
    size_t body_len;
    bool chunked;               /* send the body with Transfer-Encoding: chunked */
    long timeout_s;             /* 0 = 30 */
    const char *const *headers; /* more "Name: value" lines, NULL-terminated (may be NULL) */
};

/* method "GET", "POST", "HEAD", "DELETE", ...; url absolute. Fills r (release with reply_release).
 */
void http_request(const char *method, const char *url, const struct request_opts *o,
                  struct reply *r);
void reply_release(struct reply *r);

/* The value of a response header (case-insensitive name), copied into dst; false if absent. */
bool reply_header(const struct reply *r, const char *name, char *dst, size_t n);

/* The "detail" member of a JSON error body, or "". Borrowed from r. */
const char *reply_detail(const struct reply *r);

#endif

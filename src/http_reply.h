/* Responses: every body goes out through here, masked and with its status recorded. */
#ifndef PETL_HTTP_REPLY_H
#define PETL_HTTP_REPLY_H

#include "common.h"
#include "err.h"
#include "http_request.h"

#include <jansson.h>
#include <microhttpd.h>

/* Queues a response; headers is a NULL-terminated name, value, ... list (may be NULL). */
enum MHD_Result http_reply(struct http_ctx *c, unsigned status, const char *content_type,
                           const char *body, size_t len, const char *const *headers);
/* body is stolen; NULL (out of memory) answers 500. */
enum MHD_Result http_reply_json(struct http_ctx *c, unsigned status, json_t *body,
                                const char *const *headers);
/* {"detail": "..."} */
enum MHD_Result http_reply_detail(struct http_ctx *c, unsigned status, const char *fmt, ...)
    PRINTF_FMT(3, 4);

/* The one place error codes become HTTP statuses. */
unsigned http_status_for(enum err_code code);

#endif

/* Responses: masked bodies, JSON and {"detail"} replies, and error codes as statuses. */
#include "common.h"

#include "http_reply.h"
#include "json_util.h"
#include "utf8.h"
#include "secret_mask.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum MHD_Result http_reply(struct http_ctx *c, unsigned status, const char *content_type,
                           const char *body, size_t len, const char *const *headers)
{
    /* Whatever a handler quoted (an upstream error, a stored run), no secret goes out. */
    char *masked = body ? secret_mask_dup(body, len) : xstrdup("");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(masked), masked, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(masked);
        return MHD_NO;
    }
    bool ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) == MHD_YES;
    ok = ok && MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES;
    for (size_t i = 0; ok && headers && headers[i] && headers[i + 1]; i += 2)
        ok = MHD_add_response_header(r, headers[i], headers[i + 1]) == MHD_YES;
    enum MHD_Result rc = ok ? MHD_queue_response(c->conn, status, r) : MHD_NO;
    MHD_destroy_response(r);
    if (rc == MHD_YES)
        c->req->status = status;
    return rc;
}

enum MHD_Result http_reply_json(struct http_ctx *c, unsigned status, json_t *body,
                                const char *const *headers)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(body);
    if (!text) {
        static const char oops[] = "{\"detail\":\"internal error\"}";
        return http_reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", oops,
                          sizeof(oops) - 1, NULL);
    }
    enum MHD_Result rc = http_reply(c, status, "application/json", text, strlen(text), headers);
    free(text);
    return rc;
}

enum MHD_Result http_reply_detail(struct http_ctx *c, unsigned status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    char *full = NULL;
    if (vasprintf(&full, fmt, ap) < 0)
        full = NULL;
    va_end(ap);
    secret_mask(full); /* before the cut, which could leave part of a secret */
    snprintf(msg, sizeof(msg), "%s", full ? full : "internal error");
    free(full);
    utf8_sanitize(msg);
    return http_reply_json(c, status, json_pack("{s:s}", "detail", msg), NULL);
}

unsigned http_status_for(enum err_code code)
{
    switch (code) {
    case ERR_OK:
        return MHD_HTTP_OK;
    case ERR_INVALID:
        return MHD_HTTP_UNPROCESSABLE_CONTENT;
    case ERR_NOT_FOUND:
        return MHD_HTTP_NOT_FOUND;
    case ERR_BUSY:
        return MHD_HTTP_CONFLICT;
    case ERR_LIMIT:
        return MHD_HTTP_CONTENT_TOO_LARGE;
    case ERR_HTTP:
    case ERR_BSALE:
    case ERR_BSALE_AUTH:
        return MHD_HTTP_BAD_GATEWAY;
    case ERR_DB:
    case ERR_SCHEMA:
    case ERR_INTERRUPTED:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

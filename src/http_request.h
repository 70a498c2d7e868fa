/* Per-request state shared by the server glue, the routes and the replies. */
#ifndef PETL_HTTP_REQUEST_H
#define PETL_HTTP_REQUEST_H

#include "common.h"
#include "http_params.h"
#include "http_trace.h"

#include <microhttpd.h>

struct http_server;

/* Per-request state, in MHD's *req_cls; freed when the request completes. */
struct http_request {
    double start; /* clock_monotonic() */
    char method[16];
    char path[160]; /* without the query string, which may carry anything */
    char user_agent[160];
    char remote_ip[64];
    unsigned status; /* 0 until a response is queued */
    long long run_id;
    unsigned long long body_len;
    bool body_too_large;
    bool begun;                    /* counted in active: the request's headers arrived */
    bool client_gone;              /* the client closed the connection before the answer */
    enum http_uri_fault uri_fault; /* a control character in the raw request target */
    char bad_param[48];
    struct http_trace trace; /* from traceparent / X-Cloud-Trace-Context */
};

struct http_ctx {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct http_request *req;
    const char *method; /* as received ("HEAD" included) */
    const char *url;    /* path, decoded by MHD, no query string */
    bool stopping;      /* the server was shutting down when the request was routed */
};

#endif

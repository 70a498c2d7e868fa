/*
 * Shared between the HTTP server's glue (http_server.c) and its routes
 * (http_routes.c). Not a public API.
 */
#ifndef PETL_HTTP_INTERNAL_H
#define PETL_HTTP_INTERNAL_H

#include "common.h"
#include "config.h"
#include "err.h"
#include "sync_runner.h"
#include "http_params.h"
#include "http_server.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <time.h>

/* One TCP connection, tracked so that a request head slower than the timeout is cut. */
struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    bool waiting;         /* for a request head: new, or kept alive after a response */
    double waiting_since; /* clock_monotonic() */
};

struct http_server {
    const struct config *cfg;  /* borrowed */
    struct etl_runner *runner; /* borrowed */
    struct MHD_Daemon *daemon;
    unsigned port;
    char *openapi_json; /* owned: rendered once at start */
    pthread_mutex_t lock;
    pthread_cond_t idle; /* signalled when active drops to 0 */
    long active;         /* requests between first callback and completion */
    bool stopping;
    pthread_mutex_t conns_lock; /* guards conns and reaper_stop */
    pthread_cond_t reaper_wake;
    struct http_conn *conns;
    pthread_t reaper;
    bool reaper_started, reaper_stop;
};

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
    enum http_uri_fault uri_fault; /* a control character in the raw request target */
    char bad_param[48];
};

struct http_ctx {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct http_request *req;
    const char *method; /* as received ("HEAD" included) */
    const char *url;    /* path, decoded by MHD, no query string */
};

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

bool http_server_stopping(struct http_server *s);

/* Connection tracking and the slow-head reaper (http_conns.c). */
void http_conns_on_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe);
void http_conns_request_began(struct http_server *s, struct MHD_Connection *conn);
void http_conns_request_done(struct http_server *s, struct MHD_Connection *conn);
enum err_code http_conns_start(struct http_server *s, struct err *e) MUST_CHECK;
void http_conns_stop(struct http_server *s);

/* Routes the request (auth, 404, 405 + Allow included). */
enum MHD_Result http_dispatch(struct http_ctx *c);

#endif

/* Connection tracking and the slow-head reaper (http_conns.c). */
#ifndef PETL_HTTP_CONNS_H
#define PETL_HTTP_CONNS_H

#include "common.h"
#include "err.h"

#include <microhttpd.h>

struct http_server;

/* One TCP connection, tracked so that a request head slower than the timeout is cut. */
struct http_conn {
    struct http_conn *prev, *next;
    int fd;
    bool waiting;         /* for a request head: new, or kept alive after a response */
    double waiting_since; /* clock_monotonic() */
};

void http_conns_on_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe);
void http_conns_request_began(struct http_server *s, struct MHD_Connection *conn);
void http_conns_request_done(struct http_server *s, struct MHD_Connection *conn);
/* The client closed (or reset) conn's socket: nobody reads what is sent now. */
bool http_peer_closed(struct MHD_Connection *conn);
enum err_code http_conns_start(struct http_server *s, struct err *e) MUST_CHECK;
void http_conns_stop(struct http_server *s);

#endif

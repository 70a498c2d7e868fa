/*
 * The server's state (http_server.c owns it), read by the routes and the
 * connection tracker. Not a public API.
 */
#ifndef PETL_HTTP_INTERNAL_H
#define PETL_HTTP_INTERNAL_H

#include "common.h"
#include "config.h"
#include "err.h"
#include "sync_runner.h"
#include "http_conns.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <time.h>

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

#endif

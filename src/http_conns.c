/*
 * Slow request heads: libmicrohttpd's timeout is an idle timeout, so a client
 * sending a byte now and then holds its connection (and, one thread per
 * connection, a thread) for ever. Every connection is tracked here, and one
 * whose request head has not arrived in full within HTTP_TIMEOUT_S of its
 * start (or of its previous response) is shut down: slow counts as idle.
 */
#include "common.h"

#define LOG_MODULE "http"
#include "clock.h"
#include "log.h"

#include "http_conns.h"
#include "http_internal.h"

#include <errno.h>
#include <sys/socket.h>

#define REAPER_PERIOD_S 1

static struct http_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

bool http_peer_closed(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    char byte;
    ssize_t n = recv(ci->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void set_waiting(struct http_server *s, struct MHD_Connection *conn, bool waiting)
{
    struct http_conn *hc = conn_of(conn);
    if (!hc)
        return;
    pthread_mutex_lock(&s->conns_lock);
    hc->waiting = waiting;
    hc->waiting_since = clock_monotonic();
    pthread_mutex_unlock(&s->conns_lock);
}

void http_conns_request_began(struct http_server *s, struct MHD_Connection *conn)
{
    set_waiting(s, conn, false);
}

void http_conns_request_done(struct http_server *s, struct MHD_Connection *conn)
{
    set_waiting(s, conn, true); /* kept alive: the next head has the same time limit */
}

static void track(struct http_server *s, struct MHD_Connection *conn, void **socket_context)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct http_conn *hc = xcalloc(1, sizeof(*hc));
    hc->fd = ci ? ci->connect_fd : -1;
    hc->waiting = true;
    hc->waiting_since = clock_monotonic();
    pthread_mutex_lock(&s->conns_lock);
    hc->next = s->conns;
    if (s->conns)
        s->conns->prev = hc;
    s->conns = hc;
    pthread_mutex_unlock(&s->conns_lock);
    *socket_context = hc;
}

/* libmicrohttpd calls CLOSED before it closes the socket, so a tracked fd is never reused. */
static void untrack(struct http_server *s, void **socket_context)
{
    struct http_conn *hc = *socket_context;
    if (!hc)
        return;
    pthread_mutex_lock(&s->conns_lock);
    if (hc->prev)
        hc->prev->next = hc->next;
    else
        s->conns = hc->next;
    if (hc->next)
        hc->next->prev = hc->prev;
    pthread_mutex_unlock(&s->conns_lock);
    free(hc);
    *socket_context = NULL;
}

void http_conns_on_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        track(cls, conn, socket_context);
    else
        untrack(cls, socket_context);
}

/* Shuts down connections whose head is late; called with conns_lock held. */
static int cut_slow(struct http_server *s, double limit_s)
{
    int cut = 0;
    for (struct http_conn *hc = s->conns; hc; hc = hc->next) {
        if (!hc->waiting || hc->fd < 0 || clock_monotonic() - hc->waiting_since <= limit_s)
            continue;
        hc->waiting = false; /* once: its thread sees the end of the stream and closes it */
        if (shutdown(hc->fd, SHUT_RDWR) == 0)
            cut++;
    }
    return cut;
}

static void *reaper_main(void *arg)
{
    struct http_server *s = arg;
    double limit_s = (double)s->cfg->http_timeout_s;
    pthread_mutex_lock(&s->conns_lock);
    while (!s->reaper_stop) {
        struct timespec until;
        clock_deadline(REAPER_PERIOD_S, &until);
        pthread_cond_timedwait(&s->reaper_wake, &s->conns_lock, &until);
        int cut = s->reaper_stop ? 0 : cut_slow(s, limit_s);
        if (cut)
            log_warn("closed %d connection(s) whose request head took over %.0f s "
                     "(HTTP_TIMEOUT_S)",
                     cut, limit_s);
    }
    pthread_mutex_unlock(&s->conns_lock);
    return NULL;
}

enum err_code http_conns_start(struct http_server *s, struct err *e)
{
    int rc = pthread_create(&s->reaper, NULL, reaper_main, s);
    if (rc != 0)
        return err_set(e, ERR_INTERNAL, "cannot start the slow-connection reaper: %s",
                       strerror(rc));
    s->reaper_started = true;
    return ERR_OK;
}

void http_conns_stop(struct http_server *s)
{
    if (!s->reaper_started)
        return;
    pthread_mutex_lock(&s->conns_lock);
    s->reaper_stop = true;
    pthread_cond_signal(&s->reaper_wake);
    pthread_mutex_unlock(&s->conns_lock);
    pthread_join(s->reaper, NULL);
    s->reaper_started = false;
}

/*
 * libmicrohttpd glue: daemon life, per-request state, body cap, request log,
 * graceful shutdown on SIGTERM/SIGINT. Routing lives in http_routes.c.
 */
#include "common.h"

#define LOG_MODULE "http"
#include "clock.h"
#include "log.h"

#include "http_internal.h"
#include "http_reply.h"
#include "http_request.h"
#include "http_routes.h"
#include "http_server.h"
#include "json_util.h"
#include "utf8.h"
#include "http_openapi.h"
#include "secret_mask.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTP_MEMORY_LIMIT (32 * 1024)
#define HTTP_DRAIN_MAX_S 5.0
#define HTTP_BODY_DROP_MIN (1024ULL * 1024)

/* Copies at most n-1 bytes of s as printable UTF-8 (log fields must be valid JSON strings). */
static void copy_printable(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    utf8_sanitize(dst);
}

static void remote_ip(struct MHD_Connection *conn, char *dst, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    dst[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                           : sizeof(struct sockaddr_in);
    if (getnameinfo(ci->client_addr, len, dst, (socklen_t)n, NULL, 0, NI_NUMERICHOST) != 0)
        dst[0] = '\0';
}

static bool server_stopping(struct http_server *s)
{
    pthread_mutex_lock(&s->lock);
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return stopping;
}

/* Called with the raw request target, before libmicrohttpd decodes it in place. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_request *req = xcalloc(1, sizeof(*req));
    req->uri_fault = http_uri_check(uri, req->bad_param, sizeof(req->bad_param));
    return req;
}

static struct http_request *request_begin(struct http_server *s, struct MHD_Connection *conn,
                                          const char *method, const char *url,
                                          struct http_request *req)
{
    if (!req)
        req = xcalloc(1, sizeof(*req));
    req->begun = true;
    req->start = clock_monotonic();
    copy_printable(req->method, sizeof(req->method), method);
    copy_printable(req->path, sizeof(req->path), url);
    copy_printable(req->user_agent, sizeof(req->user_agent),
                   MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT));
    remote_ip(conn, req->remote_ip, sizeof(req->remote_ip));
    http_trace_parse(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent"),
                     MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Cloud-Trace-Context"),
                     &req->trace);
    http_conns_request_began(s, conn);
    pthread_mutex_lock(&s->lock);
    s->active++;
    pthread_mutex_unlock(&s->lock);
    return req;
}

static unsigned long long body_drop_limit(long max_body)
{
    unsigned long long four = 4ULL * (unsigned long long)max_body;
    return four > HTTP_BODY_DROP_MIN ? four : HTTP_BODY_DROP_MIN;
}

/* A declared body over the cap is refused before it is read. */
static bool declared_too_large(struct MHD_Connection *conn, long max_body)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno == ERANGE || (end && *end == '\0' && n > (unsigned long long)max_body);
}

/* Refused rather than cut at the first decoded NUL: 400 for the path, 422 for a parameter. */
static enum MHD_Result reply_uri_fault(struct http_ctx *c)
{
    if (c->req->uri_fault == HTTP_URI_BAD_PATH)
        return http_reply_detail(c, MHD_HTTP_BAD_REQUEST,
                                 "invalid path: control characters are not allowed");
    return http_reply_detail(c, MHD_HTTP_UNPROCESSABLE_CONTENT,
                             "invalid query parameter '%s': control characters are not allowed",
                             c->req->bad_param);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    struct http_server *s = cls;
    struct http_ctx c = {.srv = s, .conn = conn, .req = *req_cls, .method = method, .url = url};
    if (!c.req || !c.req->begun) {
        *req_cls = c.req = request_begin(s, conn, method, url, c.req);
        log_set_run_id(0);
        if (c.req->uri_fault)
            return reply_uri_fault(&c);
        if (!declared_too_large(conn, s->cfg->http_max_body))
            return MHD_YES;
        c.req->body_too_large = true;
        return http_reply_detail(&c, MHD_HTTP_CONTENT_TOO_LARGE,
                                 "request body over %ld bytes (HTTP_MAX_BODY)",
                                 s->cfg->http_max_body);
    }
    if (*upload_size) {
        /* No route reads a body: count it against the cap and drop it. */
        c.req->body_len += *upload_size;
        *upload_size = 0;
        if (c.req->body_len > (unsigned long long)s->cfg->http_max_body)
            c.req->body_too_large = true;
        /*
         * libmicrohttpd 0.9.75 cannot answer in the middle of a body, so a chunked
         * body over the cap is read to its end for the 413; one far over it (an
         * endless stream) gets the connection closed instead.
         */
        return c.req->body_len > body_drop_limit(s->cfg->http_max_body) ? MHD_NO : MHD_YES;
    }
    if (c.req->status)
        return MHD_YES;
    /* Lines logged while this request is served carry its trace. */
    log_set_trace(c.req->trace.trace_id, c.req->trace.span_id, c.req->trace.sampled);
    if (c.req->body_too_large)
        return http_reply_detail(&c, MHD_HTTP_CONTENT_TOO_LARGE,
                                 "request body over %ld bytes (HTTP_MAX_BODY)",
                                 s->cfg->http_max_body);
    c.stopping = server_stopping(s);
    return http_dispatch(&c);
}

/* Why a request ended without its answer delivered; NULL when it was delivered. */
static const char *aborted_reason(const struct http_request *req,
                                  enum MHD_RequestTerminationCode toe)
{
    if (req->client_gone)
        return "client closed the connection before the answer";
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return NULL;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "connection timed out";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "server shut down";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client closed the connection";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "error reading the request";
    default:
        return "error sending the answer";
    }
}

/* 499 (the client closed the request, as nginx logs it) for an answer nobody received. */
#define HTTP_STATUS_CLIENT_CLOSED 499

static void log_request(const struct http_server *s, const struct http_request *req,
                        enum MHD_RequestTerminationCode toe)
{
    double secs = clock_monotonic() - req->start;
    const char *aborted = aborted_reason(req, toe);
    int status = aborted ? HTTP_STATUS_CLIENT_CLOSED : (int)req->status;
    json_t *f;
    if (s->cfg->log_format == LOG_FORMAT_JSON) {
        char latency[32];
        snprintf(latency, sizeof(latency), "%.3fs", secs);
        f = json_pack("{s:{s:s, s:s, s:i, s:s, s:s, s:s}}", "httpRequest", "requestMethod",
                      req->method, "requestUrl", req->path, "status", status, "latency", latency,
                      "remoteIp", req->remote_ip, "userAgent", req->user_agent);
    } else {
        f = json_pack("{s:s, s:s, s:i, s:f, s:s}", "method", req->method, "path", req->path,
                      "status", status, "ms", (double)(long long)(secs * 1e4) / 10.0, "remote_ip",
                      req->remote_ip);
    }
    if (f && req->run_id)
        json_object_set_new(f, "run_id", json_integer(req->run_id));
    if (f && aborted) {
        json_object_set_new(f, "aborted", json_string(aborted));
        json_object_set_new(f, "answer_status", json_integer((json_int_t)req->status));
    }
    if (aborted)
        log_event(LOG_WARN, LOG_MODULE, f, "%s %s aborted after %.1fs: %s", req->method, req->path,
                  secs, aborted);
    else
        log_event(LOG_INFO, LOG_MODULE, f, "%s %s %u", req->method, req->path, req->status);
    json_decref(f);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct http_request *req = *req_cls;
    if (!req)
        return;
    *req_cls = NULL;
    bool begun = req->begun;
    http_conns_request_done(s, conn);
    if (begun) {
        log_set_trace(req->trace.trace_id, req->trace.span_id, req->trace.sampled);
        log_request(s, req, toe);
    }
    log_set_trace(NULL, NULL, false);
    log_set_run_id(0);
    free(req);
    if (!begun)
        return;
    pthread_mutex_lock(&s->lock);
    if (--s->active == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

static void PRINTF_FMT(2, 0) on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("libmicrohttpd: %s", msg);
}

/* Resolves cfg->host into a socket address with cfg->port. */
static enum err_code bind_address(const struct config *cfg, struct sockaddr_storage *ss, bool *ipv6,
                                  struct err *e)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    const char *host = cfg->host && *cfg->host ? cfg->host : "0.0.0.0";
    int rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc != 0)
        return err_set(e, ERR_CONFIG, "cannot resolve HOST '%s': %s", host, gai_strerror(rc));
    memset(ss, 0, sizeof(*ss));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *ipv6 = ai->ai_family == AF_INET6;
    if (*ipv6)
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)cfg->port);
    else
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)cfg->port);
    freeaddrinfo(ai);
    return ERR_OK;
}

static enum err_code start_daemon(struct http_server *s, struct err *e)
{
    const struct config *cfg = s->cfg;
    struct sockaddr_storage ss = {0};
    bool ipv6 = false;
    enum err_code rc = bind_address(cfg, &ss, &ipv6, e);
    if (rc)
        return rc;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    /*
     * The logger goes first so that option parsing itself is reported through it.
     * No per-address cap: behind Cloud Run every request comes from the proxy's
     * address, and slow clients would lock out that address's health probes.
     */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->http_max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->http_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_MEMORY_LIMIT, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
        http_conns_on_notify, s, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!s->daemon)
        return err_set(e, ERR_IO, "cannot listen on %s:%ld: %s", cfg->host ? cfg->host : "",
                       cfg->port, errno ? strerror(errno) : "libmicrohttpd refused to start");
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : (unsigned)cfg->port;
    return http_conns_start(s, e);
}

enum err_code http_server_start(const struct config *cfg, struct etl_runner *runner,
                                struct http_server **out, struct err *e)
{
    struct http_server *s = xcalloc(1, sizeof(*s));
    enum err_code rc = ERR_OK;
    s->cfg = cfg;
    s->runner = runner;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    pthread_mutex_init(&s->conns_lock, NULL);
    pthread_cond_init(&s->reaper_wake, NULL);
    log_set_cloud_project(getenv("GOOGLE_CLOUD_PROJECT"));
    json_t *doc = openapi_document();
    s->openapi_json = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
    json_decref(doc);
    if (!s->openapi_json) {
        rc = err_set(e, ERR_INTERNAL, "cannot render the OpenAPI document");
        goto out;
    }
    rc = start_daemon(s, e);
out:
    if (rc) {
        http_server_stop(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

unsigned http_server_port(const struct http_server *s)
{
    return s->port;
}

/* Waits until no request is in flight, at most max_s seconds. */
static void drain(struct http_server *s, double max_s)
{
    struct timespec deadline;
    clock_deadline(max_s, &deadline);
    pthread_mutex_lock(&s->lock);
    while (s->active > 0)
        if (pthread_cond_timedwait(&s->idle, &s->lock, &deadline) == ETIMEDOUT)
            break;
    long left = s->active;
    pthread_mutex_unlock(&s->lock);
    if (left)
        log_warn("stopping with %ld request(s) still in flight", left);
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    MHD_socket listen_fd = MHD_INVALID_SOCKET;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_mutex_unlock(&s->lock);
    if (s->daemon)
        listen_fd = MHD_quiesce_daemon(s->daemon);
    if (s->daemon && s->runner)
        etl_runner_shutdown(s->runner, (double)s->cfg->shutdown_timeout_s);
    if (s->daemon) {
        drain(s, HTTP_DRAIN_MAX_S);
        MHD_stop_daemon(s->daemon);
    }
    http_conns_stop(s);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    free(s->openapi_json);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->reaper_wake);
    pthread_mutex_destroy(&s->conns_lock);
    free(s);
}

enum err_code http_server_run(const struct config *cfg, struct etl_runner *runner, struct err *e)
{
    sigset_t stop_set, old_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &stop_set, &old_set) != 0)
        return err_set(e, ERR_INTERNAL, "cannot block SIGTERM/SIGINT");
    /* A client that hangs up must not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    struct http_server *s = NULL;
    enum err_code rc = http_server_start(cfg, runner, &s, e);
    if (rc)
        goto out;
    const char *host = cfg->host && *cfg->host ? cfg->host : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL;
    log_info("listening on http://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
             http_server_port(s));
    int sig = 0;
    while (sigwait(&stop_set, &sig) != 0)
        ;
    log_info("received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    http_server_stop(s);
    log_info("stopped");
out:
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    return rc;
}

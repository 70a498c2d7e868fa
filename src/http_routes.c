/*
 * The route table and its thin handlers: parse, call the runner, map the
 * outcome to a status. Error bodies are FastAPI-style {"detail": "..."}.
 */
#include "common.h"

#define LOG_MODULE "http"
#include "log.h"

#include "buf.h"
#include "http_conns.h"
#include "http_internal.h"
#include "http_reply.h"
#include "http_request.h"
#include "http_routes.h"
#include "http_params.h"
#include "json_util.h"
#include "utf8.h"
#include "http_metrics.h"
#include "http_openapi.h"
#include "http_status_page.h"
#include "db.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef enum MHD_Result (*route_fn)(struct http_ctx *c, const char *arg);

static enum MHD_Result h_health(struct http_ctx *c, const char *arg);
static enum MHD_Result h_ready(struct http_ctx *c, const char *arg);
static enum MHD_Result h_full_sync(struct http_ctx *c, const char *arg);
static enum MHD_Result h_daily_sync(struct http_ctx *c, const char *arg);
static enum MHD_Result h_runs(struct http_ctx *c, const char *arg);
static enum MHD_Result h_run(struct http_ctx *c, const char *arg);
static enum MHD_Result h_metrics(struct http_ctx *c, const char *arg);
static enum MHD_Result h_openapi(struct http_ctx *c, const char *arg);
static enum MHD_Result h_docs(struct http_ctx *c, const char *arg);
static enum MHD_Result h_status(struct http_ctx *c, const char *arg);

/* method, path template (one "{...}" segment at most), needs the token, handler */
#define HTTP_ROUTES(X)                                                                             \
    X("GET", "/health", false, h_health)                                                           \
    X("GET", "/health/ready", false, h_ready)                                                      \
    X("POST", "/etl/run-full-sync", true, h_full_sync)                                             \
    X("POST", "/etl/run-daily-sync", true, h_daily_sync)                                           \
    X("GET", "/etl/runs", true, h_runs)                                                            \
    X("GET", "/etl/runs/{run_id}", true, h_run)                                                    \
    X("GET", "/metrics", true, h_metrics)                                                          \
    X("GET", "/openapi.json", false, h_openapi)                                                    \
    X("GET", "/docs", false, h_docs)                                                               \
    X("GET", "/", true, h_status)                                                                  \
    X("GET", "/status", true, h_status)

struct http_route {
    const char *method;
    const char *path;
    bool auth;
    route_fn fn;
};

#define ROUTE_ENTRY(m, p, a, f) {m, p, a, f},
#define INFO_ENTRY(m, p, a, f) {m, p},
static const struct http_route routes[] = {HTTP_ROUTES(ROUTE_ENTRY)};
static const struct http_route_info route_infos[] = {HTTP_ROUTES(INFO_ENTRY)};

const struct http_route_info *http_routes_info(size_t *n)
{
    *n = ARRAY_LEN(route_infos);
    return route_infos;
}

/*
 * Matches url against a template; a "{...}" segment matches one non-empty
 * segment, whose bounds go to *arg / *arg_len.
 */
static bool path_match(const char *tmpl, const char *url, const char **arg, size_t *arg_len)
{
    const char *brace = strchr(tmpl, '{');
    if (!brace)
        return strcmp(tmpl, url) == 0;
    size_t prefix = (size_t)(brace - tmpl);
    if (strncmp(tmpl, url, prefix) != 0)
        return false;
    const char *seg = url + prefix;
    size_t len = strcspn(seg, "/");
    const char *rest_t = strchr(brace, '}') + 1;
    if (len == 0 || strcmp(rest_t, seg + len) != 0)
        return false;
    *arg = seg;
    *arg_len = len;
    return true;
}

static bool method_is(const struct http_ctx *c, const char *m)
{
    if (strcmp(c->method, m) == 0)
        return true;
    /* HEAD is GET without a body; libmicrohttpd drops the body itself. */
    return strcmp(m, "GET") == 0 && strcmp(c->method, "HEAD") == 0;
}

/* Constant-time in the token's content; the length is not a secret worth hiding. */
static bool token_equal(const char *given, size_t given_len, const char *want)
{
    size_t want_len = strlen(want);
    unsigned char diff = given_len != want_len;
    for (size_t i = 0; i < want_len; i++)
        diff |= (unsigned char)(want[i] ^ (i < given_len ? given[i] : 0));
    return diff == 0;
}

static bool authorized(struct http_ctx *c)
{
    const char *want = c->srv->cfg->etl_api_token;
    if (!want || !*want)
        return true;
    const char *h =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    return token_equal(h, strlen(h), want);
}

static enum MHD_Result reply_unauthorized(struct http_ctx *c)
{
    static const char *const hdrs[] = {MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer", NULL};
    return http_reply_json(c, MHD_HTTP_UNAUTHORIZED,
                           json_pack("{s:s}", "detail", "not authenticated"), hdrs);
}

static enum MHD_Result reply_not_allowed(struct http_ctx *c)
{
    char allow[64] = "";
    const char *arg;
    size_t arg_len;
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        if (!path_match(routes[i].path, c->url, &arg, &arg_len) || strstr(allow, routes[i].method))
            continue;
        size_t k = strlen(allow);
        snprintf(allow + k, sizeof(allow) - k, "%s%s%s", k ? ", " : "", routes[i].method,
                 strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
    }
    const char *const hdrs[] = {MHD_HTTP_HEADER_ALLOW, allow, NULL};
    return http_reply_json(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                           json_pack("{s:s}", "detail", "Method Not Allowed"), hdrs);
}

enum MHD_Result http_dispatch(struct http_ctx *c)
{
    bool path_known = false;
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        const char *arg = NULL;
        size_t arg_len = 0;
        if (!path_match(routes[i].path, c->url, &arg, &arg_len))
            continue;
        path_known = true;
        if (!method_is(c, routes[i].method))
            continue;
        if (routes[i].auth && !authorized(c))
            return reply_unauthorized(c);
        char argbuf[64] = "";
        if (arg)
            snprintf(argbuf, sizeof(argbuf), "%.*s", (int)(arg_len < 63 ? arg_len : 63), arg);
        if (arg && arg_len >= sizeof(argbuf))
            argbuf[0] = 'x'; /* too long to be an id: make it fail validation */
        return routes[i].fn(c, argbuf);
    }
    if (path_known)
        return reply_not_allowed(c);
    return http_reply_detail(c, MHD_HTTP_NOT_FOUND, "Not Found");
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    http_query_add(cls, key, value);
    return MHD_YES;
}

static void read_query(struct http_ctx *c, struct http_query *q)
{
    memset(q, 0, sizeof(*q));
    MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, collect_arg, q);
}

static enum MHD_Result h_health(struct http_ctx *c, const char *arg)
{
    return http_reply_json(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
}

static enum MHD_Result h_ready(struct http_ctx *c, const char *arg)
{
    struct err e = ERR_INIT;
    if (c->stopping)
        return http_reply_detail(c, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
    if (etl_runner_ready(c->srv->runner, &e) != ERR_OK)
        return http_reply_detail(c, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", e.msg);
    return http_reply_json(c, MHD_HTTP_OK, json_pack("{s:s}", "status", "ready"), NULL);
}

/* A run summary says whether it failed even when the wait itself went fine. */
static bool summary_failed(json_t *summary)
{
    const char *st = json_string_value(json_object_get(summary, "status"));
    return st && strcmp(st, "failed") == 0;
}

static enum MHD_Result reply_run_outcome(struct http_ctx *c, enum err_code rc, struct err *e,
                                         json_t *summary)
{
    if (rc == ERR_OK && !summary_failed(summary))
        return http_reply_json(c, MHD_HTTP_OK, summary, NULL);
    unsigned status = rc ? http_status_for(rc) : MHD_HTTP_SERVICE_UNAVAILABLE;
    if (status < 500)
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    const char *why = rc ? e->msg : json_string_value(json_object_get(summary, "error"));
    char detail[ERR_MSG_MAX + 32];
    snprintf(detail, sizeof(detail), "sync failed: %s", why && *why ? why : "unknown error");
    utf8_sanitize(detail);
    json_t *body = json_pack("{s:s, s:O?}", "detail", detail, "run", summary);
    json_decref(summary);
    return http_reply_json(c, status, body, NULL);
}

/*
 * A browser submitting the status page's form (an HTML form POST asking for HTML) is sent
 * back to the page, which shows the new run; API clients keep the 202 and its Location.
 */
static bool from_status_page(struct http_ctx *c)
{
    const char *type =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *accept =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    return type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0 && accept &&
           strstr(accept, "text/html");
}

static enum MHD_Result reply_back_to_status(struct http_ctx *c, long long run_id)
{
    static const char *const hdrs[] = {MHD_HTTP_HEADER_LOCATION, "/status", NULL};
    return http_reply_json(
        c, MHD_HTTP_SEE_OTHER,
        json_pack("{s:I, s:s}", "run_id", (json_int_t)run_id, "status", "running"), hdrs);
}

static const char *header(struct http_ctx *c, const char *name)
{
    return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

/*
 * The request's idempotency key: Idempotency-Key, else what Cloud Scheduler
 * sends with every attempt of one scheduled execution (job name and schedule
 * time), so its retries find the first attempt's run. false: a bad key.
 */
static bool idempotency_key(struct http_ctx *c, char *key, size_t n)
{
    const char *given = header(c, "Idempotency-Key");
    key[0] = '\0';
    if (given)
        return snprintf(key, n, "%s", given) < (int)n && db_run_key_valid(key);
    const char *job = header(c, "X-CloudScheduler-JobName");
    const char *at = header(c, "X-CloudScheduler-ScheduleTime");
    if (!job || !at)
        return true;
    const char *slash = strrchr(job, '/');
    snprintf(key, n, "scheduler:%s@%s", slash ? slash + 1 : job, at);
    if (!db_run_key_valid(key)) /* not usable as a key: no deduplication, as without it */
        key[0] = '\0';
    return true;
}

/*
 * The run this trigger gets: a new one, else the one it repeats (same key, or
 * the same kind and dates going now; *joined). ERR_BUSY: a different run goes.
 */
static enum err_code start_or_join(struct http_ctx *c, const struct etl_request *req,
                                   long long *run_id, bool *joined, struct err *e)
{
    struct etl_runner *r = c->srv->runner;
    *joined = false;
    if (req->idempotency_key && etl_runner_join(r, req, run_id, e) == ERR_OK) {
        *joined = true;
        return ERR_OK;
    }
    enum err_code rc = etl_runner_start(r, req, run_id, e);
    if (rc != ERR_BUSY)
        return rc;
    long long busy = *run_id;
    struct err je = ERR_INIT;
    if (etl_runner_join(r, req, run_id, &je) == ERR_OK) {
        *joined = true;
        return ERR_OK;
    }
    *run_id = busy;
    return rc;
}

static enum MHD_Result trigger(struct http_ctx *c, enum etl_kind kind)
{
    struct err e = ERR_INIT;
    struct http_query q = {0};
    struct etl_request req = {0};
    bool wait = true, joined = false;
    long long run_id = 0;
    char key[DB_RUN_KEY_MAX + 1];
    read_query(c, &q);
    if (http_params_trigger(kind, &q, c->srv->cfg->etl_max_range_days, &req, &wait, &e))
        return http_reply_detail(c, MHD_HTTP_UNPROCESSABLE_CONTENT, "%s", e.msg);
    if (!idempotency_key(c, key, sizeof(key)))
        return http_reply_detail(c, MHD_HTTP_UNPROCESSABLE_CONTENT,
                                 "invalid Idempotency-Key: 1 to %d of A-Z a-z 0-9 -_.:+/=@",
                                 DB_RUN_KEY_MAX);
    req.idempotency_key = key[0] ? key : NULL;
    if (c->stopping)
        return http_reply_detail(c, MHD_HTTP_SERVICE_UNAVAILABLE, "shutting down");
    enum err_code rc = start_or_join(c, &req, &run_id, &joined, &e);
    if (rc == ERR_BUSY) {
        json_t *body = json_pack("{s:s}", "detail", "another sync is running");
        json_object_set_new(body, "run_id", run_id > 0 ? json_integer(run_id) : json_null());
        return http_reply_json(c, MHD_HTTP_CONFLICT, body, NULL);
    }
    if (rc)
        return http_reply_detail(c, http_status_for(rc), "cannot start the sync: %s", e.msg);
    c->req->run_id = run_id;
    log_set_run_id(run_id); /* this request's later lines belong to the run */
    log_info("%s sync %s run %lld", etl_kind_name(kind), joined ? "joins" : "started as", run_id);
    if (!wait && from_status_page(c))
        return reply_back_to_status(c, run_id);
    if (!wait) {
        char location[48];
        snprintf(location, sizeof(location), "/etl/runs/%lld", run_id);
        const char *const hdrs[] = {MHD_HTTP_HEADER_LOCATION, location, NULL};
        return http_reply_json(
            c, MHD_HTTP_ACCEPTED,
            json_pack("{s:I, s:s}", "run_id", (json_int_t)run_id, "status", "running"), hdrs);
    }
    json_t *summary = NULL;
    rc = etl_runner_wait(c->srv->runner, run_id, &summary, &e);
    c->req->client_gone = http_peer_closed(c->conn);
    return reply_run_outcome(c, rc, &e, summary);
}

static enum MHD_Result h_full_sync(struct http_ctx *c, const char *arg)
{
    return trigger(c, ETL_FULL);
}

static enum MHD_Result h_daily_sync(struct http_ctx *c, const char *arg)
{
    return trigger(c, ETL_DAILY);
}

static enum MHD_Result h_runs(struct http_ctx *c, const char *arg)
{
    struct err e = ERR_INIT;
    struct http_query q = {0};
    int limit = 0;
    json_t *runs = NULL;
    read_query(c, &q);
    if (http_params_limit(&q, &limit, &e))
        return http_reply_detail(c, MHD_HTTP_UNPROCESSABLE_CONTENT, "%s", e.msg);
    enum err_code rc = etl_runner_list(c->srv->runner, limit, &runs, &e);
    if (rc)
        return http_reply_detail(c, http_status_for(rc), "cannot list runs: %s", e.msg);
    return http_reply_json(c, MHD_HTTP_OK, runs, NULL);
}

static enum MHD_Result h_run(struct http_ctx *c, const char *arg)
{
    struct err e = ERR_INIT;
    struct http_query q = {0};
    long long id = 0;
    json_t *run = NULL;
    if (http_params_run_id(arg, &id, &e))
        return http_reply_detail(c, MHD_HTTP_UNPROCESSABLE_CONTENT, "%s", e.msg);
    read_query(c, &q);
    if (q.n)
        return http_reply_detail(c, MHD_HTTP_UNPROCESSABLE_CONTENT,
                                 "this route takes no query parameters");
    enum err_code rc = etl_runner_get(c->srv->runner, id, &run, &e);
    if (rc == ERR_NOT_FOUND)
        return http_reply_detail(c, MHD_HTTP_NOT_FOUND, "run %lld not found", id);
    if (rc)
        return http_reply_detail(c, http_status_for(rc), "cannot read run %lld: %s", id, e.msg);
    return http_reply_json(c, MHD_HTTP_OK, run, NULL);
}

static enum MHD_Result h_metrics(struct http_ctx *c, const char *arg)
{
    struct err e = ERR_INIT;
    struct etl_metrics m;
    struct buf b;
    memset(&m, 0, sizeof(m));
    etl_runner_metrics(c->srv->runner, &m);
    buf_init(&b, 0);
    enum MHD_Result res;
    if (metrics_render(&m, &b, &e))
        res = http_reply_detail(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics");
    else
        res = http_reply(c, MHD_HTTP_OK, METRICS_CONTENT_TYPE, b.data, b.len, NULL);
    buf_release(&b);
    return res;
}

static enum MHD_Result h_openapi(struct http_ctx *c, const char *arg)
{
    const char *doc = c->srv->openapi_json;
    return http_reply(c, MHD_HTTP_OK, "application/json", doc, strlen(doc), NULL);
}

static enum MHD_Result h_docs(struct http_ctx *c, const char *arg)
{
    const char *html = openapi_docs_html();
    return http_reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", html, strlen(html), NULL);
}

/* ?confirm=daily|full (the second step of a trigger button) and ?lang=es|en; nothing else. */
static enum err_code status_query(const struct http_query *q, int *confirm, int *lang,
                                  struct err *e)
{
    *confirm = *lang = -1;
    for (size_t i = 0; i < q->n; i++) {
        const char *k = q->p[i].key, *v = q->p[i].value;
        if (strcmp(k, "confirm") == 0 && (strcmp(v, "daily") == 0 || strcmp(v, "full") == 0))
            *confirm = strcmp(v, "daily") == 0 ? ETL_DAILY : ETL_FULL;
        else if (strcmp(k, "lang") == 0 && (strcmp(v, "es") == 0 || strcmp(v, "en") == 0))
            *lang = strcmp(v, "en") == 0 ? STATUS_EN : STATUS_ES;
        else
            return err_set(e, ERR_INVALID,
                           "invalid query: the status page takes confirm=daily|full and "
                           "lang=es|en");
    }
    return q->overflow ? err_set(e, ERR_INVALID, "too many query parameters") : ERR_OK;
}

static enum MHD_Result h_status(struct http_ctx *c, const char *arg)
{
    struct err e = ERR_INIT;
    struct http_query q = {0};
    int confirm = -1, lang = -1;
    read_query(c, &q);
    if (status_query(&q, &confirm, &lang, &e))
        return http_reply_detail(c, MHD_HTTP_UNPROCESSABLE_CONTENT, "%s", e.msg);
    if (lang < 0)
        lang = (int)status_lang_from_header(
            MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
    static const char *const hdrs[] = {MHD_HTTP_HEADER_CACHE_CONTROL, "no-store",
                                       MHD_HTTP_HEADER_VARY, "Accept-Language", NULL};
    struct buf b;
    buf_init(&b, 0);
    unsigned status = MHD_HTTP_OK;
    if (confirm >= 0) {
        status_confirm_render((enum etl_kind)confirm, (enum status_lang)lang, &b);
    } else {
        struct status_data *d = xcalloc(1, sizeof(*d));
        status_data_load(c->srv->cfg, d);
        status_page_render(d, (enum status_lang)lang, &b);
        status = d->error[0] ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
        status_data_release(d);
        free(d);
    }
    enum MHD_Result res = http_reply(c, status, "text/html; charset=utf-8", b.data, b.len, hdrs);
    buf_release(&b);
    return res;
}

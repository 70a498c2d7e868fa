/*
 * The HTTP API against a runner double, through a real HTTP client: every
 * route, every error path, concurrency, logging and SIGTERM handling.
 */
#include "common.h"

#include "date.h"
#include "buf.h"
#include "http_client.h"
#include "http_params.h"
#include "http_routes.h"
#include "http_server.h"
#include "http_trace.h"
#include "log.h"
#include "runner_double.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#define TOKEN "t0k3n-for-tests-9f8e7d"

struct fx {
    struct config cfg;
    struct etl_runner *runner;
    struct http_server *srv;
    char base[64];
    FILE *log;
};

static long fx_timeout_s = 10; /* HTTP_TIMEOUT_S of the next fixture */

static void fill_config(struct config *cfg, const char *token, enum log_format fmt)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "127.0.0.1";
    cfg->port = 0;
    cfg->etl_api_token = (char *)token;
    cfg->etl_timezone = "America/Santiago";
    cfg->etl_max_range_days = 31;
    cfg->http_max_connections = 64;
    cfg->http_timeout_s = fx_timeout_s;
    cfg->http_max_body = 1024;
    cfg->shutdown_timeout_s = 5;
    cfg->log_level = LOG_INFO;
    cfg->log_format = fmt;
}

static int fx_start(void **state, const char *token, enum log_format fmt)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    struct err e = ERR_INIT;
    fill_config(&f->cfg, token, fmt);
    log_setup(LOG_INFO, fmt);
    f->log = tmpfile();
    if (!f->log)
        return -1;
    log_set_output(f->log);
    if (etl_runner_new(&f->cfg, &f->runner, &e) ||
        http_server_start(&f->cfg, f->runner, &f->srv, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", http_server_port(f->srv));
    *state = f;
    return 0;
}

static int setup_open(void **state)
{
    return fx_start(state, NULL, LOG_FORMAT_TEXT);
}

static int setup_token(void **state)
{
    return fx_start(state, TOKEN, LOG_FORMAT_TEXT);
}

static int setup_json_log(void **state)
{
    return fx_start(state, TOKEN, LOG_FORMAT_JSON);
}

static int setup_traced_log(void **state)
{
    setenv("GOOGLE_CLOUD_PROJECT", "petl-test-project", 1);
    int rc = fx_start(state, TOKEN, LOG_FORMAT_JSON);
    unsetenv("GOOGLE_CLOUD_PROJECT");
    return rc;
}

static int setup_short_timeout(void **state)
{
    fx_timeout_s = 1;
    int rc = fx_start(state, NULL, LOG_FORMAT_TEXT);
    fx_timeout_s = 10;
    return rc;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    http_server_stop(f->srv);
    etl_runner_free(f->runner);
    log_set_output(NULL);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT);
    fclose(f->log);
    free(f);
    return 0;
}

static int teardown_traced(void **state)
{
    log_set_cloud_project(NULL); /* the project outlives the server otherwise */
    return teardown(state);
}

static void set_double(struct fx *f, int run_ms, enum err_code outcome, const char *msg)
{
    struct runner_double_opts o = {.run_ms = run_ms, .outcome = outcome, .outcome_msg = msg};
    runner_double_set(f->runner, &o);
}

/* Sends method path (relative to the server) with the fixture's token, if any. */
static void call(struct fx *f, const char *method, const char *path, struct reply *r)
{
    char url[512];
    struct request_opts o = {.token = f->cfg.etl_api_token};
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    http_request(method, url, &o, r);
}

static void assert_header(const struct reply *r, const char *name, const char *want)
{
    char v[256];
    assert_true(reply_header(r, name, v, sizeof(v)));
    assert_string_equal(v, want);
}

static void assert_json_error(struct reply *r, long status, const char *detail_part)
{
    if (r->status != status || !strstr(reply_detail(r), detail_part))
        fprintf(stderr, "got %ld %s, want %ld with '%s'\n", r->status, r->body, status,
                detail_part);
    assert_int_equal(r->status, status);
    assert_non_null(strstr(reply_detail(r), detail_part));
    assert_header(r, "Content-Type", "application/json");
}

/* ---- parameter validation, directly ---- */

static void test_params_dates(void **state)
{
    int y, m, d;
    assert_true(date_parse("2024-02-29", &y, &m, &d));
    assert_int_equal(y * 10000 + m * 100 + d, 20240229);
    assert_true(date_parse("2000-02-29", &y, &m, &d));
    assert_false(date_parse("2023-02-29", &y, &m, &d));
    assert_false(date_parse("2100-02-29", &y, &m, &d));
    assert_false(date_parse("2024-02-30", &y, &m, &d));
    assert_false(date_parse("2024-13-01", &y, &m, &d));
    assert_false(date_parse("2024-04-31", &y, &m, &d));
    assert_false(date_parse("2024-4-01", &y, &m, &d));
    assert_false(date_parse("2024-04-01x", &y, &m, &d));
    assert_false(date_parse("+024-04-01", &y, &m, &d));
    assert_false(date_parse("", &y, &m, &d));
    assert_int_equal(http_days_inclusive("2024-03-01", "2024-03-01"), 1);
    assert_int_equal(http_days_inclusive("2024-02-01", "2024-03-01"), 30);
    assert_int_equal(http_days_inclusive("2023-12-31", "2024-12-31"), 367);
    assert_int_equal(http_days_inclusive("2024-03-02", "2024-03-01"), 0);
}

static void test_params_trigger(void **state)
{
    struct http_query q = {0};
    struct etl_request req = {0};
    bool wait = false;
    struct err e = ERR_INIT;
    assert_int_equal(http_params_trigger(ETL_DAILY, &q, 31, &req, &wait, &e), ERR_OK);
    assert_true(wait);
    assert_string_equal(req.date_from, "");
    assert_int_equal(req.origin, ETL_ORIGIN_HTTP);
    http_query_add(&q, "date", "2024-03-05");
    http_query_add(&q, "wait", "false");
    assert_int_equal(http_params_trigger(ETL_DAILY, &q, 31, &req, &wait, &e), ERR_OK);
    assert_false(wait);
    assert_string_equal(req.date_from, "2024-03-05");
    assert_string_equal(req.date_to, "2024-03-05");
    /* A range of exactly the limit passes; one more day does not. */
    memset(&q, 0, sizeof(q));
    http_query_add(&q, "from", "2024-03-01");
    http_query_add(&q, "to", "2024-03-31");
    assert_int_equal(http_params_trigger(ETL_FULL, &q, 31, &req, &wait, &e), ERR_OK);
    assert_int_equal(req.kind, ETL_FULL);
    q.p[1].value = "2024-04-01";
    assert_int_equal(http_params_trigger(ETL_FULL, &q, 31, &req, &wait, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "ETL_MAX_RANGE_DAYS"));
    /* A hostile parameter name is not echoed as is. */
    memset(&q, 0, sizeof(q));
    http_query_add(&q, "a\"b<script>", "1");
    assert_int_equal(http_params_trigger(ETL_DAILY, &q, 31, &req, &wait, &e), ERR_INVALID);
    assert_null(strchr(e.msg, '<'));
    assert_null(strchr(e.msg, '"'));
    memset(&q, 0, sizeof(q));
    for (int i = 0; i < HTTP_QUERY_MAX + 1; i++)
        http_query_add(&q, "wait", "true");
    assert_int_equal(http_params_trigger(ETL_DAILY, &q, 31, &req, &wait, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "too many"));
}

static void test_params_ids(void **state)
{
    struct err e = ERR_INIT;
    long long id = 0;
    assert_int_equal(http_params_run_id("42", &id, &e), ERR_OK);
    assert_int_equal(id, 42);
    const char *bad[] = {"0", "-1", "+1", "01", "1x", "", "abc", "99999999999999999999999"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        assert_int_equal(http_params_run_id(bad[i], &id, &e), ERR_INVALID);
}

/* ---- routes ---- */

static void test_health(void **state)
{
    struct fx *f = *state;
    struct reply r = {0};
    call(f, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    assert_header(&r, "Content-Type", "application/json");
    reply_release(&r);
    call(f, "HEAD", "/health", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    reply_release(&r);
}

static void test_ready(void **state)
{
    struct fx *f = *state;
    struct reply r = {0};
    call(f, "GET", "/health/ready", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ready");
    reply_release(&r);
    struct runner_double_opts o = {.ready = ERR_DB, .ready_msg = "cannot connect to database"};
    runner_double_set(f->runner, &o);
    call(f, "GET", "/health/ready", &r);
    assert_json_error(&r, 503, "cannot connect to database");
    reply_release(&r);
    /* Liveness never depends on the database. */
    call(f, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
}

static void test_not_found(void **state)
{
    struct fx *f = *state;
    const char *paths[] = {"/nope",       "/health/",      "/etl",    "/status/",
                           "/index.html", "/etl/runs/1/x", "/HEALTH", "/etl/run-full-sync/extra"};
    for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
        struct reply r = {0};
        call(f, "GET", paths[i], &r);
        assert_json_error(&r, 404, "Not Found");
        reply_release(&r);
    }
}

static void test_method_not_allowed(void **state)
{
    struct fx *f = *state;
    struct {
        const char *method, *path, *allow;
    } cases[] = {
        {"POST", "/health", "GET, HEAD"},       {"DELETE", "/health/ready", "GET, HEAD"},
        {"GET", "/etl/run-daily-sync", "POST"}, {"PUT", "/etl/run-full-sync", "POST"},
        {"POST", "/etl/runs", "GET, HEAD"},     {"DELETE", "/etl/runs/3", "GET, HEAD"},
        {"POST", "/metrics", "GET, HEAD"},      {"PATCH", "/openapi.json", "GET, HEAD"},
        {"POST", "/docs", "GET, HEAD"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct reply r = {0};
        call(f, cases[i].method, cases[i].path, &r);
        assert_json_error(&r, 405, "Method Not Allowed");
        assert_header(&r, "Allow", cases[i].allow);
        reply_release(&r);
    }
    assert_int_equal(runner_double_started(f->runner), 0);
}

static void test_unprocessable(void **state)
{
    struct fx *f = *state;
    struct {
        const char *method, *path, *detail;
    } cases[] = {
        {"POST", "/etl/run-daily-sync?date=2024-02-30", "'date'"},
        {"POST", "/etl/run-daily-sync?date=2024-2-3", "'date'"},
        {"POST", "/etl/run-daily-sync?date=", "'date'"},
        {"POST", "/etl/run-daily-sync?from=2024-03-02&to=2024-03-01", "'from' is after 'to'"},
        {"POST", "/etl/run-daily-sync?from=2024-03-01", "'from' requires 'to'"},
        {"POST", "/etl/run-daily-sync?to=2024-03-01", "'to' requires 'from'"},
        {"POST", "/etl/run-daily-sync?from=2024-13-01&to=2024-12-01", "'from'"},
        {"POST", "/etl/run-daily-sync?from=2024-01-01&to=2024-02-31", "'to'"},
        {"POST", "/etl/run-daily-sync?date=2024-03-01&from=2024-03-01&to=2024-03-02", "'date'"},
        {"POST", "/etl/run-daily-sync?from=2024-01-01&to=2024-12-31", "ETL_MAX_RANGE_DAYS"},
        {"POST", "/etl/run-daily-sync?wait=maybe", "'wait'"},
        {"POST", "/etl/run-daily-sync?wait", "'wait'"},
        {"POST", "/etl/run-daily-sync?foo=1", "'foo'"},
        {"POST", "/etl/run-daily-sync?date=2024-03-01&date=2024-03-02", "'date'"},
        {"POST", "/etl/run-full-sync?date=2024-03-01", "'date'"},
        {"POST", "/etl/run-full-sync?from=2024-03-01", "'from' requires 'to'"},
        {"POST", "/etl/run-full-sync?from=2023-01-01&to=2024-01-01", "ETL_MAX_RANGE_DAYS"},
        {"POST", "/etl/run-full-sync?wait=FALSE", "'wait'"},
        {"GET", "/etl/runs?limit=0", "'limit'"},
        {"GET", "/etl/runs?limit=501", "'limit'"},
        {"GET", "/etl/runs?limit=abc", "'limit'"},
        {"GET", "/etl/runs?limit=-5", "'limit'"},
        {"GET", "/etl/runs?order=asc", "'order'"},
        {"GET", "/etl/runs/abc", "'run_id'"},
        {"GET", "/etl/runs/0", "'run_id'"},
        {"GET", "/etl/runs/-1", "'run_id'"},
        {"GET", "/etl/runs/1.5", "'run_id'"},
        {"GET", "/etl/runs/123456789012345678901234567890", "'run_id'"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct reply r = {0};
        call(f, cases[i].method, cases[i].path, &r);
        assert_json_error(&r, 422, cases[i].detail);
        reply_release(&r);
    }
    /* Nothing was started by a rejected request, and the service still serves. */
    assert_int_equal(runner_double_started(f->runner), 0);
    struct reply r = {0};
    call(f, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
}

/* An encoded NUL or other control character is refused, never cut at: nothing runs. */
static void test_control_characters(void **state)
{
    struct fx *f = *state;
    struct {
        const char *method, *path;
        long status;
        const char *detail;
    } cases[] = {
        {"GET", "/health%00.json", 400, "invalid path"},
        {"GET", "/health%00", 400, "invalid path"},
        {"GET", "/health%0a", 400, "invalid path"},
        {"GET", "/etl/runs/1%0D", 400, "invalid path"},
        {"GET", "/health%7f", 400, "invalid path"},
        {"POST", "/etl/run-daily-sync?date=2026-11-30%00", 422, "'date'"},
        {"POST", "/etl/run-daily-sync?date=2026-11-30&wait=false%00x", 422, "'wait'"},
        {"POST", "/etl/run-full-sync?from=2026-11-01%09&to=2026-11-30", 422, "'from'"},
        {"GET", "/etl/runs?limit=5%1b", 422, "'limit'"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct reply r;
        call(f, cases[i].method, cases[i].path, &r);
        assert_json_error(&r, cases[i].status, cases[i].detail);
        reply_release(&r);
    }
    assert_int_equal(runner_double_started(f->runner), 0);
    /* '+', an encoded '%' and plain encoded text stay valid */
    struct reply r;
    call(f, "GET", "/etl/runs?limit=%35", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    call(f, "GET", "/etl/runs?limit=%2500", &r);
    assert_json_error(&r, 422, "'limit'");
    reply_release(&r);
}

/* A failure text that quotes a secret, in any encoding, reaches the client masked. */
static void test_responses_mask_secrets(void **state)
{
    struct fx *f = *state;
    log_add_secret("bsale-s3cret/token");
    set_double(f, 0, ERR_BSALE_AUTH,
               "Bsale said: bad token bsale-s3cret%2Ftoken, raw bsale-s3cret/token");
    struct reply r;
    call(f, "POST", "/etl/run-daily-sync", &r);
    assert_json_error(&r, 502, "Bsale said: bad token [REDACTED], raw [REDACTED]");
    assert_null(strstr(r.body, "s3cret"));
    reply_release(&r);
    call(f, "GET", "/etl/runs", &r);
    assert_int_equal(r.status, 200);
    assert_null(strstr(r.body, "s3cret"));
    reply_release(&r);
    log_clear_secrets();
}

static int connect_server(const struct fx *f)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)http_server_port(f->srv));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/*
 * A request head trickled a byte at a time never trips the idle timeout; it is
 * cut once it has taken longer than HTTP_TIMEOUT_S (1 s here), and the
 * service keeps answering everyone else.
 */
static void test_slow_head_is_cut(void **state)
{
    struct fx *f = *state;
    static const char head[] = "GET /health HTTP/1.1\r\nHost: x\r\n";
    int fd = connect_server(f);
    assert_int_equal(send(fd, head, sizeof(head) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(head) - 1));
    bool closed = false;
    /* at most 10 s: a byte every 100 ms, each well inside the idle timeout */
    for (int i = 0; i < 100 && !closed; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) == 1) {
            char c;
            ssize_t n = recv(fd, &c, 1, 0);
            assert_true(n <= 0); /* the end of the stream, not an answer */
            closed = true;
        } else {
            closed = send(fd, "X", 1, MSG_NOSIGNAL) != 1;
        }
    }
    close(fd);
    assert_true(closed);
    struct reply r;
    call(f, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    fflush(f->log);
    char text[8192] = "";
    rewind(f->log);
    size_t n = fread(text, 1, sizeof(text) - 1, f->log);
    text[n] = '\0';
    assert_non_null(strstr(text, "request head took over 1 s"));
}

static void test_body_too_large(void **state)
{
    struct fx *f = *state;
    char big[3000];
    memset(big, 'x', sizeof(big));
    char url[128];
    snprintf(url, sizeof(url), "%s/etl/run-daily-sync", f->base);
    struct reply r = {0};
    struct request_opts o = {.body = big, .body_len = sizeof(big)};
    http_request("POST", url, &o, &r);
    assert_json_error(&r, 413, "HTTP_MAX_BODY");
    reply_release(&r);
    o.chunked = true;
    http_request("POST", url, &o, &r);
    assert_json_error(&r, 413, "HTTP_MAX_BODY");
    reply_release(&r);
    /* A huge chunked body is cut short (connection closed), not read to its end. */
    size_t huge_len = 64u << 20;
    char *huge = xcalloc(1, huge_len);
    struct request_opts ho = {.body = huge, .body_len = huge_len, .chunked = true};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    http_request("POST", url, &ho, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    free(huge);
    assert_int_equal(r.status, 0);
    assert_true((double)(t1.tv_sec - t0.tv_sec) < 10.0);
    reply_release(&r);
    assert_int_equal(runner_double_started(f->runner), 0);
    /* A small body is ignored and the trigger works. */
    o.body_len = 100;
    o.chunked = false;
    http_request("POST", url, &o, &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    assert_int_equal(runner_double_started(f->runner), 1);
}

static void test_malformed_http(void **state)
{
    struct fx *f = *state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)http_server_port(f->srv))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    static const char bad[] = "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n";
    assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)(sizeof(bad) - 1));
    char resp[256] = "";
    ssize_t n = read(fd, resp, sizeof(resp) - 1);
    close(fd);
    assert_true(n > 12);
    assert_memory_equal(resp, "HTTP/1.1 400", 12);
    struct reply r = {0};
    call(f, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
}

/* ---- authentication ---- */

static void call_with(struct fx *f, const char *method, const char *path, const char *token,
                      struct reply *r)
{
    char url[512];
    struct request_opts o = {.token = token};
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    http_request(method, url, &o, r);
}

static void test_auth_required(void **state)
{
    struct fx *f = *state;
    set_double(f, 0, ERR_OK, NULL);
    const char *protected_get[] = {"/etl/runs", "/etl/runs/1", "/metrics"};
    const char *tokens[] = {NULL, "wrong", TOKEN "x", "t0k3n"};
    for (size_t i = 0; i < ARRAY_LEN(protected_get); i++) {
        for (size_t t = 0; t < ARRAY_LEN(tokens); t++) {
            struct reply r = {0};
            call_with(f, "GET", protected_get[i], tokens[t], &r);
            assert_json_error(&r, 401, "not authenticated");
            assert_header(&r, "WWW-Authenticate", "Bearer");
            reply_release(&r);
        }
    }
    struct reply r = {0};
    call_with(f, "POST", "/etl/run-daily-sync", NULL, &r);
    assert_json_error(&r, 401, "not authenticated");
    reply_release(&r);
    call_with(f, "POST", "/etl/run-full-sync", "nope", &r);
    assert_json_error(&r, 401, "not authenticated");
    reply_release(&r);
    assert_int_equal(runner_double_started(f->runner), 0);
    /* Open routes stay open. */
    const char *open_get[] = {"/health", "/health/ready", "/openapi.json", "/docs"};
    for (size_t i = 0; i < ARRAY_LEN(open_get); i++) {
        call_with(f, "GET", open_get[i], NULL, &r);
        assert_int_equal(r.status, 200);
        reply_release(&r);
    }
    /* The right token opens everything. */
    call_with(f, "POST", "/etl/run-daily-sync", TOKEN, &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    call_with(f, "GET", "/metrics", TOKEN, &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    call_with(f, "GET", "/etl/runs/1", TOKEN, &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
}

static void test_auth_off(void **state)
{
    struct fx *f = *state;
    struct reply r = {0};
    call_with(f, "GET", "/etl/runs", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_array(r.json));
    reply_release(&r);
    call_with(f, "GET", "/metrics", "anything", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
}

/* ---- triggers ---- */

static void test_daily_wait(void **state)
{
    struct fx *f = *state;
    set_double(f, 50, ERR_OK, NULL);
    struct reply r = {0};
    call(f, "POST", "/etl/run-daily-sync?date=2024-03-05", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "id")), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "type")), "daily");
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "succeeded");
    assert_string_equal(json_string_value(json_object_get(r.json, "date_from")), "2024-03-05");
    assert_true(json_is_object(json_object_get(r.json, "rows")));
    reply_release(&r);
    struct etl_request req = runner_double_last(f->runner);
    assert_int_equal(req.kind, ETL_DAILY);
    assert_int_equal(req.origin, ETL_ORIGIN_HTTP);
    assert_string_equal(req.date_to, "2024-03-05");

    call(f, "POST", "/etl/run-daily-sync?from=2024-02-01&to=2024-03-02&wait=true", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    req = runner_double_last(f->runner);
    assert_string_equal(req.date_from, "2024-02-01");
    assert_string_equal(req.date_to, "2024-03-02");

    call(f, "POST", "/etl/run-full-sync", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "type")), "full");
    reply_release(&r);
    req = runner_double_last(f->runner);
    assert_int_equal(req.kind, ETL_FULL);
    assert_string_equal(req.date_from, "");

    call(f, "POST", "/etl/run-full-sync?from=2024-01-01&to=2024-01-31", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    req = runner_double_last(f->runner);
    assert_string_equal(req.date_from, "2024-01-01");
    assert_int_equal(runner_double_started(f->runner), 4);
}

static void test_failures(void **state)
{
    struct fx *f = *state;
    struct {
        enum err_code code;
        long status;
    } cases[] = {{ERR_BSALE, 502}, {ERR_BSALE_AUTH, 502}, {ERR_HTTP, 502},
                 {ERR_DB, 503},    {ERR_SCHEMA, 503},     {ERR_INTERRUPTED, 503}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        set_double(f, 0, cases[i].code, "boom at page 3");
        struct reply r = {0};
        call(f, "POST", "/etl/run-daily-sync", &r);
        assert_json_error(&r, cases[i].status, "boom at page 3");
        json_t *run = json_object_get(r.json, "run");
        assert_string_equal(json_string_value(json_object_get(run, "status")), "failed");
        assert_int_equal(json_integer_value(json_object_get(run, "id")), (long long)i + 1);
        reply_release(&r);
    }
}

static void test_no_wait(void **state)
{
    struct fx *f = *state;
    set_double(f, -1, ERR_OK, NULL);
    struct reply r = {0};
    call(f, "POST", "/etl/run-full-sync?wait=false", &r);
    assert_int_equal(r.status, 202);
    assert_int_equal(json_integer_value(json_object_get(r.json, "run_id")), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "running");
    assert_header(&r, "Location", "/etl/runs/1");
    assert_true(r.seconds < 2.0);
    reply_release(&r);

    /* While it runs: health answers, metrics say so, the run shows as running, triggers get 409. */
    call(f, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    call(f, "GET", "/metrics", &r);
    assert_non_null(strstr(r.body, "\npatitas_etl_sync_running 1\n"));
    reply_release(&r);
    call(f, "GET", "/etl/runs/1", &r);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "running");
    reply_release(&r);
    call(f, "POST", "/etl/run-daily-sync", &r);
    assert_json_error(&r, 409, "another sync is running");
    assert_int_equal(json_integer_value(json_object_get(r.json, "run_id")), 1);
    reply_release(&r);
    call(f, "POST", "/etl/run-full-sync?wait=false", &r);
    assert_int_equal(r.status, 409);
    reply_release(&r);

    runner_double_release(f->runner);
    for (int i = 0; i < 100; i++) {
        call(f, "GET", "/etl/runs/1", &r);
        bool done = strcmp(json_string_value(json_object_get(r.json, "status")), "running") != 0;
        if (done)
            break;
        reply_release(&r);
        usleep(20000);
    }
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "succeeded");
    reply_release(&r);
    assert_int_equal(runner_double_started(f->runner), 1);
}

struct racer {
    struct fx *f;
    pthread_barrier_t *barrier;
    long status;
    long long busy_run_id;
};

static void *race(void *arg)
{
    struct racer *rc = arg;
    char url[128];
    snprintf(url, sizeof(url), "%s/etl/run-daily-sync", rc->f->base);
    pthread_barrier_wait(rc->barrier);
    struct reply r = {0};
    http_request("POST", url, NULL, &r);
    rc->status = r.status;
    rc->busy_run_id = json_integer_value(json_object_get(r.json, "run_id"));
    reply_release(&r);
    return NULL;
}

static void test_single_flight(void **state)
{
    enum { N = 20 };
    struct fx *f = *state;
    set_double(f, 1500, ERR_OK, NULL);
    pthread_t th[N];
    struct racer rc[N] = {0};
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, N);
    for (int i = 0; i < N; i++) {
        rc[i] = (struct racer){.f = f, .barrier = &barrier};
        assert_int_equal(pthread_create(&th[i], NULL, race, &rc[i]), 0);
    }
    int ok = 0, busy = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ok += rc[i].status == 200;
        if (rc[i].status == 409) {
            busy++;
            assert_int_equal(rc[i].busy_run_id, 1);
        }
    }
    pthread_barrier_destroy(&barrier);
    assert_int_equal(ok, 1);
    assert_int_equal(busy, N - 1);
    assert_int_equal(runner_double_started(f->runner), 1);
}

static void test_runs_list(void **state)
{
    struct fx *f = *state;
    set_double(f, 0, ERR_OK, NULL);
    struct reply r = {0};
    call(f, "GET", "/etl/runs", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 0);
    reply_release(&r);
    call(f, "POST", "/etl/run-full-sync", &r);
    reply_release(&r);
    call(f, "POST", "/etl/run-daily-sync", &r);
    reply_release(&r);
    call(f, "POST", "/etl/run-daily-sync?date=2024-01-02", &r);
    reply_release(&r);
    call(f, "GET", "/etl/runs?limit=2", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r.json, 0), "id")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r.json, 1), "id")), 2);
    reply_release(&r);
    call(f, "GET", "/etl/runs", &r);
    assert_int_equal(json_array_size(r.json), 3);
    reply_release(&r);
    call(f, "GET", "/etl/runs/1", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "type")), "full");
    reply_release(&r);
    call(f, "GET", "/etl/runs/7", &r);
    assert_json_error(&r, 404, "run 7 not found");
    assert_string_equal(reply_detail(&r), "run 7 not found");
    reply_release(&r);
}

/* ---- documentation ---- */

static void lower(const char *s, char *dst, size_t n)
{
    size_t k = 0;
    for (; s[k] && k + 1 < n; k++)
        dst[k] = (char)tolower((unsigned char)s[k]);
    dst[k] = '\0';
}

static void test_openapi_matches_routes(void **state)
{
    struct fx *f = *state;
    set_double(f, 0, ERR_OK, NULL);
    struct reply doc = {0};
    call(f, "GET", "/openapi.json", &doc);
    assert_int_equal(doc.status, 200);
    assert_header(&doc, "Content-Type", "application/json");
    assert_non_null(doc.json);
    assert_string_equal(json_string_value(json_object_get(doc.json, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc.json, "paths");
    json_t *schemas = json_object_get(json_object_get(doc.json, "components"), "schemas");
    assert_non_null(schemas);

    /* Every route the server has is documented... */
    size_t n = 0;
    const struct http_route_info *routes = http_routes_info(&n);
    assert_true(n >= 9);
    for (size_t i = 0; i < n; i++) {
        char m[16];
        lower(routes[i].method, m, sizeof(m));
        json_t *op = json_object_get(json_object_get(paths, routes[i].path), m);
        if (!op)
            fprintf(stderr, "undocumented route %s %s\n", routes[i].method, routes[i].path);
        assert_non_null(op);
        assert_non_null(json_object_get(op, "responses"));
    }
    /* ...and every documented operation is answered by a route, with a documented status. */
    const char *path;
    json_t *item;
    size_t n_ops = 0;
    json_object_foreach (paths, path, item) {
        const char *method;
        json_t *op;
        json_object_foreach (item, method, op) {
            char url[256], upper[16], code[8];
            size_t k = 0;
            for (; k < sizeof(upper) - 1 && method[k]; k++)
                upper[k] = (char)toupper((unsigned char)method[k]);
            upper[k] = '\0';
            struct buf p;
            buf_init(&p, 0);
            for (const char *s = path; *s; s++) {
                struct err e = {0};
                if (*s == '{') {
                    buf_append_str(&p, "1", &e);
                    s = strchr(s, '}');
                } else {
                    buf_append(&p, s, 1, &e);
                }
            }
            snprintf(url, sizeof(url), "%s", p.data);
            buf_release(&p);
            struct reply r = {0};
            call(f, upper, url, &r);
            snprintf(code, sizeof(code), "%ld", r.status);
            if (!json_object_get(json_object_get(op, "responses"), code))
                fprintf(stderr, "%s %s answered undocumented %s\n", upper, url, code);
            assert_non_null(json_object_get(json_object_get(op, "responses"), code));
            assert_int_not_equal(r.status, 405);
            assert_string_not_equal(reply_detail(&r), "Not Found");
            /* Every $ref points at a defined schema. */
            reply_release(&r);
            n_ops++;
        }
    }
    assert_int_equal(n_ops, n);
    char *text = json_dumps(doc.json, 0);
    for (const char *s = text; (s = strstr(s, "#/components/schemas/")) != NULL;) {
        s += strlen("#/components/schemas/");
        char name[64];
        size_t k = strcspn(s, "\"");
        snprintf(name, sizeof(name), "%.*s", (int)k, s);
        assert_non_null(json_object_get(schemas, name));
    }
    free(text);
    reply_release(&doc);
}

static void test_docs_page(void **state)
{
    struct fx *f = *state;
    struct reply r = {0};
    call(f, "GET", "/docs", &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<!doctype html>"));
    assert_non_null(strstr(r.body, "fetch('openapi.json')"));
    /* Self-contained: no external scripts, styles or fonts. */
    assert_null(strstr(r.body, "http://"));
    assert_null(strstr(r.body, "https://"));
    assert_null(strstr(r.body, "src="));
    assert_null(strstr(r.body, "<link"));
    reply_release(&r);
}

/* ---- metrics ---- */

struct family {
    char name[96];
    char type[32];
    bool help;
    int samples;
};

static struct family *family_find(struct family *fam, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(fam[i].name, name) == 0)
            return &fam[i];
    return NULL;
}

static bool metric_name_char(char c, bool first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/* Parses one sample line; returns false on any syntax error. */
static bool parse_sample(const char *line, char *name, size_t n, char *labels, size_t ln,
                         double *value)
{
    size_t k = 0;
    while (metric_name_char(line[k], k == 0))
        k++;
    if (k == 0 || k >= n)
        return false;
    snprintf(name, n, "%.*s", (int)k, line);
    const char *p = line + k;
    labels[0] = '\0';
    if (*p == '{') {
        const char *end = strchr(p, '}');
        if (!end)
            return false;
        snprintf(labels, ln, "%.*s", (int)(end - p - 1), p + 1);
        /* label="value"(,label="value")* */
        for (const char *q = p + 1; q < end;) {
            size_t lk = 0;
            while (metric_name_char(q[lk], lk == 0))
                lk++;
            if (lk == 0 || q[lk] != '=' || q[lk + 1] != '"')
                return false;
            const char *close = strchr(q + lk + 2, '"');
            if (!close || close > end)
                return false;
            q = close + 1;
            if (q < end && *q++ != ',')
                return false;
        }
        p = end + 1;
    }
    if (*p != ' ')
        return false;
    char *stop = NULL;
    *value = strtod(p + 1, &stop);
    return stop && stop != p + 1 && *stop == '\0';
}

static double sample_value(const char *text, const char *series)
{
    char want[160];
    snprintf(want, sizeof(want), "\n%s ", series);
    const char *p = strstr(text, want);
    return p ? strtod(p + strlen(want), NULL) : -1.0;
}

/* The histogram family a _bucket/_sum/_count series belongs to, or NULL. */
static struct family *histogram_of(struct family *fam, int nf, const char *series)
{
    static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        size_t n = strlen(series), k = strlen(suffixes[i]);
        if (n <= k || strcmp(series + n - k, suffixes[i]) != 0)
            continue;
        char base[96];
        snprintf(base, sizeof(base), "%.*s", (int)(n - k), series);
        struct family *fm = family_find(fam, nf, base);
        if (fm && strcmp(fm->type, "histogram") == 0)
            return fm;
    }
    return NULL;
}

static void test_metrics(void **state)
{
    struct fx *f = *state;
    set_double(f, 0, ERR_OK, NULL);
    struct reply r = {0};
    call(f, "POST", "/etl/run-daily-sync", &r);
    reply_release(&r);
    set_double(f, 0, ERR_BSALE, "bad gateway");
    call(f, "POST", "/etl/run-full-sync", &r);
    reply_release(&r);
    call(f, "GET", "/metrics", &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    assert_true(r.len > 0 && r.body[r.len - 1] == '\n');

    struct family fam[32] = {0};
    int nf = 0, lines = 0;
    char *text = xstrdup(r.body), *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[96], labels[256], kind[32];
        lines++;
        if (strncmp(line, "# HELP ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%95s", name), 1);
            assert_null(family_find(fam, nf, name));
            assert_true(nf < 32);
            snprintf(fam[nf].name, sizeof(fam[nf].name), "%s", name);
            fam[nf].help = strlen(line) > 8 + strlen(name);
            fam[nf].type[0] = '\0';
            fam[nf++].samples = 0;
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%95s %31s", name, kind), 2);
            struct family *fm = family_find(fam, nf, name);
            assert_non_null(fm);
            assert_true(strcmp(kind, "counter") == 0 || strcmp(kind, "gauge") == 0 ||
                        strcmp(kind, "histogram") == 0);
            snprintf(fm->type, sizeof(fm->type), "%s", kind);
        } else {
            double v = 0;
            if (!parse_sample(line, name, sizeof(name), labels, sizeof(labels), &v))
                fprintf(stderr, "bad sample line: %s\n", line);
            assert_true(parse_sample(line, name, sizeof(name), labels, sizeof(labels), &v));
            struct family *fm = family_find(fam, nf, name);
            if (!fm) /* a histogram's series: <family>_bucket, _sum, _count */
                fm = histogram_of(fam, nf, name);
            assert_non_null(fm);
            assert_true(fm->type[0] != '\0');
            assert_true(v >= 0);
            if (strcmp(fm->type, "counter") == 0)
                assert_non_null(strstr(name, "_total"));
            fm->samples++;
        }
    }
    free(text);
    assert_true(lines > 20);
    const char *expected[] = {"patitas_etl_runs_total",
                              "patitas_etl_rows_written_total",
                              "patitas_etl_bsale_requests_total",
                              "patitas_etl_bsale_responses_total",
                              "patitas_etl_bsale_retries_total",
                              "patitas_etl_bsale_throttled_total",
                              "patitas_etl_last_sync_duration_seconds",
                              "patitas_etl_last_success_timestamp_seconds",
                              "patitas_etl_sync_running",
                              "patitas_build_info"};
    for (size_t i = 0; i < ARRAY_LEN(expected); i++) {
        struct family *fm = family_find(fam, nf, expected[i]);
        assert_non_null(fm);
        assert_true(fm->help);
        assert_true(fm->samples > 0);
    }
    const char *b = r.body;
    assert_true(sample_value(b, "patitas_etl_runs_total{type=\"daily\",outcome=\"succeeded\"}") ==
                1);
    assert_true(sample_value(b, "patitas_etl_runs_total{type=\"full\",outcome=\"failed\"}") == 1);
    assert_true(sample_value(b, "patitas_etl_runs_total{type=\"full\",outcome=\"succeeded\"}") ==
                0);
    assert_true(sample_value(b, "patitas_etl_bsale_requests_total") == 6);
    assert_true(sample_value(b, "patitas_etl_bsale_responses_total{status=\"429\"}") == 2);
    assert_true(sample_value(b, "patitas_etl_bsale_throttled_total") == 2);
    assert_true(sample_value(b, "patitas_etl_sync_running") == 0);
    assert_true(sample_value(b, "patitas_etl_last_success_timestamp_seconds{type=\"daily\"}") >
                1.6e9);
    assert_true(sample_value(b, "patitas_etl_last_success_timestamp_seconds{type=\"full\"}") == 0);
    assert_non_null(strstr(b, "\npatitas_etl_rows_written_total{table=\""));
    reply_release(&r);
}

/* ---- the status page (its data and HTML: test_status_page.c) ---- */

static void get_with_headers(struct fx *f, const char *path, const char *const *headers,
                             struct reply *r)
{
    char url[512];
    struct request_opts o = {.token = f->cfg.etl_api_token, .headers = headers};
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    http_request("GET", url, &o, r);
}

static void test_status_routes(void **state)
{
    struct fx *f = *state;
    struct reply r = {0};
    static const char *const paths[] = {"/", "/status", "/status?confirm=daily"};
    for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
        call_with(f, "GET", paths[i], NULL, &r);
        assert_json_error(&r, 401, "not authenticated");
        reply_release(&r);
    }
    /* This fixture has no database: the page still renders, saying so, as a 503. */
    static const char *const en[] = {"Accept-Language: en-GB,en;q=0.9,es;q=0.1", NULL};
    get_with_headers(f, "/", en, &r);
    assert_int_equal(r.status, 503);
    assert_header(&r, "Content-Type", "text/html; charset=utf-8");
    assert_header(&r, "Cache-Control", "no-store");
    assert_non_null(strstr(r.body, "<html lang=\"en\">"));
    assert_non_null(strstr(r.body, "id=\"db-error\""));
    reply_release(&r);
    get_with_headers(f, "/status?lang=es", en, &r);
    assert_non_null(strstr(r.body, "<html lang=\"es\">"));
    reply_release(&r);
    call(f, "GET", "/status?confirm=full", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "action=\"/etl/run-full-sync?wait=false\""));
    reply_release(&r);
    static const char *const bad[] = {"/status?confirm=weekly", "/?x=1", "/status?lang=fr",
                                      "/status?confirm"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        call(f, "GET", bad[i], &r);
        assert_int_equal(r.status, 422);
        reply_release(&r);
    }
}

static void test_status_form_post(void **state)
{
    struct fx *f = *state;
    set_double(f, 0, ERR_OK, NULL);
    static const char *const form[] = {
        "Content-Type: application/x-www-form-urlencoded",
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", NULL};
    char url[256];
    struct request_opts o = {.token = TOKEN, .headers = form};
    struct reply r = {0};
    snprintf(url, sizeof(url), "%s/etl/run-daily-sync?wait=false", f->base);
    http_request("POST", url, &o, &r);
    assert_int_equal(r.status, 303);
    assert_header(&r, "Location", "/status");
    assert_int_equal(json_integer_value(json_object_get(r.json, "run_id")), 1);
    reply_release(&r);
    /* an API client posting a form but not asking for HTML keeps the 202 */
    o.headers = (const char *const[]){"Content-Type: application/x-www-form-urlencoded", NULL};
    for (int i = 0; i < 100 && runner_double_started(f->runner) < 2; i++) {
        http_request("POST", url, &o, &r);
        if (r.status == 202)
            break;
        reply_release(&r); /* 409 while run 1 finishes */
        usleep(20000);
    }
    assert_int_equal(r.status, 202);
    assert_header(&r, "Location", "/etl/runs/2");
    reply_release(&r);
}

/* ---- request logs ---- */

/* The log so far; request lines are written once the reply is out, so wait for want. */
static char *log_text_with(struct fx *f, const char *want)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        fflush(f->log);
        long size = ftell(f->log);
        char *s = xcalloc(1, (size_t)size + 1);
        rewind(f->log);
        size_t got = fread(s, 1, (size_t)size, f->log);
        s[got] = '\0';
        fseek(f->log, 0, SEEK_END);
        if (strstr(s, want))
            return s;
        free(s);
        usleep(20000);
    }
    fail_msg("log never showed '%s'", want);
    return NULL;
}

static void test_request_log_text(void **state)
{
    struct fx *f = *state;
    set_double(f, 0, ERR_OK, NULL);
    struct reply r = {0};
    call(f, "POST", "/etl/run-daily-sync?date=2024-03-05", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    call_with(f, "GET", "/etl/runs?limit=3", "not-the-token", &r);
    assert_int_equal(r.status, 401);
    reply_release(&r);
    char *log = log_text_with(f, "GET /etl/runs 401");
    assert_non_null(strstr(log, "POST /etl/run-daily-sync 200"));
    assert_non_null(strstr(log, "run_id=1"));
    assert_non_null(strstr(log, "status=200"));
    assert_non_null(strstr(log, "ms="));
    /* Never the token, the Authorization header or the query string. */
    assert_null(strstr(log, TOKEN));
    assert_null(strstr(log, "not-the-token"));
    assert_null(strstr(log, "Bearer"));
    assert_null(strstr(log, "date=2024"));
    assert_null(strstr(log, "limit=3"));
    /* The daemon started without complaints about its options. */
    assert_null(strstr(log, "libmicrohttpd"));
    free(log);
}

static void test_request_log_json(void **state)
{
    struct fx *f = *state;
    struct reply r = {0};
    call(f, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    char *log = log_text_with(f, "\"requestUrl\":\"/health\"");
    bool seen = false;
    char *save = NULL;
    for (char *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        json_t *h = json_object_get(o, "httpRequest");
        if (h && strcmp(json_string_value(json_object_get(h, "requestUrl")), "/health") == 0) {
            seen = true;
            assert_string_equal(json_string_value(json_object_get(h, "requestMethod")), "GET");
            assert_int_equal(json_integer_value(json_object_get(h, "status")), 200);
            assert_string_equal(json_string_value(json_object_get(h, "remoteIp")), "127.0.0.1");
            assert_string_equal(json_string_value(json_object_get(h, "userAgent")),
                                "petl-http-test/1");
            const char *lat = json_string_value(json_object_get(h, "latency"));
            char *end = NULL;
            strtod(lat, &end);
            assert_true(end != lat);
            assert_string_equal(end, "s");
            assert_string_equal(json_string_value(json_object_get(o, "severity")), "INFO");
        }
        json_decref(o);
    }
    assert_true(seen);
    free(log);
}

static void test_trace_parse(void **state)
{
    struct http_trace t = {0};
    assert_true(
        http_trace_parse("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", NULL, &t));
    assert_string_equal(t.trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_string_equal(t.span_id, "b7ad6b7169203331");
    assert_true(t.sampled);
    assert_true(http_trace_parse(NULL, "105445aa7843bc8bf206b12000100000/1;o=1", &t));
    assert_string_equal(t.trace_id, "105445aa7843bc8bf206b12000100000");
    assert_string_equal(t.span_id, "0000000000000001");
    assert_true(t.sampled);
    assert_true(http_trace_parse(NULL, "105445aa7843bc8bf206b12000100000", &t));
    assert_string_equal(t.span_id, "");
    assert_false(t.sampled);
    /* an invalid traceparent falls back to the Cloud header */
    assert_true(http_trace_parse("00-zz-1-01",
                                 "105445aa7843bc8bf206b12000100000/18446744073709551615;o=0", &t));
    assert_string_equal(t.span_id, "ffffffffffffffff");
    static const char *const bad[] = {
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",   /* all-zero trace */
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",   /* all-zero span */
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",   /* version ff */
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", /* v00 has no more fields */
        "00-0af7651916cd43dd8448eb211c80319\"-b7ad6b7169203331-01",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        assert_false(http_trace_parse(bad[i], NULL, &t));
        assert_string_equal(t.trace_id, "");
    }
    assert_false(http_trace_parse(NULL, "105445aa7843bc8bf206b12000100000/x", &t));
    assert_false(http_trace_parse(NULL, "105445aa7843bc8bf206b12000100000/1;o=1\"}", &t));
    assert_false(http_trace_parse(NULL, "105445aa7843bc8bf206b1200010000", &t));
}

/* Each JSON line of log that has member key equal to value, parsed; the caller frees them. */
static size_t json_lines_where(char *log, const char *key, const char *value, json_t **out,
                               size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        const char *v = json_string_value(json_object_get(o, key));
        if (v && strstr(v, value) && n < max)
            out[n++] = o;
        else
            json_decref(o);
    }
    return n;
}

static void assert_trace(json_t *o, const char *trace, const char *span)
{
    assert_string_equal(json_string_value(json_object_get(o, "logging.googleapis.com/trace")),
                        trace);
    assert_string_equal(json_string_value(json_object_get(o, "logging.googleapis.com/spanId")),
                        span);
}

static void assert_run_label(json_t *o, const char *run_id)
{
    json_t *labels = json_object_get(o, "logging.googleapis.com/labels");
    assert_string_equal(json_string_value(json_object_get(labels, "run_id")), run_id);
}

static void test_log_trace_and_run_label(void **state)
{
    struct fx *f = *state;
    set_double(f, 0, ERR_OK, NULL);
    static const char *const cloud[] = {
        "X-Cloud-Trace-Context: 105445aa7843bc8bf206b12000100000/42;o=1", NULL};
    static const char *const w3c[] = {
        "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", NULL};
    struct request_opts o = {.token = TOKEN, .headers = cloud};
    struct reply r = {0};
    char url[256];
    snprintf(url, sizeof(url), "%s/etl/run-daily-sync?date=2024-03-05", f->base);
    http_request("POST", url, &o, &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    o.headers = w3c;
    snprintf(url, sizeof(url), "%s/health", f->base);
    http_request("GET", url, &o, &r);
    reply_release(&r);
    o.headers = NULL;
    snprintf(url, sizeof(url), "%s/health/ready", f->base);
    http_request("GET", url, &o, &r);
    reply_release(&r);
    char *log = log_text_with(f, "GET /health/ready");
    char *copy = xstrdup(log);
    json_t *lines[8] = {0};
    /* the trigger's own line and its request line: the trace and the run's label */
    size_t n = json_lines_where(copy, "message", "run-daily-sync", lines, 1);
    free(copy);
    copy = xstrdup(log);
    n += json_lines_where(copy, "message", "daily sync started", lines + n, 1);
    free(copy);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_trace(lines[i], "projects/petl-test-project/traces/105445aa7843bc8bf206b12000100000",
                     "000000000000002a");
        assert_true(
            json_is_true(json_object_get(lines[i], "logging.googleapis.com/trace_sampled")));
        assert_run_label(lines[i], "1");
        json_decref(lines[i]);
    }
    n = json_lines_where(log, "message", "GET /health", lines, 2);
    free(log);
    assert_int_equal(n, 2);
    assert_trace(lines[0], "projects/petl-test-project/traces/0af7651916cd43dd8448eb211c80319c",
                 "b7ad6b7169203331");
    assert_null(json_object_get(lines[0], "logging.googleapis.com/labels"));
    /* the next request on the same server carries no trace of its own */
    assert_null(json_object_get(lines[1], "logging.googleapis.com/trace"));
    json_decref(lines[0]);
    json_decref(lines[1]);
}

/* ---- graceful stop ---- */

static void test_stop_interrupts_waiting_request(void **state)
{
    struct fx *f = *state;
    set_double(f, -1, ERR_OK, NULL);
    struct racer rc = {.f = f};
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 1);
    rc.barrier = &barrier;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, race, &rc), 0);
    for (int i = 0; i < 200 && runner_double_started(f->runner) == 0; i++)
        usleep(10000);
    assert_int_equal(runner_double_started(f->runner), 1);
    http_server_stop(f->srv);
    f->srv = NULL;
    pthread_join(th, NULL);
    pthread_barrier_destroy(&barrier);
    /* The waiting request got its answer: the run was interrupted. */
    assert_int_equal(rc.status, 503);
    assert_true(runner_double_shut_down(f->runner));
}

static int serve_child(void)
{
    struct config cfg = {0};
    struct etl_runner *runner = NULL;
    struct err e = ERR_INIT;
    fill_config(&cfg, NULL, LOG_FORMAT_TEXT);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT);
    if (etl_runner_new(&cfg, &runner, &e))
        return 1;
    struct runner_double_opts o = {.run_ms = -1};
    runner_double_set(runner, &o);
    enum err_code rc = http_server_run(&cfg, runner, &e);
    if (rc)
        fprintf(stderr, "serve: %s\n", e.msg);
    etl_runner_free(runner);
    return rc ? 1 : 0;
}

static char *self_exe;

static void test_sigterm(void **state)
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        close(pipefd[1]);
        execl(self_exe, self_exe, "--serve-double", (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *child_err = fdopen(pipefd[0], "r");
    assert_non_null(child_err);
    char line[1024];
    unsigned port = 0;
    while (!port && fgets(line, sizeof(line), child_err)) {
        const char *p = strstr(line, "listening on http://127.0.0.1:");
        if (p)
            port = (unsigned)strtoul(p + strlen("listening on http://127.0.0.1:"), NULL, 10);
    }
    assert_true(port > 0);
    struct fx f = {0};
    snprintf(f.base, sizeof(f.base), "http://127.0.0.1:%u", port);
    struct racer rc = {.f = &f};
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 1);
    rc.barrier = &barrier;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, race, &rc), 0);
    /* Wait until the sync runs, then ask the process to stop. */
    bool running = false;
    for (int i = 0; i < 200 && !running; i++) {
        struct reply r = {0};
        call(&f, "GET", "/metrics", &r);
        running = r.body && strstr(r.body, "\npatitas_etl_sync_running 1\n");
        reply_release(&r);
        if (!running)
            usleep(10000);
    }
    assert_true(running);
    assert_int_equal(kill(pid, SIGTERM), 0);
    pthread_join(th, NULL);
    pthread_barrier_destroy(&barrier);
    assert_int_equal(rc.status, 503);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    bool said = false;
    while (fgets(line, sizeof(line), child_err))
        said = said || strstr(line, "received SIGTERM") != NULL;
    fclose(child_err);
    assert_true(said);
    /* Nothing listens any more. */
    struct reply r = {0};
    call(&f, "GET", "/health", &r);
    assert_int_equal(r.status, 0);
    reply_release(&r);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--serve-double") == 0)
        return serve_child();
    self_exe = realpath("/proc/self/exe", NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_dates),
        cmocka_unit_test(test_params_trigger),
        cmocka_unit_test(test_params_ids),
        cmocka_unit_test_setup_teardown(test_health, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_ready, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_unprocessable, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_control_characters, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_responses_mask_secrets, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_slow_head_is_cut, setup_short_timeout, teardown),
        cmocka_unit_test_setup_teardown(test_body_too_large, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_http, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_auth_required, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_auth_off, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_daily_wait, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_failures, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_no_wait, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_single_flight, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_runs_list, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_openapi_matches_routes, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_docs_page, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_status_routes, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_status_form_post, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_request_log_text, setup_token, teardown),
        cmocka_unit_test_setup_teardown(test_request_log_json, setup_json_log, teardown),
        cmocka_unit_test(test_trace_parse),
        cmocka_unit_test_setup_teardown(test_log_trace_and_run_label, setup_traced_log,
                                        teardown_traced),
        cmocka_unit_test_setup_teardown(test_stop_interrupts_waiting_request, setup_open, teardown),
        cmocka_unit_test(test_sigterm),
    };
    int failed = cmocka_run_group_tests_name("http", tests, NULL, NULL);
    curl_global_cleanup();
    free(self_exe);
    return failed ? 1 : 0;
}

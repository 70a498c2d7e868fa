/*
 * Secrets scan: debug-level runs of the real `patitas-etl` (serve and CLI)
 * against a Bsale stand-in that echoes the token it received in its error
 * bodies, raw, JSON-escaped, percent-encoded and in base64; and against a
 * database URL with a password. No encoding of any secret may appear in
 * stdout, stderr, an HTTP response or etl_ejecuciones.
 * usage: test_secrets PATITAS_ETL
 */
#include "common.h"

#include "buf.h"
#include "http_client.h"
#include "serve_proc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* Quotes, '/', '+', '%', '&' and '=' (a Bsale token holds no space): encodings differ. */
#define BSALE_TOKEN "Zq7Wr0ng-tok/en+\"%42&x=y"
#define API_TOKEN "Api7Secret-tok/en+q"
#define DB_USER "etl"
#define DB_PASS "Db9 pa$s/w+rd\"x"
#define DB_PASS_URL "Db9%20pa%24s%2Fw%2Brd%22x"
#define PREFIX_LEN 12 /* a leak of this many characters of any encoding is a leak */

enum echo_mode {
    ECHO_RAW,
    ECHO_JSON,
    ECHO_PCT_UPPER,
    ECHO_PCT_LOWER,
    ECHO_FORM,
    ECHO_B64,
    ECHO_B64URL,
    ECHO_BASIC,
    ECHO_CUT, /* the encoding lands where the error text is cut */
    ECHO_MODES
};

static const char *etl_bin;
static char tmpdir[256];
static volatile int echo_mode;
static struct MHD_Daemon *echo_daemon;
static char echo_base[96];
static struct buf responses; /* every HTTP response body seen from the service */

static void b64(const unsigned char *d, size_t n, bool url, struct buf *out)
{
    const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        char q[5] = {a[v >> 18 & 63], a[v >> 12 & 63], i + 1 < n ? a[v >> 6 & 63] : '=',
                     i + 2 < n ? a[v & 63] : '=', 0};
        (void)buf_append_str(out, q, NULL);
    }
}

/* form: '+' for space; all: every byte encoded. */
static void pct(const char *s, bool upper, bool form, bool all, struct buf *out)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool keep = !all && (strchr("-._~", *p) || (*p >= '0' && *p <= '9') ||
                             ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'));
        if (keep)
            (void)buf_appendf(out, NULL, "%c", *p);
        else if (form && *p == ' ')
            (void)buf_append_str(out, "+", NULL);
        else
            (void)buf_appendf(out, NULL, upper ? "%%%02X" : "%%%02x", *p);
    }
}

static void json_escaped(const char *s, struct buf *out)
{
    json_t *j = json_string(s);
    char *d = json_dumps(j, JSON_ENCODE_ANY);
    (void)buf_append(out, d + 1, strlen(d) - 2, NULL); /* without the quotes */
    free(d);
    json_decref(j);
}

/* The spelling of secret in an encoding (mode); owned. */
static char *encode(const char *secret, int mode)
{
    struct buf b;
    buf_init(&b, 0);
    char *pair = xasprintf(DB_USER ":%s", secret);
    switch (mode) {
    case ECHO_RAW:
        (void)buf_append_str(&b, secret, NULL);
        break;
    case ECHO_JSON:
        json_escaped(secret, &b);
        break;
    case ECHO_PCT_UPPER:
    case ECHO_CUT:
        pct(secret, true, false, false, &b);
        break;
    case ECHO_PCT_LOWER:
        pct(secret, false, false, true, &b);
        break;
    case ECHO_FORM:
        pct(secret, true, true, false, &b);
        break;
    case ECHO_B64:
    case ECHO_B64URL:
        b64((const unsigned char *)secret, strlen(secret), mode == ECHO_B64URL, &b);
        break;
    default:
        b64((const unsigned char *)pair, strlen(pair), false, &b);
    }
    free(pair);
    return buf_detach(&b, NULL);
}

static enum MHD_Result on_echo(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    const char *tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "access_token");
    int mode = echo_mode;
    char *form = encode(tok ? tok : "", mode);
    json_t *j = NULL;
    char *body;
    if (mode == ECHO_JSON || mode == ECHO_B64)
        j = json_pack("{s:s+}", mode == ECHO_JSON ? "error" : "message", "invalid token ", form);
    if (j)
        body = json_dumps(j, JSON_COMPACT);
    else
        body = xasprintf("%sinvalid token: %s",
                         mode == ECHO_CUT ? "................................"
                                            "................................"
                                            "......................"
                                          : "",
                         form);
    json_decref(j);
    free(form);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    enum MHD_Result rc = MHD_queue_response(conn, mode % 2 ? 403 : 400, r);
    MHD_destroy_response(r);
    return rc;
}

static int setup_echo(void **state)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* port 0: the kernel picks one */
    echo_daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                                   0, NULL, NULL, on_echo, NULL, MHD_OPTION_SOCK_ADDR,
                                   (struct sockaddr *)&sa, MHD_OPTION_END);
    if (!echo_daemon)
        return -1;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(echo_daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(echo_base, sizeof(echo_base), "BSALE_API_URL=http://127.0.0.1:%u/v1", di->port);
    buf_init(&responses, 0);
    return 0;
}

static int teardown_echo(void **state)
{
    MHD_stop_daemon(echo_daemon);
    buf_release(&responses);
    proc_reap_all();
    return 0;
}

/* The leak check: no secret, in any encoding or any long prefix of one, in text. */
static void assert_no_secret(const char *where, const char *text)
{
    const char *secrets[] = {BSALE_TOKEN, API_TOKEN, DB_PASS};
    for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
        for (int mode = 0; mode < ECHO_MODES; mode++) {
            char *form = encode(secrets[i], mode);
            char prefix[PREFIX_LEN + 1];
            snprintf(prefix, sizeof(prefix), "%s", form);
            if (strstr(text, prefix))
                fprintf(stderr, "%s holds secret %zu in encoding %d: ...%.60s\n", where, i, mode,
                        strstr(text, prefix));
            assert_null(strstr(text, prefix));
            free(form);
        }
    }
}

static void assert_file_clean(const char *file)
{
    char *text = proc_slurp(file);
    assert_no_secret(file, text);
    free(text);
}

static void call(const struct proc *p, const char *method, const char *path, struct reply *r)
{
    char url[512];
    struct request_opts o = {.token = API_TOKEN, .timeout_s = 60};
    snprintf(url, sizeof(url), "%s%s", p->base, path);
    http_request(method, url, &o, r);
    (void)buf_appendf(&responses, NULL, "%s\n%s\n", r->headers ? r->headers : "",
                      r->body ? r->body : "");
}

static char *db_dump(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM etl_ejecuciones", -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count(st); c++)
            (void)buf_appendf(&b, NULL, "%s|", (const char *)sqlite3_column_text(st, c));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf_detach(&b, NULL);
}

/* serve at debug level: one failing sync per echo encoding, then the run history. */
static void run_serve(const char *name, const char *log_format)
{
    static char db_env[400], fmt_env[40];
    snprintf(db_env, sizeof(db_env), "DATABASE_URL=sqlite:///%s/secrets.db", tmpdir);
    snprintf(fmt_env, sizeof(fmt_env), "LOG_FORMAT=%s", log_format);
    char *env[] = {db_env,
                   echo_base,
                   "BSALE_API_TOKEN=" BSALE_TOKEN,
                   "ETL_API_TOKEN=" API_TOKEN,
                   "HOST=127.0.0.1",
                   "PORT=0",
                   "LOG_LEVEL=debug",
                   fmt_env,
                   "BSALE_MAX_ATTEMPTS=1",
                   NULL};
    struct proc srv = {0};
    assert_true(proc_start_serve(&srv, etl_bin, tmpdir, name, env));
    struct reply r;
    for (int mode = 0; mode < ECHO_MODES; mode++) {
        echo_mode = mode;
        call(&srv, "POST", "/etl/run-daily-sync?date=2026-11-30", &r);
        if (r.status < 500)
            fprintf(stderr, "sync with echo %d: %ld %s\n", mode, r.status, r.body);
        assert_true(r.status >= 500);
        reply_release(&r);
    }
    const char *paths[] = {"/etl/runs?limit=50", "/etl/runs/1", "/health/ready", "/metrics"};
    for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
        call(&srv, "GET", paths[i], &r);
        reply_release(&r);
    }
    assert_int_equal(proc_stop(&srv), 0);
    assert_file_clean(srv.out);
    assert_file_clean(srv.err);
    /* the echoes did reach the logs, masked */
    char *log = proc_slurp(srv.err);
    assert_non_null(strstr(log, "[REDACTED]"));
    free(log);
}

static void test_serve_text_and_json_logs(void **state)
{
    run_serve("serve-text", "text");
    run_serve("serve-json", "json");
    assert_no_secret("responses", responses.data);
    assert_non_null(strstr(responses.data, "[REDACTED]"));
    char path[400];
    snprintf(path, sizeof(path), "%s/secrets.db", tmpdir);
    char *rows = db_dump(path);
    assert_no_secret("etl_ejecuciones", rows);
    assert_non_null(strstr(rows, "[REDACTED]"));
    free(rows);
}

/* The CLI's sync and config commands, with the same failures. */
static void test_cli(void **state)
{
    static char db_env[400];
    snprintf(db_env, sizeof(db_env), "DATABASE_URL=sqlite:///%s/cli.db", tmpdir);
    char *env[] = {db_env,
                   echo_base,
                   "BSALE_API_TOKEN=" BSALE_TOKEN,
                   "ETL_API_TOKEN=" API_TOKEN,
                   "LOG_LEVEL=debug",
                   "BSALE_MAX_ATTEMPTS=1",
                   NULL};
    for (int mode = 0; mode < ECHO_MODES; mode++) {
        echo_mode = mode;
        char name[32];
        snprintf(name, sizeof(name), "cli-%d", mode);
        char *argv[] = {(char *)etl_bin, "sync", "daily", "--date", "2026-11-30", NULL};
        struct proc p = {0};
        assert_true(proc_spawn(&p, tmpdir, name, argv, env));
        assert_int_not_equal(proc_wait(&p), 0);
        assert_file_clean(p.out);
        assert_file_clean(p.err);
    }
    char *argv[] = {(char *)etl_bin, "config", "check", NULL};
    struct proc p = {0};
    assert_true(proc_spawn(&p, tmpdir, "config", argv, env));
    assert_int_equal(proc_wait(&p), 0);
    assert_file_clean(p.out);
    assert_file_clean(p.err);
}

/* A MySQL URL with a password, the server unreachable: errors everywhere, no password. */
static void test_database_password(void **state)
{
    char *env[] = {"DATABASE_URL=mysql://" DB_USER ":" DB_PASS_URL "@127.0.0.1:1/petl",
                   echo_base,
                   "BSALE_API_TOKEN=" BSALE_TOKEN,
                   "ETL_API_TOKEN=" API_TOKEN,
                   "HOST=127.0.0.1",
                   "PORT=0",
                   "LOG_LEVEL=debug",
                   NULL};
    struct proc srv = {0};
    buf_reset(&responses);
    assert_true(proc_start_serve(&srv, etl_bin, tmpdir, "serve-mysql", env));
    struct reply r;
    const char *paths[] = {"/etl/run-daily-sync", "/etl/run-full-sync?wait=false"};
    for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
        call(&srv, "POST", paths[i], &r);
        assert_true(r.status >= 500);
        reply_release(&r);
    }
    call(&srv, "GET", "/health/ready", &r);
    assert_int_equal(r.status, 503);
    reply_release(&r);
    call(&srv, "GET", "/etl/runs", &r);
    reply_release(&r);
    assert_int_equal(proc_stop(&srv), 0);
    assert_file_clean(srv.out);
    assert_file_clean(srv.err);
    assert_no_secret("responses", responses.data);
    char *argv[] = {(char *)etl_bin, "config", "check", NULL};
    struct proc p = {0};
    assert_true(proc_spawn(&p, tmpdir, "config-mysql", argv, env));
    (void)proc_wait(&p);
    assert_file_clean(p.out);
    assert_file_clean(p.err);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_secrets PATITAS_ETL\n");
        return 2;
    }
    etl_bin = argv[1];
    snprintf(tmpdir, sizeof(tmpdir), "%s/petl-secrets-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir) || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_text_and_json_logs),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_database_password),
    };
    int failed = cmocka_run_group_tests_name("secrets", tests, setup_echo, teardown_echo);
    curl_global_cleanup();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (!failed && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    else if (failed)
        fprintf(stderr, "outputs kept in %s\n", tmpdir);
    return failed ? 1 : 0;
}

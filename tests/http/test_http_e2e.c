/*
 * End to end: the real `patitas-etl serve` processes, the real runner, the
 * Bsale simulator and a real database (SQLite, or MariaDB via TEST_MYSQL_URL).
 * usage: test_http_e2e PATITAS_ETL BSALE_SIM sqlite|mysql
 */
#include "common.h"

#include "http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#define SIM_TOKEN "sim-token-e2e-3141"
#define API_TOKEN "api-token-e2e-2718"

static const char *etl_bin, *sim_bin;
static char tmpdir[256];
static char db_url[1024];
static bool use_sqlite;

/* Every child started, so a failed assertion (which skips stop()) leaves none behind. */
#define MAX_CHILDREN 16
static pid_t children[MAX_CHILDREN];
static size_t n_children;

static void reap_children(void)
{
    for (size_t i = 0; i < n_children; i++) {
        if (children[i] > 0 && kill(children[i], SIGKILL) == 0)
            waitpid(children[i], NULL, 0);
        children[i] = 0;
    }
    n_children = 0;
}

static int teardown_children(void **state)
{
    reap_children();
    return 0;
}

struct proc {
    pid_t pid;
    char out[300]; /* stdout file */
    char err[300]; /* stderr file */
    char base[96]; /* http://127.0.0.1:PORT (serve) or the simulator's base URL */
};

/* Starts argv with extra environment (NAME=VALUE, NULL-terminated), output to files in tmpdir. */
static void spawn(struct proc *p, const char *name, char *const argv[], char *const env[])
{
    snprintf(p->out, sizeof(p->out), "%s/%s.out", tmpdir, name);
    snprintf(p->err, sizeof(p->err), "%s/%s.err", tmpdir, name);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        int o = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(tmpdir) != 0)
            _exit(126);
        for (size_t i = 0; env && env[i]; i++)
            putenv(env[i]);
        execv(argv[0], argv);
        _exit(127);
    }
    if (n_children < MAX_CHILDREN)
        children[n_children++] = p->pid;
}

/* Waits for a line of file containing marker and copies what follows it (to a space). */
static bool wait_for(const char *file, const char *marker, char *dst, size_t n, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        FILE *f = fopen(file, "r");
        char line[2048];
        while (f && fgets(line, sizeof(line), f)) {
            const char *m = strstr(line, marker);
            if (m) {
                m += strlen(marker);
                size_t k = strcspn(m, " \r\n");
                snprintf(dst, n, "%.*s", (int)k, m);
                fclose(f);
                return true;
            }
        }
        if (f)
            fclose(f);
        usleep(20000);
    }
    return false;
}

/* latency_ms "live": Bsale's measured latencies (a document page 2-3 s), so a run lasts. */
static void start_sim(struct proc *p, const char *name, const char *latency_ms)
{
    bool live = strcmp(latency_ms, "live") == 0;
    char *argv[] = {(char *)sim_bin,
                    "--token",
                    SIM_TOKEN,
                    "--port",
                    "0",
                    "--days",
                    "20",
                    "--docs-per-day",
                    "15",
                    live ? "--latency-profile" : "--latency-ms",
                    (char *)latency_ms,
                    NULL};
    spawn(p, name, argv, NULL);
    char url[80];
    assert_true(wait_for(p->out, "http://", url, sizeof(url), 10000));
    snprintf(p->base, sizeof(p->base), "http://%s", url);
}

static void start_serve(struct proc *p, const char *name, const struct proc *sim)
{
    static char env_db[1100], env_api[200];
    char *env[] = {env_db,
                   env_api,
                   "BSALE_API_TOKEN=" SIM_TOKEN,
                   "ETL_API_TOKEN=" API_TOKEN,
                   "HOST=127.0.0.1",
                   "PORT=0",
                   "SHUTDOWN_TIMEOUT_S=10",
                   "LOG_FORMAT=text",
                   NULL};
    snprintf(env_db, sizeof(env_db), "DATABASE_URL=%s", db_url);
    snprintf(env_api, sizeof(env_api), "BSALE_API_URL=%s", sim->base);
    char *argv[] = {(char *)etl_bin, "serve", NULL};
    spawn(p, name, argv, env);
    char port[16];
    assert_true(wait_for(p->err, "listening on http://127.0.0.1:", port, sizeof(port), 10000));
    snprintf(p->base, sizeof(p->base), "http://127.0.0.1:%s", port);
}

/* Sends SIGTERM and returns the exit status (-1 if killed by a signal). */
static int stop(struct proc *p)
{
    int status = 0;
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    if (waitpid(p->pid, &status, 0) != p->pid)
        return -1;
    for (size_t i = 0; i < n_children; i++)
        if (children[i] == p->pid)
            children[i] = 0;
    p->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void api(const struct proc *p, const char *method, const char *path, struct reply *r)
{
    char url[512];
    struct request_opts o = {.token = API_TOKEN, .timeout_s = 120};
    snprintf(url, sizeof(url), "%s%s", p->base, path);
    http_request(method, url, &o, r);
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void today_utc(char out[11], int minus_days)
{
    time_t t = time(NULL) - (time_t)minus_days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Both syncs through the API of one process, then the run history and metrics. */
static void test_syncs(void **state)
{
    struct proc sim = {0}, srv = {0};
    start_sim(&sim, "sim-fast", "0");
    start_serve(&srv, "serve-a", &sim);
    struct reply r = {0};
    api(&srv, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);

    api(&srv, "POST", "/etl/run-full-sync", &r);
    if (r.status != 200)
        fprintf(stderr, "full sync: %ld %s\n", r.status, r.body);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(r.json, "type"), "full");
    assert_string_equal(str(r.json, "status"), "succeeded");
    assert_true(num(json_object_get(r.json, "rows"), "productos") > 0);
    long long full_id = num(r.json, "id");
    reply_release(&r);

    char from[11], to[11], path[128];
    today_utc(from, 5);
    today_utc(to, 1);
    snprintf(path, sizeof(path), "/etl/run-daily-sync?from=%s&to=%s", from, to);
    api(&srv, "POST", path, &r);
    if (r.status != 200)
        fprintf(stderr, "daily sync: %ld %s\n", r.status, r.body);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(r.json, "type"), "daily");
    assert_string_equal(str(r.json, "date_from"), from);
    assert_true(num(json_object_get(r.json, "rows"), "documentos_venta") > 0);
    long long daily_id = num(r.json, "id");
    reply_release(&r);

    api(&srv, "GET", "/health/ready", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    api(&srv, "GET", "/etl/runs?limit=2", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_array_size(r.json), 2);
    assert_int_equal(num(json_array_get(r.json, 0), "id"), daily_id);
    assert_int_equal(num(json_array_get(r.json, 1), "id"), full_id);
    reply_release(&r);
    snprintf(path, sizeof(path), "/etl/runs/%lld", full_id);
    api(&srv, "GET", path, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(r.json, "status"), "succeeded");
    reply_release(&r);
    api(&srv, "GET", "/metrics", &r);
    assert_non_null(
        strstr(r.body, "patitas_etl_runs_total{type=\"full\",outcome=\"succeeded\"} 1\n"));
    assert_non_null(
        strstr(r.body, "patitas_etl_runs_total{type=\"daily\",outcome=\"succeeded\"} 1\n"));
    assert_non_null(strstr(r.body, "patitas_etl_sync_running 0\n"));
    reply_release(&r);
    /* Without the token the sync routes stay closed. */
    char url[256];
    snprintf(url, sizeof(url), "%s/etl/runs", srv.base);
    http_request("GET", url, NULL, &r);
    assert_int_equal(r.status, 401);
    reply_release(&r);

    assert_int_equal(stop(&srv), 0);
    stop(&sim);
}

struct waiter {
    const struct proc *srv;
    const char *path;
    struct reply r;
};

static void *wait_request(void *arg)
{
    struct waiter *w = arg;
    api(w->srv, "POST", w->path, &w->r);
    return NULL;
}

/* True once srv runs a sync whose run record is in the database. */
static bool sync_recorded(const struct proc *srv)
{
    struct reply r = {0};
    api(srv, "GET", "/metrics", &r);
    bool running = r.body && strstr(r.body, "\npatitas_etl_sync_running 1\n");
    reply_release(&r);
    if (!running)
        return false;
    api(srv, "GET", "/etl/runs?limit=1", &r);
    running = strcmp(str(json_array_get(r.json, 0), "status"), "running") == 0;
    reply_release(&r);
    return running;
}

static void check_sqlite_consistent(void)
{
    char path[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof(path), "%s/e2e.db", tmpdir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    /* No run is left looking alive. */
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT COUNT(*) FROM etl_ejecuciones WHERE estado = "
                                        "'running'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/*
 * Two processes on one database: while one runs a (slow) sync the other gets
 * 409; SIGTERM stops the first cleanly, its run recorded failed "interrupted".
 */
static void test_busy_and_sigterm(void **state)
{
    struct proc sim = {0}, a = {0}, b = {0};
    start_sim(&sim, "sim-slow", "150");
    start_serve(&a, "serve-b", &sim);
    start_serve(&b, "serve-c", &sim);
    char from[11], to[11], path[128];
    today_utc(from, 15);
    today_utc(to, 1);
    snprintf(path, sizeof(path), "/etl/run-daily-sync?from=%s&to=%s", from, to);
    struct waiter w = {.srv = &a, .path = path};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_request, &w), 0);
    bool running = false;
    for (int i = 0; i < 500 && !running; i++) {
        running = sync_recorded(&a);
        if (!running)
            usleep(10000);
    }
    assert_true(running);

    struct reply r = {0};
    api(&b, "POST", "/etl/run-full-sync", &r);
    if (r.status != 409)
        fprintf(stderr, "second process: %ld %s\n", r.status, r.body);
    assert_int_equal(r.status, 409);
    assert_string_equal(str(r.json, "detail"), "another sync is running");
    long long busy_id = num(r.json, "run_id");
    reply_release(&r);
    api(&b, "GET", "/health", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);

    assert_int_equal(stop(&a), 0);
    pthread_join(th, NULL);
    if (w.r.status != 503)
        fprintf(stderr, "interrupted request: %ld %s\n", w.r.status, w.r.body);
    assert_int_equal(w.r.status, 503);
    json_t *run = json_object_get(w.r.json, "run");
    assert_string_equal(str(run, "status"), "failed");
    long long run_id = num(run, "id");
    reply_release(&w.r);
    /* The 409 named the other process's run, found through the database. */
    assert_int_equal(busy_id, run_id);

    /* The other process sees the run recorded as interrupted... */
    char run_path[64];
    snprintf(run_path, sizeof(run_path), "/etl/runs/%lld", run_id);
    api(&b, "GET", run_path, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(r.json, "status"), "failed");
    assert_non_null(strstr(str(r.json, "error"), "interrupted"));
    assert_non_null(json_object_get(r.json, "finished_at"));
    reply_release(&r);
    if (use_sqlite)
        check_sqlite_consistent();
    /* ...and, the lock released, can sync the last of those days to the end. */
    snprintf(path, sizeof(path), "/etl/run-daily-sync?date=%s", to);
    api(&b, "POST", path, &r);
    if (r.status != 200)
        fprintf(stderr, "rerun: %ld %s\n", r.status, r.body);
    assert_int_equal(r.status, 200);
    assert_string_equal(str(r.json, "status"), "succeeded");
    reply_release(&r);
    assert_int_equal(stop(&b), 0);
    stop(&sim);
}

/*
 * A process killed during a run cannot record it: the next `serve` on the
 * database closes it at start, with a cause saying what happened.
 */
static void test_killed_run_closed_at_start(void **state)
{
    struct proc sim = {0}, a = {0}, b = {0};
    start_sim(&sim, "sim-kill", "150");
    start_serve(&a, "serve-d", &sim);
    char from[11], to[11], path[128];
    today_utc(from, 15);
    today_utc(to, 1);
    snprintf(path, sizeof(path), "/etl/run-daily-sync?from=%s&to=%s&wait=false", from, to);
    struct reply r;
    api(&a, "POST", path, &r);
    assert_int_equal(r.status, 202);
    long long run_id = num(r.json, "run_id");
    reply_release(&r);
    bool running = false;
    for (int i = 0; i < 500 && !running; i++) {
        running = sync_recorded(&a);
        if (!running)
            usleep(10000);
    }
    assert_true(running);
    kill(a.pid, SIGKILL);
    assert_int_equal(waitpid(a.pid, NULL, 0), a.pid);
    for (size_t i = 0; i < n_children; i++)
        if (children[i] == a.pid)
            children[i] = 0;

    start_serve(&b, "serve-e", &sim);
    char run_path[64];
    snprintf(run_path, sizeof(run_path), "/etl/runs/%lld", run_id);
    api(&b, "GET", run_path, &r);
    assert_int_equal(r.status, 200);
    if (strcmp(str(r.json, "status"), "failed") != 0)
        fprintf(stderr, "left run: %s\n", r.body);
    assert_string_equal(str(r.json, "status"), "failed");
    assert_non_null(strstr(str(r.json, "error"), "interrupted: the process ended"));
    assert_non_null(strstr(str(r.json, "error"), "last seen "));
    assert_non_null(json_object_get(r.json, "finished_at"));
    reply_release(&r);
    assert_int_equal(stop(&b), 0);
    stop(&sim);
}

/* A trigger with an Idempotency-Key and a deadline, as a scheduler's attempt sends it. */
static void attempt(const struct proc *p, const char *path, const char *key, long deadline_s,
                    struct reply *r)
{
    char url[512], hdr[128];
    snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", key);
    const char *const hdrs[] = {hdr, NULL};
    struct request_opts o = {.token = API_TOKEN, .timeout_s = deadline_s, .headers = hdrs};
    snprintf(url, sizeof(url), "%s%s", p->base, path);
    http_request("POST", url, &o, r);
}

/* The newest run's id (0 when there is none). */
static long long newest_run(const struct proc *p)
{
    struct reply r = {0};
    api(p, "GET", "/etl/runs?limit=1", &r);
    assert_int_equal(r.status, 200);
    long long id = num(json_array_get(r.json, 0), "id");
    reply_release(&r);
    return id;
}

static void daily_path(char *path, size_t n, int from_days, const char *extra)
{
    char from[11], to[11];
    today_utc(from, from_days);
    today_utc(to, 1);
    snprintf(path, n, "/etl/run-daily-sync?from=%s&to=%s%s", from, to, extra);
}

/*
 * A scheduler with a 1 s attempt deadline against a slow run, retrying on two
 * instances of one database: every attempt joins the first one's run (no 409,
 * no second run), the last gets its outcome, a retry after the end too, and
 * the abandoned attempts are logged as such.
 */
static void test_scheduler_retries(void **state)
{
    struct proc sim = {0}, a = {0}, b = {0};
    start_sim(&sim, "sim-sched", "live");
    start_serve(&a, "serve-f", &sim);
    start_serve(&b, "serve-g", &sim);
    long long before = newest_run(&a);
    char path[160], wait_false[160];
    daily_path(path, sizeof(path), 15, "");
    daily_path(wait_false, sizeof(wait_false), 15, "&wait=false");
    struct reply r = {0};
    char key[64]; /* unique per test run: a MariaDB database outlives it */
    snprintf(key, sizeof(key), "sched-%ld-%lld", (long)getpid(), (long long)time(NULL));
    attempt(&a, path, key, 1, &r);
    assert_int_equal(r.status, 0); /* the deadline passed while the run goes on */
    reply_release(&r);
    attempt(&b, path, key, 1, &r);
    assert_int_equal(r.status, 0); /* joined on the other instance: it waits, no 409 */
    reply_release(&r);
    long long run_id = newest_run(&b);
    assert_int_equal(run_id, before + 1);
    /* The same sync without a key joins too; a different one is still refused. */
    api(&b, "POST", wait_false, &r);
    assert_int_equal(r.status, 202);
    assert_int_equal(num(r.json, "run_id"), run_id);
    char location[64], want[64];
    snprintf(want, sizeof(want), "/etl/runs/%lld", run_id);
    assert_true(reply_header(&r, "Location", location, sizeof(location)));
    assert_string_equal(location, want);
    reply_release(&r);
    api(&b, "POST", "/etl/run-full-sync?wait=false", &r);
    assert_int_equal(r.status, 409);
    reply_release(&r);

    attempt(&b, path, key, 120, &r);
    if (r.status != 200)
        fprintf(stderr, "last attempt: %ld %s\n", r.status, r.body);
    assert_int_equal(r.status, 200);
    assert_int_equal(num(r.json, "id"), run_id);
    assert_string_equal(str(r.json, "status"), "succeeded");
    char *first = json_dumps(r.json, JSON_SORT_KEYS);
    reply_release(&r);
    /* Retried once more after the end: the first request's run and outcome, same body. */
    attempt(&a, path, key, 30, &r);
    assert_int_equal(r.status, 200);
    char *again = json_dumps(r.json, JSON_SORT_KEYS);
    assert_string_equal(again, first);
    free(first);
    free(again);
    reply_release(&r);
    assert_int_equal(newest_run(&a), run_id);

    char line[64];
    assert_true(wait_for(a.err, "POST /etl/run-daily-sync aborted", line, sizeof(line), 10000));
    assert_true(wait_for(b.err, "POST /etl/run-daily-sync aborted", line, sizeof(line), 10000));
    assert_int_equal(stop(&a), 0);
    assert_int_equal(stop(&b), 0);
    stop(&sim);
}

/* While a run goes, any instance shows its progress, read from the run's record. */
static void test_live_progress(void **state)
{
    struct proc sim = {0}, a = {0}, b = {0};
    start_sim(&sim, "sim-progress", "live");
    start_serve(&a, "serve-h", &sim);
    start_serve(&b, "serve-i", &sim);
    char path[160], run_path[64];
    daily_path(path, sizeof(path), 15, "&wait=false");
    struct reply r = {0};
    api(&a, "POST", path, &r);
    assert_int_equal(r.status, 202);
    long long run_id = num(r.json, "run_id");
    reply_release(&r);
    snprintf(run_path, sizeof(run_path), "/etl/runs/%lld", run_id);
    bool seen = false;
    for (int i = 0; i < 3000 && !seen; i++) {
        api(&b, "GET", run_path, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(str(r.json, "status"), "running");
        json_t *pr = json_object_get(r.json, "progress");
        seen = num(r.json, "requests") > 0 && num(r.json, "rows_total") > 0 && pr &&
               num(pr, "requests") > 0 && num(pr, "rows") > 0 && num(pr, "pages") > 0 &&
               json_object_get(pr, "req_s") && json_object_get(pr, "eta_s");
        reply_release(&r);
        if (!seen)
            usleep(10000);
    }
    assert_true(seen);
    /* /etl/runs shows it as well. */
    api(&b, "GET", "/etl/runs?limit=1", &r);
    assert_non_null(json_object_get(json_array_get(r.json, 0), "progress"));
    reply_release(&r);
    /* Joined through the database until it ends; once finished, no progress is left. */
    daily_path(path, sizeof(path), 15, "");
    api(&b, "POST", path, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(num(r.json, "id"), run_id);
    assert_null(json_object_get(r.json, "progress"));
    reply_release(&r);
    assert_int_equal(stop(&a), 0);
    assert_int_equal(stop(&b), 0);
    stop(&sim);
}

/* The value of the sample whose line starts with name_labels in a /metrics body; -1 if absent. */
static double metric(const char *body, const char *name_labels)
{
    char want[256];
    snprintf(want, sizeof(want), "\n%s ", name_labels);
    const char *p = body ? strstr(body, want) : NULL;
    return p ? strtod(p + strlen(want), NULL) : -1;
}

/* /metrics after a restart still knows the last success and the last run's rows. */
static void test_metrics_survive_restart(void **state)
{
    struct proc sim = {0}, a = {0}, b = {0};
    start_sim(&sim, "sim-metrics", "0");
    start_serve(&a, "serve-j", &sim);
    char path[160];
    daily_path(path, sizeof(path), 3, "");
    struct reply r = {0};
    api(&a, "POST", path, &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    api(&a, "GET", "/metrics", &r);
    assert_int_equal(r.status, 200);
    double count = metric(r.body, "patitas_etl_bsale_request_duration_seconds_count{resource="
                                  "\"documents\"}");
    double inf = metric(r.body, "patitas_etl_bsale_request_duration_seconds_bucket{resource="
                                "\"documents\",le=\"+Inf\"}");
    if (count <= 0)
        fprintf(stderr, "metrics: %s\n", r.body);
    assert_true(count > 0);
    assert_true(inf == count);
    assert_true(metric(r.body, "patitas_etl_last_run_rows{table=\"documentos_venta\"}") > 0);
    reply_release(&r);
    assert_int_equal(stop(&a), 0);

    start_serve(&b, "serve-k", &sim);
    api(&b, "GET", "/metrics", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\npatitas_build_info{version=\""));
    double when = metric(r.body, "patitas_etl_last_success_timestamp_seconds{type=\"daily\"}");
    if (when <= 0)
        fprintf(stderr, "metrics after restart: %s\n", r.body);
    assert_true(when > (double)time(NULL) - 3600);
    assert_true(metric(r.body, "patitas_etl_last_run_rows{table=\"documentos_venta\"}") > 0);
    reply_release(&r);
    assert_int_equal(stop(&b), 0);
    stop(&sim);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_http_e2e PATITAS_ETL BSALE_SIM sqlite|mysql\n");
        return 2;
    }
    etl_bin = argv[1];
    sim_bin = argv[2];
    use_sqlite = strcmp(argv[3], "sqlite") == 0;
    const char *mysql = getenv("TEST_MYSQL_URL");
    if (!use_sqlite && (!mysql || !*mysql)) {
        const char *req = getenv("PETL_REQUIRE_MYSQL");
        fprintf(stderr, "TEST_MYSQL_URL not set: skipping\n");
        return req && strcmp(req, "1") == 0 ? 1 : 77;
    }
    snprintf(tmpdir, sizeof(tmpdir), "%s/petl-http-e2e-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        return 1;
    if (use_sqlite)
        snprintf(db_url, sizeof(db_url), "sqlite:///%s/e2e.db", tmpdir);
    else
        snprintf(db_url, sizeof(db_url), "%s", mysql);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_syncs, teardown_children),
        cmocka_unit_test_teardown(test_busy_and_sigterm, teardown_children),
        cmocka_unit_test_teardown(test_killed_run_closed_at_start, teardown_children),
        cmocka_unit_test_teardown(test_scheduler_retries, teardown_children),
        cmocka_unit_test_teardown(test_live_progress, teardown_children),
        cmocka_unit_test_teardown(test_metrics_survive_restart, teardown_children),
    };
    int failed = cmocka_run_group_tests_name(use_sqlite ? "http-e2e-sqlite" : "http-e2e-mysql",
                                             tests, NULL, NULL);
    curl_global_cleanup();
    if (!failed) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "logs kept in %s\n", tmpdir);
    }
    return failed ? 1 : 0;
}

/*
 * CLI actions over the runner and the database. Output for people goes to
 * stdout; logs go to stderr. SIGINT/SIGTERM during a sync stop it at its
 * next transaction boundary and record it as interrupted.
 */
#include "common.h"

#define LOG_MODULE "cli"
#include "date.h"
#include "cli_commands.h"
#include "db.h"
#include "db_report.h"
#include "http_server.h"
#include "log.h"
#include "utf8.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stdatomic.h>

struct signal_watch {
    struct etl_runner *runner;
    double timeout_s;
    atomic_bool done; /* set by the main thread, read by the watcher */
};

static void *watch_signals(void *arg)
{
    struct signal_watch *w = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    struct timespec tick = {0, 200 * 1000 * 1000};
    while (!atomic_load(&w->done)) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
            log_warn("signal %d: stopping the sync at its next transaction boundary "
                     "(again to quit at once)",
                     sig);
            /* From now on this thread takes the signals with their default action: a second
             * one ends the process even if the run does not stop. */
            pthread_sigmask(SIG_UNBLOCK, &set, NULL);
            etl_runner_shutdown(w->runner, w->timeout_s);
            while (!atomic_load(&w->done))
                nanosleep(&tick, NULL);
            break;
        }
    }
    return NULL;
}

static void print_summary(json_t *s)
{
    const char *from = json_string_value(json_object_get(s, "date_from"));
    const char *to = json_string_value(json_object_get(s, "date_to"));
    printf("run %lld: %s sync %s", (long long)json_integer_value(json_object_get(s, "id")),
           json_string_value(json_object_get(s, "type")),
           json_string_value(json_object_get(s, "status")));
    if (from)
        printf(" for %s..%s", from, to ? to : from);
    printf(" in %.1fs\n", json_number_value(json_object_get(s, "seconds")));
    json_t *resumed = json_object_get(s, "resumed_from");
    if (resumed) /* the days that run had committed were not read again */
        printf("  resumed_from run %lld\n", (long long)json_integer_value(resumed));
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get(s, "rows"), key, v) {
        if (json_integer_value(v))
            printf("  %-18s %10lld rows\n", key, (long long)json_integer_value(v));
    }
    printf("  total              %10lld rows, %lld requests, %lld retries, %lld throttled\n",
           (long long)json_integer_value(json_object_get(s, "rows_total")),
           (long long)json_integer_value(json_object_get(s, "requests")),
           (long long)json_integer_value(json_object_get(s, "retries")),
           (long long)json_integer_value(json_object_get(s, "throttled")));
    long long doubtful = (long long)json_integer_value(json_object_get(s, "incidents"));
    if (doubtful)
        printf("  warning: %lld records are doubtful (incidents in %s)\n", doubtful,
               catalog_by_role(CAT_ROLE_INCIDENTS)->name);
    const char *error = json_string_value(json_object_get(s, "error"));
    if (error)
        printf("  error: %s\n", error);
}

enum err_code cmd_sync_run(const struct config *cfg, const struct etl_request *req,
                           bool json_output)
{
    struct etl_runner *runner = NULL;
    struct err e = ERR_INIT;
    long long run_id = 0;
    json_t *summary = NULL;
    /* Blocked before any thread starts, so only the watcher receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    date_use_timezone(cfg->etl_timezone);
    if (etl_runner_new(cfg, &runner, &e) || etl_runner_start(runner, req, &run_id, &e)) {
        fprintf(stderr, "error: %s\n", e.msg);
        etl_runner_free(runner);
        return e.code ? e.code : ERR_INTERNAL;
    }
    struct signal_watch w = {runner, (double)cfg->shutdown_timeout_s, false};
    pthread_t watcher;
    bool watching = pthread_create(&watcher, NULL, watch_signals, &w) == 0;
    enum err_code rc = etl_runner_wait(runner, run_id, &summary, &e);
    atomic_store(&w.done, true);
    if (watching)
        pthread_join(watcher, NULL);
    if (summary && json_output) {
        char *text = json_dumps(summary, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
        printf("%s\n", text ? text : "{}");
        free(text);
    } else if (summary) {
        print_summary(summary);
    }
    if (rc)
        fprintf(stderr, "error: %s\n", e.msg);
    json_decref(summary);
    etl_runner_free(runner);
    /* The run's own failure is a runtime one, whatever its cause. */
    return rc == ERR_INVALID || rc == ERR_USAGE ? ERR_INTERNAL : rc;
}

enum err_code cmd_migrate_run(const struct config *cfg)
{
    struct db *db = NULL;
    struct err e = ERR_INIT;
    int version = 0;
    enum err_code rc = db_open(&cfg->db, &db, &e);
    if (!rc)
        rc = db_migrate(db, &e);
    if (!rc)
        rc = db_schema_check(db, &version, &e);
    if (rc)
        fprintf(stderr, "error: migrate: %s\n", e.msg);
    else
        printf("schema version %d ready (%s)\n", version, db_backend_name(db));
    db_close(db);
    return rc;
}

/* A result table held until its last row, so every column fits its widest cell. */
struct table_print {
    int ncols;
    size_t nrows;
    char **cells; /* (nrows + 1) * ncols, row 0 the header; owned */
};

#define TABLE_MAX_COLS 32

static int collect_row(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    struct table_print *tp = ctx;
    if (ncols > TABLE_MAX_COLS)
        ncols = TABLE_MAX_COLS;
    if (!tp->cells) {
        tp->ncols = ncols;
        tp->cells = xcalloc((size_t)ncols, sizeof(char *));
        for (int i = 0; i < ncols; i++)
            tp->cells[i] = xstrdup(names[i]);
    }
    if (ncols > tp->ncols)
        ncols = tp->ncols;
    tp->nrows++;
    tp->cells = xrealloc(tp->cells, (tp->nrows + 1) * (size_t)tp->ncols * sizeof(char *));
    char **row = tp->cells + tp->nrows * (size_t)tp->ncols;
    for (int i = 0; i < tp->ncols; i++)
        row[i] = xstrdup(i < ncols && cells[i] ? cells[i] : "NULL");
    return 0;
}

/* Prints the table with each column as wide as its widest cell (in characters), then frees it. */
static void table_flush(struct table_print *tp)
{
    int widths[TABLE_MAX_COLS] = {0};
    size_t total = tp->cells ? (tp->nrows + 1) * (size_t)tp->ncols : 0;
    for (size_t k = 0; k < total; k++) {
        int w = (int)utf8_chars(tp->cells[k]);
        int col = (int)(k % (size_t)tp->ncols);
        if (w > widths[col])
            widths[col] = w;
    }
    for (size_t k = 0; k < total; k++) {
        int col = (int)(k % (size_t)tp->ncols);
        const char *c = tp->cells[k];
        if (col == tp->ncols - 1) /* no padding after the last column */
            printf("  %s\n", c);
        else
            printf("  %s%*s", c, widths[col] - (int)utf8_chars(c), "");
        free(tp->cells[k]);
    }
    free(tp->cells);
    memset(tp, 0, sizeof(*tp));
}

static enum err_code report_counts(struct db *db, struct err *e)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    printf("Rows per table\n");
    for (size_t i = 0; i < n; i++) {
        char count[24];
        enum err_code rc = db_report_count(db, tables[i], count, e);
        if (rc)
            return rc;
        printf("  %-18s %10s\n", tables[i]->name, count);
    }
    return ERR_OK;
}

static enum err_code report_best_sellers(struct db *db, const char *date, struct err *e)
{
    char day[11] = "";
    enum err_code rc;
    if (date)
        snprintf(day, sizeof(day), "%s", date);
    else if ((rc = db_report_latest_sale_day(db, day, e)))
        return rc;
    if (!date_parse(day, NULL, NULL, NULL)) {
        printf("\nNo sales yet.\n");
        return ERR_OK;
    }
    printf("\nBest-selling products on %s (active sales, credit notes excluded)\n", day);
    struct table_print tp = {0};
    rc = db_report_best_sellers(db, day, 10, collect_row, &tp, e);
    table_flush(&tp);
    return rc;
}

static enum err_code report_runs(struct db *db, struct err *e)
{
    printf("\nLatest runs\n");
    struct table_print tp = {0};
    enum err_code rc = db_report_runs(db, 5, collect_row, &tp, e);
    table_flush(&tp);
    return rc;
}

enum err_code cmd_report_run(const struct config *cfg, const char *date)
{
    struct db *db = NULL;
    struct err e = ERR_INIT;
    int version = 0;
    enum err_code rc = db_open(&cfg->db, &db, &e);
    if (!rc)
        rc = db_schema_check(db, &version, &e);
    if (!rc)
        rc = report_counts(db, &e);
    if (!rc)
        rc = report_runs(db, &e);
    if (!rc)
        rc = report_best_sellers(db, date, &e);
    if (rc)
        fprintf(stderr, "error: report: %s\n", e.msg);
    db_close(db);
    return rc;
}

/*
 * Runs still 'running' while nobody holds the sync lock belong to a process
 * that ended (killed, crashed): the lock dies with its holder. Close them now
 * rather than leave them running until the next sync.
 */
/* The session of a process killed a moment ago may hold the lock until the server notices. */
#define LEFT_RUNS_LOCK_TRIES 12
#define LEFT_RUNS_LOCK_PAUSE_US 250000

static void close_left_runs(struct db *db)
{
    struct err e = ERR_INIT;
    int closed = 0;
    enum err_code rc = db_lock(db, &e);
    for (int i = 1; rc == ERR_BUSY && i < LEFT_RUNS_LOCK_TRIES; i++) {
        usleep(LEFT_RUNS_LOCK_PAUSE_US);
        err_clear(&e);
        rc = db_lock(db, &e);
    }
    if (rc != ERR_OK) {
        log_info("runs left running are not checked: %s", e.msg);
        return;
    }
    if (db_run_close_left(db, "interrupted: the process ended while the run was going", &closed,
                          &e))
        log_error("%s", e.msg);
    else if (closed)
        log_warn("closed %d run(s) left running by a process that ended", closed);
    db_unlock(db);
}

/* Migrates on start when allowed; a database that is down is reported, not fatal: the
 * service still answers /health, /health/ready says why, and each run retries the database. */
static void prepare_schema(const struct config *cfg)
{
    struct db *db = NULL;
    struct err e = ERR_INIT;
    int version = 0;
    enum err_code rc = db_open(&cfg->db, &db, &e);
    if (!rc)
        rc = cfg->etl_auto_migrate ? db_migrate(db, &e) : db_schema_check(db, &version, &e);
    if (!rc)
        close_left_runs(db);
    if (rc)
        log_error("database not ready at start: %s", e.msg);
    db_close(db);
}

enum err_code cmd_serve_run(const struct config *cfg)
{
    struct etl_runner *runner = NULL;
    struct err e = ERR_INIT;
    /* Blocked before any thread starts, so only the server's signal wait receives them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    date_use_timezone(cfg->etl_timezone);
    prepare_schema(cfg);
#ifdef __GLIBC__
    /* The migration's heap is free now: give it back, so an idle service stays small. */
    malloc_trim(0);
#endif
    enum err_code rc = etl_runner_new(cfg, &runner, &e);
    if (!rc)
        rc = http_server_run(cfg, runner, &e);
    if (rc)
        fprintf(stderr, "error: serve: %s\n", e.msg);
    etl_runner_free(runner);
    return rc;
}

/* Runner stand-in for the HTTP tests: in-memory runs on timers, single-flight like the real one. */
#include "common.h"

#include "runner_double.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DOUBLE_MAX_RUNS 256

struct double_run {
    long long id;
    struct etl_request req;
    int state; /* 0 running, 1 succeeded, 2 failed */
    enum err_code code;
    char msg[ERR_MSG_MAX];
    double started, finished;
};

struct etl_runner {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct runner_double_opts opts;
    char outcome_msg[ERR_MSG_MAX];
    char ready_msg[ERR_MSG_MAX];
    struct double_run runs[DOUBLE_MAX_RUNS];
    int n;
    bool running, released, stop, shut_down;
    pthread_t thread;
    bool has_thread;
    struct etl_metrics metrics;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum err_code etl_runner_new(const struct config *cfg, struct etl_runner **out, struct err *e)
{
    struct etl_runner *r = xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->opts.run_ms = 0;
    *out = r;
    return ERR_OK;
}

static void join_thread(struct etl_runner *r)
{
    if (r->has_thread) {
        pthread_join(r->thread, NULL);
        r->has_thread = false;
    }
}

void etl_runner_free(struct etl_runner *r)
{
    if (!r)
        return;
    etl_runner_shutdown(r, 5.0);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void runner_double_set(struct etl_runner *r, const struct runner_double_opts *o)
{
    pthread_mutex_lock(&r->lock);
    r->opts = *o;
    snprintf(r->outcome_msg, sizeof(r->outcome_msg), "%s", o->outcome_msg ? o->outcome_msg : "");
    snprintf(r->ready_msg, sizeof(r->ready_msg), "%s", o->ready_msg ? o->ready_msg : "");
    pthread_mutex_unlock(&r->lock);
}

void runner_double_release(struct etl_runner *r)
{
    pthread_mutex_lock(&r->lock);
    r->released = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

int runner_double_started(struct etl_runner *r)
{
    pthread_mutex_lock(&r->lock);
    int n = r->n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

struct etl_request runner_double_last(struct etl_runner *r)
{
    pthread_mutex_lock(&r->lock);
    struct etl_request req = r->n ? r->runs[r->n - 1].req : (struct etl_request){0};
    pthread_mutex_unlock(&r->lock);
    return req;
}

bool runner_double_shut_down(struct etl_runner *r)
{
    pthread_mutex_lock(&r->lock);
    bool b = r->shut_down;
    pthread_mutex_unlock(&r->lock);
    return b;
}

static void finish_run(struct etl_runner *r, struct double_run *run)
{
    run->finished = now_s();
    if (r->stop) {
        run->code = ERR_INTERRUPTED;
        snprintf(run->msg, sizeof(run->msg), "interrupted");
    } else {
        run->code = r->opts.outcome;
        snprintf(run->msg, sizeof(run->msg), "%s", r->outcome_msg);
    }
    run->state = run->code == ERR_OK ? 1 : 2;
    int k = run->req.kind;
    r->metrics.runs[k][run->code == ERR_OK ? 0 : 1]++;
    r->metrics.last_duration_s[k] = run->finished - run->started;
    if (run->code == ERR_OK) {
        r->metrics.last_success_unix[k] = run->finished;
        r->metrics.rows_by_table[0] += 10;
    }
    r->metrics.bsale_requests += 3;
    r->metrics.bsale_retries += 1;
    r->metrics.bsale_throttled += 1;
    r->metrics.n_status = 2;
    r->metrics.bsale_by_status[0].status = 200;
    r->metrics.bsale_by_status[0].n += 2;
    r->metrics.bsale_by_status[1].status = 429;
    r->metrics.bsale_by_status[1].n += 1;
    r->running = false;
    pthread_cond_broadcast(&r->cond);
}

static void *run_thread(void *arg)
{
    struct etl_runner *r = arg;
    pthread_mutex_lock(&r->lock);
    struct double_run *run = &r->runs[r->n - 1];
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    long ms = r->opts.run_ms < 0 ? 0 : r->opts.run_ms;
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (!r->stop && !r->released) {
        if (r->opts.run_ms < 0)
            pthread_cond_wait(&r->cond, &r->lock);
        else if (pthread_cond_timedwait(&r->cond, &r->lock, &deadline) == ETIMEDOUT)
            break;
    }
    finish_run(r, run);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

enum err_code etl_runner_start(struct etl_runner *r, const struct etl_request *req,
                               long long *run_id, struct err *e)
{
    enum err_code rc = ERR_OK;
    pthread_mutex_lock(&r->lock);
    if (r->running) {
        *run_id = r->runs[r->n - 1].id;
        rc = err_set(e, ERR_BUSY, "another sync is running");
        goto out;
    }
    if (r->stop || r->n >= DOUBLE_MAX_RUNS) {
        rc = err_set(e, ERR_INTERRUPTED, "shutting down");
        goto out;
    }
    /* The previous run's thread released the lock for the last time when it finished. */
    join_thread(r);
    struct double_run *run = &r->runs[r->n++];
    memset(run, 0, sizeof(*run));
    run->id = r->n;
    run->req = *req;
    run->req.idempotency_key = NULL; /* borrowed for the call only */
    run->started = now_s();
    r->running = true;
    r->released = false;
    r->metrics.running = true;
    *run_id = run->id;
    if (pthread_create(&r->thread, NULL, run_thread, r) != 0) {
        r->running = false;
        rc = err_set(e, ERR_INTERNAL, "cannot start the run thread");
        goto out;
    }
    r->has_thread = true;
out:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* The double keeps no keys and matches no dates: every trigger is a new run (or a 409). */
enum err_code etl_runner_join(struct etl_runner *r, const struct etl_request *req,
                              long long *run_id, struct err *e)
{
    (void)r;
    (void)req;
    *run_id = 0;
    return err_set(e, ERR_NOT_FOUND, "no such run going");
}

static void iso_time(double t, char *dst, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *summary(const struct double_run *run)
{
    static const char *const states[] = {"running", "succeeded", "failed"};
    char started[32], finished[32];
    iso_time(run->started, started, sizeof(started));
    iso_time(run->finished, finished, sizeof(finished));
    bool done = run->state != 0;
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s?, s:{s:i}, s:i, s:i, s:f, s:s?}", "id",
        (json_int_t)run->id, "type", etl_kind_name(run->req.kind), "origin",
        run->req.origin == ETL_ORIGIN_HTTP ? "http" : "cli", "status", states[run->state],
        "date_from", run->req.date_from[0] ? run->req.date_from : NULL, "date_to",
        run->req.date_to[0] ? run->req.date_to : NULL, "started_at", started, "finished_at",
        done ? finished : NULL, "rows", "clientes", run->state == 1 ? 10 : 0, "requests", 3,
        "retries", 1, "seconds", done ? run->finished - run->started : 0.0, "error",
        run->state == 2 ? run->msg : NULL);
}

static struct double_run *find(struct etl_runner *r, long long id)
{
    return id >= 1 && id <= r->n ? &r->runs[id - 1] : NULL;
}

enum err_code etl_runner_wait(struct etl_runner *r, long long run_id, json_t **out, struct err *e)
{
    enum err_code rc = ERR_OK;
    pthread_mutex_lock(&r->lock);
    struct double_run *run = find(r, run_id);
    if (!run) {
        rc = err_set(e, ERR_NOT_FOUND, "run %lld not found", run_id);
        goto out;
    }
    while (run->state == 0)
        pthread_cond_wait(&r->cond, &r->lock);
    *out = summary(run);
    if (run->code)
        rc = err_set(e, run->code, "%s", run->msg);
out:
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void etl_runner_shutdown(struct etl_runner *r, double timeout_s)
{
    pthread_mutex_lock(&r->lock);
    r->stop = true;
    r->shut_down = true;
    pthread_cond_broadcast(&r->cond);
    while (r->running)
        pthread_cond_wait(&r->cond, &r->lock);
    join_thread(r);
    pthread_mutex_unlock(&r->lock);
}

enum err_code etl_runner_list(struct etl_runner *r, int limit, json_t **runs, struct err *e)
{
    json_t *a = json_array();
    pthread_mutex_lock(&r->lock);
    for (int i = r->n - 1; i >= 0 && (int)json_array_size(a) < limit; i--)
        json_array_append_new(a, summary(&r->runs[i]));
    pthread_mutex_unlock(&r->lock);
    *runs = a;
    return ERR_OK;
}

enum err_code etl_runner_get(struct etl_runner *r, long long id, json_t **run, struct err *e)
{
    enum err_code rc = ERR_OK;
    pthread_mutex_lock(&r->lock);
    struct double_run *found = find(r, id);
    if (found)
        *run = summary(found);
    else
        rc = err_set(e, ERR_NOT_FOUND, "run %lld not found", id);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

enum err_code etl_runner_ready(struct etl_runner *r, struct err *e)
{
    pthread_mutex_lock(&r->lock);
    enum err_code rc = r->opts.ready;
    if (rc)
        err_set(e, rc, "%s", r->ready_msg);
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void etl_runner_metrics(struct etl_runner *r, struct etl_metrics *out)
{
    pthread_mutex_lock(&r->lock);
    *out = r->metrics;
    out->running = r->running;
    pthread_mutex_unlock(&r->lock);
}

#ifdef PETL_DOUBLE_CATALOG
#include "catalog.h"

/* Without src/catalog.c yet, two tables stand in for the catalog. */
static const struct cat_table double_tables[] = {{"clientes", NULL, 0, NULL},
                                                 {"productos", NULL, 0, NULL}};
static const struct cat_table *const double_table_ptrs[] = {&double_tables[0], &double_tables[1]};
const struct cat_table *const *catalog_tables(size_t *n)
{
    *n = ARRAY_LEN(double_table_ptrs);
    return double_table_ptrs;
}
#endif

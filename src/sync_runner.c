/*
 * The runner: single flight (in-process flag + the database lock), the
 * etl_ejecuciones record, one background thread per run, and the
 * process-wide metrics. It turns a request into a plan and leaves fetching
 * to etl_plan.c and writing to etl_writer.c.
 */
#include "common.h"

#define LOG_MODULE "runner"
#include "date.h"
#include "clock.h"
#include "bsale_client.h"
#include "db.h"
#include "db_sync.h"
#include "sync_runner.h"
#include "sync_metrics.h"
#include "sync_plan_resolve.h"
#include "sync_summary.h"
#include "log.h"
#include "etl_plan.h"
#include "etl_incidents.h"
#include "etl_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdatomic.h>

struct etl_runner {
    const struct config *cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running;  /* a run is reserved or in progress */
    bool joinable; /* thread finished or running, not yet joined */
    pthread_t thread;
    long long run_id; /* current or last run */
    json_t *last_summary;
    enum err_code last_code;
    struct err last_err;
    atomic_bool cancel; /* set by shutdown, read by the run thread and the client */
    bool closing;       /* shutdown began: no new runs */
    struct etl_metrics metrics;
    bool seeded; /* metrics seeded from etl_ejecuciones */
};

struct run_job {
    struct etl_runner *r;
    struct etl_request req;
    struct etl_plan plan;
    struct db *db;
    struct db_run rec;
    double started;
    struct etl_open_incidents open; /* earlier runs' open incidents */
    int64_t *retry_ids;             /* their documents, re-read by id (owned) */
    char docs_from[11]; /* first document day this run reads: after a resumed run's last */
};

enum err_code etl_runner_new(const struct config *cfg, struct etl_runner **out, struct err *e)
{
    (void)e;
    struct etl_runner *r = xcalloc(1, sizeof(*r));
    r->cfg = cfg;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    *out = r;
    return ERR_OK;
}

/* A run that did not stop in time: its record says so before the process goes. */
static void record_interrupted(struct etl_runner *r, long long id)
{
    struct db *db = NULL;
    struct db_run run;
    struct err e = ERR_INIT;
    memset(&run, 0, sizeof(run));
    if (!id || db_open(&r->cfg->db, &db, &e) || db_run_get(db, id, &run, &e)) {
        db_close(db);
        return;
    }
    if (strcmp(run.estado, "running") == 0) {
        snprintf(run.estado, sizeof(run.estado), "failed");
        snprintf(run.error, sizeof(run.error), "interrupted");
        utc_now(run.fin);
        if (db_run_update(db, &run, &e))
            log_error("cannot record run %lld as interrupted: %s", id, e.msg);
    }
    db_run_release(&run);
    db_close(db);
}

void etl_runner_free(struct etl_runner *r)
{
    if (!r)
        return;
    etl_runner_shutdown(r, (double)r->cfg->shutdown_timeout_s);
    pthread_mutex_lock(&r->mu);
    bool stuck = r->running;
    long long id = r->run_id;
    bool join = r->joinable && !stuck;
    r->joinable = false;
    pthread_mutex_unlock(&r->mu);
    if (stuck) {
        /* The run thread still uses r: record the outcome and leave r to the exiting process. */
        record_interrupted(r, id);
        return;
    }
    if (join)
        pthread_join(r->thread, NULL);
    json_decref(r->last_summary);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

/* Each Bsale attempt into the latency histogram (called on the run thread). */
static void record_attempt(void *arg, const char *path, long status, double secs)
{
    (void)status;
    struct etl_runner *r = arg;
    pthread_mutex_lock(&r->mu);
    sync_metrics_latency(&r->metrics, path, secs);
    pthread_mutex_unlock(&r->mu);
}

static void fill_client_opts(struct etl_runner *r, struct bsale_client_opts *o)
{
    const struct config *cfg = r->cfg;
    memset(o, 0, sizeof(*o));
    o->base_url = cfg->bsale_api_url;
    o->token = cfg->bsale_api_token;
    o->rate_limit = cfg->bsale_rate_limit;
    o->concurrency = cfg->bsale_concurrency;
    o->timeout_s = cfg->bsale_timeout_s;
    o->connect_timeout_s = cfg->bsale_connect_timeout_s;
    o->max_attempts = cfg->bsale_max_attempts;
    o->retry_budget_s = cfg->bsale_retry_budget_s;
    o->page_size = cfg->bsale_page_size;
    o->run_timeout_s = cfg->etl_run_timeout_s;
    o->cancel = &r->cancel;
    o->on_attempt = record_attempt;
    o->attempt_ctx = r;
}

/* Documents re-read one by one per run at most; more wait for the next run. */
#define RECONCILE_MAX 2000

/*
 * Tables whose prune policy is CAT_PRUNE_UNLISTED hold only what Bsale lists
 * now (no state column: a price or a stock row simply disappears). After a
 * complete full sync, rows it did not write are gone from Bsale; so are the
 * lines of a dated record (a reception) it did not write, since a full sync
 * writes every listed one with all its lines. After a daily sync that read
 * stock and prices whole, those of stock and prices.
 */
static bool pruned(const struct cat_table *t)
{
    const struct cat_table *up = t->source.parent ? catalog_by_role(t->source.parent) : NULL;
    return t->prune == CAT_PRUNE_UNLISTED ||
           (t->source.fetch == CAT_FETCH_CHILD && up && up->source.fetch == CAT_FETCH_DATED);
}

static enum err_code prune_unlisted(struct run_job *job, struct err *e)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t i = 0; i < n; i++) {
        enum cat_role role = tables[i]->role;
        bool read_whole = job->plan.master || (job->plan.stock_prices &&
                                               (role == CAT_ROLE_STOCK || role == CAT_ROLE_PRICES));
        if (!pruned(tables[i]) || !read_whole)
            continue;
        enum err_code rc = db_prune_unlisted(job->db, tables[i], job->rec.inicio, e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

/* One pass of a plan: a writer, the plan's streams, the writer drained. */
static enum err_code run_pass(struct run_job *job, struct etl_run_ctx *ctx,
                              const struct etl_plan *plan, struct err *e)
{
    const struct config *cfg = job->r->cfg;
    struct etl_writer_opts wo = {.url = &cfg->db,
                                 .depth = (size_t)cfg->etl_queue_batches,
                                 .counters = &ctx->counters,
                                 .run_id = job->rec.id,
                                 .open = &job->open};
    enum err_code rc = etl_writer_start(&wo, &ctx->writer, e);
    if (!rc)
        rc = etl_plan_execute(ctx, plan, e);
    struct err we = ERR_INIT;
    /* Interrupted: stop at the transaction in progress. Otherwise land what is complete. */
    enum err_code wrc = etl_writer_finish(ctx->writer, rc == ERR_INTERRUPTED, &we);
    ctx->writer = NULL;
    if (!rc && wrc) {
        *e = we;
        rc = wrc;
    }
    return rc;
}

/*
 * Documents of the run's dates that the windows did not list again: re-read
 * each by id. Bsale still has it (offset paging skipped it while data
 * changed): written again. Bsale answers 404 (a deleted non-electronic
 * document): removed with its lines, so the dates equal Bsale's.
 */
static enum err_code reconcile_documents(struct run_job *job, struct etl_run_ctx *ctx,
                                         struct err *e)
{
    free(ctx->gone);
    ctx->gone = NULL;
    ctx->n_gone = ctx->gone_alloc = 0;
    enum err_code rc =
        db_documents_unsynced(job->db, job->docs_from, job->plan.date_to, job->rec.inicio,
                              RECONCILE_MAX, &ctx->gone, &ctx->n_gone, e);
    ctx->gone_alloc = ctx->n_gone;
    if (rc || !ctx->n_gone)
        return rc;
    struct etl_plan verify;
    memset(&verify, 0, sizeof(verify));
    int64_t *ids = ctx->gone;
    verify.verify_ids = ids;
    verify.n_verify = ctx->n_gone;
    verify.fetch_missing_refs = job->plan.fetch_missing_refs;
    ctx->gone = NULL;
    ctx->n_gone = ctx->gone_alloc = 0;
    rc = run_pass(job, ctx, &verify, e);
    if (!rc && ctx->n_gone)
        rc = db_documents_delete(job->db, ctx->gone, ctx->n_gone, e);
    if (!rc)
        log_info("reconciled %zu documents not listed again: %zu deleted in Bsale, %zu re-read",
                 verify.n_verify, ctx->n_gone, verify.n_verify - ctx->n_gone);
    free(ids);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Earlier runs' open incidents; their documents go into the plan's verification list. */
static enum err_code plan_retries(struct run_job *job, struct err *e)
{
    enum err_code rc = etl_open_incidents_load(job->db, &job->open, e);
    if (rc || !job->open.n)
        return rc;
    int64_t *ids = xmalloc(job->open.n * sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < job->open.n && n < RECONCILE_MAX; i++) {
        int64_t doc = etl_incident_document(job->open.v[i].recurso, job->open.v[i].id_recurso);
        if (doc > 0)
            ids[n++] = doc;
    }
    qsort(ids, n, sizeof(*ids), cmp_id);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || ids[u - 1] != ids[i])
            ids[u++] = ids[i];
    job->retry_ids = ids;
    job->plan.verify_ids = ids;
    job->plan.n_verify = u;
    log_info("%zu open incidents of earlier runs: re-reading %zu documents", job->open.n, u);
    return ERR_OK;
}

/* Open incidents about documents Bsale answered 404 for: resolved with their removal. */
static enum err_code resolve_gone(struct run_job *job, struct etl_run_ctx *ctx, struct err *e)
{
    long long *ids = xmalloc((job->open.n ? job->open.n : 1) * sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < job->open.n; i++) {
        int64_t doc = etl_incident_document(job->open.v[i].recurso, job->open.v[i].id_recurso);
        for (size_t k = 0; doc > 0 && k < ctx->n_gone; k++)
            if (ctx->gone[k] == doc) {
                ids[n++] = job->open.v[i].id;
                break;
            }
    }
    char now[20];
    utc_now(now);
    enum err_code rc = db_documents_delete(job->db, ctx->gone, ctx->n_gone, e);
    if (!rc && n)
        rc = db_incidents_resolve(job->db, ids, n, now, e);
    if (!rc) {
        etl_open_incidents_mark(&job->open, ids, n);
        ctx->counters.incidents_resolved += (long long)n;
    }
    free(ids);
    ctx->n_gone = 0;
    return rc;
}

/*
 * The plan's document days from docs_from, as consecutive windows of
 * ETL_BACKFILL_WINDOW_DAYS, each its own pass; once a window has committed,
 * its last day is recorded on the run, where a resumed run starts after it.
 * The first pass also reads everything else of the plan.
 */
static enum err_code run_windows(struct run_job *job, struct etl_run_ctx *ctx, struct err *e)
{
    struct etl_plan w = job->plan;
    if (!w.documents)
        return run_pass(job, ctx, &w, e);
    long step = job->r->cfg->etl_backfill_window_days;
    memcpy(w.date_from, job->docs_from, sizeof(w.date_from));
    if (date_days_between(w.date_from, w.date_to) < 1) /* every day done: the rest of the plan */
        w.documents = false;
    for (bool first = true;; first = false) {
        long left = w.documents ? date_days_between(w.date_from, job->plan.date_to) : 0;
        enum err_code rc = ERR_OK;
        if (left > step)
            rc = date_add(w.date_from, step - 1, w.date_to, e);
        else
            memcpy(w.date_to, job->plan.date_to, sizeof(w.date_to));
        if (!rc)
            rc = run_pass(job, ctx, &w, e);
        if (!rc && w.documents) {
            rc = db_run_completed(job->db, job->rec.id, w.date_to, e);
            memcpy(job->rec.completado_hasta, w.date_to, sizeof(w.date_to));
        }
        if (rc || left <= step)
            return rc;
        if ((rc = date_add(w.date_to, 1, w.date_from, e)))
            return rc;
        if (first) { /* later windows: only their documents */
            w.later_window = true;
            w.whole_lines = job->plan.master;
            w.master = w.stock_prices = w.costs = false;
            w.verify_ids = NULL;
            w.n_verify = 0;
            w.reconcile_from[0] = w.reconcile_to[0] = '\0';
        }
    }
}

static enum err_code execute(struct run_job *job, struct etl_run_ctx *ctx, struct err *e)
{
    struct bsale_client_opts opts = {0};
    fill_client_opts(job->r, &opts);
    enum err_code rc = bsale_client_new(&opts, &ctx->client, e);
    if (!rc)
        rc = plan_retries(job, e);
    if (!rc)
        rc = run_windows(job, ctx, e);
    if (!rc && ctx->n_gone)
        rc = resolve_gone(job, ctx, e);
    if (!rc && (job->plan.master || job->plan.stock_prices))
        rc = prune_unlisted(job, e);
    if (!rc && (job->plan.master || job->plan.stock_prices)) /* stock and prices read whole */
        rc = etl_writer_history(job->db, job->r->cfg->etl_timezone, job->rec.inicio, &ctx->counters,
                                e);
    if (!rc && job->plan.documents)
        rc = reconcile_documents(job, ctx, e);
    if (!rc && ctx->stats.payments_through_id > 0) /* where the next run's payments tail starts */
        rc = db_table_count_through(job->db, catalog_by_role(CAT_ROLE_PAYMENTS),
                                    ctx->stats.payments_through_id,
                                    &ctx->stats.payments_through_count, e);
    free(ctx->gone);
    ctx->gone = NULL;
    if (rc == ERR_INTERRUPTED)
        err_set(e, ERR_INTERRUPTED, "interrupted");
    /* What Bsale sent could not be used (bad item, endless list): a Bsale-side failure. */
    if (rc == ERR_JSON || rc == ERR_LIMIT || rc == ERR_INVALID)
        e->code = rc = ERR_BSALE;
    return rc;
}

/* Called by sync_progress on the run thread, which owns job->db. */
static void persist_progress(void *arg, const struct sync_progress_snap *s)
{
    struct run_job *job = arg;
    struct db_run *rec = &job->rec;
    rec->registros = s->rows;
    rec->solicitudes = s->requests;
    rec->reintentos = s->retries;
    free(rec->progreso);
    rec->progreso = sync_progress_json(s);
    struct err e = ERR_INIT;
    if (db_run_progress(job->db, rec, &e))
        log_warn("cannot record the progress of run %lld: %s", rec->id, e.msg);
}

static void close_record(struct run_job *job, struct etl_run_ctx *ctx, enum err_code rc,
                         const struct err *e, const struct bsale_stats *st, double secs)
{
    struct db_run *rec = &job->rec;
    free(rec->progreso); /* progress is for running runs: the totals below replace it */
    rec->progreso = NULL;
    snprintf(rec->estado, sizeof(rec->estado), "%s", rc ? "failed" : "succeeded");
    utc_now(rec->fin);
    rec->registros = ctx->counters.rows_total;
    rec->solicitudes = st->requests;
    rec->reintentos = st->retries;
    snprintf(rec->error, sizeof(rec->error), "%s", rc ? e->msg : "");
    rec->detalle = sync_summary_detail(&ctx->counters, st, &ctx->stats, secs, rc);
    struct err ue = ERR_INIT;
    if (db_run_update(job->db, rec, &ue))
        log_error("cannot record the end of run %lld: %s", rec->id, ue.msg);
}

static void *run_main(void *arg)
{
    struct run_job *job = arg;
    struct etl_runner *r = job->r;
    log_set_run_id(job->rec.id);
    log_info("%s sync started from=%s to=%s", job->rec.tipo,
             job->plan.date_from[0] ? job->plan.date_from : "-",
             job->plan.date_to[0] ? job->plan.date_to : "-");
    struct etl_run_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.cfg = r->cfg;
    ctx.db = job->db;
    ctx.cancel = &r->cancel;
    ctx.progress.started = job->started;
    ctx.progress.bar = job->req.origin == ETL_ORIGIN_CLI && isatty(STDERR_FILENO) &&
                       r->cfg->log_format == LOG_FORMAT_TEXT;
    ctx.progress.persist = persist_progress;
    ctx.progress.persist_ctx = job;
    pthread_mutex_init(&ctx.counters.mu, NULL);

    struct err e = ERR_INIT;
    enum err_code rc = execute(job, &ctx, &e);
    struct bsale_stats st;
    memset(&st, 0, sizeof(st));
    if (ctx.client)
        bsale_client_stats(ctx.client, &st);
    double secs = clock_monotonic() - job->started;
    close_record(job, &ctx, rc, &e, &st, secs);
    if (rc)
        log_error("%s sync failed after %.1fs: %s", job->rec.tipo, secs, e.msg);
    else
        log_info("%s sync succeeded in %.1fs rows=%lld requests=%lld retries=%lld", job->rec.tipo,
                 secs, ctx.counters.rows_total, st.requests, st.retries);
    if (ctx.counters.incidents)
        log_warn("%lld records are doubtful: incidents recorded in %s for run %lld",
                 ctx.counters.incidents, catalog_by_role(CAT_ROLE_INCIDENTS)->name, job->rec.id);
    etl_open_incidents_release(&job->open);
    free(job->retry_ids);
    json_t *summary = sync_summary_of_run(&job->rec);
    bsale_client_free(ctx.client);
    db_unlock(job->db);
    db_close(job->db);
    db_run_release(&job->rec);
    pthread_mutex_destroy(&ctx.counters.mu);

    pthread_mutex_lock(&r->mu);
    sync_metrics_add(&r->metrics, (int)job->req.kind, rc != ERR_OK, ctx.counters.rows_by_table,
                     ETL_MAX_TABLES, &st, secs);
    json_decref(r->last_summary);
    r->last_summary = summary;
    r->last_code = rc;
    r->last_err = e;
    r->running = false;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    log_set_run_id(0);
    free(job);
    return NULL;
}

/* Opens a connection with the schema ready: migrated when allowed, else checked. */
static enum err_code open_db(const struct config *cfg, bool migrate, struct db **db, struct err *e)
{
    enum err_code rc = db_open(&cfg->db, db, e);
    int version = 0;
    if (!rc)
        rc = migrate ? db_migrate(*db, e) : db_schema_check(*db, &version, e);
    if (rc) {
        db_close(*db);
        *db = NULL;
    }
    return rc;
}

static long long running_run_id(struct db *db)
{
    struct db_run *runs = NULL;
    size_t n = 0;
    long long id = 0;
    struct err e = ERR_INIT;
    if (db_run_list(db, 10, &runs, &n, &e) == ERR_OK) {
        for (size_t i = 0; i < n; i++) {
            if (!id && strcmp(runs[i].estado, "running") == 0)
                id = runs[i].id;
            db_run_release(&runs[i]);
        }
    }
    free(runs);
    return id;
}

/*
 * The newest run of the trigger's kind, when it failed (interrupted, killed,
 * an error) over the same dates with windows committed: this run resumes it
 * from the day after its last, and carries that day on. Otherwise it starts
 * at the plan's first day.
 */
static enum err_code find_resumed(struct run_job *job, struct err *e)
{
    memcpy(job->docs_from, job->plan.date_from, sizeof(job->docs_from));
    if (!job->plan.documents)
        return ERR_OK;
    struct db_run prev;
    memset(&prev, 0, sizeof(prev));
    enum err_code rc = db_run_last_of_kind(job->db, etl_kind_name(job->req.kind), &prev, e);
    if (rc == ERR_NOT_FOUND)
        return ERR_OK;
    if (!rc && strcmp(prev.estado, "failed") == 0 && prev.completado_hasta[0] &&
        strcmp(prev.fecha_desde, job->plan.date_from) == 0 &&
        strcmp(prev.fecha_hasta, job->plan.date_to) == 0) {
        job->rec.reanuda = prev.id;
        memcpy(job->rec.completado_hasta, prev.completado_hasta, sizeof(prev.completado_hasta));
        rc = date_add(prev.completado_hasta, 1, job->docs_from, e);
        if (!rc)
            log_info("resuming run %lld: its documents through %s are stored", prev.id,
                     prev.completado_hasta);
    }
    db_run_release(&prev);
    return rc;
}

/* Takes the database lock and writes the run record; on success job->db holds the lock. */
static enum err_code begin_run(struct run_job *job, long long *busy_id, struct err *e)
{
    const struct config *cfg = job->r->cfg;
    int version = 0;
    enum err_code rc = db_open(&cfg->db, &job->db, e);
    if (rc)
        return rc;
    if ((rc = db_lock(job->db, e))) {
        if (rc == ERR_BUSY)
            *busy_id = running_run_id(job->db);
        else /* e.g. the SQLite lock file cannot be opened: a database-side failure */
            e->code = rc = ERR_DB;
        goto fail;
    }
    /* Migrations run under the lock, so two processes never race on the schema. */
    rc = cfg->etl_auto_migrate ? db_migrate(job->db, e) : db_schema_check(job->db, &version, e);
    if (rc)
        goto unlock;
    if ((rc = db_run_fail_stale(job->db, "abandoned: the process running it stopped", e)))
        goto unlock;
    if ((rc = find_resumed(job, e)))
        goto unlock;
    struct db_run *rec = &job->rec;
    snprintf(rec->tipo, sizeof(rec->tipo), "%s", etl_kind_name(job->req.kind));
    snprintf(rec->origen, sizeof(rec->origen), "%s",
             job->req.origin == ETL_ORIGIN_HTTP ? "http" : "cli");
    snprintf(rec->estado, sizeof(rec->estado), "running");
    utc_now(rec->inicio);
    memcpy(rec->fecha_desde, job->plan.date_from, sizeof(rec->fecha_desde));
    memcpy(rec->fecha_hasta, job->plan.date_to, sizeof(rec->fecha_hasta));
    snprintf(rec->clave, sizeof(rec->clave), "%s",
             job->req.idempotency_key ? job->req.idempotency_key : "");
    job->req.idempotency_key = NULL; /* borrowed from the trigger */
    if ((rc = db_run_insert(job->db, rec, e)))
        goto unlock;
    return ERR_OK;
unlock:
    db_unlock(job->db);
fail:
    db_close(job->db);
    job->db = NULL;
    return rc;
}

static void release_reservation(struct etl_runner *r)
{
    pthread_mutex_lock(&r->mu);
    r->running = false;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

enum err_code etl_runner_start(struct etl_runner *r, const struct etl_request *req,
                               long long *run_id, struct err *e)
{
    *run_id = 0;
    struct run_job *job = xcalloc(1, sizeof(*job));
    job->r = r;
    job->req = *req;
    enum err_code rc = sync_plan_resolve(r->cfg, req, &job->plan, e);
    if (rc) {
        free(job);
        return rc;
    }
    pthread_mutex_lock(&r->mu);
    if (r->closing) {
        pthread_mutex_unlock(&r->mu);
        free(job);
        return err_set(e, ERR_INTERRUPTED, "the service is shutting down");
    }
    if (r->running) {
        *run_id = r->run_id;
        pthread_mutex_unlock(&r->mu);
        free(job);
        return err_set(e, ERR_BUSY, "another sync is running (run %lld)", *run_id);
    }
    if (r->joinable) /* the previous run's thread has finished: reap it */
        pthread_join(r->thread, NULL);
    r->joinable = false;
    r->running = true;
    r->run_id = 0; /* until the record exists: a 409 meanwhile names no finished run */
    atomic_store(&r->cancel, false);
    pthread_mutex_unlock(&r->mu);

    job->started = clock_monotonic();
    if ((rc = begin_run(job, run_id, e))) {
        release_reservation(r);
        free(job);
        if (rc == ERR_BUSY)
            err_set(e, ERR_BUSY, "another sync is running");
        return rc;
    }
    long long id = job->rec.id;
    pthread_mutex_lock(&r->mu);
    r->run_id = id;
    if (pthread_create(&r->thread, NULL, run_main, job) != 0) {
        pthread_mutex_unlock(&r->mu);
        job->rec.error[0] = '\0';
        struct err ue = ERR_INIT;
        snprintf(job->rec.estado, sizeof(job->rec.estado), "failed");
        snprintf(job->rec.error, sizeof(job->rec.error), "cannot start the run thread");
        utc_now(job->rec.fin);
        (void)!db_run_update(job->db, &job->rec, &ue);
        db_unlock(job->db);
        db_close(job->db);
        free(job);
        release_reservation(r);
        return err_set(e, ERR_INTERNAL, "cannot start the run thread");
    }
    r->joinable = true;
    pthread_mutex_unlock(&r->mu);
    *run_id = id;
    return ERR_OK;
}

static enum err_code with_db(struct etl_runner *r, struct db **db, struct err *e);

/* A trigger that asks for what run already is: its kind and resolved dates. */
static bool same_run(const struct db_run *run, const struct etl_request *req,
                     const struct etl_plan *plan)
{
    return strcmp(run->tipo, etl_kind_name(req->kind)) == 0 &&
           strcmp(run->fecha_desde, plan->date_from) == 0 &&
           strcmp(run->fecha_hasta, plan->date_to) == 0;
}

enum err_code etl_runner_join(struct etl_runner *r, const struct etl_request *req,
                              long long *run_id, struct err *e)
{
    *run_id = 0;
    struct etl_plan plan;
    memset(&plan, 0, sizeof(plan));
    enum err_code rc = sync_plan_resolve(r->cfg, req, &plan, e);
    struct db *db = NULL;
    if (!rc)
        rc = with_db(r, &db, e);
    struct db_run run;
    memset(&run, 0, sizeof(run));
    const char *key = req->idempotency_key;
    if (!rc && key && *key) {
        rc = db_run_by_key(db, key, &run, e);
        if (!rc)
            *run_id = run.id;
    }
    if (!*run_id && (!rc || rc == ERR_NOT_FOUND)) {
        db_run_release(&run);
        memset(&run, 0, sizeof(run));
        rc = db_run_running(db, &run, e);
        if (!rc && same_run(&run, req, &plan))
            *run_id = run.id;
    }
    db_run_release(&run);
    db_close(db);
    if (*run_id)
        return ERR_OK;
    return rc && rc != ERR_NOT_FOUND ? rc : err_set(e, ERR_NOT_FOUND, "no such run going");
}

#define REMOTE_POLL_S 0.5

/*
 * A run this process does not run (another instance's, or one recorded before
 * a restart): its record is polled until it ends. Whoever can take the lock
 * meanwhile knows its process is gone and closes it, as begin_run would.
 */
static enum err_code wait_remote(struct etl_runner *r, long long run_id, json_t **summary,
                                 struct err *e)
{
    for (;;) {
        enum err_code rc = etl_runner_get(r, run_id, summary, e);
        const char *status = rc ? NULL : json_string_value(json_object_get(*summary, "status"));
        if (rc || !status || strcmp(status, "running") != 0)
            return rc;
        json_decref(*summary);
        *summary = NULL;
        pthread_mutex_lock(&r->mu);
        bool stop = r->closing, local = r->running && r->run_id == run_id;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            return err_set(e, ERR_INTERRUPTED, "the service is shutting down");
        if (local)
            return etl_runner_wait(r, run_id, summary, e);
        struct db *db = NULL;
        struct err le = ERR_INIT;
        if (db_open(&r->cfg->db, &db, &le) == ERR_OK && db_lock(db, &le) == ERR_OK) {
            if (db_run_fail_stale(db, "abandoned: the process running it stopped", &le))
                log_warn("cannot close abandoned run %lld: %s", run_id, le.msg);
            db_unlock(db);
        }
        db_close(db);
        struct timespec ts = {0, (long)(REMOTE_POLL_S * 1e9)};
        nanosleep(&ts, NULL);
    }
}

enum err_code etl_runner_wait(struct etl_runner *r, long long run_id, json_t **summary,
                              struct err *e)
{
    *summary = NULL;
    pthread_mutex_lock(&r->mu);
    while (r->running && r->run_id == run_id)
        pthread_cond_wait(&r->cv, &r->mu);
    bool mine = r->run_id == run_id && r->last_summary;
    enum err_code rc = ERR_OK;
    if (mine) {
        *summary = json_deep_copy(r->last_summary);
        rc = r->last_code;
        if (rc && e)
            *e = r->last_err;
    }
    pthread_mutex_unlock(&r->mu);
    if (mine)
        return rc;
    /* Not this process's latest run: read (and while it runs, poll) the record instead. */
    if ((rc = wait_remote(r, run_id, summary, e)))
        return rc;
    const char *status = json_string_value(json_object_get(*summary, "status"));
    if (status && strcmp(status, "succeeded") == 0)
        return ERR_OK;
    const char *why = json_string_value(json_object_get(*summary, "error"));
    const char *code = json_string_value(json_object_get(*summary, "error_code"));
    enum err_code failed = err_from_str(code, ERR_INTERNAL);
    if (failed == ERR_OK)
        failed = ERR_INTERNAL;
    return err_set(e, failed, "%s", why ? why : "run failed");
}

void etl_runner_shutdown(struct etl_runner *r, double timeout_s)
{
    if (!r)
        return;
    struct timespec deadline;
    clock_deadline(timeout_s, &deadline);
    pthread_mutex_lock(&r->mu);
    atomic_store(&r->cancel, true);
    r->closing = true;
    while (r->running) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &deadline) == ETIMEDOUT)
            break;
    }
    if (r->running)
        log_warn("sync still running after %.0fs; leaving it to be marked abandoned", timeout_s);
    pthread_mutex_unlock(&r->mu);
}

static enum err_code with_db(struct etl_runner *r, struct db **db, struct err *e)
{
    *db = NULL;
    return open_db(r->cfg, false, db, e);
}

/* The record's summary; a running run's also shows its live progress. */
static json_t *run_summary(const struct db_run *run)
{
    json_t *o = sync_summary_of_run(run);
    json_t *progress = run->progreso ? json_loads(run->progreso, 0, NULL) : NULL;
    if (json_is_object(progress))
        json_object_set(o, "progress", progress);
    json_decref(progress);
    return o;
}

enum err_code etl_runner_list(struct etl_runner *r, int limit, json_t **out, struct err *e)
{
    struct db *db = NULL;
    struct db_run *runs = NULL;
    size_t n = 0;
    enum err_code rc = with_db(r, &db, e);
    if (!rc)
        rc = db_run_list(db, limit, &runs, &n, e);
    if (!rc) {
        *out = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(*out, run_summary(&runs[i]));
    }
    for (size_t i = 0; i < n; i++)
        db_run_release(&runs[i]);
    free(runs);
    db_close(db);
    return rc;
}

enum err_code etl_runner_get(struct etl_runner *r, long long id, json_t **out, struct err *e)
{
    struct db *db = NULL;
    struct db_run run;
    memset(&run, 0, sizeof(run));
    enum err_code rc = with_db(r, &db, e);
    if (!rc)
        rc = db_run_get(db, id, &run, e);
    if (!rc)
        *out = run_summary(&run);
    db_run_release(&run);
    db_close(db);
    return rc;
}

enum err_code etl_runner_ready(struct etl_runner *r, struct err *e)
{
    struct db *db = NULL;
    enum err_code rc = with_db(r, &db, e);
    if (!rc)
        rc = db_ping(db, e);
    db_close(db);
    return rc;
}

static void seed_success(void *arg, const struct db_run *run)
{
    sync_metrics_seed_success(arg, run);
}

/*
 * What the history says, for a process that has not run every kind itself
 * (a cold start): tried until the database answers once.
 */
static void seed_metrics(struct etl_runner *r)
{
    struct etl_metrics seed;
    memset(&seed, 0, sizeof(seed));
    struct db *db = NULL;
    struct db_run *runs = NULL;
    size_t n = 0;
    struct err e = ERR_INIT;
    enum err_code rc = with_db(r, &db, &e);
    if (!rc)
        rc = db_run_last_successes(db, seed_success, &seed, &e);
    if (!rc)
        rc = db_run_list(db, 5, &runs, &n, &e);
    for (size_t i = 0; i < n; i++) {
        if (!rc && strcmp(runs[i].estado, "running") != 0)
            sync_metrics_seed_last_run(&seed, &runs[i]);
        db_run_release(&runs[i]);
    }
    free(runs);
    db_close(db);
    if (rc)
        return;
    pthread_mutex_lock(&r->mu);
    for (int k = 0; k < 2; k++)
        if (seed.last_success_unix[k] > r->metrics.last_success_unix[k]) {
            r->metrics.last_success_unix[k] = seed.last_success_unix[k];
            r->metrics.last_duration_s[k] = seed.last_duration_s[k];
        }
    if (!r->metrics.has_last_run && seed.has_last_run) {
        memcpy(r->metrics.last_run_rows, seed.last_run_rows, sizeof(seed.last_run_rows));
        r->metrics.has_last_run = true;
    }
    r->seeded = true;
    pthread_mutex_unlock(&r->mu);
}

void etl_runner_metrics(struct etl_runner *r, struct etl_metrics *out)
{
    pthread_mutex_lock(&r->mu);
    bool seeded = r->seeded;
    pthread_mutex_unlock(&r->mu);
    if (!seeded)
        seed_metrics(r);
    pthread_mutex_lock(&r->mu);
    *out = r->metrics;
    out->running = r->running;
    pthread_mutex_unlock(&r->mu);
}

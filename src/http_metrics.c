/* Prometheus text rendering of struct etl_metrics; table names come from the catalog. */
#include "common.h"

#include "http_metrics.h"

#include "catalog.h"
#include "version.h"

#define M_PREFIX "patitas_etl_"

static const char *const outcome_names[2] = {"succeeded", "failed"};

static enum err_code family(struct buf *b, const char *name, const char *type, const char *help,
                            struct err *e)
{
    return buf_appendf(b, e, "# HELP " M_PREFIX "%s %s\n# TYPE " M_PREFIX "%s %s\n", name, help,
                       name, type);
}

static enum err_code render_runs(const struct etl_metrics *m, struct buf *b, struct err *e)
{
    enum err_code rc = family(b, "runs_total", "counter", "Finished syncs by type and outcome.", e);
    for (int k = 0; k < 2 && !rc; k++)
        for (int o = 0; o < 2 && !rc; o++)
            rc = buf_appendf(b, e, M_PREFIX "runs_total{type=\"%s\",outcome=\"%s\"} %lld\n",
                             etl_kind_name((enum etl_kind)k), outcome_names[o], m->runs[k][o]);
    return rc;
}

static enum err_code render_rows(const struct etl_metrics *m, struct buf *b, struct err *e)
{
    size_t n = 0;
    const struct cat_table *const *tables = catalog_tables(&n);
    enum err_code rc =
        family(b, "rows_written_total", "counter", "Rows upserted into the warehouse by table.", e);
    for (size_t i = 0; i < n && i < ARRAY_LEN(m->rows_by_table) && !rc; i++)
        rc = buf_appendf(b, e, M_PREFIX "rows_written_total{table=\"%s\"} %lld\n", tables[i]->name,
                         m->rows_by_table[i]);
    return rc;
}

static enum err_code render_bsale(const struct etl_metrics *m, struct buf *b, struct err *e)
{
    enum err_code rc =
        family(b, "bsale_requests_total", "counter", "HTTP requests made to the Bsale API.", e);
    if (!rc)
        rc = buf_appendf(b, e, M_PREFIX "bsale_requests_total %lld\n", m->bsale_requests);
    if (!rc)
        rc = family(b, "bsale_responses_total", "counter",
                    "Bsale API responses by HTTP status (0 = no response).", e);
    for (size_t i = 0; i < m->n_status && i < ARRAY_LEN(m->bsale_by_status) && !rc; i++)
        rc = buf_appendf(b, e, M_PREFIX "bsale_responses_total{status=\"%d\"} %lld\n",
                         m->bsale_by_status[i].status, m->bsale_by_status[i].n);
    if (!rc)
        rc = family(b, "bsale_retries_total", "counter", "Bsale requests retried.", e);
    if (!rc)
        rc = buf_appendf(b, e, M_PREFIX "bsale_retries_total %lld\n", m->bsale_retries);
    if (!rc)
        rc = family(b, "bsale_throttled_total", "counter", "Bsale responses 429 Too Many Requests.",
                    e);
    if (!rc)
        rc = buf_appendf(b, e, M_PREFIX "bsale_throttled_total %lld\n", m->bsale_throttled);
    return rc;
}

static enum err_code render_gauges(const struct etl_metrics *m, struct buf *b, struct err *e)
{
    enum err_code rc = family(b, "last_sync_duration_seconds", "gauge",
                              "Duration of the last finished sync by type.", e);
    for (int k = 0; k < 2 && !rc; k++)
        rc = buf_appendf(b, e, M_PREFIX "last_sync_duration_seconds{type=\"%s\"} %.3f\n",
                         etl_kind_name((enum etl_kind)k), m->last_duration_s[k]);
    if (!rc)
        rc = family(b, "last_success_timestamp_seconds", "gauge",
                    "Unix time of the last successful sync by type (0 = never).", e);
    for (int k = 0; k < 2 && !rc; k++)
        rc = buf_appendf(b, e, M_PREFIX "last_success_timestamp_seconds{type=\"%s\"} %.3f\n",
                         etl_kind_name((enum etl_kind)k), m->last_success_unix[k]);
    if (!rc)
        rc = family(b, "sync_running", "gauge", "1 while a sync runs in this process.", e);
    if (!rc)
        rc = buf_appendf(b, e, M_PREFIX "sync_running %d\n", m->running ? 1 : 0);
    return rc;
}

/* Cumulative buckets per resource, as Prometheus histograms are. */
static enum err_code render_latency(const struct etl_metrics *m, struct buf *b, struct err *e)
{
    enum err_code rc = family(b, "bsale_request_duration_seconds", "histogram",
                              "Latency of Bsale API attempts by resource.", e);
    for (size_t i = 0; i < m->n_latency && i < ARRAY_LEN(m->latency) && !rc; i++) {
        const struct sync_latency *l = &m->latency[i];
        long long cum = 0;
        for (size_t k = 0; k < SYNC_LATENCY_BUCKETS && !rc; k++) {
            cum += l->in_bucket[k];
            rc = buf_appendf(b, e,
                             M_PREFIX "bsale_request_duration_seconds_bucket{resource=\"%s\","
                                      "le=\"%g\"} %lld\n",
                             l->resource, sync_latency_bound(k), cum);
        }
        if (!rc)
            rc = buf_appendf(b, e,
                             M_PREFIX
                             "bsale_request_duration_seconds_bucket{resource=\"%s\","
                             "le=\"+Inf\"} %lld\n" M_PREFIX
                             "bsale_request_duration_seconds_sum{resource=\"%s\"} %.6f\n" M_PREFIX
                             "bsale_request_duration_seconds_count{resource=\"%s\"} %lld\n",
                             l->resource, l->count, l->resource, l->sum, l->resource, l->count);
    }
    return rc;
}

static enum err_code render_last_run(const struct etl_metrics *m, struct buf *b, struct err *e)
{
    size_t n = 0;
    const struct cat_table *const *tables = catalog_tables(&n);
    enum err_code rc =
        family(b, "last_run_rows", "gauge", "Rows written per table by the last finished sync.", e);
    for (size_t i = 0; m->has_last_run && i < n && i < ARRAY_LEN(m->last_run_rows) && !rc; i++)
        rc = buf_appendf(b, e, M_PREFIX "last_run_rows{table=\"%s\"} %lld\n", tables[i]->name,
                         m->last_run_rows[i]);
    return rc;
}

static enum err_code render_build(struct buf *b, struct err *e)
{
    enum err_code rc = buf_appendf(b, e,
                                   "# HELP patitas_build_info The running build (always 1).\n"
                                   "# TYPE patitas_build_info gauge\n");
    if (!rc)
        rc = buf_appendf(b, e, "patitas_build_info{version=\"%s\"} 1\n", petl_version());
    return rc;
}

enum err_code metrics_render(const struct etl_metrics *m, struct buf *out, struct err *e)
{
    enum err_code rc = render_build(out, e);
    if (!rc)
        rc = render_runs(m, out, e);
    if (!rc)
        rc = render_rows(m, out, e);
    if (!rc)
        rc = render_bsale(m, out, e);
    if (!rc)
        rc = render_latency(m, out, e);
    if (!rc)
        rc = render_gauges(m, out, e);
    if (!rc)
        rc = render_last_run(m, out, e);
    return rc;
}

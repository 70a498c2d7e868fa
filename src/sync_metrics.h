/*
 * Process-wide sync counters for /metrics, and how one finished run adds to
 * them. The runner keeps one struct under its lock; readers get a copy.
 */
#ifndef PETL_SYNC_METRICS_H
#define PETL_SYNC_METRICS_H

#include "common.h"

#include <stddef.h>

struct bsale_stats;
struct db_run;

/* Upper bounds (s) of the Bsale latency histogram's buckets, ascending; +Inf follows. */
#define SYNC_LATENCY_BUCKETS 10
static inline double sync_latency_bound(size_t k)
{
    static const double bounds[SYNC_LATENCY_BUCKETS] = {0.05, 0.1, 0.25, 0.5, 1,
                                                        2.5,  5,   10,   30,  60};
    return k < SYNC_LATENCY_BUCKETS ? bounds[k] : 1e300;
}

/* Bsale request latency of one resource ("documents", "price_lists/details"). */
struct sync_latency {
    char resource[48];
    long long in_bucket[SYNC_LATENCY_BUCKETS]; /* attempts in each bucket (not cumulative) */
    long long count;                           /* all attempts, those over the last bound too */
    double sum;
};

/* Process-wide counters for /metrics. */
struct etl_metrics {
    long long runs[2][2];        /* [kind][0 succeeded, 1 failed] */
    long long rows_by_table[32]; /* indexed like catalog_tables() */
    long long bsale_requests;
    long long bsale_retries;
    long long bsale_throttled;
    struct {
        int status;
        long long n;
    } bsale_by_status[16];
    size_t n_status;
    double last_duration_s[2];   /* [kind] */
    double last_success_unix[2]; /* [kind], 0 = never */
    bool running;
    struct sync_latency latency[24]; /* by resource, in order of first use */
    size_t n_latency;
    long long last_run_rows[32]; /* rows per table of the last finished run */
    bool has_last_run;
};

/* Adds one finished run of kind (0 full, 1 daily): its rows per table, Bsale's stats, duration. */
void sync_metrics_add(struct etl_metrics *m, int kind, bool failed, const long long *rows_by_table,
                      size_t n_tables, const struct bsale_stats *st, double secs);

/* One Bsale attempt on path ("/documents/12/details.json": resource "documents/details"). */
void sync_metrics_latency(struct etl_metrics *m, const char *path, double secs);
/* path's resource: its segments without ids and ".json", joined by '/'. */
void sync_metrics_resource(const char *path, char *dst, size_t n);
/*
 * After a restart, from etl_ejecuciones: a succeeded run's time and duration
 * (kept when newer than what m has), and the rows per table of the last
 * finished run (when m has none yet).
 */
void sync_metrics_seed_success(struct etl_metrics *m, const struct db_run *run);
void sync_metrics_seed_last_run(struct etl_metrics *m, const struct db_run *run);

#endif

/*
 * Process-wide sync counters for /metrics, and how one finished run adds to
 * them. The runner keeps one struct under its lock; readers get a copy.
 */
#ifndef PETL_SYNC_METRICS_H
#define PETL_SYNC_METRICS_H

#include "common.h"

#include <stddef.h>

struct bsale_stats;

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
};

/* Adds one finished run of kind (0 full, 1 daily): its rows per table, Bsale's stats, duration. */
void sync_metrics_add(struct etl_metrics *m, int kind, bool failed, const long long *rows_by_table,
                      size_t n_tables, const struct bsale_stats *st, double secs);

#endif

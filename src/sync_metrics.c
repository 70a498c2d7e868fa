/* Aggregation of finished runs into the process-wide /metrics counters. */
#include "common.h"

#include "bsale_client.h"
#include "sync_metrics.h"

#include <time.h>

void sync_metrics_add(struct etl_metrics *m, int kind, bool failed, const long long *rows_by_table,
                      size_t n_tables, const struct bsale_stats *st, double secs)
{
    m->runs[kind][failed ? 1 : 0]++;
    for (size_t i = 0; i < n_tables && i < ARRAY_LEN(m->rows_by_table); i++)
        m->rows_by_table[i] += rows_by_table[i];
    m->bsale_requests += st->requests;
    m->bsale_retries += st->retries;
    m->bsale_throttled += st->throttled;
    for (size_t i = 0; i < st->n_status; i++) {
        size_t k = 0;
        while (k < m->n_status && m->bsale_by_status[k].status != st->by_status[i].status)
            k++;
        if (k == m->n_status) {
            if (k == ARRAY_LEN(m->bsale_by_status))
                continue;
            m->bsale_by_status[k].status = st->by_status[i].status;
            m->n_status++;
        }
        m->bsale_by_status[k].n += st->by_status[i].n;
    }
    m->last_duration_s[kind] = secs;
    if (!failed)
        m->last_success_unix[kind] = (double)time(NULL);
}

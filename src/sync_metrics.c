/* Aggregation of finished runs into the process-wide /metrics counters. */
#include "common.h"

#include "bsale_client.h"
#include "catalog.h"
#include "db.h"
#include "sync_metrics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    for (size_t i = 0; i < n_tables && i < ARRAY_LEN(m->last_run_rows); i++)
        m->last_run_rows[i] = rows_by_table[i];
    m->has_last_run = true;
    m->last_duration_s[kind] = secs;
    if (!failed)
        m->last_success_unix[kind] = (double)time(NULL);
}

void sync_metrics_resource(const char *path, char *dst, size_t n)
{
    size_t k = 0;
    dst[0] = '\0';
    while (*path) {
        path += strspn(path, "/");
        size_t len = strcspn(path, "/?");
        bool id = len > 0 && strspn(path, "0123456789") == len;
        size_t keep = len > 5 && strncmp(path + len - 5, ".json", 5) == 0 ? len - 5 : len;
        if (keep && !id && k + keep + 2 < n) {
            k += (size_t)snprintf(dst + k, n - k, "%s%.*s", k ? "/" : "", (int)keep, path);
        }
        path += len;
        if (*path == '?')
            break;
    }
}

void sync_metrics_latency(struct etl_metrics *m, const char *path, double secs)
{
    char res[sizeof(m->latency[0].resource)];
    sync_metrics_resource(path, res, sizeof(res));
    size_t i = 0;
    while (i < m->n_latency && strcmp(m->latency[i].resource, res) != 0)
        i++;
    if (i == m->n_latency) {
        if (i == ARRAY_LEN(m->latency))
            i--; /* more resources than slots: the last slot takes the rest */
        else
            snprintf(m->latency[m->n_latency++].resource, sizeof(res), "%s", res);
    }
    struct sync_latency *l = &m->latency[i];
    size_t b = 0;
    while (b < SYNC_LATENCY_BUCKETS && secs > sync_latency_bound(b))
        b++;
    if (b < SYNC_LATENCY_BUCKETS)
        l->in_bucket[b]++;
    l->count++;
    l->sum += secs;
}

/* "YYYY-MM-DD HH:MM:SS" UTC as Unix time; 0 when unreadable. */
static double unix_of(const char *utc)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(utc, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm);
}

void sync_metrics_seed_success(struct etl_metrics *m, const struct db_run *run)
{
    int kind = strcmp(run->tipo, "full") == 0 ? 0 : strcmp(run->tipo, "daily") == 0 ? 1 : -1;
    double end = unix_of(run->fin), start = unix_of(run->inicio);
    if (kind < 0 || end <= m->last_success_unix[kind])
        return;
    m->last_success_unix[kind] = end;
    if (start > 0 && end >= start)
        m->last_duration_s[kind] = end - start;
}

void sync_metrics_seed_last_run(struct etl_metrics *m, const struct db_run *run)
{
    json_t *d = run->detalle ? json_loads(run->detalle, 0, NULL) : NULL;
    json_t *rows = json_object_get(d, "rows");
    if (m->has_last_run || !json_is_object(rows)) {
        json_decref(d);
        return;
    }
    size_t n = 0;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t i = 0; i < n && i < ARRAY_LEN(m->last_run_rows); i++)
        m->last_run_rows[i] = json_integer_value(json_object_get(rows, tables[i]->name));
    m->has_last_run = true;
    json_decref(d);
}

/*
 * Payments, exactly once (docs/reliability.md, Payments exactly once): a
 * full sync pages the whole /payments.json; a daily sync adds to its day
 * windows the tail of that list, from the stored count on, accepted only
 * while it proves itself ordered by id past the newest stored payment, and
 * otherwise pages the whole list.
 */
#include "common.h"

#define LOG_MODULE "sync"
#include "db.h"
#include "db_sync.h"
#include "etl_plan_parts.h"
#include "json_util.h"
#include "log.h"
#include "transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs looked back at for the latest succeeded one. */
#define LAST_RUNS 50

/* The largest id of items, kept as the run's watermark: the next tail starts there. */
static void note_through(struct etl_run_ctx *run, json_t *items)
{
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        int64_t id;
        if (json_util_int64(json_object_get(item, "id"), &id) &&
            id > run->stats.payments_through_id)
            run->stats.payments_through_id = id;
    }
}

static enum err_code on_whole_journal_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    s->run->stats.payments_whole_requests++;
    note_through(s->run, json_object_get(page, "items"));
    return plan_on_list_page(p, page, e);
}

/* The whole list: a full sync's way, and the daily tail's fallback. */
static void queue_whole_journal(struct etl_run_ctx *run, int table)
{
    const struct cat_table *t = etl_batch_rows(run->pending, table)->table;
    plan_queue_stream(run, t->source.path, NULL, on_whole_journal_page,
                      plan_stream_new(run, table, 0));
}

static void journal_fallback(struct etl_run_ctx *run, int table, const char *why)
{
    struct journal *j = &run->plan_state->pay;
    if (j->fallback)
        return;
    j->fallback = true;
    run->stats.payments_fallback = true;
    log_warn("payments: %s; paging the whole list instead of its tail", why);
    queue_whole_journal(run, table);
}

static void queue_tail_page(struct etl_run_ctx *run, struct stream_ctx *s);

/* Why a tail page does not prove the list ordered by id past the newest stored payment. */
static bool tail_unproven(struct journal *j, json_t *items, bool first, char *why, size_t n)
{
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        int64_t id;
        if (!json_util_int64(json_object_get(item, "id"), &id)) {
            snprintf(why, n, "a tail item has no usable id");
            return true;
        }
        if (first && i == 0 && id > j->max_id) {
            snprintf(why, n, "the item at offset %lld (id %lld) is past the last run's (%lld)",
                     j->offset, (long long)id, (long long)j->max_id);
            return true;
        }
        if (id <= j->last_id) {
            snprintf(why, n, "ids are not ascending (%lld after %lld)", (long long)id,
                     (long long)j->last_id);
            return true;
        }
        j->last_id = id;
    }
    return false;
}

static enum err_code on_tail_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    struct journal *j = &run->plan_state->pay;
    enum err_code rc = plan_check_cancel(run, e);
    if (rc || j->fallback)
        return rc;
    run->stats.payments_tail_requests++;
    bool first = j->offset == j->stored - 1;
    json_t *items = json_object_get(page, "items");
    int64_t count;
    char why[160];
    if (!json_is_array(items) || !json_util_int64(json_object_get(page, "count"), &count))
        snprintf(why, sizeof(why), "a tail page is not a list page");
    else if (!json_array_size(items) && (first || j->offset < count))
        snprintf(why, sizeof(why), "an empty tail page at offset %lld of %lld", j->offset,
                 (long long)count);
    else if (!tail_unproven(j, items, first, why, sizeof(why))) {
        if ((rc = transform_page(run->pending, s->table, items, 0, e)))
            return rc;
        note_through(run, items);
        long long got = (long long)json_array_size(items);
        j->offset += got;
        /* Past count only while pages come full: a count that is too low (docs/bsale-api.md). */
        if (got && (j->offset < count || got >= run->cfg->bsale_page_size))
            queue_tail_page(run, s);
        return plan_after_page(run, e);
    }
    journal_fallback(run, s->table, why);
    return ERR_OK;
}

/* A tail page by count/offset, read as one object so it can start at any offset. */
static void queue_tail_page(struct etl_run_ctx *run, struct stream_ctx *s)
{
    const struct cat_table *t = etl_batch_rows(run->pending, s->table)->table;
    char query[64];
    snprintf(query, sizeof(query), "limit=%ld&offset=%lld", run->cfg->bsale_page_size,
             run->plan_state->pay.offset);
    bsale_queue_get(run->client, t->source.path, query, on_tail_page, s);
}

/* The watermark of the latest succeeded run and its count (0 when none recorded one). */
static enum err_code last_through(struct etl_run_ctx *run, int64_t *through, long long *count,
                                  struct err *e)
{
    struct db_run *runs = NULL;
    size_t n = 0;
    *through = 0;
    enum err_code rc = db_run_list(run->db, LAST_RUNS, &runs, &n, e);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (!rc && !found && strcmp(runs[i].estado, "succeeded") == 0) {
            found = true;
            json_t *d = runs[i].detalle ? json_loads(runs[i].detalle, 0, NULL) : NULL;
            json_t *pay = json_object_get(d, "payments");
            int64_t c = 0;
            if (!json_util_int64(json_object_get(pay, "through_id"), through) ||
                !json_util_int64(json_object_get(pay, "through_count"), &c) || *through < 0)
                *through = 0;
            *count = c;
            json_decref(d);
        }
        db_run_release(&runs[i]);
    }
    free(runs);
    return rc;
}

/*
 * Payments created since the last run, "" dated ones too: the unfiltered
 * list from the last succeeded run's watermark W on (at offset K - 1, K the
 * payments stored with ids up to W: W itself when the list is ordered by
 * id), proven ascending as it is read; else the whole list
 * (docs/reliability.md, Payments exactly once).
 */
static enum err_code queue_tail(struct etl_run_ctx *run, int table, struct err *e)
{
    struct journal *j = &run->plan_state->pay;
    const struct cat_table *t = etl_batch_rows(run->pending, table)->table;
    long long then = 0;
    enum err_code rc = last_through(run, &j->max_id, &then, e);
    if (!rc && j->max_id > 0)
        rc = db_table_count_through(run->db, t, j->max_id, &j->stored, e);
    if (rc)
        return rc;
    char why[160];
    if (j->max_id < 1 || j->stored < 1)
        snprintf(why, sizeof(why), "no earlier run recorded where the list stood");
    else if (j->stored != then) /* rows up to W were lost or added since: positions moved */
        snprintf(why, sizeof(why), "%lld payments up to id %lld are stored, %lld were", j->stored,
                 (long long)j->max_id, then);
    else
        why[0] = '\0';
    if (why[0]) {
        journal_fallback(run, table, why);
        return ERR_OK;
    }
    j->offset = j->stored - 1;
    queue_tail_page(run, plan_stream_new(run, table, 0));
    return ERR_OK;
}

enum err_code sync_journal_queue(struct etl_run_ctx *run, const struct etl_plan *plan,
                                 struct err *e)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t t = 0; t < n; t++) {
        if (tables[t]->source.fetch != CAT_FETCH_JOURNAL)
            continue;
        if (plan->master) {
            queue_whole_journal(run, (int)t);
            continue;
        }
        enum err_code rc = queue_tail(run, (int)t, e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

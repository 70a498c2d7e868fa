/* What one run fetches, and the context its streams run in. */
#ifndef PETL_ETL_PLAN_H
#define PETL_ETL_PLAN_H

#include "common.h"
#include "bsale_client.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "etl_batch.h"
#include "etl_writer.h"
#include "sync_progress.h"

#include <stdatomic.h>

/* What one run must fetch. */
struct etl_plan {
    bool master; /* master-data streams */
    /* Stock and price-list details read whole on a daily sync too (a full sync reads them). */
    bool stock_prices;
    bool documents;          /* document windows for [date_from, date_to] */
    bool fetch_missing_refs; /* fetch clients/variants that documents reference but we lack */
    /*
     * Variant costs: those without a stored cost and the least recently read
     * 1/ETL_COST_REFRESH_DAYS of them (a full or plain daily sync). Any run
     * reads the costs of variants in reception details no succeeded run stored.
     */
    bool costs;
    char date_from[11];
    char date_to[11];
    /* A backfill's window after the first: only its documents (and their payments and
     * references); master data, the payments list and the moves came with the first. */
    bool later_window;
    bool whole_lines;          /* reads every document's lines, as a full sync does */
    const int64_t *verify_ids; /* documents to re-read one by one (reconciliation) */
    size_t n_verify;
    /* Days checked against a light list, re-reading only what changed ("" = none). */
    char reconcile_from[11];
    char reconcile_to[11];
};

/* What the plan's cheaper reads cost and found, for the run summary's detail. */
struct etl_plan_stats {
    long long reconcile_requests; /* light list pages and by-id re-reads */
    long long reconcile_pages;
    long long reconcile_listed;
    long long reconcile_changed;       /* listed and stored, but different: re-read */
    long long reconcile_missing;       /* listed, not stored: re-read */
    long long reconcile_unlisted;      /* stored, no longer listed: verified by id */
    long long payments_tail_requests;  /* pages of the payments tail */
    long long payments_whole_requests; /* pages of the whole payments list */
    bool payments_fallback; /* the tail was not proven ordered: the whole list was read */
    /* The largest payment id read from the unfiltered list: every one up to it is stored once
     * the run succeeds, so the next daily sync's tail starts there (0 = not read). */
    int64_t payments_through_id;
    long long payments_through_count; /* payments stored with ids up to it, as the run ends */
    long long moves_requests;  /* receptions, consumptions, returns: list pages and line reads */
    long long extras_requests; /* pages of documents' taxes and sellers read through links */
    long long extras_unread;   /* documents whose taxes or sellers were links left unread */
};

/* Context of a running sync, used by the plan's callbacks. */
struct etl_run_ctx {
    const struct config *cfg;
    struct db *db; /* the run thread's connection (holds the lock) */
    struct bsale_client *client;
    struct etl_writer *writer;
    struct etl_counters counters;
    struct etl_batch *pending;         /* batch being filled */
    struct etl_plan_state *plan_state; /* owned by etl_plan.c during etl_plan_execute */
    atomic_bool *cancel;
    struct sync_progress progress; /* started, last report, bar or log lines */
    double last_ping;
    struct etl_plan_stats stats;
    int64_t *gone; /* verified documents Bsale answered 404 for (owned) */
    size_t n_gone, gone_alloc;
};

/* Queues every stream of plan on ctx->client and runs them to completion. */
enum err_code etl_plan_execute(struct etl_run_ctx *ctx, const struct etl_plan *plan,
                               struct err *e) MUST_CHECK;

#endif

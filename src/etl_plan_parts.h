/*
 * The plan's shared pieces, for the files that make up the plan: etl_plan.c
 * (streams, documents and their lines, verification, the reconcile's list),
 * sync_journal.c (payments) and sync_references.c (document types and
 * references). Not for use outside the plan.
 */
#ifndef PETL_ETL_PLAN_PARTS_H
#define PETL_ETL_PLAN_PARTS_H

#include "common.h"
#include "bsale_client.h"
#include "etl_plan.h"
#include "id_set.h"

#include <jansson.h>

/* One stream's context: the table its pages go to and the list's path, for incidents. */
struct stream_ctx {
    struct etl_run_ctx *run;
    int table;
    int64_t parent;
    char path[64]; /* the list's path, for incidents */
    struct stream_ctx *next;
};

/* Where the payments tail is read: from the last run's watermark on, ids ascending. */
struct journal {
    int64_t max_id;   /* the last succeeded run's watermark W */
    long long stored; /* payments stored with ids up to W */
    long long offset; /* of the next tail page */
    int64_t last_id;  /* the last id read; the next must be greater */
    bool fallback;    /* the whole list was queued instead */
};

struct doc_wait;
struct ref_wait;
struct child_read;
struct sync_reconcile;
struct sync_costs;

struct etl_plan_state {
    struct stream_ctx *streams;
    struct doc_wait *waits;    /* still waiting */
    struct doc_wait *finished; /* done, freed when the plan ends */
    size_t n_waits;
    struct id_set known[2]; /* clients, variants already checked this run */
    bool whole_list[2];     /* the whole list was queued instead of single GETs */
    bool fetch_missing_refs;
    struct sync_reconcile *reconcile; /* the light list's items, while it is read */
    char reconcile_from[11], reconcile_to[11];
    const struct etl_plan *plan;
    struct id_set types_known; /* document types the run knows (warehouse or list) */
    struct id_set types_noted; /* of those, credit and debit notes: their references are read */
    struct ref_wait *ref_waits;
    struct journal pay;
    struct child_read *child_reads; /* sync_moves.c: lists read whole through their links */
    struct sync_costs *costs;       /* sync_costs.c */
};

/* A new stream context, freed when the plan ends. */
struct stream_ctx *plan_stream_new(struct etl_run_ctx *run, int table, int64_t parent);
/* Hands the batch being filled to the writer when it is big enough (always when force). */
enum err_code plan_flush(struct etl_run_ctx *run, bool force, struct err *e) MUST_CHECK;
enum err_code plan_check_cancel(struct etl_run_ctx *run, struct err *e) MUST_CHECK;
/* After each page: progress, the run connection kept alive, a flush when due. */
enum err_code plan_after_page(struct etl_run_ctx *run, struct err *e) MUST_CHECK;
/* A record that does not add up: logged, and an incident in the batch being filled. */
void plan_doubtful(struct etl_run_ctx *run, const char *resource, int64_t id, const char *fmt, ...)
    PRINTF_FMT(4, 5);
/* Stream callbacks: a page into the stream's table; a list that may lack records; a bad item. */
enum err_code plan_on_list_page(void *p, json_t *page, struct err *e);
enum err_code plan_on_stream_end(void *p, const struct bsale_list_end *end, struct err *e);
enum err_code plan_on_stream_bad(void *p, const char *path, long offset, const char *cause,
                                 struct err *e);
/* Queues a list whose pages go to fn with s, and whose end is checked. */
void plan_queue_stream(struct etl_run_ctx *run, const char *path, const char *query,
                       bsale_json_fn fn, struct stream_ctx *s);
/* The document types are known: queues the document windows, the reconcile, the re-reads. */
enum err_code plan_types_known(struct etl_run_ctx *run, struct err *e) MUST_CHECK;

/* sync_journal.c: the payments of a full sync (the whole list) or a daily one (the tail). */
enum err_code sync_journal_queue(struct etl_run_ctx *run, const struct etl_plan *plan,
                                 struct err *e) MUST_CHECK;

/* sync_references.c: the stored types, then /document_types.json; plan_types_known at its end. */
enum err_code sync_references_queue_types(struct etl_run_ctx *run, struct err *e) MUST_CHECK;
/* Reads doc's references through its link when it has some and they are not embedded whole. */
void sync_references_read(struct etl_run_ctx *run, json_t *doc, int64_t doc_id);
/* Frees what the references reads kept. */
void sync_references_release(struct etl_plan_state *ps);

/* sync_moves.c: receptions, consumptions and returns: whole lists (full) or the window (daily). */
enum err_code sync_moves_queue(struct etl_run_ctx *run, const struct etl_plan *plan,
                               struct err *e) MUST_CHECK;
/* Reads doc's taxes and sellers through their links when cut, or per ETL_DOCUMENT_EXTRAS. */
void sync_moves_document_extras(struct etl_run_ctx *run, json_t *doc, int64_t doc_id);
/* Frees what the movement and extras reads kept. */
void sync_moves_release(struct etl_plan_state *ps);
/*
 * sync_costs.c: variant costs, one background read per variant. start loads
 * what the warehouse holds (a daily sync queues its reads there); a full
 * sync's products and variants pages and ends go to on_page / on_end; scan
 * looks at the batch being filled for new reception details, batch_sent
 * when that batch goes to the writer.
 */
enum err_code sync_costs_start(struct etl_run_ctx *run, struct err *e) MUST_CHECK;
void sync_costs_on_page(struct stream_ctx *s, json_t *items);
void sync_costs_on_end(struct stream_ctx *s);
enum err_code sync_costs_scan(struct etl_run_ctx *run, struct err *e) MUST_CHECK;
void sync_costs_batch_sent(struct etl_run_ctx *run);
void sync_costs_release(struct etl_plan_state *ps);

#endif

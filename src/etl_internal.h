/*
 * Private to the sync engine (etl*.c, transform.c): the batch that crosses
 * from the fetch thread to the writer thread, the bounded queue between them,
 * and a run's shared counters.
 */
#ifndef PETL_ETL_INTERNAL_H
#define PETL_ETL_INTERNAL_H

#include "common.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "etl.h"

#include <pthread.h>
#include <stdatomic.h>

#define ETL_MAX_TABLES 32

/* resource_id of an incident whose record id itself was unreadable (stored as NULL). */
#define ETL_NO_ID (-1)

/* A record a run could not map or verify: one etl_incidencias row. */
struct etl_incident {
    char *resource;      /* Bsale path, "/documents/123/details.json" (owned) */
    int64_t resource_id; /* the record's Bsale id; < 0 (ETL_NO_ID) when unreadable */
    char *problem;       /* owned; never a secret nor a huge raw value */
};

/* Rows for several tables that must land in one transaction. */
struct etl_batch {
    struct cat_rows rows[ETL_MAX_TABLES]; /* indexed like catalog_tables() */
    size_t n_rows;                        /* total over every table */
    size_t n_docs;                        /* complete documents inside */
    int64_t *doc_ids;                     /* documents whose lines are replaced (owned) */
    size_t doc_alloc;
    struct etl_incident *incidents; /* written with the rows, in the same transaction (owned) */
    size_t n_incidents, incident_alloc;
};

struct etl_batch *etl_batch_new(void);
void etl_batch_free(struct etl_batch *b);
/* Index of table name in catalog_tables(), or -1. */
int etl_table_index(const char *name);
struct cat_rows *etl_batch_rows(struct etl_batch *b, int table_index);
void etl_batch_add_doc(struct etl_batch *b, int64_t doc_id);
/*
 * Records an incident about one record: resource is the Bsale path it came
 * from, resource_id its id or a negative value (ETL_NO_ID) when the id was
 * unreadable. The writer stores it with the run's id in the batch's
 * transaction. The problem text is capped; never pass a secret or a raw value.
 */
void etl_batch_add_incident(struct etl_batch *b, const char *resource, int64_t resource_id,
                            const char *fmt, ...) PRINTF_FMT(4, 5);

/*
 * The kind of record a Bsale path names: its non-numeric segments without
 * ".json" ("/documents/12/details.json" -> "documents/details"). Same kind and
 * id = same record, whichever path read it.
 */
void etl_resource_kind(const char *path, char *out, size_t n);
/* The document a path or incident is about (the id after "/documents/"), or -1. */
int64_t etl_incident_document(const char *resource, int64_t resource_id);

/*
 * Open incidents of earlier runs, read when a run starts. A batch that writes
 * one of their records (same kind and id) without a new incident for it marks
 * them resolved in its transaction.
 */
struct etl_open_ref {
    int table; /* catalog index of the record's kind */
    int64_t id;
    long long incident_id;
    bool resolved;
    /* An incident without an id under a document's path ("/documents/12/details.json"):
     * keyed by that document, resolved when it is written again without such an incident. */
    const char *keyless_resource; /* borrowed from v[], NULL for ordinary refs */
};
struct etl_open_incidents {
    struct db_incident *v; /* as read (owned) */
    size_t n;
    struct etl_open_ref *refs; /* sorted by (table, id): those a write can resolve (owned) */
    size_t n_refs;
    pthread_mutex_t mu; /* refs[].resolved, set by writers */
};
enum err_code etl_open_incidents_load(struct db *db, struct etl_open_incidents *o,
                                      struct err *e) MUST_CHECK;
void etl_open_incidents_release(struct etl_open_incidents *o);
/* Incident ids of open refs that batch b resolves (*ids owned, may be NULL when *n == 0). */
void etl_open_incidents_match(struct etl_open_incidents *o, const struct etl_batch *b,
                              long long **ids, size_t *n);
/* Marks ids resolved in memory once their transaction committed. */
void etl_open_incidents_mark(struct etl_open_incidents *o, const long long *ids, size_t n);

/* A run's counters, shared by the fetch thread, the writer and progress logs. */
struct etl_counters {
    pthread_mutex_t mu;
    long long rows_by_table[ETL_MAX_TABLES];
    long long rows_total;
    long long docs;
    long long incidents;          /* raised by this run: records stored doubtful or skipped */
    long long incidents_resolved; /* earlier runs' incidents this run resolved */
};

/*
 * The writer: a thread owning its own database connection, fed through a
 * bounded queue. etl_writer_push blocks while the queue is full and fails
 * once the writer has failed, so the fetcher stops early.
 */
struct etl_writer;
struct etl_writer_opts {
    const struct db_url *url;
    size_t depth;                    /* batches queued at most */
    struct etl_counters *counters;   /* borrowed */
    long long run_id;                /* etl_incidencias.id_ejecucion */
    struct etl_open_incidents *open; /* borrowed, may be NULL */
};
enum err_code etl_writer_start(const struct etl_writer_opts *opts, struct etl_writer **out,
                               struct err *e) MUST_CHECK;
/* Steals b (also on failure). */
enum err_code etl_writer_push(struct etl_writer *w, struct etl_batch *b, struct err *e) MUST_CHECK;
/* Drains the queue (or discards it when abort), joins, closes; returns the writer's first error. */
enum err_code etl_writer_finish(struct etl_writer *w, bool abort, struct err *e) MUST_CHECK;

/* What one run must fetch. */
struct etl_plan {
    bool master;             /* master-data streams */
    bool documents;          /* document windows for [date_from, date_to] */
    bool fetch_missing_refs; /* fetch clients/variants that documents reference but we lack */
    char date_from[11];
    char date_to[11];
    const int64_t *verify_ids; /* documents to re-read one by one (reconciliation) */
    size_t n_verify;
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
    double started;
    double last_progress;
    double last_ping;
    int64_t *gone; /* verified documents Bsale answered 404 for (owned) */
    size_t n_gone, gone_alloc;
    bool progress_bar;
};

/* Queues every stream of plan on ctx->client and runs them to completion. */
enum err_code etl_plan_execute(struct etl_run_ctx *ctx, const struct etl_plan *plan,
                               struct err *e) MUST_CHECK;

#endif

/* The writer thread and the counters a run shares between its threads. */
#ifndef PETL_ETL_WRITER_H
#define PETL_ETL_WRITER_H

#include "common.h"
#include "db.h"
#include "db_url.h"
#include "err.h"
#include "etl_batch.h"
#include "etl_incidents.h"

#include <pthread.h>

/* A run's counters, shared by the fetch thread, the writer and progress logs. */
struct etl_counters {
    pthread_mutex_t mu;
    long long rows_by_table[ETL_MAX_TABLES];
    long long rows_total;
    long long docs;
    long long incidents;          /* raised by this run: records stored doubtful or skipped */
    long long incidents_resolved; /* earlier runs' incidents this run resolved */
    /*
     * The run's first write stamp. When a writer ends, rows_by_table of each
     * table it wrote becomes the rows stamped since (a row written twice in
     * the run counts once) and rows_total their sum.
     */
    char since[20];
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

/*
 * After a plan that read stock and prices whole: stock_historial for the
 * store's today in tz, precios_historial as of run_at (the run's start, UTC),
 * both counted in c. db is the run's connection.
 */
enum err_code etl_writer_history(struct db *db, const char *tz, const char *run_at,
                                 struct etl_counters *c, struct err *e) MUST_CHECK;

#endif

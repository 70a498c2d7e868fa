/*
 * A run's progress, every few seconds: a log line, or a redrawn bar on a
 * terminal (CLI runs). Reads the client's stats and the run's counters.
 */
#ifndef PETL_SYNC_PROGRESS_H
#define PETL_SYNC_PROGRESS_H

#include "common.h"
#include "etl_writer.h"

struct bsale_client;

/* One reading of a run's progress. */
struct sync_progress_snap {
    long long pages, pages_total; /* list pages done / known to be needed so far */
    long long rows, requests, retries;
    double req_s, eta_s; /* eta_s < 0: unknown */
    double secs;         /* since the run started */
};

/* Stores a snapshot where other processes can read it (the run's record). */
typedef void (*sync_progress_persist_fn)(void *ctx, const struct sync_progress_snap *s);

struct sync_progress {
    double started;                   /* clock_monotonic() at the run's start */
    double last;                      /* of the last report */
    bool bar;                         /* a terminal bar (CLI runs on a tty) instead of log lines */
    sync_progress_persist_fn persist; /* NULL = not persisted */
    void *persist_ctx;
    double last_persist;
};

/* Every this many seconds, and at the first page, a running run persists its progress. */
#define SYNC_PROGRESS_PERSIST_S 2.0

/* The snapshot as JSON text (etl_ejecuciones.progreso). Owned (free). */
char *sync_progress_json(const struct sync_progress_snap *s);

/* Reports unless the last report is recent; final always reports (and ends the bar's line). */
void sync_progress(struct sync_progress *p, struct bsale_client *client,
                   struct etl_counters *counters, bool final);

#endif

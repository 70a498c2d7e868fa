/*
 * A run's progress, every few seconds: a log line, or a redrawn bar on a
 * terminal (CLI runs). Reads the client's stats and the run's counters.
 */
#ifndef PETL_SYNC_PROGRESS_H
#define PETL_SYNC_PROGRESS_H

#include "common.h"
#include "etl_writer.h"

struct bsale_client;

struct sync_progress {
    double started; /* clock_monotonic() at the run's start */
    double last;    /* of the last report */
    bool bar;       /* a terminal bar (CLI runs on a tty) instead of log lines */
};

/* Reports unless the last report is recent; final always reports (and ends the bar's line). */
void sync_progress(struct sync_progress *p, struct bsale_client *client,
                   struct etl_counters *counters, bool final);

#endif

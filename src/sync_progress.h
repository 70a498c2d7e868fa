/*
 * A run's progress, every few seconds: a log line, or a redrawn bar on a
 * terminal (CLI runs). Reads the client's stats and the run's counters.
 */
#ifndef PETL_SYNC_PROGRESS_H
#define PETL_SYNC_PROGRESS_H

#include "common.h"
#include "etl_internal.h"

/* Reports unless the last report is recent; final always reports (and ends the bar's line). */
void sync_progress(struct etl_run_ctx *run, bool final);

#endif

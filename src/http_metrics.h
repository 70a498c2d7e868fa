/*
 * Prometheus text exposition (format 0.0.4) of the runner's counters.
 * Pure rendering: knows nothing of HTTP or of how the counters are kept.
 */
#ifndef PETL_HTTP_METRICS_H
#define PETL_HTTP_METRICS_H

#include "common.h"
#include "buf.h"
#include "err.h"
#include "sync_runner.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends every metric family, each with # HELP and # TYPE, to out. */
enum err_code metrics_render(const struct etl_metrics *m, struct buf *out,
                             struct err *e) MUST_CHECK;

#endif

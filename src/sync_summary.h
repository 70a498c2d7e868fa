/* A run's JSON summary and the detail JSON stored with its record. */
#ifndef PETL_SYNC_SUMMARY_H
#define PETL_SYNC_SUMMARY_H

#include "common.h"
#include "db.h"
#include "err.h"
#include "etl_writer.h"

#include <jansson.h>

struct bsale_stats;
struct etl_plan_stats;

/* The summary of a recorded run (owned, json_decref). */
json_t *sync_summary_of_run(const struct db_run *rec);
/*
 * etl_ejecuciones.detalle of a run that ends with rc: rows per table, pages,
 * the reconcile's and the payments tail's requests (ps)... Owned (free).
 */
char *sync_summary_detail(const struct etl_counters *c, const struct bsale_stats *st,
                          const struct etl_plan_stats *ps, double secs, enum err_code rc);

#endif

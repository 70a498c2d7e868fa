/*
 * The read-only queries behind `patitas-etl report`: row counts, the latest
 * runs and the best sellers of a day. Rows come back through db_row_fn with
 * text cells, so the CLI only formats them.
 */
#ifndef PETL_DB_REPORT_H
#define PETL_DB_REPORT_H

#include "common.h"
#include "catalog.h"
#include "db.h"
#include "err.h"

/* Rows in t, as the text the database returns. */
enum err_code db_report_count(struct db *db, const struct cat_table *t, char out[24],
                              struct err *e) MUST_CHECK;
/* The latest fecha_emision of any document, "" when there is none. */
enum err_code db_report_latest_sale_day(struct db *db, char out[11], struct err *e) MUST_CHECK;
/*
 * Products sold on day (active documents, credit notes excluded) by total,
 * at most limit: producto, variante, unidades, total.
 */
enum err_code db_report_best_sellers(struct db *db, const char *day, int limit, db_row_fn row,
                                     void *ctx, struct err *e) MUST_CHECK;
/* The latest runs, newest first: id, tipo, origen, estado, inicio, desde, hasta, registros,
 * solicitudes, reintentos, error. */
enum err_code db_report_runs(struct db *db, int limit, db_row_fn row, void *ctx,
                             struct err *e) MUST_CHECK;

#endif

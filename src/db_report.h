/*
 * The read-only queries behind `patitas-etl report` and the status page: row
 * counts, the latest runs, the best sellers of a day, open incidents, daily
 * sales. Rows come back through db_row_fn with text cells, so callers only
 * format them.
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
/* The latest successful end per run type: tipo, fin. */
enum err_code db_report_last_success(struct db *db, db_row_fn row, void *ctx,
                                     struct err *e) MUST_CHECK;
/* How many incidents are open (resuelto_en NULL). */
enum err_code db_report_open_incident_count(struct db *db, char out[24], struct err *e) MUST_CHECK;
/* The newest open incidents first, at most limit: id, id_ejecucion, recurso, id_recurso,
 * problema, creado_en. */
enum err_code db_report_latest_incidents(struct db *db, int limit, db_row_fn row, void *ctx,
                                         struct err *e) MUST_CHECK;
/*
 * Per emission day in from..to (valid dates) with any active document: fecha, documentos
 * (active documents, credit notes included) and neto (monto_total summed, credit notes
 * subtracted); voided documents (estado != 0) are left out. Days without documents are absent.
 */
enum err_code db_report_daily_sales(struct db *db, const char *from, const char *to, db_row_fn row,
                                    void *ctx, struct err *e) MUST_CHECK;

#endif

/*
 * The derived tables a run writes from what it read, in set-based SQL:
 * stock_historial (a copy of stock under the store's date) and
 * precios_historial (a row per price a variant held in a list, opened and
 * closed as prices change). Also the count of a table's rows a run stamped,
 * so a run's summary counts each row once however often it was written.
 */
#ifndef PETL_DB_HISTORY_H
#define PETL_DB_HISTORY_H

#include "common.h"
#include "catalog.h"
#include "db.h"
#include "err.h"

/*
 * Copies every stock row into stock_historial under day ("YYYY-MM-DD"),
 * replacing that day's rows (a second run the same day overwrites it), in
 * one transaction; rows stamped synced_at.
 */
enum err_code db_history_stock(struct db *db, const char *day, const char *synced_at,
                               struct err *e) MUST_CHECK;

/*
 * Brings precios_historial up to precios as of at ("YYYY-MM-DD HH:MM:SS"
 * UTC), in one transaction: an open row (valido_hasta NULL) whose price
 * changed, or whose price is gone from precios, is closed at at; a price with
 * no open row gets one from at. An unchanged price changes nothing. A row
 * opened at at itself (a second run within the same second) is corrected in
 * place. Rows written are stamped synced_at.
 */
enum err_code db_history_prices(struct db *db, const char *at, const char *synced_at,
                                struct err *e) MUST_CHECK;

/* Rows of t with sincronizado_en at or after since: those a run wrote, each once. */
enum err_code db_count_since(struct db *db, const struct cat_table *t, const char *since,
                             long long *count, struct err *e) MUST_CHECK;

#endif

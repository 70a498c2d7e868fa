/*
 * What the variant costs' plan asks of the warehouse: which variants it
 * holds with their stock flags, and which costs it holds, oldest read first.
 */
#ifndef PETL_DB_COSTS_H
#define PETL_DB_COSTS_H

#include "common.h"
#include "db.h"
#include "err.h"

/* Every stored variant: fn gets id_bsale, the product's controla_stock and stock_ilimitado. */
enum err_code db_costs_variants(struct db *db, db_row_fn fn, void *ctx, struct err *e) MUST_CHECK;

/* Every stored cost's id_variante, least recently written first (ties by id). */
enum err_code db_costs_stored(struct db *db, db_row_fn fn, void *ctx, struct err *e) MUST_CHECK;

#endif

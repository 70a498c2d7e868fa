/*
 * What the variant costs' plan asks of the warehouse: which variants it
 * holds with their stock flags, which costs it holds, oldest read first, and
 * which reception details a succeeded run already stored.
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

/* When the last succeeded run ended ("YYYY-MM-DD HH:MM:SS" UTC), "" when none has. */
enum err_code db_costs_last_success(struct db *db, char out[20], struct err *e) MUST_CHECK;

/*
 * Of the reception details ids[0..n), those a succeeded run stored: written
 * at or before through (its end). fn gets each one's id_bsale.
 */
enum err_code db_costs_settled_details(struct db *db, const int64_t *ids, size_t n,
                                       const char *through, db_row_fn fn, void *ctx,
                                       struct err *e) MUST_CHECK;

#endif

/*
 * The variant costs' questions to the warehouse, in portable SQL. Table
 * names come from the catalog.
 */
#include "common.h"

#include "catalog.h"
#include "db_costs.h"

#include <stdio.h>

enum err_code db_costs_variants(struct db *db, db_row_fn fn, void *ctx, struct err *e)
{
    char sql[320];
    snprintf(sql, sizeof(sql),
             "SELECT v.id_bsale, p.controla_stock, v.stock_ilimitado FROM %s v "
             "LEFT JOIN %s p ON p.id_bsale = v.id_producto ORDER BY v.id_bsale",
             catalog_by_role(CAT_ROLE_VARIANTS)->name, catalog_by_role(CAT_ROLE_PRODUCTS)->name);
    return db_query(db, sql, fn, ctx, e);
}

enum err_code db_costs_stored(struct db *db, db_row_fn fn, void *ctx, struct err *e)
{
    char sql[200];
    snprintf(sql, sizeof(sql), "SELECT id_variante FROM %s ORDER BY sincronizado_en, id_variante",
             catalog_by_role(CAT_ROLE_VARIANT_COSTS)->name);
    return db_query(db, sql, fn, ctx, e);
}

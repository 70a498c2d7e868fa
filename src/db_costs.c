/*
 * The variant costs' questions to the warehouse, in portable SQL. Table
 * names come from the catalog.
 */
#include "common.h"

#include "buf.h"
#include "catalog.h"
#include "db_costs.h"

#include <stdio.h>
#include <string.h>

/* Ids per IN list. */
#define IN_CHUNK 500

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

static int copy_first(void *p, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    if (ncols >= 1 && cells[0])
        snprintf(p, 20, "%s", cells[0]);
    return 0;
}

enum err_code db_costs_last_success(struct db *db, char out[20], struct err *e)
{
    char sql[160];
    *out = '\0';
    snprintf(sql, sizeof(sql), "SELECT MAX(fin) FROM %s WHERE estado = 'succeeded'",
             catalog_by_role(CAT_ROLE_RUNS)->name);
    return db_query(db, sql, copy_first, out, e);
}

enum err_code db_costs_settled_details(struct db *db, const int64_t *ids, size_t n,
                                       const char *through, db_row_fn fn, void *ctx, struct err *e)
{
    if (!*through || strspn(through, "0123456789-: ") != strlen(through))
        return ERR_OK; /* no run succeeded yet: nothing is settled */
    struct buf sql;
    buf_init(&sql, 0);
    enum err_code rc = ERR_OK;
    for (size_t off = 0; off < n && !rc; off += IN_CHUNK) {
        buf_reset(&sql);
        (void)buf_appendf(&sql, NULL,
                          "SELECT id_bsale FROM %s WHERE sincronizado_en <= '%s' AND "
                          "id_bsale IN (",
                          catalog_by_role(CAT_ROLE_RECEPTION_DETAILS)->name, through);
        for (size_t i = off; i < n && i < off + IN_CHUNK; i++)
            (void)buf_appendf(&sql, NULL, "%s%lld", i > off ? "," : "", (long long)ids[i]);
        (void)buf_appendf(&sql, NULL, ")");
        rc = db_query(db, sql.data, fn, ctx, e);
    }
    buf_release(&sql);
    return rc;
}

/* Report queries in portable SQL; table names come from the catalog. */
#include "common.h"

#include "db_report.h"

#include <stdio.h>

static int take_first_cell(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    char *out = ctx;
    snprintf(out, 11, "%s", ncols > 0 && cells[0] ? cells[0] : "");
    return 0;
}

static int take_count(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    char *out = ctx;
    snprintf(out, 24, "%s", ncols > 0 && cells[0] ? cells[0] : "");
    return 0;
}

enum err_code db_report_count(struct db *db, const struct cat_table *t, char out[24], struct err *e)
{
    char sql[128];
    out[0] = '\0';
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", t->name);
    return db_query(db, sql, take_count, out, e);
}

enum err_code db_report_latest_sale_day(struct db *db, char out[11], struct err *e)
{
    char sql[128];
    out[0] = '\0';
    snprintf(sql, sizeof(sql), "SELECT MAX(fecha_emision) FROM %s",
             catalog_by_role(CAT_ROLE_DOCUMENTS)->name);
    return db_query(db, sql, take_first_cell, out, e);
}

enum err_code db_report_best_sellers(struct db *db, const char *day, int limit, db_row_fn row,
                                     void *ctx, struct err *e)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT p.nombre AS producto, v.descripcion AS variante, SUM(d.cantidad) AS unidades, "
             "SUM(d.monto_total) AS total FROM %s d "
             "JOIN %s dv ON dv.id_bsale = d.id_documento "
             "LEFT JOIN %s t ON t.id_bsale = dv.id_tipo_documento "
             "LEFT JOIN %s v ON v.id_bsale = d.id_variante "
             "LEFT JOIN %s p ON p.id_bsale = v.id_producto "
             "WHERE dv.fecha_emision = '%.10s' AND dv.estado = 0 "
             "AND COALESCE(t.es_nota_credito, 0) = 0 "
             "GROUP BY p.nombre, v.descripcion ORDER BY total DESC LIMIT %d",
             catalog_by_role(CAT_ROLE_LINES)->name, catalog_by_role(CAT_ROLE_DOCUMENTS)->name,
             catalog_by_role(CAT_ROLE_DOCUMENT_TYPES)->name,
             catalog_by_role(CAT_ROLE_VARIANTS)->name, catalog_by_role(CAT_ROLE_PRODUCTS)->name,
             day, limit);
    return db_query(db, sql, row, ctx, e);
}

enum err_code db_report_runs(struct db *db, int limit, db_row_fn row, void *ctx, struct err *e)
{
    char sql[320];
    snprintf(sql, sizeof(sql),
             "SELECT id, tipo, origen, estado, inicio, fecha_desde AS desde, fecha_hasta AS hasta, "
             "registros, solicitudes, reintentos, error FROM %s ORDER BY id DESC LIMIT %d",
             catalog_by_role(CAT_ROLE_RUNS)->name, limit);
    return db_query(db, sql, row, ctx, e);
}

enum err_code db_report_last_success(struct db *db, db_row_fn row, void *ctx, struct err *e)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT tipo, MAX(fin) AS fin FROM %s WHERE estado = 'succeeded' "
             "GROUP BY tipo ORDER BY tipo",
             catalog_by_role(CAT_ROLE_RUNS)->name);
    return db_query(db, sql, row, ctx, e);
}

enum err_code db_report_open_incident_count(struct db *db, char out[24], struct err *e)
{
    char sql[160];
    out[0] = '\0';
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE resuelto_en IS NULL",
             catalog_by_role(CAT_ROLE_INCIDENTS)->name);
    return db_query(db, sql, take_count, out, e);
}

enum err_code db_report_latest_incidents(struct db *db, int limit, db_row_fn row, void *ctx,
                                         struct err *e)
{
    char sql[320];
    snprintf(sql, sizeof(sql),
             "SELECT id, id_ejecucion, recurso, id_recurso, problema, creado_en FROM %s "
             "WHERE resuelto_en IS NULL ORDER BY id DESC LIMIT %d",
             catalog_by_role(CAT_ROLE_INCIDENTS)->name, limit);
    return db_query(db, sql, row, ctx, e);
}

enum err_code db_report_daily_sales(struct db *db, const char *from, const char *to, db_row_fn row,
                                    void *ctx, struct err *e)
{
    char sql[768];
    snprintf(sql, sizeof(sql),
             "SELECT d.fecha_emision AS fecha, COUNT(*) AS documentos, "
             "SUM(CASE WHEN COALESCE(t.es_nota_credito, 0) = 1 THEN -d.monto_total "
             "ELSE d.monto_total END) AS neto FROM %s d "
             "LEFT JOIN %s t ON t.id_bsale = d.id_tipo_documento "
             "WHERE d.estado = 0 AND d.fecha_emision BETWEEN '%.10s' AND '%.10s' "
             "GROUP BY d.fecha_emision ORDER BY d.fecha_emision",
             catalog_by_role(CAT_ROLE_DOCUMENTS)->name,
             catalog_by_role(CAT_ROLE_DOCUMENT_TYPES)->name, from, to);
    return db_query(db, sql, row, ctx, e);
}

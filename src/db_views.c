/* The calendar table and the analysts' views (docs/reportes.md describes the rules). */
#include "common.h"

#include "db_views.h"

#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- dim_fecha ---- */

static const char *const month_names[] = {"enero",      "febrero", "marzo",     "abril",
                                          "mayo",       "junio",   "julio",     "agosto",
                                          "septiembre", "octubre", "noviembre", "diciembre"};
static const char *const day_names[] = {"lunes",   "martes", "miércoles", "jueves",
                                        "viernes", "sábado", "domingo"};

/* Bounds-checked lookups: the analyzer cannot follow the cursor's ranges. */
static const char *month_name(int m)
{
    return m >= 1 && m <= 12 ? month_names[m - 1] : "";
}

static const char *day_name(int dow)
{
    return dow >= 1 && dow <= 7 ? day_names[dow - 1] : "";
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* ISO weekday (1 = Monday) of a civil date, from its day number (1970-01-01, a Thursday, is 0). */
static int iso_weekday(int y, int m, int d)
{
    /* days_from_civil (H. Hinnant): March-based years, so February ends the year */
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long days = (long)era * 146097 + doe - 719468;
    return (int)(((days % 7) + 7 + 3) % 7) + 1;
}

static int iso_weeks_in_year(int y)
{
    int jan1 = iso_weekday(y, 1, 1);
    return jan1 == 4 || (is_leap(y) && jan1 == 3) ? 53 : 52;
}

static int iso_week(int y, int m, int d, int dow)
{
    int doy = d;
    for (int i = 1; i < m; i++)
        doy += days_in_month(y, i);
    int wk = (doy - dow + 10) / 7;
    if (wk < 1)
        return iso_weeks_in_year(y - 1);
    if (wk > iso_weeks_in_year(y))
        return 1;
    return wk;
}

int db_calendar_days(void)
{
    int n = 0;
    for (int y = DB_CALENDAR_FIRST_YEAR; y <= DB_CALENDAR_LAST_YEAR; y++)
        n += is_leap(y) ? 366 : 365;
    return n;
}

void db_calendar_start(struct db_calendar_cursor *c)
{
    c->y = DB_CALENDAR_FIRST_YEAR;
    c->m = 1;
    c->d = 1;
}

static void append_day(struct buf *sql, bool first, const struct db_calendar_cursor *c)
{
    int y = c->y, m = c->m, d = c->d, dow = iso_weekday(y, m, d);
    if (first)
        (void)buf_append_str(
            sql,
            "INSERT INTO dim_fecha (fecha, anio, mes, dia, dia_semana, semana_iso, "
            "trimestre, nombre_mes, nombre_dia, es_fin_de_semana) VALUES ",
            NULL);
    (void)buf_appendf(sql, NULL, "%s('%04d-%02d-%02d',%d,%d,%d,%d,%d,%d,'%s','%s',%d)",
                      first ? "" : ",", y, m, d, y, m, d, dow, iso_week(y, m, d, dow),
                      (m - 1) / 3 + 1, month_name(m), day_name(dow), dow >= 6);
}

static void next_day(struct db_calendar_cursor *c)
{
    if (++c->d <= days_in_month(c->y, c->m))
        return;
    c->d = 1;
    if (++c->m <= 12)
        return;
    c->m = 1;
    c->y++;
}

bool db_calendar_insert(struct db_calendar_cursor *c, struct buf *sql)
{
    sql->len = 0;
    sql->data[0] = '\0';
    int rows = 0;
    for (; rows < DB_CALENDAR_ROWS_PER_INSERT && c->y <= DB_CALENDAR_LAST_YEAR; rows++) {
        append_day(sql, rows == 0, c);
        next_day(c);
    }
    return rows > 0;
}

/* ---- views ---- */

/*
 * A line is dropped when a line of another active document that is not a
 * credit note carries it (id_detalle_relacionado): a nota de venta turned
 * into a boleta is counted once, in the boleta.
 */
static const char v_ventas_sql[] =
    "CREATE VIEW v_ventas AS SELECT d.id_bsale AS id_detalle, d.id_documento, "
    "doc.fecha_emision AS fecha, doc.id_sucursal, doc.id_tipo_documento, doc.id_cliente, "
    "doc.id_usuario, d.id_variante, p.nombre AS producto, v.descripcion AS variante, d.cantidad, "
    "d.monto_neto, d.monto_total, "
    "CASE WHEN COALESCE(t.es_nota_credito, 0) = 1 THEN -1 ELSE 1 END AS signo "
    "FROM detalles_venta d "
    "JOIN documentos_venta doc ON doc.id_bsale = d.id_documento "
    "LEFT JOIN tipos_documento t ON t.id_bsale = doc.id_tipo_documento "
    "LEFT JOIN variantes v ON v.id_bsale = d.id_variante "
    "LEFT JOIN productos p ON p.id_bsale = v.id_producto "
    "WHERE doc.estado = 0 AND NOT EXISTS (SELECT 1 FROM detalles_venta d2 "
    "JOIN documentos_venta doc2 ON doc2.id_bsale = d2.id_documento "
    "LEFT JOIN tipos_documento t2 ON t2.id_bsale = doc2.id_tipo_documento "
    "WHERE d2.id_detalle_relacionado = d.id_bsale AND d2.id_documento <> d.id_documento "
    "AND doc2.estado = 0 AND COALESCE(t2.es_nota_credito, 0) = 0)";

static const char v_ventas_diarias_sql[] =
    "CREATE VIEW v_ventas_diarias AS SELECT fecha, id_sucursal, id_tipo_documento, "
    "COUNT(DISTINCT id_documento) * MAX(signo) AS documentos, SUM(signo * monto_neto) AS neto, "
    "SUM(signo * (monto_total - monto_neto)) AS impuestos, SUM(signo * monto_total) AS total "
    "FROM v_ventas GROUP BY fecha, id_sucursal, id_tipo_documento";

static const char v_stock_actual_sql[] =
    "CREATE VIEW v_stock_actual AS SELECT s.id_variante, s.id_sucursal, "
    "v.id_producto, p.nombre AS producto, v.descripcion AS variante, v.codigo, s.cantidad, "
    "s.cantidad_reservada, s.cantidad_disponible "
    "FROM stock s LEFT JOIN variantes v ON v.id_bsale = s.id_variante "
    "LEFT JOIN productos p ON p.id_bsale = v.id_producto";

/*
 * Cost is the variant's current average cost (costos_variante) times the
 * line's units; a variant without a cost row has NULL cost and margin, never
 * 0. Amounts are the line's, unsigned, with v_ventas' signo: a credit note's
 * line subtracts its margin through SUM(signo * margen).
 */
static const char v_margen_sql[] =
    "CREATE VIEW v_margen AS SELECT v.id_detalle, v.id_documento, v.fecha, v.id_sucursal, "
    "v.id_tipo_documento, v.id_cliente, v.id_usuario, v.id_variante, v.producto, v.variante, "
    "v.cantidad, v.monto_neto, c.costo_promedio AS costo_unitario, "
    "c.costo_promedio * v.cantidad AS costo, "
    "v.monto_neto - c.costo_promedio * v.cantidad AS margen, "
    "CASE WHEN v.monto_neto <> 0 THEN "
    "ROUND(100.0 * (v.monto_neto - c.costo_promedio * v.cantidad) / v.monto_neto, 2) "
    "END AS margen_pct, v.signo "
    "FROM v_ventas v LEFT JOIN costos_variante c ON c.id_variante = v.id_variante";

/*
 * A credit document is an active document, not a credit note, that a
 * client-credit payment type paid, or that a credit payment settles
 * (pagos_documentos). Paid: its other active payments plus the settlements.
 */
#define CXC_HEAD                                                                                   \
    "CREATE VIEW v_cuentas_por_cobrar AS SELECT doc.id_bsale AS id_documento, doc.id_cliente, "    \
    "doc.id_sucursal, doc.id_tipo_documento, doc.numero, doc.fecha_emision, "                      \
    "doc.monto_total AS total, COALESCE(pg.monto, 0) + COALESCE(pd.monto, 0) AS pagado, "          \
    "doc.monto_total - COALESCE(pg.monto, 0) - COALESCE(pd.monto, 0) AS saldo, "
#define CXC_DAYS_SQLITE                                                                            \
    "CAST(julianday('now') - julianday(doc.fecha_emision) AS INTEGER) AS dias_desde_emision "
#define CXC_DAYS_MYSQL "DATEDIFF(UTC_DATE(), doc.fecha_emision) AS dias_desde_emision "
#define CXC_TAIL                                                                                   \
    "FROM documentos_venta doc "                                                                   \
    "LEFT JOIN tipos_documento t ON t.id_bsale = doc.id_tipo_documento "                           \
    "LEFT JOIN (SELECT p.id_documento, SUM(p.monto) AS monto FROM pagos p "                        \
    "LEFT JOIN formas_pago f ON f.id_bsale = p.id_forma_pago "                                     \
    "WHERE p.estado = 0 AND p.id_documento IS NOT NULL AND COALESCE(f.es_credito_cliente, 0) = 0 " \
    "GROUP BY p.id_documento) pg ON pg.id_documento = doc.id_bsale "                               \
    "LEFT JOIN (SELECT x.id_documento, SUM(x.monto) AS monto FROM pagos_documentos x "             \
    "JOIN pagos p ON p.id_bsale = x.id_pago WHERE p.estado = 0 "                                   \
    "GROUP BY x.id_documento) pd ON pd.id_documento = doc.id_bsale "                               \
    "WHERE doc.estado = 0 AND COALESCE(t.es_nota_credito, 0) = 0 AND ("                            \
    "EXISTS (SELECT 1 FROM pagos c JOIN formas_pago cf ON cf.id_bsale = c.id_forma_pago "          \
    "WHERE c.id_documento = doc.id_bsale AND c.estado = 0 AND cf.es_credito_cliente = 1) "         \
    "OR EXISTS (SELECT 1 FROM pagos_documentos y WHERE y.id_documento = doc.id_bsale))"

static const char v_cxc_sqlite_sql[] = CXC_HEAD CXC_DAYS_SQLITE CXC_TAIL;
static const char v_cxc_mysql_sql[] = CXC_HEAD CXC_DAYS_MYSQL CXC_TAIL;

/* Dependants first: v_ventas_diarias and v_margen read v_ventas. */
static const char *const view_names[] = {"v_ventas_diarias", "v_margen", "v_ventas",
                                         "v_stock_actual", "v_cuentas_por_cobrar"};

const char *db_view_name(size_t i)
{
    return i < ARRAY_LEN(view_names) ? view_names[i] : NULL;
}

/* In creation order: v_ventas before v_ventas_diarias and v_margen. */
const char *db_view_sql(size_t i, bool mysql)
{
    const char *const sql[] = {v_ventas_sql, v_ventas_diarias_sql, v_margen_sql, v_stock_actual_sql,
                               mysql ? v_cxc_mysql_sql : v_cxc_sqlite_sql};
    return i < ARRAY_LEN(sql) ? sql[i] : NULL;
}

/*
 * stock_historial and precios_historial from stock and precios, in portable
 * set-based SQL (the upserts take the backend's dialect from db_sql.c), so
 * the work and the memory do not grow with the store's size in C.
 */
#include "common.h"

#include "buf.h"
#include "db_history.h"
#include "db_sql.h"
#include "parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* The only values formatted into the SQL: dates and stamps whose every character is checked. */
static bool matches(const char *s, const char *shape)
{
    size_t n = strlen(shape);
    if (!s || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == '9' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    return true;
}

#define DAY_SHAPE "9999-99-99"
#define STAMP_SHAPE "9999-99-99 99:99:99"

static const struct db_dialect *dialect(const struct db *db)
{
    return strcmp(db_backend_name(db), "mysql") == 0 ? &db_sql_mysql : &db_sql_sqlite;
}

/* Runs statements sql[0..n) in one transaction. */
static enum err_code run_in_txn(struct db *db, struct buf *sql, size_t n, struct err *e)
{
    enum err_code rc = db_begin(db, e);
    for (size_t i = 0; i < n && !rc; i++)
        rc = db_query(db, sql[i].data, NULL, NULL, e);
    if (!rc)
        return db_commit(db, e);
    struct err ignored = ERR_INIT;
    (void)db_rollback(db, &ignored);
    return rc;
}

static void release_all(struct buf *sql, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_release(&sql[i]);
}

/* ---- stock_historial ---- */

enum err_code db_history_stock(struct db *db, const char *day, const char *synced_at, struct err *e)
{
    if (!matches(day, DAY_SHAPE) || !matches(synced_at, STAMP_SHAPE))
        return err_set(e, ERR_INTERNAL, "stock history: bad date or stamp");
    const struct cat_table *h = catalog_by_role(CAT_ROLE_STOCK_HISTORY);
    const char *s = catalog_by_role(CAT_ROLE_STOCK)->name;
    struct buf sql[2];
    buf_init(&sql[0], 0);
    buf_init(&sql[1], 0);
    /* The day is the snapshot of the latest run: rows stock no longer has leave it too. */
    (void)buf_appendf(&sql[0], NULL,
                      "DELETE FROM %s WHERE fecha = '%s' AND NOT EXISTS (SELECT 1 FROM %s s "
                      "WHERE s.id_variante = %s.id_variante AND s.id_sucursal = %s.id_sucursal)",
                      h->name, day, s, h->name, h->name);
    /* WHERE 1 = 1: SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT. */
    (void)buf_appendf(&sql[1], NULL,
                      "INSERT INTO %s (fecha, id_variante, id_sucursal, cantidad, "
                      "cantidad_reservada, cantidad_disponible, sincronizado_en) "
                      "SELECT '%s', id_variante, id_sucursal, cantidad, cantidad_reservada, "
                      "cantidad_disponible, '%s' FROM %s WHERE 1 = 1",
                      h->name, day, synced_at, s);
    db_sql_upsert_suffix(&sql[1], dialect(db), h);
    enum err_code rc = run_in_txn(db, sql, ARRAY_LEN(sql), e);
    release_all(sql, ARRAY_LEN(sql));
    return rc ? err_prefix(e, "stock history for %s", day) : ERR_OK;
}

/* ---- precios_historial ---- */

/* Conditions on a precios row p against the history row h (the history table's own name). */
#define SAME_KEY "p.id_lista_precio = %1$s.id_lista_precio AND p.id_variante = %1$s.id_variante"
#define SAME_VALUE(c) "(p." c " = %1$s." c " OR (p." c " IS NULL AND %1$s." c " IS NULL))"
#define SAME_PRICE                                                                                 \
    SAME_KEY " AND " SAME_VALUE("valor_neto") " AND " SAME_VALUE("valor_con_impuestos")

/* An open row opened at `at` itself whose price changed since: corrected in place. */
static void price_correct_sql(struct buf *b, const char *h, const char *p, const char *at,
                              const char *synced_at)
{
    (void)buf_appendf(
        b, NULL,
        "UPDATE %1$s SET valor_neto = (SELECT p.valor_neto FROM %2$s p WHERE " SAME_KEY
        "), valor_con_impuestos = (SELECT p.valor_con_impuestos FROM %2$s p WHERE " SAME_KEY
        "), sincronizado_en = '%4$s' WHERE valido_hasta IS NULL "
        "AND valido_desde = '%3$s' AND EXISTS (SELECT 1 FROM %2$s p WHERE " SAME_KEY
        ") AND NOT EXISTS (SELECT 1 FROM %2$s p WHERE " SAME_PRICE ")",
        h, p, at, synced_at);
}

/* An open row whose price changed, or is gone from precios, ends at `at`. */
static void price_close_sql(struct buf *b, const char *h, const char *p, const char *at,
                            const char *synced_at)
{
    (void)buf_appendf(
        b, NULL,
        "UPDATE %1$s SET valido_hasta = '%3$s', sincronizado_en = '%4$s' "
        "WHERE valido_hasta IS NULL AND NOT EXISTS (SELECT 1 FROM %2$s p WHERE " SAME_PRICE
        ") AND (valido_desde < '%3$s' OR NOT EXISTS (SELECT 1 FROM %2$s "
        "p WHERE " SAME_KEY "))",
        h, p, at, synced_at);
}

/* Every price with no open row opens one at `at` (an upsert: a row closed at `at` reopens). */
static void price_open_sql(struct buf *b, const struct db_dialect *d, const struct cat_table *h,
                           const char *p, const char *at, const char *synced_at)
{
    (void)buf_appendf(
        b, NULL,
        "INSERT INTO %1$s (id_lista_precio, id_variante, valido_desde, valido_hasta, "
        "valor_neto, valor_con_impuestos, sincronizado_en) "
        "SELECT p.id_lista_precio, p.id_variante, '%3$s', NULL, p.valor_neto, "
        "p.valor_con_impuestos, '%4$s' FROM %2$s p WHERE p.id_lista_precio IS NOT "
        "NULL AND p.id_variante IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %1$s WHERE " SAME_KEY
        " AND %1$s.valido_hasta IS NULL)",
        h->name, p, at, synced_at);
    db_sql_upsert_suffix(b, d, h);
}

enum err_code db_history_prices(struct db *db, const char *at, const char *synced_at, struct err *e)
{
    if (!matches(at, STAMP_SHAPE) || !matches(synced_at, STAMP_SHAPE))
        return err_set(e, ERR_INTERNAL, "price history: bad stamp");
    const struct cat_table *h = catalog_by_role(CAT_ROLE_PRICE_HISTORY);
    const char *p = catalog_by_role(CAT_ROLE_PRICES)->name;
    struct buf sql[3];
    for (size_t i = 0; i < ARRAY_LEN(sql); i++)
        buf_init(&sql[i], 0);
    price_correct_sql(&sql[0], h->name, p, at, synced_at);
    price_close_sql(&sql[1], h->name, p, at, synced_at);
    price_open_sql(&sql[2], dialect(db), h, p, at, synced_at);
    enum err_code rc = run_in_txn(db, sql, ARRAY_LEN(sql), e);
    release_all(sql, ARRAY_LEN(sql));
    return rc ? err_prefix(e, "price history at %s", at) : ERR_OK;
}

/* ---- counts ---- */

static int read_count(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    long v;
    if (ncols >= 1 && cells[0] && parse_long(cells[0], 0, 0x7fffffffffffffffL, &v))
        *(long long *)ctx = v;
    return 0;
}

enum err_code db_count_since(struct db *db, const struct cat_table *t, const char *since,
                             long long *count, struct err *e)
{
    *count = 0;
    if (!matches(since, STAMP_SHAPE))
        return err_set(e, ERR_INTERNAL, "count of %s: bad stamp", t->name);
    char sql[192];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE sincronizado_en >= '%s'", t->name,
             since);
    return db_query(db, sql, read_count, count, e);
}

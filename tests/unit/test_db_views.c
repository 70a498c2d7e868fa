/*
 * The analysts' views and dim_fecha on hand-built rows: a sale, its credit
 * note, a void, a nota de venta turned into a boleta and a credit payment
 * settling two documents. Without arguments on SQLite; "mysql" runs it on a
 * fresh database of TEST_MYSQL_URL's server (exit 77 when unset). A further
 * argument names docs/reportes.md: every ```sql block in it must run.
 */
#include "common.h"

#include "buf.h"
#include "db.h"
#include "db_url.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define SYNCED "'2024-03-10 10:00:00'"
#define VARIANT_COST "312.5" /* costo_promedio of variant 100 */

static bool use_mysql;
static const char *reportes_path;
static struct db_url base_url; /* TEST_MYSQL_URL (mysql) */
static struct db *admin;       /* creates and drops the per-test databases (mysql) */
static char tmp_dir[64];
static int fixture_counter;

struct fixture {
    struct db_url url;
    char name[64];
    struct db *db;
};

static int append_row(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    struct buf *b = ctx;
    for (int i = 0; i < ncols; i++)
        (void)buf_appendf(b, NULL, "%s%s", i ? "|" : "", cells[i] ? cells[i] : "<null>");
    (void)buf_append_str(b, "\n", NULL);
    return 0;
}

static char *query(struct db *db, const char *sql)
{
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, 0);
    if (db_query(db, sql, append_row, &b, &e))
        fail_msg("query '%s' failed: %s", sql, e.msg);
    return buf_detach(&b, NULL);
}

static void assert_query(struct db *db, const char *sql, const char *want)
{
    char *got = query(db, sql);
    if (strcmp(got, want) != 0)
        fail_msg("query '%s'\n got: %s\nwant: %s", sql, got, want);
    free(got);
}

static void exec(struct db *db, const char *sql)
{
    struct err e = ERR_INIT;
    if (db_query(db, sql, NULL, NULL, &e))
        fail_msg("'%s' failed: %s", sql, e.msg);
}

static void migrate(struct db *db)
{
    struct err e = ERR_INIT;
    if (db_migrate(db, &e))
        fail_msg("migrate: %s", e.msg);
}

/* ---- fixtures: a fresh migrated database per test ---- */

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "petl_v%ld_%d", (long)getpid(), ++fixture_counter);
    struct err e = ERR_INIT;
    if (use_mysql) {
        f->url = base_url;
        f->url.database = f->name;
        char sql[160];
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s CHARACTER SET utf8mb4", f->name);
        exec(admin, sql);
    } else {
        f->url.kind = DB_KIND_SQLITE;
        f->url.path = xasprintf("%s/%s.db", tmp_dir, f->name);
    }
    if (db_open(&f->url, &f->db, &e))
        fail_msg("open: %s", e.msg);
    migrate(f->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    if (use_mysql) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", f->name);
        exec(admin, sql);
    } else {
        static const char *const suffixes[] = {"", "-wal", "-shm", ".lock"};
        for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
            char *p = xasprintf("%s%s", f->url.path, suffixes[i]);
            (void)unlink(p);
            free(p);
        }
        free(f->url.path);
    }
    free(f);
    return 0;
}

/* ---- the hand-built store ---- */

static const char *const store_rows[] = {
    "INSERT INTO sucursales (id_bsale, nombre, estado, sincronizado_en) VALUES "
    "(1, 'Centro', 0, " SYNCED ")",
    "INSERT INTO tipos_documento (id_bsale, nombre, es_nota_venta, es_nota_credito, estado, "
    "sincronizado_en) VALUES (1, 'Boleta', 0, 0, 0, " SYNCED
    "), (2, 'Nota de crédito', 0, 1, 0, " SYNCED "), (3, 'Nota de venta', 1, 0, 0, " SYNCED ")",
    "INSERT INTO formas_pago (id_bsale, nombre, es_credito_cliente, estado, sincronizado_en) "
    "VALUES (1, 'Efectivo', 0, 0, " SYNCED "), (2, 'Crédito cliente', 1, 0, " SYNCED ")",
    "INSERT INTO productos (id_bsale, nombre, estado, sincronizado_en) VALUES "
    "(10, 'Alimento perro', 0, " SYNCED ")",
    "INSERT INTO variantes (id_bsale, id_producto, descripcion, codigo, estado, sincronizado_en) "
    "VALUES (100, 10, '3 kg', 'AP3', 0, " SYNCED ")",
    "INSERT INTO stock (id_variante, id_sucursal, cantidad, cantidad_reservada, "
    "cantidad_disponible, sincronizado_en) VALUES (100, 1, 5, 1, 4, " SYNCED "), "
    "(100, 2, 0, 0, 0, " SYNCED ")",
    /* 1000 sale, 1001 its credit note, 1002 void, 1003 nota de venta -> 1004 boleta, 1005 and
       1006 sold on client credit */
    "INSERT INTO documentos_venta (id_bsale, id_tipo_documento, numero, fecha_emision, id_cliente, "
    "id_sucursal, monto_neto, monto_total, estado, sincronizado_en) VALUES "
    "(1000, 1, 1, '2024-03-01', 7, 1, 1000, 1190, 0, " SYNCED "), "
    "(1001, 2, 1, '2024-03-02', 7, 1, 500, 595, 0, " SYNCED "), "
    "(1002, 1, 2, '2024-03-01', 7, 1, 2000, 2380, 1, " SYNCED "), "
    "(1003, 3, 1, '2024-03-01', 8, 1, 300, 357, 0, " SYNCED "), "
    "(1004, 1, 3, '2024-03-03', 8, 1, 300, 357, 0, " SYNCED "), "
    "(1005, 1, 4, '2024-03-01', 9, 1, 1000, 1190, 0, " SYNCED "), "
    "(1006, 1, 5, '2024-03-02', 9, 1, 500, 595, 0, " SYNCED ")",
    "INSERT INTO detalles_venta (id_bsale, id_documento, id_variante, cantidad, monto_neto, "
    "monto_total, id_detalle_relacionado, sincronizado_en) VALUES "
    "(5001, 1000, 100, 2, 1000, 1190, NULL, " SYNCED "), "
    "(5002, 1001, 100, 1, 500, 595, 5001, " SYNCED "), "
    "(5003, 1002, 100, 4, 2000, 2380, NULL, " SYNCED "), "
    "(5004, 1003, 100, 1, 300, 357, NULL, " SYNCED "), "
    "(5005, 1004, 100, 1, 300, 357, 5004, " SYNCED "), "
    "(5006, 1005, 100, 2, 1000, 1190, NULL, " SYNCED "), "
    "(5007, 1006, 100, 1, 500, 595, NULL, " SYNCED ")",
    /* 9003 is the credit payment settling 1005 in full and 1006 in part */
    "INSERT INTO pagos (id_bsale, id_documento, id_forma_pago, monto, fecha_registro, estado, "
    "sincronizado_en) VALUES (9001, 1005, 2, 1190, '2024-03-01', 0, " SYNCED "), "
    "(9002, 1006, 2, 595, '2024-03-02', 0, " SYNCED "), "
    "(9003, NULL, 1, 1500, '2024-03-05', 0, " SYNCED "), "
    "(9004, 1000, 1, 1190, '2024-03-01', 0, " SYNCED ")",
    "INSERT INTO pagos_documentos (id_pago, id_documento, monto, sincronizado_en) VALUES "
    "(9003, 1005, 1190, " SYNCED "), (9003, 1006, 310, " SYNCED ")",
    "INSERT INTO costos_variante (id_variante, costo_promedio, costo_total, sincronizado_en) "
    "VALUES (100, " VARIANT_COST ", 1562.5, " SYNCED ")",
    /* two month ends, a day without stock at office 2; a price of list 7 raised on 2024-03-04 */
    "INSERT INTO stock_historial (fecha, id_variante, id_sucursal, cantidad, cantidad_reservada, "
    "cantidad_disponible, sincronizado_en) VALUES ('2024-02-29', 100, 1, 6, 0, 6, " SYNCED "), "
    "('2024-03-01', 100, 1, 5, 1, 4, " SYNCED "), ('2024-03-01', 100, 2, 0, 0, 0, " SYNCED ")",
    "INSERT INTO precios_historial (id_lista_precio, id_variante, valido_desde, valido_hasta, "
    "valor_neto, valor_con_impuestos, sincronizado_en) VALUES "
    "(7, 100, '2024-02-01 10:00:00', '2024-03-04 10:00:00', 1000, 1190, " SYNCED "), "
    "(7, 100, '2024-03-04 10:00:00', NULL, 1100, 1309, " SYNCED ")",
    "INSERT INTO devoluciones (id_bsale, codigo, fecha_devolucion, motivo, tipo, monto, "
    "id_sucursal, id_documento_referencia, id_nota_credito, sincronizado_en) VALUES "
    "(1, 'D1', '2024-03-02', 'Producto dañado', 0, 595, 1, 1000, 1001, " SYNCED ")",
};

static void load_store(struct db *db)
{
    for (size_t i = 0; i < ARRAY_LEN(store_rows); i++)
        exec(db, store_rows[i]);
}

/* ---- dim_fecha ---- */

static void test_calendar_covers_2015_to_2035(void **state)
{
    struct fixture *f = *state;
    assert_query(f->db, "SELECT COUNT(*), MIN(fecha), MAX(fecha) FROM dim_fecha",
                 "7670|2015-01-01|2035-12-31\n");
    const char *sql =
        "SELECT fecha, anio, mes, dia, dia_semana, semana_iso, trimestre, nombre_mes, "
        "nombre_dia, es_fin_de_semana FROM dim_fecha WHERE fecha IN ('2015-01-01', "
        "'2020-12-31', '2021-01-03', '2021-01-04', '2024-02-29', '2035-12-31') "
        "ORDER BY fecha";
    assert_query(f->db, sql,
                 "2015-01-01|2015|1|1|4|1|1|enero|jueves|0\n"
                 "2020-12-31|2020|12|31|4|53|4|diciembre|jueves|0\n"
                 "2021-01-03|2021|1|3|7|53|1|enero|domingo|1\n"
                 "2021-01-04|2021|1|4|1|1|1|enero|lunes|0\n"
                 "2024-02-29|2024|2|29|4|9|1|febrero|jueves|0\n"
                 "2035-12-31|2035|12|31|1|1|4|diciembre|lunes|0\n");
    /* 7670 days are 1095 weeks and 5 days, starting on a Thursday: Sat and Sun come once more */
    assert_query(f->db, "SELECT SUM(es_fin_de_semana), COUNT(DISTINCT nombre_dia) FROM dim_fecha",
                 "2192|7\n");
}

static void test_calendar_fill_is_idempotent(void **state)
{
    struct fixture *f = *state;
    migrate(f->db);
    assert_query(f->db, "SELECT COUNT(*), COUNT(DISTINCT fecha) FROM dim_fecha", "7670|7670\n");
    exec(f->db, "DELETE FROM dim_fecha WHERE anio = 2030");
    migrate(f->db);
    assert_query(f->db, "SELECT COUNT(*) FROM dim_fecha WHERE anio = 2030", "365\n");
    assert_query(f->db, "SELECT COUNT(*) FROM dim_fecha", "7670\n");
}

/* ---- views ---- */

static void test_v_ventas_signs_and_skips(void **state)
{
    struct fixture *f = *state;
    load_store(f->db);
    /* the void (5003) and the nota de venta line carried into a boleta (5004) are gone */
    assert_query(f->db,
                 "SELECT id_detalle, id_documento, fecha, id_tipo_documento, id_cliente, producto, "
                 "variante, CAST(cantidad AS SIGNED), CAST(monto_total AS SIGNED), signo "
                 "FROM v_ventas ORDER BY id_detalle",
                 "5001|1000|2024-03-01|1|7|Alimento perro|3 kg|2|1190|1\n"
                 "5002|1001|2024-03-02|2|7|Alimento perro|3 kg|1|595|-1\n"
                 "5005|1004|2024-03-03|1|8|Alimento perro|3 kg|1|357|1\n"
                 "5006|1005|2024-03-01|1|9|Alimento perro|3 kg|2|1190|1\n"
                 "5007|1006|2024-03-02|1|9|Alimento perro|3 kg|1|595|1\n");
    /* voiding the boleta gives the nota de venta its line back */
    exec(f->db, "UPDATE documentos_venta SET estado = 1 WHERE id_bsale = 1004");
    assert_query(f->db, "SELECT id_detalle FROM v_ventas WHERE id_cliente = 8", "5004\n");
}

static const char daily_sql[] =
    "SELECT fecha, id_sucursal, id_tipo_documento, documentos, CAST(neto AS SIGNED), "
    "CAST(impuestos AS SIGNED), CAST(total AS SIGNED) FROM v_ventas_diarias "
    "ORDER BY fecha, id_tipo_documento";

static void test_v_ventas_diarias_nets_credit_notes(void **state)
{
    struct fixture *f = *state;
    load_store(f->db);
    assert_query(f->db, daily_sql,
                 "2024-03-01|1|1|2|2000|380|2380\n"
                 "2024-03-02|1|1|1|500|95|595\n"
                 "2024-03-02|1|2|-1|-500|-95|-595\n"
                 "2024-03-03|1|1|1|300|57|357\n");
    assert_query(f->db,
                 "SELECT CAST(SUM(total) AS SIGNED) FROM v_ventas_diarias WHERE fecha = "
                 "'2024-03-02'",
                 "0\n");
}

static void test_v_stock_actual_names_the_variant(void **state)
{
    struct fixture *f = *state;
    load_store(f->db);
    assert_query(
        f->db,
        "SELECT id_variante, id_sucursal, id_producto, producto, variante, codigo, "
        "CAST(cantidad AS SIGNED), CAST(cantidad_disponible AS SIGNED) FROM v_stock_actual "
        "ORDER BY id_sucursal",
        "100|1|10|Alimento perro|3 kg|AP3|5|4\n100|2|10|Alimento perro|3 kg|AP3|0|0\n");
}

static long days_since(int y, int m, int d)
{
    struct tm t = {0};
    t.tm_year = y - 1900;
    t.tm_mon = m - 1;
    t.tm_mday = d;
    return (long)((time(NULL) - timegm(&t)) / 86400);
}

static void test_v_cuentas_por_cobrar_settles_two_documents(void **state)
{
    struct fixture *f = *state;
    load_store(f->db);
    const char *sql = "SELECT id_documento, id_cliente, CAST(total AS SIGNED), "
                      "CAST(pagado AS SIGNED), CAST(saldo AS SIGNED) FROM v_cuentas_por_cobrar "
                      "ORDER BY id_documento";
    /* 1000 was paid in cash: not a credit document */
    assert_query(f->db, sql, "1005|9|1190|1190|0\n1006|9|595|310|285\n");
    long before = days_since(2024, 3, 1);
    char *got = query(f->db, "SELECT dias_desde_emision FROM v_cuentas_por_cobrar "
                             "WHERE id_documento = 1005");
    long after = days_since(2024, 3, 1);
    long days = strtol(got, NULL, 10);
    free(got);
    assert_true(days >= before && days <= after);
    /* a voided credit payment settles nothing */
    exec(f->db, "UPDATE pagos SET estado = 1 WHERE id_bsale = 9003");
    assert_query(f->db, sql, "1005|9|1190|0|1190\n1006|9|595|0|595\n");
}

/* The lines of v_ventas as loaded (inputs), and the margin each must get, computed here. */
struct sale_line {
    int id, qty;
    double net;
    bool costed; /* its variant has a costos_variante row */
    int sign;
};
static const struct sale_line margin_lines[] = {
    {5001, 2, 1000, true, 1}, {5002, 1, 500, true, -1}, {5005, 1, 300, true, 1},
    {5006, 2, 1000, true, 1}, {5007, 1, 500, true, 1},  {5008, 3, 900, false, 1},
};

struct margin_rows {
    int n;
    char cells[8][7][32];
};

static int collect_margin(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    struct margin_rows *m = ctx;
    if (m->n >= 8 || ncols != 7)
        return 1;
    for (int i = 0; i < ncols; i++)
        snprintf(m->cells[m->n][i], sizeof(m->cells[0][0]), "%s", cells[i] ? cells[i] : "NULL");
    m->n++;
    return 0;
}

static void assert_near(const char *got, double want, const char *what, int line)
{
    char *end = NULL;
    double v = strtod(got, &end);
    if (end == got || v - want > 0.006 || want - v > 0.006)
        fail_msg("line %d %s: got %s, want %.4f", line, what, got, want);
}

static void assert_margin_row(const char (*cells)[32], const struct sale_line *l)
{
    double cost = strtod(VARIANT_COST, NULL) * l->qty;
    assert_int_equal(strtol(cells[0], NULL, 10), l->id);
    assert_near(cells[1], l->net, "monto_neto", l->id);
    assert_int_equal(strtol(cells[5], NULL, 10), l->sign);
    if (!l->costed) { /* no cost row: unknown, not free */
        assert_string_equal(cells[2], "NULL");
        assert_string_equal(cells[3], "NULL");
        assert_string_equal(cells[4], "NULL");
        return;
    }
    assert_near(cells[2], cost, "costo", l->id);
    assert_near(cells[3], l->net - cost, "margen", l->id);
    double pct = 100.0 * (l->net - cost) / l->net;
    assert_near(cells[4], (double)(long)(pct * 100 + (pct < 0 ? -0.5 : 0.5)) / 100, "margen_pct",
                l->id);
}

static void test_v_margen_costs_each_line(void **state)
{
    struct fixture *f = *state;
    load_store(f->db);
    /* a sale of a variant Bsale has no cost for */
    exec(f->db, "INSERT INTO documentos_venta (id_bsale, id_tipo_documento, numero, "
                "fecha_emision, id_sucursal, monto_neto, monto_total, estado, sincronizado_en) "
                "VALUES (1007, 1, 6, '2024-03-03', 1, 900, 1071, 0, " SYNCED ")");
    exec(f->db, "INSERT INTO detalles_venta (id_bsale, id_documento, id_variante, cantidad, "
                "monto_neto, monto_total, sincronizado_en) VALUES "
                "(5008, 1007, 101, 3, 900, 1071, " SYNCED ")");
    struct margin_rows m = {0};
    struct err e = ERR_INIT;
    assert_int_equal(db_query(f->db,
                              "SELECT id_detalle, monto_neto, costo, margen, margen_pct, signo, "
                              "cantidad FROM v_margen ORDER BY id_detalle",
                              collect_margin, &m, &e),
                     ERR_OK);
    assert_int_equal(m.n, (int)ARRAY_LEN(margin_lines));
    double total = 0;
    for (size_t i = 0; i < ARRAY_LEN(margin_lines); i++) {
        assert_margin_row(m.cells[i], &margin_lines[i]);
        const struct sale_line *l = &margin_lines[i];
        if (l->costed)
            total += l->sign * (l->net - strtod(VARIANT_COST, NULL) * l->qty);
    }
    /* a credit note subtracts its margin; an uncosted line adds nothing to the sum */
    char *got = query(f->db, "SELECT SUM(signo * margen) FROM v_margen");
    assert_near(got, total, "SUM(signo * margen)", 0);
    free(got);
}

static void test_migrate_replaces_views(void **state)
{
    struct fixture *f = *state;
    load_store(f->db);
    migrate(f->db);
    assert_query(f->db, "SELECT COUNT(*) FROM v_ventas", "5\n");
}

/* ---- docs/reportes.md ---- */

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s", path);
    struct buf b;
    buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        (void)buf_append(&b, chunk, n, NULL);
    fclose(fp);
    return buf_detach(&b, NULL);
}

static int count_rows(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)ncols, (void)names, (void)cells;
    ++*(int *)ctx;
    return 0;
}

/* Runs one ```sql block (one statement); returns the rows it gave. */
static int run_block(struct db *db, const char *sql)
{
    int rows = 0;
    struct err e = ERR_INIT;
    if (db_query(db, sql, count_rows, &rows, &e))
        fail_msg("docs/reportes.md query failed: %s\n%s", e.msg, sql);
    return rows;
}

static void test_reportes_queries_run(void **state)
{
    struct fixture *f = *state;
    if (!reportes_path)
        skip();
    load_store(f->db);
    char *doc = read_file(reportes_path);
    int blocks = 0, with_rows = 0;
    for (char *p = doc; (p = strstr(p, "\n```sql\n")) != NULL;) {
        p += strlen("\n```sql\n");
        char *end = strstr(p, "\n```");
        assert_non_null(end);
        *end = '\0';
        with_rows += run_block(f->db, p) > 0;
        blocks++;
        p = end + 1;
    }
    free(doc);
    assert_true(blocks >= 5);
    /* every report gives something on the sample store */
    assert_int_equal(with_rows, blocks);
}

/* ---- main ---- */

static int setup_backend(void)
{
    if (!use_mysql) {
        snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/petl-test-views.XXXXXX");
        return mkdtemp(tmp_dir) ? 0 : 1;
    }
    const char *url = getenv("TEST_MYSQL_URL");
    const char *require = getenv("PETL_REQUIRE_MYSQL");
    if (!url || !*url) {
        fprintf(stderr, "test_db_views: TEST_MYSQL_URL not set, skipping the MySQL suite\n");
        return require && strcmp(require, "1") == 0 ? 1 : 77;
    }
    struct err e = ERR_INIT;
    if (db_url_parse(url, &base_url, &e) || base_url.kind != DB_KIND_MYSQL ||
        db_open(&base_url, &admin, &e)) {
        fprintf(stderr, "test_db_views: %s\n", e.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    use_mysql = argc > 1 && strcmp(argv[1], "mysql") == 0;
    reportes_path = argc > 2 ? argv[2] : NULL;
    log_setup(LOG_WARN, LOG_FORMAT_TEXT);
    int rc = setup_backend();
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_calendar_covers_2015_to_2035, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calendar_fill_is_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v_ventas_signs_and_skips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v_ventas_diarias_nets_credit_notes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v_stock_actual_names_the_variant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v_cuentas_por_cobrar_settles_two_documents, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_v_margen_costs_each_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_replaces_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reportes_queries_run, setup, teardown),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    db_close(admin);
    if (!use_mysql)
        (void)rmdir(tmp_dir);
    db_url_release(&base_url);
    return rc;
}

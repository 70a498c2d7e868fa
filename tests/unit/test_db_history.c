/*
 * stock_historial and precios_historial built from stock and precios, and
 * the distinct counts of the rows a run wrote. Without arguments on SQLite; "mysql"
 * runs it on a fresh database of TEST_MYSQL_URL's server (exit 77 when
 * unset).
 */
#include "common.h"

#include "buf.h"
#include "catalog.h"
#include "db.h"
#include "db_history.h"
#include "db_url.h"
#include "etl_batch.h"
#include "etl_writer.h"
#include "log.h"

#include <pthread.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static bool use_mysql;
static struct db_url base_url;
static struct db *admin;
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

static void assert_query(struct db *db, const char *sql, const char *want)
{
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, 0);
    if (db_query(db, sql, append_row, &b, &e))
        fail_msg("query '%s' failed: %s", sql, e.msg);
    if (strcmp(b.data, want) != 0)
        fail_msg("query '%s'\n got: %s\nwant: %s", sql, b.data, want);
    buf_release(&b);
}

static void exec(struct db *db, const char *sql)
{
    struct err e = ERR_INIT;
    if (db_query(db, sql, NULL, NULL, &e))
        fail_msg("'%s' failed: %s", sql, e.msg);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "petl_h%ld_%d", (long)getpid(), ++fixture_counter);
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
    if (db_open(&f->url, &f->db, &e) || db_migrate(f->db, &e))
        fail_msg("open: %s", e.msg);
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

static void stock_day(struct db *db, const char *day, const char *stamp)
{
    struct err e = ERR_INIT;
    if (db_history_stock(db, day, stamp, &e))
        fail_msg("stock history: %s", e.msg);
}

static void prices_at(struct db *db, const char *at)
{
    struct err e = ERR_INIT;
    if (db_history_prices(db, at, at, &e))
        fail_msg("price history: %s", e.msg);
}

/* ---- stock_historial ---- */

#define STOCK_SQL                                                                                  \
    "SELECT fecha, id_variante, id_sucursal, CAST(cantidad AS SIGNED), "                           \
    "CAST(cantidad_disponible AS SIGNED), sincronizado_en FROM stock_historial "                   \
    "ORDER BY fecha, id_variante, id_sucursal"

static void test_stock_one_row_per_day_variant_office(void **state)
{
    struct fixture *f = *state;
    exec(f->db,
         "INSERT INTO stock (id_variante, id_sucursal, cantidad, cantidad_reservada, "
         "cantidad_disponible, sincronizado_en) VALUES "
         "(100, 1, 5, 1, 4, '2024-03-10 10:00:00'), (100, 2, 0, 0, 0, '2024-03-10 10:00:00'),"
         " (101, 1, 7, 0, 7, '2024-03-10 10:00:00')");
    stock_day(f->db, "2024-03-10", "2024-03-10 10:00:05");
    /* the same day again, after stock changed and lost a row: that day is the latest snapshot */
    exec(f->db, "UPDATE stock SET cantidad = 3, cantidad_disponible = 2 WHERE id_variante = 100 "
                "AND id_sucursal = 1");
    exec(f->db, "DELETE FROM stock WHERE id_variante = 101");
    stock_day(f->db, "2024-03-10", "2024-03-10 18:00:00");
    assert_query(f->db, STOCK_SQL,
                 "2024-03-10|100|1|3|2|2024-03-10 18:00:00\n"
                 "2024-03-10|100|2|0|0|2024-03-10 18:00:00\n");
    /* the next day adds its own rows and leaves the day before as it was */
    exec(f->db, "UPDATE stock SET cantidad = 9, cantidad_disponible = 9 WHERE id_sucursal = 2");
    stock_day(f->db, "2024-03-11", "2024-03-11 04:00:00");
    assert_query(f->db, STOCK_SQL,
                 "2024-03-10|100|1|3|2|2024-03-10 18:00:00\n"
                 "2024-03-10|100|2|0|0|2024-03-10 18:00:00\n"
                 "2024-03-11|100|1|3|2|2024-03-11 04:00:00\n"
                 "2024-03-11|100|2|9|9|2024-03-11 04:00:00\n");
}

static void test_stock_rejects_a_bad_day(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    assert_int_equal(db_history_stock(f->db, "2024-03-10'; --", "2024-03-10 10:00:00", &e),
                     ERR_INTERNAL);
    assert_query(f->db, "SELECT COUNT(*) FROM stock_historial", "0\n");
}

/* ---- precios_historial ---- */

#define PRICES_SQL                                                                                 \
    "SELECT id_lista_precio, id_variante, valido_desde, valido_hasta, "                            \
    "CAST(valor_neto AS SIGNED), CAST(valor_con_impuestos AS SIGNED) FROM precios_historial "      \
    "ORDER BY id_lista_precio, id_variante, valido_desde"

/* 1: unchanged; 2: changes; 3: removed; 4: no price with taxes (NULL) that stays so. */
static void load_prices(struct db *db)
{
    exec(db, "INSERT INTO precios (id_bsale, id_lista_precio, id_variante, valor_neto, "
             "valor_con_impuestos, sincronizado_en) VALUES "
             "(1, 7, 100, 1000, 1190, '2024-03-01 10:00:00'), "
             "(2, 7, 101, 2000, 2380, '2024-03-01 10:00:00'), "
             "(3, 7, 102, 3000, 3570, '2024-03-01 10:00:00'), "
             "(4, 8, 100, 900, NULL, '2024-03-01 10:00:00')");
}

static const char first_run[] = "7|100|2024-03-01 10:00:00|<null>|1000|1190\n"
                                "7|101|2024-03-01 10:00:00|<null>|2000|2380\n"
                                "7|102|2024-03-01 10:00:00|<null>|3000|3570\n"
                                "8|100|2024-03-01 10:00:00|<null>|900|<null>\n";

static void test_prices_first_run_opens_one_row_each(void **state)
{
    struct fixture *f = *state;
    load_prices(f->db);
    prices_at(f->db, "2024-03-01 10:00:00");
    assert_query(f->db, PRICES_SQL, first_run);
    /* an identical run changes nothing, not even the stamps */
    prices_at(f->db, "2024-03-02 10:00:00");
    assert_query(f->db, PRICES_SQL, first_run);
    assert_query(f->db,
                 "SELECT COUNT(*) FROM precios_historial WHERE sincronizado_en > "
                 "'2024-03-01 10:00:00'",
                 "0\n");
}

static void test_prices_changed_unchanged_and_removed(void **state)
{
    struct fixture *f = *state;
    load_prices(f->db);
    prices_at(f->db, "2024-03-01 10:00:00");
    exec(f->db, "UPDATE precios SET valor_neto = 2100, valor_con_impuestos = 2499 "
                "WHERE id_bsale = 2");
    exec(f->db, "DELETE FROM precios WHERE id_bsale = 3");
    exec(f->db, "INSERT INTO precios (id_bsale, id_lista_precio, id_variante, valor_neto, "
                "valor_con_impuestos, sincronizado_en) VALUES "
                "(5, 8, 101, 500, 595, '2024-03-05 10:00:00')");
    prices_at(f->db, "2024-03-05 10:00:00");
    assert_query(f->db, PRICES_SQL,
                 "7|100|2024-03-01 10:00:00|<null>|1000|1190\n"
                 "7|101|2024-03-01 10:00:00|2024-03-05 10:00:00|2000|2380\n"
                 "7|101|2024-03-05 10:00:00|<null>|2100|2499\n"
                 "7|102|2024-03-01 10:00:00|2024-03-05 10:00:00|3000|3570\n"
                 "8|100|2024-03-01 10:00:00|<null>|900|<null>\n"
                 "8|101|2024-03-05 10:00:00|<null>|500|595\n");
    /* a NULL price gaining a value is a change too; a removed price that comes back reopens */
    exec(f->db, "UPDATE precios SET valor_con_impuestos = 1071 WHERE id_bsale = 4");
    exec(f->db, "INSERT INTO precios (id_bsale, id_lista_precio, id_variante, valor_neto, "
                "valor_con_impuestos, sincronizado_en) VALUES "
                "(3, 7, 102, 3000, 3570, '2024-03-09 10:00:00')");
    prices_at(f->db, "2024-03-09 10:00:00");
    assert_query(f->db,
                 "SELECT id_lista_precio, id_variante, valido_desde, valido_hasta FROM "
                 "precios_historial WHERE id_variante = 102 OR id_lista_precio = 8 "
                 "ORDER BY id_lista_precio, id_variante, valido_desde",
                 "7|102|2024-03-01 10:00:00|2024-03-05 10:00:00\n"
                 "7|102|2024-03-09 10:00:00|<null>\n"
                 "8|100|2024-03-01 10:00:00|2024-03-09 10:00:00\n"
                 "8|100|2024-03-09 10:00:00|<null>\n"
                 "8|101|2024-03-05 10:00:00|<null>\n");
    assert_query(f->db, "SELECT COUNT(*) FROM precios_historial WHERE valido_hasta IS NULL", "5\n");
}

/* Two runs within one second: the second's price corrects the row the first opened. */
static void test_prices_same_second_corrects_in_place(void **state)
{
    struct fixture *f = *state;
    load_prices(f->db);
    prices_at(f->db, "2024-03-01 10:00:00");
    exec(f->db, "UPDATE precios SET valor_neto = 1, valor_con_impuestos = 2 WHERE id_bsale = 1");
    prices_at(f->db, "2024-03-01 10:00:00");
    assert_query(f->db,
                 "SELECT valido_desde, valido_hasta, CAST(valor_neto AS SIGNED), "
                 "CAST(valor_con_impuestos AS SIGNED) FROM precios_historial "
                 "WHERE id_lista_precio = 7 AND id_variante = 100",
                 "2024-03-01 10:00:00|<null>|1|2\n");
}

/* ---- counts ---- */

static void test_count_since_counts_stamped_rows(void **state)
{
    struct fixture *f = *state;
    load_prices(f->db);
    exec(f->db, "UPDATE precios SET sincronizado_en = '2024-03-02 00:00:00' WHERE id_bsale >= 3");
    long long n = -1;
    struct err e = ERR_INIT;
    const struct cat_table *t = catalog_by_role(CAT_ROLE_PRICES);
    assert_int_equal(db_count_since(f->db, t, "2024-03-02 00:00:00", &n, &e), ERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(db_count_since(f->db, t, "2024-03-01 10:00:00", &n, &e), ERR_OK);
    assert_int_equal(n, 4);
    assert_int_equal(db_count_since(f->db, t, "yesterday", &n, &e), ERR_INTERNAL);
}

/* ---- a run's distinct counts ---- */

static struct etl_batch *batch_of(const char *table, const char *items)
{
    struct etl_batch *b = etl_batch_new();
    struct cat_rows *r = etl_batch_rows(b, etl_table_index(table));
    json_t *a = json_loads(items, 0, NULL);
    struct err e = ERR_INIT;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (catalog_map_item(r, json_array_get(a, i), 0, &e))
            fail_msg("map: %s", e.msg);
    json_decref(a);
    b->n_rows += r->n;
    return b;
}

/* One writer (one pass of a run) over batches[0..n), counting into c. */
static void write_pass(struct fixture *f, struct etl_counters *c, struct etl_batch **batches,
                       size_t n)
{
    struct err e = ERR_INIT;
    struct etl_writer_opts wo = {.url = &f->url, .depth = 1, .counters = c, .run_id = 1};
    struct etl_writer *w = NULL;
    assert_int_equal(etl_writer_start(&wo, &w, &e), ERR_OK);
    for (size_t i = 0; i < n; i++)
        if (etl_writer_push(w, batches[i], &e))
            fail_msg("push: %s", e.msg);
    if (etl_writer_finish(w, false, &e))
        fail_msg("writer: %s", e.msg);
}

static long long rows_of(const struct etl_counters *c, const char *table)
{
    return c->rows_by_table[etl_table_index(table)];
}

/* A client re-read in a run (a second page, the reconcile's pass) is one row of clientes. */
static void test_run_counts_a_row_written_twice_once(void **state)
{
    struct fixture *f = *state;
    exec(f->db, "INSERT INTO clientes (id_bsale, nombre, sincronizado_en) VALUES "
                "(11, 'Antes', '2020-01-01 00:00:00')");
    struct etl_counters c;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    struct etl_batch *first[] = {
        batch_of("clientes", "[{\"id\":9,\"firstName\":\"Ana\"},{\"id\":10}]"),
        batch_of("clientes", "[{\"id\":9,\"firstName\":\"Ana M.\"}]"),
        batch_of("sucursales", "[{\"id\":1,\"name\":\"Centro\"}]")};
    write_pass(f, &c, first, ARRAY_LEN(first));
    assert_int_equal(rows_of(&c, "clientes"), 2);
    assert_int_equal(rows_of(&c, "sucursales"), 1);
    assert_int_equal(c.rows_total, 3);
    /* a later pass of the same run writes client 9 again: still two distinct rows */
    struct etl_batch *second[] = {batch_of("clientes", "[{\"id\":9}]")};
    write_pass(f, &c, second, ARRAY_LEN(second));
    assert_int_equal(rows_of(&c, "clientes"), 2);
    assert_int_equal(c.rows_total, 3);
    pthread_mutex_destroy(&c.mu);
}

/* The history step counts the rows it stamped; an identical second step adds none. */
static void test_run_counts_history_rows(void **state)
{
    struct fixture *f = *state;
    load_prices(f->db);
    exec(f->db,
         "INSERT INTO stock (id_variante, id_sucursal, cantidad, cantidad_reservada, "
         "cantidad_disponible, sincronizado_en) VALUES "
         "(100, 1, 5, 1, 4, '2024-03-10 10:00:00'), (100, 2, 0, 0, 0, '2024-03-10 10:00:00')");
    struct etl_counters c;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    struct err e = ERR_INIT;
    assert_int_equal(etl_writer_history(f->db, "UTC", "2024-03-10 10:00:00", &c, &e), ERR_OK);
    assert_int_equal(rows_of(&c, "stock_historial"), 2);
    assert_int_equal(rows_of(&c, "precios_historial"), 4);
    assert_int_equal(c.rows_total, 6);
    assert_int_equal(etl_writer_history(f->db, "UTC", "2024-03-10 10:00:00", &c, &e), ERR_OK);
    assert_int_equal(rows_of(&c, "stock_historial"), 2);
    assert_int_equal(rows_of(&c, "precios_historial"), 4);
    assert_query(f->db, "SELECT COUNT(*), COUNT(DISTINCT fecha) FROM stock_historial", "2|1\n");
    pthread_mutex_destroy(&c.mu);
}

static int setup_backend(void)
{
    if (!use_mysql) {
        snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/petl-test-history.XXXXXX");
        return mkdtemp(tmp_dir) ? 0 : 1;
    }
    const char *url = getenv("TEST_MYSQL_URL");
    const char *require = getenv("PETL_REQUIRE_MYSQL");
    if (!url || !*url) {
        fprintf(stderr, "test_db_history: TEST_MYSQL_URL not set, skipping the MySQL suite\n");
        return require && strcmp(require, "1") == 0 ? 1 : 77;
    }
    struct err e = ERR_INIT;
    if (db_url_parse(url, &base_url, &e) || base_url.kind != DB_KIND_MYSQL ||
        db_open(&base_url, &admin, &e)) {
        fprintf(stderr, "test_db_history: %s\n", e.msg);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    use_mysql = argc > 1 && strcmp(argv[1], "mysql") == 0;
    log_setup(LOG_WARN, LOG_FORMAT_TEXT);
    int rc = setup_backend();
    if (rc)
        return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stock_one_row_per_day_variant_office, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stock_rejects_a_bad_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prices_first_run_opens_one_row_each, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prices_changed_unchanged_and_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prices_same_second_corrects_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_since_counts_stamped_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_counts_a_row_written_twice_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_counts_history_rows, setup, teardown),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    db_close(admin);
    if (!use_mysql)
        (void)rmdir(tmp_dir);
    db_url_release(&base_url);
    return rc;
}

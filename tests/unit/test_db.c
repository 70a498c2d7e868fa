/*
 * The storage suite, written once and run per backend: without arguments on
 * fresh SQLite files, with "mysql" on fresh databases of TEST_MYSQL_URL's
 * server (exit 77 when unset, failure when PETL_REQUIRE_MYSQL=1).
 */
#include "common.h"

#include "buf.h"
#include "catalog.h"
#include "config.h"
#include "db.h"
#include "db_sql.h"
#include "etl_writer.h"
#include "transform.h"
#include "json_util.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define SYNC1 "2024-02-16 10:00:00"
#define SYNC2 "2024-02-17 11:30:00"

static bool use_mysql;
static struct db_url base_url; /* TEST_MYSQL_URL (mysql) */
static struct db *admin;       /* creates and drops the per-test databases (mysql) */
static char tmp_dir[64];       /* per-test SQLite files live here */
static int fixture_counter;

struct fixture {
    struct db_url url; /* a fresh database of its own */
    char name[64];
    struct db *db;
};

/* ---- helpers ---- */

static int append_row(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    struct buf *b = ctx;
    for (int i = 0; i < ncols; i++)
        (void)buf_appendf(b, NULL, "%s%s", i ? "|" : "", cells[i] ? cells[i] : "<null>");
    (void)buf_append_str(b, "\n", NULL);
    return 0;
}

/* Rows as "a|b\n..." with SQL NULL as "<null>". Owned, free(). */
static char *query(struct db *db, const char *sql)
{
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, 0);
    enum err_code rc = db_query(db, sql, append_row, &b, &e);
    if (rc)
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

static void copy_url(struct db_url *dst, const struct db_url *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->kind = src->kind;
#define DUP(f) dst->f = src->f ? xstrdup(src->f) : NULL
    DUP(scheme);
    DUP(user);
    DUP(password);
    DUP(host);
    DUP(database);
    DUP(unix_socket);
    DUP(charset);
    DUP(ssl_ca);
    DUP(ssl_cert);
    DUP(ssl_key);
    DUP(path);
#undef DUP
    dst->port = src->port;
    dst->ssl = src->ssl;
    dst->ssl_verify = src->ssl_verify;
    dst->connect_timeout_s = src->connect_timeout_s;
}

/* A fresh, empty database (not migrated) described by f->url. */
static void fresh_database(struct fixture *f)
{
    snprintf(f->name, sizeof(f->name), "petl_t%ld_%d", (long)getpid(), ++fixture_counter);
    if (use_mysql) {
        copy_url(&f->url, &base_url);
        free(f->url.database);
        f->url.database = xstrdup(f->name);
        char sql[160];
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s CHARACTER SET utf8mb4", f->name);
        exec(admin, sql);
    } else {
        f->url.kind = DB_KIND_SQLITE;
        f->url.path = xasprintf("%s/%s.db", tmp_dir, f->name);
    }
}

static void drop_database(struct fixture *f)
{
    if (use_mysql) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", f->name);
        exec(admin, sql);
    } else if (f->url.path) {
        static const char *const suffixes[] = {"", "-wal", "-shm", ".lock"};
        for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
            char *p = xasprintf("%s%s", f->url.path, suffixes[i]);
            (void)unlink(p);
            free(p);
        }
    }
    db_url_release(&f->url);
}

static struct db *open_db(const struct db_url *url)
{
    struct db *db = NULL;
    struct err e = ERR_INIT;
    if (db_open(url, &db, &e))
        fail_msg("db_open: %s", e.msg);
    return db;
}

static int setup_empty(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    fresh_database(f);
    f->db = open_db(&f->url);
    *state = f;
    return 0;
}

static int setup_migrated(void **state)
{
    setup_empty(state);
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    if (db_migrate(f->db, &e))
        fail_msg("migrate: %s", e.msg);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    drop_database(f);
    free(f);
    return 0;
}

static json_t *parse(const char *s)
{
    json_t *root = NULL;
    struct err e = ERR_INIT;
    if (json_util_load(s, strlen(s), &root, &e))
        fail_msg("bad test JSON: %s", e.msg);
    return root;
}

/* Maps every item of a JSON array into r (parent id applies to all). */
static void map_all(struct cat_rows *r, const char *json_array, int64_t parent)
{
    json_t *a = parse(json_array);
    struct err e = ERR_INIT;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (catalog_map_item(r, json_array_get(a, i), parent, &e))
            fail_msg("map: %s", e.msg);
    json_decref(a);
}

static void upsert_ok(struct db *db, const struct cat_rows *r, const char *synced)
{
    struct err e = ERR_INIT;
    if (db_upsert(db, r, synced, &e))
        fail_msg("upsert: %s", e.msg);
}

/* n synthetic document lines with ids from first, all of document doc. */
static void make_lines(struct cat_rows *r, int64_t first, size_t n, int64_t doc)
{
    struct err e = ERR_INIT;
    for (size_t i = 0; i < n; i++) {
        char js[256];
        snprintf(js, sizeof(js),
                 "{\"id\":%lld,\"lineNumber\":%zu,\"quantity\":1.5,\"netUnitValue\":840.3361,"
                 "\"totalAmount\":1000.0,\"note\":\"l%zu\",\"variant\":{\"id\":%zu}}",
                 (long long)(first + (int64_t)i), i, i, 100 + i);
        json_t *item = parse(js);
        if (catalog_map_item(r, item, doc, &e))
            fail_msg("map: %s", e.msg);
        json_decref(item);
    }
}

/* ---- schema ---- */

/* The schema contract (docs/schema.md), written out independently of the catalog. */
static const char *const schema_md[] = {
    "sucursales: id_bsale nombre descripcion direccion comuna ciudad pais centro_costo es_virtual "
    "estado sincronizado_en",
    "tipos_documento: id_bsale nombre codigo_sii es_electronico uso es_nota_venta es_nota_credito "
    "es_exento estado sincronizado_en",
    "formas_pago: id_bsale nombre es_efectivo es_cheque es_credito_cliente es_nota_credito "
    "es_virtual estado sincronizado_en",
    "usuarios: id_bsale nombre apellido email id_sucursal estado sincronizado_en",
    "tipos_producto: id_bsale nombre estado sincronizado_en",
    "productos: id_bsale nombre descripcion clasificacion id_tipo_producto controla_stock "
    "permite_decimal estado sincronizado_en",
    "variantes: id_bsale id_producto descripcion codigo codigo_barras stock_ilimitado "
    "permite_stock_negativo estado sincronizado_en",
    "clientes: id_bsale nombre apellido rut email telefono empresa giro direccion comuna ciudad "
    "es_empresa tiene_credito credito_maximo puntos estado sincronizado_en",
    "listas_precio: id_bsale nombre descripcion estado sincronizado_en",
    "precios: id_bsale id_lista_precio id_variante valor_neto valor_con_impuestos sincronizado_en",
    "stock: id_variante id_sucursal cantidad cantidad_reservada cantidad_disponible "
    "sincronizado_en",
    "documentos_venta: id_bsale id_tipo_documento numero fecha_emision fecha_vencimiento "
    "fecha_generacion id_cliente id_sucursal id_usuario monto_neto monto_impuestos monto_exento "
    "monto_total estado estado_sii token url_pdf id_lista_precio monto_afecto estado_anulacion "
    "fecha_anulacion sincronizado_en",
    "detalles_venta: id_bsale id_documento numero_linea id_variante cantidad precio_unitario_neto "
    "precio_unitario_total monto_neto monto_impuestos monto_total descuento_neto descuento_total "
    "nota precio_unitario_neto_exacto porcentaje_descuento id_detalle_relacionado sincronizado_en",
    "pagos: id_bsale id_documento id_forma_pago monto fecha_registro creado_en id_sucursal estado "
    "id_usuario numero_operacion es_pago_credito fecha_contable sincronizado_en",
    "pagos_documentos: id_pago id_documento monto sincronizado_en",
    "pagos_por_tipo_documento: id_documento id_forma_pago monto sincronizado_en",
    "referencias_documento: id_bsale id_documento fecha_referencia numero motivo codigo_dte "
    "sincronizado_en",
    "etl_ejecuciones: id tipo origen estado inicio fin fecha_desde fecha_hasta registros "
    "solicitudes reintentos error",
    "etl_incidencias: id id_ejecucion recurso id_recurso problema creado_en resuelto_en",
};

static char *columns_of(struct db *db, const char *table)
{
    char sql[512];
    if (use_mysql)
        snprintf(sql, sizeof(sql),
                 "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                 "DATABASE() AND table_name = '%s'",
                 table);
    else
        snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')", table);
    return query(db, sql);
}

static bool has_line(const char *rows, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = rows; (p = strstr(p, line)) != NULL; p += n)
        if ((p == rows || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static void assert_schema_md(struct db *db)
{
    for (size_t i = 0; i < ARRAY_LEN(schema_md); i++) {
        char *spec = xstrdup(schema_md[i]);
        char *colon = strchr(spec, ':');
        *colon = '\0';
        char *cols = columns_of(db, spec);
        char *save = NULL;
        for (char *c = strtok_r(colon + 1, " ", &save); c; c = strtok_r(NULL, " ", &save))
            if (!has_line(cols, c))
                fail_msg("table %s lacks column %s (has: %s)", spec, c, cols);
        free(cols);
        free(spec);
    }
}

static char *indexed_columns(struct db *db, const char *table)
{
    char sql[512];
    if (use_mysql)
        snprintf(sql, sizeof(sql),
                 "SELECT column_name FROM information_schema.statistics WHERE table_schema = "
                 "DATABASE() AND table_name = '%s'",
                 table);
    else
        snprintf(sql, sizeof(sql),
                 "SELECT ii.name FROM pragma_index_list('%s') AS il, "
                 "pragma_index_info(il.name) AS ii",
                 table);
    return query(db, sql);
}

static void test_migrate_creates_schema(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    int version = -1;
    assert_schema_md(f->db);
    assert_int_equal(db_schema_check(f->db, &version, &e), ERR_OK);
    assert_int_equal(version, DB_SCHEMA_VERSION);
    assert_query(f->db, "SELECT COUNT(*) FROM etl_esquema", "1\n");
    char *idx = indexed_columns(f->db, "documentos_venta");
    assert_true(has_line(idx, "fecha_emision"));
    assert_true(has_line(idx, "id_cliente"));
    free(idx);
    idx = indexed_columns(f->db, "detalles_venta");
    assert_true(has_line(idx, "id_documento"));
    free(idx);
    idx = indexed_columns(f->db, "precios");
    assert_true(has_line(idx, "id_lista_precio"));
    assert_true(has_line(idx, "id_variante"));
    free(idx);
    if (use_mysql) {
        assert_query(f->db,
                     "SELECT column_type FROM information_schema.columns WHERE table_schema = "
                     "DATABASE() AND table_name = 'documentos_venta' AND column_name IN "
                     "('id_bsale', 'monto_total', 'fecha_emision', 'fecha_generacion', 'token', "
                     "'url_pdf', 'sincronizado_en') ORDER BY column_name",
                     "date\ndatetime\nbigint(20)\ndecimal(18,4)\ndatetime\nvarchar(255)\ntext\n");
        assert_query(f->db,
                     "SELECT DISTINCT engine, table_collation FROM information_schema.tables "
                     "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
                     "InnoDB|utf8mb4_unicode_ci\n");
        assert_query(f->db,
                     "SELECT column_type FROM information_schema.columns WHERE table_schema = "
                     "DATABASE() AND table_name = 'sucursales' AND column_name = 'es_virtual'",
                     "smallint(6)\n");
    }
}

/* MySQL tables and columns carry the catalog's Spanish descriptions, quotes and accents intact. */
static void check_comments(struct db *db, const struct cat_table *t)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT table_comment FROM information_schema.tables WHERE table_schema = "
             "DATABASE() AND table_name = '%s'",
             t->name);
    char want[1200];
    snprintf(want, sizeof(want), "%s\n", t->es);
    assert_query(db, sql, want);
    for (size_t i = 0; i < t->ncols; i++) {
        snprintf(sql, sizeof(sql),
                 "SELECT column_comment FROM information_schema.columns WHERE table_schema = "
                 "DATABASE() AND table_name = '%s' AND column_name = '%s'",
                 t->name, t->cols[i].name);
        snprintf(want, sizeof(want), "%s\n", t->cols[i].es);
        assert_query(db, sql, want);
    }
}

static void test_mysql_comments_describe_the_schema(void **state)
{
    struct fixture *f = *state;
    size_t n, n_own;
    const struct cat_table *const *tables = catalog_tables(&n);
    const struct cat_table *const *own = catalog_own_tables(&n_own);
    for (size_t i = 0; i < n; i++)
        check_comments(f->db, tables[i]);
    for (size_t i = 0; i < n_own; i++)
        check_comments(f->db, own[i]);
}

/* A description is a string literal in DDL: quotes and backslashes are doubled, nothing else. */
static void test_comment_literal_is_escaped(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    db_sql_comment(&b, "COMMENT", "l'año \\ 0 = activo");
    assert_string_equal(b.data, " COMMENT 'l''año \\\\ 0 = activo'");
    buf_release(&b);
}

static void test_migrate_is_idempotent(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    struct cat_rows r = {0};
    cat_rows_init(&r, catalog_table("detalles_venta"));
    make_lines(&r, 1, 3, 7);
    upsert_ok(f->db, &r, SYNC1);
    cat_rows_release(&r);
    assert_int_equal(db_migrate(f->db, &e), ERR_OK);
    assert_int_equal(db_migrate(f->db, &e), ERR_OK);
    /* A second connection migrating the same database changes nothing either. */
    struct db *other = open_db(&f->url);
    assert_int_equal(db_migrate(other, &e), ERR_OK);
    db_close(other);
    assert_query(f->db, "SELECT COUNT(*) FROM etl_esquema", "1\n");
    assert_query(f->db, "SELECT COUNT(*) FROM detalles_venta", "3\n");
    assert_schema_md(f->db);
}

static void test_schema_check_errors(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    int version = -1;
    assert_int_equal(db_schema_check(f->db, &version, &e), ERR_SCHEMA);
    assert_int_equal(version, 0);
    assert_non_null(strstr(e.msg, "missing"));
    assert_non_null(strstr(e.msg, "migrate"));

    assert_int_equal(db_migrate(f->db, &e), ERR_OK);
    exec(f->db,
         "INSERT INTO etl_esquema (version, aplicado_en) VALUES (99, '2030-01-01 00:00:00')");
    err_clear(&e);
    assert_int_equal(db_schema_check(f->db, &version, &e), ERR_SCHEMA);
    assert_int_equal(version, 99);
    assert_non_null(strstr(e.msg, "newer"));
    /* migrate never downgrades a newer database. */
    err_clear(&e);
    assert_int_equal(db_migrate(f->db, &e), ERR_SCHEMA);
    assert_non_null(strstr(e.msg, "newer"));
}

static void test_migrate_upgrades_older_database(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    int version;
    /* An older build's table: fewer columns, one row already written. */
    exec(f->db, "CREATE TABLE documentos_venta (id_bsale BIGINT NOT NULL PRIMARY KEY, "
                "numero BIGINT NULL, sincronizado_en DATETIME NOT NULL)");
    exec(f->db, "INSERT INTO documentos_venta VALUES (1, 1451650496937243, '2020-01-01 00:00:00')");
    assert_int_equal(db_schema_check(f->db, &version, &e), ERR_SCHEMA);
    assert_int_equal(db_migrate(f->db, &e), ERR_OK);
    assert_int_equal(db_schema_check(f->db, &version, &e), ERR_OK);
    assert_schema_md(f->db);
    assert_query(f->db, "SELECT id_bsale, numero, monto_total, url_pdf FROM documentos_venta",
                 "1|1451650496937243|<null>|<null>\n");
    char *idx = indexed_columns(f->db, "documentos_venta");
    assert_true(has_line(idx, "fecha_emision"));
    free(idx);
}

/*
 * Version 2's tables that version 3 changed, as a version-2 build created
 * them (MySQL types; SQLite takes the same text).
 */
static const char *const v2_ddl[] = {
    "CREATE TABLE etl_esquema (version BIGINT NOT NULL PRIMARY KEY, aplicado_en DATETIME NOT "
    "NULL)",
    "INSERT INTO etl_esquema VALUES (1, '2024-01-01 00:00:00'), (2, '2024-06-01 00:00:00')",
    "CREATE TABLE documentos_venta (id_bsale BIGINT NOT NULL PRIMARY KEY, id_tipo_documento "
    "BIGINT NULL, numero BIGINT NULL, fecha_emision DATE NULL, fecha_vencimiento DATE NULL, "
    "fecha_generacion DATETIME NULL, id_cliente BIGINT NULL, id_sucursal BIGINT NULL, id_usuario "
    "BIGINT NULL, monto_neto DECIMAL(18,4) NULL, monto_impuestos DECIMAL(18,4) NULL, monto_exento "
    "DECIMAL(18,4) NULL, monto_total DECIMAL(18,4) NULL, estado BIGINT NULL, estado_sii BIGINT "
    "NULL, token VARCHAR(255) NULL, url_pdf TEXT NULL, sincronizado_en DATETIME NOT NULL)",
    "INSERT INTO documentos_venta (id_bsale, numero, fecha_emision, monto_total, estado, "
    "sincronizado_en) VALUES (90211, 48120, '2024-02-15', 11900, 0, '2024-02-16 10:00:00')",
    "CREATE TABLE detalles_venta (id_bsale BIGINT NOT NULL PRIMARY KEY, id_documento BIGINT NOT "
    "NULL, numero_linea BIGINT NULL, id_variante BIGINT NULL, cantidad DECIMAL(18,4) NULL, "
    "precio_unitario_neto DECIMAL(18,4) NULL, precio_unitario_total DECIMAL(18,4) NULL, "
    "monto_neto DECIMAL(18,4) NULL, monto_impuestos DECIMAL(18,4) NULL, monto_total "
    "DECIMAL(18,4) NULL, descuento_neto DECIMAL(18,4) NULL, descuento_total DECIMAL(18,4) NULL, "
    "nota TEXT NULL, sincronizado_en DATETIME NOT NULL)",
    "INSERT INTO detalles_venta (id_bsale, id_documento, cantidad, sincronizado_en) VALUES "
    "(7001, 90211, 2, '2024-02-16 10:00:00')",
    "CREATE TABLE pagos (id_bsale BIGINT NOT NULL PRIMARY KEY, id_documento BIGINT NULL, "
    "id_forma_pago BIGINT NULL, monto DECIMAL(18,4) NULL, fecha_registro DATE NULL, creado_en "
    "DATETIME NULL, id_sucursal BIGINT NULL, estado BIGINT NULL, sincronizado_en DATETIME NOT "
    "NULL)",
    "INSERT INTO pagos (id_bsale, id_documento, monto, fecha_registro, sincronizado_en) VALUES "
    "(77, 90211, 11900, '2024-02-15', '2024-02-16 10:00:00')",
};

/* A version-2 database migrates to 3: new columns NULL, new tables empty, every row kept. */
static void test_migrate_from_version_2(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    int version;
    for (size_t i = 0; i < ARRAY_LEN(v2_ddl); i++)
        exec(f->db, v2_ddl[i]);
    assert_int_equal(db_schema_check(f->db, &version, &e), ERR_SCHEMA);
    assert_int_equal(version, 2);
    assert_int_equal(db_migrate(f->db, &e), ERR_OK);
    assert_int_equal(db_schema_check(f->db, &version, &e), ERR_OK);
    assert_int_equal(version, DB_SCHEMA_VERSION);
    assert_schema_md(f->db);
    assert_query(
        f->db,
        "SELECT id_bsale, numero, CAST(monto_total AS SIGNED), id_lista_precio, estado_anulacion, "
        "fecha_anulacion FROM documentos_venta",
        "90211|48120|11900|<null>|<null>|<null>\n");
    assert_query(f->db,
                 "SELECT id_bsale, id_documento, CAST(cantidad AS SIGNED), id_detalle_relacionado "
                 "FROM "
                 "detalles_venta",
                 "7001|90211|2|<null>\n");
    assert_query(
        f->db, "SELECT id_bsale, CAST(monto AS SIGNED), es_pago_credito, fecha_contable FROM pagos",
        "77|11900|<null>|<null>\n");
    assert_query(f->db, "SELECT COUNT(*) FROM pagos_documentos", "0\n");
    assert_query(f->db, "SELECT COUNT(*) FROM referencias_documento", "0\n");
    char *idx = indexed_columns(f->db, "detalles_venta");
    assert_true(has_line(idx, "id_detalle_relacionado"));
    free(idx);
    /* The new columns take values. */
    struct cat_rows r;
    cat_rows_init(&r, catalog_table("pagos"));
    map_all(&r,
            "[{\"id\":77,\"amount\":\"11900.0\",\"isCreditPayment\":1,"
            "\"accountingDate\":1707955200,\"operationNumber\":\"OP-1\"}]",
            0);
    upsert_ok(f->db, &r, SYNC2);
    cat_rows_release(&r);
    assert_query(f->db, "SELECT es_pago_credito, fecha_contable, numero_operacion FROM pagos",
                 "1|2024-02-15|OP-1\n");
}

/* Free-text columns an older build made VARCHAR(255) become TEXT, their rows kept. */
static void test_migrate_widens_long_text(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    exec(f->db, "CREATE TABLE clientes (id_bsale BIGINT NOT NULL PRIMARY KEY, "
                "direccion VARCHAR(255) NULL, rut VARCHAR(255) NULL, "
                "sincronizado_en DATETIME NOT NULL)");
    exec(f->db, "INSERT INTO clientes VALUES (1, 'Av. Siempre Viva 742', '1-9', "
                "'2020-01-01 00:00:00')");
    assert_int_equal(db_migrate(f->db, &e), ERR_OK);
    assert_query(f->db, "SELECT direccion, rut FROM clientes", "Av. Siempre Viva 742|1-9\n");
    if (use_mysql)
        assert_query(f->db,
                     "SELECT column_name, data_type FROM information_schema.columns WHERE "
                     "table_schema = DATABASE() AND table_name = 'clientes' AND column_name IN "
                     "('direccion', 'giro', 'rut') ORDER BY column_name",
                     "direccion|text\ngiro|text\nrut|varchar\n");
    /* A 1000-character address now fits whole. */
    struct cat_rows r;
    cat_rows_init(&r, catalog_table("clientes"));
    char js[1100];
    int k = snprintf(js, sizeof(js), "[{\"id\":2,\"address\":\"");
    memset(js + k, 'a', 1000);
    snprintf(js + k + 1000, sizeof(js) - (size_t)k - 1000, "\"}]");
    map_all(&r, js, 0);
    upsert_ok(f->db, &r, SYNC1);
    cat_rows_release(&r);
    assert_query(f->db, "SELECT LENGTH(direccion) FROM clientes WHERE id_bsale = 2", "1000\n");
}

/* ---- upserts ---- */

static const char docs_v1[] =
    "[{\"id\":90211,\"number\":1451650496937243,\"emissionDate\":1707955200,"
    "\"expirationDate\":\"\",\"generationDate\":1707999013,\"totalAmount\":11900.0,"
    "\"netAmount\":\"10000.0\",\"taxAmount\":1900.0,\"exemptAmount\":0.0,\"state\":0,"
    "\"informedSii\":0,\"token\":\"9f1c2e7a1b22\",\"urlPdf\":\"\","
    "\"document_type\":{\"id\":\"1\"},\"client\":{\"id\":311},\"office\":{\"id\":\"1\"},"
    "\"user\":{\"id\":\"4\"}},"
    "{\"id\":\"90212\",\"number\":48121,\"emissionDate\":1463540400,\"totalAmount\":\"4990.0\","
    "\"state\":1,\"token\":null,\"office\":{\"id\":\"2\"}}]";

static void test_upsert_insert_then_update(void **state)
{
    struct fixture *f = *state;
    struct cat_rows r = {0};
    cat_rows_init(&r, catalog_table("documentos_venta"));
    map_all(&r, docs_v1, 0);
    upsert_ok(f->db, &r, SYNC1);
    cat_rows_release(&r);
    assert_query(f->db,
                 "SELECT id_bsale, numero, fecha_emision, fecha_vencimiento, fecha_generacion, "
                 "id_cliente, monto_neto, monto_total, estado, token, url_pdf, sincronizado_en "
                 "FROM documentos_venta ORDER BY id_bsale",
                 "90211|1451650496937243|2024-02-15|<null>|2024-02-15 12:10:13|311|10000|11900|0|"
                 "9f1c2e7a1b22||" SYNC1 "\n"
                 "90212|48121|2016-05-18|<null>|<null>|<null>|<null>|4990|1|<null>|<null>|" SYNC1
                 "\n");

    /* Bsale voids 90211 and fixes its total: same keys, new values. */
    cat_rows_init(&r, catalog_table("documentos_venta"));
    map_all(&r,
            "[{\"id\":90211,\"number\":1451650496937243,\"emissionDate\":1707955200,"
            "\"totalAmount\":\"840.3361\",\"state\":1,\"token\":\"nuevo\",\"client\":null}]",
            0);
    upsert_ok(f->db, &r, SYNC2);
    cat_rows_release(&r);
    assert_query(f->db, "SELECT COUNT(*) FROM documentos_venta", "2\n");
    assert_query(f->db,
                 "SELECT id_bsale, estado, monto_total, token, id_cliente, sincronizado_en "
                 "FROM documentos_venta ORDER BY id_bsale",
                 "90211|1|840.3361|nuevo|<null>|" SYNC2 "\n"
                 "90212|1|4990|<null>|<null>|" SYNC1 "\n");

    /* Composite key: stock (variant, office). */
    cat_rows_init(&r, catalog_table("stock"));
    map_all(&r,
            "[{\"quantity\":5,\"variant\":{\"id\":\"1\"},\"office\":{\"id\":\"1\"}},"
            "{\"quantity\":6,\"variant\":{\"id\":\"1\"},\"office\":{\"id\":\"2\"}}]",
            0);
    upsert_ok(f->db, &r, SYNC1);
    cat_rows_release(&r);
    cat_rows_init(&r, catalog_table("stock"));
    map_all(&r, "[{\"quantity\":\"7.25\",\"variant\":{\"id\":1},\"office\":{\"id\":2}}]", 0);
    upsert_ok(f->db, &r, SYNC2);
    cat_rows_release(&r);
    assert_query(f->db, "SELECT id_variante, id_sucursal, cantidad FROM stock ORDER BY id_sucursal",
                 "1|1|5\n1|2|7.25\n");
}

static void count_is(struct db *db, const char *table, const char *want)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
    assert_query(db, sql, want);
}

static void test_failed_batch_rolls_back(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    struct cat_rows r = {0};
    cat_rows_init(&r, catalog_table("detalles_venta"));
    make_lines(&r, 1, 10, 1);
    upsert_ok(f->db, &r, SYNC1);
    cat_rows_release(&r);

    /* 1200 rows, one bad (NULL key) near the end: earlier statements did run. */
    cat_rows_init(&r, catalog_table("detalles_venta"));
    make_lines(&r, 1000, 1200, 2);
    ((struct cat_value *)cat_rows_cell(&r, 1100, 0))->kind = CAT_V_NULL;

    assert_int_equal(db_begin(f->db, &e), ERR_OK);
    struct cat_rows doc = {0};
    cat_rows_init(&doc, catalog_table("documentos_venta"));
    map_all(&doc, "[{\"id\":2,\"number\":5}]", 0);
    upsert_ok(f->db, &doc, SYNC1);
    cat_rows_release(&doc);
    assert_int_equal(db_upsert(f->db, &r, SYNC1, &e), ERR_DB);
    assert_non_null(strstr(e.msg, "detalles_venta"));
    assert_int_equal(db_rollback(f->db, &e), ERR_OK);
    count_is(f->db, "detalles_venta", "10\n");
    count_is(f->db, "documentos_venta", "0\n");

    /* Without a caller's transaction db_upsert is all-or-nothing by itself. */
    err_clear(&e);
    assert_int_equal(db_upsert(f->db, &r, SYNC1, &e), ERR_DB);
    count_is(f->db, "detalles_venta", "10\n");
    cat_rows_release(&r);

    /* And the connection is still usable afterwards. */
    cat_rows_init(&r, catalog_table("detalles_venta"));
    make_lines(&r, 5000, 3, 3);
    assert_int_equal(db_begin(f->db, &e), ERR_OK);
    upsert_ok(f->db, &r, SYNC2);
    assert_int_equal(db_commit(f->db, &e), ERR_OK);
    cat_rows_release(&r);
    count_is(f->db, "detalles_venta", "13\n");
}

static void test_values_round_trip_exactly(void **state)
{
    struct fixture *f = *state;
    struct cat_rows r = {0};
    cat_rows_init(&r, catalog_table("detalles_venta"));
    map_all(&r,
            "[{\"id\":1,\"quantity\":2.8,\"netUnitValue\":840.3361,\"totalUnitValue\":\"12990.0\","
            "\"netAmount\":0.0001,\"taxAmount\":-1500.5,\"totalAmount\":123456789.1234,"
            "\"netDiscount\":\"99999999999.9999\",\"totalDiscount\":\"\","
            "\"note\":\"Champ\\u00fa para perros \\u00f1and\\u00fa \\ud83d\\udc36\\ud83d\\udc3e "
            "a\\u00f1o \\\"2024\\\" it's \\\\ ok\"},"
            "{\"id\":2,\"note\":\"\",\"quantity\":null},"
            "{\"id\":3,\"note\":null}]",
            77);
    upsert_ok(f->db, &r, SYNC1);
    cat_rows_release(&r);
    assert_query(f->db,
                 "SELECT cantidad, precio_unitario_neto, precio_unitario_total, monto_neto, "
                 "monto_impuestos, monto_total, descuento_neto, descuento_total FROM "
                 "detalles_venta WHERE id_bsale = 1",
                 "2.8|840.3361|12990|0.0001|-1500.5|123456789.1234|99999999999.9999|<null>\n");
    assert_query(f->db, "SELECT nota FROM detalles_venta ORDER BY id_bsale",
                 "Champ\xc3\xba para perros \xc3\xb1"
                 "and\xc3\xba \xf0\x9f\x90\xb6\xf0\x9f\x90\xbe"
                 " a\xc3\xb1o \"2024\" it's \\ ok\n\n<null>\n");
    /* NULL and "" stay distinct, and exact values compare as numbers. */
    assert_query(f->db, "SELECT id_bsale FROM detalles_venta WHERE nota = ''", "2\n");
    assert_query(f->db, "SELECT id_bsale FROM detalles_venta WHERE nota IS NULL", "3\n");
    assert_query(f->db, "SELECT id_bsale FROM detalles_venta WHERE precio_unitario_neto = 840.3361",
                 "1\n");
    assert_query(f->db, "SELECT id_bsale FROM detalles_venta WHERE precio_unitario_total > 12989",
                 "1\n");
    assert_query(f->db, "SELECT COUNT(*) FROM detalles_venta WHERE nota LIKE '%\xf0\x9f\x90\xb6%'",
                 "1\n");

    cat_rows_init(&r, catalog_table("pagos"));
    map_all(&r,
            "[{\"id\":9,\"amount\":\"68643.0\",\"recordDate\":1388545200,\"createdAt\":0,"
            "\"document\":{\"id\":\"1451650496937243\"}}]",
            0);
    upsert_ok(f->db, &r, SYNC1);
    cat_rows_release(&r);
    assert_query(f->db, "SELECT id_documento, monto, fecha_registro, creado_en FROM pagos",
                 "1451650496937243|68643|2014-01-01|1970-01-01 00:00:00\n");
    /* Date columns compare as dates. */
    assert_query(f->db,
                 "SELECT COUNT(*) FROM pagos WHERE fecha_registro BETWEEN '2014-01-01' "
                 "AND '2014-01-31'",
                 "1\n");
}

/* 300 rows of 60 KB: the MySQL batch must split by packet size, not only by row count. */
static void test_large_rows_split_statements(void **state)
{
    struct fixture *f = *state;
    const size_t note_len = 60000;
    char *js = xmalloc(note_len + 256);
    for (int pass = 0; pass < 2; pass++) {
        struct cat_rows r = {0};
        cat_rows_init(&r, catalog_table("detalles_venta"));
        for (int i = 0; i < 300; i++) {
            size_t k = (size_t)snprintf(js, 256, "{\"id\":%d,\"note\":\"", i + 1);
            memset(js + k, pass ? 'b' : 'a', note_len);
            snprintf(js + k + note_len, 256, "\",\"quantity\":%d}", pass + 1);
            json_t *item = parse(js);
            struct err e = ERR_INIT;
            if (catalog_map_item(&r, item, 1, &e))
                fail_msg("map: %s", e.msg);
            json_decref(item);
        }
        upsert_ok(f->db, &r, pass ? SYNC2 : SYNC1);
        cat_rows_release(&r);
    }
    free(js);
    assert_query(f->db,
                 "SELECT COUNT(*), MIN(LENGTH(nota)), MAX(LENGTH(nota)), SUM(cantidad) FROM "
                 "detalles_venta",
                 "300|60000|60000|600\n");
    assert_query(f->db, "SELECT COUNT(*) FROM detalles_venta WHERE nota LIKE 'bbbb%'", "300\n");
}

static void test_delete_children_and_missing_ids(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    const struct cat_table *lines = catalog_table("detalles_venta");
    struct cat_rows r = {0};
    cat_rows_init(&r, lines);
    make_lines(&r, 10, 4, 1); /* 10..13 of doc 1 */
    make_lines(&r, 20, 3, 2); /* 20..22 of doc 2 */
    make_lines(&r, 30, 2, 3); /* 30..31 of doc 3 */
    upsert_ok(f->db, &r, SYNC1);
    cat_rows_release(&r);

    /* Doc 1 now lists 10 and 12 only; doc 2 lists nothing; doc 3 is not touched. */
    int64_t parents[] = {1, 2};
    int64_t keep[] = {10, 12};
    assert_int_equal(db_delete_children(f->db, lines, "id_documento", parents, 2, keep, 2, &e),
                     ERR_OK);
    assert_query(f->db, "SELECT id_bsale FROM detalles_venta ORDER BY id_bsale",
                 "10\n12\n30\n31\n");
    int64_t p3[] = {3};
    assert_int_equal(db_delete_children(f->db, lines, "id_documento", p3, 1, NULL, 0, &e), ERR_OK);
    assert_query(f->db, "SELECT id_bsale FROM detalles_venta ORDER BY id_bsale", "10\n12\n");
    assert_int_equal(db_delete_children(f->db, lines, "nota; DROP TABLE x", p3, 1, NULL, 0, &e),
                     ERR_INTERNAL);

    int64_t ids[2500];
    for (size_t i = 0; i < ARRAY_LEN(ids); i++)
        ids[i] = (int64_t)i + 5; /* 5..2504: present are 10 and 12 */
    int64_t *missing = NULL;
    size_t n_missing = 0;
    assert_int_equal(db_missing_ids(f->db, lines, ids, ARRAY_LEN(ids), &missing, &n_missing, &e),
                     ERR_OK);
    assert_int_equal(n_missing, ARRAY_LEN(ids) - 2);
    assert_true(missing[0] == 5 && missing[4] == 9 && missing[5] == 11 && missing[6] == 13);
    assert_true(missing[n_missing - 1] == 2504);
    free(missing);
    assert_int_equal(db_missing_ids(f->db, lines, ids, 0, &missing, &n_missing, &e), ERR_OK);
    assert_int_equal(n_missing, 0);
    free(missing);
    assert_int_equal(
        db_missing_ids(f->db, catalog_table("stock"), ids, 3, &missing, &n_missing, &e),
        ERR_INTERNAL);
}

/* ---- run history ---- */

static void test_run_records(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    struct db_run a = {0}, b = {0}, got = {0};
    snprintf(a.tipo, sizeof(a.tipo), "full");
    snprintf(a.origen, sizeof(a.origen), "cli");
    snprintf(a.inicio, sizeof(a.inicio), "2024-02-16 10:00:00");
    assert_int_equal(db_run_insert(f->db, &a, &e), ERR_OK);
    assert_true(a.id > 0);
    snprintf(b.tipo, sizeof(b.tipo), "daily");
    snprintf(b.origen, sizeof(b.origen), "http");
    snprintf(b.fecha_desde, sizeof(b.fecha_desde), "2024-02-14");
    snprintf(b.fecha_hasta, sizeof(b.fecha_hasta), "2024-02-15");
    assert_int_equal(db_run_insert(f->db, &b, &e), ERR_OK);
    assert_true(b.id > a.id);
    assert_string_equal(b.estado, "running");
    assert_int_equal(strlen(b.inicio), 19);

    assert_int_equal(db_run_get(f->db, a.id, &got, &e), ERR_OK);
    assert_string_equal(got.tipo, "full");
    assert_string_equal(got.estado, "running");
    assert_string_equal(got.inicio, "2024-02-16 10:00:00");
    assert_string_equal(got.fin, "");
    assert_string_equal(got.fecha_desde, "");
    assert_string_equal(got.error, "");
    assert_null(got.detalle);
    db_run_release(&got);

    snprintf(a.estado, sizeof(a.estado), "succeeded");
    snprintf(a.fin, sizeof(a.fin), "2024-02-16 10:05:00");
    a.registros = 1451650496937243LL;
    a.solicitudes = 120;
    a.reintentos = 3;
    a.detalle = xstrdup("{\"tables\":{\"clientes\":12,\"notas\":\"a\\u00f1o \xf0\x9f\x90\xb6\"}}");
    assert_int_equal(db_run_update(f->db, &a, &e), ERR_OK);
    assert_int_equal(db_run_get(f->db, a.id, &got, &e), ERR_OK);
    assert_string_equal(got.estado, "succeeded");
    assert_string_equal(got.fin, "2024-02-16 10:05:00");
    assert_true(got.registros == 1451650496937243LL);
    assert_int_equal(got.solicitudes, 120);
    assert_int_equal(got.reintentos, 3);
    assert_string_equal(got.detalle, a.detalle);
    db_run_release(&got);
    db_run_release(&a);

    struct db_run *runs = NULL;
    size_t n = 0;
    assert_int_equal(db_run_list(f->db, 10, &runs, &n, &e), ERR_OK);
    assert_int_equal(n, 2);
    assert_true(runs[0].id == b.id && runs[1].id == a.id);
    assert_string_equal(runs[0].fecha_desde, "2024-02-14");
    assert_string_equal(runs[0].fecha_hasta, "2024-02-15");
    for (size_t i = 0; i < n; i++)
        db_run_release(&runs[i]);
    free(runs);
    assert_int_equal(db_run_list(f->db, 1, &runs, &n, &e), ERR_OK);
    assert_int_equal(n, 1);
    assert_true(runs[0].id == b.id);
    db_run_release(&runs[0]);
    free(runs);

    assert_int_equal(db_run_get(f->db, 424242, &got, &e), ERR_NOT_FOUND);
    assert_int_equal(db_run_fail_stale(f->db, "process died during the run", &e), ERR_OK);
    assert_int_equal(db_run_get(f->db, b.id, &got, &e), ERR_OK);
    assert_string_equal(got.estado, "failed");
    assert_string_equal(got.error, "process died during the run");
    assert_int_equal(strlen(got.fin), 19);
    db_run_release(&got);
    assert_int_equal(db_run_get(f->db, a.id, &got, &e), ERR_OK);
    assert_string_equal(got.estado, "succeeded"); /* finished runs are left alone */
    db_run_release(&got);
}

/* ---- incidents ---- */

static void incident_ok(struct db *db, long long run, const char *res, int64_t id,
                        const char *problem)
{
    struct err e = ERR_INIT;
    if (db_incident_insert(db, run, res, id, problem, SYNC1, &e))
        fail_msg("incident: %s", e.msg);
}

static void test_incident_records(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    incident_ok(f->db, 7, "/documents/12/details.json", 9001, "detalles_venta.cantidad: string");
    incident_ok(f->db, 7, "/clients.json", ETL_NO_ID, "clientes: key id_bsale is a real");
    /* Longer than the column: cut at a UTF-8 boundary, never inside "ñ". */
    char big[DB_INCIDENT_PROBLEM_MAX + 40];
    memset(big, 'a', DB_INCIDENT_PROBLEM_MAX - 1);
    memcpy(big + DB_INCIDENT_PROBLEM_MAX - 1, "\xc3\xb1tail", 7);
    incident_ok(f->db, 8, "/documents/13.json", 13, big);
    assert_query(f->db,
                 "SELECT id_ejecucion, recurso, id_recurso, creado_en, resuelto_en "
                 "FROM etl_incidencias ORDER BY id",
                 "7|/documents/12/details.json|9001|2024-02-16 10:00:00|<null>\n"
                 "7|/clients.json|<null>|2024-02-16 10:00:00|<null>\n"
                 "8|/documents/13.json|13|2024-02-16 10:00:00|<null>\n");
    assert_query(f->db, "SELECT LENGTH(problema) FROM etl_incidencias WHERE id_ejecucion = 8",
                 "499\n");

    struct db_incident *v = NULL;
    size_t n = 0;
    assert_int_equal(db_incidents_open(f->db, 10, &v, &n, &e), ERR_OK);
    assert_int_equal(n, 3);
    assert_true(v[1].id_recurso == -1);
    assert_string_equal(v[0].problema, "detalles_venta.cantidad: string");
    long long resolve[] = {v[0].id, v[2].id};
    free(v);
    assert_int_equal(db_incidents_resolve(f->db, resolve, 2, SYNC2, &e), ERR_OK);
    assert_int_equal(db_incidents_open(f->db, 10, &v, &n, &e), ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].recurso, "/clients.json");
    free(v);
    assert_int_equal(db_incidents_of_run(f->db, 7, &v, &n, &e), ERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].resuelto_en, SYNC2);
    assert_string_equal(v[1].resuelto_en, "");
    free(v);
    /* Resolving again leaves the first resolution time. */
    assert_int_equal(db_incidents_resolve(f->db, resolve, 1, "2030-01-01 00:00:00", &e), ERR_OK);
    assert_query(f->db, "SELECT resuelto_en FROM etl_incidencias WHERE id_recurso = 9001",
                 SYNC2 "\n");
}

static void writer_push(struct etl_writer *w, struct etl_batch *b)
{
    struct err e = ERR_INIT;
    if (etl_writer_push(w, b, &e))
        fail_msg("push: %s", e.msg);
}

static struct etl_batch *batch_of(const char *table, const char *items)
{
    struct etl_batch *b = etl_batch_new();
    struct cat_rows *r = etl_batch_rows(b, etl_table_index(table));
    size_t before = r->n;
    map_all(r, items, 0);
    b->n_rows += r->n - before;
    return b;
}

/* The writer lands a batch's incidents with its rows and resolves what it writes again. */
static void test_writer_incidents(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    incident_ok(f->db, 1, "/documents/5.json", 5, "documentos_venta.fecha_emision: string");
    incident_ok(f->db, 1, "/clients.json", 9, "clientes.puntos: real");
    incident_ok(f->db, 1, "/documents/6/details.json", 60, "detalles_venta.cantidad: object");
    struct etl_open_incidents open;
    assert_int_equal(etl_open_incidents_load(f->db, &open, &e), ERR_OK);
    assert_int_equal(open.n, 3);
    struct etl_counters c;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    struct etl_writer_opts wo = {
        .url = &f->url, .depth = 2, .counters = &c, .run_id = 2, .open = &open};
    struct etl_writer *w = NULL;
    assert_int_equal(etl_writer_start(&wo, &w, &e), ERR_OK);
    /* Document 5 written cleanly: resolved. Client 9 written with the same problem: open. */
    writer_push(w, batch_of("documentos_venta", "[{\"id\":5,\"number\":1}]"));
    struct etl_batch *b = batch_of("clientes", "[{\"id\":9,\"firstName\":\"Ana\"}]");
    etl_batch_add_incident(b, "/clients.json", 9, "clientes.puntos: real");
    etl_batch_add_incident(b, "/clients.json", ETL_NO_ID, "clientes: key id_bsale is a %s",
                           "string");
    writer_push(w, b);
    /* Incidents alone travel too. */
    b = etl_batch_new();
    etl_batch_add_incident(b, "/documents/7.json", 7, "documentos_venta: not an object");
    writer_push(w, b);
    assert_int_equal(etl_writer_finish(w, false, &e), ERR_OK);
    assert_int_equal(c.incidents, 3);
    assert_int_equal(c.incidents_resolved, 1);
    assert_query(f->db,
                 "SELECT id_ejecucion, recurso, id_recurso, resuelto_en IS NULL "
                 "FROM etl_incidencias ORDER BY id",
                 "1|/documents/5.json|5|0\n"
                 "1|/clients.json|9|1\n"
                 "1|/documents/6/details.json|60|1\n"
                 "2|/clients.json|<null>|1\n"
                 "2|/documents/7.json|7|1\n");
    count_is(f->db, "documentos_venta", "1\n");
    pthread_mutex_destroy(&c.mu);
    etl_open_incidents_release(&open);
}

/* ---- children replaced with their parent ---- */

static void write_batches(struct fixture *f, struct etl_batch **batches, size_t n)
{
    struct err e = ERR_INIT;
    struct etl_counters c;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    struct etl_writer_opts wo = {.url = &f->url, .depth = 1, .counters = &c, .run_id = 1};
    struct etl_writer *w = NULL;
    assert_int_equal(etl_writer_start(&wo, &w, &e), ERR_OK);
    for (size_t i = 0; i < n; i++)
        writer_push(w, batches[i]);
    if (etl_writer_finish(w, false, &e))
        fail_msg("writer: %s", e.msg);
    pthread_mutex_destroy(&c.mu);
}

/* A batch of documents (as transform_document) and payment records (as a /payments.json page). */
static struct etl_batch *children_batch(const char *docs, const char *payments)
{
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    json_t *d = parse(docs);
    for (size_t i = 0; i < json_array_size(d); i++)
        assert_int_equal(transform_document(b, json_array_get(d, i), NULL, &e), ERR_OK);
    json_decref(d);
    json_t *p = parse(payments);
    assert_int_equal(transform_page(b, etl_table_index("pagos"), p, 0, &e), ERR_OK);
    json_decref(p);
    return b;
}

#define TOTAL(t, a) "{\"href\":\"h\",\"id\":" #t ",\"name\":\"T\",\"amount\":" #a "}"
#define REF(id, n)                                                                                 \
    "{\"id\":" #id ",\"referenceDate\":1707955200,\"number\":\"" #n "\",\"reason\":\"Anula\","     \
    "\"dte_code\":{\"id\":\"39\"}}"

/*
 * A rewritten payment or document drops the children its new version lacks,
 * judged per parent (a payment type one document lost stays with another);
 * children of a document given only as links are untouched.
 */
static void test_writer_replaces_children(void **state)
{
    struct fixture *f = *state;
    struct etl_batch *b[3];
    b[0] = children_batch(
        "[{\"id\":900,\"details\":[],\"payments\":{\"count\":2,\"items\":"
        "[" TOTAL(5, 100) "," TOTAL(3, 50) "]},\"references\":{\"count\":2,"
                                           "\"items\":[" REF(1, 10) "," REF(
                                               2, 11) "]}},"
                                                      "{\"id\":901,\"details\":[],"
                                                      "\"payments\":[" TOTAL(
                                                          5, 70) "],\"references\":"
                                                                 "[" REF(3, 12) "]},"
                                                                                "{\"id\":"
                                                                                "902,"
                                                                                "\"detail"
                                                                                "s\":[],"
                                                                                "\"paymen"
                                                                                "ts\":"
                                                                                "[" TOTAL(5, 9) "]"
                                                                                                "}"
                                                                                                "]",
        "[{\"id\":501,\"amount\":15000,\"isCreditPayment\":1,\"recordDate\":"
        "\"\","
        "\"documents\":[{\"href\":\"h\",\"id\":\"900\",\"amount\":12000.0},"
        "{\"href\":\"h\",\"id\":\"901\",\"amount\":3000.0}]}]");
    /* 900 loses type 5 and reference 2, 901 keeps type 5, 902 comes as links only. */
    b[1] = children_batch("[{\"id\":900,\"details\":[],\"payments\":{\"count\":1,\"items\":"
                          "[" TOTAL(3, 150) "]},\"references\":{\"count\":1,\"items\":[" REF(
                              1, 10) "]}},"
                                     "{\"id\":901,\"details\":[],\"payments\":[" TOTAL(
                                         5, 70) "]},"
                                                "{\"id\":902,\"details\":[],\"payments\":{\"href\":"
                                                "\"h\"},\"references\":{\"href\":\"h\"}}]",
                          "[{\"id\":501,\"amount\":12000,\"isCreditPayment\":1,"
                          "\"documents\":[{\"href\":\"h\",\"id\":\"900\",\"amount\":12000.0}]}]");
    /* References read through the link: 901 has none left. */
    b[2] = etl_batch_new();
    json_t *none = json_array();
    transform_children(b[2], etl_table_index("referencias_documento"), none, 901);
    json_decref(none);
    write_batches(f, b, 1);
    assert_query(f->db,
                 "SELECT id_documento, id_forma_pago, CAST(monto AS SIGNED) FROM "
                 "pagos_por_tipo_documento ORDER "
                 "BY id_documento, id_forma_pago",
                 "900|3|50\n900|5|100\n901|5|70\n902|5|9\n");
    assert_query(
        f->db,
        "SELECT id_pago, id_documento, CAST(monto AS SIGNED) FROM pagos_documentos ORDER BY 2",
        "501|900|12000\n501|901|3000\n");
    write_batches(f, b + 1, 2);
    assert_query(f->db,
                 "SELECT id_documento, id_forma_pago, CAST(monto AS SIGNED) FROM "
                 "pagos_por_tipo_documento ORDER "
                 "BY id_documento, id_forma_pago",
                 "900|3|150\n901|5|70\n902|5|9\n");
    assert_query(f->db, "SELECT id_pago, id_documento, CAST(monto AS SIGNED) FROM pagos_documentos",
                 "501|900|12000\n");
    assert_query(f->db,
                 "SELECT id_bsale, id_documento, numero, codigo_dte, fecha_referencia FROM "
                 "referencias_documento ORDER BY id_bsale",
                 "1|900|10|39|2024-02-15\n");
    assert_query(f->db, "SELECT id_bsale, id_documento, es_pago_credito FROM pagos",
                 "501|<null>|1\n");
}

/* A batch that fails leaves no incident behind: rows and incidents share the transaction. */
static void test_writer_incidents_roll_back(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    struct etl_counters c;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    struct etl_writer_opts wo = {.url = &f->url, .depth = 1, .counters = &c, .run_id = 3};
    struct etl_writer *w = NULL;
    assert_int_equal(etl_writer_start(&wo, &w, &e), ERR_OK);
    struct etl_batch *b = batch_of("documentos_venta", "[{\"id\":5,\"number\":1}]");
    etl_batch_add_incident(b, "/documents/5.json", 5, "documentos_venta.numero: string");
    struct cat_rows *r = etl_batch_rows(b, etl_table_index("documentos_venta"));
    ((struct cat_value *)cat_rows_cell(r, 0, 0))->kind = CAT_V_NULL; /* the key: refused */
    writer_push(w, b);
    assert_int_equal(etl_writer_finish(w, false, &e), ERR_DB);
    count_is(f->db, "etl_incidencias", "0\n");
    count_is(f->db, "documentos_venta", "0\n");
    assert_int_equal(c.incidents, 0);
    pthread_mutex_destroy(&c.mu);
}

/* A run with a recorded cause keeps it when closed as left running; the others get one. */
static void test_left_runs_keep_their_cause(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    struct db_run quiet = {0}, caused = {0}, got = {0};
    snprintf(quiet.tipo, sizeof(quiet.tipo), "daily");
    snprintf(quiet.origen, sizeof(quiet.origen), "http");
    snprintf(quiet.inicio, sizeof(quiet.inicio), "2026-11-30 03:00:00");
    caused = quiet;
    assert_int_equal(db_run_insert(f->db, &quiet, &e), ERR_OK);
    assert_int_equal(db_run_insert(f->db, &caused, &e), ERR_OK);
    snprintf(caused.error, sizeof(caused.error), "Bsale answered 500 on /documents.json");
    assert_int_equal(db_run_update(f->db, &caused, &e), ERR_OK);

    int closed = 0;
    assert_int_equal(db_run_close_left(f->db, "interrupted: gone", &closed, &e), ERR_OK);
    assert_int_equal(closed, 2);
    assert_int_equal(db_run_get(f->db, quiet.id, &got, &e), ERR_OK);
    assert_string_equal(got.estado, "failed");
    assert_string_equal(got.error,
                        "interrupted: gone (last seen 2026-11-30 03:00:00 UTC, when it started)");
    assert_int_equal(strlen(got.fin), 19);
    db_run_release(&got);
    assert_int_equal(db_run_get(f->db, caused.id, &got, &e), ERR_OK);
    assert_string_equal(got.estado, "failed");
    assert_string_equal(got.error, "Bsale answered 500 on /documents.json");
    db_run_release(&got);
    assert_int_equal(db_run_close_left(f->db, "interrupted: gone", &closed, &e), ERR_OK);
    assert_int_equal(closed, 0);

    /* the stale-run sweep before a sync keeps a recorded cause too */
    struct db_run later = {0};
    snprintf(later.tipo, sizeof(later.tipo), "full");
    snprintf(later.origen, sizeof(later.origen), "cli");
    assert_int_equal(db_run_insert(f->db, &later, &e), ERR_OK);
    snprintf(later.error, sizeof(later.error), "database went away");
    assert_int_equal(db_run_update(f->db, &later, &e), ERR_OK);
    assert_int_equal(db_run_fail_stale(f->db, "abandoned", &e), ERR_OK);
    assert_int_equal(db_run_get(f->db, later.id, &got, &e), ERR_OK);
    assert_string_equal(got.estado, "failed");
    assert_string_equal(got.error, "database went away");
    db_run_release(&got);
}

/* A page and a document of values that do not fit, through the mapper and the writer. */
static struct etl_batch *misfit_batch(void)
{
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    json_t *clients = parse("[{\"id\":1,\"firstName\":true,\"address\":\"a\\u0000b\"},"
                            "{\"id\":\"2abc\"},{\"id\":9223372036854775809},{\"id\":3.5},"
                            "{\"id\":3,\"points\":1e308,\"maxCredit\":1e308,\"hasCredit\":7}]");
    if (transform_page(b, etl_table_index("clientes"), clients, 0, &e))
        fail_msg("page: %s", e.msg);
    json_decref(clients);
    size_t big = 20u << 20;
    char *note = xmalloc(big + 1);
    memset(note, 'x', big);
    note[big] = '\0';
    json_t *doc = parse("{\"id\":90211,\"emissionDate\":\"2024-02-15\",\"totalAmount\":1e308,"
                        "\"details\":{\"count\":1,\"items\":[{\"id\":5}]}}");
    json_t *line = json_array_get(json_object_get(json_object_get(doc, "details"), "items"), 0);
    json_object_set_new(line, "note", json_string(note));
    free(note);
    if (transform_document(b, doc, NULL, &e))
        fail_msg("document: %s", e.msg);
    json_decref(doc);
    char name[700];
    size_t k = (size_t)snprintf(name, sizeof(name), "{\"id\":8,\"name\":\"");
    for (int i = 0; i < 300; i++, k += 2)
        memcpy(name + k, "\xc3\xb1", 2);
    snprintf(name + k, sizeof(name) - k, "\"}");
    json_t *products = parse("[]");
    json_array_append_new(products, parse(name));
    if (transform_page(b, etl_table_index("productos"), products, 0, &e))
        fail_msg("page: %s", e.msg);
    json_decref(products);
    return b;
}

static void test_values_that_do_not_fit(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    struct etl_counters c;
    memset(&c, 0, sizeof(c));
    pthread_mutex_init(&c.mu, NULL);
    struct etl_writer_opts wo = {.url = &f->url, .depth = 1, .counters = &c, .run_id = 4};
    struct etl_writer *w = NULL;
    assert_int_equal(etl_writer_start(&wo, &w, &e), ERR_OK);
    writer_push(w, misfit_batch());
    assert_int_equal(etl_writer_finish(w, false, &e), ERR_OK);
    assert_query(f->db,
                 "SELECT id_bsale, nombre, direccion, puntos, credito_maximo, tiene_credito "
                 "FROM clientes ORDER BY id_bsale",
                 "1|true|a\xef\xbf\xbd"
                 "b|<null>|<null>|<null>\n"
                 "3|<null>|<null>|<null>|<null>|<null>\n");
    /* The document stays in its date's filters. */
    assert_query(f->db,
                 "SELECT id_bsale, monto_total FROM documentos_venta "
                 "WHERE fecha_emision BETWEEN '2024-02-15' AND '2024-02-15'",
                 "90211|<null>\n");
    assert_query(f->db, "SELECT LENGTH(nota) FROM detalles_venta WHERE id_bsale = 5", "65535\n");
    assert_query(f->db,
                 use_mysql ? "SELECT CHAR_LENGTH(nombre) FROM productos"
                           : "SELECT LENGTH(nombre) FROM productos",
                 "255\n");
    assert_int_equal(c.incidents, 12);
    assert_query(f->db, "SELECT COUNT(*), MIN(id_ejecucion) FROM etl_incidencias", "12|4\n");
    assert_query(f->db,
                 "SELECT recurso, id_recurso FROM etl_incidencias WHERE problema LIKE "
                 "'%record skipped' ORDER BY id",
                 "/clients.json|<null>\n/clients.json|<null>\n/clients.json|<null>\n");
    assert_query(f->db,
                 "SELECT recurso, id_recurso FROM etl_incidencias WHERE problema LIKE "
                 "'detalles_venta.nota%'",
                 "/documents/90211/details.json|5\n");
    assert_query(f->db, "SELECT MAX(LENGTH(problema)) < 300 FROM etl_incidencias", "1\n");
    pthread_mutex_destroy(&c.mu);
}

/* ---- lock and connections ---- */

static void test_lock_between_connections(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    struct db *other = open_db(&f->url);
    assert_int_equal(db_lock(f->db, &e), ERR_OK);
    assert_int_equal(db_lock(other, &e), ERR_BUSY);
    assert_non_null(strstr(e.msg, "another sync is running"));
    db_unlock(f->db);
    err_clear(&e);
    assert_int_equal(db_lock(other, &e), ERR_OK);
    assert_int_equal(db_lock(f->db, &e), ERR_BUSY);
    /* Closing a connection releases its lock. */
    db_close(other);
    assert_int_equal(db_lock(f->db, &e), ERR_OK);
    db_unlock(f->db);
}

/* A writer thread on its own connection, as the runner's writer does. */
struct writer {
    const struct db_url *url;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool in_txn;
    enum err_code rc;
    char msg[ERR_MSG_MAX];
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct err e = ERR_INIT;
    struct db *db = NULL;
    struct cat_rows r = {0};
    cat_rows_init(&r, catalog_table("detalles_venta"));
    make_lines(&r, 1, 100, 1);
    enum err_code rc = db_open(w->url, &db, &e);
    if (!rc)
        rc = db_begin(db, &e);
    if (!rc)
        rc = db_upsert(db, &r, SYNC1, &e);
    pthread_mutex_lock(&w->mu);
    w->in_txn = true; /* also on failure, so the test never waits forever */
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (!rc)
        rc = db_commit(db, &e);
    w->rc = rc;
    snprintf(w->msg, sizeof(w->msg), "%s", e.msg);
    cat_rows_release(&r);
    db_close(db);
    return NULL;
}

/*
 * Readers never see a batch in flight (WAL and MySQL readers see the last
 * commit; the in-memory database makes readers wait for the commit, so
 * reader_waits skips that check); a second writer waits for the first, then
 * succeeds.
 */
static void check_concurrent_writers(const struct db_url *url, struct db *db, bool reader_waits)
{
    struct writer w = {.url = url, .rc = ERR_OK};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
    pthread_mutex_lock(&w.mu);
    while (!w.in_txn)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    if (!reader_waits)
        assert_query(db, "SELECT COUNT(*) FROM detalles_venta", "0\n");
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    cat_rows_init(&r, catalog_table("detalles_venta"));
    make_lines(&r, 1000, 100, 2);
    enum err_code rc = db_begin(db, &e);
    if (!rc)
        rc = db_upsert(db, &r, SYNC2, &e);
    if (!rc)
        rc = db_commit(db, &e);
    cat_rows_release(&r);
    pthread_join(th, NULL);
    if (rc)
        fail_msg("second writer: %s", e.msg);
    if (w.rc)
        fail_msg("first writer: %s", w.msg);
    assert_query(db, "SELECT COUNT(*) FROM detalles_venta", "200\n");
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
}

static void test_concurrent_connections(void **state)
{
    struct fixture *f = *state;
    check_concurrent_writers(&f->url, f->db, false);
}

static void test_ping_and_backend_name(void **state)
{
    struct fixture *f = *state;
    struct err e = ERR_INIT;
    assert_int_equal(db_ping(f->db, &e), ERR_OK);
    assert_string_equal(db_backend_name(f->db), use_mysql ? "mysql" : "sqlite");
}

static void test_mysql_bad_credentials(void **state)
{
    (void)state;
    struct db_url u = {0};
    struct db *db = NULL;
    struct err e = ERR_INIT;
    copy_url(&u, &base_url);
    free(u.password);
    u.password = xstrdup("Wr0ng-S3cret-pw");
    assert_int_equal(db_open(&u, &db, &e), ERR_DB);
    assert_null(db);
    assert_null(strstr(e.msg, "Wr0ng-S3cret-pw"));
    assert_null(strstr(e.msg, base_url.password));
    assert_non_null(strstr(e.msg, base_url.user));
    assert_non_null(strstr(e.msg, base_url.database));
    assert_non_null(strstr(e.msg, "Access denied"));
    db_url_release(&u);
}

static void test_mysql_unreachable(void **state)
{
    (void)state;
    struct db_url u = {0};
    struct db *db = NULL;
    struct err e = ERR_INIT;
    copy_url(&u, &base_url);
    free(u.host);
    u.host = xstrdup("127.0.0.1");
    u.port = 1; /* nothing listens there */
    u.connect_timeout_s = 2;
    assert_int_equal(db_open(&u, &db, &e), ERR_DB);
    assert_null(db);
    assert_non_null(strstr(e.msg, "cannot connect"));
    assert_non_null(strstr(e.msg, "127.0.0.1:1"));
    assert_null(strstr(e.msg, base_url.password));
    db_url_release(&u);
}

/* The test server has TLS disabled: a URL demanding TLS must not fall back to plaintext. */
static void test_mysql_tls_required(void **state)
{
    (void)state;
    struct db_url u = {0};
    struct db *db = NULL;
    struct err e = ERR_INIT;
    copy_url(&u, &base_url);
    u.ssl = true;
    assert_int_equal(db_open(&u, &db, &e), ERR_DB);
    assert_null(db);
    assert_non_null(strstr(e.msg, "TLS"));
    err_clear(&e);
    u.ssl_verify = true;
    assert_int_equal(db_open(&u, &db, &e), ERR_DB);
    assert_null(db);
    assert_non_null(strstr(e.msg, "SSL"));
    assert_null(strstr(e.msg, base_url.password));
    db_url_release(&u);
}

static void test_sqlite_bad_path(void **state)
{
    (void)state;
    struct db_url u = {.kind = DB_KIND_SQLITE, .path = (char *)"/nonexistent-dir/x/petl.db"};
    struct db *db = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(db_open(&u, &db, &e), ERR_DB);
    assert_null(db);
    assert_non_null(strstr(e.msg, "/nonexistent-dir/x/petl.db"));
}

static void test_sqlite_memory_is_shared(void **state)
{
    (void)state;
    struct db_url u = {.kind = DB_KIND_SQLITE, .path = (char *)":memory:"};
    struct err e = ERR_INIT;
    struct db *a = open_db(&u);
    struct db *b = open_db(&u);
    assert_int_equal(db_migrate(a, &e), ERR_OK);
    int version;
    assert_int_equal(db_schema_check(b, &version, &e), ERR_OK);
    struct cat_rows r = {0};
    cat_rows_init(&r, catalog_table("detalles_venta"));
    make_lines(&r, 1, 5, 1);
    upsert_ok(a, &r, SYNC1);
    cat_rows_release(&r);
    assert_query(b, "SELECT COUNT(*), SUM(cantidad) FROM detalles_venta", "5|7.5\n");
    /* The single-flight lock covers every connection of the process. */
    assert_int_equal(db_lock(a, &e), ERR_OK);
    assert_int_equal(db_lock(b, &e), ERR_BUSY);
    assert_non_null(strstr(e.msg, "another sync is running"));
    db_unlock(a);
    assert_int_equal(db_lock(b, &e), ERR_OK);
    db_close(b); /* releases */
    assert_int_equal(db_lock(a, &e), ERR_OK);
    db_unlock(a);
    exec(a, "DELETE FROM detalles_venta");
    check_concurrent_writers(&u, a, true);
    db_close(a);
}

/* ---- main ---- */

static int setup_backend(void)
{
    if (!use_mysql) {
        snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/petl-test-db.XXXXXX");
        if (!mkdtemp(tmp_dir)) {
            perror("mkdtemp");
            return 1;
        }
        return 0;
    }
    const char *url = getenv("TEST_MYSQL_URL");
    const char *require = getenv("PETL_REQUIRE_MYSQL");
    if (!url || !*url) {
        if (require && strcmp(require, "1") == 0) {
            fprintf(stderr, "test_db: PETL_REQUIRE_MYSQL=1 but TEST_MYSQL_URL is not set\n");
            return 1;
        }
        fprintf(stderr, "test_db: TEST_MYSQL_URL not set, skipping the MySQL suite\n");
        return 77;
    }
    struct err e = ERR_INIT;
    if (db_url_parse(url, &base_url, &e) || base_url.kind != DB_KIND_MYSQL) {
        fprintf(stderr, "test_db: bad TEST_MYSQL_URL: %s\n", e.msg);
        return 1;
    }
    if (db_open(&base_url, &admin, &e)) {
        fprintf(stderr, "test_db: %s\n", e.msg);
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
    const struct CMUnitTest common[] = {
        cmocka_unit_test_setup_teardown(test_migrate_creates_schema, setup_migrated, teardown),
        cmocka_unit_test(test_comment_literal_is_escaped),
        cmocka_unit_test_setup_teardown(test_migrate_is_idempotent, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_schema_check_errors, setup_empty, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_upgrades_older_database, setup_empty,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_migrate_widens_long_text, setup_empty, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_version_2, setup_empty, teardown),
        cmocka_unit_test_setup_teardown(test_writer_replaces_children, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_insert_then_update, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_rolls_back, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_values_round_trip_exactly, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_large_rows_split_statements, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_delete_children_and_missing_ids, setup_migrated,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_run_records, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_incident_records, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_writer_incidents, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_writer_incidents_roll_back, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_left_runs_keep_their_cause, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_values_that_do_not_fit, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_lock_between_connections, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_connections, setup_migrated, teardown),
        cmocka_unit_test_setup_teardown(test_ping_and_backend_name, setup_migrated, teardown),
    };
    const struct CMUnitTest mysql_only[] = {
        cmocka_unit_test(test_mysql_bad_credentials),
        cmocka_unit_test(test_mysql_unreachable),
        cmocka_unit_test(test_mysql_tls_required),
        cmocka_unit_test_setup_teardown(test_mysql_comments_describe_the_schema, setup_migrated,
                                        teardown),
    };
    const struct CMUnitTest sqlite_only[] = {
        cmocka_unit_test(test_sqlite_bad_path),
        cmocka_unit_test(test_sqlite_memory_is_shared),
    };
    const char *name = use_mysql ? "mysql" : "sqlite";
    rc = cmocka_run_group_tests_name(name, common, NULL, NULL);
    if (use_mysql)
        rc |= cmocka_run_group_tests_name("mysql-only", mysql_only, NULL, NULL);
    else
        rc |= cmocka_run_group_tests_name("sqlite-only", sqlite_only, NULL, NULL);
    if (use_mysql) {
        db_close(admin);
        db_url_release(&base_url);
    } else {
        (void)rmdir(tmp_dir);
    }
    return rc ? 1 : 0;
}

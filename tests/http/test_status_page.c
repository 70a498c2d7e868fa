/*
 * The status page's data and HTML against a real SQLite warehouse: what it
 * reads (runs, last successes, open incidents, daily net sales with credit
 * notes subtracted and voided documents left out), how it escapes database
 * text, its charts' points, its language choice, and a database it cannot read.
 * usage: test_status_page [sqlite|mysql]  (mysql: TEST_MYSQL_URL, each test its own database;
 * exit 77 when unset unless PETL_REQUIRE_MYSQL=1)
 */
#include "common.h"

#include "buf.h"
#include "config.h"
#include "date.h"
#include "db.h"
#include "db_url.h"
#include "http_status_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#define EVIL "<script>alert(\"x\")</script>&'"
#define EVIL_ESCAPED "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"

static char dir[64];
static bool use_mysql;
static struct db *admin; /* mysql: creates and drops each test's database */

struct fx {
    struct config cfg;
    struct db *db;
    char name[64];
    char today[11];
};

static void exec_sql(struct db *db, const char *sql)
{
    struct err e = ERR_INIT;
    if (db_query(db, sql, NULL, NULL, &e)) {
        print_error("%s: %s\n", sql, e.msg);
        fail();
    }
}

/* A fresh database of the backend under test, described by f->cfg.db. */
static enum err_code fresh_database(struct fx *f, struct err *e)
{
    static int n;
    snprintf(f->name, sizeof(f->name), "petl_status_%ld_%d", (long)getpid(), n++);
    if (!use_mysql) {
        f->cfg.db.kind = DB_KIND_SQLITE;
        f->cfg.db.path = xasprintf("%s/%s.db", dir, f->name);
        return ERR_OK;
    }
    enum err_code rc = db_url_parse(getenv("TEST_MYSQL_URL"), &f->cfg.db, e);
    if (rc)
        return rc;
    free(f->cfg.db.database);
    f->cfg.db.database = xstrdup(f->name);
    char sql[160];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s CHARACTER SET utf8mb4", f->name);
    return db_query(admin, sql, NULL, NULL, e);
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    struct err e = ERR_INIT;
    f->cfg.etl_timezone = "UTC";
    date_use_timezone("UTC");
    if (fresh_database(f, &e) || db_open(&f->cfg.db, &f->db, &e) || db_migrate(f->db, &e) ||
        date_today("UTC", f->today, &e)) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    struct err e = ERR_INIT;
    db_close(f->db);
    if (use_mysql) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", f->name);
        if (db_query(admin, sql, NULL, NULL, &e))
            fprintf(stderr, "teardown: %s\n", e.msg);
    } else {
        unlink(f->cfg.db.path);
    }
    db_url_release(&f->cfg.db);
    free(f);
    return 0;
}

static long long add_run(struct fx *f, const char *tipo, const char *estado, const char *inicio,
                         const char *fin, long long rows, const char *error)
{
    struct err e = ERR_INIT;
    struct db_run r;
    memset(&r, 0, sizeof(r));
    snprintf(r.tipo, sizeof(r.tipo), "%s", tipo);
    snprintf(r.origen, sizeof(r.origen), "http");
    snprintf(r.inicio, sizeof(r.inicio), "%s", inicio);
    snprintf(r.fin, sizeof(r.fin), "%s", fin);
    snprintf(r.error, sizeof(r.error), "%s", error);
    r.registros = rows;
    r.solicitudes = rows / 10;
    assert_int_equal(db_run_insert(f->db, &r, &e), ERR_OK); /* as 'running' */
    snprintf(r.estado, sizeof(r.estado), "%s", estado);
    assert_int_equal(db_run_update(f->db, &r, &e), ERR_OK);
    return r.id;
}

/* A document of type tipo on today + day_offset. */
static void add_doc(struct fx *f, int id, int tipo, int day_offset, double total, int estado)
{
    struct err e = ERR_INIT;
    char day[11], sql[320];
    assert_int_equal(date_add(f->today, day_offset, day, &e), ERR_OK);
    snprintf(sql, sizeof(sql),
             "INSERT INTO documentos_venta (id_bsale, id_tipo_documento, fecha_emision, "
             "monto_total, estado, sincronizado_en) VALUES (%d, %d, '%s', %.2f, %d, "
             "'2024-05-01 00:00:00')",
             id, tipo, day, total, estado);
    exec_sql(f->db, sql);
}

static void fill_warehouse(struct fx *f)
{
    exec_sql(f->db,
             "INSERT INTO tipos_documento (id_bsale, nombre, es_nota_credito, sincronizado_en) "
             "VALUES (1, 'BOLETA', 0, '2024-05-01 00:00:00'), "
             "(2, 'NOTA DE CREDITO', 1, '2024-05-01 00:00:00')");
    add_doc(f, 10, 1, 0, 1000, 0); /* today: 1000 + 500 - 300 = 1200, three documents */
    add_doc(f, 11, 1, 0, 500, 0);
    add_doc(f, 12, 2, 0, 300, 0);    /* credit note: subtracted */
    add_doc(f, 13, 1, 0, 9999, 1);   /* voided: left out */
    add_doc(f, 14, 1, -29, 70, 0);   /* the window's first day */
    add_doc(f, 15, 1, -30, 5555, 0); /* one day before the window */
    add_doc(f, 16, 7, -3, 40, 0);    /* a type the warehouse does not know yet: a sale */
}

static void render(const struct status_data *d, enum status_lang lang, struct buf *b)
{
    buf_init(b, 0);
    status_page_render(d, lang, b);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The page of the sample warehouse, in both languages. */
static void assert_page(const struct status_data *d, const char *today, long long running)
{
    struct buf b;
    render(d, STATUS_ES, &b);
    assert_null(strstr(b.data, "<script"));
    assert_int_equal(count(b.data, EVIL_ESCAPED), 4); /* the run's reason, 3 incidents */
    assert_non_null(strstr(b.data, "<svg data-chart=\"runs\" data-points=\"5\""));
    assert_non_null(strstr(b.data, "<tr data-type=\"&lt;b&gt;ackfill\"><td>&lt;b&gt;ackfill</td>"));
    assert_null(strstr(b.data, "<b>ackfill"));
    assert_non_null(strstr(b.data, "<svg data-chart=\"sales\" data-points=\"30\""));
    assert_int_equal(count(b.data, "<rect class=\"bar\" data-day="), 30);
    assert_int_equal(count(b.data, "<rect class=\"bar\" data-run="), 5);
    char want[160];
    snprintf(want, sizeof(want), "data-day=\"%s\" data-net=\"1200.00\" data-docs=\"3\"", today);
    assert_non_null(strstr(b.data, want));
    snprintf(want, sizeof(want), "data-running-run=\"%lld\"", running);
    assert_non_null(strstr(b.data, want));
    assert_non_null(strstr(b.data, "data-run=\"1\" data-rows=\"2000\" data-seconds=\"125\""));
    assert_non_null(strstr(b.data, "<b data-open-incidents=\"3\">3</b>"));
    assert_non_null(strstr(b.data, "<html lang=\"es\">"));
    assert_non_null(strstr(b.data, "Ejecuciones recientes"));
    assert_non_null(strstr(b.data, "2.000")); /* thousands grouped the Spanish way */
    assert_non_null(strstr(b.data, "2 min 05 s"));
    /* self-contained: nothing is fetched from elsewhere */
    assert_null(strstr(b.data, "src="));
    assert_null(strstr(b.data, "https://"));
    buf_release(&b);
    render(d, STATUS_EN, &b);
    assert_non_null(strstr(b.data, "<html lang=\"en\">"));
    assert_non_null(strstr(b.data, "Recent runs"));
    assert_non_null(strstr(b.data, "2,000"));
    buf_release(&b);
}

static void test_reads_the_warehouse(void **state)
{
    struct fx *f = *state;
    struct err e = ERR_INIT;
    fill_warehouse(f);
    add_run(f, "full", "succeeded", "2024-05-01 10:00:00", "2024-05-01 10:02:05", 2000, "");
    long long failed =
        add_run(f, "daily", "failed", "2024-05-02 10:00:00", "2024-05-02 10:00:09", 0, EVIL);
    add_run(f, "daily", "succeeded", "2024-05-03 10:00:00", "2024-05-03 10:00:30", 300, "");
    add_run(f, "<b>ackfill", "succeeded", "2024-04-03 10:00:00", "2024-04-03 10:00:01", 1, "");
    long long running = add_run(f, "daily", "running", "2024-05-04 10:00:00", "", 0, "");
    for (int i = 0; i < 3; i++)
        assert_int_equal(db_incident_insert(f->db, failed, "documents", 100 + i, EVIL,
                                            "2024-05-02 10:00:05", &e),
                         ERR_OK);
    struct status_data *d = xcalloc(1, sizeof(*d));
    status_data_load(&f->cfg, d);
    assert_string_equal(d->error, "");
    assert_int_equal(d->n_runs, 5);
    assert_int_equal(d->runs[0].id, running);
    assert_int_equal(d->n_last, 3); /* ordered by tipo */
    assert_string_equal(d->last[0].tipo, "<b>ackfill");
    assert_string_equal(d->last[1].tipo, "daily");
    assert_string_equal(d->last[1].fin, "2024-05-03 10:00:30");
    assert_string_equal(d->last[2].fin, "2024-05-01 10:02:05");
    assert_int_equal(d->open_incidents, 3);
    assert_int_equal(d->n_incidents, 3);
    assert_string_equal(d->incidents[0].id_recurso, "102"); /* newest first */
    assert_string_equal(d->days[STATUS_DAYS - 1].date, f->today);
    assert_int_equal(d->days[STATUS_DAYS - 1].docs, 3);
    assert_true(d->days[STATUS_DAYS - 1].net == 1200);
    assert_int_equal(d->days[0].docs, 1);
    assert_true(d->days[0].net == 70);
    assert_int_equal(d->days[STATUS_DAYS - 4].docs, 1);
    long long docs = 0;
    for (size_t i = 0; i < STATUS_DAYS; i++)
        docs += d->days[i].docs;
    assert_int_equal(docs, 5); /* the voided one and the one before the window are out */

    assert_page(d, f->today, running);
    status_data_release(d);
    free(d);
}

static void test_empty_warehouse(void **state)
{
    struct fx *f = *state;
    struct status_data *d = xcalloc(1, sizeof(*d));
    status_data_load(&f->cfg, d);
    assert_string_equal(d->error, "");
    struct buf b;
    render(d, STATUS_EN, &b);
    assert_non_null(strstr(b.data, "No sync is running."));
    assert_non_null(strstr(b.data, "No runs yet."));
    assert_non_null(strstr(b.data, "<svg data-chart=\"runs\" data-points=\"0\""));
    assert_non_null(strstr(b.data, "<svg data-chart=\"sales\" data-points=\"30\""));
    assert_int_equal(count(b.data, "data-net=\"0.00\" data-docs=\"0\" x="), 30); /* the bars */
    buf_release(&b);
    status_data_release(d);
    free(d);
}

static void test_database_unreadable(void **state)
{
    struct config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.db.kind = DB_KIND_SQLITE;
    cfg.db.path = "/nonexistent-dir/petl/x.db";
    cfg.etl_timezone = "UTC";
    struct status_data *d = xcalloc(1, sizeof(*d));
    status_data_load(&cfg, d);
    assert_string_not_equal(d->error, "");
    struct buf b;
    render(d, STATUS_ES, &b);
    assert_non_null(strstr(b.data, "id=\"db-error\""));
    assert_non_null(strstr(b.data, "No se pudo leer la base de datos"));
    buf_release(&b);
    status_data_release(d);
    free(d);
}

static void test_language(void **state)
{
    assert_int_equal(status_lang_from_header(NULL), STATUS_ES);
    assert_int_equal(status_lang_from_header(""), STATUS_ES);
    assert_int_equal(status_lang_from_header("en-US,en;q=0.9"), STATUS_EN);
    assert_int_equal(status_lang_from_header("es-CL,es;q=0.9,en;q=0.8"), STATUS_ES);
    assert_int_equal(status_lang_from_header("fr-FR, en;q=0.5"), STATUS_EN);
    assert_int_equal(status_lang_from_header("en;q=0.4, es;q=0.6"), STATUS_ES);
    assert_int_equal(status_lang_from_header("de, fr"), STATUS_ES);
    assert_int_equal(status_lang_from_header("EN"), STATUS_EN);
    assert_int_equal(status_lang_from_header("eng, en;q=0"), STATUS_ES);
}

static void test_confirm_page(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    status_confirm_render(ETL_FULL, STATUS_ES, &b);
    assert_non_null(
        strstr(b.data, "<form method=\"post\" action=\"/etl/run-full-sync?wait=false\">"));
    assert_non_null(strstr(b.data, "¿Iniciar ahora una sincronización completa?"));
    assert_non_null(strstr(b.data, "href=\"/status\""));
    buf_release(&b);
    buf_init(&b, 0);
    status_confirm_render(ETL_DAILY, STATUS_EN, &b);
    assert_non_null(strstr(b.data, "action=\"/etl/run-daily-sync?wait=false\""));
    assert_non_null(strstr(b.data, "Start a daily sync now?"));
    buf_release(&b);
}

/* mysql: connects the admin session; 77 (skip) without TEST_MYSQL_URL unless it is required. */
static int setup_backend(void)
{
    if (!use_mysql)
        return 0;
    const char *url = getenv("TEST_MYSQL_URL"), *require = getenv("PETL_REQUIRE_MYSQL");
    if (!url || !*url) {
        fprintf(stderr, "test_status_page: TEST_MYSQL_URL not set%s\n",
                require && strcmp(require, "1") == 0 ? " but PETL_REQUIRE_MYSQL=1" : ", skipping");
        return require && strcmp(require, "1") == 0 ? 1 : 77;
    }
    struct err e = ERR_INIT;
    struct db_url u;
    enum err_code rc = db_url_parse(url, &u, &e);
    if (!rc)
        rc = db_open(&u, &admin, &e);
    db_url_release(&u);
    if (rc)
        fprintf(stderr, "test_status_page: %s\n", e.msg);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    use_mysql = argc > 1 && strcmp(argv[1], "mysql") == 0;
    int rc = setup_backend();
    if (rc)
        return rc;
    snprintf(dir, sizeof(dir), "/tmp/petl-status.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_the_warehouse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_warehouse, setup, teardown),
        cmocka_unit_test(test_database_unreadable),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_confirm_page),
    };
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    db_close(admin);
    return rc;
}

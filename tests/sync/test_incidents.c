/*
 * Incidents end to end: a run over a scripted Bsale whose documents hold values
 * that do not fit succeeds, counts them in its summary and records them; the
 * next run re-reads those documents by id and, finding them clean, resolves
 * the incidents. SQLite file per test.
 */
#include "common.h"

#include "buf.h"
#include "config.h"
#include "db.h"
#include "sync_runner.h"
#include "fake_bsale.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define TOKEN "incidents-token-5b1e"
#define DAY "2024-02-15"

/* One document of DAY (1707955200) with one line; the placeholders take the quirks. */
#define DOC_JSON                                                                                   \
    "{\"id\":90211,\"emissionDate\":%s,\"totalAmount\":%s,\"number\":5,\"state\":0,"               \
    "\"details\":{\"count\":2,\"limit\":25,\"offset\":0,\"items\":["                               \
    "{\"id\":901,\"lineNumber\":1,\"quantity\":%s,\"note\":\"ok\"},"                               \
    "{\"id\":%s,\"lineNumber\":2,\"quantity\":1}]},"                                               \
    "\"payments\":{\"count\":0,\"limit\":25,\"offset\":0,\"items\":[]}}"

struct fixture {
    struct fake_bsale *fb;
    char *base_url;
    char db_path[96];
    struct config cfg;
    struct db *db;
};

static char *doc(bool clean)
{
    return clean ? xasprintf(DOC_JSON, "1707955200", "11900.0", "2.0", "902")
                 : xasprintf(DOC_JSON, "\"2024-02-15\"", "1e308", "true", "3.5");
}

static char *page_of(const char *d)
{
    return xasprintf("{\"count\":1,\"limit\":50,\"offset\":0,\"items\":[%s]}", d);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    struct fb_opts o = {.token = TOKEN, .n_items = 0};
    f->fb = fb_start(&o);
    assert_non_null(f->fb);
    f->base_url = fb_base_url(f->fb);
    snprintf(f->db_path, sizeof(f->db_path), "/tmp/petl-incidents-%ld.db", (long)getpid());
    unlink(f->db_path);
    char *url = xasprintf("sqlite:///%s", f->db_path);
    setenv("DATABASE_URL", url, 1);
    free(url);
    setenv("BSALE_API_TOKEN", TOKEN, 1);
    setenv("BSALE_API_URL", f->base_url, 1);
    setenv("ETL_TIMEZONE", "UTC", 1);
    setenv("LOG_LEVEL", "error", 1);
    struct config_opts opts = {.env_file = "/nonexistent/petl-incidents.env"};
    struct err e = ERR_INIT;
    if (config_load(&f->cfg, &opts, NULL, &e))
        fail_msg("config: %s", e.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(f->db);
    config_release(&f->cfg);
    fb_stop(f->fb);
    free(f->base_url);
    unlink(f->db_path);
    char side[128];
    snprintf(side, sizeof(side), "%s-wal", f->db_path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", f->db_path);
    unlink(side);
    snprintf(side, sizeof(side), "%s.lock", f->db_path);
    unlink(side);
    free(f);
    return 0;
}

static void serve(struct fixture *f, const char *path, const char *body)
{
    fb_add_rule(f->fb, (struct fb_rule){path, -1, FB_STATUS, 200, body, NULL, 0, NULL, false});
}

/* Runs a daily sync of DAY; returns its summary (owned). */
static json_t *sync_day(struct fixture *f)
{
    struct etl_runner *r = NULL;
    struct err e = ERR_INIT;
    struct etl_request req = {.kind = ETL_DAILY, .origin = ETL_ORIGIN_CLI};
    snprintf(req.date_from, sizeof(req.date_from), DAY);
    snprintf(req.date_to, sizeof(req.date_to), DAY);
    long long id = 0;
    json_t *summary = NULL;
    assert_int_equal(etl_runner_new(&f->cfg, &r, &e), ERR_OK);
    assert_int_equal(etl_runner_start(r, &req, &id, &e), ERR_OK);
    if (etl_runner_wait(r, id, &summary, &e))
        fail_msg("sync failed: %s", e.msg);
    etl_runner_free(r);
    return summary;
}

static int append_row(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    struct buf *b = ctx;
    for (int i = 0; i < ncols; i++)
        (void)buf_appendf(b, NULL, "%s%s", i ? "|" : "", cells[i] ? cells[i] : "<null>");
    (void)buf_append_str(b, "\n", NULL);
    return 0;
}

static void assert_query(struct fixture *f, const char *sql, const char *want)
{
    struct err e = ERR_INIT;
    if (!f->db && db_open(&f->cfg.db, &f->db, &e))
        fail_msg("open: %s", e.msg);
    struct buf b;
    buf_init(&b, 0);
    if (db_query(f->db, sql, append_row, &b, &e))
        fail_msg("query '%s': %s", sql, e.msg);
    char *got = buf_detach(&b, NULL);
    if (strcmp(got, want) != 0)
        fail_msg("query '%s'\n got: %s\nwant: %s", sql, got, want);
    free(got);
}

static long long summary_int(json_t *s, const char *key)
{
    return (long long)json_integer_value(json_object_get(s, key));
}

static void test_incidents_then_resolved(void **state)
{
    struct fixture *f = *state;
    char *bad = doc(false), *clean = doc(true);
    char *bad_page = page_of(bad), *clean_page = page_of(clean);
    serve(f, "/v1/documents.json", bad_page);
    json_t *s = sync_day(f);
    assert_string_equal(json_string_value(json_object_get(s, "status")), "succeeded");
    /* emissionDate as text, 1e308 total, true quantity, line id 3.5 (skipped). */
    assert_int_equal(summary_int(s, "incidents"), 4);
    assert_int_equal(summary_int(s, "incidents_resolved"), 0);
    long long run1 = summary_int(s, "id");
    json_decref(s);
    assert_query(f, "SELECT fecha_emision, monto_total FROM documentos_venta",
                 "2024-02-15|<null>\n");
    assert_query(f, "SELECT id_bsale, cantidad FROM detalles_venta", "901|<null>\n");
    assert_query(f,
                 "SELECT recurso, id_recurso, resuelto_en IS NULL FROM etl_incidencias "
                 "ORDER BY id",
                 "/documents.json|90211|1\n/documents.json|90211|1\n"
                 "/documents/90211/details.json|901|1\n"
                 "/documents/90211/details.json|<null>|1\n");
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM etl_incidencias WHERE id_ejecucion = %lld",
             run1);
    assert_query(f, sql, "4\n");
    snprintf(sql, sizeof(sql),
             "SELECT detalle LIKE '%%\"incidents\":4%%' FROM etl_ejecuciones "
             "WHERE id = %lld",
             run1);
    assert_query(f, sql, "1\n");

    /* Bsale fixed the document: the next run re-reads it by id and resolves what it wrote,
     * the line without an id too (the document's lines were replaced by clean ones). */
    serve(f, "/v1/documents.json", clean_page);
    serve(f, "/v1/documents/90211.json", clean);
    s = sync_day(f);
    assert_string_equal(json_string_value(json_object_get(s, "status")), "succeeded");
    assert_int_equal(summary_int(s, "incidents"), 0);
    assert_int_equal(summary_int(s, "incidents_resolved"), 4);
    json_decref(s);
    assert_int_equal(fb_count(f->fb, "/v1/documents/90211.json", -1), 1);
    assert_query(f, "SELECT monto_total FROM documentos_venta", "11900\n");
    assert_query(f,
                 "SELECT recurso, id_recurso, resuelto_en IS NULL FROM etl_incidencias "
                 "ORDER BY id",
                 "/documents.json|90211|0\n/documents.json|90211|0\n"
                 "/documents/90211/details.json|901|0\n"
                 "/documents/90211/details.json|<null>|0\n");
    free(bad);
    free(clean);
    free(bad_page);
    free(clean_page);
}

/* A document Bsale no longer has: removed, and its incidents resolved with it. */
static void test_incident_of_a_gone_document(void **state)
{
    struct fixture *f = *state;
    char *bad = doc(false);
    char *bad_page = page_of(bad);
    serve(f, "/v1/documents.json", bad_page);
    json_decref(sync_day(f));
    fb_add_rule(f->fb, (struct fb_rule){"/v1/documents/90211.json", -1, FB_STATUS, 404,
                                        "{\"error\":\"The requested resource is not available\"}",
                                        NULL, 0, NULL, false});
    serve(f, "/v1/documents.json", "{\"count\":0,\"limit\":50,\"offset\":0,\"items\":[]}");
    json_t *s = sync_day(f);
    assert_string_equal(json_string_value(json_object_get(s, "status")), "succeeded");
    assert_int_equal(summary_int(s, "incidents_resolved"), 4);
    json_decref(s);
    assert_query(f, "SELECT COUNT(*) FROM documentos_venta", "0\n");
    assert_query(f, "SELECT COUNT(*) FROM etl_incidencias WHERE resuelto_en IS NULL", "0\n");
    free(bad);
    free(bad_page);
}

/* A long document's lines come from their own pages: a line there without an id is named too. */
static void test_line_page_incident(void **state)
{
    struct fixture *f = *state;
    serve(f, "/v1/documents.json",
          "{\"count\":1,\"limit\":50,\"offset\":0,\"items\":[{\"id\":90213,"
          "\"emissionDate\":1707955200,\"details\":{\"count\":2,\"limit\":25,\"offset\":0,"
          "\"items\":[]}}]}");
    serve(f, "/v1/documents/90213/details.json",
          "{\"count\":2,\"limit\":50,\"offset\":0,\"items\":[{\"id\":7,\"quantity\":1},"
          "{\"id\":\"x7\",\"quantity\":1}]}");
    json_t *s = sync_day(f);
    assert_string_equal(json_string_value(json_object_get(s, "status")), "succeeded");
    assert_int_equal(summary_int(s, "incidents"), 1);
    json_decref(s);
    assert_query(f, "SELECT id_bsale, id_documento FROM detalles_venta", "7|90213\n");
    assert_query(f, "SELECT recurso, id_recurso FROM etl_incidencias",
                 "/documents/90213/details.json|<null>\n");
}

int main(void)
{
    log_setup(LOG_ERROR, LOG_FORMAT_TEXT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_incidents_then_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_incident_of_a_gone_document, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_page_incident, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

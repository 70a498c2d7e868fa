/*
 * A document whose embedded lines are cut at 25 waits for its lines list:
 * written whole when the lines add up, not written (an incident) when they
 * do not. Runs the real runner on SQLite against the scripted fake Bsale.
 */
#include "common.h"

#include "config.h"
#include "sync_runner.h"
#include "fake_bsale.h"
#include "harness.h"
#include "log.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define DOC_ID 7
#define DETAILS "/v1/documents/7/details.json"

/* Lines first..last (ids 700 + n) as a JSON array body, comma-separated. */
static char *lines_json(int first, int last)
{
    char *out = xstrdup("");
    for (int i = first; i <= last; i++) {
        char *next =
            xasprintf("%s%s{\"id\":%d,\"lineNumber\":0,\"quantity\":1.0,\"netUnitValue\":1000.0,"
                      "\"totalUnitValue\":1190.0,\"netAmount\":1000.0,\"taxAmount\":190.0,"
                      "\"totalAmount\":1190.0,\"netDiscount\":0.0,\"totalDiscount\":0.0,"
                      "\"variant\":{\"href\":\"x\",\"id\":%d},\"note\":\"\"}",
                      out, i > first ? "," : "", 700 + i, 9000 + i);
        free(out);
        out = next;
    }
    return out;
}

/* Document 7: 40 lines counted, the first 25 embedded. */
static char *document_json(void)
{
    char *lines = lines_json(1, 25);
    char *doc = xasprintf(
        "{\"id\":%d,"
        "\"emissionDate\":1707955200,\"generationDate\":1707999013,\"number\":48120,"
        "\"totalAmount\":47600.0,\"netAmount\":40000.0,\"taxAmount\":7600.0,"
        "\"exemptAmount\":0.0,\"state\":0,\"informedSii\":0,\"urlPdf\":\"u\","
        "\"document_type\":{\"href\":\"h\",\"id\":\"1\"},\"office\":{\"href\":\"h\",\"id\":\"2\"},"
        "\"user\":{\"href\":\"h\",\"id\":\"4\"},"
        "\"details\":{\"href\":\"h\",\"count\":40,\"limit\":25,\"offset\":0,\"items\":[%s]},"
        "\"payments\":{\"href\":\"h\",\"count\":0,\"limit\":25,\"offset\":0,\"items\":[]}}",
        DOC_ID, lines);
    free(lines);
    return doc;
}

/* A documents page holding document 7. */
static char *documents_page(void)
{
    char *doc = document_json();
    char *page =
        xasprintf("{\"href\":\"h\",\"count\":1,\"limit\":50,\"offset\":0,\"items\":[%s]}", doc);
    free(doc);
    return page;
}

static char *details_page(int count, int first, int last)
{
    char *lines = first <= last ? lines_json(first, last) : xstrdup("");
    char *page = xasprintf("{\"href\":\"h\",\"count\":%d,\"limit\":50,\"offset\":0,\"items\":[%s]}",
                           count, lines);
    free(lines);
    return page;
}

struct fixture {
    struct fake_bsale *f;
    char dir[64];
    char *bodies[8];
    size_t n_bodies;
    struct config cfg;
    json_t *summary;
    enum err_code rc;
};

static struct fixture *fx_new(void)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = 0}; /* unscripted lists are empty */
    fx->f = fb_start(&fo);
    assert_non_null(fx->f);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/petl-plan-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    return fx;
}

/* Answers path's request at offset with a 200 and body (owned by the fixture). */
static void script(struct fixture *fx, const char *path, long offset, char *body)
{
    assert_true(fx->n_bodies < ARRAY_LEN(fx->bodies));
    fx->bodies[fx->n_bodies++] = body;
    fb_add_rule(
        fx->f,
        (struct fb_rule){
            .path = path, .offset = offset, .action = FB_STATUS, .status = 200, .body = body});
}

static void run_daily(struct fixture *fx)
{
    char *base = fb_base_url(fx->f);
    char *db_url = xasprintf("sqlite:///%s/w.db", fx->dir);
    char *env_file = xasprintf("%s/empty.env", fx->dir);
    FILE *ef = fopen(env_file, "w");
    assert_non_null(ef);
    fclose(ef);
    setenv("DATABASE_URL", db_url, 1);
    setenv("BSALE_API_TOKEN", TEST_TOKEN, 1);
    setenv("BSALE_API_URL", base, 1);
    setenv("BSALE_RATE_LIMIT", "1000", 1);
    setenv("LOG_LEVEL", "warn", 1);
    struct config_opts co = {.env_file = env_file};
    struct err e = ERR_INIT;
    if (config_load(&fx->cfg, &co, NULL, &e))
        fail_msg("config: %s", e.msg);
    struct etl_runner *r = NULL;
    assert_int_equal(etl_runner_new(&fx->cfg, &r, &e), ERR_OK);
    struct etl_request req = {.kind = ETL_DAILY, .origin = ETL_ORIGIN_CLI};
    snprintf(req.date_from, sizeof(req.date_from), "2024-02-15");
    snprintf(req.date_to, sizeof(req.date_to), "2024-02-15");
    long long id = 0;
    assert_int_equal(etl_runner_start(r, &req, &id, &e), ERR_OK);
    fx->rc = etl_runner_wait(r, id, &fx->summary, &e);
    etl_runner_free(r);
    free(env_file);
    free(db_url);
    free(base);
}

static long long count_rows(struct fixture *fx, const char *sql)
{
    char *path = xasprintf("%s/w.db", fx->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return n;
}

static void forget_run(struct fixture *fx)
{
    json_decref(fx->summary);
    fx->summary = NULL;
    config_release(&fx->cfg);
    memset(&fx->cfg, 0, sizeof(fx->cfg));
}

static long long summary_int(struct fixture *fx, const char *key)
{
    json_t *v = json_object_get(fx->summary, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void fx_free(struct fixture *fx)
{
    json_decref(fx->summary);
    config_release(&fx->cfg);
    fb_stop(fx->f);
    for (size_t i = 0; i < fx->n_bodies; i++)
        free(fx->bodies[i]);
    char *cmd = xasprintf("rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(fx);
}

/* 25 embedded lines and 15 more from the lines list: the document lands with all 40. */
static void test_embedded_and_listed_lines_add_up(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, documents_page());
    script(fx, DETAILS, 0, details_page(40, 26, 40));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM detalles_venta WHERE id_documento = 7"),
                     40);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias"), 0);
    assert_int_equal(summary_int(fx, "incidents"), 0);
    fx_free(fx);
}

/* The usual case: the lines list holds all 40; no request past it. */
static void test_listed_lines_complete(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, documents_page());
    script(fx, DETAILS, 0, details_page(40, 1, 40));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM detalles_venta WHERE id_documento = 7"),
                     40);
    assert_int_equal(fb_count(fx->f, DETAILS, -1), 1);
    fx_free(fx);
}

/* The lines list answers empty (twice): the document is not written, and an incident says why. */
static void test_empty_lines_list_not_written(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, documents_page());
    script(fx, DETAILS, 0, details_page(40, 1, 0));
    script(fx, DETAILS, 0, details_page(40, 1, 0));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 0);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM detalles_venta"), 0);
    assert_int_equal(count_rows(fx,
                                "SELECT COUNT(*) FROM etl_incidencias WHERE recurso = "
                                "'/documents/7.json' AND id_recurso = 7 AND resuelto_en IS NULL"),
                     1);
    assert_int_equal(summary_int(fx, "incidents"), 1);
    assert_int_equal(fb_count(fx->f, DETAILS, 0), 2);
    fx_free(fx);
}

/* A lines list that repeats its own ids cannot be trusted, even when the ids add up. */
static void test_repeating_lines_list_not_written(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, documents_page());
    char *first = lines_json(1, 40), *again = lines_json(1, 10);
    char *page = xasprintf(
        "{\"href\":\"h\",\"count\":40,\"limit\":50,\"offset\":0,\"items\":[%s,%s]}", first, again);
    free(first);
    free(again);
    script(fx, DETAILS, 0, page);
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 0);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias WHERE problema LIKE "
                                    "'%repeated line ids%'"),
                     1);
    fx_free(fx);
}

/* The next run re-reads a document left out by an incident; now whole, it lands and resolves it. */
static void test_doubtful_document_retried_next_run(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, documents_page());
    script(fx, DETAILS, 0, details_page(40, 1, 0));
    script(fx, DETAILS, 0, details_page(40, 1, 0));
    run_daily(fx);
    assert_int_equal(summary_int(fx, "incidents"), 1);
    forget_run(fx);
    /* The window no longer lists it (its list is empty now); the open incident brings it back. */
    script(fx, "/v1/documents/7.json", -1, document_json());
    script(fx, DETAILS, 0, details_page(40, 1, 40));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(fb_count(fx->f, "/v1/documents/7.json", -1), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM detalles_venta WHERE id_documento = 7"),
                     40);
    assert_int_equal(summary_int(fx, "incidents"), 0);
    assert_int_equal(summary_int(fx, "incidents_resolved"), 1);
    assert_int_equal(
        count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias WHERE resuelto_en IS NOT NULL"), 1);
    fx_free(fx);
}

/* Bsale throttles longer than the run may last: the run stops at its deadline, failed. */
static void test_run_deadline_recorded(void **state)
{
    (void)state;
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    struct fb_opts fo = {.token = TEST_TOKEN, .storm_ms = 60000, .storm_retry_after = "30"};
    fx->f = fb_start(&fo);
    assert_non_null(fx->f);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/petl-plan-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    setenv("ETL_RUN_TIMEOUT_S", "1", 1);
    run_daily(fx);
    unsetenv("ETL_RUN_TIMEOUT_S");
    assert_int_not_equal(fx->rc, ERR_OK);
    assert_string_equal(json_string_value(json_object_get(fx->summary, "status")), "failed");
    assert_string_equal(json_string_value(json_object_get(fx->summary, "error")),
                        "run deadline of 1 s reached");
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_ejecuciones WHERE estado = "
                                    "'failed' AND error = 'run deadline of 1 s reached'"),
                     1);
    fx_free(fx);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_and_listed_lines_add_up),
        cmocka_unit_test(test_listed_lines_complete),
        cmocka_unit_test(test_empty_lines_list_not_written),
        cmocka_unit_test(test_repeating_lines_list_not_written),
        cmocka_unit_test(test_doubtful_document_retried_next_run),
        cmocka_unit_test(test_run_deadline_recorded),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}

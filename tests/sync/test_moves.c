/*
 * Stock movements and documents' taxes and sellers through the real runner on
 * SQLite against the scripted fake Bsale: a return whose embedded lines are
 * cut at 25, or only linked, is written with all its lines; one whose lines
 * list falls short is not written (an incident); a daily sync filters the
 * movement lists by date range; ETL_DOCUMENT_EXTRAS embedded counts the
 * documents whose links it left, read reads them.
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

#define RETURNS "/v1/returns.json"
#define RETURN_LINES "/v1/returns/5/details.json"

/* Return lines first..last (ids 500 + n), comma-separated. */
static char *return_lines(int first, int last)
{
    char *out = xstrdup("");
    for (int i = first; i <= last; i++) {
        char *next = xasprintf("%s%s{\"href\":\"h\",\"id\":%d,\"quantity\":1.0,"
                               "\"quantityDevStock\":1.0,\"variantStock\":3.0,"
                               "\"variantCost\":600.0,\"documentDetailId\":%d}",
                               out, i > first ? "," : "", 500 + i, 9000 + i);
        free(out);
        out = next;
    }
    return out;
}

/* A returns page with return 5, whose details member is given. */
static char *returns_page(const char *details)
{
    return xasprintf("{\"href\":\"h\",\"count\":1,\"limit\":50,\"offset\":0,\"items\":[{"
                     "\"href\":\"h\",\"id\":5,\"code\":\"DEV-5\",\"returnDate\":1707955200,"
                     "\"motive\":\"Anula documento\",\"type\":0,\"amount\":35700.0,"
                     "\"office\":{\"href\":\"h\",\"id\":\"1\"},"
                     "\"reference_document\":{\"href\":\"h\",\"id\":\"70\"},"
                     "\"credit_note\":{\"href\":\"h\",\"id\":\"71\"},\"details\":%s}]}",
                     details);
}

/* An envelope of count lines holding lines first..last. */
static char *lines_envelope(int count, int first, int last)
{
    char *lines = first <= last ? return_lines(first, last) : xstrdup("");
    char *env = xasprintf("{\"href\":\"h\",\"count\":%d,\"limit\":50,\"offset\":0,\"items\":[%s]}",
                          count, lines);
    free(lines);
    return env;
}

struct fixture {
    struct fake_bsale *f;
    char dir[64];
    char *bodies[16];
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
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/petl-moves-XXXXXX");
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

/* A sync: daily of 2024-02-15 or full (master data only); extras is ETL_DOCUMENT_EXTRAS. */
static void run_sync(struct fixture *fx, enum etl_kind kind, const char *extras)
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
    setenv("ETL_DOCUMENT_EXTRAS", extras, 1);
    struct config_opts co = {.env_file = env_file};
    struct err e = ERR_INIT;
    if (config_load(&fx->cfg, &co, NULL, &e))
        fail_msg("config: %s", e.msg);
    struct etl_runner *r = NULL;
    assert_int_equal(etl_runner_new(&fx->cfg, &r, &e), ERR_OK);
    struct etl_request req = {.kind = kind, .origin = ETL_ORIGIN_CLI};
    if (kind == ETL_DAILY) {
        snprintf(req.date_from, sizeof(req.date_from), "2024-02-15");
        snprintf(req.date_to, sizeof(req.date_to), "2024-02-15");
    }
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

/* The run detail's movements.<key>. */
static long long movements_int(struct fixture *fx, const char *key)
{
    json_t *v = json_object_get(json_object_get(fx->summary, "movements"), key);
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

static long long return_rows(struct fixture *fx)
{
    return count_rows(fx, "SELECT COUNT(*) FROM devoluciones WHERE id_bsale = 5");
}

static long long return_line_rows(struct fixture *fx)
{
    return count_rows(fx, "SELECT COUNT(*) FROM detalles_devolucion WHERE id_devolucion = 5");
}

/* 25 of 30 lines embedded: the lines list is read and the return lands with all 30. */
static void test_cut_lines_read_whole(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    char *embedded = lines_envelope(30, 1, 25);
    script(fx, RETURNS, 0, returns_page(embedded));
    free(embedded);
    script(fx, RETURN_LINES, 0, lines_envelope(30, 1, 30));
    run_sync(fx, ETL_DAILY, "embedded");
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(return_rows(fx), 1);
    assert_int_equal(return_line_rows(fx), 30);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias"), 0);
    assert_int_equal(fb_count(fx->f, RETURN_LINES, -1), 1);
    /* one list page per movement table, plus the lines read */
    assert_int_equal(movements_int(fx, "movement_requests"), 4);
    fx_free(fx);
}

/* Only a link: the lines list is read; 7 embedded whole: no read at all. */
static void test_linked_and_whole_lines(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, RETURNS, 0, returns_page("{\"href\":\"h\"}"));
    script(fx, RETURN_LINES, 0, lines_envelope(3, 1, 3));
    run_sync(fx, ETL_DAILY, "embedded");
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(return_line_rows(fx), 3);
    fx_free(fx);

    fx = fx_new();
    char *embedded = lines_envelope(7, 1, 7);
    script(fx, RETURNS, 0, returns_page(embedded));
    free(embedded);
    run_sync(fx, ETL_DAILY, "embedded");
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(return_line_rows(fx), 7);
    assert_int_equal(fb_count(fx->f, RETURN_LINES, -1), 0);
    fx_free(fx);
}

/* The lines list gives 10 of the 30 counted and then nothing: the return is not written. */
static void test_short_lines_not_written(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    char *embedded = lines_envelope(30, 1, 25);
    script(fx, RETURNS, 0, returns_page(embedded));
    free(embedded);
    script(fx, RETURN_LINES, 0, lines_envelope(10, 1, 10));
    run_sync(fx, ETL_DAILY, "embedded");
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(return_rows(fx), 0);
    assert_int_equal(return_line_rows(fx), 0);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias WHERE recurso = "
                                    "'/returns/5.json' AND id_recurso = 5"),
                     1);
    fx_free(fx);
}

/* A daily sync filters each movement list by its date range; a full one reads them whole. */
static void test_daily_filters_full_reads_whole(void **state)
{
    (void)state;
    static const char *const lists[] = {"/v1/stocks/receptions.json",
                                        "/v1/stocks/consumptions.json", RETURNS};
    static const char *const filters[] = {"admissiondaterange=[1707955200,1708041599]",
                                          "consumptiondaterange=[1707955200,1708041599]",
                                          "returndaterange=[1707955200,1708041599]"};
    for (int full = 0; full < 2; full++) {
        struct fixture *fx = fx_new();
        run_sync(fx, full ? ETL_FULL : ETL_DAILY, "embedded");
        assert_int_equal(fx->rc, ERR_OK);
        size_t n = 0;
        struct fb_hit *hits = fb_hits(fx->f, &n);
        for (size_t k = 0; k < ARRAY_LEN(lists); k++) {
            size_t seen = 0;
            for (size_t i = 0; i < n; i++) {
                if (strcmp(hits[i].path, lists[k]) != 0)
                    continue;
                seen++;
                assert_non_null(strstr(hits[i].uri, "expand=[details]"));
                assert_true(full ? strstr(hits[i].uri, "daterange") == NULL
                                 : strstr(hits[i].uri, filters[k]) != NULL);
            }
            assert_int_equal(seen, 1);
        }
        free(hits);
        fx_free(fx);
    }
}

/* A document with all its lines, whose document_taxes and sellers are links. */
static char *linked_document_page(void)
{
    return xasprintf(
        "{\"href\":\"h\",\"count\":1,\"limit\":50,\"offset\":0,\"items\":[{\"id\":7,"
        "\"emissionDate\":1707955200,\"generationDate\":1707999013,\"number\":48120,"
        "\"totalAmount\":1190.0,\"netAmount\":1000.0,\"taxAmount\":190.0,\"exemptAmount\":0.0,"
        "\"state\":0,\"document_type\":{\"href\":\"h\",\"id\":\"1\"},"
        "\"office\":{\"href\":\"h\",\"id\":\"2\"},\"user\":{\"href\":\"h\",\"id\":\"4\"},"
        "\"details\":{\"href\":\"h\",\"count\":1,\"limit\":25,\"offset\":0,\"items\":[{\"id\":701,"
        "\"quantity\":1.0,\"netAmount\":1000.0,\"taxAmount\":190.0,\"totalAmount\":1190.0,"
        "\"variant\":{\"href\":\"x\",\"id\":9001}}]},"
        "\"document_taxes\":{\"href\":\"h\"},\"sellers\":{\"href\":\"h\"}}]}");
}

/* embedded: the links are left and the document counted; read: both are read and stored. */
static void test_document_extras_setting(void **state)
{
    (void)state;
    for (int read = 0; read < 2; read++) {
        struct fixture *fx = fx_new();
        script(fx, "/v1/documents.json", 0, linked_document_page());
        script(fx, "/v1/documents/7/document_taxes.json", 0,
               xstrdup("{\"href\":\"h\",\"count\":1,\"limit\":50,\"offset\":0,\"items\":[{"
                       "\"href\":\"h\",\"id\":70,\"totalAmount\":190.0,\"exemptAmount\":0.0,"
                       "\"tax\":{\"href\":\"h\",\"id\":\"1\"}}]}"));
        script(fx, "/v1/documents/7/sellers.json", 0,
               xstrdup("{\"href\":\"h\",\"count\":1,\"limit\":50,\"offset\":0,\"items\":[{"
                       "\"href\":\"h\",\"id\":6,\"firstName\":\"Ana\",\"lastName\":\"Soto\"}]}"));
        run_sync(fx, ETL_DAILY, read ? "read" : "embedded");
        assert_int_equal(fx->rc, ERR_OK);
        assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 1);
        assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM impuestos_documento WHERE "
                                        "id_documento = 7 AND monto_total = 190"),
                         read);
        assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM vendedores_documento WHERE "
                                        "id_documento = 7 AND id_usuario = 6"),
                         read);
        assert_int_equal(movements_int(fx, "extras_unread_documents"), read ? 0 : 1);
        assert_int_equal(movements_int(fx, "extras_requests"), read ? 2 : 0);
        fx_free(fx);
    }
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_lines_read_whole),
        cmocka_unit_test(test_linked_and_whole_lines),
        cmocka_unit_test(test_short_lines_not_written),
        cmocka_unit_test(test_daily_filters_full_reads_whole),
        cmocka_unit_test(test_document_extras_setting),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}

/*
 * A document whose embedded lines are cut at 25 waits for its lines list:
 * written whole when the lines add up, not written (an incident) when they
 * do not. Runs the real runner on SQLite against the scripted fake Bsale.
 */
#include "common.h"

#include "config.h"
#include "date.h"
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

/* A daily sync of [from, to], or a plain one (today and its lookback) when from is NULL. */
static void run_sync(struct fixture *fx, const char *from, const char *to)
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
    if (from) {
        snprintf(req.date_from, sizeof(req.date_from), "%s", from);
        snprintf(req.date_to, sizeof(req.date_to), "%s", to);
    }
    long long id = 0;
    assert_int_equal(etl_runner_start(r, &req, &id, &e), ERR_OK);
    fx->rc = etl_runner_wait(r, id, &fx->summary, &e);
    etl_runner_free(r);
    free(env_file);
    free(db_url);
    free(base);
}

static void run_daily(struct fixture *fx)
{
    run_sync(fx, "2024-02-15", "2024-02-15");
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

/*
 * The re-read of a doubtful document keeps answering Bsale's "not available"
 * 500 (it may be gone): a new incident on its path, the run still succeeds,
 * and the run after retries it.
 */
static void test_vanished_document_stays_doubtful(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, documents_page());
    script(fx, DETAILS, 0, details_page(40, 1, 0));
    script(fx, DETAILS, 0, details_page(40, 1, 0));
    run_daily(fx);
    assert_int_equal(summary_int(fx, "incidents"), 1);
    forget_run(fx);
    fb_add_rule(fx->f, (struct fb_rule){.path = "/v1/documents/7.json",
                                        .offset = -1,
                                        .action = FB_STATUS,
                                        .status = 500,
                                        .body = "{\"error\":\"The requested resource is not "
                                                "available\"}",
                                        .sticky = true});
    setenv("BSALE_MAX_ATTEMPTS", "2", 1);
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_string_equal(json_string_value(json_object_get(fx->summary, "status")), "succeeded");
    assert_int_equal(summary_int(fx, "incidents"), 1);
    assert_int_equal(fb_count(fx->f, "/v1/documents/7.json", -1), 2);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias WHERE recurso = "
                                    "'/documents/7.json' AND id_recurso = 7 AND problema LIKE "
                                    "'%HTTP 500%' AND resuelto_en IS NULL"),
                     1);
    forget_run(fx);
    run_daily(fx); /* the open incident is read again */
    unsetenv("BSALE_MAX_ATTEMPTS");
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(fb_count(fx->f, "/v1/documents/7.json", -1), 4);
    fx_free(fx);
}

/* A documents page with document 7 of count lines (25 embedded) and totalAmount total. */
static char *page_lines(int count, const char *total)
{
    char *lines = lines_json(1, 25);
    char *page = xasprintf(
        "{\"href\":\"h\",\"count\":1,\"limit\":50,\"offset\":0,\"items\":[{\"id\":%d,"
        "\"emissionDate\":1707955200,\"number\":48120,\"totalAmount\":%s,\"netAmount\":40000.0,"
        "\"taxAmount\":7600.0,\"state\":0,\"document_type\":{\"href\":\"h\",\"id\":\"1\"},"
        "\"office\":{\"href\":\"h\",\"id\":\"2\"},"
        "\"details\":{\"href\":\"h\",\"count\":%d,\"limit\":25,\"offset\":0,\"items\":[%s]},"
        "\"payments\":{\"href\":\"h\",\"count\":0,\"limit\":25,\"offset\":0,\"items\":[]}}]}",
        DOC_ID, total, count, lines);
    free(lines);
    return page;
}

static long long stored_lines(struct fixture *fx)
{
    return count_rows(fx, "SELECT COUNT(*) FROM detalles_venta WHERE id_documento = 7");
}

/* 60 lines: the 35 past the embedded 25 come in one page from offset 25, not two from 0. */
static void test_lines_from_offset_25(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, page_lines(60, "47600.0"));
    script(fx, DETAILS, 25, details_page(60, 26, 60));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(stored_lines(fx), 60);
    assert_int_equal(fb_count(fx->f, DETAILS, -1), 1);
    assert_int_equal(fb_count(fx->f, DETAILS, 25), 1);
    assert_int_equal(summary_int(fx, "incidents"), 0);
    fx_free(fx);
}

/* Read from 25, the list repeats embedded lines: it is read once more from 0, and adds up. */
static void test_lines_not_following_read_from_0(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, page_lines(60, "47600.0"));
    script(fx, DETAILS, 25, details_page(60, 1, 35));
    script(fx, DETAILS, 0, details_page(60, 1, 50));
    script(fx, DETAILS, 50, details_page(60, 51, 60));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(stored_lines(fx), 60);
    assert_int_equal(fb_count(fx->f, DETAILS, 25), 1);
    assert_int_equal(fb_count(fx->f, DETAILS, 0), 1);
    assert_int_equal(summary_int(fx, "incidents"), 0);
    fx_free(fx);
}

/* Short from 25 and again from 0: read from 0 once, then the document is an incident. */
static void test_lines_short_twice_is_an_incident(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, page_lines(60, "47600.0"));
    script(fx, DETAILS, 25, details_page(60, 26, 40));
    script(fx, DETAILS, 0, details_page(60, 1, 40));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 0);
    assert_int_equal(stored_lines(fx), 0);
    assert_int_equal(fb_count(fx->f, DETAILS, 0), 1);
    assert_int_equal(summary_int(fx, "incidents"), 1);
    fx_free(fx);
}

/*
 * A daily sync does not read again the lines of a document stored complete
 * under the same header; once its total changes, or a stored line is lost,
 * it does.
 */
static void test_lines_stored_complete_not_reread(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/documents.json", 0, page_lines(60, "47600.0"));
    script(fx, DETAILS, 25, details_page(60, 26, 60));
    run_daily(fx);
    assert_int_equal(stored_lines(fx), 60);
    forget_run(fx);
    script(fx, "/v1/documents.json", 0, page_lines(60, "47600.0"));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(fb_count(fx->f, DETAILS, -1), 1);
    assert_int_equal(stored_lines(fx), 60);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 1);
    forget_run(fx);
    script(fx, "/v1/documents.json", 0, page_lines(60, "47700.0"));
    script(fx, DETAILS, 25, details_page(60, 26, 60));
    run_daily(fx);
    assert_int_equal(fb_count(fx->f, DETAILS, -1), 2);
    assert_int_equal(
        count_rows(fx, "SELECT COUNT(*) FROM documentos_venta WHERE monto_total = 47700"), 1);
    forget_run(fx);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM detalles_venta WHERE id_bsale = 760"), 1);
    char *path = xasprintf("%s/w.db", fx->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "DELETE FROM detalles_venta WHERE id_bsale = 760", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    free(path);
    script(fx, "/v1/documents.json", 0, page_lines(60, "47700.0"));
    script(fx, DETAILS, 25, details_page(60, 26, 60));
    run_daily(fx);
    assert_int_equal(fb_count(fx->f, DETAILS, -1), 3);
    assert_int_equal(stored_lines(fx), 60);
    fx_free(fx);
}

/* A document of day `day` (its lines embedded whole); light: only the reconcile's fields. */
static char *dated_doc(int id, const char *day, int state, bool light)
{
    long long from = 0, to = 0;
    struct err e = ERR_INIT;
    assert_int_equal(date_day_window(day, &from, &to, &e), ERR_OK);
    const char *common = "\"totalAmount\":1190.0,\"netAmount\":1000.0,\"taxAmount\":190.0,"
                         "\"document_type\":{\"href\":\"h\",\"id\":\"1\"}";
    if (light)
        return xasprintf("{\"id\":%d,\"state\":%d,%s}", id, state, common);
    char *lines = lines_json(id * 10, id * 10);
    char *doc = xasprintf(
        "{\"id\":%d,\"emissionDate\":%lld,\"number\":%d,\"state\":%d,%s,"
        "\"office\":{\"href\":\"h\",\"id\":\"2\"},"
        "\"details\":{\"href\":\"h\",\"count\":1,\"limit\":25,\"offset\":0,\"items\":[%s]},"
        "\"payments\":{\"href\":\"h\",\"count\":0,\"limit\":25,\"offset\":0,\"items\":[]}}",
        id, from, id, state, common, lines);
    free(lines);
    return doc;
}

static char *page_of(int n, char **items)
{
    char *joined = xstrdup("");
    for (int i = 0; i < n; i++) {
        char *next = xasprintf("%s%s%s", joined, i ? "," : "", items[i]);
        free(joined);
        free(items[i]);
        joined = next;
    }
    char *page = xasprintf("{\"href\":\"h\",\"count\":%d,\"limit\":50,\"offset\":0,"
                           "\"items\":[%s]}",
                           n, joined);
    free(joined);
    return page;
}

static long long reconcile_int(struct fixture *fx, const char *key)
{
    json_t *v = json_object_get(json_object_get(fx->summary, "reconcile"), key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/*
 * A plain daily sync reconciles the days before its lookback: a document
 * of 40 days ago voided since is re-read, an unchanged one is not,
 * and a stored one Bsale no longer lists is verified by id (404: removed).
 */
static void test_reconcile_rereads_only_changes(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    char today[11], d40[11], d41[11];
    struct err e = ERR_INIT;
    assert_int_equal(date_today("America/Santiago", today, &e), ERR_OK);
    assert_int_equal(date_add(today, -40, d40, &e), ERR_OK);
    assert_int_equal(date_add(today, -41, d41, &e), ERR_OK);
    char *stored[] = {dated_doc(7, d40, 0, false), dated_doc(8, d41, 0, false),
                      dated_doc(9, d41, 0, false)};
    script(fx, "/v1/documents.json", 0, page_of(3, stored));
    run_sync(fx, d41, d40);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 3);
    forget_run(fx);
    /* Now 7 is voided, 8 unchanged, 9 gone; the lookback's own windows list nothing. */
    char *light[] = {dated_doc(7, d40, 1, true), dated_doc(8, d41, 0, true)};
    char *page = page_of(2, light);
    assert_true(fx->n_bodies < ARRAY_LEN(fx->bodies));
    fx->bodies[fx->n_bodies++] = page;
    fb_add_rule(fx->f, (struct fb_rule){.path = "/v1/documents.json",
                                        .offset = 0,
                                        .action = FB_STATUS,
                                        .status = 200,
                                        .body = page,
                                        .uri_has = "fields="});
    script(fx, "/v1/documents/7.json", -1, dated_doc(7, d40, 1, false));
    run_sync(fx, NULL, NULL);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(fb_count(fx->f, "/v1/documents/7.json", -1), 1);
    assert_int_equal(fb_count(fx->f, "/v1/documents/8.json", -1), 0);
    assert_int_equal(fb_count(fx->f, "/v1/documents/9.json", -1), 1);
    assert_int_equal(count_rows(fx, "SELECT estado FROM documentos_venta WHERE id_bsale = 7"), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta WHERE id_bsale = 9"), 0);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 2);
    assert_int_equal(reconcile_int(fx, "pages"), 1);
    assert_int_equal(reconcile_int(fx, "listed"), 2);
    assert_int_equal(reconcile_int(fx, "changed"), 1);
    assert_int_equal(reconcile_int(fx, "missing"), 0);
    assert_int_equal(reconcile_int(fx, "unlisted"), 1);
    assert_int_equal(reconcile_int(fx, "requests"), 3);
    fx_free(fx);
}

/* Explicit dates are exactly those days: no light list. */
static void test_explicit_dates_do_not_reconcile(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    size_t n = 0;
    struct fb_hit *hits = fb_hits(fx->f, &n);
    for (size_t i = 0; i < n; i++)
        assert_null(strstr(hits[i].uri, "fields="));
    free(hits);
    assert_int_equal(reconcile_int(fx, "requests"), 0);
    fx_free(fx);
}

#define PAYMENTS "/v1/payments.json"

/* Payment id: an ordinary one on document 7 recorded 2024-02-15 03:00Z, or a "" dated credit one.
 */
static char *payment_json(int id, bool credit)
{
    if (credit)
        return xasprintf("{\"id\":%d,\"recordDate\":\"\",\"amount\":500.0,\"state\":0,"
                         "\"isCreditPayment\":1,\"createdAt\":1707999013,"
                         "\"payment_type\":{\"href\":\"h\",\"id\":\"5\"},"
                         "\"documents\":[{\"href\":\"h\",\"id\":\"7\",\"amount\":300.0},"
                         "{\"href\":\"h\",\"id\":\"8\",\"amount\":200.0}]}",
                         id);
    return xasprintf("{\"id\":%d,\"recordDate\":1707966000,\"amount\":1190.0,\"state\":0,"
                     "\"isCreditPayment\":0,\"createdAt\":1707999013,"
                     "\"payment_type\":{\"href\":\"h\",\"id\":\"1\"},"
                     "\"document\":{\"href\":\"h\",\"id\":\"7\"}}",
                     id);
}

/* A payments page of ids[0..n) (negative: a credit payment), saying count. */
static char *payments_page(int count, int n, const int *ids)
{
    char *items[8];
    for (int i = 0; i < n; i++)
        items[i] = payment_json(ids[i] < 0 ? -ids[i] : ids[i], ids[i] < 0);
    char *page = page_of(n, items);
    char *at = strstr(page, "\"count\":");
    char *fixed = xasprintf("%.*s\"count\":%d%s", (int)(at - page), page, count, strchr(at, ','));
    free(page);
    return fixed;
}

/* The unfiltered list (tail or whole) at offset answers page; day windows stay empty. */
static void script_unfiltered(struct fixture *fx, long offset, char *page)
{
    assert_true(fx->n_bodies < ARRAY_LEN(fx->bodies));
    fx->bodies[fx->n_bodies++] = page;
    fb_add_rule(fx->f, (struct fb_rule){.path = PAYMENTS,
                                        .offset = offset,
                                        .action = FB_STATUS,
                                        .status = 200,
                                        .body = page,
                                        .uri_has = "payments.json?limit="});
}

static long unfiltered_reads(struct fixture *fx, long offset)
{
    size_t n = 0;
    struct fb_hit *h = fb_hits(fx->f, &n);
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += strstr(h[i].uri, "payments.json?limit=") && h[i].offset == offset;
    free(h);
    return k;
}

static long long payments_detail(struct fixture *fx, const char *key)
{
    json_t *v = json_object_get(json_object_get(fx->summary, "payments"), key);
    return json_is_boolean(v) ? json_is_true(v) : json_integer_value(v);
}

/* Run 1 stores payments 1..3 (the warehouse had none: the whole list). */
static void store_three_payments(struct fixture *fx)
{
    script_unfiltered(fx, 0, payments_page(3, 3, (const int[]){1, 2, 3}));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(payments_detail(fx, "fallback"), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos"), 3);
    forget_run(fx);
}

/* The list is ordered by id: one tail page from the stored count brings 4 and the "" dated 5. */
static void test_payments_tail_ordered(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    store_three_payments(fx);
    script_unfiltered(fx, 2, payments_page(5, 3, (const int[]){3, 4, -5}));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(unfiltered_reads(fx, 0), 1); /* run 1's only */
    assert_int_equal(unfiltered_reads(fx, 2), 1);
    assert_int_equal(payments_detail(fx, "tail_requests"), 1);
    assert_int_equal(payments_detail(fx, "whole_list_requests"), 0);
    assert_int_equal(payments_detail(fx, "fallback"), 0);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos"), 5);
    assert_int_equal(
        count_rows(fx, "SELECT COUNT(*) FROM pagos WHERE id_bsale = 5 AND fecha_registro IS NULL "
                       "AND id_documento IS NULL AND es_pago_credito = 1"),
        1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos_documentos WHERE id_pago = 5"), 2);
    fx_free(fx);
}

static void exec_sql(struct fixture *fx, const char *sql)
{
    char *path = xasprintf("%s/w.db", fx->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(path);
}

/*
 * A run that died wrote newer payments (5, 6) from its day window but not the
 * "" dated 4 of its tail: the next tail starts at the last succeeded run's
 * watermark (3), not at the newest stored payment, so 4 still arrives.
 */
static void test_payments_tail_after_a_failed_run(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    store_three_payments(fx);
    exec_sql(fx, "INSERT INTO pagos (id_bsale, sincronizado_en) VALUES "
                 "(5, '2024-02-16 00:00:00'), (6, '2024-02-16 00:00:00')");
    script_unfiltered(fx, 2, payments_page(6, 4, (const int[]){3, -4, 5, 6}));
    script_unfiltered(fx, 4, payments_page(6, 2, (const int[]){5, 6}));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(payments_detail(fx, "fallback"), 0);
    assert_int_equal(payments_detail(fx, "through_id"), 6);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos WHERE id_bsale = 4"), 1);
    fx_free(fx);
}

/* Payments up to the watermark went missing from the warehouse: positions moved, whole list. */
static void test_payments_tail_after_lost_rows_falls_back(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    store_three_payments(fx);
    exec_sql(fx, "DELETE FROM pagos WHERE id_bsale = 2");
    script_unfiltered(fx, 0, payments_page(4, 4, (const int[]){1, 2, 3, -4}));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(payments_detail(fx, "fallback"), 1);
    assert_int_equal(payments_detail(fx, "tail_requests"), 0);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos"), 4);
    fx_free(fx);
}

/* A count too low does not end the tail while its pages come full (page size 2 here). */
static void test_payments_tail_past_low_count(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    store_three_payments(fx);
    setenv("BSALE_PAGE_SIZE", "2", 1);
    script_unfiltered(fx, 2, payments_page(3, 2, (const int[]){3, 4}));
    script_unfiltered(fx, 4, payments_page(3, 1, (const int[]){-5}));
    run_daily(fx);
    unsetenv("BSALE_PAGE_SIZE");
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(payments_detail(fx, "tail_requests"), 2);
    assert_int_equal(payments_detail(fx, "fallback"), 0);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos WHERE id_bsale IN (4, 5)"), 2);
    fx_free(fx);
}

/* The tail is not in id order: nothing proves it holds every new payment, so the whole list. */
static void test_payments_tail_shuffled_falls_back(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    store_three_payments(fx);
    script_unfiltered(fx, 2, payments_page(5, 3, (const int[]){-5, 2, 4}));
    script_unfiltered(fx, 0, payments_page(5, 5, (const int[]){4, 1, -5, 3, 2}));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(unfiltered_reads(fx, 0), 2);
    assert_int_equal(payments_detail(fx, "fallback"), 1);
    assert_int_equal(payments_detail(fx, "whole_list_requests"), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos"), 5);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos WHERE fecha_registro IS NULL"), 1);
    fx_free(fx);
}

/* The item at the stored count is newer than every stored one: stored ones are gone, whole list. */
static void test_payments_tail_past_newest_falls_back(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    store_three_payments(fx);
    script_unfiltered(fx, 2, payments_page(4, 2, (const int[]){6, 7}));
    script_unfiltered(fx, 0, payments_page(4, 4, (const int[]){1, 3, 6, 7}));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(payments_detail(fx, "fallback"), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM pagos WHERE id_bsale IN (6, 7)"), 2);
    fx_free(fx);
}

/* Document id of type `type`, its references a bare link, its lines embedded whole. */
static char *typed_doc(int id, int type)
{
    char *lines = lines_json(id * 10, id * 10);
    char *doc = xasprintf(
        "{\"id\":%d,\"emissionDate\":1707955200,\"number\":%d,\"state\":0,"
        "\"totalAmount\":1190.0,\"document_type\":{\"href\":\"h\",\"id\":\"%d\"},"
        "\"details\":{\"href\":\"h\",\"count\":1,\"limit\":25,\"offset\":0,\"items\":[%s]},"
        "\"payments\":{\"href\":\"h\"},\"references\":{\"href\":\"h\"}}",
        id, id, type, lines);
    free(lines);
    return doc;
}

static long first_hit(struct fixture *fx, const char *path)
{
    size_t n = 0;
    struct fb_hit *h = fb_hits(fx->f, &n);
    long at = -1;
    for (size_t i = 0; i < n && at < 0; i++)
        if (strcmp(h[i].path, path) == 0)
            at = (long)i;
    free(h);
    return at;
}

/*
 * References given as a link are read for credit notes (by flag or SII code
 * 61) and for a type the warehouse does not know, never for a receipt; the
 * types are read before the documents.
 */
static void test_references_for_credit_notes_only(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    script(fx, "/v1/document_types.json", 0,
           xstrdup("{\"href\":\"h\",\"count\":3,\"limit\":50,\"offset\":0,\"items\":["
                   "{\"id\":1,\"name\":\"BOLETA\",\"codeSii\":\"39\",\"isCreditNote\":0},"
                   "{\"id\":2,\"name\":\"NOTA DE CREDITO\",\"codeSii\":\"61\","
                   "\"isCreditNote\":0},"
                   "{\"id\":4,\"name\":\"DEVOLUCION\",\"codeSii\":\"\",\"isCreditNote\":1}]}"));
    char *docs[] = {typed_doc(7, 1), typed_doc(8, 2), typed_doc(9, 3), typed_doc(10, 4)};
    script(fx, "/v1/documents.json", 0, page_of(4, docs));
    script(
        fx, "/v1/documents/8/references.json", 0,
        xstrdup("{\"href\":\"h\",\"count\":1,\"limit\":50,\"offset\":0,\"items\":["
                "{\"href\":\"h\",\"id\":31,\"referenceDate\":1707955200,\"number\":\"123\","
                "\"reason\":\"Anula documento\",\"dte_code\":{\"href\":\"h\",\"id\":\"39\"}}]}"));
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(fb_count(fx->f, "/v1/documents/7/references.json", -1), 0);
    assert_int_equal(fb_count(fx->f, "/v1/documents/8/references.json", -1), 1);
    assert_int_equal(fb_count(fx->f, "/v1/documents/9/references.json", -1), 1);
    assert_int_equal(fb_count(fx->f, "/v1/documents/10/references.json", -1), 1);
    assert_int_equal(fb_count(fx->f, "/v1/document_types.json", -1), 1);
    assert_true(first_hit(fx, "/v1/document_types.json") < first_hit(fx, "/v1/documents.json"));
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM referencias_documento WHERE "
                                    "id_documento = 8 AND id_bsale = 31 AND numero = '123'"),
                     1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM referencias_documento"), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 4);
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

/*
 * Document id with two embedded lines (ids id*10+1, +2); total and payments
 * are raw JSON, so a test can put a NaN in them. payments NULL: a document
 * read bare (no expansions): its lines and payments are only links.
 */
static char *small_doc(int id, const char *total, const char *payments)
{
    char *lines = xstrdup("");
    for (int i = 1; i <= 2; i++) {
        char *next =
            xasprintf("%s%s{\"id\":%d,\"lineNumber\":%d,\"quantity\":1.0,\"netUnitValue\":100.0,"
                      "\"totalUnitValue\":119.0,\"netAmount\":100.0,\"taxAmount\":19.0,"
                      "\"totalAmount\":119.0,\"netDiscount\":0.0,\"totalDiscount\":0.0,"
                      "\"variant\":{\"href\":\"x\",\"id\":%d},\"note\":\"\"}",
                      lines, i > 1 ? "," : "", id * 10 + i, i, 9000 + i);
        free(lines);
        lines = next;
    }
    char *details = payments ? xasprintf("{\"href\":\"h\",\"count\":2,\"limit\":25,\"offset\":0,"
                                         "\"items\":[%s]},\"payments\":%s",
                                         lines, payments)
                             : xstrdup("{\"href\":\"h\"}");
    char *doc = xasprintf(
        "{\"id\":%d,\"emissionDate\":1707955200,\"generationDate\":1707999013,\"number\":%d,"
        "\"totalAmount\":%s,\"netAmount\":200.0,\"taxAmount\":38.0,\"exemptAmount\":0.0,"
        "\"state\":0,\"informedSii\":0,\"urlPdf\":\"u\","
        "\"document_type\":{\"href\":\"h\",\"id\":\"1\"},\"office\":{\"href\":\"h\",\"id\":\"2\"},"
        "\"user\":{\"href\":\"h\",\"id\":\"4\"},\"details\":%s}",
        id, 1000 + id, total, details);
    free(lines);
    free(details);
    return doc;
}

#define NO_PAYMENTS "{\"href\":\"h\",\"count\":0,\"limit\":25,\"offset\":0,\"items\":[]}"
#define NAN_PAYMENT                                                                                \
    "{\"href\":\"h\",\"count\":1,\"limit\":25,\"offset\":0,\"items\":[{\"id\":5,\"amount\":NaN}]}"

/* A documents page of count 3 at offset with the given items (joined by commas). */
static char *docs_page(long offset, const char *items)
{
    return xasprintf("{\"href\":\"h\",\"count\":3,\"limit\":50,\"offset\":%ld,\"items\":[%s]}",
                     offset, items);
}

/* Answers path's requests at offset whose URI holds uri_has with a 200 and body, times times. */
static void script_uri(struct fixture *fx, long offset, const char *uri_has, char *body, int times)
{
    assert_true(fx->n_bodies < ARRAY_LEN(fx->bodies));
    fx->bodies[fx->n_bodies++] = body;
    for (int i = 0; i < times; i++)
        fb_add_rule(fx->f, (struct fb_rule){.path = "/v1/documents.json",
                                            .offset = offset,
                                            .uri_has = uri_has,
                                            .action = FB_STATUS,
                                            .status = 200,
                                            .body = body});
}

/*
 * Documents 11, 12, 13 where 12 is middle (raw item text, as expanded) and
 * middle_bare its bare form (NULL = the same text). The page, and 12 read
 * alone expanded, fail on every attempt; each item alone answers.
 */
static void script_three(struct fixture *fx, const char *middle, const char *middle_bare)
{
    char *a = small_doc(11, "238.0", NO_PAYMENTS), *c = small_doc(13, "238.0", NO_PAYMENTS);
    char *all = xasprintf("%s,%s,%s", a, middle, c);
    script_uri(fx, 0, "limit=50", docs_page(0, all), 6);
    script_uri(fx, 0, "expand=", docs_page(0, a), 1);
    script_uri(fx, 1, "expand=", docs_page(1, middle), 6);
    script_uri(fx, 1, "json?emissiondaterange=", docs_page(1, middle_bare ? middle_bare : middle),
               2);
    script_uri(fx, 2, "expand=", docs_page(2, c), 1);
    free(a);
    free(c);
    free(all);
}

/*
 * Document 12's own total is a raw NaN: the page never parses, its items are
 * read one by one; 11 and 13 land, 12 is one incident on the list's path.
 */
static void test_unparseable_document_isolated(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    char *bad = small_doc(12, "NaN", NO_PAYMENTS);
    script_three(fx, bad, NULL);
    free(bad);
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 2);
    assert_int_equal(
        count_rows(fx, "SELECT COUNT(*) FROM documentos_venta WHERE id_bsale IN (11, 13)"), 2);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM detalles_venta"), 4);
    assert_int_equal(summary_int(fx, "incidents"), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias"), 1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias WHERE recurso = "
                                    "'/documents.json' AND id_recurso IS NULL AND problema LIKE "
                                    "'item at offset 1 not read: bad JSON body%' AND problema NOT "
                                    "LIKE '%NaN%'"),
                     1);
    fx_free(fx);
}

/* Only 12's embedded payment is garbage: read bare, 12 lands with its lines, no incident. */
static void test_document_read_bare(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    char *bad = small_doc(12, "238.0", NAN_PAYMENT), *bare = small_doc(12, "238.0", NULL);
    script_three(fx, bad, bare);
    script(fx, "/v1/documents/12/details.json", 0, details_page(2, 1, 2));
    free(bad);
    free(bare);
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM documentos_venta"), 3);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM detalles_venta WHERE id_documento = 12"),
                     2);
    assert_int_equal(summary_int(fx, "incidents"), 0);
    /* A document's payments are per-type totals: payment records come from /payments.json only. */
    size_t n = 0;
    struct fb_hit *h = fb_hits(fx->f, &n);
    long by_doc = 0;
    for (size_t i = 0; i < n; i++)
        by_doc += strstr(h[i].uri, "/v1/payments.json?documentid=12&") != NULL;
    free(h);
    assert_int_equal(by_doc, 0);
    fx_free(fx);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_and_listed_lines_add_up),
        cmocka_unit_test(test_listed_lines_complete),
        cmocka_unit_test(test_lines_from_offset_25),
        cmocka_unit_test(test_lines_not_following_read_from_0),
        cmocka_unit_test(test_lines_short_twice_is_an_incident),
        cmocka_unit_test(test_lines_stored_complete_not_reread),
        cmocka_unit_test(test_empty_lines_list_not_written),
        cmocka_unit_test(test_repeating_lines_list_not_written),
        cmocka_unit_test(test_doubtful_document_retried_next_run),
        cmocka_unit_test(test_vanished_document_stays_doubtful),
        cmocka_unit_test(test_reconcile_rereads_only_changes),
        cmocka_unit_test(test_explicit_dates_do_not_reconcile),
        cmocka_unit_test(test_payments_tail_ordered),
        cmocka_unit_test(test_payments_tail_past_low_count),
        cmocka_unit_test(test_payments_tail_after_a_failed_run),
        cmocka_unit_test(test_payments_tail_after_lost_rows_falls_back),
        cmocka_unit_test(test_payments_tail_shuffled_falls_back),
        cmocka_unit_test(test_payments_tail_past_newest_falls_back),
        cmocka_unit_test(test_references_for_credit_notes_only),
        cmocka_unit_test(test_run_deadline_recorded),
        cmocka_unit_test(test_unparseable_document_isolated),
        cmocka_unit_test(test_document_read_bare),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}

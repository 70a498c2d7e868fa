/*
 * Variant costs on a plain daily sync, against the scripted fake Bsale on
 * SQLite: only stock-controlled variants are asked for; a cost is stored; a
 * 404 stores the variant without a cost and is not asked again; a 5xx past
 * the retries is an incident, stores nothing, and the next run asks again;
 * reception details new to the warehouse, in the batch being filled, have
 * their variants' costs read in the same run.
 */
#include "common.h"

#include "config.h"
#include "db.h"
#include "etl_batch.h"
#include "etl_plan_parts.h"
#include "sync_runner.h"
#include "transform.h"
#include "fake_bsale.h"
#include "harness.h"

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

#define COST(id) "/v1/variants/" #id "/costs.json"

struct fixture {
    struct fake_bsale *f;
    char dir[64];
    enum err_code rc;
};

static void load_config(struct fixture *fx, struct config *cfg)
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
    setenv("BSALE_MAX_ATTEMPTS", "2", 1);
    /* An empty light list hands qsort NULL (sync_reconcile.c), which UBSan rejects. */
    setenv("ETL_RECONCILE_DAYS", "0", 1);
    setenv("LOG_LEVEL", "warn", 1);
    struct config_opts co = {.env_file = env_file};
    struct err e = ERR_INIT;
    if (config_load(cfg, &co, NULL, &e))
        fail_msg("config: %s", e.msg);
    free(env_file);
    free(db_url);
    free(base);
}

static void run_daily(struct fixture *fx)
{
    struct config cfg = {0};
    load_config(fx, &cfg);
    struct err e = ERR_INIT;
    struct etl_runner *r = NULL;
    assert_int_equal(etl_runner_new(&cfg, &r, &e), ERR_OK);
    struct etl_request req = {.kind = ETL_DAILY, .origin = ETL_ORIGIN_CLI};
    long long id = 0;
    json_t *summary = NULL;
    assert_int_equal(etl_runner_start(r, &req, &id, &e), ERR_OK);
    fx->rc = etl_runner_wait(r, id, &summary, &e);
    json_decref(summary);
    etl_runner_free(r);
    config_release(&cfg);
}

static void exec_sql(struct fixture *fx, const char *sql)
{
    char *path = xasprintf("%s/w.db", fx->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
    free(path);
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

static void answer(struct fixture *fx, const char *path, int status, const char *body)
{
    fb_add_rule(fx->f, (struct fb_rule){.path = path,
                                        .offset = -1,
                                        .action = FB_STATUS,
                                        .status = status,
                                        .body = body,
                                        .sticky = true});
}

/*
 * Product 1 tracks stock, product 2 does not. Variants 11, 12 and 15 are
 * stock-controlled; 13 (product 2) and 14 (unlimited stock) are not.
 */
static struct fixture *store_new(void)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = 0}; /* unscripted lists are empty */
    fx->f = fb_start(&fo);
    assert_non_null(fx->f);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/petl-costs-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    run_daily(fx); /* the schema */
    assert_int_equal(fx->rc, ERR_OK);
    exec_sql(fx, "INSERT INTO productos (id_bsale, controla_stock, sincronizado_en) VALUES "
                 "(1, 1, '2024-01-01 00:00:00'), (2, 0, '2024-01-01 00:00:00');"
                 "INSERT INTO variantes (id_bsale, id_producto, stock_ilimitado, sincronizado_en) "
                 "VALUES (11, 1, 0, '2024-01-01 00:00:00'), (12, 1, 0, '2024-01-01 00:00:00'),"
                 "(13, 2, 0, '2024-01-01 00:00:00'), (14, 1, 1, '2024-01-01 00:00:00'),"
                 "(15, 1, NULL, '2024-01-01 00:00:00');");
    answer(fx, COST(11), 200, "{\"averageCost\":\"4140.0\",\"totalCost\":8280.5,\"history\":[]}");
    answer(fx, COST(12), 500, "{\"error\":\"The requested resource is not available\"}");
    answer(fx, COST(15), 404, "{\"error\":\"no cost\"}");
    return fx;
}

static void fx_free(struct fixture *fx)
{
    fb_stop(fx->f);
    char *cmd = xasprintf("rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(fx);
}

static void test_costs_of_stock_controlled_variants(void **state)
{
    (void)state;
    struct fixture *fx = store_new();
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM costos_variante WHERE id_variante = 11 "
                                    "AND costo_promedio = 4140 AND costo_total = 8280.5"),
                     1);
    /* No cost (404): the row says so, and it is not an incident. */
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM costos_variante WHERE id_variante = 15 "
                                    "AND costo_promedio IS NULL AND costo_total IS NULL"),
                     1);
    /* Bsale kept failing: an incident naming the variant, and no row. */
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM costos_variante WHERE id_variante = 12"),
                     0);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias WHERE recurso = "
                                    "'/variants/12/costs.json' AND id_recurso = 12"),
                     1);
    assert_int_equal(count_rows(fx, "SELECT COUNT(*) FROM etl_incidencias"), 1);
    assert_int_equal(fb_count(fx->f, COST(11), -1), 1);
    assert_int_equal(fb_count(fx->f, COST(15), -1), 1);
    assert_int_equal(fb_count(fx->f, COST(13), -1), 0);
    assert_int_equal(fb_count(fx->f, COST(14), -1), 0);
    fx_free(fx);
}

/* The next run asks again for the failed one, not for the one without a cost. */
static void test_next_run_rereads_only_what_it_lacks(void **state)
{
    (void)state;
    struct fixture *fx = store_new();
    run_daily(fx);
    long failed = fb_count(fx->f, COST(12), -1);
    assert_true(failed >= 1);
    /* The rotation (ceil(3 / 7) = 1) takes the least recently read stored cost. */
    exec_sql(fx, "UPDATE costos_variante SET sincronizado_en = '2024-01-01 00:00:00' "
                 "WHERE id_variante = 11");
    run_daily(fx);
    assert_int_equal(fx->rc, ERR_OK);
    assert_true(fb_count(fx->f, COST(12), -1) > failed);
    assert_int_equal(fb_count(fx->f, COST(11), -1), 2);
    assert_int_equal(fb_count(fx->f, COST(15), -1), 1);
    fx_free(fx);
}

/* A reception detail row for variant, as a reception's embedded or listed details give it. */
static void add_detail(struct etl_batch *b, int64_t id, int64_t variant)
{
    char *body = xasprintf("{\"id\":%lld,\"quantity\":3,\"cost\":100,\"variant\":{\"id\":%lld}}",
                           (long long)id, (long long)variant);
    json_t *item = json_loads(body, 0, NULL);
    assert_non_null(item);
    assert_true(transform_item(b, catalog_role_index(CAT_ROLE_RECEPTION_DETAILS), item, 1));
    json_decref(item);
    free(body);
}

/*
 * Detail 500 (variant 11) was stored by a succeeded run; 503 (variant 17)
 * only after it (a failed run); 501 (variant 16) and 502 (13, not
 * stock-controlled) are new: the costs of 16 and 17 are read, in the run.
 */
static void test_new_reception_details_read_costs(void **state)
{
    (void)state;
    struct fixture *fx = store_new();
    exec_sql(fx, "INSERT INTO detalles_recepcion (id_bsale, id_recepcion, id_variante, "
                 "sincronizado_en) VALUES (500, 1, 11, '2024-01-01 00:00:00'),"
                 "(503, 1, 17, '2099-01-01 00:00:00');"
                 "INSERT INTO variantes (id_bsale, id_producto, stock_ilimitado, sincronizado_en) "
                 "VALUES (16, 1, 0, '2024-01-01 00:00:00'), (17, 1, 0, '2024-01-01 00:00:00')");
    answer(fx, COST(16), 200, "{\"averageCost\":10,\"totalCost\":30,\"history\":[]}");
    answer(fx, COST(17), 200, "{\"averageCost\":20,\"totalCost\":60,\"history\":[]}");
    struct config cfg = {0};
    load_config(fx, &cfg);
    struct err e = ERR_INIT;
    struct etl_run_ctx run = {.cfg = &cfg};
    pthread_mutex_init(&run.counters.mu, NULL);
    assert_int_equal(db_open(&cfg.db, &run.db, &e), ERR_OK);
    struct bsale_client_opts o = {.base_url = cfg.bsale_api_url,
                                  .token = cfg.bsale_api_token,
                                  .rate_limit = 1000,
                                  .concurrency = 4,
                                  .page_size = 50};
    assert_int_equal(bsale_client_new(&o, &run.client, &e), ERR_OK);
    struct etl_plan plan = {.documents = true}; /* an explicit-dates daily: no rotation */
    struct etl_plan_state ps = {.plan = &plan};
    run.plan_state = &ps;
    run.pending = etl_batch_new();
    assert_int_equal(sync_costs_start(&run, &e), ERR_OK);
    add_detail(run.pending, 500, 11);
    add_detail(run.pending, 501, 16);
    add_detail(run.pending, 502, 13);
    add_detail(run.pending, 503, 17);
    assert_int_equal(plan_flush(&run, false, &e), ERR_OK);
    assert_int_equal(bsale_run(run.client, &e), ERR_OK);
    assert_int_equal(fb_count(fx->f, COST(16), -1), 1);
    assert_int_equal(fb_count(fx->f, COST(17), -1), 1);
    assert_int_equal(fb_count(fx->f, COST(11), -1), 0);
    assert_int_equal(fb_count(fx->f, COST(13), -1), 0);
    const struct cat_rows *costs =
        etl_batch_rows(run.pending, catalog_role_index(CAT_ROLE_VARIANT_COSTS));
    assert_int_equal(costs->n, 2);
    sync_costs_release(&ps);
    etl_batch_free(run.pending);
    bsale_client_free(run.client);
    db_close(run.db);
    pthread_mutex_destroy(&run.counters.mu);
    config_release(&cfg);
    fx_free(fx);
}

static enum err_code ignore_json(void *ctx, json_t *json, struct err *e)
{
    (void)ctx;
    (void)json;
    (void)e;
    return ERR_OK;
}

/* A cost queued first still goes after a record queued later: costs never delay documents. */
static void test_costs_wait_for_other_requests(void **state)
{
    (void)state;
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = 0};
    struct fake_bsale *f = fb_start(&fo);
    assert_non_null(f);
    char *base = fb_base_url(f);
    struct bsale_client_opts o = {.base_url = base,
                                  .token = TEST_TOKEN,
                                  .rate_limit = 1000,
                                  .concurrency = 1,
                                  .page_size = 50};
    struct bsale_client *c = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &c, &e), ERR_OK);
    bsale_queue_get_background(c, "/variants/11/costs.json", NULL, ignore_json, NULL, NULL);
    bsale_queue_get_background(c, "/variants/12/costs.json", NULL, ignore_json, NULL, NULL);
    bsale_queue_get(c, "/documents/7.json", NULL, ignore_json, NULL);
    if (bsale_run(c, &e))
        fail_msg("run: %s", e.msg);
    size_t n = 0;
    struct fb_hit *hits = fb_hits(f, &n);
    assert_int_equal(n, 3);
    assert_string_equal(hits[0].path, "/v1/documents/7.json");
    assert_string_equal(hits[1].path, COST(11));
    assert_string_equal(hits[2].path, COST(12));
    free(hits);
    bsale_client_free(c);
    free(base);
    fb_stop(f);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_costs_of_stock_controlled_variants),
        cmocka_unit_test(test_next_run_rereads_only_what_it_lacks),
        cmocka_unit_test(test_new_reception_details_read_costs),
        cmocka_unit_test(test_costs_wait_for_other_requests),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}

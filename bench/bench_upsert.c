/*
 * Upsert throughput: N detalles_venta rows in batches (one transaction each)
 * into a fresh SQLite file and, when TEST_MYSQL_URL is set, a fresh MariaDB
 * database. Runs an insert pass then an update pass over the same keys.
 *   bench_upsert [rows=200000] [batch=500]
 */
#include "common.h"

#include "catalog.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One batch of lines first..first+n-1, shaped like Bsale document details. */
static int fill_batch(struct cat_rows *r, long first, long n, int pass)
{
    struct err e = ERR_INIT;
    for (long i = 0; i < n; i++) {
        long id = first + i;
        char js[512];
        snprintf(js, sizeof(js),
                 "{\"id\":%ld,\"lineNumber\":%ld,\"quantity\":%d.0,\"netUnitValue\":840.3361,"
                 "\"totalUnitValue\":\"1000.0\",\"netAmount\":%ld.5,\"taxAmount\":190.0,"
                 "\"totalAmount\":1190.0,\"netDiscount\":0.0,\"totalDiscount\":0.0,"
                 "\"variant\":{\"id\":%ld},\"note\":\"l\\u00ednea %ld pass %d\"}",
                 id, i % 8, 1 + pass, id, 1000 + id % 5000, id, pass);
        json_error_t jerr;
        json_t *item = json_loads(js, 0, &jerr);
        if (!item || catalog_map_item(r, item, id / 8, &e)) {
            fprintf(stderr, "bench: cannot map row %ld: %s\n", id, e.msg);
            json_decref(item);
            return 1;
        }
        json_decref(item);
    }
    return 0;
}

/* Seconds spent inside begin..commit for every batch of one pass; < 0 on error. */
static double run_pass(struct db *db, long rows, long batch, int pass)
{
    const struct cat_table *t = catalog_table("detalles_venta");
    struct err e = ERR_INIT;
    double spent = 0;
    for (long first = 1; first <= rows; first += batch) {
        long n = rows - first + 1 < batch ? rows - first + 1 : batch;
        struct cat_rows r = {0};
        cat_rows_init(&r, t);
        if (fill_batch(&r, first, n, pass)) {
            cat_rows_release(&r);
            return -1;
        }
        double t0 = now_s();
        enum err_code rc = db_begin(db, &e);
        if (!rc)
            rc = db_upsert(db, &r, pass ? "2024-02-17 00:00:00" : "2024-02-16 00:00:00", &e);
        if (!rc)
            rc = db_commit(db, &e);
        spent += now_s() - t0;
        cat_rows_release(&r);
        if (rc) {
            fprintf(stderr, "bench: %s\n", e.msg);
            (void)db_rollback(db, NULL);
            return -1;
        }
    }
    return spent;
}

static int bench(const char *label, const struct db_url *url, long rows, long batch)
{
    struct db *db = NULL;
    struct err e = ERR_INIT;
    if (db_open(url, &db, &e) || db_migrate(db, &e)) {
        fprintf(stderr, "bench %s: %s\n", label, e.msg);
        db_close(db);
        return 1;
    }
    static const char *const pass_name[] = {"insert", "update"};
    for (int pass = 0; pass < 2; pass++) {
        double s = run_pass(db, rows, batch, pass);
        if (s < 0) {
            db_close(db);
            return 1;
        }
        printf("%-8s %-6s %ld rows, batches of %ld: %.2f s, %.0f rows/s\n", label, pass_name[pass],
               rows, batch, s, (double)rows / s);
    }
    db_close(db);
    return 0;
}

static int bench_sqlite(long rows, long batch)
{
    char *path = xasprintf("/tmp/petl-bench-%ld.db", (long)getpid());
    struct db_url u = {.kind = DB_KIND_SQLITE, .path = path};
    int rc = bench("sqlite", &u, rows, batch);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        char *p = xasprintf("%s%s", path, suffixes[i]);
        (void)unlink(p);
        free(p);
    }
    free(path);
    return rc;
}

static int admin_exec(const struct db_url *u, const char *sql)
{
    struct db *db = NULL;
    struct err e = ERR_INIT;
    enum err_code rc = db_open(u, &db, &e);
    if (!rc)
        rc = db_query(db, sql, NULL, NULL, &e);
    if (rc)
        fprintf(stderr, "bench mysql: %s\n", e.msg);
    db_close(db);
    return rc ? 1 : 0;
}

static int bench_mysql(const char *url, long rows, long batch)
{
    struct db_url u = {0};
    struct err e = ERR_INIT;
    if (db_url_parse(url, &u, &e)) {
        fprintf(stderr, "bench mysql: %s\n", e.msg);
        return 1;
    }
    char name[64], sql[128];
    snprintf(name, sizeof(name), "petl_bench_%ld", (long)getpid());
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s CHARACTER SET utf8mb4", name);
    int rc = admin_exec(&u, sql);
    if (!rc) {
        char *orig = u.database;
        u.database = name;
        rc = bench("mysql", &u, rows, batch);
        u.database = orig;
        snprintf(sql, sizeof(sql), "DROP DATABASE %s", name);
        rc |= admin_exec(&u, sql);
    }
    db_url_release(&u);
    return rc;
}

int main(int argc, char **argv)
{
    long rows = 200000, batch = 500;
    if ((argc > 1 && !parse_long(argv[1], 1, 100000000, &rows)) ||
        (argc > 2 && !parse_long(argv[2], 1, 100000, &batch))) {
        fprintf(stderr, "usage: bench_upsert [rows] [batch]\n");
        return 2;
    }
    log_setup(LOG_WARN, LOG_FORMAT_TEXT);
    int rc = bench_sqlite(rows, batch);
    const char *url = getenv("TEST_MYSQL_URL");
    if (url && *url)
        rc |= bench_mysql(url, rows, batch);
    else
        printf("mysql    skipped (TEST_MYSQL_URL not set)\n");
    return rc;
}

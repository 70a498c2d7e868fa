/* Settings table: defaults, precedence, validation of every type, secrets, dump and docs. */
#include "common.h"

#include "buf.h"
#include "config.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define GOOD_DB "mysql+pymysql://etl:db-pass-XYZ@db.local:3306/patitas"
#define GOOD_TOKEN "bsale-token-ABC123"

static char tmpdir[64];
static char *saved_cwd;

/* Every test starts in an empty directory with no setting in the environment. */
static int setup(void **state)
{
    (void)state;
    for (const char *const *n = config_setting_names(); *n; n++)
        unsetenv(*n);
    unsetenv("TZDIR");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/petl-config-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    saved_cwd = getcwd(NULL, 0);
    log_clear_secrets();
    return chdir(tmpdir);
}

static int teardown(void **state)
{
    (void)state;
    unlink(".env");
    unlink("other.env");
    int rc = chdir(saved_cwd);
    free(saved_cwd);
    rmdir(tmpdir);
    log_set_output(NULL);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT);
    return rc;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void set_required(void)
{
    setenv("DATABASE_URL", GOOD_DB, 1);
    setenv("BSALE_API_TOKEN", GOOD_TOKEN, 1);
}

/* Loads with the given overrides; returns the code, problems in *out (owned) if wanted. */
static enum err_code load(struct config *cfg, const char *const *ov, size_t n, struct err *e,
                          char **problems)
{
    struct config_opts opts = {.overrides = ov, .n_overrides = n};
    struct buf b;
    buf_init(&b, 0);
    enum err_code rc = config_load(cfg, &opts, &b, e);
    if (problems)
        *problems = buf_detach(&b, NULL);
    buf_release(&b);
    return rc;
}

static void load_ok(struct config *cfg, const char *const *ov, size_t n)
{
    struct err e = ERR_INIT;
    if (load(cfg, ov, n, &e, NULL) != ERR_OK)
        fail_msg("config_load failed: %s", e.msg);
}

/* Loads with one override and expects a problem mentioning want (and not avoid). */
static void expect_invalid(const char *override, const char *want)
{
    struct config cfg = {0};
    struct err e = ERR_INIT;
    char *problems = NULL;
    const char *ov[] = {override};
    assert_int_equal(load(&cfg, ov, 1, &e, &problems), ERR_CONFIG);
    if (!strstr(e.msg, want) || !strstr(problems, want))
        fail_msg("override '%s': '%s' lacks '%s'", override, e.msg, want);
    free(problems);
    assert_null(cfg.bsale_api_token); /* released on failure */
}

static void test_defaults(void **state)
{
    (void)state;
    set_required();
    struct config cfg = {0};
    load_ok(&cfg, NULL, 0);
    assert_string_equal(cfg.database_url, GOOD_DB);
    assert_int_equal(cfg.db.kind, DB_KIND_MYSQL);
    assert_string_equal(cfg.db.password, "db-pass-XYZ");
    assert_string_equal(cfg.bsale_api_token, GOOD_TOKEN);
    assert_string_equal(cfg.bsale_api_url, "https://api.bsale.io/v1");
    assert_true(cfg.bsale_rate_limit == 8.0);
    assert_int_equal(cfg.bsale_concurrency, 64);
    assert_int_equal(cfg.bsale_timeout_s, 60);
    assert_int_equal(cfg.bsale_connect_timeout_s, 10);
    assert_int_equal(cfg.bsale_max_attempts, 6);
    assert_int_equal(cfg.bsale_retry_budget_s, 300);
    assert_int_equal(cfg.bsale_page_size, 50);
    assert_string_equal(cfg.host, "0.0.0.0");
    assert_int_equal(cfg.port, 8000);
    assert_null(cfg.etl_api_token);
    assert_string_equal(cfg.etl_timezone, "America/Santiago");
    assert_int_equal(cfg.etl_lookback_days, 3);
    assert_int_equal(cfg.etl_max_range_days, 366);
    assert_string_equal(cfg.etl_history_from, "");
    assert_int_equal(cfg.etl_batch_docs, 50);
    assert_int_equal(cfg.etl_queue_batches, 8);
    assert_true(cfg.etl_auto_migrate);
    assert_int_equal(cfg.http_max_connections, 64);
    assert_int_equal(cfg.http_timeout_s, 30);
    assert_int_equal(cfg.http_max_body, 65536);
    assert_int_equal(cfg.shutdown_timeout_s, 25);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.log_format, LOG_FORMAT_TEXT);
    config_release(&cfg);
    assert_null(cfg.database_url);
    config_release(&cfg); /* twice is harmless */
}

static void test_missing_required_names_all(void **state)
{
    (void)state;
    setenv("DATABASE_URL", "postgresql://u:pg-secret-1@h/db", 1);
    setenv("PORT", "eighty", 1);
    struct config cfg = {0};
    struct err e = ERR_INIT;
    char *problems = NULL;
    assert_int_equal(load(&cfg, NULL, 0, &e, &problems), ERR_CONFIG);
    assert_int_equal(e.code, ERR_CONFIG);
    assert_non_null(strstr(e.msg, "BSALE_API_TOKEN is required"));
    assert_non_null(strstr(e.msg, "DATABASE_URL: unsupported database scheme 'postgresql'"));
    assert_non_null(strstr(e.msg, "PORT: 'eighty' is not a whole number in 0..65535"));
    assert_null(strstr(e.msg, "pg-secret-1"));
    assert_string_equal(problems, "DATABASE_URL: unsupported database scheme 'postgresql' (use "
                                  "mysql+pymysql://, mariadb:// or sqlite://)\n"
                                  "BSALE_API_TOKEN is required\n"
                                  "PORT: 'eighty' is not a whole number in 0..65535\n");
    free(problems);
}

static void test_many_problems_still_named(void **state)
{
    (void)state;
    const char *ov[] = {"BSALE_RATE_LIMIT=x",   "BSALE_CONCURRENCY=x", "BSALE_TIMEOUT_S=x",
                        "BSALE_MAX_ATTEMPTS=x", "BSALE_PAGE_SIZE=x",   "PORT=x",
                        "ETL_LOOKBACK_DAYS=x",  "ETL_BATCH_DOCS=x",    "HTTP_MAX_BODY=x"};
    struct config cfg = {0};
    struct err e = ERR_INIT;
    char *problems = NULL;
    assert_int_equal(load(&cfg, ov, ARRAY_LEN(ov), &e, &problems), ERR_CONFIG);
    /* the message outgrows struct err: it then lists every name */
    assert_non_null(strstr(e.msg, "11 problems with DATABASE_URL, BSALE_API_TOKEN"));
    for (size_t i = 0; i < ARRAY_LEN(ov); i++) {
        char name[32];
        snprintf(name, sizeof(name), "%.*s", (int)(strchr(ov[i], '=') - ov[i]), ov[i]);
        assert_non_null(strstr(e.msg, name));
        assert_non_null(strstr(problems, name));
    }
    free(problems);
}

static void test_precedence(void **state)
{
    (void)state;
    write_file(".env", "DATABASE_URL=sqlite:///from-dotenv.db\nBSALE_API_TOKEN=dotenv-token\n"
                       "PORT=1111\nHOST=127.0.0.1\nLOG_LEVEL=debug\nBSALE_PAGE_SIZE=10\n");
    setenv("PORT", "2222", 1);
    setenv("LOG_LEVEL", "warn", 1);
    const char *ov[] = {"LOG_LEVEL=error"};
    struct config cfg = {0};
    load_ok(&cfg, ov, 1);
    assert_string_equal(cfg.db.path, "from-dotenv.db");
    assert_string_equal(cfg.host, "127.0.0.1");
    assert_int_equal(cfg.port, 2222);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    assert_int_equal(cfg.bsale_page_size, 10);
    assert_int_equal(cfg.bsale_concurrency, 64);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    config_dump(&cfg, f);
    fclose(f);
    assert_non_null(strstr(out, "\nPORT=2222  (source: environment)\n"));
    assert_non_null(strstr(out, "\nHOST=127.0.0.1  (source: .env)\n"));
    assert_non_null(strstr(out, "\nLOG_LEVEL=error  (source: flag)\n"));
    assert_non_null(strstr(out, "\nBSALE_CONCURRENCY=64  (source: default)\n"));
    assert_non_null(strstr(out, "BSALE_API_TOKEN=[REDACTED]  (source: .env)\n"));
    assert_null(strstr(out, "dotenv-token"));
    free(out);
    config_release(&cfg);
    /* the last override of a key wins */
    const char *ov2[] = {"PORT=3333", "PORT=4444"};
    load_ok(&cfg, ov2, 2);
    assert_int_equal(cfg.port, 4444);
    config_release(&cfg);
}

static void test_env_file_option(void **state)
{
    (void)state;
    write_file(".env", "BSALE_API_TOKEN=from-default-file\n");
    write_file("other.env", "BSALE_API_TOKEN=from-other-file\nDATABASE_URL=sqlite://\n");
    struct config cfg = {0};
    struct err e = ERR_INIT;
    struct config_opts opts = {.env_file = "other.env", .env_file_required = true};
    assert_int_equal(config_load(&cfg, &opts, NULL, &e), ERR_OK);
    assert_string_equal(cfg.bsale_api_token, "from-other-file");
    config_release(&cfg);
    opts.env_file = "missing.env";
    assert_int_equal(config_load(&cfg, &opts, NULL, &e), ERR_CONFIG);
    assert_non_null(strstr(e.msg, "missing.env"));
    /* a malformed file names file and line, and is fatal */
    write_file("other.env", "DATABASE_URL=sqlite://\nBROKEN LINE\n");
    opts.env_file = "other.env";
    assert_int_equal(config_load(&cfg, &opts, NULL, &e), ERR_CONFIG);
    assert_string_equal(e.msg, "other.env:2: expected KEY=VALUE");
    /* no ./.env at all is fine */
    unlink(".env");
    set_required();
    load_ok(&cfg, NULL, 0);
    config_release(&cfg);
}

static void test_invalid_values(void **state)
{
    (void)state;
    set_required();
    expect_invalid("BSALE_RATE_LIMIT=0", "BSALE_RATE_LIMIT: '0' is not a number in 0.01..1000");
    expect_invalid("BSALE_RATE_LIMIT=fast", "BSALE_RATE_LIMIT: 'fast'");
    expect_invalid("BSALE_RATE_LIMIT=nan", "BSALE_RATE_LIMIT");
    expect_invalid("BSALE_PAGE_SIZE=51", "BSALE_PAGE_SIZE: '51' is not a whole number in 1..50");
    expect_invalid("BSALE_PAGE_SIZE=0", "BSALE_PAGE_SIZE");
    expect_invalid("BSALE_CONCURRENCY=8.5", "BSALE_CONCURRENCY");
    expect_invalid("ETL_LOOKBACK_DAYS=61",
                   "ETL_LOOKBACK_DAYS: '61' is not a whole number in 0..60");
    expect_invalid("ETL_LOOKBACK_DAYS=-1", "ETL_LOOKBACK_DAYS");
    expect_invalid("ETL_BACKFILL_WINDOW_DAYS=0",
                   "ETL_BACKFILL_WINDOW_DAYS: '0' is not a whole number in 1..366");
    expect_invalid("PORT=65536", "PORT");
    expect_invalid("PORT= 80", "PORT");
    expect_invalid("PORT=", "PORT: '' is not a whole number");
    expect_invalid("HOST=", "HOST must not be empty");
    expect_invalid("BSALE_API_URL=ftp://x", "BSALE_API_URL: 'ftp://x' is not an http:// or");
    expect_invalid("BSALE_API_URL=https://", "BSALE_API_URL");
    expect_invalid("BSALE_API_URL=https://a b", "BSALE_API_URL");
    expect_invalid("BSALE_API_URL=", "BSALE_API_URL");
    expect_invalid("ETL_AUTO_MIGRATE=maybe", "ETL_AUTO_MIGRATE: 'maybe' is not true or false");
    expect_invalid("LOG_LEVEL=verbose", "LOG_LEVEL: 'verbose' is not one of error|warn|info|debug");
    expect_invalid("LOG_FORMAT=xml", "LOG_FORMAT: 'xml' is not one of text|json");
    expect_invalid("ETL_HISTORY_FROM=2024-02-30", "ETL_HISTORY_FROM: '2024-02-30' is not a date");
    expect_invalid("ETL_HISTORY_FROM=yesterday", "ETL_HISTORY_FROM");
    expect_invalid("ETL_HISTORY_FROM=9999-12-31", "ETL_HISTORY_FROM: 9999-12-31 is in the future");
    expect_invalid("ETL_TIMEZONE=Mars/Olympus_Mons", "ETL_TIMEZONE: unknown time zone");
    expect_invalid("ETL_TIMEZONE=../../../etc/passwd", "ETL_TIMEZONE: unknown time zone");
    expect_invalid("ETL_TIMEZONE=/etc/localtime", "ETL_TIMEZONE: unknown time zone");
    expect_invalid("ETL_TIMEZONE=", "ETL_TIMEZONE: unknown time zone");
    expect_invalid("ETL_TIMEZONE=America", "ETL_TIMEZONE: unknown time zone"); /* a directory */
    expect_invalid("HOST=a\tb", "HOST contains invalid UTF-8 or a control character");
    expect_invalid("HOST=\xff", "HOST contains invalid UTF-8");
    expect_invalid("BSALE_CONNECT_TIMEOUT_S=61",
                   "BSALE_CONNECT_TIMEOUT_S (61) must not exceed BSALE_TIMEOUT_S (60)");
    expect_invalid("NO_SUCH_SETTING=1", "unknown setting override 'NO_SUCH_SETTING'");
    expect_invalid("PORT", "unknown setting override 'PORT'");
    expect_invalid("BSALE_API_TOKEN=x", "BSALE_API_TOKEN cannot be given on the command line");
    expect_invalid("ETL_API_TOKEN=x", "ETL_API_TOKEN cannot be given on the command line");
    expect_invalid("DATABASE_URL=sqlite://", "DATABASE_URL cannot be given on the command line");
}

static void test_cross_checks_with_other_problems(void **state)
{
    (void)state;
    const char *ov[] = {"BSALE_CONNECT_TIMEOUT_S=90", "BSALE_TIMEOUT_S=30", "PORT=x"};
    struct config cfg = {0};
    struct err e = ERR_INIT;
    assert_int_equal(load(&cfg, ov, ARRAY_LEN(ov), &e, NULL), ERR_CONFIG);
    assert_non_null(strstr(e.msg, "BSALE_CONNECT_TIMEOUT_S (90) must not exceed"));
    assert_non_null(strstr(e.msg, "PORT"));
    /* a cross-check never blames a value that was itself invalid */
    const char *ov2[] = {"BSALE_CONNECT_TIMEOUT_S=90", "BSALE_TIMEOUT_S=0"};
    assert_int_equal(load(&cfg, ov2, ARRAY_LEN(ov2), &e, NULL), ERR_CONFIG);
    assert_null(strstr(e.msg, "must not exceed"));
    assert_non_null(strstr(e.msg, "BSALE_TIMEOUT_S: '0'"));
}

static void test_valid_values(void **state)
{
    (void)state;
    set_required();
    const char *ov[] = {"BSALE_RATE_LIMIT=2.5",
                        "BSALE_API_URL=http://127.0.0.1:8089/v1/",
                        "ETL_AUTO_MIGRATE=OFF",
                        "LOG_LEVEL=DEBUG",
                        "LOG_FORMAT=json",
                        "ETL_TIMEZONE=UTC",
                        "ETL_HISTORY_FROM=2020-02-29",
                        "PORT=0",
                        "BSALE_CONNECT_TIMEOUT_S=60"};
    struct config cfg = {0};
    load_ok(&cfg, ov, ARRAY_LEN(ov));
    assert_true(cfg.bsale_rate_limit == 2.5);
    assert_string_equal(cfg.bsale_api_url, "http://127.0.0.1:8089/v1");
    assert_false(cfg.etl_auto_migrate);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
    assert_int_equal(log_get_level(), LOG_DEBUG); /* applied to the logger */
    assert_string_equal(cfg.etl_timezone, "UTC");
    assert_string_equal(cfg.etl_history_from, "2020-02-29");
    assert_int_equal(cfg.port, 0);
    config_release(&cfg);
    const char *zones[] = {"ETL_TIMEZONE=Europe/Madrid", "ETL_TIMEZONE=Etc/GMT+4"};
    for (size_t i = 0; i < ARRAY_LEN(zones); i++) {
        load_ok(&cfg, &zones[i], 1);
        config_release(&cfg);
    }
    const char *bools[] = {"ETL_AUTO_MIGRATE=1", "ETL_AUTO_MIGRATE=yes", "ETL_AUTO_MIGRATE=On",
                           "ETL_AUTO_MIGRATE=TRUE"};
    for (size_t i = 0; i < ARRAY_LEN(bools); i++) {
        load_ok(&cfg, &bools[i], 1);
        assert_true(cfg.etl_auto_migrate);
        config_release(&cfg);
    }
}

static void test_empty_optional_and_required(void **state)
{
    (void)state;
    set_required();
    setenv("ETL_API_TOKEN", "", 1);
    setenv("ETL_HISTORY_FROM", "", 1);
    struct config cfg = {0};
    load_ok(&cfg, NULL, 0);
    assert_null(cfg.etl_api_token);
    assert_string_equal(cfg.etl_history_from, "");
    config_release(&cfg);
    setenv("BSALE_API_TOKEN", "", 1);
    struct err e = ERR_INIT;
    assert_int_equal(load(&cfg, NULL, 0, &e, NULL), ERR_CONFIG);
    assert_string_equal(e.msg, "BSALE_API_TOKEN is required");
}

static void test_skip_required(void **state)
{
    (void)state;
    struct config cfg = {0};
    struct err e = ERR_INIT;
    struct config_opts opts = {.skip_required = true};
    assert_int_equal(config_load(&cfg, &opts, NULL, &e), ERR_OK);
    assert_null(cfg.database_url);
    assert_int_equal(cfg.port, 8000);
    config_release(&cfg);
    /* given but invalid still fails */
    setenv("DATABASE_URL", "oracle://x/y", 1);
    assert_int_equal(config_load(&cfg, &opts, NULL, &e), ERR_CONFIG);
}

static void test_secrets_never_leak(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    log_set_output(f);
    write_file(".env", "BSALE_API_TOKEN=bsale-secret-777\nETL_API_TOKEN=etl-secret-888\n"
                       "DATABASE_URL=mysql://etl:p%40db-secret-999@h/db\n"
                       "UNKNOWN_KEY=unknown-value-000\nport=8080\n");
    struct config cfg = {0};
    load_ok(&cfg, NULL, 0);
    log_warn("leak test: %s %s %s %s", cfg.bsale_api_token, cfg.etl_api_token, cfg.db.password,
             cfg.database_url);
    config_dump(&cfg, f);
    config_release(&cfg);
    /* an invalid configuration does not print them either */
    setenv("PORT", "bad", 1);
    struct err e = ERR_INIT;
    char *problems = NULL;
    assert_int_equal(load(&cfg, NULL, 0, &e, &problems), ERR_CONFIG);
    fputs(e.msg, f);
    fputs(problems, f);
    free(problems);
    fclose(f);
    log_set_output(NULL);
    assert_non_null(strstr(out, ".env:4: ignoring unknown setting UNKNOWN_KEY\n"));
    assert_non_null(strstr(out, ".env:5: ignoring unknown setting port (names are "
                                "case-sensitive: PORT?)"));
    assert_non_null(strstr(out, "DATABASE_URL=mysql://etl:***@h/db  (source: .env)"));
    assert_non_null(strstr(out, "ETL_API_TOKEN=[REDACTED]  (source: .env)"));
    const char *never[] = {"bsale-secret-777", "etl-secret-888", "db-secret-999",
                           "unknown-value-000"};
    for (size_t i = 0; i < ARRAY_LEN(never); i++)
        if (strstr(out, never[i]))
            fail_msg("'%s' leaked in:\n%s", never[i], out);
    free(out);
}

static void test_secret_pasted_elsewhere_is_masked(void **state)
{
    (void)state;
    set_required();
    setenv("ETL_API_TOKEN", "etl-token-pasted-1", 1);
    write_file(".env", "BSALE_API_TOKEN=shrt\n");
    const char *ov[] = {("PORT=" GOOD_TOKEN), "HOST=a\tb", "LOG_LEVEL=etl-token-pasted-1",
                        "BSALE_PAGE_SIZE=shrt"};
    struct config cfg = {0};
    struct err e = ERR_INIT;
    char *problems = NULL;
    assert_int_equal(load(&cfg, ov, ARRAY_LEN(ov), &e, &problems), ERR_CONFIG);
    assert_non_null(strstr(problems, "PORT: '[REDACTED]' is not a whole number"));
    assert_non_null(strstr(problems, "LOG_LEVEL: '[REDACTED]' is not one of"));
    assert_null(strstr(problems, GOOD_TOKEN));
    assert_null(strstr(e.msg, GOOD_TOKEN));
    assert_null(strstr(problems, "etl-token-pasted-1"));
    free(problems);
    /* a short secret (from .env, the environment wins for the other) is masked too */
    unsetenv("BSALE_API_TOKEN");
    assert_int_equal(load(&cfg, ov, ARRAY_LEN(ov), &e, &problems), ERR_CONFIG);
    assert_non_null(strstr(problems, "BSALE_PAGE_SIZE: '[REDACTED]' is not"));
    assert_null(strstr(problems, "shrt"));
    free(problems);
}

static void test_dump_format(void **state)
{
    (void)state;
    set_required();
    struct config cfg = {0};
    load_ok(&cfg, NULL, 0);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    config_dump(&cfg, f);
    fclose(f);
    config_release(&cfg);
    size_t lines = 0;
    const char *const *names = config_setting_names();
    for (const char *p = out; *p; lines++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        /* line k is NAME=value  (source: ...) for setting k */
        assert_non_null(names[lines]);
        assert_memory_equal(p, names[lines], strlen(names[lines]));
        assert_int_equal(p[strlen(names[lines])], '=');
        assert_non_null(strstr(p, "  (source: "));
        p = nl + 1;
    }
    assert_null(names[lines]);
    assert_non_null(strstr(out, "DATABASE_URL=mysql+pymysql://etl:***@db.local:3306/patitas  "
                                "(source: environment)\n"));
    assert_non_null(strstr(out, "BSALE_RATE_LIMIT=8  (source: default)\n"));
    assert_non_null(strstr(out, "ETL_AUTO_MIGRATE=true  (source: default)\n"));
    assert_non_null(strstr(out, "LOG_FORMAT=text  (source: default)\n"));
    assert_non_null(strstr(out, "ETL_API_TOKEN=  (source: default)\n"));
    free(out);
}

static void test_docs_cover_every_setting(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    config_write_docs(f);
    fclose(f);
    size_t n = 0;
    for (const char *const *name = config_setting_names(); *name; name++, n++) {
        char *row = xasprintf("\n| `%s` |", *name);
        if (!strstr(out, row))
            fail_msg("no docs row for %s", *name);
        free(row);
    }
    assert_int_equal(n, 32); /* one per field of struct config */
    /* every line is a table row with exactly six '|' (help text must not contain one) */
    size_t rows = 0;
    for (char *line = out, *nl; *line; line = nl + 1, rows++) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        size_t bars = 0;
        for (char *p = line; p < nl; p++)
            bars += *p == '|';
        assert_int_equal(bars, 6);
    }
    assert_int_equal(rows, n + 2);
    assert_non_null(strstr(out, "| `BSALE_PAGE_SIZE` | `50` | integer 1..50 | "
                                "`--bsale-page-size` |"));
    assert_non_null(strstr(out, "| `BSALE_API_TOKEN` | **required** | text, secret | - |"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_required_names_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_problems_still_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_file_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_checks_with_other_problems, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_optional_and_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secrets_never_leak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_pasted_elsewhere_is_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_docs_cover_every_setting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

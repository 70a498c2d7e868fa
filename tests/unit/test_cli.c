/* Command-line parsing: global options, setting flags, sync date rules. */
#include "common.h"

#include "cli.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

struct sync_case {
    enum etl_kind kind;
    const char *args[8];
    enum err_code rc;
    const char *from, *to; /* expected on success */
    const char *msg;       /* expected message fragment on failure */
    bool json;
};

static int count_args(const char *const *a)
{
    int n = 0;
    while (a[n])
        n++;
    return n;
}

static void run_sync_case(const struct sync_case *c)
{
    struct cli_globals g = {0};
    struct sync_args a = {0};
    struct err e = ERR_INIT;
    bool help = true;
    cli_globals_init(&g);
    enum err_code rc =
        cli_parse_sync(c->kind, count_args(c->args), (char **)c->args, &g, &a, &help, &e);
    const struct etl_request *req = &a.req;
    if (rc != c->rc)
        fail_msg("%s: got %d (%s), want %d", c->args[0] ? c->args[0] : "(none)", rc, e.msg, c->rc);
    if (rc == ERR_OK) {
        assert_false(help);
        assert_int_equal(req->kind, c->kind);
        assert_int_equal(req->origin, ETL_ORIGIN_CLI);
        assert_string_equal(req->date_from, c->from);
        assert_string_equal(req->date_to, c->to);
        assert_int_equal(a.json, c->json);
    } else if (!strstr(e.msg, c->msg)) {
        fail_msg("message '%s' lacks '%s'", e.msg, c->msg);
    }
    cli_globals_release(&g);
}

static void test_sync_dates(void **state)
{
    (void)state;
    const struct sync_case cases[] = {
        {ETL_FULL, {NULL}, ERR_OK, "", "", NULL, false},
        {ETL_DAILY, {NULL}, ERR_OK, "", "", NULL, false},
        {ETL_DAILY,
         {"--date", "2024-02-29", NULL},
         ERR_OK,
         "2024-02-29",
         "2024-02-29",
         NULL,
         false},
        {ETL_DAILY, {"--date=2024-02-29", NULL}, ERR_OK, "2024-02-29", "2024-02-29", NULL, false},
        {ETL_FULL,
         {"--from", "2024-01-01", "--to", "2024-01-31", NULL},
         ERR_OK,
         "2024-01-01",
         "2024-01-31",
         NULL,
         false},
        {ETL_DAILY,
         {"--to=2024-01-05", "--from=2024-01-05", NULL},
         ERR_OK,
         "2024-01-05",
         "2024-01-05",
         NULL,
         false},
        {ETL_DAILY,
         {"--date", "2024-02-30", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "not a real date",
         false},
        {ETL_DAILY,
         {"--date", "2023-02-29", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "not a real date",
         false},
        {ETL_DAILY, {"--date", "24-1-1", NULL}, ERR_USAGE, NULL, NULL, "not a real date", false},
        {ETL_DAILY, {"--date", NULL}, ERR_USAGE, NULL, NULL, "needs a date", false},
        {ETL_DAILY,
         {"--date", "2024-01-01", "--from", "2024-01-01", "--to", "2024-01-02", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "--date cannot be combined",
         false},
        {ETL_DAILY,
         {"--from", "2024-01-01", "--date", "2024-01-01", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "--date cannot be combined",
         false},
        {ETL_FULL,
         {"--from", "2024-01-01", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "must be given together",
         false},
        {ETL_FULL,
         {"--to", "2024-01-01", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "must be given together",
         false},
        {ETL_FULL,
         {"--from", "2024-02-01", "--to", "2024-01-31", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "--from 2024-02-01 is after --to 2024-01-31",
         false},
        {ETL_FULL,
         {"--date", "2024-01-01", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "unknown option '--date'",
         false},
        {ETL_FULL,
         {"--from", "2024-01-01", "--from", "2024-01-01", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "given twice",
         false},
        {ETL_FULL, {"2024-01-01", NULL}, ERR_USAGE, NULL, NULL, "unexpected argument", false},
        {ETL_FULL, {"-x", NULL}, ERR_USAGE, NULL, NULL, "unknown option '-x'", false},
        {ETL_FULL,
         {"--fromage", "x", NULL},
         ERR_USAGE,
         NULL,
         NULL,
         "unknown option '--fromage'",
         false},
        {ETL_FULL, {"--json", NULL}, ERR_OK, "", "", NULL, true},
        {ETL_DAILY,
         {"--json", "--date", "2024-01-02", NULL},
         ERR_OK,
         "2024-01-02",
         "2024-01-02",
         NULL,
         true},
        {ETL_DAILY, {"--json=yes", NULL}, ERR_USAGE, NULL, NULL, "unknown option '--json'", false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        run_sync_case(&cases[i]);
}

static void test_sync_help_and_globals(void **state)
{
    (void)state;
    struct cli_globals g = {0};
    struct sync_args req = {0};
    struct err e = ERR_INIT;
    bool help = false;
    cli_globals_init(&g);
    char *args[] = {"--port",     "8080",  "--date", "2024-03-01", "--log-level=debug",
                    "--env-file", "x.env", NULL};
    assert_int_equal(cli_parse_sync(ETL_DAILY, 7, args, &g, &req, &help, &e), ERR_OK);
    assert_int_equal(g.n_overrides, 2);
    assert_string_equal(g.overrides[0], "PORT=8080");
    assert_string_equal(g.overrides[1], "LOG_LEVEL=debug");
    assert_string_equal(g.env_file, "x.env");
    struct config_opts o = {0};
    cli_config_opts(&g, &o);
    assert_true(o.env_file_required);
    assert_int_equal(o.n_overrides, 2);
    assert_string_equal(o.overrides[1], "LOG_LEVEL=debug");
    cli_globals_release(&g);
    char *help_args[] = {"--date", "bogus", "--help", NULL};
    cli_globals_init(&g);
    /* the bad date comes first and is reported; --help first wins */
    assert_int_equal(cli_parse_sync(ETL_DAILY, 3, help_args, &g, &req, &help, &e), ERR_USAGE);
    char *help_first[] = {"-h", "--date", "bogus", NULL};
    assert_int_equal(cli_parse_sync(ETL_DAILY, 3, help_first, &g, &req, &help, &e), ERR_OK);
    assert_true(help);
    cli_globals_release(&g);
}

static void test_report(void **state)
{
    (void)state;
    struct cli_globals g = {0};
    struct err e = ERR_INIT;
    bool help;
    char date[11] = "junk";
    cli_globals_init(&g);
    assert_int_equal(cli_parse_report(0, NULL, &g, date, &help, &e), ERR_OK);
    assert_string_equal(date, "");
    char *ok[] = {"--date", "2024-12-31", "--log-format", "json", NULL};
    assert_int_equal(cli_parse_report(4, ok, &g, date, &help, &e), ERR_OK);
    assert_string_equal(date, "2024-12-31");
    assert_string_equal(g.overrides[0], "LOG_FORMAT=json");
    char *bad[] = {"--date", "2024-12-32", NULL};
    assert_int_equal(cli_parse_report(2, bad, &g, date, &help, &e), ERR_USAGE);
    assert_non_null(strstr(e.msg, "not a real date"));
    char *from[] = {"--from", "2024-12-01", NULL};
    assert_int_equal(cli_parse_report(2, from, &g, date, &help, &e), ERR_USAGE);
    assert_non_null(strstr(e.msg, "unknown option '--from'"));
    cli_globals_release(&g);
}

static void test_globals(void **state)
{
    (void)state;
    struct cli_globals g = {0};
    struct err e = ERR_INIT;
    bool help;
    cli_globals_init(&g);
    char *ok[] = {"--bsale-rate-limit", "5", "--etl-history-from=2024-01-01", "--host=", NULL};
    assert_int_equal(cli_parse_plain(4, ok, &g, &help, &e), ERR_OK);
    assert_false(help);
    assert_int_equal(g.n_overrides, 3);
    assert_string_equal(g.overrides[0], "BSALE_RATE_LIMIT=5");
    assert_string_equal(g.overrides[1], "ETL_HISTORY_FROM=2024-01-01");
    assert_string_equal(g.overrides[2], "HOST=");
    cli_globals_release(&g);
    /* a secret setting still parses as a flag; config_load refuses it with a clear message */
    char *secret[] = {"--bsale-api-token", "x", NULL};
    assert_int_equal(cli_parse_plain(2, secret, &g, &help, &e), ERR_OK);
    assert_string_equal(g.overrides[0], "BSALE_API_TOKEN=x");
    cli_globals_release(&g);
    const char *bad[][2] = {
        {"--port", "option '--port' needs a value"},
        {"--env-file", "option '--env-file' needs a value"},
        {"--env-file=", "needs a file name"},
        {"--PORT=1", "unknown option '--PORT'"},
        {"--bsale_rate_limit=1", "unknown option"},
        {"--no-such-setting=1", "unknown option"},
        {"---port=1", "unknown option"},
        {"--", "unknown option '--'"},
        {"extra", "unexpected argument 'extra'"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        char *args[] = {(char *)bad[i][0], NULL};
        cli_globals_init(&g);
        assert_int_equal(cli_parse_plain(1, args, &g, &help, &e), ERR_USAGE);
        if (!strstr(e.msg, bad[i][1]))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i][0], e.msg, bad[i][1]);
        cli_globals_release(&g);
    }
    char *h[] = {"--port", "1", "--help", NULL};
    cli_globals_init(&g);
    assert_int_equal(cli_parse_plain(3, h, &g, &help, &e), ERR_OK);
    assert_true(help);
    cli_globals_release(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_dates),
        cmocka_unit_test(test_sync_help_and_globals),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_globals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

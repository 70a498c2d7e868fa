/* The fetcher's retries and failures against the scripted fake server. */
#include "common.h"

#include "harness.h"
#include "log.h"

#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <stdatomic.h>

#define DOCS "/v1/documents.json"

struct fixture {
    struct fake_bsale *f;
    char *base;
    struct bsale_client *c;
    struct collector col;
    struct bsale_client_opts o;
    char *log_text;
    size_t log_len;
    FILE *log;
};

/*
 * 150 items = 3 pages of 50, and one request at 150 that answers empty: a
 * full last page does not prove count right. Rules are added before the
 * client runs.
 */
static struct fixture *fx_new_opts(struct fb_opts fo)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    fo.token = TEST_TOKEN;
    fx->f = fb_start(&fo);
    assert_non_null(fx->f);
    fx->base = fb_base_url(fx->f);
    fx->o = test_opts(fx->base);
    fx->o.concurrency = 2;
    fx->log = open_memstream(&fx->log_text, &fx->log_len);
    assert_non_null(fx->log);
    log_set_output(fx->log);
    log_setup(LOG_DEBUG, LOG_FORMAT_TEXT);
    return fx;
}

static struct fixture *fx_new_n(long n_items)
{
    return fx_new_opts((struct fb_opts){.n_items = n_items});
}

static struct fixture *fx_new(void)
{
    return fx_new_n(150);
}

static void fx_client(struct fixture *fx)
{
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&fx->o, &fx->c, &e), ERR_OK);
    /* Masking would hide a leak: the test looks at what the client itself wrote. */
    log_clear_secrets();
    fx->col.c = fx->c;
}

static enum err_code fx_run(struct fixture *fx, struct err *e)
{
    if (!fx->c)
        fx_client(fx);
    bsale_queue_list(fx->c, "/documents.json", "expand=[details]", collect_page, &fx->col);
    return bsale_run(fx->c, e);
}

static void fx_free(struct fixture *fx)
{
    bsale_client_free(fx->c);
    fb_stop(fx->f);
    log_set_output(NULL);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT);
    fclose(fx->log);
    /* Nothing the client logged, retries and failures included, holds the token. */
    assert_true(fx->log_len > 0);
    assert_null(strstr(fx->log_text, TEST_TOKEN));
    assert_null(strstr(fx->log_text, fx->base)); /* no full URLs either */
    free(fx->log_text);
    free(fx->base);
    free(fx);
}

static void rule(struct fixture *fx, long offset, enum fb_action a, int status, const char *body,
                 const char *retry_after, long param)
{
    fb_add_rule(fx->f, (struct fb_rule){.path = DOCS,
                                        .offset = offset,
                                        .action = a,
                                        .status = status,
                                        .body = body,
                                        .retry_after = retry_after,
                                        .param = param});
}

static void expect_ok(struct fixture *fx)
{
    struct err e = ERR_INIT;
    enum err_code rc = fx_run(fx, &e);
    if (rc)
        fail_msg("bsale_run: %s: %s", err_str(rc), e.msg);
    assert_each_once(&fx->col, 150);
    struct fb_counters k = {0};
    fb_counters(fx->f, &k);
    assert_int_equal(k.rules_left, 0);
    assert_int_equal(k.bad_token, 0);
    assert_int_equal(k.token_in_uri, 0);
    assert_int_equal(k.trap, 0);
}

static void test_retry_5xx(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    rule(fx, 50, FB_STATUS, 500, "{\"error\":\"The requested resource is not available\"}", NULL,
         0);
    rule(fx, 50, FB_STATUS, 502, "", NULL, 0);
    rule(fx, 100, FB_STATUS, 503, "", NULL, 0);
    rule(fx, 100, FB_STATUS, 504, "", NULL, 0);
    expect_ok(fx);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.requests, 7);
    assert_int_equal(st.retries, 4);
    assert_int_equal(st.pages, 3);
    assert_int_equal(st.extra_pages, 0); /* the full last page reaches a steady count */
    assert_int_equal(status_count(&st, 200), 3);
    assert_int_equal(status_count(&st, 500), 1);
    assert_int_equal(status_count(&st, 502), 1);
    assert_int_equal(status_count(&st, 503), 1);
    assert_int_equal(status_count(&st, 504), 1);
    assert_int_equal(fb_count(fx->f, DOCS, 50), 3);
    assert_int_equal(fb_count(fx->f, DOCS, 100), 3);
    assert_non_null(strstr(fx->log_text, "retrying GET /documents.json offset 50"));
    fx_free(fx);
}

static void test_retry_bad_bodies(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.max_attempts = 5;
    rule(fx, 0, FB_TRUNCATED, 0, NULL, NULL, 0);
    rule(fx, 0, FB_HTML, 0, NULL, NULL, 0);
    rule(fx, 0, FB_EMPTY, 0, NULL, NULL, 0);
    rule(fx, 50, FB_RESET, 0, NULL, NULL, 0);
    rule(fx, 100, FB_NO_ITEMS, 0, NULL, NULL, 0);
    expect_ok(fx);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.requests, 8);
    assert_int_equal(st.retries, 5);
    assert_int_equal(status_count(&st, 0), 5);
    assert_int_equal(status_count(&st, 200), 3);
    assert_int_equal(fb_count(fx->f, DOCS, 0), 4);
    fx_free(fx);
}

static void test_timeout_retried(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.timeout_s = 1;
    rule(fx, 50, FB_SLOW, 0, NULL, NULL, 1500);
    expect_ok(fx);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.retries, 1);
    assert_int_equal(status_count(&st, 0), 1);
    assert_int_equal(fb_count(fx->f, DOCS, 50), 2);
    assert_non_null(strstr(fx->log_text, "timeout"));
    fx_free(fx);
}

static void test_429_retry_after_seconds(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    rule(fx, 50, FB_STATUS, 429, "{\"error\":\"too many\"}", "1", 0);
    expect_ok(fx);
    assert_true(gap_between_attempts(fx->f, DOCS, 50) >= 1.0);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.throttled, 1);
    assert_int_equal(st.retries, 1);
    fx_free(fx);
}

static void test_retry_wait_does_not_block(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_n(500);
    rule(fx, 50, FB_STATUS, 429, "", "1", 0);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_OK);
    assert_each_once(&fx->col, 500);
    /* The nine other pages are all served while offset 50 waits for its retry. */
    size_t n;
    struct fb_hit *h = fb_hits(fx->f, &n);
    assert_int_equal(n, 11);
    assert_int_equal(h[n - 1].offset, 50);
    for (size_t i = 0; i + 1 < n; i++)
        assert_true(h[i].status != 200 || h[i].offset != 50);
    free(h);
    fx_free(fx);
}

static void test_429_retry_after_date(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    char date[64];
    time_t at = time(NULL) + 2;
    struct tm tm;
    gmtime_r(&at, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    rule(fx, 0, FB_STATUS, 429, "", date, 0);
    expect_ok(fx);
    /* The date has one-second resolution: at least one whole second remained. */
    assert_true(gap_between_attempts(fx->f, DOCS, 0) >= 1.0);
    fx_free(fx);
}

static void test_429_retry_after_body(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    rule(fx, 100, FB_STATUS, 429, "{\"error\":\"slow down\",\"retry_after\":1}", NULL, 0);
    expect_ok(fx);
    assert_true(gap_between_attempts(fx->f, DOCS, 100) >= 1.0);
    fx_free(fx);
}

static void test_429_zero_uses_backoff(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    rule(fx, 0, FB_STATUS, 429, "", "0", 0);
    rule(fx, 0, FB_STATUS, 429, "{\"retry_after\":0}", NULL, 0);
    expect_ok(fx);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.throttled, 2);
    assert_int_equal(st.requests, 5);
    fx_free(fx);
}

static void test_retries_exhausted(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.max_attempts = 3;
    for (int i = 0; i < 3; i++)
        rule(fx, 50, FB_STATUS, 503, "", NULL, 0);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_BSALE);
    assert_non_null(strstr(e.msg, "/documents.json offset 50"));
    assert_non_null(strstr(e.msg, "after 3 attempts"));
    assert_non_null(strstr(e.msg, "HTTP 503"));
    assert_null(strstr(e.msg, TEST_TOKEN));
    assert_int_equal(fb_count(fx->f, DOCS, 50), 3);
    fx_free(fx);
}

static void test_transport_errors_exhausted(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.max_attempts = 2;
    rule(fx, 100, FB_RESET, 0, NULL, NULL, 0);
    rule(fx, 100, FB_RESET, 0, NULL, NULL, 0);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_HTTP);
    assert_non_null(strstr(e.msg, "/documents.json offset 100"));
    assert_non_null(strstr(e.msg, "transport error"));
    fx_free(fx);
}

static void test_retry_budget(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.retry_budget_s = 1;
    rule(fx, 0, FB_STATUS, 429, "", "5", 0);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_BSALE);
    assert_non_null(strstr(e.msg, "retry budget"));
    assert_int_equal(fb_count(fx->f, DOCS, 0), 1);
    fx_free(fx);
}

/*
 * A storm: every request is throttled with Retry-After for a while. More
 * throttled answers than attempts allowed, and the run still succeeds.
 */
static void test_storm_longer_than_attempts(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_opts((struct fb_opts){.n_items = 150, .storm_ms = 1500});
    fx->o.max_attempts = 1;
    expect_ok(fx);
    struct bsale_stats st;
    bsale_client_stats(fx->c, &st);
    assert_true(st.throttled >= 2);
    assert_true(st.throttled > fx->o.max_attempts);
    assert_true(gap_between_attempts(fx->f, DOCS, 0) >= 1.0);
    fx_free(fx);
}

/* A storm longer than the retry budget fails the request, naming the budget. */
static void test_storm_past_budget(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_opts((struct fb_opts){.n_items = 150, .storm_ms = 5000});
    fx->o.retry_budget_s = 1;
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_BSALE);
    assert_non_null(strstr(e.msg, "retry budget of 1 s"));
    assert_non_null(strstr(e.msg, "HTTP 429"));
    fx_free(fx);
}

/* Bsale also throttles with 500/503: with a Retry-After they are waits, not failures. */
static void test_5xx_with_retry_after_is_throttling(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.max_attempts = 1;
    rule(fx, 50, FB_STATUS, 500, "{\"error\":\"The requested resource is not available\"}", "1", 0);
    rule(fx, 100, FB_STATUS, 503, "", "1", 0);
    expect_ok(fx);
    struct bsale_stats st;
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.throttled, 2);
    assert_int_equal(st.retries, 2);
    fx_free(fx);
}

/* Without a wait asked for, a plain 500 is a failure and uses an attempt. */
static void test_5xx_without_retry_after_fails(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.max_attempts = 1;
    rule(fx, 50, FB_STATUS, 500, "{\"error\":\"internal error\"}", NULL, 0);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_BSALE);
    assert_non_null(strstr(e.msg, "after 1 attempts"));
    fx_free(fx);
}

#define NOT_AVAILABLE "{\"error\":\"The requested resource is not available\"}"

/* Bsale's "not available" 500 is throttling on a list page, even without a Retry-After. */
static void test_not_available_on_page_is_throttling(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.max_attempts = 1;
    for (int i = 0; i < 3; i++)
        rule(fx, 100, FB_STATUS, 500, NOT_AVAILABLE, NULL, 0);
    expect_ok(fx);
    struct bsale_stats st;
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.throttled, 3);
    assert_int_equal(fb_count(fx->f, DOCS, 100), 4);
    fx_free(fx);
}

/* On a single read it may mean a bad id: a failure, which uses an attempt. */
static void test_not_available_on_get_fails(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.max_attempts = 2;
    fx_client(fx);
    for (int i = 0; i < 2; i++)
        fb_add_rule(fx->f, (struct fb_rule){.path = "/v1/documents/5.json",
                                            .offset = -1,
                                            .action = FB_STATUS,
                                            .status = 500,
                                            .body = NOT_AVAILABLE});
    bsale_queue_get(fx->c, "/documents/5.json", NULL, collect_get, &fx->col);
    struct err e = ERR_INIT;
    assert_int_equal(bsale_run(fx->c, &e), ERR_BSALE);
    assert_non_null(strstr(e.msg, "after 2 attempts"));
    fx_free(fx);
}

/* A run that waits longer than its deadline (here Bsale asks for 30 s) stops at it, with the
 * reason. */
static void test_run_deadline(void **state)
{
    (void)state;
    struct fixture *fx =
        fx_new_opts((struct fb_opts){.n_items = 150, .storm_ms = 60000, .storm_retry_after = "30"});
    fx->o.run_timeout_s = 1;
    fx->o.retry_budget_s = 120;
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_LIMIT);
    assert_string_equal(e.msg, "run deadline of 1 s reached");
    assert_int_equal(fb_count(fx->f, DOCS, -1), 1);
    fx_free(fx);
}

static void test_wrong_token_401(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->o.token = "wrong-token-0000";
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_BSALE_AUTH);
    assert_string_equal(e.msg, "Bsale rejected the API token (401)");
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.requests, 1);
    assert_null(strstr(fx->log_text, "wrong-token-0000"));
    fx_free(fx);
}

static void test_401_mid_run_fails_at_once(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    rule(fx, 50, FB_STATUS, 401, "{\"error\":\"Sorry, this request can not be authenticated\"}",
         NULL, 0);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_BSALE_AUTH);
    assert_int_equal(fb_count(fx->f, DOCS, 50), 1);
    fx_free(fx);
}

static void test_403_with_error_text(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    rule(fx, 0, FB_STATUS, 403,
         "{\"error\":\"unsupported filter\\n generationdaterange (token " TEST_TOKEN ")\"}", NULL,
         0);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_BSALE);
    assert_string_equal(e.msg, "Bsale answered 403 for /documents.json: unsupported filter  "
                               "generationdaterange (token [REDACTED])");
    assert_int_equal(fb_count(fx->f, NULL, -1), 1);
    fx_free(fx);
}

static void test_other_4xx_not_retried(void **state)
{
    (void)state;
    const int codes[] = {400, 402, 404, 405};
    for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
        struct fixture *fx = fx_new();
        char body[8000];
        memset(body, 'x', sizeof(body) - 1); /* a long non-JSON body gets truncated */
        body[sizeof(body) - 1] = '\0';
        rule(fx, 50, FB_STATUS, codes[i], body, NULL, 0);
        struct err e = ERR_INIT;
        assert_int_equal(fx_run(fx, &e), ERR_BSALE);
        char want[64];
        snprintf(want, sizeof(want), "Bsale answered %d for /documents.json: xxx", codes[i]);
        assert_memory_equal(e.msg, want, strlen(want));
        assert_true(strlen(e.msg) < 200);
        assert_int_equal(fb_count(fx->f, DOCS, 50), 1);
        fx_free(fx);
    }
}

static void test_body_cap(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    rule(fx, 0, FB_HUGE, 0, NULL, NULL, 33);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_LIMIT);
    assert_non_null(strstr(e.msg, "/documents.json offset 0"));
    fx_free(fx);
}

static void test_callback_error_stops_run(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx->col.fail_on = 2;
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_DB);
    assert_string_equal(e.msg, "cannot write page 2");
    assert_int_equal(fx->col.pages, 2);
    /* The run after a failure starts clean. */
    fx->col.fail_on = 0;
    memset(fx->col.seen, 0, sizeof(fx->col.seen));
    err_clear(&e);
    bsale_queue_list(fx->c, "/documents.json", NULL, collect_page, &fx->col);
    assert_int_equal(bsale_run(fx->c, &e), ERR_OK);
    assert_each_once(&fx->col, 150);
    fx_free(fx);
}

static void *cancel_later(void *arg)
{
    usleep(150 * 1000);
    atomic_store((atomic_bool *)arg, true);
    return NULL;
}

static void test_cancel_during_wait(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    static atomic_bool cancel;
    atomic_store(&cancel, false);
    fx->o.cancel = &cancel;
    fx->o.retry_budget_s = 120;
    rule(fx, 0, FB_STATUS, 429, "", "30", 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, (void *)&cancel), 0);
    struct err e = ERR_INIT;
    assert_int_equal(fx_run(fx, &e), ERR_INTERRUPTED);
    pthread_join(t, NULL);
    assert_int_equal(fb_count(fx->f, NULL, -1), 1);
    fx_free(fx);
}

static void test_get_not_found_and_found(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    fx_client(fx);
    bsale_queue_get(fx->c, "/clients/9999.json", NULL, collect_get, &fx->col);
    bsale_queue_get(fx->c, "/clients/7.json", NULL, collect_get, &fx->col);
    struct err e = ERR_INIT;
    assert_int_equal(bsale_run(fx->c, &e), ERR_OK);
    assert_int_equal(fx->col.gone, 1);
    assert_int_equal(fx->col.gets, 1);
    assert_int_equal(fx->col.seen[7], 1);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(status_count(&st, 404), 1);
    assert_int_equal(st.retries, 0);
    fx_free(fx);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_5xx),
        cmocka_unit_test(test_retry_bad_bodies),
        cmocka_unit_test(test_timeout_retried),
        cmocka_unit_test(test_429_retry_after_seconds),
        cmocka_unit_test(test_retry_wait_does_not_block),
        cmocka_unit_test(test_429_retry_after_date),
        cmocka_unit_test(test_429_retry_after_body),
        cmocka_unit_test(test_429_zero_uses_backoff),
        cmocka_unit_test(test_retries_exhausted),
        cmocka_unit_test(test_transport_errors_exhausted),
        cmocka_unit_test(test_retry_budget),
        cmocka_unit_test(test_storm_longer_than_attempts),
        cmocka_unit_test(test_storm_past_budget),
        cmocka_unit_test(test_5xx_with_retry_after_is_throttling),
        cmocka_unit_test(test_5xx_without_retry_after_fails),
        cmocka_unit_test(test_not_available_on_page_is_throttling),
        cmocka_unit_test(test_not_available_on_get_fails),
        cmocka_unit_test(test_run_deadline),
        cmocka_unit_test(test_wrong_token_401),
        cmocka_unit_test(test_401_mid_run_fails_at_once),
        cmocka_unit_test(test_403_with_error_text),
        cmocka_unit_test(test_other_4xx_not_retried),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_callback_error_stops_run),
        cmocka_unit_test(test_cancel_during_wait),
        cmocka_unit_test(test_get_not_found_and_found),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

/*
 * bsale-sim fault and realism knobs: each fires at about its rate (bounds many
 * standard deviations wide, and the fault sequence is seeded), the rate limit
 * answers in each style, latency overlaps requests, and the /__ hooks are exempt.
 * Usage: test_sim_faults <path-to-bsale-sim>
 */
#include "sim_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <time.h>

static const char *sim_bin;

struct tally {
    int ok_json, bad_json, empty, status5xx, transport, timeouts, other;
};

/* Starts a small store with extra args (NULL-terminated list). */
static void start(struct sim_proc *p, const char *const extra[])
{
    const char *args[40] = {"--token", TEST_TOKEN, "--days", "3", "--test-hooks", "--seed", "5"};
    size_t n = 7;
    for (size_t i = 0; extra[i] && n + 1 < 40; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    assert_true(sim_proc_start(p, sim_bin, args));
}

static void run(struct sim_proc *p, const char *path, int n, long timeout_ms, struct tally *t)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", p->base, path);
    memset(t, 0, sizeof *t);
    for (int i = 0; i < n; i++) {
        struct http_result r = {0};
        http_call("GET", url, TEST_TOKEN, NULL, timeout_ms, &r);
        if (r.curl_code == CURLE_OPERATION_TIMEDOUT)
            t->timeouts++;
        else if (r.curl_code != CURLE_OK)
            t->transport++;
        else if (r.status >= 500)
            t->status5xx++;
        else if (r.status == 200 && r.len == 0)
            t->empty++;
        else if (r.status == 200) {
            json_t *j = json_loadb(r.body, r.len, 0, NULL);
            if (j)
                t->ok_json++;
            else
                t->bad_json++;
            json_decref(j);
        } else {
            t->other++;
        }
        http_result_free(&r);
    }
}

static json_t *stats(struct sim_proc *p)
{
    char url[256];
    struct http_result r = {0};
    snprintf(url, sizeof url, "%s/__stats", p->root);
    http_get(url, TEST_TOKEN, &r);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    assert_non_null(j);
    http_result_free(&r);
    return j;
}

static long long fault_count(json_t *s, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(s, "faults"), name));
}

/* 300 requests at rate 0.3: mean 90, sd about 8; accept 45..135. */
#define N_REQ 300
#define LOW 45
#define HIGH 135

static void test_fail_rate(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--fail-rate", "0.3", NULL};
    start(&p, extra);
    struct tally t = {0};
    run(&p, "/offices.json", N_REQ, 10000, &t);
    assert_in_range(t.status5xx, LOW, HIGH);
    assert_int_equal(t.ok_json + t.status5xx, N_REQ);
    json_t *s = stats(&p);
    assert_int_equal(fault_count(s, "fail"), t.status5xx);
    json_decref(s);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_truncate_rate(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--truncate-rate", "0.3", NULL};
    start(&p, extra);
    struct tally t = {0};
    run(&p, "/documents.json?limit=5", N_REQ, 10000, &t);
    assert_in_range(t.bad_json, LOW, HIGH);
    assert_int_equal(t.ok_json + t.bad_json, N_REQ);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_empty_rate(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--empty-rate", "0.3", NULL};
    start(&p, extra);
    struct tally t = {0};
    run(&p, "/clients.json", N_REQ, 10000, &t);
    assert_in_range(t.empty, LOW, HIGH);
    assert_int_equal(t.ok_json + t.empty, N_REQ);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_reset_rate(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--reset-rate", "0.3", NULL};
    start(&p, extra);
    struct tally t = {0};
    run(&p, "/documents.json?limit=50", N_REQ, 10000, &t);
    assert_in_range(t.transport, LOW, HIGH);
    assert_int_equal(t.ok_json + t.transport, N_REQ);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_slow_rate(void **state)
{
    struct sim_proc p = {0};
    /* 40 requests at 0.25 -> mean 10, sd about 2.7; each slow one costs the 300 ms timeout. */
    const char *extra[] = {"--slow-rate", "0.25", "--slow-ms", "5000", NULL};
    start(&p, extra);
    struct tally t = {0};
    run(&p, "/users.json", 40, 300, &t);
    assert_in_range(t.timeouts, 2, 22);
    assert_int_equal(t.ok_json + t.timeouts, 40);
    /* Sleeping requests must not delay a clean stop. */
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_hooks_exempt_from_faults(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--fail-rate", "1", "--rate-limit", "1", NULL};
    start(&p, extra);
    char url[256];
    snprintf(url, sizeof url, "%s/__truth", p.root);
    for (int i = 0; i < 10; i++) {
        struct http_result r = {0};
        http_get(url, TEST_TOKEN, &r);
        assert_int_equal(r.status, 200);
        http_result_free(&r);
        json_decref(stats(&p));
    }
    struct tally t = {0};
    run(&p, "/offices.json", 5, 10000, &t);
    assert_int_equal(t.ok_json, 0);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sends n requests as fast as possible and checks what the limit of `rate` allows. */
static void check_rate_style(const char *style, int status_over, bool header, bool body_field)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--rate-limit", "3", "--rate-limit-style", style, NULL};
    start(&p, extra);
    char url[256];
    snprintf(url, sizeof url, "%s/offices.json", p.base);
    int ok = 0, over = 0;
    double t0 = now_s();
    for (int i = 0; i < 30; i++) {
        struct http_result r = {0};
        http_get(url, TEST_TOKEN, &r);
        if (r.status == 200) {
            ok++;
        } else {
            assert_int_equal(r.status, status_over);
            over++;
            assert_int_equal(r.retry_after[0] != '\0', header);
            if (header)
                assert_true(strtol(r.retry_after, NULL, 10) >= 1);
            assert_int_equal(strstr(r.body, "\"retry_after\":") != NULL, body_field);
            if (status_over == 500)
                assert_string_equal(r.body,
                                    "{\"error\":\"The requested resource is not available\"}");
        }
        http_result_free(&r);
    }
    double elapsed = now_s() - t0;
    /* At most 3 per rolling second can pass. */
    assert_true(ok >= 3);
    assert_true(ok <= 3 * ((int)elapsed + 1));
    json_t *s = stats(&p);
    assert_int_equal(json_integer_value(json_object_get(s, "throttled")), over);
    json_decref(s);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_rate_limit_styles(void **state)
{
    check_rate_style("both", 429, true, true);
    check_rate_style("header", 429, true, false);
    check_rate_style("body", 429, false, true);
    check_rate_style("500", 500, false, false);
}

struct parallel_arg {
    const char *url;
    double seconds;
    long status;
};

static void *one_request(void *arg)
{
    struct parallel_arg *a = arg;
    struct http_result r = {0};
    http_get(a->url, TEST_TOKEN, &r);
    a->seconds = r.seconds;
    a->status = r.status;
    http_result_free(&r);
    return NULL;
}

static void test_latency_overlaps(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--latency-ms", "400", NULL};
    start(&p, extra);
    char url[256];
    snprintf(url, sizeof url, "%s/documents.json?limit=3", p.base);
    enum { N = 8 };
    pthread_t th[N];
    struct parallel_arg args[N] = {0};
    for (int i = 0; i < N; i++) {
        args[i] = (struct parallel_arg){.url = url};
        assert_int_equal(pthread_create(&th[i], NULL, one_request, &args[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].status, 200);
        /* Documents pages sleep at least 1.25 x the latency. */
        assert_true(args[i].seconds >= 0.5);
    }
    json_t *s = stats(&p);
    /* Sleeping requests overlap instead of queueing behind each other. */
    assert_true(json_integer_value(json_object_get(s, "max_in_flight")) >= 4);
    json_decref(s);
    assert_int_equal(sim_proc_stop(&p), 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s <bsale-sim>\n", argv[0]);
        return 2;
    }
    sim_bin = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_rate),         cmocka_unit_test(test_truncate_rate),
        cmocka_unit_test(test_empty_rate),        cmocka_unit_test(test_reset_rate),
        cmocka_unit_test(test_slow_rate),         cmocka_unit_test(test_hooks_exempt_from_faults),
        cmocka_unit_test(test_rate_limit_styles), cmocka_unit_test(test_latency_overlaps),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

/* The process-wide rate limit against a fake server that throttles above 8 requests a second. */
#include "common.h"

#include "harness.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define LIMIT 8

static void test_rate_limit_respected(void **state)
{
    (void)state;
    /* 20 pages plus 4 retries: about three seconds at 8 a second. */
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = 1000, .delay_ms = 5, .limit_per_s = LIMIT};
    struct fake_bsale *f = fb_start(&fo);
    assert_non_null(f);
    const long retried[] = {50, 300, 600, 900};
    for (size_t i = 0; i < ARRAY_LEN(retried); i++)
        fb_add_rule(f, (struct fb_rule){.offset = retried[i], .action = FB_STATUS, .status = 500});
    char *base = fb_base_url(f);
    struct bsale_client_opts o = test_opts(base);
    o.rate_limit = LIMIT;
    o.concurrency = 4;
    struct bsale_client *c = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &c, &e), ERR_OK);
    struct collector col = {0};
    bsale_queue_list(c, "/variants.json", NULL, collect_page, &col);
    enum err_code rc = bsale_run(c, &e);
    if (rc)
        fail_msg("bsale_run: %s: %s", err_str(rc), e.msg);
    assert_each_once(&col, 1000);

    struct bsale_stats st = {0};
    bsale_client_stats(c, &st);
    struct fb_counters k = {0};
    fb_counters(f, &k);
    print_message("requests=%lld retries=%lld server_peak_per_s=%ld\n", st.requests, st.retries,
                  k.peak_per_s);
    assert_int_equal(st.requests, 25); /* 20 pages, an empty one after the full last, 4 retries */
    assert_int_equal(st.retries, 4);
    assert_int_equal(k.requests, 25);
    assert_int_equal(st.throttled, 0);
    assert_int_equal(k.throttled, 0);
    assert_true(k.peak_per_s <= LIMIT);
    assert_true(k.peak_per_s >= 2);
    bsale_client_free(c);
    fb_stop(f);
    free(base);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_limit_respected),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

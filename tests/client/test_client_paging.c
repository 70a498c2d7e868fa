/* The fetcher's paging against the fake server: concurrency, reuse, odd pages, queueing. */
#include "common.h"

#include "harness.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The fewest requests before a growing list can be stopped (10 growths after the first page). */
#define LIST_GROWTH_TEST_MIN 11

struct fixture {
    struct fake_bsale *f;
    char *base;
    struct bsale_client *c;
    struct collector col;
};

static struct fixture *setup_with(long n_items, unsigned delay_ms, long concurrency)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = n_items, .delay_ms = delay_ms};
    fx->f = fb_start(&fo);
    assert_non_null(fx->f);
    fx->base = fb_base_url(fx->f);
    struct bsale_client_opts o = test_opts(fx->base);
    o.concurrency = concurrency;
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &fx->c, &e), ERR_OK);
    fx->col.c = fx->c;
    return fx;
}

static void teardown_fx(struct fixture *fx)
{
    bsale_client_free(fx->c);
    fb_stop(fx->f);
    free(fx->base);
    free(fx);
}

static void run_ok(struct fixture *fx)
{
    struct err e = ERR_INIT;
    enum err_code rc = bsale_run(fx->c, &e);
    if (rc)
        fail_msg("bsale_run: %s: %s", err_str(rc), e.msg);
}

static void test_full_list_concurrent(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(237, 30, 4);
    bsale_queue_list(fx->c, "/documents.json", "expand=[details,payments]&emissiondaterange=[1,2]",
                     collect_page, &fx->col);
    run_ok(fx);
    assert_each_once(&fx->col, 237);

    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.pages, 5);
    assert_int_equal(st.pages_total, 5);
    assert_int_equal(st.requests, 5);
    assert_int_equal(st.retries, 0);
    assert_int_equal(status_count(&st, 200), 5);

    struct fb_counters k = {0};
    fb_counters(fx->f, &k);
    assert_int_equal(k.requests, 5);
    assert_int_equal(k.bad_token, 0);
    assert_int_equal(k.authorization, 0);
    assert_int_equal(k.token_in_uri, 0);
    assert_int_equal(k.bad_accept, 0);
    assert_int_equal(k.trap, 0);
    /* The four remaining pages go out together, never more than the concurrency. */
    assert_true(k.max_in_flight >= 2);
    assert_true(k.max_in_flight <= 4);
    assert_true(k.connections <= 4);

    size_t n;
    struct fb_hit *h = fb_hits(fx->f, &n);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(h[i].path, "/v1/documents.json");
        char want[160];
        snprintf(want, sizeof(want),
                 "/v1/documents.json?expand=[details,payments]&emissiondaterange=[1,2]"
                 "&limit=50&offset=%ld",
                 h[i].offset);
        assert_string_equal(h[i].uri, want);
    }
    assert_int_equal(h[0].offset, 0);
    free(h);
    teardown_fx(fx);
}

static void test_connections_reused(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(1000, 5, 2);
    bsale_queue_list(fx->c, "/variants.json", NULL, collect_page, &fx->col);
    run_ok(fx);
    assert_each_once(&fx->col, 1000);
    struct fb_counters k = {0};
    fb_counters(fx->f, &k);
    assert_int_equal(k.requests, 20); /* the full last page reaches a steady count: no more */
    assert_true(k.connections <= 2);
    assert_true(k.max_in_flight <= 2);
    teardown_fx(fx);
}

static void test_concurrency_one(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(200, 10, 1);
    bsale_queue_list(fx->c, "/clients.json", "state=0", collect_page, &fx->col);
    run_ok(fx);
    assert_each_once(&fx->col, 200);
    struct fb_counters k = {0};
    fb_counters(fx->f, &k);
    assert_int_equal(k.max_in_flight, 1);
    assert_int_equal(k.connections, 1);
    teardown_fx(fx);
}

static void test_trailing_slash_and_empty_list(void **state)
{
    (void)state;
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = 0};
    struct fake_bsale *f = fb_start(&fo);
    assert_non_null(f);
    char *base = fb_base_url(f);
    char *slashed = xasprintf("%s/", base);
    struct bsale_client_opts o = test_opts(slashed);
    struct bsale_client *c = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &c, &e), ERR_OK);
    struct collector col = {0};
    bsale_queue_list(c, "/offices.json", NULL, collect_page, &col);
    assert_int_equal(bsale_run(c, &e), ERR_OK);
    assert_int_equal(col.pages, 1);
    assert_int_equal(col.items, 0);
    size_t n;
    struct fb_hit *h = fb_hits(f, &n);
    assert_int_equal(n, 1);
    assert_string_equal(h[0].uri, "/v1/offices.json?limit=50&offset=0");
    free(h);
    bsale_client_free(c);
    fb_stop(f);
    free(slashed);
    free(base);
}

static void test_short_page_is_not_the_end(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(300, 0, 3);
    fb_add_rule(fx->f,
                (struct fb_rule){
                    .path = "/v1/documents.json", .offset = 100, .action = FB_SHORT, .param = 10});
    bsale_queue_list(fx->c, "/documents.json", NULL, collect_page, &fx->col);
    run_ok(fx);
    assert_each_once(&fx->col, 300);
    /* The rest of the short window, and no more than it. */
    size_t n;
    struct fb_hit *h = fb_hits(fx->f, &n);
    long follow_ups = 0;
    for (size_t i = 0; i < n; i++)
        follow_ups += strcmp(h[i].uri, "/v1/documents.json?limit=40&offset=110") == 0;
    free(h);
    assert_int_equal(follow_ups, 1);
    struct bsale_stats st;
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.extra_pages, 1); /* the follow-up; 250..299 ends at count */
    assert_int_equal(fx->col.pages, 7);
    teardown_fx(fx);
}

/* Records a list's end; the page collector is the context's first member. */
struct ended {
    struct collector col;
    struct bsale_list_end end;
    int calls;
};

static enum err_code on_end(void *ctx, const struct bsale_list_end *end, struct err *e)
{
    (void)e;
    struct ended *x = ctx;
    x->end = *end;
    x->calls++;
    return ERR_OK;
}

static struct ended *run_list(struct fixture *fx, long max_pages)
{
    struct ended *x = xcalloc(1, sizeof(*x));
    struct bsale_list_spec spec = {
        .on_page = collect_page, .on_end = on_end, .ctx = x, .max_pages = max_pages};
    bsale_queue_list_spec(fx->c, "/clients.json", NULL, &spec);
    run_ok(fx);
    assert_int_equal(x->calls, 1);
    return x;
}

static struct fixture *setup_opts(struct fb_opts fo, long concurrency)
{
    fo.token = TEST_TOKEN;
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    fx->f = fb_start(&fo);
    assert_non_null(fx->f);
    fx->base = fb_base_url(fx->f);
    struct bsale_client_opts o = test_opts(fx->base);
    o.concurrency = concurrency;
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &fx->c, &e), ERR_OK);
    return fx;
}

/* One page in three holds half its window: nothing is lost, at a few requests' cost. */
static void test_many_short_pages(void **state)
{
    (void)state;
    struct fixture *fx = setup_opts((struct fb_opts){.n_items = 1237, .short_every = 3}, 4);
    struct ended *x = run_list(fx, 0);
    assert_each_once(&x->col, 1237);
    assert_int_equal(x->end.items, 1237);
    assert_int_equal(x->end.count, 1237);
    assert_int_equal(x->end.flags, 0);
    struct bsale_stats st;
    bsale_client_stats(fx->c, &st);
    print_message("requests=%lld extra=%lld\n", st.requests, st.extra_pages);
    assert_true(st.extra_pages >= 8);
    assert_int_equal(st.requests, 25 + st.extra_pages);
    assert_int_equal(x->end.extra, st.extra_pages);
    free(x);
    teardown_fx(fx);
}

/* An honest list ending in a short page at count costs nothing extra. */
static void test_short_last_page_at_count_trusted(void **state)
{
    (void)state;
    struct fixture *fx = setup_opts((struct fb_opts){.n_items = 120}, 2);
    struct ended *x = run_list(fx, 0);
    assert_each_once(&x->col, 120);
    assert_int_equal(fb_count(fx->f, NULL, -1), 3);
    assert_int_equal(x->end.extra, 0);
    assert_int_equal(x->end.pages, 3);
    assert_int_equal(x->end.flags, 0);
    free(x);
    teardown_fx(fx);
}

/* Every page says count 3 (or 50): the items say otherwise and are followed to the end. */
static void test_low_count_paged_past(void **state)
{
    (void)state;
    const long counts[] = {3, 50};
    for (size_t i = 0; i < ARRAY_LEN(counts); i++) {
        struct fixture *fx =
            setup_opts((struct fb_opts){.n_items = 120, .fixed_count = counts[i]}, 2);
        struct ended *x = run_list(fx, 0);
        assert_each_once(&x->col, 120);
        assert_int_equal(x->end.items, 120);
        assert_true(x->end.flags & BSALE_LIST_OVER_COUNT);
        assert_false(x->end.flags & BSALE_LIST_SHORT);
        /* 0, 50, 100 (short: 20 items), then 120 answering empty. */
        assert_int_equal(fb_count(fx->f, NULL, -1), 4);
        free(x);
        teardown_fx(fx);
    }
}

/* A full last page that reaches a steady count ends the list: no empty page past it. */
static void test_no_page_past_count(void **state)
{
    (void)state;
    struct fixture *fx = setup_opts((struct fb_opts){.n_items = 100}, 2);
    struct ended *x = run_list(fx, 0);
    assert_each_once(&x->col, 100);
    assert_int_equal(x->end.flags, 0);
    assert_int_equal(x->end.extra, 0);
    assert_int_equal(fb_count(fx->f, NULL, -1), 2);
    assert_int_equal(fb_count(fx->f, NULL, 100), 0);
    free(x);
    teardown_fx(fx);
}

/* A list read from an offset: the items before it are the caller's, so it ends whole. */
static void test_list_from_offset(void **state)
{
    (void)state;
    const long sizes[] = {60, 75, 120};
    const long pages[] = {1, 1, 2};
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        struct fixture *fx = setup_opts((struct fb_opts){.n_items = sizes[i]}, 2);
        struct ended *x = xcalloc(1, sizeof(*x));
        struct bsale_list_spec spec = {
            .on_page = collect_page, .on_end = on_end, .ctx = x, .start = 25};
        bsale_queue_list_spec(fx->c, "/clients.json", NULL, &spec);
        run_ok(fx);
        assert_int_equal(x->calls, 1);
        for (long id = 1; id <= sizes[i]; id++)
            assert_int_equal(x->col.seen[id], id > 25 ? 1 : 0);
        assert_int_equal(x->end.items, sizes[i] - 25);
        assert_int_equal(x->end.flags, 0);
        assert_int_equal(fb_count(fx->f, NULL, -1), pages[i]);
        assert_int_equal(fb_count(fx->f, NULL, 0), 0);
        free(x);
        teardown_fx(fx);
    }
}

/* A list longer than the caller's bound is stopped at it, and says so. */
static void test_list_bounded(void **state)
{
    (void)state;
    struct fixture *fx = setup_opts((struct fb_opts){.n_items = 1000}, 2);
    struct ended *x = run_list(fx, 10);
    assert_int_equal(fb_count(fx->f, NULL, -1), 10);
    assert_int_equal(x->end.pages, 10);
    assert_int_equal(x->end.flags, BSALE_LIST_BOUNDED | BSALE_LIST_SHORT);
    free(x);
    teardown_fx(fx);
}

/* A count that grows with every page is not chased for ever: stopped, and flagged. */
static void test_endless_list_stopped(void **state)
{
    (void)state;
    for (long concurrency = 1; concurrency <= 4; concurrency += 3) {
        struct fixture *fx =
            setup_opts((struct fb_opts){.n_items = 100, .grow_per_page = 50}, concurrency);
        struct ended *x = run_list(fx, 0);
        long requests = fb_count(fx->f, NULL, -1);
        print_message("concurrency %ld: %ld requests\n", concurrency, requests);
        assert_true(requests >= LIST_GROWTH_TEST_MIN && requests <= 30);
        assert_true(x->end.flags & BSALE_LIST_GROWING);
        assert_true(x->end.flags & BSALE_LIST_COUNT_CHANGED);
        assert_true(x->end.flags & BSALE_LIST_SHORT);
        free(x);
        teardown_fx(fx);
    }
}

/* A count that grows now and then (sales while paging) is read to its end. */
static void test_occasional_growth_read_to_end(void **state)
{
    (void)state;
    struct fixture *fx = setup_opts((struct fb_opts){.n_items = 2000}, 1);
    for (long off = 100; off <= 1800; off += 200)
        fb_add_rule(fx->f, (struct fb_rule){.offset = off, .action = FB_GROW, .param = 1});
    struct ended *x = run_list(fx, 0);
    assert_int_equal(x->end.count, 2009);
    assert_int_equal(x->end.items, 2009);
    assert_false(x->end.flags & BSALE_LIST_GROWING);
    assert_true(x->end.flags & BSALE_LIST_COUNT_CHANGED);
    free(x);
    teardown_fx(fx);
}

/* An empty page before count is asked once more; empty twice, the list ends short. */
static void test_empty_page_before_count(void **state)
{
    (void)state;
    for (int empties = 1; empties <= 2; empties++) {
        struct fixture *fx = setup_with(40, 0, 1);
        for (int i = 0; i < empties; i++)
            fb_add_rule(fx->f, (struct fb_rule){.offset = 0, .action = FB_SHORT, .param = 0});
        struct ended *x = run_list(fx, 0);
        assert_int_equal(fb_count(fx->f, NULL, 0), 2);
        if (empties == 1) {
            assert_each_once(&x->col, 40);
            assert_int_equal(x->end.flags, 0);
        } else {
            assert_int_equal(x->end.items, 0);
            assert_int_equal(x->end.count, 40);
            assert_int_equal(x->end.flags, BSALE_LIST_SHORT);
        }
        free(x);
        teardown_fx(fx);
    }
}

static void test_count_grows(void **state)
{
    (void)state;
    /* One in flight keeps the order fixed: the growth shows on page 2, before page 3. */
    struct fixture *fx = setup_with(120, 0, 1);
    fb_add_rule(fx->f, (struct fb_rule){.offset = 50, .action = FB_GROW, .param = 100});
    bsale_queue_list(fx->c, "/documents.json", NULL, collect_page, &fx->col);
    run_ok(fx);
    assert_each_once(&fx->col, 220);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.pages, 5);
    assert_int_equal(st.pages_total, 5);
    teardown_fx(fx);
}

static void test_duplicates_across_pages(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(200, 0, 4);
    fb_add_rule(fx->f, (struct fb_rule){.offset = 100, .action = FB_SHIFT, .param = 10});
    bsale_queue_list(fx->c, "/documents.json", NULL, collect_page, &fx->col);
    run_ok(fx);
    for (long id = 1; id <= 200; id++) {
        long want = id > 90 && id <= 100 ? 2 : id > 140 && id <= 150 ? 0 : 1;
        assert_int_equal(fx->col.seen[id], want);
    }
    assert_int_equal(fx->col.pages, 4);
    teardown_fx(fx);
}

static void test_callbacks_queue_more(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(120, 5, 4);
    struct collector *more = xcalloc(1, sizeof(*more));
    fx->col.more = more;
    bsale_queue_list(fx->c, "/documents.json", NULL, collect_page, &fx->col);
    run_ok(fx);
    assert_each_once(&fx->col, 120);
    /* The products list (120 items) plus client 3 fetched alone, and client 999 is gone. */
    for (long id = 1; id <= 120; id++)
        assert_int_equal(more->seen[id], id == 3 ? 2 : 1);
    assert_int_equal(more->gets, 1);
    assert_int_equal(more->gone, 1);
    assert_int_equal(more->pages, 3);
    size_t n;
    struct fb_hit *h = fb_hits(fx->f, &n);
    bool saw_get = false;
    for (size_t i = 0; i < n; i++)
        saw_get = saw_get || strcmp(h[i].uri, "/v1/clients/3.json?expand=[addresses]") == 0;
    assert_true(saw_get);
    free(h);
    free(more);
    teardown_fx(fx);
}

struct first_ctx {
    struct bsale_client *c;
    struct collector details;
    bool queued;
};

static enum err_code queue_details_first(void *ctx, json_t *page, struct err *e)
{
    struct first_ctx *fc = ctx;
    (void)page;
    (void)e;
    if (!fc->queued)
        bsale_queue_list_first(fc->c, "/documents/7/details.json", NULL, collect_page,
                               &fc->details);
    fc->queued = true;
    return ERR_OK;
}

/* A sub-collection queued with _first is fetched, every page of it, before pages queued earlier. */
static void test_list_first_goes_ahead(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(120, 0, 1);
    struct first_ctx *fc = xcalloc(1, sizeof(*fc));
    fc->c = fx->c;
    fc->details.c = fx->c;
    bsale_queue_list(fx->c, "/documents.json", NULL, queue_details_first, fc);
    run_ok(fx);
    assert_each_once(&fc->details, 120);
    size_t n;
    struct fb_hit *h = fb_hits(fx->f, &n);
    assert_int_equal(n, 6);
    assert_string_equal(h[0].path, "/v1/documents.json");
    for (size_t i = 1; i <= 3; i++)
        assert_string_equal(h[i].path, "/v1/documents/7/details.json");
    for (size_t i = 4; i < 6; i++)
        assert_string_equal(h[i].path, "/v1/documents.json");
    free(h);
    free(fc);
    teardown_fx(fx);
}

static void test_page_cap(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(100, 0, 2);
    fb_add_rule(fx->f, (struct fb_rule){.offset = 0, .action = FB_COUNT, .param = 2000000000L});
    bsale_queue_list(fx->c, "/documents.json", NULL, collect_page, &fx->col);
    struct err e = ERR_INIT;
    assert_int_equal(bsale_run(fx->c, &e), ERR_LIMIT);
    assert_non_null(strstr(e.msg, "/documents.json"));
    assert_int_equal(fb_count(fx->f, NULL, -1), 1);
    teardown_fx(fx);
}

static void test_bad_requests_rejected(void **state)
{
    (void)state;
    struct fixture *fx = setup_with(10, 0, 2);
    const char *bad_paths[] = {"documents.json", "/a b.json", "/x.json?limit=1", "/../x.json",
                               "/x.json\r\nHost: evil"};
    struct err e = ERR_INIT;
    for (size_t i = 0; i < ARRAY_LEN(bad_paths); i++) {
        bsale_queue_list(fx->c, bad_paths[i], NULL, collect_page, &fx->col);
        assert_int_equal(bsale_run(fx->c, &e), ERR_INVALID);
        err_clear(&e);
    }
    bsale_queue_get(fx->c, "/clients/1.json", "access_token=" TEST_TOKEN, collect_get, &fx->col);
    assert_int_equal(bsale_run(fx->c, &e), ERR_INVALID);
    assert_null(strstr(e.msg, TEST_TOKEN));
    err_clear(&e);
    bsale_queue_list(fx->c, "/x.json", "a=b c", collect_page, &fx->col);
    assert_int_equal(bsale_run(fx->c, &e), ERR_INVALID);
    assert_int_equal(fb_count(fx->f, NULL, -1), 0);
    /* The client stays usable after a failed run. */
    bsale_queue_list(fx->c, "/x.json", NULL, collect_page, &fx->col);
    run_ok(fx);
    assert_each_once(&fx->col, 10);
    teardown_fx(fx);
}

static void test_options_validated(void **state)
{
    (void)state;
    struct {
        const char *field;
        struct bsale_client_opts o;
    } cases[7];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        cases[i].o = test_opts("https://api.bsale.io/v1");
    cases[0].o.token = "";
    cases[1].o.token = "abc\r\nX-Evil: 1";
    cases[2].o.base_url = "ftp://api.bsale.io/v1";
    cases[3].o.page_size = 51;
    cases[4].o.concurrency = 0;
    cases[5].o.rate_limit = 0;
    cases[6].o.base_url = "https://api.bsale.io/v1?access_token=x";
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct bsale_client *c = (struct bsale_client *)&cases[i];
        struct err e = ERR_INIT;
        assert_int_equal(bsale_client_new(&cases[i].o, &c, &e), ERR_CONFIG);
        assert_null(c);
        assert_null(strstr(e.msg, "abc"));
    }
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_list_concurrent),
        cmocka_unit_test(test_connections_reused),
        cmocka_unit_test(test_concurrency_one),
        cmocka_unit_test(test_trailing_slash_and_empty_list),
        cmocka_unit_test(test_short_page_is_not_the_end),
        cmocka_unit_test(test_many_short_pages),
        cmocka_unit_test(test_short_last_page_at_count_trusted),
        cmocka_unit_test(test_low_count_paged_past),
        cmocka_unit_test(test_no_page_past_count),
        cmocka_unit_test(test_list_from_offset),
        cmocka_unit_test(test_list_bounded),
        cmocka_unit_test(test_endless_list_stopped),
        cmocka_unit_test(test_occasional_growth_read_to_end),
        cmocka_unit_test(test_empty_page_before_count),
        cmocka_unit_test(test_count_grows),
        cmocka_unit_test(test_duplicates_across_pages),
        cmocka_unit_test(test_callbacks_queue_more),
        cmocka_unit_test(test_list_first_goes_ahead),
        cmocka_unit_test(test_page_cap),
        cmocka_unit_test(test_bad_requests_rejected),
        cmocka_unit_test(test_options_validated),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

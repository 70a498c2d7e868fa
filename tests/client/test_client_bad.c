/* The fetcher against records whose body never parses: isolated item by item, not a failed run. */
#include "common.h"

#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define DOCS "/v1/documents.json"
#define BAD_MAX 8

struct bad_log {
    long n;
    long offset[BAD_MAX];
    char path[BAD_MAX][64];
    char cause[BAD_MAX][160];
    long ends;
    struct bsale_list_end end;
};

struct fixture {
    struct fake_bsale *f;
    char *base;
    struct bsale_client *c;
    struct collector col;
    struct bad_log bad;
};

static struct fixture *fx_new(long n_items, long nan_item)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    struct fb_opts fo = {.token = TEST_TOKEN, .n_items = n_items, .nan_item = nan_item};
    fx->f = fb_start(&fo);
    assert_non_null(fx->f);
    fx->base = fb_base_url(fx->f);
    struct bsale_client_opts o = test_opts(fx->base);
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &fx->c, &e), ERR_OK);
    fx->col.c = fx->c;
    return fx;
}

static void fx_free(struct fixture *fx)
{
    bsale_client_free(fx->c);
    fb_stop(fx->f);
    free(fx->base);
    free(fx);
}

static enum err_code on_bad(void *ctx, const char *path, long offset, const char *cause,
                            struct err *e)
{
    (void)e;
    struct bad_log *b = &((struct fixture *)ctx)->bad;
    assert_true(b->n < BAD_MAX);
    b->offset[b->n] = offset;
    snprintf(b->path[b->n], sizeof(b->path[b->n]), "%s", path);
    snprintf(b->cause[b->n], sizeof(b->cause[b->n]), "%s", cause);
    b->n++;
    return ERR_OK;
}

static enum err_code on_page(void *ctx, json_t *page, struct err *e)
{
    return collect_page(&((struct fixture *)ctx)->col, page, e);
}

static enum err_code on_get(void *ctx, json_t *obj, struct err *e)
{
    return collect_get(&((struct fixture *)ctx)->col, obj, e);
}

static enum err_code on_end(void *ctx, const struct bsale_list_end *end, struct err *e)
{
    (void)e;
    struct bad_log *b = &((struct fixture *)ctx)->bad;
    b->ends++;
    b->end = *end;
    return ERR_OK;
}

static void queue_docs(struct fixture *fx, bool takes_bad)
{
    struct bsale_list_spec spec = {
        .on_page = on_page, .on_end = on_end, .on_bad = takes_bad ? on_bad : NULL, .ctx = fx};
    bsale_queue_list_spec(fx->c, "/documents.json", NULL, &spec);
}

static void run_ok(struct fixture *fx)
{
    struct err e = ERR_INIT;
    enum err_code rc = bsale_run(fx->c, &e);
    if (rc)
        fail_msg("bsale_run: %s: %s", err_str(rc), e.msg);
}

/* Every id 1..n but skip delivered once, skip never. */
static void assert_all_but(const struct collector *col, long n, long skip)
{
    for (long id = 1; id < COLLECT_MAX_ID; id++) {
        long want = id <= n && id != skip ? 1 : 0;
        if (col->seen[id] != want)
            fail_msg("id %ld seen %ld times, want %ld", id, col->seen[id], want);
    }
}

/* The cause names the parse error, never the body (the item's text, its NaN). */
static void assert_clean_cause(const char *cause)
{
    assert_non_null(strstr(cause, "bad JSON body"));
    assert_null(strstr(cause, "NaN"));
    assert_null(strstr(cause, "item "));
}

/*
 * Item 57 (offset 56) holds a raw NaN, so the page [50, 100) never parses:
 * after two identical failures its 50 items are read one by one, 49 land,
 * the bad one is reported, and the verdict counts it.
 */
static void test_bad_item_isolated(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(120, 57);
    queue_docs(fx, true);
    run_ok(fx);
    assert_all_but(&fx->col, 120, 57);
    assert_int_equal(fx->bad.n, 1);
    assert_int_equal(fx->bad.offset[0], 56);
    assert_string_equal(fx->bad.path[0], "/documents.json");
    assert_clean_cause(fx->bad.cause[0]);

    assert_int_equal(fx->bad.ends, 1);
    assert_int_equal(fx->bad.end.items, 120);
    assert_int_equal(fx->bad.end.bad, 1);
    assert_int_equal(fx->bad.end.count, 120);
    assert_int_equal(fx->bad.end.flags & BSALE_LIST_SHORT, 0);

    /* Two tries of the window, then one request per item: the bad one tried twice too. */
    assert_int_equal(fb_count(fx->f, DOCS, 50), 3);
    assert_int_equal(fb_count(fx->f, DOCS, 56), 2);
    assert_int_equal(fb_count(fx->f, DOCS, 99), 1);
    assert_int_equal(fb_count(fx->f, DOCS, 100), 1);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.item_reads, 50);
    assert_int_equal(st.bad_records, 1);
    assert_int_equal(st.requests, 3 + 1 + 50 + 1);
    assert_true(st.extra_pages >= st.item_reads);
    fx_free(fx);
}

/* With an item query, an item that fails alone is read once more with it before it is reported. */
static void test_bad_item_tried_with_item_query(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(120, 57);
    struct bsale_list_spec spec = {
        .on_page = on_page, .on_end = on_end, .on_bad = on_bad, .item_query = "state=0", .ctx = fx};
    bsale_queue_list_spec(fx->c, "/documents.json", "expand=[details]&state=0", &spec);
    run_ok(fx);
    assert_all_but(&fx->col, 120, 57);
    assert_int_equal(fx->bad.n, 1);
    assert_int_equal(fx->bad.end.bad, 1);
    assert_int_equal(fx->bad.end.flags & BSALE_LIST_SHORT, 0);
    size_t n = 0;
    struct fb_hit *h = fb_hits(fx->f, &n);
    long plain = 0, light = 0;
    for (size_t i = 0; i < n; i++) {
        plain += strcmp(h[i].uri, DOCS "?expand=[details]&state=0&limit=1&offset=56") == 0;
        light += strcmp(h[i].uri, DOCS "?state=0&limit=1&offset=56") == 0;
        /* Only the bad item is read with the item query. */
        assert_true(h[i].offset == 56 || strstr(h[i].uri, "expand=[details]"));
    }
    free(h);
    assert_int_equal(plain, 2);
    assert_int_equal(light, 2);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.item_reads, 51);
    fx_free(fx);
}

/* A bad first page gives no count: the items read alone give it, and the rest is paged. */
static void test_bad_first_page(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(120, 3);
    queue_docs(fx, true);
    run_ok(fx);
    assert_all_but(&fx->col, 120, 3);
    assert_int_equal(fx->bad.n, 1);
    assert_int_equal(fx->bad.offset[0], 2);
    assert_int_equal(fx->bad.end.items, 120);
    assert_int_equal(fx->bad.end.flags & BSALE_LIST_SHORT, 0);
    assert_int_equal(fb_count(fx->f, DOCS, 50), 1);
    assert_int_equal(fb_count(fx->f, DOCS, 100), 1);
    fx_free(fx);
}

/* A caller that takes no bad records keeps the old rule: the run fails after its attempts. */
static void test_bad_item_without_handler_fails(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(120, 57);
    queue_docs(fx, false);
    struct err e = ERR_INIT;
    assert_int_equal(bsale_run(fx->c, &e), ERR_JSON);
    assert_non_null(strstr(e.msg, "offset 50 failed after 4 attempts: bad JSON body"));
    assert_int_equal(fb_count(fx->f, DOCS, 56), 0);
    fx_free(fx);
}

/* A cut body (the parser stops at its end) is a bad transfer: retried, never isolated. */
static void test_truncated_retried_not_isolated(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(120, 0);
    for (int i = 0; i < 3; i++)
        fb_add_rule(fx->f, (struct fb_rule){.path = DOCS, .offset = 50, .action = FB_TRUNCATED});
    queue_docs(fx, true);
    run_ok(fx);
    assert_all_but(&fx->col, 120, 0);
    assert_int_equal(fx->bad.n, 0);
    assert_int_equal(fb_count(fx->f, DOCS, 50), 4);
    assert_int_equal(fb_count(fx->f, DOCS, 51), 0);
    struct bsale_stats st = {0};
    bsale_client_stats(fx->c, &st);
    assert_int_equal(st.item_reads, 0);
    fx_free(fx);
}

/* A by-id read whose body never parses is reported with its path, and the run goes on. */
static void test_bad_get_reported(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(20, 7);
    bsale_queue_get_or_bad(fx->c, "/clients/7.json", NULL, on_get, on_bad, fx);
    bsale_queue_get_or_bad(fx->c, "/clients/8.json", NULL, on_get, on_bad, fx);
    run_ok(fx);
    assert_int_equal(fx->bad.n, 1);
    assert_string_equal(fx->bad.path[0], "/clients/7.json");
    assert_int_equal(fx->bad.offset[0], -1);
    assert_clean_cause(fx->bad.cause[0]);
    assert_int_equal(fx->col.gets, 1);
    assert_int_equal(fx->col.seen[8], 1);
    assert_int_equal(fb_count(fx->f, "/v1/clients/7.json", -1), 2);
    fx_free(fx);
}

#define NOT_AVAILABLE "{\"error\":\"The requested resource is not available\"}"

/* Bsale answers a vanished id with its "not available" 500 for ever. */
static void vanish(struct fixture *fx, const char *path)
{
    fb_add_rule(fx->f, (struct fb_rule){.path = path,
                                        .offset = -1,
                                        .action = FB_STATUS,
                                        .status = 500,
                                        .body = NOT_AVAILABLE,
                                        .sticky = true});
}

/* A by-id read that stays 500 past its retries is a doubtful record: reported, the run goes on. */
static void test_get_staying_500_reported(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(20, 0);
    vanish(fx, "/v1/documents/7.json");
    bsale_queue_get_doubtful(fx->c, "/documents/7.json", NULL, on_get, on_bad, fx);
    bsale_queue_get_doubtful(fx->c, "/documents/8.json", NULL, on_get, on_bad, fx);
    run_ok(fx);
    assert_int_equal(fx->bad.n, 1);
    assert_string_equal(fx->bad.path[0], "/documents/7.json");
    assert_int_equal(fx->bad.offset[0], -1);
    assert_non_null(strstr(fx->bad.cause[0], "HTTP 500"));
    assert_null(strstr(fx->bad.cause[0], TEST_TOKEN));
    assert_int_equal(fx->col.gets, 1);
    assert_int_equal(fx->col.seen[8], 1);
    /* Every attempt was made first (max_attempts 4). */
    assert_int_equal(fb_count(fx->f, "/v1/documents/7.json", -1), 4);
    fx_free(fx);
}

/* Without asking for it, the same read still fails the run. */
static void test_get_staying_500_fails_when_not_asked(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(20, 0);
    vanish(fx, "/v1/documents/7.json");
    bsale_queue_get_or_bad(fx->c, "/documents/7.json", NULL, on_get, on_bad, fx);
    struct err e = ERR_INIT;
    assert_int_equal(bsale_run(fx->c, &e), ERR_BSALE);
    assert_non_null(strstr(e.msg, "/documents/7.json"));
    assert_int_equal(fx->bad.n, 0);
    fx_free(fx);
}

/* A list that stays 500 is no single record: the run fails once the retry budget is spent. */
static void test_list_staying_500_fails(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(20, 0);
    bsale_client_free(fx->c);
    struct bsale_client_opts o = test_opts(fx->base);
    o.retry_budget_s = 1;
    struct err e = ERR_INIT;
    assert_int_equal(bsale_client_new(&o, &fx->c, &e), ERR_OK);
    vanish(fx, DOCS);
    queue_docs(fx, true);
    assert_int_equal(bsale_run(fx->c, &e), ERR_BSALE);
    assert_non_null(strstr(e.msg, "/documents.json"));
    assert_int_equal(fx->bad.n, 0);
    assert_int_equal(fx->col.pages, 0);
    fx_free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_item_isolated),
        cmocka_unit_test(test_bad_item_tried_with_item_query),
        cmocka_unit_test(test_bad_first_page),
        cmocka_unit_test(test_bad_item_without_handler_fails),
        cmocka_unit_test(test_truncated_retried_not_isolated),
        cmocka_unit_test(test_bad_get_reported),
        cmocka_unit_test(test_get_staying_500_reported),
        cmocka_unit_test(test_get_staying_500_fails_when_not_asked),
        cmocka_unit_test(test_list_staying_500_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

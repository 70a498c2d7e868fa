/* Shared pieces of the fetcher's integration tests. */
#include "common.h"

#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct bsale_client_opts test_opts(const char *base_url)
{
    struct bsale_client_opts o = {
        .base_url = base_url,
        .token = TEST_TOKEN,
        .rate_limit = 1000,
        .concurrency = 4,
        .timeout_s = 5,
        .connect_timeout_s = 2,
        .max_attempts = 4,
        .retry_budget_s = 30,
        .page_size = 50,
        .backoff_base_s = 0.01,
        .backoff_max_s = 0.05,
    };
    return o;
}

enum err_code collect_page(void *ctx, json_t *page, struct err *e)
{
    struct collector *col = ctx;
    json_t *items = json_object_get(page, "items");
    assert_true(json_is_array(items));
    assert_true(json_is_integer(json_object_get(page, "count")));
    col->pages++;
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        json_int_t id = json_integer_value(json_object_get(it, "id"));
        assert_true(id >= 1 && id < COLLECT_MAX_ID);
        col->seen[id]++;
        col->items++;
    }
    if (col->fail_on && col->pages == col->fail_on)
        return err_set(e, ERR_DB, "cannot write page %ld", col->pages);
    if (col->more && col->pages == 1) {
        bsale_queue_list(col->c, "/products.json", NULL, collect_page, col->more);
        bsale_queue_get(col->c, "/clients/3.json", "expand=[addresses]", collect_get, col->more);
        bsale_queue_get(col->c, "/clients/999.json", NULL, collect_get, col->more);
    }
    return ERR_OK;
}

enum err_code collect_get(void *ctx, json_t *obj, struct err *e)
{
    (void)e;
    struct collector *col = ctx;
    if (!obj) {
        col->gone++;
        return ERR_OK;
    }
    assert_true(json_is_object(obj));
    json_int_t id = json_integer_value(json_object_get(obj, "id"));
    assert_true(id >= 1 && id < COLLECT_MAX_ID);
    col->seen[id]++;
    col->gets++;
    return ERR_OK;
}

void assert_each_once(const struct collector *col, long n)
{
    for (long id = 1; id <= n; id++) {
        if (col->seen[id] != 1)
            fail_msg("id %ld seen %ld times", id, col->seen[id]);
    }
    for (long id = n + 1; id < COLLECT_MAX_ID; id++)
        assert_int_equal(col->seen[id], 0);
}

long status_count(const struct bsale_stats *st, int status)
{
    for (size_t i = 0; i < st->n_status; i++)
        if (st->by_status[i].status == status)
            return (long)st->by_status[i].n;
    return 0;
}

double gap_between_attempts(struct fake_bsale *f, const char *path, long offset)
{
    size_t n;
    struct fb_hit *h = fb_hits(f, &n);
    double first = -1, second = -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].path, path) != 0 || h[i].offset != offset)
            continue;
        if (first < 0)
            first = h[i].at;
        else if (second < 0)
            second = h[i].at;
    }
    free(h);
    assert_true(first >= 0 && second >= 0);
    return second - first;
}

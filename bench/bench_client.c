/*
 * Fetcher throughput against the in-process fake Bsale server with a fixed
 * per-response latency: pages per second by concurrency, and under the rate limit.
 * Usage: bench_client [pages=40] [latency_ms=50]
 */
#include "common.h"

/* The fake server is compiled in so this file builds alone, like every bench. */
#include "../tests/client/fake_bsale.c" /* NOLINT(bugprone-suspicious-include) */

#include "bsale_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

static enum err_code count_page(void *ctx, json_t *page, struct err *e)
{
    (void)e;
    *(long *)ctx += (long)json_array_size(json_object_get(page, "items"));
    return ERR_OK;
}

static int bench_one(long pages, unsigned latency_ms, long concurrency, double rate)
{
    struct fb_opts fo = {
        .token = "bench-token-0123", .n_items = pages * 50, .delay_ms = latency_ms};
    struct fake_bsale *f = fb_start(&fo);
    if (!f)
        return 1;
    char *base = fb_base_url(f);
    struct bsale_client_opts o = {.base_url = base,
                                  .token = fo.token,
                                  .rate_limit = rate,
                                  .concurrency = concurrency,
                                  .timeout_s = 30,
                                  .page_size = 50};
    struct bsale_client *c = NULL;
    struct err e = ERR_INIT;
    long items = 0;
    double t0 = fb_now();
    enum err_code rc = bsale_client_new(&o, &c, &e);
    if (!rc) {
        bsale_queue_list(c, "/documents.json", NULL, count_page, &items);
        rc = bsale_run(c, &e);
    }
    double secs = fb_now() - t0;
    struct fb_counters k = {0};
    fb_counters(f, &k);
    if (rc)
        fprintf(stderr, "bench: %s: %s\n", err_str(rc), e.msg);
    else
        printf("concurrency=%ld rate=%g latency_ms=%u pages=%ld items=%ld secs=%.2f "
               "pages_per_s=%.1f connections=%ld server_max_in_flight=%ld server_peak_per_s=%ld\n",
               concurrency, rate, latency_ms, pages, items, secs, (double)pages / secs,
               k.connections, k.max_in_flight, k.peak_per_s);
    bsale_client_free(c);
    fb_stop(f);
    free(base);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    long pages = argc > 1 ? strtol(argv[1], NULL, 10) : 40;
    long latency = argc > 2 ? strtol(argv[2], NULL, 10) : 50;
    if (pages < 1 || latency < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    int bad = 0;
    const long conc[] = {1, 2, 4, 8};
    for (size_t i = 0; i < ARRAY_LEN(conc); i++)
        bad |= bench_one(pages, (unsigned)latency, conc[i], 1000.0);
    bad |= bench_one(pages, (unsigned)latency, 8, 8.0);
    curl_global_cleanup();
    return bad;
}

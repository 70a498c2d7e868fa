/* Shared pieces of the fetcher's integration tests: default options and a page collector. */
#ifndef PETL_TEST_CLIENT_HARNESS_H
#define PETL_TEST_CLIENT_HARNESS_H

#include "common.h"

#include "bsale_client.h"
#include "fake_bsale.h"

#define TEST_TOKEN "tok-5e3c2a9f-SECRET-7d41"
#define COLLECT_MAX_ID 4096

struct collector {
    long seen[COLLECT_MAX_ID]; /* times each id was delivered */
    long pages;
    long items;
    long gets;    /* single objects delivered */
    long gone;    /* single GETs answered 404 (json NULL) */
    long fail_on; /* page number (1-based) whose callback fails; 0 = never */
    struct bsale_client *c;
    struct collector *more; /* when set, the first page queues a list and two GETs into it */
};

/* Fast test options: high rate, short backoffs, 50 items a page. */
struct bsale_client_opts test_opts(const char *base_url);
enum err_code collect_page(void *ctx, json_t *page, struct err *e);
enum err_code collect_get(void *ctx, json_t *obj, struct err *e);
/* Asserts ids 1..n were each seen exactly once. */
void assert_each_once(const struct collector *col, long n);
long status_count(const struct bsale_stats *st, int status);
/* Seconds between the first two requests the server saw for path/offset. */
double gap_between_attempts(struct fake_bsale *f, const char *path, long offset);

#endif

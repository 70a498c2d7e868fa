/*
 * The Bsale fetcher: libcurl multi with reused connections, a token bucket
 * shared by every request of the process, retries with backoff and full
 * jitter, concurrent paging. It knows the list envelope, not the tables.
 * One client per run, driven from one thread.
 */
#ifndef PETL_BSALE_CLIENT_H
#define PETL_BSALE_CLIENT_H

#include "common.h"
#include "err.h"

#include <jansson.h>
#include <stdatomic.h>

struct bsale_client;

struct bsale_client_opts {
    const char *base_url;   /* "https://api.bsale.io/v1" (no trailing slash needed) */
    const char *token;      /* secret: sent only as the access_token header */
    double rate_limit;      /* requests per second (token bucket, process-wide) */
    long concurrency;       /* requests in flight */
    long timeout_s;         /* per attempt, total; 0 = 60 s */
    long connect_timeout_s; /* 0 = 10 s */
    long max_attempts;      /* per request, including the first; 0 = 6 */
    long retry_budget_s;    /* per request, wall time spent on retries; 0 = 300 s */
    long page_size;         /* list limit (<= 50) */
    double backoff_base_s;  /* first backoff cap; 0 = 0.5 s */
    double backoff_max_s;   /* largest backoff; 0 = 30 s */
    long run_timeout_s;     /* bsale_run fails once this long after bsale_client_new; 0 = none */
    atomic_bool *cancel;    /* when non-NULL and set, runs stop with ERR_INTERRUPTED */
    /* When set, called after every attempt (on the thread running bsale_run) with its path
     * (no query), HTTP status (0 = none) and latency: for a latency histogram. */
    void (*on_attempt)(void *ctx, const char *path, long status, double secs);
    void *attempt_ctx;
};

struct bsale_status_count {
    int status; /* HTTP status, 0 = transport error (timeout, reset, bad body) */
    long long n;
};

struct bsale_stats {
    long long requests;    /* HTTP attempts made */
    long long retries;     /* attempts that were retries */
    long long throttled;   /* 429 answers, and 500/503 answers that asked for a wait */
    long long pages;       /* list pages delivered */
    long long pages_total; /* list pages known to be needed so far */
    long long extra_pages; /* page requests past what counts called for (short pages, bad counts) */
    long long item_reads;  /* of extra_pages: limit=1 reads of windows that would not parse */
    long long bad_records; /* items and by-id records whose body stayed unparseable (to on_bad) */
    struct bsale_status_count by_status[16];
    size_t n_status;
};

/*
 * libcurl's global set-up: now when eager (or when libcurl's is not
 * thread-safe), else at the first bsale_client_new. false when it failed.
 */
bool bsale_global_init(bool eager);
void bsale_global_cleanup(void); /* at exit, after every client is freed */
enum err_code bsale_client_new(const struct bsale_client_opts *o, struct bsale_client **out,
                               struct err *e) MUST_CHECK;
void bsale_client_free(struct bsale_client *c); /* accepts NULL */
void bsale_client_stats(const struct bsale_client *c, struct bsale_stats *out);

/*
 * Called with each successful response, in completion order. json is the
 * parsed body, borrowed for the call. A non-zero return (with e set) stops the
 * run: bsale_run returns that code.
 */
typedef enum err_code (*bsale_json_fn)(void *ctx, json_t *json, struct err *e);

/* How a list ended: what its pages said about themselves. */
enum bsale_list_flag {
    BSALE_LIST_SHORT = 1u << 0,         /* fewer items than the largest count, after every page */
    BSALE_LIST_COUNT_CHANGED = 1u << 1, /* pages gave different counts */
    BSALE_LIST_OVER_COUNT = 1u << 2,    /* more items than count: paged past it to an empty page */
    BSALE_LIST_BOUNDED = 1u << 3,       /* stopped at the caller's page bound */
    BSALE_LIST_GROWING = 1u << 4,       /* stopped: its count grew on most of its pages */
};

struct bsale_list_end {
    long long items; /* items received over every page, repeats included */
    long long count; /* the largest count a page gave */
    long long pages; /* pages received */
    long long extra; /* requests past what the count called for */
    long long bad;   /* items whose body stayed unparseable: in items too, each sent to on_bad */
    unsigned flags;  /* enum bsale_list_flag */
};

/*
 * Called once when a list has no request left: after its last page, in the
 * run, never for a run that failed. end is borrowed for the call.
 */
typedef enum err_code (*bsale_end_fn)(void *ctx, const struct bsale_list_end *end, struct err *e);

/*
 * Called for a record whose body stays unparseable: a list item at offset
 * (read alone, with limit=1), or a by-id GET (offset -1). cause names the
 * parse error, never the body. A non-zero return stops the run.
 */
typedef enum err_code (*bsale_bad_fn)(void *ctx, const char *path, long offset, const char *cause,
                                      struct err *e);

struct bsale_list_spec {
    bsale_json_fn on_page;
    bsale_end_fn on_end; /* may be NULL */
    /*
     * May be NULL: a page whose body stays unparseable then fails the run.
     * Else such a page (a complete body, two identical parse errors inside
     * it) is read again item by item, at most `limit` requests: items that
     * parse go to on_page as pages of one, the others to on_bad.
     */
    bsale_bad_fn on_bad;
    /*
     * May be NULL. An item that stays unparseable read alone with the list's
     * query is read once more with this one before it goes to on_bad: the
     * same filter with fewer expansions, so an embedded record's garbage does
     * not take its parent with it.
     */
    const char *item_query;
    void *ctx;
    long max_pages; /* 0 = the client's hard cap, which fails the run; else flag and stop */
    bool first;     /* pages go ahead of every request already queued */
    /* The first offset read (0 = the whole list): the caller holds the items before it, so
     * the list ends short only when start + items falls short of count. */
    long start;
};

/*
 * Queues a list. Pages are requested by the items they hold: the offsets
 * the first page's count reveals go out at once, a short page is followed
 * by a request for the rest of its window, and a list whose items contradict
 * its count is paged on to an empty page (see plan_more in the source).
 */
void bsale_queue_list_spec(struct bsale_client *c, const char *path, const char *query,
                           const struct bsale_list_spec *spec);

/*
 * Queues every page of a list: path like "/documents.json" (relative to the
 * base URL), query without limit/offset ("expand=[details]&emissiondaterange=[a,b]",
 * may be NULL). The first page gives count; the remaining offsets are queued at
 * once. on_page gets each page's envelope. Nothing runs until bsale_run.
 * May be called from inside a callback.
 */
void bsale_queue_list(struct bsale_client *c, const char *path, const char *query,
                      bsale_json_fn on_page, void *ctx);

/*
 * Like bsale_queue_list, but its pages go ahead of every request already
 * queued: for sub-collections the caller holds other data for (a document
 * waiting for its lines), so what waits stays bounded by what is in flight.
 */
void bsale_queue_list_first(struct bsale_client *c, const char *path, const char *query,
                            bsale_json_fn on_page, void *ctx);

/* Queues one GET of a single object ("/clients/12.json"). */
void bsale_queue_get(struct bsale_client *c, const char *path, const char *query,
                     bsale_json_fn on_done, void *ctx);

/*
 * Like bsale_queue_get, but a body that fails to parse the same way twice
 * goes to on_bad (offset -1) instead of failing the run.
 */
void bsale_queue_get_or_bad(struct bsale_client *c, const char *path, const char *query,
                            bsale_json_fn on_done, bsale_bad_fn on_bad, void *ctx);

/*
 * Like bsale_queue_get_or_bad, and a record that still answers 5xx once its
 * retries are spent also goes to on_bad (offset -1, the cause naming the
 * status) instead of failing the run: a by-id re-read of a document Bsale
 * may no longer have, whose 500 "The requested resource is not available"
 * cannot be told from a fault (docs/bsale-api.md, Errors and throttling).
 */
void bsale_queue_get_doubtful(struct bsale_client *c, const char *path, const char *query,
                              bsale_json_fn on_done, bsale_bad_fn on_bad, void *ctx);

/*
 * Like bsale_queue_get_doubtful, but started only when nothing else is
 * ready: reads no other request waits for (variant costs), so they never
 * delay documents. Its retries go first, like any other.
 */
void bsale_queue_get_background(struct bsale_client *c, const char *path, const char *query,
                                bsale_json_fn on_done, bsale_bad_fn on_bad, void *ctx);
/*
 * Drives every queued request (and those queued by callbacks) to completion,
 * at most `concurrency` in flight, under the rate limit. Stops at the first
 * failure: a request that failed its retries, a non-retryable status
 * (401 -> ERR_BSALE_AUTH "Bsale rejected the API token (401)", 403/404/... ->
 * ERR_BSALE) or a callback error. Pending requests are then dropped.
 */
enum err_code bsale_run(struct bsale_client *c, struct err *e) MUST_CHECK;

/* Pure helpers, exposed for tests. */
/*
 * Retry-After header value (seconds or HTTP-date) -> seconds to wait; <0 when absent/invalid/past,
 * 0 for "0". Huge values are clamped to 1e9; callers cap what they honour.
 */
double bsale_parse_retry_after(const char *value, time_t now);
/* Full-jitter backoff for attempt n (1-based): uniform in [0, min(max, base * 2^(n-1))]. */
double bsale_backoff_s(int attempt, double base, double max, uint64_t *rng_state);

#endif

/*
 * A scripted fake of the Bsale list API for the fetcher's tests: serves N
 * synthetic items with the real envelope, checks the token header, records
 * every request, and misbehaves on cue (one rule per matching request).
 */
#ifndef PETL_TEST_FAKE_BSALE_H
#define PETL_TEST_FAKE_BSALE_H

#include <stdbool.h>
#include <stddef.h>

enum fb_action {
    FB_STATUS,    /* status + body (+ Retry-After header when retry_after is set) */
    FB_TRUNCATED, /* 200 with the page cut in half */
    FB_HTML,      /* 200 with a proxy's HTML page */
    FB_EMPTY,     /* 200 with no body */
    FB_RESET,     /* half the page, then the connection is dropped */
    FB_SLOW,      /* the normal page after param milliseconds */
    FB_SHORT,     /* only the first param items of the page */
    FB_GROW,      /* adds param items to the data set, then serves the page */
    FB_SHIFT,     /* serves the page starting param items earlier (duplicates) */
    FB_COUNT,     /* the page with count replaced by param */
    FB_HUGE,      /* 200 with a body of param MiB */
    FB_NO_ITEMS,  /* a JSON object without items */
};

struct fb_rule {
    const char *path; /* "/v1/documents.json"; NULL = any */
    long offset;      /* -1 = any */
    enum fb_action action;
    int status;
    const char *body;
    const char *retry_after;
    long param;
    const char *uri_has; /* NULL = any; else the raw URI must hold it */
    bool sticky;         /* answers every matching request instead of one */
};

struct fb_opts {
    const char *token; /* expected access_token header */
    long n_items;      /* items of every list */
    unsigned delay_ms; /* added to every response */
    int limit_per_s;   /* 429 when more requests arrived in the last second; 0 = off */
    unsigned storm_ms; /* 429 with Retry-After: storm_retry_after (default "1") until this long
                          after the first request; 0 = off */
    const char *storm_retry_after;
    long fixed_count;   /* every list page says this count; 0 = the real one */
    long grow_per_page; /* items added to the data set before every list page */
    long short_every;   /* every n-th list page serves only the first half of its items */
    long nan_item;      /* id of an item written with a raw NaN (not JSON) wherever it is served */
};

struct fb_hit {
    char path[128];
    char uri[512]; /* raw, as received */
    long offset;
    double at; /* CLOCK_MONOTONIC seconds at arrival */
    int status;
};

struct fb_counters {
    long requests;
    long connections;
    long max_in_flight;
    long peak_per_s; /* most arrivals within any 1 s */
    long throttled;
    long bad_token;     /* missing or wrong access_token header */
    long authorization; /* requests carrying an Authorization header */
    long token_in_uri;  /* requests whose raw URI holds the token */
    long bad_accept;    /* requests without Accept: application/json */
    long trap;          /* requests for the `next` URL */
    long rules_left;
};

struct fake_bsale;

struct fake_bsale *fb_start(const struct fb_opts *o); /* NULL on failure */
void fb_stop(struct fake_bsale *f);                   /* accepts NULL */
/* "http://127.0.0.1:PORT/v1"; owned, free() it. */
char *fb_base_url(const struct fake_bsale *f);
void fb_add_rule(struct fake_bsale *f, struct fb_rule rule);
void fb_counters(struct fake_bsale *f, struct fb_counters *out);
/* Copies the request log; owned array, free() it. */
struct fb_hit *fb_hits(struct fake_bsale *f, size_t *n);
/* Requests seen for path (NULL = any) at offset (-1 = any). */
long fb_count(struct fake_bsale *f, const char *path, long offset);
double fb_now(void);

#endif

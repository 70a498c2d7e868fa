/*
 * The Bsale fetcher: HTTP over a libcurl multi handle, paging, retries and
 * pacing. It knows the list envelope ({count, items}), never the tables.
 */
#include "common.h"

#define LOG_MODULE "bsale"
#include "clock.h"
#include "bsale_client.h"

#include "buf.h"
#include "json_util.h"
#include "utf8.h"
#include "log.h"
#include "rate_limit.h"
#include "secret_mask.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define BODY_CAP ((size_t)32 << 20)
#define MAX_CONCURRENCY 64
#define MAX_PAGE_SIZE 50
/* 200,000 pages of 50 is ten million items: far past any real tenant, short of forever. */
#define LIST_MAX_PAGES 200000L
/*
 * A list whose count grew on at least this many pages, and on most of them,
 * is not being read but chased (new records faster than 8 pages a second can
 * read them, or a count that never settles): it is stopped and flagged.
 */
#define LIST_GROWTH_MAX 10
/* Longest server-asked wait we honour (Retry-After, retry_after). */
#define RETRY_AFTER_MAX_S 60.0
/* Largest backoff after a throttled answer that named no wait: a storm's end is found soon. */
#define THROTTLE_BACKOFF_MAX_S 4.0
#define POLL_MAX_MS 100
/* Weight of the newest attempt in the latency average that sizes the requests in flight. */
#define LATENCY_EWMA_ALPHA 0.2
/* In flight kept over rate x latency: jitter and a shift to slower pages stay covered. */
#define IN_FLIGHT_HEADROOM 1.5
/* List paths remembered as revealing work (one day's documents tells of every day's). */
#define SPAWN_PATHS_MAX 16
#define ERROR_TEXT_MAX 120
#define PATH_MAX_LEN 512
#define QUERY_MAX_LEN 2048
#define CAUSE_MAX 160

#define DEFAULT_TIMEOUT_S 60L
#define DEFAULT_CONNECT_TIMEOUT_S 10L
#define DEFAULT_MAX_ATTEMPTS 6L
#define DEFAULT_RETRY_BUDGET_S 300L
#define DEFAULT_BACKOFF_BASE_S 0.5
#define DEFAULT_BACKOFF_MAX_S 30.0

/* One list being paged; shared by its page requests. */
struct list {
    char *path;
    char *query;
    char *item_query; /* for an item read alone a second time; NULL = none */
    bsale_json_fn fn;
    bsale_end_fn end_fn;
    bsale_bad_fn bad_fn; /* NULL: an unparseable page fails the run */
    void *ctx;
    long queued_end;  /* first offset of the windows not yet queued */
    long start;       /* the first offset read: the caller holds the items before it */
    long pages;       /* page requests queued so far */
    long max_pages;   /* the caller's bound; 0 = LIST_MAX_PAGES, which fails the run */
    long outstanding; /* page requests queued, delayed or in flight */
    int refs;
    bool first;      /* pages go ahead of other queued requests */
    bool past_count; /* the items contradicted count: page on to an empty page */
    bool stopped;    /* its count kept growing: nothing more is queued */
    long grew;       /* pages whose count passed every earlier count */
    double latency;  /* moving average of its pages' latency, s; 0 = none back yet */
    bool spawns;     /* a page of it queued other requests (lines, payments, children) */
    bool has_count;
    long long last_count;
    struct bsale_list_end end; /* the verdict so far */
};

enum req_kind { REQ_PAGE, REQ_GET };

struct req {
    struct req *next;
    enum req_kind kind;
    struct list *list; /* REQ_PAGE: a reference */
    long offset;       /* REQ_PAGE */
    long limit;        /* REQ_PAGE: the rest of a window after a short page, else page_size */
    bool recheck;      /* REQ_PAGE: asks again for an offset that answered empty */
    bool item;         /* REQ_PAGE: one item of a window whose page would not parse */
    bool light;        /* REQ_PAGE item: asked with the list's item_query */
    char *path;        /* REQ_GET: owned */
    char *query;       /* REQ_GET: owned, may be NULL */
    bsale_json_fn fn;  /* REQ_GET */
    bsale_bad_fn bad;  /* REQ_GET: NULL = an unparseable body fails the run */
    bool doubtful_5xx; /* REQ_GET: a 5xx past the retries goes to bad instead of failing */
    void *ctx;         /* REQ_GET */
    uint64_t bad_sig;  /* signature of the last unparseable body, 0 = none */
    int attempts;      /* attempts started */
    int failures;      /* attempts that failed for real (throttled answers are not failures) */
    double first_at;   /* start of the first attempt (monotonic s) */
    double due;        /* when delayed: earliest start of the next attempt */
};

struct slot {
    struct bsale_client *c;
    CURL *easy;
    struct req *req; /* NULL when idle */
    struct buf body;
    char errbuf[CURL_ERROR_SIZE];
    char retry_after[64];
    double started;
    bool over_cap;
};

struct req_queue {
    struct req *head;
    struct req *tail;
};

/*
 * Ready requests by class, started lowest first: retries and lines of waiting documents,
 * then the first page of each list, single reads and pages of lists whose pages queue more
 * requests (they reveal the work), then the other pages slowest list first, so no slow
 * stream or chain of requests is left to form the run's tail.
 */
enum prio { P_URGENT, P_HEAD, P_SLOWEST, P_LOW = P_SLOWEST + 10, P_COUNT };
/* Latency classes, slowest first: the last requests of a run are then the fastest ones. */
static const double prio_latency_s[P_LOW - P_SLOWEST - 1] = {4.0, 3.0, 2.0,  1.5, 1.0,
                                                             0.7, 0.5, 0.35, 0.25};

struct bsale_client {
    struct bsale_client_opts o; /* resolved values; strings below */
    char *base_url;             /* without trailing '/' */
    char *token;
    struct curl_slist *headers; /* holds the token: never logged */
    CURLM *multi;
    struct slot *slots;
    size_t n_slots;
    size_t in_flight;
    struct req_queue ready[P_COUNT];
    struct req_queue delayed; /* unsorted; scanned for due entries */
    double latency;           /* moving average of attempt latency, s; 0 = none measured */
    long long queued;         /* requests ever queued, retries aside */
    char *spawn_paths[SPAWN_PATHS_MAX]; /* paths of lists whose pages queued more requests */
    size_t n_spawn_paths;
    struct bsale_stats stats;
    uint64_t rng;
    struct err queue_err; /* first invalid bsale_queue_* call, reported by bsale_run */
    double deadline;      /* monotonic; 0 = none */
};

/* What one finished attempt amounted to. */
enum verdict { V_OK, V_RETRY, V_FAIL, V_GONE };

struct outcome {
    long status;             /* HTTP status; 0 for transport errors and bad bodies */
    json_t *json;            /* owned: the parsed body when V_OK */
    double wait;             /* server-asked wait in seconds, <= 0 = use backoff */
    bool throttled;          /* Bsale asked us to slow down: not a failed attempt */
    uint64_t parse_sig;      /* complete body with a parse error inside it: its signature */
    enum err_code exhausted; /* code when retries run out */
    char cause[CAUSE_MAX];
};

/* ---- pure functions ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double bsale_backoff_s(int attempt, double base, double max, uint64_t *rng_state)
{
    if (!(base > 0.0) || !(max > 0.0))
        return 0.0;
    double cap = base;
    for (int i = 1; i < attempt && cap < max; i++)
        cap *= 2.0;
    if (cap > max)
        cap = max;
    double u = (double)(rng_next(rng_state) >> 11) * 0x1.0p-53;
    return u * cap;
}

double bsale_parse_retry_after(const char *value, time_t now)
{
    if (!value)
        return -1.0;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' ||
                     value[n - 1] == '\n'))
        n--;
    if (n == 0 || n >= 64)
        return -1.0;
    char s[64];
    memcpy(s, value, n);
    s[n] = '\0';
    if (strspn(s, "0123456789") == n) {
        double secs = 0.0;
        for (size_t i = 0; i < n && secs < 1e9; i++)
            secs = secs * 10.0 + (s[i] - '0');
        return secs < 1e9 ? secs : 1e9;
    }
    time_t at = curl_getdate(s, NULL);
    if (at == (time_t)-1)
        return -1.0;
    double d = difftime(at, now);
    return d > 0.0 ? d : -1.0;
}

/* ---- queues and requests ---- */

static void queue_push(struct req_queue *q, struct req *r)
{
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
}

static void queue_push_front(struct req_queue *q, struct req *r)
{
    r->next = q->head;
    q->head = r;
    if (!q->tail)
        q->tail = r;
}

static struct req *queue_pop(struct req_queue *q)
{
    struct req *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        r->next = NULL;
    }
    return r;
}

static void list_unref(struct list *l)
{
    if (!l || --l->refs > 0)
        return;
    free(l->path);
    free(l->query);
    free(l->item_query);
    free(l);
}

static void req_free(struct req *r)
{
    if (!r)
        return;
    list_unref(r->list);
    free(r->path);
    free(r->query);
    free(r);
}

static void queue_clear(struct req_queue *q)
{
    struct req *r;
    while ((r = queue_pop(q)))
        req_free(r);
}

/* "/documents.json offset 50" or "/clients/12.json", for logs and errors. */
static void req_name(const struct req *r, char *out, size_t n)
{
    if (r->kind == REQ_PAGE)
        snprintf(out, n, "%s offset %ld", r->list->path, r->offset);
    else
        snprintf(out, n, "%s", r->path);
}

static const char *req_path(const struct req *r)
{
    return r->kind == REQ_PAGE ? r->list->path : r->path;
}

/* Records the first bad queue call; bsale_queue_* cannot fail, bsale_run reports it. */
static bool has_control_char(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* Records the first bad queue call; bsale_queue_* cannot fail, bsale_run reports it. */
static bool check_request(struct bsale_client *c, const char *path, const char *query)
{
    const char *why = NULL;
    if (!path || path[0] != '/' || strlen(path) > PATH_MAX_LEN)
        why = "path must start with '/' and be at most 512 bytes";
    else if (query && strlen(query) > QUERY_MAX_LEN)
        why = "query longer than 2048 bytes";
    else if (has_control_char(path) || has_control_char(query))
        why = "control character in path or query";
    else if (path[strcspn(path, "?# ")] != '\0' || strstr(path, ".."))
        why = "path holds '?', '#', a space or '..'";
    else if (query && query[strcspn(query, "# ")] != '\0')
        why = "query holds '#' or a space";
    else if (strstr(path, c->token) || (query && strstr(query, c->token)))
        why = "the API token would appear in a URL";
    if (!why)
        return true;
    /* The path itself is not echoed: it may hold anything, the token included. */
    if (c->queue_err.code == ERR_OK)
        err_set(&c->queue_err, ERR_INVALID, "bad Bsale request: %s", why);
    return false;
}

static bool path_spawns(const struct bsale_client *c, const char *path)
{
    for (size_t i = 0; i < c->n_spawn_paths; i++)
        if (strcmp(c->spawn_paths[i], path) == 0)
            return true;
    return false;
}

/* Marks l as revealing work, and with it every list of its path. */
static void note_spawns(struct bsale_client *c, struct list *l)
{
    if (l->spawns)
        return;
    l->spawns = true;
    if (c->n_spawn_paths < SPAWN_PATHS_MAX && !path_spawns(c, l->path))
        c->spawn_paths[c->n_spawn_paths++] = xstrdup(l->path);
}

/* A list's first page reveals its count; later pages go by how slow the list answers. */
static enum prio page_prio(const struct bsale_client *c, const struct list *l, long offset,
                           bool extra)
{
    if ((offset == 0 && !extra) || l->spawns || l->latency <= 0.0 || path_spawns(c, l->path))
        return P_HEAD;
    size_t k = 0;
    while (k < ARRAY_LEN(prio_latency_s) && l->latency < prio_latency_s[k])
        k++;
    return (enum prio)(P_SLOWEST + k);
}

/* Queues a request for [offset, offset + limit) of l, past every bound. */
static struct req *push_page(struct bsale_client *c, struct list *l, long offset, long limit,
                             bool extra)
{
    struct req *r = xcalloc(1, sizeof(*r));
    r->kind = REQ_PAGE;
    r->list = l;
    l->refs++;
    l->pages++;
    l->outstanding++;
    r->offset = offset;
    r->limit = limit;
    c->stats.pages_total++;
    c->queued++;
    if (extra) {
        l->end.extra++;
        c->stats.extra_pages++;
    }
    if (l->first)
        queue_push_front(&c->ready[P_URGENT], r);
    else
        queue_push(&c->ready[page_prio(c, l, offset, extra)], r);
    return r;
}

/*
 * Queues a request for [offset, offset + limit) of l; extra = not called for
 * by a count. NULL when the caller's page bound stops the list.
 */
static struct req *queue_page(struct bsale_client *c, struct list *l, long offset, long limit,
                              bool extra)
{
    if (l->stopped)
        return NULL;
    if (l->max_pages && l->pages >= l->max_pages) {
        l->end.flags |= BSALE_LIST_BOUNDED;
        return NULL;
    }
    return push_page(c, l, offset, limit, extra);
}

void bsale_queue_list_spec(struct bsale_client *c, const char *path, const char *query,
                           const struct bsale_list_spec *spec)
{
    if (!check_request(c, path, query))
        return;
    struct list *l = xcalloc(1, sizeof(*l));
    l->first = spec->first;
    l->path = xstrdup(path);
    l->query = query && *query ? xstrdup(query) : NULL;
    l->item_query = spec->item_query && *spec->item_query ? xstrdup(spec->item_query) : NULL;
    l->fn = spec->on_page;
    l->end_fn = spec->on_end;
    l->bad_fn = spec->on_bad;
    l->ctx = spec->ctx;
    l->max_pages = spec->max_pages > 0 ? spec->max_pages : 0;
    l->start = spec->start > 0 ? spec->start : 0;
    l->queued_end = l->start + c->o.page_size;
    l->refs = 1;
    (void)queue_page(c, l, l->start, c->o.page_size, false);
    list_unref(l);
}

void bsale_queue_list(struct bsale_client *c, const char *path, const char *query,
                      bsale_json_fn on_page, void *ctx)
{
    struct bsale_list_spec spec = {.on_page = on_page, .ctx = ctx};
    bsale_queue_list_spec(c, path, query, &spec);
}

void bsale_queue_list_first(struct bsale_client *c, const char *path, const char *query,
                            bsale_json_fn on_page, void *ctx)
{
    struct bsale_list_spec spec = {.on_page = on_page, .ctx = ctx, .first = true};
    bsale_queue_list_spec(c, path, query, &spec);
}

static struct req *push_get(struct bsale_client *c, const char *path, const char *query,
                            bsale_json_fn on_done, bsale_bad_fn on_bad, void *ctx, enum prio p)
{
    if (!check_request(c, path, query))
        return NULL;
    struct req *r = xcalloc(1, sizeof(*r));
    r->kind = REQ_GET;
    r->path = xstrdup(path);
    r->query = query && *query ? xstrdup(query) : NULL;
    r->fn = on_done;
    r->bad = on_bad;
    r->ctx = ctx;
    c->queued++;
    queue_push(&c->ready[p], r);
    return r;
}

void bsale_queue_get_or_bad(struct bsale_client *c, const char *path, const char *query,
                            bsale_json_fn on_done, bsale_bad_fn on_bad, void *ctx)
{
    (void)push_get(c, path, query, on_done, on_bad, ctx, P_HEAD);
}

void bsale_queue_get_doubtful(struct bsale_client *c, const char *path, const char *query,
                              bsale_json_fn on_done, bsale_bad_fn on_bad, void *ctx)
{
    struct req *r = push_get(c, path, query, on_done, on_bad, ctx, P_HEAD);
    if (r)
        r->doubtful_5xx = true;
}

void bsale_queue_get_background(struct bsale_client *c, const char *path, const char *query,
                                bsale_json_fn on_done, bsale_bad_fn on_bad, void *ctx)
{
    struct req *r = push_get(c, path, query, on_done, on_bad, ctx, P_LOW);
    if (r)
        r->doubtful_5xx = true;
}

void bsale_queue_get(struct bsale_client *c, const char *path, const char *query,
                     bsale_json_fn on_done, void *ctx)
{
    bsale_queue_get_or_bad(c, path, query, on_done, NULL, ctx);
}

/* ---- client setup ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct slot *s = userdata;
    size_t n = size * nmemb;
    if (buf_append(&s->body, ptr, n, NULL) != ERR_OK) {
        s->over_cap = true;
        return 0;
    }
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nitems, void *userdata)
{
    struct slot *s = userdata;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
        size_t vlen = n - (sizeof(name) - 1);
        if (vlen >= sizeof(s->retry_after))
            vlen = sizeof(s->retry_after) - 1;
        memcpy(s->retry_after, ptr + sizeof(name) - 1, vlen);
        s->retry_after[vlen] = '\0';
    }
    return n;
}

/* Right before a request goes out: the pace counts the send, not the decision to send. */
static int on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
    (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
    const struct slot *s = clientp;
    rate_limit_sent_shared(s->started, clock_monotonic());
    return CURL_PREREQFUNC_OK;
}

#define SETOPT(h, opt, val)                                                                        \
    do {                                                                                           \
        CURLcode cc_ = curl_easy_setopt((h), (opt), (val));                                        \
        if (cc_ != CURLE_OK)                                                                       \
            return err_set(e, ERR_HTTP, "cannot set up HTTP client: %s (%s)", #opt,                \
                           curl_easy_strerror(cc_));                                               \
    } while (0)

static enum err_code slot_init(struct bsale_client *c, struct slot *s, struct err *e)
{
    s->c = c;
    buf_init(&s->body, BODY_CAP);
    s->easy = curl_easy_init();
    if (!s->easy)
        return err_set(e, ERR_HTTP, "cannot create a libcurl handle");
    CURL *h = s->easy;
    SETOPT(h, CURLOPT_PRIVATE, (void *)s);
    SETOPT(h, CURLOPT_ERRORBUFFER, s->errbuf);
    SETOPT(h, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(h, CURLOPT_WRITEDATA, (void *)s);
    SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(h, CURLOPT_HEADERDATA, (void *)s);
    SETOPT(h, CURLOPT_PREREQFUNCTION, on_prereq);
    SETOPT(h, CURLOPT_PREREQDATA, (void *)s);
    SETOPT(h, CURLOPT_HTTPHEADER, c->headers);
    SETOPT(h, CURLOPT_ACCEPT_ENCODING, "");
    SETOPT(h, CURLOPT_TIMEOUT, c->o.timeout_s);
    SETOPT(h, CURLOPT_CONNECTTIMEOUT, c->o.connect_timeout_s);
    SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(h, CURLOPT_USERAGENT, "patitas-etl/" PETL_VERSION);
    SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    return ERR_OK;
}

static void slot_release(struct slot *s)
{
    if (s->easy)
        curl_easy_cleanup(s->easy);
    s->easy = NULL;
    buf_release(&s->body);
}

static enum err_code resolve_opts(const struct bsale_client_opts *in, struct bsale_client_opts *o,
                                  struct err *e)
{
    *o = *in;
    if (!in->base_url ||
        (strncmp(in->base_url, "https://", 8) != 0 && strncmp(in->base_url, "http://", 7) != 0))
        return err_set(e, ERR_CONFIG, "Bsale base URL must start with https:// or http://");
    if (strpbrk(in->base_url, "?# ") || has_control_char(in->base_url))
        return err_set(e, ERR_CONFIG, "Bsale base URL must not hold a query, fragment or space");
    if (!in->token || !in->token[0])
        return err_set(e, ERR_CONFIG, "Bsale API token is empty");
    if (has_control_char(in->token) || strchr(in->token, ' '))
        return err_set(e, ERR_CONFIG, "Bsale API token holds spaces or control characters");
    if (!(in->rate_limit > 0.0) || !isfinite(in->rate_limit))
        return err_set(e, ERR_CONFIG, "Bsale rate limit must be a positive number");
    if (in->concurrency < 1 || in->concurrency > MAX_CONCURRENCY)
        return err_set(e, ERR_CONFIG, "Bsale concurrency must be 1..%d", MAX_CONCURRENCY);
    if (in->page_size < 1 || in->page_size > MAX_PAGE_SIZE)
        return err_set(e, ERR_CONFIG, "Bsale page size must be 1..%d", MAX_PAGE_SIZE);
    if (in->timeout_s < 0 || in->connect_timeout_s < 0 || in->max_attempts < 0 ||
        in->retry_budget_s < 0 || in->run_timeout_s < 0 || in->backoff_base_s < 0 ||
        in->backoff_max_s < 0)
        return err_set(e, ERR_CONFIG, "Bsale timeouts, attempts and backoff must not be negative");
    /* Zero means "the default" for every tuning knob. */
    o->timeout_s = in->timeout_s ? in->timeout_s : DEFAULT_TIMEOUT_S;
    o->connect_timeout_s =
        in->connect_timeout_s ? in->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;
    o->max_attempts = in->max_attempts ? in->max_attempts : DEFAULT_MAX_ATTEMPTS;
    o->retry_budget_s = in->retry_budget_s ? in->retry_budget_s : DEFAULT_RETRY_BUDGET_S;
    o->backoff_base_s = in->backoff_base_s > 0 ? in->backoff_base_s : DEFAULT_BACKOFF_BASE_S;
    o->backoff_max_s = in->backoff_max_s > 0 ? in->backoff_max_s : DEFAULT_BACKOFF_MAX_S;
    if (o->backoff_max_s < o->backoff_base_s)
        o->backoff_max_s = o->backoff_base_s;
    return ERR_OK;
}

static enum err_code multi_init(struct bsale_client *c, struct err *e)
{
    c->multi = curl_multi_init();
    if (!c->multi)
        return err_set(e, ERR_HTTP, "cannot create a libcurl multi handle");
    long n = c->o.concurrency;
    CURLMcode mc = curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, n);
    if (mc == CURLM_OK)
        mc = curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, n);
    if (mc != CURLM_OK)
        return err_set(e, ERR_HTTP, "cannot set up HTTP client: %s", curl_multi_strerror(mc));
    return ERR_OK;
}

static enum err_code build_headers(struct bsale_client *c, struct err *e)
{
    /* The only place the token is formatted: into its own header, never a message. */
    char *auth = xasprintf("access_token: %s", c->token);
    struct curl_slist *l = curl_slist_append(NULL, auth);
    free(auth);
    struct curl_slist *l2 = l ? curl_slist_append(l, "Accept: application/json") : NULL;
    if (!l2) {
        curl_slist_free_all(l);
        return err_set(e, ERR_HTTP, "cannot build request headers");
    }
    c->headers = l2;
    return ERR_OK;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ready;

static void curl_init_once(void)
{
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/*
 * libcurl's global set-up loads and initialises the TLS library (megabytes
 * of touched pages): an idle `serve` should not pay for it before its first
 * run. Deferred only with a libcurl whose global init is thread-safe
 * (7.84.0 on); asking curl_version_info would itself wake the TLS library.
 */
#if LIBCURL_VERSION_NUM >= 0x075400
#define CURL_INIT_THREADSAFE true
#else
#define CURL_INIT_THREADSAFE false
#endif

bool bsale_global_init(bool eager)
{
    if (!eager && CURL_INIT_THREADSAFE)
        return true;
    pthread_once(&curl_once, curl_init_once);
    return curl_ready;
}

void bsale_global_cleanup(void)
{
    if (curl_ready)
        curl_global_cleanup();
}

enum err_code bsale_client_new(const struct bsale_client_opts *o, struct bsale_client **out,
                               struct err *e)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    if (!curl_ready)
        return err_set(e, ERR_HTTP, "cannot initialise libcurl");
    struct bsale_client *c = xcalloc(1, sizeof(*c));
    enum err_code rc = resolve_opts(o, &c->o, e);
    if (rc)
        goto out;
    c->base_url = xstrdup(o->base_url);
    for (size_t n = strlen(c->base_url); n > 0 && c->base_url[n - 1] == '/'; n--)
        c->base_url[n - 1] = '\0';
    c->token = xstrdup(o->token);
    c->o.base_url = c->base_url;
    c->o.token = c->token;
    log_add_secret(c->token);
    rate_limit_shared_open(c->token);
    if (o->run_timeout_s > 0)
        c->deadline = clock_monotonic() + (double)o->run_timeout_s;
    c->rng =
        (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)c ^ ((uint64_t)(clock_monotonic() * 1e9) << 7);
    if ((rc = build_headers(c, e)) || (rc = multi_init(c, e)))
        goto out;
    c->n_slots = (size_t)c->o.concurrency;
    c->slots = xcalloc(c->n_slots, sizeof(*c->slots));
    for (size_t i = 0; i < c->n_slots; i++)
        if ((rc = slot_init(c, &c->slots[i], e)))
            goto out;
    *out = c;
    c = NULL;
out:
    bsale_client_free(c);
    return rc;
}

/* Drops every queued, delayed and in-flight request (after a failure or at free). */
static void drop_pending(struct bsale_client *c)
{
    for (size_t i = 0; c->slots && i < c->n_slots; i++) {
        struct slot *s = &c->slots[i];
        if (!s->req)
            continue;
        CURLMcode mc = curl_multi_remove_handle(c->multi, s->easy);
        if (mc != CURLM_OK)
            log_warn("cannot detach a transfer: %s", curl_multi_strerror(mc));
        req_free(s->req);
        s->req = NULL;
    }
    c->in_flight = 0;
    for (size_t p = 0; p < P_COUNT; p++)
        queue_clear(&c->ready[p]);
    queue_clear(&c->delayed);
}

void bsale_client_free(struct bsale_client *c)
{
    if (!c)
        return;
    drop_pending(c);
    for (size_t i = 0; c->slots && i < c->n_slots; i++)
        slot_release(&c->slots[i]);
    free(c->slots);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->headers);
    for (size_t i = 0; i < c->n_spawn_paths; i++)
        free(c->spawn_paths[i]);
    free(c->base_url);
    free(c->token);
    free(c);
}

void bsale_client_stats(const struct bsale_client *c, struct bsale_stats *out)
{
    *out = c->stats;
}

static void count_status(struct bsale_client *c, long status)
{
    struct bsale_stats *st = &c->stats;
    for (size_t i = 0; i < st->n_status; i++) {
        if (st->by_status[i].status == (int)status) {
            st->by_status[i].n++;
            return;
        }
    }
    if (st->n_status < ARRAY_LEN(st->by_status)) {
        st->by_status[st->n_status].status = (int)status;
        st->by_status[st->n_status++].n = 1;
    }
}

/* ---- one attempt ---- */

static char *build_url(const struct bsale_client *c, const struct req *r)
{
    if (r->kind == REQ_GET)
        return xasprintf("%s%s%s%s", c->base_url, r->path, r->query ? "?" : "",
                         r->query ? r->query : "");
    const struct list *l = r->list;
    const char *q = r->light ? l->item_query : l->query;
    return xasprintf("%s%s?%s%slimit=%ld&offset=%ld", c->base_url, l->path, q ? q : "",
                     q ? "&" : "", r->limit, r->offset);
}

static enum err_code start_attempt(struct bsale_client *c, struct slot *s, struct req *r,
                                   double now, struct err *e)
{
    char *url = build_url(c, r);
    CURLcode cc = curl_easy_setopt(s->easy, CURLOPT_URL, url);
    free(url);
    if (cc != CURLE_OK) {
        req_free(r);
        return err_set(e, ERR_HTTP, "cannot set request URL: %s", curl_easy_strerror(cc));
    }
    buf_reset(&s->body);
    s->errbuf[0] = '\0';
    s->retry_after[0] = '\0';
    s->over_cap = false;
    s->started = now;
    s->req = r;
    if (r->attempts++ == 0)
        r->first_at = now;
    else
        c->stats.retries++;
    c->stats.requests++;
    CURLMcode mc = curl_multi_add_handle(c->multi, s->easy);
    if (mc != CURLM_OK) {
        s->req = NULL;
        req_free(r);
        return err_set(e, ERR_HTTP, "cannot start a request: %s", curl_multi_strerror(mc));
    }
    c->in_flight++;
    return ERR_OK;
}

/* Text of an error body, short, printable and without the token. */
static void error_text(const struct bsale_client *c, const struct buf *body, char *out,
                       size_t out_len)
{
    json_t *j = json_loadb(body->data, body->len, 0, NULL);
    const char *keys[] = {"error", "message", "error_description"};
    const char *txt = NULL;
    for (size_t i = 0; json_is_object(j) && !txt && i < ARRAY_LEN(keys); i++)
        txt = json_string_value(json_object_get(j, keys[i]));
    struct buf b;
    buf_init(&b, 0);
    (void)buf_append_str(&b, txt ? txt : body->data, NULL);
    json_decref(j);
    /* The token in every encoding, before the cut can leave part of it. */
    secret_mask_with(b.data, c->token);
    size_t n = strlen(b.data);
    if (n > ERROR_TEXT_MAX)
        n = ERROR_TEXT_MAX;
    if (n >= out_len)
        n = out_len - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)b.data[i];
        out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    out[n] = '\0';
    utf8_sanitize(out);
    if (!out[0])
        snprintf(out, out_len, "(empty body)");
    buf_release(&b);
}

/*
 * A body that failed to parse is a bad record, not a bad transfer, when it
 * is the object asked for (a list envelope for a page) and the parser stopped
 * inside it: a cut body fails at its end, and curl already checked its length.
 */
static bool looks_whole(const struct req *r, const struct buf *body)
{
    static const char items[] = "\"items\"";
    size_t lead = 0;
    while (lead < body->len && body->data[lead] && strchr(" \t\r\n", body->data[lead]))
        lead++;
    if (lead == body->len || body->data[lead] != '{')
        return false;
    if (r->kind == REQ_PAGE && !memmem(body->data, body->len, items, sizeof(items) - 1))
        return false;
    json_error_t je;
    json_t *j = json_loadb(body->data, body->len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    json_decref(j);
    return !j && je.position >= 0 && (size_t)je.position < body->len;
}

/* FNV-1a over the body's length and parse error: the same bad body gives the same value. */
static uint64_t parse_signature(const struct buf *body, const char *msg)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)body->len;
    for (const char *p = msg; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return h ? h : 1;
}

/* A list page must be {"count": integer, "items": [...]} or it is a bad answer. */
static bool is_list_page(json_t *j)
{
    json_t *count = json_object_get(j, "count");
    return json_is_object(j) && json_is_array(json_object_get(j, "items")) &&
           json_is_integer(count) && json_integer_value(count) >= 0;
}

static enum verdict classify_body(const struct req *r, struct slot *s, struct outcome *out)
{
    out->exhausted = ERR_JSON;
    long status = out->status;
    out->status = 0; /* bad bodies count with transport errors */
    if (s->body.len == 0) {
        snprintf(out->cause, sizeof(out->cause), "empty body with status %ld", status);
        return V_RETRY;
    }
    struct err je = ERR_INIT;
    if (json_util_load(s->body.data, s->body.len, &out->json, &je) != ERR_OK) {
        snprintf(out->cause, sizeof(out->cause), "bad JSON body (%zu bytes): %.100s", s->body.len,
                 je.msg);
        if (looks_whole(r, &s->body))
            out->parse_sig = parse_signature(&s->body, je.msg);
        return V_RETRY;
    }
    if (r->kind == REQ_PAGE && !is_list_page(out->json)) {
        json_decref(out->json);
        out->json = NULL;
        snprintf(out->cause, sizeof(out->cause), "not a list page (no items array or count)");
        return V_RETRY;
    }
    out->status = status;
    return V_OK;
}

/* Server-asked wait: Retry-After header, else a retry_after field in a JSON body. */
static double asked_wait(struct slot *s)
{
    double w = bsale_parse_retry_after(s->retry_after[0] ? s->retry_after : NULL, time(NULL));
    if (w > 0)
        return w;
    json_t *j = json_loadb(s->body.data, s->body.len, 0, NULL);
    json_t *v = json_object_get(j, "retry_after");
    if (json_is_number(v))
        w = json_number_value(v);
    else if (json_is_string(v))
        w = bsale_parse_retry_after(json_string_value(v), time(NULL));
    json_decref(j);
    return w;
}

/* Bsale's answer to throttling, and also to a bad path or id (docs/bsale-api.md, Errors and
 * throttling). */
static bool says_not_available(const struct slot *s)
{
    static const char text[] = "The requested resource is not available";
    return s->body.len >= sizeof(text) - 1 && s->body.data &&
           memmem(s->body.data, s->body.len, text, sizeof(text) - 1);
}

/*
 * Bsale throttles with 429, and with 500/503 too. A 500/503 that asks for a
 * wait is throttling; one with Bsale's "not available" text is throttling
 * on a list page, whose path we know is good, but may be a bad id on a
 * single read, so there it counts as a failure.
 */
static bool is_throttle(const struct req *r, const struct slot *s, long status, double wait)
{
    if (status == 429)
        return true;
    if (status != 500 && status != 503)
        return false;
    return wait > 0 || (r->kind == REQ_PAGE && says_not_available(s));
}

static bool retryable_status(long status)
{
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

static enum verdict classify(struct bsale_client *c, struct slot *s, CURLcode res,
                             struct outcome *out, struct err *e)
{
    const struct req *r = s->req;
    if (res != CURLE_OK) {
        if (s->over_cap) {
            char name[PATH_MAX_LEN + 32];
            req_name(r, name, sizeof(name));
            err_set(e, ERR_LIMIT, "Bsale response for %s exceeds %zu MiB", name, BODY_CAP >> 20);
            return V_FAIL;
        }
        out->exhausted = ERR_HTTP;
        snprintf(out->cause, sizeof(out->cause), "%s: %.120s",
                 res == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport error",
                 s->errbuf[0] ? s->errbuf : curl_easy_strerror(res));
        return V_RETRY;
    }
    long status = 0;
    if (curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    out->status = status;
    if (status >= 200 && status < 300)
        return classify_body(r, s, out);
    out->exhausted = ERR_BSALE;
    if (retryable_status(status)) {
        if (status == 429 || status == 500 || status == 503)
            out->wait = asked_wait(s);
        out->throttled = is_throttle(r, s, status, out->wait);
        if (out->throttled)
            c->stats.throttled++;
        snprintf(out->cause, sizeof(out->cause), "HTTP %ld", status);
        return V_RETRY;
    }
    if (status == 404 && r->kind == REQ_GET)
        return V_GONE;
    if (status == 401) {
        err_set(e, ERR_BSALE_AUTH, "Bsale rejected the API token (401)");
        return V_FAIL;
    }
    char text[ERROR_TEXT_MAX + 16];
    error_text(c, &s->body, text, sizeof(text));
    err_set(e, ERR_BSALE, "Bsale answered %ld for %s: %s", status, req_path(r), text);
    return V_FAIL;
}

/* Queues r again after a wait, or fails when its attempts or time budget are spent. */
static enum err_code schedule_retry(struct bsale_client *c, struct req *r,
                                    const struct outcome *out, struct err *e)
{
    char name[PATH_MAX_LEN + 32];
    req_name(r, name, sizeof(name));
    double now = clock_monotonic();
    /* Throttled answers wait as Bsale asks, bounded by the budget; only failures use attempts. */
    if (!out->throttled && ++r->failures >= c->o.max_attempts)
        return err_set(e, out->exhausted, "GET %s failed after %d attempts: %s", name, r->attempts,
                       out->cause);
    double cap =
        out->throttled ? fmin(c->o.backoff_max_s, THROTTLE_BACKOFF_MAX_S) : c->o.backoff_max_s;
    double wait = out->wait > 0 ? fmin(out->wait, RETRY_AFTER_MAX_S)
                                : bsale_backoff_s(r->attempts, c->o.backoff_base_s, cap, &c->rng);
    if (now + wait - r->first_at > (double)c->o.retry_budget_s)
        return err_set(e, out->exhausted,
                       "GET %s failed after %d attempts (retry budget of %ld s spent): %s", name,
                       r->attempts, c->o.retry_budget_s, out->cause);
    log_warn("retrying GET %s in %.2f s (attempt %d, %d failed of %ld allowed): %s", name, wait,
             r->attempts + 1, r->failures, c->o.max_attempts, out->cause);
    r->due = now + wait;
    queue_push(&c->delayed, r);
    return ERR_OK;
}

static enum err_code call_back(bsale_json_fn fn, void *ctx, json_t *json, struct err *e)
{
    if (!fn)
        return ERR_OK;
    enum err_code rc = fn(ctx, json, e);
    if (rc != ERR_OK && (!e || e->code == ERR_OK))
        err_set(e, rc, "Bsale page handler failed");
    return rc;
}

/* Queues the next window past everything queued; false when the caller's bound stops it. */
static bool queue_next_window(struct bsale_client *c, struct list *l, bool extra)
{
    if (!queue_page(c, l, l->queued_end, c->o.page_size, extra))
        return false;
    l->queued_end += c->o.page_size;
    return true;
}

/* Queues the windows a page's count reveals beyond what is already queued. */
static enum err_code extend_list(struct bsale_client *c, struct list *l, json_int_t count,
                                 struct err *e)
{
    if (count <= l->queued_end)
        return ERR_OK;
    long more = (long)((count - l->queued_end + c->o.page_size - 1) / c->o.page_size);
    if (!l->max_pages &&
        (count > (json_int_t)LIST_MAX_PAGES * MAX_PAGE_SIZE || l->pages + more > LIST_MAX_PAGES))
        return err_set(e, ERR_LIMIT, "Bsale list %s reports %lld items: over %ld pages", l->path,
                       (long long)count, LIST_MAX_PAGES);
    while (l->queued_end < count && queue_next_window(c, l, false))
        ;
    return ERR_OK;
}

/*
 * What a page of n items at [o, o + limit) asks for next. Bsale may answer a
 * window with only a prefix of its items while the rest stay at their
 * offsets, and its count may be wrong (docs/bsale-api.md, Paging). So:
 * - a short page is followed by a request for the rest of its window, unless
 *   it ends exactly at a count nothing has contradicted (the usual last page);
 * - an empty page ends the list; before count it is asked once more, in case
 *   it was a short page with nothing in it;
 * - a page past count, or a full page reaching a count that is doubtful
 *   (count_doubtful), means count cannot be trusted: the next window is asked
 *   for, and so on until an empty page. A later full page reaching a steady
 *   count ends the list: no closing empty page.
 * On honest lists none of this costs a request; each one is counted in
 * extra_pages.
 */
/*
 * A full page ending at end reached count, and count cannot be taken as the
 * list's end: it was passed, it changed between pages, or it is the first
 * page's own size (what a count of the page rather than the list would say).
 */
static bool count_doubtful(const struct list *l, long offset, long end, json_int_t count)
{
    return l->past_count ||
           (end >= count && (offset == 0 || (l->end.flags & BSALE_LIST_COUNT_CHANGED)));
}

static enum err_code plan_more(struct bsale_client *c, struct list *l, const struct req *r, long n,
                               json_int_t count, struct err *e)
{
    long end = r->offset + n;
    if (n == 0) {
        struct req *again =
            r->offset < count && !r->recheck ? queue_page(c, l, r->offset, r->limit, true) : NULL;
        if (again)
            again->recheck = true;
        return ERR_OK;
    }
    if (end > count) {
        l->past_count = true;
        l->end.flags |= BSALE_LIST_OVER_COUNT;
    }
    if (n < r->limit) {
        if (end != count || l->past_count)
            (void)queue_page(c, l, end, r->limit - n, true);
    } else if (count_doubtful(l, r->offset, end, count) && end >= l->queued_end) {
        (void)queue_next_window(c, l, true);
    }
    return l->past_count ? ERR_OK : extend_list(c, l, count, e);
}

/*
 * What one item of a window read alone (its page would not parse) asks for
 * next: what the window's page would have asked for, never a re-read.
 */
static enum err_code plan_item(struct bsale_client *c, struct list *l, const struct req *r, long n,
                               json_int_t count, struct err *e)
{
    long end = r->offset + n;
    if (n > 0 && end > count) {
        l->past_count = true;
        l->end.flags |= BSALE_LIST_OVER_COUNT;
    }
    if (n > 0 && count_doubtful(l, r->offset, end, count) && end >= l->queued_end)
        (void)queue_next_window(c, l, true);
    return l->past_count ? ERR_OK : extend_list(c, l, count, e);
}

/* Records a page in its list's verdict. */
static void note_page(struct list *l, long n, json_int_t count)
{
    struct bsale_list_end *v = &l->end;
    if (l->has_count && count != l->last_count)
        v->flags |= BSALE_LIST_COUNT_CHANGED;
    if (l->has_count && count > v->count)
        l->grew++;
    l->has_count = true;
    l->last_count = count;
    if (count > v->count)
        v->count = count;
    v->items += n;
    v->pages++;
    if (!l->stopped && l->grew >= LIST_GROWTH_MAX && l->grew * 2 > v->pages) {
        l->stopped = true;
        v->flags |= BSALE_LIST_GROWING;
    }
}

/* Hands a list's verdict to its caller once no request of it is left. */
static enum err_code end_list(struct list *l, struct err *e)
{
    if (--l->outstanding > 0)
        return ERR_OK;
    if (l->start + l->end.items < l->end.count)
        l->end.flags |= BSALE_LIST_SHORT;
    if (l->end.flags & (BSALE_LIST_SHORT | BSALE_LIST_BOUNDED | BSALE_LIST_GROWING))
        log_warn("Bsale list %s ended with %lld items of a count of %lld after %lld pages%s",
                 l->path, l->end.items, l->end.count, l->end.pages,
                 l->end.flags & BSALE_LIST_GROWING   ? " (stopped: its count kept growing)"
                 : l->end.flags & BSALE_LIST_BOUNDED ? " (page bound reached)"
                                                     : "");
    if (!l->end_fn)
        return ERR_OK;
    enum err_code rc = l->end_fn(l->ctx, &l->end, e);
    if (rc != ERR_OK && (!e || e->code == ERR_OK))
        err_set(e, rc, "Bsale list end handler failed");
    return rc;
}

static enum err_code deliver(struct bsale_client *c, struct req *r, json_t *json, struct err *e)
{
    if (r->kind == REQ_GET)
        return call_back(r->fn, r->ctx, json, e);
    struct list *l = r->list;
    long n = (long)json_array_size(json_object_get(json, "items"));
    json_int_t count = json_integer_value(json_object_get(json, "count"));
    note_page(l, n, count);
    c->stats.pages++;
    long long queued = c->queued;
    enum err_code rc = call_back(l->fn, l->ctx, json, e);
    if (rc)
        return rc;
    if (c->queued > queued) /* known before its next pages are queued */
        note_spawns(c, l);
    rc = r->item ? plan_item(c, l, r, n, count, e) : plan_more(c, l, r, n, count, e);
    return rc ? rc : end_list(l, e);
}

/* True once r's body failed to parse the same way twice and its caller takes bad records. */
static bool stays_unparseable(struct req *r, const struct outcome *out)
{
    bool takes = r->kind == REQ_GET ? r->bad != NULL : r->list->bad_fn != NULL;
    if (!takes || !out->parse_sig)
        return false;
    bool again = r->bad_sig == out->parse_sig;
    r->bad_sig = out->parse_sig;
    return again;
}

/* Hands an unreadable record to its caller: the cause without the parser's quote of the body. */
static enum err_code report_bad(struct bsale_client *c, bsale_bad_fn fn, void *ctx,
                                const char *path, long offset, const char *why, struct err *e)
{
    char cause[CAUSE_MAX];
    snprintf(cause, sizeof(cause), "%s", why);
    char *near = strstr(cause, " near ");
    if (near)
        *near = '\0';
    c->stats.bad_records++;
    char at[32] = "";
    if (offset >= 0)
        snprintf(at, sizeof(at), " offset %ld", offset);
    log_warn("Bsale %s%s: record left out: %s", path, at, cause);
    enum err_code rc = fn(ctx, path, offset, cause, e);
    if (rc != ERR_OK && (!e || e->code == ERR_OK))
        err_set(e, rc, "Bsale bad record handler failed");
    return rc;
}

static struct req *push_item(struct bsale_client *c, struct list *l, long offset)
{
    struct req *one = push_page(c, l, offset, 1, true);
    one->item = true;
    c->stats.item_reads++;
    return one;
}

/* Reads a window whose page will not parse again item by item: at most limit requests. */
static void split_window(struct bsale_client *c, struct list *l, const struct req *r)
{
    log_warn("Bsale %s offset %ld: its page stays unparseable; reading its %ld items one by one",
             l->path, r->offset, r->limit);
    for (long i = 0; i < r->limit; i++)
        (void)push_item(c, l, r->offset + i);
}

/* A body that stays unparseable: a window is split into items, an item or object is reported. */
static enum err_code give_up_body(struct bsale_client *c, struct req *r, const struct outcome *out,
                                  struct err *e)
{
    if (r->kind == REQ_GET)
        return report_bad(c, r->bad, r->ctx, r->path, -1, out->cause, e);
    struct list *l = r->list;
    if (r->limit > 1) {
        split_window(c, l, r);
        return end_list(l, e);
    }
    if (l->item_query && !r->light) {
        push_item(c, l, r->offset)->light = true;
        return end_list(l, e);
    }
    l->end.items++;
    l->end.bad++;
    enum err_code rc = report_bad(c, l->bad_fn, l->ctx, l->path, r->offset, out->cause, e);
    return rc ? rc : end_list(l, e);
}

/*
 * Retries of r ran out (e says how). A record read by id that still answers
 * 5xx may be gone (Bsale's "not available" is also its answer to a bad id):
 * its caller takes it as doubtful when it asked to, and the run goes on.
 */
static enum err_code retries_spent(struct bsale_client *c, struct req *r, const struct outcome *out,
                                   enum err_code rc, struct err *e)
{
    if (r->kind != REQ_GET || !r->doubtful_5xx || !r->bad || out->status < 500)
        return rc;
    char cause[sizeof(e->msg)];
    memcpy(cause, e->msg, sizeof(cause));
    err_clear(e);
    return report_bad(c, r->bad, r->ctx, r->path, -1, cause, e);
}

/* Feeds the in-flight target and the list's class; returns took. */
static double note_latency(struct bsale_client *c, struct req *r, double took)
{
    c->latency = c->latency > 0.0 ? c->latency + LATENCY_EWMA_ALPHA * (took - c->latency) : took;
    struct list *l = r->kind == REQ_PAGE ? r->list : NULL;
    if (l)
        l->latency =
            l->latency > 0.0 ? l->latency + LATENCY_EWMA_ALPHA * (took - l->latency) : took;
    return took;
}

static enum err_code finish(struct bsale_client *c, struct slot *s, CURLcode res, struct err *e)
{
    struct req *r = s->req;
    CURLMcode mc = curl_multi_remove_handle(c->multi, s->easy);
    c->in_flight--;
    struct outcome out = {.wait = -1.0};
    enum verdict v = classify(c, s, res, &out, e);
    secret_mask_with(out.cause, c->token); /* parser and transport texts may quote the body */
    s->req = NULL;
    count_status(c, out.status);
    double took = note_latency(c, r, clock_monotonic() - s->started);
    if (c->o.on_attempt)
        c->o.on_attempt(c->o.attempt_ctx, req_path(r), out.status, took);
    log_debug("GET %s offset=%ld status=%ld ms=%.0f attempt=%d", req_path(r),
              r->kind == REQ_PAGE ? r->offset : -1L, out.status, took * 1e3, r->attempts);
    enum err_code rc = ERR_OK;
    if (mc != CURLM_OK) {
        err_set(e, ERR_HTTP, "cannot finish a request: %s", curl_multi_strerror(mc));
        v = V_FAIL;
    }
    switch (v) {
    case V_OK:
        rc = deliver(c, r, out.json, e);
        break;
    case V_GONE:
        rc = call_back(r->fn, r->ctx, NULL, e);
        break;
    case V_RETRY:
        if (stays_unparseable(r, &out)) {
            rc = give_up_body(c, r, &out, e);
            break;
        }
        rc = schedule_retry(c, r, &out, e);
        if (rc == ERR_OK)
            r = NULL; /* now on the delayed queue */
        else
            rc = retries_spent(c, r, &out, rc, e);
        break;
    case V_FAIL:
        rc = e->code ? e->code : ERR_INTERNAL;
        break;
    }
    json_decref(out.json);
    req_free(r);
    return rc;
}

/* ---- the loop ---- */

static struct slot *idle_slot(struct bsale_client *c)
{
    for (size_t i = 0; i < c->n_slots; i++)
        if (!c->slots[i].req)
            return &c->slots[i];
    return NULL;
}

/* Moves due retries to the front of the ready queue; *next_due gets the earliest other. */
static void promote_due(struct bsale_client *c, double now, double *next_due)
{
    struct req_queue keep = {NULL, NULL};
    struct req *r;
    while ((r = queue_pop(&c->delayed))) {
        if (r->due <= now) {
            queue_push_front(&c->ready[P_URGENT], r);
        } else {
            *next_due = fmin(*next_due, r->due);
            queue_push(&keep, r);
        }
    }
    c->delayed = keep;
}

static struct req_queue *next_ready(struct bsale_client *c)
{
    for (size_t p = 0; p < P_COUNT; p++)
        if (c->ready[p].head)
            return &c->ready[p];
    return NULL;
}

/* Age of the oldest request in flight: a lower bound of the latency of what was started. */
static double oldest_in_flight(const struct bsale_client *c, double now)
{
    double oldest = 0.0;
    for (size_t i = 0; i < c->n_slots; i++)
        if (c->slots[i].req)
            oldest = fmax(oldest, now - c->slots[i].started);
    return oldest;
}

/*
 * Requests kept in flight: what the rate keeps busy at the latency (Little's law), plus one,
 * at most the slots (BSALE_CONCURRENCY); all of them until one is measured. The latency is
 * the moving average with headroom, or the oldest request in flight if that is older: the
 * average of finished requests lags while slow pages are still out, and in flight then
 * cannot outgrow rate x oldest + 1 anyway, so a rate-bound run is never held back.
 */
static size_t in_flight_target(const struct bsale_client *c, double now)
{
    if (!(c->latency > 0.0))
        return c->n_slots;
    double lat = fmax(c->latency * IN_FLIGHT_HEADROOM, oldest_in_flight(c, now));
    double n = ceil(c->o.rate_limit * lat) + 1.0;
    return n >= (double)c->n_slots ? c->n_slots : (size_t)n;
}

/* Starts ready requests while slots and the rate allow; *wake is lowered to the rate wait. */
static enum err_code start_ready(struct bsale_client *c, double now, double *wake, struct err *e)
{
    struct slot *s;
    struct req_queue *q;
    while ((q = next_ready(c)) && c->in_flight < in_flight_target(c, now) && (s = idle_slot(c))) {
        double w = rate_limit_take_shared(c->o.rate_limit, now);
        if (w > 0) {
            *wake = fmin(*wake, now + w);
            return ERR_OK;
        }
        enum err_code rc = start_attempt(c, s, queue_pop(q), now, e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

static enum err_code drive(struct bsale_client *c, double now, double wake, struct err *e)
{
    double ms = ceil((wake - now) * 1e3);
    int timeout_ms = ms < 0 ? 0 : ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms;
    CURLMcode mc = curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
    int running = 0;
    if (mc == CURLM_OK)
        mc = curl_multi_perform(c->multi, &running);
    if (mc != CURLM_OK)
        return err_set(e, ERR_HTTP, "HTTP client failure: %s", curl_multi_strerror(mc));
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct slot *s = NULL;
        CURLcode cc = curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (cc != CURLE_OK || !s)
            return err_set(e, ERR_INTERNAL, "finished transfer without its slot");
        enum err_code rc = finish(c, s, msg->data.result, e);
        if (rc)
            return rc;
    }
    return ERR_OK;
}

static bool cancelled(const struct bsale_client *c)
{
    return c->o.cancel && atomic_load(c->o.cancel);
}

enum err_code bsale_run(struct bsale_client *c, struct err *e)
{
    struct err local = ERR_INIT;
    if (!e)
        e = &local; /* finish() reads the code back from e */
    enum err_code rc = ERR_OK;
    for (;;) {
        if (c->queue_err.code != ERR_OK) {
            rc = err_set(e, c->queue_err.code, "%s", c->queue_err.msg);
            err_clear(&c->queue_err);
            goto out;
        }
        if (cancelled(c)) {
            rc = err_set(e, ERR_INTERRUPTED, "Bsale fetch interrupted");
            goto out;
        }
        double now = clock_monotonic();
        if (c->deadline > 0 && now >= c->deadline) {
            rc = err_set(e, ERR_LIMIT, "run deadline of %ld s reached", c->o.run_timeout_s);
            goto out;
        }
        double wake = now + POLL_MAX_MS / 1e3;
        promote_due(c, now, &wake);
        if ((rc = start_ready(c, now, &wake, e)))
            goto out;
        if (!c->in_flight && !next_ready(c) && !c->delayed.head)
            break;
        if ((rc = drive(c, now, wake, e)))
            goto out;
    }
out:
    if (rc)
        drop_pending(c);
    return rc;
}

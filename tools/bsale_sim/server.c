/*
 * libmicrohttpd glue of bsale-sim. One thread per connection, so a request that
 * sleeps (latency, slow fault) never delays the others. Faults and the rate limit
 * apply to /v1 only, never to the /__ hooks.
 */
#include "common.h"

#define LOG_MODULE "sim"
#include "log.h"

#include "server.h"
#include "stats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARAMS 64
#define MAX_UPLOAD (64 * 1024)
#define MAX_RATE_SLOTS 100000
#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

struct sim_server {
    struct server_opts o;
    struct sim_store *st;
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t lock; /* guards stopping, the sleep condition and the rate window */
    pthread_cond_t wake;
    bool stopping;
    int64_t *rate_ring; /* accepted request times in the rolling 1-second window */
    size_t rate_head, rate_len;
    atomic_uint_fast64_t seq;
    int64_t storm_t0; /* when the storm's first request arrived; 0 = not yet */
};

struct req_state {
    struct jw upload;
    bool overflow;
    bool counted; /* a /v1 request in flight */
};

struct param_list {
    struct sim_param p[MAX_PARAMS];
    size_t n;
};

/* ---- replies ---- */

/* Sleeps up to ms, returning early when the server stops. */
static void nap(struct sim_server *s, int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t ns = until.tv_nsec + (ms % 1000) * NS_PER_MS;
    until.tv_sec += (time_t)(ms / 1000 + ns / NS_PER_S);
    until.tv_nsec = (long)(ns % NS_PER_S);
    pthread_mutex_lock(&s->lock);
    while (!s->stopping && pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result queue(struct MHD_Connection *c, int status, struct MHD_Response *r,
                             const char *type)
{
    if (!r)
        return MHD_NO;
    if (type && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES)
        log_warn("cannot add content type header");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

#define JSON_TYPE "application/json; charset=utf-8"

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *body, size_t n)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
    return queue(c, status, r, JSON_TYPE);
}

/* Hands w's memory to MHD (freed by it). */
static enum MHD_Result reply_jw(struct MHD_Connection *c, int status, struct jw *w)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(w->len, w->p, MHD_RESPMEM_MUST_FREE);
    if (r)
        w->p = NULL;
    jw_free(w);
    return queue(c, status, r, JSON_TYPE);
}

static enum MHD_Result reply_str(struct MHD_Connection *c, int status, const char *body)
{
    return reply(c, status, body, strlen(body));
}

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct param_list *l = cls;
    if (l->n < MAX_PARAMS) {
        l->p[l->n].key = key;
        l->p[l->n].value = value;
        l->n++;
    }
    return MHD_YES;
}

static bool authorized(struct sim_server *s, struct MHD_Connection *c)
{
    const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "access_token");
    if (!t)
        return false;
    size_t a = strlen(t), b = strlen(s->o.token);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < a && i < b; i++)
        diff |= (unsigned)(t[i] ^ s->o.token[i]);
    return diff == 0;
}

/* ---- rate limit: a rolling one-second window of accepted requests ---- */

/* 0 when the request may pass, else the seconds to wait. */
static int rate_check(struct sim_server *s)
{
    if (!s->o.rate_limit)
        return 0;
    int64_t now = stats_now_ns();
    int wait = 0;
    pthread_mutex_lock(&s->lock);
    size_t cap = s->o.rate_limit;
    while (s->rate_len && s->rate_ring[s->rate_head] <= now - NS_PER_S) {
        s->rate_head = (s->rate_head + 1) % cap;
        s->rate_len--;
    }
    if (s->rate_len == cap) {
        int64_t left = s->rate_ring[s->rate_head] + NS_PER_S - now;
        wait = (int)((left + NS_PER_S - 1) / NS_PER_S);
        if (wait < 1)
            wait = 1;
    } else {
        s->rate_ring[(s->rate_head + s->rate_len) % cap] = now;
        s->rate_len++;
    }
    pthread_mutex_unlock(&s->lock);
    return wait;
}

static enum MHD_Result throttle(struct sim_server *s, struct MHD_Connection *c, int wait,
                                const char *tmpl)
{
    char body[96];
    int status = 429;
    if (s->o.rl_style == RL_500) {
        status = 500;
        snprintf(body, sizeof body, "{\"error\":\"The requested resource is not available\"}");
    } else if (s->o.rl_style == RL_HEADER) {
        snprintf(body, sizeof body, "{\"error\":\"Too Many Requests\"}");
    } else {
        snprintf(body, sizeof body, "{\"error\":\"Too Many Requests\",\"retry_after\":%d}", wait);
    }
    stats_record(tmpl, status, FAULT_NONE, true);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    if (r && (s->o.rl_style == RL_HEADER || s->o.rl_style == RL_BOTH)) {
        char secs[16];
        snprintf(secs, sizeof secs, "%d", wait);
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs) != MHD_YES)
            log_warn("cannot add Retry-After header");
    }
    return queue(c, status, r, JSON_TYPE);
}

/* ---- storm: every request answers 429 for a while ---- */

static bool in_storm(struct sim_server *s, uint64_t seq)
{
    if (!s->o.storm_seconds || seq < s->o.storm_after)
        return false;
    int64_t now = stats_now_ns();
    pthread_mutex_lock(&s->lock);
    if (!s->storm_t0)
        s->storm_t0 = now;
    bool on = now < s->storm_t0 + (int64_t)s->o.storm_seconds * NS_PER_S;
    pthread_mutex_unlock(&s->lock);
    return on;
}

/* ---- faults ---- */

static enum fault pick_fault(struct sim_server *s, struct rng *r)
{
    double u = rng_unit(r);
    const double rates[] = {
        0, s->o.fail_rate, s->o.truncate_rate, s->o.empty_rate, s->o.reset_rate, s->o.slow_rate};
    double acc = 0;
    for (int f = FAULT_FAIL; f < FAULT_COUNT; f++) {
        acc += rates[f];
        if (u < acc)
            return (enum fault)f;
    }
    return FAULT_NONE;
}

struct reset_body {
    struct jw w;
    size_t cut;
};

static ssize_t reset_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct reset_body *b = cls;
    if (pos >= b->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* MHD drops the connection */
    size_t n = b->cut - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, b->w.p + pos, n);
    return (ssize_t)n;
}

static void reset_free(void *cls)
{
    struct reset_body *b = cls;
    jw_free(&b->w);
    free(b);
}

static enum MHD_Result reply_fault(struct MHD_Connection *c, enum fault f, struct rng *r,
                                   struct sim_response *rs)
{
    if (f == FAULT_FAIL) {
        static const int codes[] = {500, 502, 503};
        int code = codes[rng_below(r, 3)];
        jw_free(&rs->body);
        stats_record(rs->tmpl, code, f, false);
        if (code == 502) {
            const char *html = "<html><head><title>502 Bad Gateway</title></head>"
                               "<body><h1>502 Bad Gateway</h1></body></html>";
            struct MHD_Response *resp =
                MHD_create_response_from_buffer(strlen(html), (void *)html, MHD_RESPMEM_PERSISTENT);
            return queue(c, code, resp, "text/html");
        }
        return reply_str(c, code,
                         code == 500 ? "{\"error\":\"Internal Server Error\"}"
                                     : "{\"error\":\"Service Unavailable\"}");
    }
    stats_record(rs->tmpl, rs->status, f, false);
    if (f == FAULT_EMPTY) {
        jw_free(&rs->body);
        return reply(c, rs->status, "", 0);
    }
    size_t cut = rs->body.len > 1 ? rs->body.len / 2 : 0;
    if (f == FAULT_TRUNCATE) {
        rs->body.len = cut;
        return reply_jw(c, rs->status, &rs->body);
    }
    /* FAULT_RESET: announce the full length, send half, then drop the connection. */
    struct reset_body *b = xmalloc(sizeof *b);
    b->w = rs->body;
    b->cut = cut;
    rs->body.p = NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(b->w.len, 16 * 1024, reset_reader, b, reset_free);
    if (!resp) {
        reset_free(b);
        return MHD_NO;
    }
    return queue(c, rs->status, resp, JSON_TYPE);
}

/* ---- /v1 ---- */

static bool has_param(const struct param_list *pl, const char *key)
{
    for (size_t i = 0; i < pl->n; i++)
        if (pl->p[i].key && strcmp(pl->p[i].key, key) == 0)
            return true;
    return false;
}

/*
 * The live profile, as Bsale answers: a page of documents with expand ~2.5 s, any
 * other document or payment read ~0.5 s, catalog ~0.4 s; each 0.8-1.2x.
 */
static int64_t live_ms(const char *url, const struct param_list *pl, struct rng *r)
{
    double base = 400.0;
    if (strncmp(url, "/v1/documents.json", 18) == 0 && has_param(pl, "expand"))
        base = 2500.0;
    else if (strncmp(url, "/v1/documents", 13) == 0 || strncmp(url, "/v1/payments", 12) == 0)
        base = 500.0;
    return (int64_t)(base * (0.8 + 0.4 * rng_unit(r)));
}

static int64_t latency_ms(const struct sim_server *s, const char *url, const struct param_list *pl,
                          struct rng *r)
{
    if (s->o.live_latency)
        return live_ms(url, pl, r);
    if (!s->o.latency_ms)
        return 0;
    /* Jitter: catalog pages take 0.75-1.25x, document pages 1.25-1.75x of --latency-ms. */
    bool heavy = strncmp(url, "/v1/documents", 13) == 0 || strncmp(url, "/v1/payments", 12) == 0;
    double base = heavy ? 1.25 : 0.75;
    return (int64_t)(s->o.latency_ms * (base + 0.5 * rng_unit(r)));
}

static enum MHD_Result handle_v1(struct sim_server *s, struct MHD_Connection *c, const char *url,
                                 const char *method)
{
    struct sim_response rs = {0};
    jw_init(&rs.body, 8192);
    struct param_list params = {.n = 0};
    if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_param, &params) < 0)
        params.n = 0;
    uint64_t seq = atomic_fetch_add(&s->seq, 1);
    struct rng r = rng_for(s->o.fault_seed, 300, seq);

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        char tmpl[64];
        sim_api_template(url, tmpl, sizeof tmpl);
        stats_record(tmpl, 405, FAULT_NONE, false);
        jw_free(&rs.body);
        return reply_str(c, 405, "{\"error\":\"Method Not Allowed\"}");
    }
    if (in_storm(s, seq)) {
        jw_free(&rs.body);
        char tmpl[64];
        sim_api_template(url, tmpl, sizeof tmpl);
        return throttle(s, c, 1, tmpl);
    }
    int wait = rate_check(s);
    if (wait) {
        jw_free(&rs.body);
        char tmpl[64];
        sim_api_template(url, tmpl, sizeof tmpl);
        return throttle(s, c, wait, tmpl);
    }
    enum fault f = pick_fault(s, &r);
    nap(s, latency_ms(s, url, &params, &r));
    if (f == FAULT_SLOW)
        nap(s, s->o.slow_ms);

    struct sim_request rq = {.path = url, .params = params.p, .n_params = params.n};
    sim_api_handle(s->st, &rq, &rs);
    log_debug("%s %s status=%d bytes=%zu fault=%d", method, rs.tmpl, rs.status, rs.body.len,
              (int)f);
    if (f != FAULT_NONE && f != FAULT_SLOW)
        return reply_fault(c, f, &r, &rs);
    stats_record(rs.tmpl, rs.status, f, false);
    return reply_jw(c, rs.status, &rs.body);
}

/* ---- /__ hooks ---- */

static uint32_t count_arg(json_t *body, const char *k, uint32_t dflt)
{
    json_t *v = json_object_get(body, k);
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 100000
               ? (uint32_t)json_integer_value(v)
               : dflt;
}

/* Counts given as query parameters (`/__mutate?voids=3&void_max_age_days=40`) win over the
 * body's; false on a value that is not an integer 0..100000. */
static bool query_counts(struct MHD_Connection *c, struct sim_mutation *m)
{
    const struct {
        const char *key;
        uint32_t *field;
    } keys[] = {
        {"new_documents", &m->new_documents},
        {"voids", &m->voids},
        {"price_changes", &m->price_changes},
        {"deactivations", &m->deactivations},
        {"new_clients", &m->new_clients},
        {"removals", &m->removals},
        {"void_max_age_days", &m->void_max_age_days},
        {"credit_notes", &m->credit_notes},
        {"credit_payments", &m->credit_payments},
        {"new_payments", &m->new_payments},
        {"receptions", &m->receptions},
        {"consumptions", &m->consumptions},
    };
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, keys[i].key);
        if (!v)
            continue;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(v, &end, 10);
        if (errno || !*v || *end || *v == '-' || n > 100000)
            return false;
        *keys[i].field = (uint32_t)n;
    }
    return true;
}

static enum MHD_Result hook_mutate(struct sim_server *s, struct MHD_Connection *c,
                                   struct req_state *rq)
{
    struct sim_mutation m = {0};
    sim_mutation_default(&m);
    if (rq->upload.len) {
        json_error_t jerr;
        json_t *body = json_loadb(rq->upload.p, rq->upload.len, 0, &jerr);
        if (!json_is_object(body)) {
            json_decref(body);
            return reply_str(c, 400, "{\"error\":\"body must be a JSON object\"}");
        }
        json_t *seed = json_object_get(body, "seed");
        if (json_is_integer(seed))
            m.seed = (uint64_t)json_integer_value(seed);
        m.new_documents = count_arg(body, "new_documents", m.new_documents);
        m.voids = count_arg(body, "voids", m.voids);
        m.price_changes = count_arg(body, "price_changes", m.price_changes);
        m.deactivations = count_arg(body, "deactivations", m.deactivations);
        m.new_clients = count_arg(body, "new_clients", m.new_clients);
        m.removals = count_arg(body, "removals", m.removals);
        m.credit_payments = count_arg(body, "credit_payments", m.credit_payments);
        m.new_payments = count_arg(body, "new_payments", m.new_payments);
        m.void_max_age_days = count_arg(body, "void_max_age_days", m.void_max_age_days);
        m.credit_notes = count_arg(body, "credit_notes", m.credit_notes);
        m.receptions = count_arg(body, "receptions", m.receptions);
        m.consumptions = count_arg(body, "consumptions", m.consumptions);
        json_decref(body);
    }
    if (!query_counts(c, &m))
        return reply_str(c, 400, "{\"error\":\"counts must be integers 0..100000\"}");
    const char *seed = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "seed");
    if (seed) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed, &end, 10);
        if (errno || !*seed || *end)
            return reply_str(c, 400, "{\"error\":\"seed must be an unsigned integer\"}");
        m.seed = v;
    }
    struct jw w;
    jw_init(&w, 4096);
    sim_mutate(s->st, &m, &w);
    log_info("store mutated seed=%llu", (unsigned long long)m.seed);
    return reply_jw(c, 200, &w);
}

static enum MHD_Result handle_hook(struct sim_server *s, struct MHD_Connection *c, const char *url,
                                   const char *method, struct req_state *rq)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    struct jw w;
    if (strcmp(url, "/__truth") == 0 && get) {
        jw_init(&w, 1 << 20);
        pthread_rwlock_rdlock(&s->st->lock);
        sim_render_truth(s->st, &w);
        pthread_rwlock_unlock(&s->st->lock);
        return reply_jw(c, 200, &w);
    }
    if (strcmp(url, "/__stats") == 0 && get) {
        jw_init(&w, 4096);
        stats_render(&w);
        return reply_jw(c, 200, &w);
    }
    if (strcmp(url, "/__stats/reset") == 0 && post) {
        stats_reset();
        return reply_str(c, 200, "{\"reset\":true}");
    }
    if (strcmp(url, "/__mutate") == 0 && post) {
        if (rq->overflow)
            return reply_str(c, 413, "{\"error\":\"body too large\"}");
        return hook_mutate(s, c, rq);
    }
    bool known = strcmp(url, "/__truth") == 0 || strcmp(url, "/__stats") == 0 ||
                 strcmp(url, "/__stats/reset") == 0 || strcmp(url, "/__mutate") == 0;
    return known ? reply_str(c, 405, "{\"error\":\"Method Not Allowed\"}")
                 : reply_str(c, 404, "{\"error\":\"The requested resource is not available\"}");
}

/* ---- MHD callbacks ---- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    struct sim_server *s = cls;
    struct req_state *rq = *req_cls;
    bool hook = s->o.test_hooks && strncmp(url, "/__", 3) == 0;
    if (!rq) {
        rq = xcalloc(1, sizeof *rq);
        jw_init(&rq->upload, 256);
        *req_cls = rq;
        if (!hook) {
            rq->counted = true;
            stats_begin();
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (rq->upload.len + *upload_data_size > MAX_UPLOAD)
            rq->overflow = true;
        else if (hook)
            jw_raw(&rq->upload, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!authorized(s, c)) {
        if (!hook) {
            char tmpl[64];
            sim_api_template(url, tmpl, sizeof tmpl);
            stats_record(tmpl, 401, FAULT_NONE, false);
        }
        return reply_str(c, 401, "{\"error\":\"Sorry, this request can not be authenticated\"}");
    }
    if (hook)
        return handle_hook(s, c, url, method, rq);
    return handle_v1(s, c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req_state *rq = *req_cls;
    if (!rq)
        return;
    if (rq->counted)
        stats_end();
    jw_free(&rq->upload);
    free(rq);
    *req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("mhd: %s", line);
}

enum err_code server_start(const struct server_opts *o, struct sim_store *st,
                           struct sim_server **out, struct err *e)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(o->port)};
    if (inet_pton(AF_INET, o->bind, &addr.sin_addr) != 1)
        return err_set(e, ERR_USAGE, "invalid bind address '%s'", o->bind);
    if (o->rate_limit > MAX_RATE_SLOTS)
        return err_set(e, ERR_USAGE, "rate limit %u is over %d", o->rate_limit, MAX_RATE_SLOTS);
    struct sim_server *s = xcalloc(1, sizeof *s);
    s->o = *o;
    s->st = st;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    s->rate_ring = xcalloc(o->rate_limit ? o->rate_limit : 1, sizeof *s->rate_ring);
    atomic_init(&s->seq, 0);
    s->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
    if (!s->d) {
        int saved = errno;
        server_stop(s);
        return err_set(e, ERR_IO, "cannot listen on %s:%u: %s", o->bind, o->port, strerror(saved));
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : o->port;
    *out = s;
    return ERR_OK;
}

uint16_t server_port(const struct sim_server *s)
{
    return s->port;
}

void server_stop(struct sim_server *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    if (s->d)
        MHD_stop_daemon(s->d);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->rate_ring);
    free(s);
}

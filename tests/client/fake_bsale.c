/* Scripted fake Bsale server (libmicrohttpd, one thread per connection) for the fetcher's tests. */
#include "common.h"

#include "fake_bsale.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FB_MAX_RULES 64
#define NAN_MARK "@NaN@"

struct fake_bsale {
    struct MHD_Daemon *d;
    unsigned port;
    struct fb_opts o;
    char *token;
    pthread_mutex_t mu;
    long n_items;
    struct fb_rule rules[FB_MAX_RULES];
    bool used[FB_MAX_RULES];
    size_t n_rules;
    struct fb_hit *hits;
    size_t n_hits, cap_hits;
    struct fb_counters k;
    long in_flight;
    double first_at; /* arrival of the first request; 0 = none yet */
    long list_pages; /* list requests answered so far */
};

struct fb_req {
    char uri[512];
    bool headers_seen;
    bool answered;
};

struct fb_stream {
    char *data;
    size_t len;  /* bytes of data */
    size_t stop; /* bytes sent before the error */
    size_t size; /* announced size */
    bool fill;   /* HUGE: data is only the prefix, the rest is spaces */
};

double fb_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    (void)con;
    struct fb_req *r = xcalloc(1, sizeof(*r));
    snprintf(r->uri, sizeof(r->uri), "%s", uri);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)con;
    (void)socket_context;
    struct fake_bsale *f = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&f->mu);
        f->k.connections++;
        pthread_mutex_unlock(&f->mu);
    }
}

static long arg_long(struct MHD_Connection *con, const char *name, long dflt)
{
    const char *v = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, name);
    if (!v || !*v)
        return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return *end ? dflt : n;
}

/* Checks the request's headers and URI; called under f->mu. */
static void audit(struct fake_bsale *f, struct MHD_Connection *con, const char *uri, bool *auth_ok)
{
    const char *tok = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "access_token");
    *auth_ok = tok && strcmp(tok, f->token) == 0;
    if (!*auth_ok)
        f->k.bad_token++;
    if (MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization"))
        f->k.authorization++;
    if (strstr(uri, f->token))
        f->k.token_in_uri++;
    const char *acc = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Accept");
    if (!acc || strcmp(acc, "application/json") != 0)
        f->k.bad_accept++;
}

/* Arrivals within the last second, this one included; called under f->mu. */
static long arrivals_last_second(const struct fake_bsale *f, double at)
{
    long n = 0;
    for (size_t i = f->n_hits; i > 0 && at - f->hits[i - 1].at <= 1.0; i--)
        n++;
    return n;
}

static size_t record_hit(struct fake_bsale *f, const char *url, const char *uri, long offset,
                         double at)
{
    if (f->n_hits == f->cap_hits) {
        f->cap_hits = f->cap_hits ? f->cap_hits * 2 : 256;
        f->hits = xrealloc(f->hits, f->cap_hits * sizeof(*f->hits));
    }
    struct fb_hit *h = &f->hits[f->n_hits];
    memset(h, 0, sizeof(*h));
    snprintf(h->path, sizeof(h->path), "%s", url);
    snprintf(h->uri, sizeof(h->uri), "%s", uri);
    h->offset = offset;
    h->at = at;
    return f->n_hits++;
}

static bool take_rule(struct fake_bsale *f, const char *url, const char *uri, long offset,
                      struct fb_rule *out)
{
    for (size_t i = 0; i < f->n_rules; i++) {
        const struct fb_rule *r = &f->rules[i];
        if (f->used[i] || (r->path && strcmp(r->path, url) != 0) ||
            (r->offset >= 0 && r->offset != offset) || (r->uri_has && !strstr(uri, r->uri_has)))
            continue;
        f->used[i] = !r->sticky;
        *out = *r;
        return true;
    }
    return false;
}

static json_t *item(const struct fake_bsale *f, long id)
{
    char href[96], name[32];
    snprintf(href, sizeof(href), "http://127.0.0.1:%u/v1/items/%ld.json", f->port, id);
    snprintf(name, sizeof(name), "item %ld", id);
    json_t *j = json_pack("{s:s, s:I, s:s}", "href", href, "id", (json_int_t)id, "name", name);
    if (id == f->o.nan_item)
        json_object_set_new(j, "amount", json_string(NAN_MARK));
    return j;
}

/* Serialises j, the NaN marks written as raw NaN tokens; owned, free() it. */
static char *dump_body(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    static const char mark[] = "\"" NAN_MARK "\"";
    for (char *at; (at = strstr(s, mark));) {
        memcpy(at, "NaN", 3);
        memmove(at + 3, at + sizeof(mark) - 1, strlen(at + sizeof(mark) - 1) + 1);
    }
    return s;
}

static char *page_body(const struct fake_bsale *f, const char *url, long n_items, long offset,
                       long limit, long first, long n_page, long count)
{
    json_t *items = json_array();
    for (long i = first; i < first + n_page && i < n_items; i++)
        if (i >= 0)
            json_array_append_new(items, item(f, i + 1));
    char href[160], next[256];
    snprintf(href, sizeof(href), "http://127.0.0.1:%u%s", f->port, url);
    /* A next URL that embeds the token and a trap path: following it is a bug. */
    snprintf(next, sizeof(next), "http://127.0.0.1:%u/v1/trap.json?access_token=%s&offset=%ld",
             f->port, f->token, offset + limit);
    json_t *page =
        json_pack("{s:s, s:I, s:I, s:I, s:o}", "href", href, "count", (json_int_t)count, "limit",
                  (json_int_t)limit, "offset", (json_int_t)offset, "items", items);
    if (offset + limit < count)
        json_object_set_new(page, "next", json_string(next));
    char *s = dump_body(page);
    json_decref(page);
    return s;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct fb_stream *s = cls;
    if (pos >= s->stop)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = s->stop - (size_t)pos;
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)pos + i;
        out[i] = at < s->len ? s->data[at] : ' ';
    }
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct fb_stream *s = cls;
    free(s->data);
    free(s);
}

static struct MHD_Response *stream_response(char *data, size_t size, size_t stop)
{
    struct fb_stream *s = xcalloc(1, sizeof(*s));
    s->data = data;
    s->len = strlen(data);
    s->size = size;
    s->stop = stop;
    return MHD_create_response_from_callback(size, 4096, stream_read, s, stream_free);
}

static struct MHD_Response *text_response(const char *body, const char *type)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp && type)
        MHD_add_response_header(resp, "Content-Type", type);
    return resp;
}

struct plan {
    bool list; /* a list page request */
    bool cut;  /* short_every picked this page */
    bool has_rule;
    struct fb_rule rule;
    bool auth_ok;
    bool throttled;
    long n_items;
    size_t hit;
};

static bool is_single(const char *url, long *id)
{
    /* /v1/<name>/<digits>.json */
    const char *slash = strrchr(url, '/');
    if (!slash || slash == url + 3 || strncmp(url, "/v1/", 4) != 0)
        return false;
    char *end;
    long v = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || strcmp(end, ".json") != 0)
        return false;
    *id = v;
    return true;
}

/* Picks what to answer; everything shared is read here, under the lock. */
static struct plan plan_request(struct fake_bsale *f, struct MHD_Connection *con, const char *url,
                                const char *uri, long offset)
{
    struct plan p = {0};
    double at = fb_now();
    pthread_mutex_lock(&f->mu);
    f->k.requests++;
    if (++f->in_flight > f->k.max_in_flight)
        f->k.max_in_flight = f->in_flight;
    audit(f, con, uri, &p.auth_ok);
    p.hit = record_hit(f, url, uri, offset, at);
    long recent = arrivals_last_second(f, at);
    if (recent > f->k.peak_per_s)
        f->k.peak_per_s = recent;
    if (f->first_at == 0)
        f->first_at = at;
    p.throttled = (f->o.limit_per_s > 0 && recent > f->o.limit_per_s) ||
                  (f->o.storm_ms && (at - f->first_at) * 1e3 < f->o.storm_ms);
    if (p.throttled)
        f->k.throttled++;
    if (strcmp(url, "/v1/trap.json") == 0)
        f->k.trap++;
    if (p.auth_ok && !p.throttled)
        p.has_rule = take_rule(f, url, uri, offset, &p.rule);
    if (p.has_rule && p.rule.action == FB_GROW)
        f->n_items += p.rule.param;
    long id;
    p.list = offset >= 0 && !is_single(url, &id) && strcmp(url, "/v1/trap.json") != 0;
    if (p.list && p.auth_ok && !p.throttled) {
        f->n_items += f->o.grow_per_page;
        f->list_pages++;
        p.cut = f->o.short_every > 0 && f->list_pages % f->o.short_every == 0;
    }
    p.n_items = f->n_items;
    pthread_mutex_unlock(&f->mu);
    return p;
}

static struct MHD_Response *answer_single(struct fake_bsale *f, const struct plan *p, long id,
                                          int *status)
{
    if (id < 1 || id > p->n_items) {
        *status = MHD_HTTP_NOT_FOUND;
        return text_response("{\"error\":\"not found\"}", "application/json");
    }
    json_t *j = item(f, id);
    char *s = dump_body(j);
    json_decref(j);
    struct MHD_Response *resp = text_response(s, "application/json");
    free(s);
    return resp;
}

static struct MHD_Response *answer_list(struct fake_bsale *f, struct MHD_Connection *con,
                                        const char *url, const struct plan *p, int *status)
{
    long offset = arg_long(con, "offset", 0);
    long limit = arg_long(con, "limit", 25);
    if (limit > 50)
        limit = 50;
    long first = offset, n_page = limit, count = p->n_items;
    if (f->o.fixed_count)
        count = f->o.fixed_count;
    if (p->cut) /* half of what the window holds, so the last page is cut too */
        n_page = (p->n_items - offset < limit ? p->n_items - offset : limit) / 2;
    enum fb_action a = p->has_rule ? p->rule.action : FB_SLOW;
    if (a == FB_SHORT)
        n_page = p->rule.param;
    if (a == FB_SHIFT)
        first = offset - p->rule.param;
    if (a == FB_COUNT)
        count = p->rule.param;
    char *body = page_body(f, url, p->n_items, offset, limit, first, n_page, count);
    size_t len = strlen(body);
    struct MHD_Response *resp = NULL;
    switch (a) {
    case FB_TRUNCATED:
        body[len / 2] = '\0';
        break;
    case FB_RESET:
        return stream_response(body, len, len / 2);
    case FB_HUGE:
        free(body);
        body = xstrdup("{\"items\":[");
        return stream_response(body, (size_t)p->rule.param << 20, (size_t)p->rule.param << 20);
    default:
        break;
    }
    *status = MHD_HTTP_OK;
    resp = text_response(body, "application/json");
    free(body);
    return resp;
}

static struct MHD_Response *answer(struct fake_bsale *f, struct MHD_Connection *con,
                                   const char *url, const struct plan *p, int *status)
{
    *status = MHD_HTTP_OK;
    if (!p->auth_ok) {
        *status = MHD_HTTP_UNAUTHORIZED;
        return text_response("{\"error\":\"Sorry, this request can not be authenticated\"}",
                             "application/json");
    }
    if (p->throttled) {
        *status = MHD_HTTP_TOO_MANY_REQUESTS;
        struct MHD_Response *r = text_response("{\"error\":\"too many requests\"}", NULL);
        if (r)
            MHD_add_response_header(r, "Retry-After",
                                    f->o.storm_retry_after ? f->o.storm_retry_after : "1");
        return r;
    }
    if (p->has_rule) {
        switch (p->rule.action) {
        case FB_STATUS: {
            *status = p->rule.status;
            struct MHD_Response *r = text_response(p->rule.body ? p->rule.body : "", NULL);
            if (r && p->rule.retry_after)
                MHD_add_response_header(r, "Retry-After", p->rule.retry_after);
            return r;
        }
        case FB_HTML:
            return text_response("<html><body>502 Bad Gateway</body></html>", "text/html");
        case FB_EMPTY:
            return text_response("", "application/json");
        case FB_NO_ITEMS:
            return text_response("{\"count\":3,\"data\":[]}", "application/json");
        default:
            break;
        }
    }
    long id;
    if (strcmp(url, "/v1/trap.json") == 0) {
        *status = MHD_HTTP_NOT_FOUND;
        return text_response("{\"error\":\"trap\"}", "application/json");
    }
    if (is_single(url, &id))
        return answer_single(f, p, id, status);
    return answer_list(f, con, url, p, status);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    struct fake_bsale *f = cls;
    struct fb_req *r = *req_cls;
    if (!r || r->answered || strcmp(method, "GET") != 0)
        return MHD_NO;
    if (!r->headers_seen) {
        /* Answering on the first call makes MHD close the connection: wait for the next. */
        r->headers_seen = true;
        return MHD_YES;
    }
    r->answered = true;
    long offset = arg_long(con, "offset", -1);
    struct plan p = plan_request(f, con, url, r->uri, offset);
    unsigned delay = f->o.delay_ms;
    if (p.has_rule && p.rule.action == FB_SLOW)
        delay += (unsigned)p.rule.param;
    if (delay)
        usleep(delay * 1000u);
    pthread_mutex_lock(&f->mu);
    f->in_flight--;
    pthread_mutex_unlock(&f->mu);
    int status = MHD_HTTP_OK;
    struct MHD_Response *resp = answer(f, con, url, &p, &status);
    if (!resp)
        return MHD_NO;
    pthread_mutex_lock(&f->mu);
    f->hits[p.hit].status = status;
    pthread_mutex_unlock(&f->mu);
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

struct fake_bsale *fb_start(const struct fb_opts *o)
{
    struct fake_bsale *f = xcalloc(1, sizeof(*f));
    f->o = *o;
    f->token = xstrdup(o->token);
    f->n_items = o->n_items;
    pthread_mutex_init(&f->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    f->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handle, f, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, f, MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, f, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        f->d ? MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info) {
        fb_stop(f);
        return NULL;
    }
    f->port = info->port;
    return f;
}

void fb_stop(struct fake_bsale *f)
{
    if (!f)
        return;
    if (f->d)
        MHD_stop_daemon(f->d);
    pthread_mutex_destroy(&f->mu);
    free(f->hits);
    free(f->token);
    free(f);
}

char *fb_base_url(const struct fake_bsale *f)
{
    return xasprintf("http://127.0.0.1:%u/v1", f->port);
}

void fb_add_rule(struct fake_bsale *f, struct fb_rule rule)
{
    pthread_mutex_lock(&f->mu);
    if (f->n_rules < FB_MAX_RULES)
        f->rules[f->n_rules++] = rule;
    pthread_mutex_unlock(&f->mu);
}

void fb_counters(struct fake_bsale *f, struct fb_counters *out)
{
    pthread_mutex_lock(&f->mu);
    *out = f->k;
    out->rules_left = 0;
    for (size_t i = 0; i < f->n_rules; i++)
        out->rules_left += !f->used[i];
    pthread_mutex_unlock(&f->mu);
}

struct fb_hit *fb_hits(struct fake_bsale *f, size_t *n)
{
    pthread_mutex_lock(&f->mu);
    struct fb_hit *copy = xmalloc((f->n_hits ? f->n_hits : 1) * sizeof(*copy));
    if (f->n_hits)
        memcpy(copy, f->hits, f->n_hits * sizeof(*copy));
    *n = f->n_hits;
    pthread_mutex_unlock(&f->mu);
    return copy;
}

long fb_count(struct fake_bsale *f, const char *path, long offset)
{
    long n = 0;
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n_hits; i++)
        n += (!path || strcmp(f->hits[i].path, path) == 0) &&
             (offset < 0 || f->hits[i].offset == offset);
    pthread_mutex_unlock(&f->mu);
    return n;
}

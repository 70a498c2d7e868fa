/*
 * The plan: which Bsale lists a run reads and what becomes of each page.
 * Every stream is queued on one client so they share its concurrency and
 * rate limit. Documents whose embedded lines were cut at 25 wait here until
 * their /details.json pages arrive; only complete documents reach a batch.
 */
#include "common.h"

#define LOG_MODULE "sync"
#include "bsale_client.h"
#include "etl_internal.h"
#include "json_util.h"
#include "log.h"
#include "transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_ROWS 5000
#define PROGRESS_LOG_S 5.0
#define PROGRESS_BAR_S 0.25
#define KEEPALIVE_S 60.0
/* Missing references from one page at which the whole list is cheaper than single GETs. */
#define MISSING_REFS_LIST 25

/* A master-data list and the table its items land in. */
struct master_stream {
    const char *path;
    const char *table;
};

static const struct master_stream master_streams[] = {
    {"/offices.json", "sucursales"},           {"/document_types.json", "tipos_documento"},
    {"/payment_types.json", "formas_pago"},    {"/users.json", "usuarios"},
    {"/product_types.json", "tipos_producto"}, {"/products.json", "productos"},
    {"/variants.json", "variantes"},           {"/clients.json", "clientes"},
    {"/price_lists.json", "listas_precio"},    {"/stocks.json", "stock"},
};

struct stream_ctx {
    struct etl_run_ctx *run;
    int table;
    int64_t parent;
    struct stream_ctx *next;
};

/*
 * A document waiting for its /details.json pages. It completes when every
 * page of that list has arrived, judged by the list's own envelopes (its count
 * may differ from the embedded one), and stays allocated until the plan ends,
 * so a late page can never touch freed memory.
 */
struct doc_wait {
    struct etl_run_ctx *run;
    json_t *doc;   /* owned reference; NULL once done */
    json_t *lines; /* owned array of line items received so far */
    long pages_seen;
    long pages_needed;  /* from the envelopes: ceil(count / limit), at least 1 */
    int64_t list_count; /* the largest count an envelope gave */
    bool done;
    struct doc_wait *prev, *next;
};

/* A set of int64 ids (open addressing; 0 never stored). */
struct id_set {
    int64_t *slots;
    size_t cap, n;
};

struct etl_plan_state {
    struct stream_ctx *streams;
    struct doc_wait *waits;    /* still waiting */
    struct doc_wait *finished; /* done, freed when the plan ends */
    size_t n_waits;
    struct id_set known[2]; /* clientes, variantes already checked this run */
    bool whole_list[2];     /* the whole list was queued instead of single GETs */
    int t_prices, t_price_lists, t_payments, t_clients, t_variants;
    bool fetch_missing_refs;
};

static bool id_set_add(struct id_set *s, int64_t id)
{
    if ((s->n + 1) * 2 > s->cap) {
        struct id_set bigger = {xcalloc(s->cap ? s->cap * 2 : 256, sizeof(int64_t)),
                                s->cap ? s->cap * 2 : 256, 0};
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i])
                id_set_add(&bigger, s->slots[i]);
        free(s->slots);
        *s = bigger;
    }
    size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL) & (s->cap - 1);
    while (s->slots[h]) {
        if (s->slots[h] == id)
            return false;
        h = (h + 1) & (s->cap - 1);
    }
    s->slots[h] = id;
    s->n++;
    return true;
}

static struct stream_ctx *stream_new(struct etl_run_ctx *run, int table, int64_t parent)
{
    struct stream_ctx *s = xcalloc(1, sizeof(*s));
    s->run = run;
    s->table = table;
    s->parent = parent;
    s->next = run->plan_state->streams;
    run->plan_state->streams = s;
    return s;
}

static void progress(struct etl_run_ctx *run, bool final)
{
    double now = etl_now();
    double every = run->progress_bar ? PROGRESS_BAR_S : PROGRESS_LOG_S;
    if (!final && now - run->last_progress < every)
        return;
    run->last_progress = now;
    struct bsale_stats st;
    bsale_client_stats(run->client, &st);
    pthread_mutex_lock(&run->counters.mu);
    long long rows = run->counters.rows_total;
    pthread_mutex_unlock(&run->counters.mu);
    double secs = now - run->started > 0.001 ? now - run->started : 0.001;
    double page_rate = (double)st.pages / secs;
    long long left = st.pages_total > st.pages ? st.pages_total - st.pages : 0;
    double eta = page_rate > 0 ? (double)left / page_rate : 0;
    if (run->progress_bar) {
        int pct = st.pages_total ? (int)(100.0 * (double)st.pages / (double)st.pages_total) : 0;
        char bar[21];
        for (int i = 0; i < 20; i++)
            bar[i] = i < pct / 5 ? '#' : '-';
        bar[20] = '\0';
        fprintf(
            stderr, "\r[%s] %3d%% %lld/%lld pages  %lld rows  %.1f req/s  %lld retries  ETA %.0fs ",
            bar, pct, st.pages, st.pages_total, rows, (double)st.requests / secs, st.retries, eta);
        if (final)
            fputc('\n', stderr);
        return;
    }
    log_info("progress pages=%lld/%lld rows=%lld rows_s=%.0f req_s=%.1f retries=%lld eta_s=%.0f",
             st.pages, st.pages_total, rows, (double)rows / secs, (double)st.requests / secs,
             st.retries, eta);
}

static enum err_code flush(struct etl_run_ctx *run, bool force, struct err *e)
{
    struct etl_batch *b = run->pending;
    if (!b->n_rows && !b->n_incidents)
        return ERR_OK;
    if (!force && b->n_docs < (size_t)run->cfg->etl_batch_docs && b->n_rows < FLUSH_ROWS)
        return ERR_OK;
    run->pending = etl_batch_new();
    return etl_writer_push(run->writer, b, e);
}

static enum err_code check_cancel(struct etl_run_ctx *run, struct err *e)
{
    if (run->cancel && *run->cancel)
        return err_set(e, ERR_INTERRUPTED, "interrupted");
    return ERR_OK;
}

/* The run thread's connection holds the lock and the run record: keep it from idling out. */
static void keep_alive(struct etl_run_ctx *run)
{
    double now = etl_now();
    if (now - run->last_ping < KEEPALIVE_S)
        return;
    run->last_ping = now;
    struct err e = ERR_INIT;
    if (db_ping(run->db, &e))
        log_warn("the run's database connection failed a ping: %s", e.msg);
}

static enum err_code after_page(struct etl_run_ctx *run, struct err *e)
{
    progress(run, false);
    keep_alive(run);
    return flush(run, false, e);
}

static enum err_code on_single(void *p, json_t *item, struct err *e)
{
    struct stream_ctx *s = p;
    if (!item) /* 404: referenced but gone from Bsale; nothing to copy */
        return ERR_OK;
    (void)transform_item(s->run->pending, s->table, item, 0);
    return after_page(s->run, e);
}

static enum err_code on_list_page(void *p, json_t *page, struct err *e);

static void queue_prices(struct etl_run_ctx *run, json_t *lists)
{
    size_t i;
    json_t *list;
    json_array_foreach (lists, i, list) {
        int64_t id;
        if (!json_util_int64(json_object_get(list, "id"), &id))
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/price_lists/%lld/details.json", (long long)id);
        bsale_queue_list(run->client, path, NULL, on_list_page,
                         stream_new(run, run->plan_state->t_prices, id));
    }
}

static enum err_code on_list_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    enum err_code rc = check_cancel(run, e);
    if (rc)
        return rc;
    json_t *items = json_object_get(page, "items");
    if ((rc = transform_page(run->pending, s->table, items, s->parent, e)))
        return rc;
    if (s->table == run->plan_state->t_price_lists)
        queue_prices(run, items);
    return after_page(run, e);
}

/* Clients and variants that documents reference but the warehouse lacks are fetched by id. */
static enum err_code fetch_missing(struct etl_run_ctx *run, int which, int64_t *ids, size_t n,
                                   struct err *e)
{
    struct etl_plan_state *ps = run->plan_state;
    size_t fresh = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] > 0 && id_set_add(&ps->known[which], ids[i]))
            ids[fresh++] = ids[i];
    if (!fresh)
        return ERR_OK;
    int table = which == 0 ? ps->t_clients : ps->t_variants;
    const struct cat_rows *rows = etl_batch_rows(run->pending, table);
    int64_t *missing = NULL;
    size_t n_missing = 0;
    enum err_code rc = db_missing_ids(run->db, rows->table, ids, fresh, &missing, &n_missing, e);
    if (rc)
        return rc;
    const char *resource = which == 0 ? "clients" : "variants";
    if (ps->whole_list[which] || n_missing >= MISSING_REFS_LIST) {
        /* Many missing (a young warehouse): paging the whole list costs fewer requests. */
        if (!ps->whole_list[which]) {
            char path[32];
            snprintf(path, sizeof(path), "/%s.json", resource);
            bsale_queue_list(run->client, path, NULL, on_list_page, stream_new(run, table, 0));
            log_info("fetching the whole %s list: %zu referenced ones are missing", resource,
                     n_missing);
        }
        ps->whole_list[which] = true;
        n_missing = 0;
    }
    struct stream_ctx *s = n_missing ? stream_new(run, table, 0) : NULL;
    for (size_t i = 0; i < n_missing; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/%s/%lld.json", resource, (long long)missing[i]);
        bsale_queue_get(run->client, path, NULL, on_single, s);
    }
    if (n_missing)
        log_info("fetching %zu referenced %s missing from the warehouse", n_missing, resource);
    free(missing);
    return ERR_OK;
}

static void collect_id(json_t *ref, int64_t **ids, size_t *n, size_t *alloc)
{
    int64_t id;
    if (!json_util_int64(json_object_get(ref, "id"), &id))
        return;
    if (*n == *alloc) {
        *alloc = *alloc ? *alloc * 2 : 64;
        *ids = xrealloc(*ids, *alloc * sizeof(**ids));
    }
    (*ids)[(*n)++] = id;
}

static enum err_code check_refs(struct etl_run_ctx *run, json_t *docs, json_t *lines, struct err *e)
{
    if (!run->plan_state->fetch_missing_refs)
        return ERR_OK;
    int64_t *ids = NULL;
    size_t n = 0, alloc = 0;
    size_t i, k;
    json_t *doc, *line;
    json_array_foreach (docs, i, doc) {
        collect_id(json_object_get(doc, "client"), &ids, &n, &alloc);
    }
    enum err_code rc = fetch_missing(run, 0, ids, n, e);
    n = 0;
    json_array_foreach (docs, i, doc) {
        json_t *embedded = transform_items(json_object_get(doc, "details"));
        json_array_foreach (embedded, k, line) {
            collect_id(json_object_get(line, "variant"), &ids, &n, &alloc);
        }
    }
    json_array_foreach (lines, k, line) {
        collect_id(json_object_get(line, "variant"), &ids, &n, &alloc);
    }
    if (!rc)
        rc = fetch_missing(run, 1, ids, n, e);
    free(ids);
    return rc;
}

static void wait_unlink(struct etl_plan_state *ps, struct doc_wait *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        ps->waits = w->next;
    if (w->next)
        w->next->prev = w->prev;
    ps->n_waits--;
    json_decref(w->doc);
    json_decref(w->lines);
    w->doc = w->lines = NULL;
    w->done = true;
    w->prev = NULL;
    w->next = ps->finished;
    ps->finished = w;
}

static enum err_code wait_complete(struct etl_run_ctx *run, struct doc_wait *w, struct err *e)
{
    enum err_code rc = transform_document(run->pending, w->doc, w->lines, e);
    wait_unlink(run->plan_state, w);
    return rc;
}

/* Counts a details page and what its envelope says the whole list needs. */
static void wait_count_page(struct doc_wait *w, json_t *page)
{
    int64_t count = 0, limit = 0;
    w->pages_seen++;
    if (!json_util_int64(json_object_get(page, "count"), &count) || count < 0)
        count = 0;
    if (!json_util_int64(json_object_get(page, "limit"), &limit) || limit <= 0)
        limit = 1;
    long needed = count ? (long)((count + limit - 1) / limit) : 1;
    if (needed > w->pages_needed)
        w->pages_needed = needed;
    if (count > w->list_count)
        w->list_count = count;
}

static enum err_code on_details_page(void *p, json_t *page, struct err *e)
{
    struct doc_wait *w = p;
    struct etl_run_ctx *run = w->run;
    enum err_code rc = check_cancel(run, e);
    if (rc)
        return rc;
    if (w->done) {
        log_warn("document lines: a page arrived after its document was written; ignored");
        return ERR_OK;
    }
    json_t *items = json_object_get(page, "items");
    size_t i;
    json_t *line;
    json_array_foreach (items, i, line) {
        int64_t id;
        /* A line without a usable id goes on too: the mapper records it as an incident. */
        if (!json_util_int64(json_object_get(line, "id"), &id) ||
            !transform_has_id(w->lines, json_array_size(w->lines), id))
            json_array_append(w->lines, line);
    }
    wait_count_page(w, page);
    if ((rc = check_refs(run, NULL, items, e)))
        return rc;
    if (w->pages_seen >= w->pages_needed)
        rc = wait_complete(run, w, e);
    return rc ? rc : after_page(run, e);
}

static void wait_for_lines(struct etl_run_ctx *run, json_t *doc, int64_t doc_id)
{
    struct etl_plan_state *ps = run->plan_state;
    struct doc_wait *w = xcalloc(1, sizeof(*w));
    w->run = run;
    w->doc = json_incref(doc);
    w->lines = json_array();
    w->pages_needed = 1;
    w->next = ps->waits;
    if (ps->waits)
        ps->waits->prev = w;
    ps->waits = w;
    ps->n_waits++;
    char path[64];
    snprintf(path, sizeof(path), "/documents/%lld/details.json", (long long)doc_id);
    bsale_queue_list_first(run->client, path, NULL, on_details_page, w);
}

static enum err_code on_document(struct etl_run_ctx *run, json_t *doc, struct err *e)
{
    int64_t doc_id, expected;
    if (!transform_document_id(run->pending, doc, &doc_id))
        return ERR_OK; /* skipped, with an incident */
    if (!transform_payments_complete(doc)) {
        char query[64];
        snprintf(query, sizeof(query), "documentid=%lld", (long long)doc_id);
        bsale_queue_list(run->client, "/payments.json", query, on_list_page,
                         stream_new(run, run->plan_state->t_payments, 0));
    }
    if (transform_lines_complete(doc, &expected))
        return transform_document(run->pending, doc, NULL, e);
    wait_for_lines(run, doc, doc_id);
    return ERR_OK;
}

static enum err_code on_documents_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    enum err_code rc = check_cancel(run, e);
    if (rc)
        return rc;
    json_t *items = json_object_get(page, "items");
    size_t i;
    json_t *doc;
    json_array_foreach (items, i, doc) {
        if ((rc = on_document(run, doc, e)))
            return rc;
    }
    if ((rc = check_refs(run, items, NULL, e)))
        return rc;
    return after_page(run, e);
}

/* A document re-read by id: written again if Bsale still has it, else remembered as gone. */
static enum err_code on_verified(void *p, json_t *doc, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    enum err_code rc = check_cancel(run, e);
    if (rc)
        return rc;
    if (!doc) {
        if (run->n_gone == run->gone_alloc) {
            run->gone_alloc = run->gone_alloc ? run->gone_alloc * 2 : 16;
            run->gone = xrealloc(run->gone, run->gone_alloc * sizeof(*run->gone));
        }
        run->gone[run->n_gone++] = s->parent;
        return ERR_OK;
    }
    json_t *one = json_array();
    json_array_append(one, doc);
    rc = on_document(run, doc, e);
    if (!rc)
        rc = check_refs(run, one, NULL, e);
    json_decref(one);
    return rc ? rc : after_page(run, e);
}

static void queue_verifications(struct etl_run_ctx *run, const struct etl_plan *plan)
{
    int table = etl_table_index("documentos_venta");
    for (size_t i = 0; i < plan->n_verify; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/documents/%lld.json", (long long)plan->verify_ids[i]);
        bsale_queue_get(run->client, path, "expand=[details,payments]", on_verified,
                        stream_new(run, table, plan->verify_ids[i]));
    }
}

static enum err_code queue_document_windows(struct etl_run_ctx *run, const struct etl_plan *plan,
                                            struct err *e)
{
    struct etl_plan_state *ps = run->plan_state;
    char day[11];
    memcpy(day, plan->date_from, sizeof(day));
    long n_days = etl_days_between(plan->date_from, plan->date_to);
    if (n_days < 1)
        return err_set(e, ERR_INVALID, "date range %s..%s is empty", plan->date_from,
                       plan->date_to);
    for (long d = 0; d < n_days; d++) {
        long long from, to;
        enum err_code rc = etl_day_window(day, &from, &to, e);
        if (rc)
            return rc;
        char query[128];
        snprintf(query, sizeof(query), "expand=[details,payments]&emissiondaterange=[%lld,%lld]",
                 from, to);
        bsale_queue_list(run->client, "/documents.json", query, on_documents_page,
                         stream_new(run, etl_table_index("documentos_venta"), 0));
        /* Payments recorded that day, including credit payments tied to no document. */
        snprintf(query, sizeof(query), "recorddate=%lld", from);
        bsale_queue_list(run->client, "/payments.json", query, on_list_page,
                         stream_new(run, ps->t_payments, 0));
        if ((rc = etl_date_add(day, 1, day, e)))
            return rc;
    }
    return ERR_OK;
}

static void queue_master(struct etl_run_ctx *run)
{
    for (size_t i = 0; i < ARRAY_LEN(master_streams); i++)
        bsale_queue_list(run->client, master_streams[i].path, NULL, on_list_page,
                         stream_new(run, etl_table_index(master_streams[i].table), 0));
}

static void state_init(struct etl_plan_state *ps, const struct etl_plan *plan)
{
    memset(ps, 0, sizeof(*ps));
    ps->t_prices = etl_table_index("precios");
    ps->t_price_lists = etl_table_index("listas_precio");
    ps->t_payments = etl_table_index("pagos");
    ps->t_clients = etl_table_index("clientes");
    ps->t_variants = etl_table_index("variantes");
    ps->fetch_missing_refs = plan->fetch_missing_refs;
}

static void state_release(struct etl_plan_state *ps)
{
    while (ps->waits)
        wait_unlink(ps, ps->waits);
    while (ps->finished) {
        struct doc_wait *w = ps->finished;
        ps->finished = w->next;
        free(w);
    }
    while (ps->streams) {
        struct stream_ctx *s = ps->streams;
        ps->streams = s->next;
        free(s);
    }
    free(ps->known[0].slots);
    free(ps->known[1].slots);
}

/* Every list has been read: documents still waiting have all the lines Bsale listed. */
static enum err_code complete_all_waits(struct etl_run_ctx *run, struct err *e)
{
    enum err_code rc = ERR_OK;
    while (run->plan_state->waits && !rc) {
        struct doc_wait *w = run->plan_state->waits;
        if ((int64_t)json_array_size(w->lines) != w->list_count)
            log_warn("document lines: Bsale counted %lld, listed %zu", (long long)w->list_count,
                     json_array_size(w->lines));
        rc = wait_complete(run, w, e);
    }
    return rc;
}

enum err_code etl_plan_execute(struct etl_run_ctx *ctx, const struct etl_plan *plan, struct err *e)
{
    struct etl_plan_state ps;
    state_init(&ps, plan);
    ctx->plan_state = &ps;
    ctx->pending = etl_batch_new();
    enum err_code rc = ERR_OK;
    if (plan->master)
        queue_master(ctx);
    if (plan->documents)
        rc = queue_document_windows(ctx, plan, e);
    queue_verifications(ctx, plan);
    if (!rc)
        rc = bsale_run(ctx->client, e);
    if (!rc)
        rc = complete_all_waits(ctx, e);
    if (!rc)
        rc = flush(ctx, true, e);
    progress(ctx, true);
    etl_batch_free(ctx->pending);
    ctx->pending = NULL;
    state_release(&ps);
    ctx->plan_state = NULL;
    return rc;
}

/*
 * Variant costs (costos_variante): /variants/{id}/costs.json is one request
 * per variant, so a run reads only what it must, at the client's lowest
 * priority so costs never delay documents:
 *  - stock-controlled variants only (the others have no cost: Bsale answers 404);
 *  - every one without a stored cost (a full or plain daily sync);
 *  - the ceil(N / ETL_COST_REFRESH_DAYS) least recently read ones, so daily
 *    syncs revisit each within that many runs;
 *  - any run: the variants of reception details no succeeded run stored
 *    (a reception moves the average cost; a sale does not).
 * A 404 stores the variant's row with NULL costs: "no cost", known without a
 * second table, and its read time keeps it in the rotation like the others.
 * A 5xx past the retries is an incident and stores nothing, so the variant
 * stays the least recently read.
 */
#include "common.h"

#define LOG_MODULE "sync"
#include "db_costs.h"
#include "etl_plan_parts.h"
#include "json_util.h"
#include "log.h"
#include "transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct id_vec {
    int64_t *v;
    size_t n, alloc;
};

/* One queued read: the variant it is for (the client's callbacks get no path). */
struct cost_read {
    struct etl_run_ctx *run;
    int64_t id;
    char path[64];
    struct cost_read *next;
};

struct sync_costs {
    bool rotate;            /* read the missing and the rotation (plan->costs) */
    bool known;             /* the stock-controlled variants are known */
    unsigned ended;         /* full sync: 1 products, 2 variants lists ended */
    struct id_vec ctl;      /* stock-controlled variants */
    struct id_set ctl_set;  /* the same, for membership */
    struct id_vec aged;     /* variants with a stored cost, least recently read first */
    struct id_set stored;   /* the same, for membership */
    struct id_set ctl_prod; /* full sync: stock-controlled products listed */
    struct id_vec listed;   /* full sync: variant, product, unlimited (3 per variant) */
    struct id_vec received; /* received before the stock-controlled ones were known */
    struct id_set queued;   /* reads queued this run */
    char
        settled[20]; /* the last succeeded run's end: details stored by then had their costs read */
    const struct etl_batch *scanned; /* batch whose reception details were looked at */
    size_t scanned_rows;
    struct cost_read *reads;
    long long n_missing, n_rotation, n_received, n_absent, n_failed;
};

/* The one rule: Bsale keeps costs for variants whose stock it tracks. */
static bool stock_controlled(int64_t product_stock_control, int64_t variant_unlimited)
{
    return product_stock_control == 1 && variant_unlimited != 1;
}

static void vec_push(struct id_vec *v, int64_t id)
{
    if (v->n == v->alloc) {
        v->alloc = v->alloc ? v->alloc * 2 : 256;
        v->v = xrealloc(v->v, v->alloc * sizeof(*v->v));
    }
    v->v[v->n++] = id;
}

static int64_t cell_int(const char *cell)
{
    return cell ? strtoll(cell, NULL, 10) : 0;
}

static void note_controlled(struct sync_costs *c, int64_t id)
{
    if (id_set_add(&c->ctl_set, id))
        vec_push(&c->ctl, id);
}

static int on_stored_variant(void *p, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    if (ncols >= 3 && stock_controlled(cell_int(cells[1]), cell_int(cells[2])))
        note_controlled(p, cell_int(cells[0]));
    return 0;
}

static int on_stored_cost(void *p, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    struct sync_costs *c = p;
    int64_t id = ncols >= 1 ? cell_int(cells[0]) : 0;
    if (id_set_add(&c->stored, id))
        vec_push(&c->aged, id);
    return 0;
}

static enum err_code on_cost(void *p, json_t *obj, struct err *e)
{
    struct cost_read *r = p;
    struct etl_run_ctx *run = r->run;
    enum err_code rc = plan_check_cancel(run, e);
    if (rc)
        return rc;
    int table = catalog_role_index(CAT_ROLE_VARIANT_COSTS);
    if (obj && !json_is_object(obj)) {
        plan_doubtful(run, r->path, r->id, "cost not read: not an object");
        run->plan_state->costs->n_failed++;
    } else if (obj) {
        (void)transform_item(run->pending, table, obj, r->id);
    } else { /* 404: no cost; the row says so, with NULL costs */
        json_t *none = json_object();
        (void)transform_item(run->pending, table, none, r->id);
        json_decref(none);
        run->plan_state->costs->n_absent++;
    }
    return plan_after_page(run, e);
}

static enum err_code on_cost_bad(void *p, const char *path, long offset, const char *cause,
                                 struct err *e)
{
    (void)path;
    (void)offset;
    struct cost_read *r = p;
    plan_doubtful(r->run, r->path, r->id, "cost not read: %s", cause);
    r->run->plan_state->costs->n_failed++;
    return plan_flush(r->run, false, e);
}

/* Queues one variant's cost unless it is already queued; false then. */
static bool queue_cost(struct etl_run_ctx *run, int64_t id)
{
    struct sync_costs *c = run->plan_state->costs;
    if (!id_set_add(&c->queued, id))
        return false;
    struct cost_read *r = xcalloc(1, sizeof(*r));
    r->run = run;
    r->id = id;
    (void)catalog_list_path(catalog_by_role(CAT_ROLE_VARIANT_COSTS), id, r->path, sizeof(r->path));
    r->next = c->reads;
    c->reads = r;
    bsale_queue_get_background(run->client, r->path, NULL, on_cost, on_cost_bad, r);
    return true;
}

static void queue_received(struct etl_run_ctx *run, int64_t id)
{
    struct sync_costs *c = run->plan_state->costs;
    if (!c->known)
        vec_push(&c->received, id);
    else if (id_set_has(&c->ctl_set, id) && queue_cost(run, id))
        c->n_received++;
}

/* The stock-controlled variants are known: the missing, the rotation, the received so far. */
static void select_costs(struct etl_run_ctx *run)
{
    struct sync_costs *c = run->plan_state->costs;
    c->known = true;
    for (size_t i = 0; c->rotate && i < c->ctl.n; i++)
        if (!id_set_has(&c->stored, c->ctl.v[i]) && queue_cost(run, c->ctl.v[i]))
            c->n_missing++;
    long days = run->cfg->etl_cost_refresh_days > 0 ? run->cfg->etl_cost_refresh_days : 1;
    long long turn = c->rotate ? ((long long)c->ctl.n + days - 1) / days : 0;
    for (size_t i = 0; c->n_rotation < turn && i < c->aged.n; i++)
        if (id_set_has(&c->ctl_set, c->aged.v[i]) && queue_cost(run, c->aged.v[i]))
            c->n_rotation++;
    for (size_t i = 0; i < c->received.n; i++)
        queue_received(run, c->received.v[i]);
    c->received.n = 0;
    log_info("variant costs: %zu stock-controlled; reading %lld without a cost, %lld in rotation "
             "(1/%ld), %lld received so far",
             c->ctl.n, c->n_missing, c->n_rotation, days, c->n_received);
}

enum err_code sync_costs_start(struct etl_run_ctx *run, struct err *e)
{
    const struct etl_plan *plan = run->plan_state->plan;
    struct sync_costs *c = xcalloc(1, sizeof(*c));
    run->plan_state->costs = c;
    c->rotate = plan->costs;
    /* A re-read of documents only, or a backfill's later window: nothing to select. */
    if (plan->later_window || (!plan->costs && !plan->documents))
        return ERR_OK;
    enum err_code rc = db_costs_last_success(run->db, c->settled, e);
    if (!rc && c->rotate)
        rc = db_costs_stored(run->db, on_stored_cost, c, e);
    if (rc || plan->master) /* a full sync learns the variants from their lists */
        return rc;
    if ((rc = db_costs_variants(run->db, on_stored_variant, c, e)))
        return rc;
    select_costs(run);
    return ERR_OK;
}

static enum cat_role stream_role(const struct stream_ctx *s)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    return s->table >= 0 && (size_t)s->table < n ? tables[s->table]->role : CAT_ROLE_NONE;
}

void sync_costs_on_page(struct stream_ctx *s, json_t *items)
{
    struct sync_costs *c = s->run->plan_state->costs;
    enum cat_role role = stream_role(s);
    if (!c || c->known || (role != CAT_ROLE_PRODUCTS && role != CAT_ROLE_VARIANTS))
        return;
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        int64_t id, product = 0, flag = 0;
        if (!json_util_int64(json_object_get(item, "id"), &id))
            continue;
        if (role == CAT_ROLE_PRODUCTS) {
            if (json_util_int64(json_object_get(item, "stockControl"), &flag) && flag == 1)
                (void)id_set_add(&c->ctl_prod, id);
            continue;
        }
        (void)json_util_int64(json_util_path(item, "product.id"), &product);
        (void)json_util_int64(json_object_get(item, "unlimitedStock"), &flag);
        vec_push(&c->listed, id);
        vec_push(&c->listed, product);
        vec_push(&c->listed, flag);
    }
}

void sync_costs_on_end(struct stream_ctx *s)
{
    struct sync_costs *c = s->run->plan_state->costs;
    enum cat_role role = stream_role(s);
    if (!c || c->known || (role != CAT_ROLE_PRODUCTS && role != CAT_ROLE_VARIANTS))
        return;
    c->ended |= role == CAT_ROLE_PRODUCTS ? 1u : 2u;
    if (c->ended != 3u)
        return;
    for (size_t i = 0; i + 2 < c->listed.n; i += 3) {
        int64_t product_ctl = id_set_has(&c->ctl_prod, c->listed.v[i + 1]) ? 1 : 0;
        if (stock_controlled(product_ctl, c->listed.v[i + 2]))
            note_controlled(c, c->listed.v[i]);
    }
    select_costs(s->run);
}

static int on_settled(void *p, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    if (ncols >= 1)
        (void)id_set_add(p, cell_int(cells[0]));
    return 0;
}

/*
 * The reception details in the batch being filled that no succeeded run
 * stored: new receptions (or ones a failed run wrote before their costs were
 * read), whose variants' costs moved. Called before each flush, so every row
 * is looked at once while the run still reads.
 */
enum err_code sync_costs_scan(struct etl_run_ctx *run, struct err *e)
{
    struct sync_costs *c = run->plan_state ? run->plan_state->costs : NULL;
    if (!c)
        return ERR_OK;
    const struct cat_rows *rows =
        etl_batch_rows(run->pending, catalog_role_index(CAT_ROLE_RECEPTION_DETAILS));
    if (c->scanned != run->pending) {
        c->scanned = run->pending;
        c->scanned_rows = 0;
    }
    if (rows->n <= c->scanned_rows)
        return ERR_OK;
    int vcol = catalog_column_index(rows->table, "id_variante");
    int kcol = catalog_column_index(rows->table, "id_bsale");
    size_t from = c->scanned_rows, n = rows->n - from;
    int64_t *ids = xcalloc(n, sizeof(*ids));
    for (size_t i = 0; i < n; i++)
        ids[i] = cat_rows_cell(rows, from + i, (size_t)kcol)->i;
    struct id_set settled = {0};
    enum err_code rc =
        db_costs_settled_details(run->db, ids, n, c->settled, on_settled, &settled, e);
    for (size_t i = 0; !rc && i < n; i++)
        if (!id_set_has(&settled, ids[i]))
            queue_received(run, cat_rows_cell(rows, from + i, (size_t)vcol)->i);
    c->scanned_rows = rows->n;
    id_set_release(&settled);
    free(ids);
    return rc;
}

/* The batch went to the writer: the next one is looked at from its first row. */
void sync_costs_batch_sent(struct etl_run_ctx *run)
{
    struct sync_costs *c = run->plan_state ? run->plan_state->costs : NULL;
    if (c)
        c->scanned = NULL;
}

void sync_costs_release(struct etl_plan_state *ps)
{
    struct sync_costs *c = ps->costs;
    if (!c)
        return;
    if (c->queued.n)
        log_info(
            "variant costs: %zu queued (%lld without a cost, %lld in rotation, %lld received); "
            "%lld have none (404), %lld not read",
            c->queued.n, c->n_missing, c->n_rotation, c->n_received, c->n_absent, c->n_failed);
    while (c->reads) {
        struct cost_read *r = c->reads;
        c->reads = r->next;
        free(r);
    }
    struct id_vec *vecs[] = {&c->ctl, &c->aged, &c->listed, &c->received};
    for (size_t i = 0; i < ARRAY_LEN(vecs); i++)
        free(vecs[i]->v);
    struct id_set *sets[] = {&c->ctl_set, &c->stored, &c->ctl_prod, &c->queued};
    for (size_t i = 0; i < ARRAY_LEN(sets); i++)
        id_set_release(sets[i]);
    free(c);
    ps->costs = NULL;
}

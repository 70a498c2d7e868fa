/*
 * Stock receptions, consumptions and returns (CAT_FETCH_DATED) with their
 * lines, and the documents' taxes and sellers. A movement is written with
 * all its lines in one batch: embedded whole, or read whole through its
 * /details.json link when the embedded ones are cut at 25 or only linked
 * (docs/bsale-api.md). A movement whose lines cannot be read whole is not
 * written: an incident says so. A document's taxes and sellers come embedded
 * (stored with it) or as links, read per ETL_DOCUMENT_EXTRAS
 * (docs/reliability.md, Document taxes and sellers).
 */
#include "common.h"

#define LOG_MODULE "sync"
#include "date.h"
#include "etl_plan_parts.h"
#include "json_util.h"
#include "log.h"
#include "transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Items of one child list read at most: far past real movements and documents. */
#define CHILD_MAX 5000

/* A child list read whole through its link, page by page, kept until it ends. */
struct child_read {
    struct etl_run_ctx *run;
    int child_ti;  /* table of the children */
    int parent_ti; /* a movement's table, written with them; -1 for a document's extras */
    int64_t parent_id;
    json_t *parent; /* owned: the movement waiting for its lines; NULL for extras */
    json_t *items;  /* owned; NULL once done */
    long offset;    /* of the next page */
    int64_t count;  /* the largest count seen (embedded or a page): the list must reach it */
    char path[64];
    struct child_read *next;
};

static const struct cat_table *table_at(int ti)
{
    size_t n;
    return catalog_tables(&n)[ti];
}

/* The CHILD table a record of table ti embeds (a movement's lines), or -1. */
static int child_of(int ti)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t c = 0; c < n; c++) {
        const struct cat_source *src = &tables[c]->source;
        if (src->fetch == CAT_FETCH_CHILD && src->parent == tables[ti]->role && src->embedded)
            return (int)c;
    }
    return -1;
}

static void queue_child_page(struct child_read *r);

static void child_drop(struct child_read *r)
{
    json_decref(r->items);
    json_decref(r->parent);
    r->items = r->parent = NULL;
}

/* The list is whole: a movement is written with it, a document's extras replaced. */
static enum err_code child_done(struct child_read *r, struct err *e)
{
    struct etl_run_ctx *run = r->run;
    if (r->parent) {
        /* A bare array: whole, so transform_item writes and replaces them with the parent. */
        json_object_set(r->parent, table_at(r->child_ti)->source.embedded, r->items);
        (void)transform_item(run->pending, r->parent_ti, r->parent, 0);
    } else {
        transform_children(run->pending, r->child_ti, r->items, r->parent_id);
    }
    child_drop(r);
    return plan_flush(run, false, e);
}

/* A list that could not be read whole: the movement is not written, extras are left. */
static enum err_code child_failed(struct child_read *r, long offset, const char *cause,
                                  struct err *e)
{
    struct etl_run_ctx *run = r->run;
    if (r->parent) {
        char resource[64];
        const struct cat_table *t = table_at(r->parent_ti);
        if (!catalog_record_path(t, r->parent_id, resource, sizeof(resource)))
            snprintf(resource, sizeof(resource), "%s", t->source.path);
        plan_doubtful(run, resource, r->parent_id, "not written: its lines (%s) not read: %s",
                      r->path, cause);
    } else {
        plan_doubtful(run, r->path, ETL_NO_ID, "not read (offset %ld): %s", offset, cause);
    }
    child_drop(r);
    return plan_flush(run, false, e);
}

static enum err_code on_child_bad(void *p, const char *path, long offset, const char *cause,
                                  struct err *e)
{
    (void)path;
    struct child_read *r = p;
    return r->items ? child_failed(r, offset, cause, e) : ERR_OK;
}

/* One page, by count and offset; a parent gone since it was listed answers 404. */
static enum err_code on_child_page(void *p, json_t *page, struct err *e)
{
    struct child_read *r = p;
    enum err_code rc = plan_check_cancel(r->run, e);
    if (rc || !r->items)
        return rc;
    if (!page) {
        log_info("%s: gone (404); nothing written for it", r->path);
        child_drop(r);
        return ERR_OK;
    }
    json_t *items = json_object_get(page, "items");
    int64_t count = 0;
    if (!json_is_array(items) || !json_util_int64(json_object_get(page, "count"), &count))
        return child_failed(r, r->offset, "not a list page", e);
    json_array_extend(r->items, items);
    r->offset += (long)json_array_size(items);
    if (count > r->count)
        r->count = count;
    if (json_array_size(items) && r->offset < r->count && r->offset < CHILD_MAX) {
        queue_child_page(r);
        return ERR_OK;
    }
    if (r->offset < r->count)
        return child_failed(r, r->offset, "the list ended before its count", e);
    return child_done(r, e);
}

static void queue_child_page(struct child_read *r)
{
    char query[64];
    snprintf(query, sizeof(query), "limit=%ld&offset=%ld", r->run->cfg->bsale_page_size, r->offset);
    if (r->parent)
        r->run->stats.moves_requests++;
    else
        r->run->stats.extras_requests++;
    bsale_queue_get_doubtful(r->run->client, r->path, query, on_child_page, on_child_bad, r);
}

/*
 * Reads child table child_ti of parent_id whole; parent (borrowed) waits for it when given.
 * coll is what the parent embeds: a cut envelope's count is the least the list must give.
 */
static void read_children(struct etl_run_ctx *run, int child_ti, int parent_ti, int64_t parent_id,
                          json_t *parent, json_t *coll)
{
    struct child_read *r = xcalloc(1, sizeof(*r));
    if (!json_util_int64(json_object_get(coll, "count"), &r->count) || r->count < 0)
        r->count = 0;
    r->run = run;
    r->child_ti = child_ti;
    r->parent_ti = parent_ti;
    r->parent_id = parent_id;
    r->parent = json_incref(parent);
    r->items = json_array();
    (void)catalog_list_path(table_at(child_ti), parent_id, r->path, sizeof(r->path));
    r->next = run->plan_state->child_reads;
    run->plan_state->child_reads = r;
    queue_child_page(r);
}

/* A movement with every line embedded is written now; else it waits for its lines list. */
static void on_move(struct etl_run_ctx *run, int ti, json_t *item)
{
    int child = child_of(ti);
    int64_t id;
    json_t *coll = child >= 0 ? json_object_get(item, table_at(child)->source.embedded) : NULL;
    if (child < 0 || transform_collection_complete(coll, NULL) ||
        !json_util_int64(json_object_get(item, "id"), &id) || id <= 0) {
        (void)transform_item(run->pending, ti, item, 0); /* an unusable id: an incident */
        return;
    }
    read_children(run, child, ti, id, item, coll);
}

static enum err_code on_moves_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    enum err_code rc = plan_check_cancel(run, e);
    if (rc)
        return rc;
    run->stats.moves_requests++;
    size_t i;
    json_t *item;
    json_array_foreach (json_object_get(page, "items"), i, item) {
        on_move(run, s->table, item);
    }
    return plan_after_page(run, e);
}

/*
 * The days a daily sync reads movements for: its window and the reconcile's
 * horizon before it, as documents; explicit dates are exactly those days.
 */
static enum err_code moves_window(const struct etl_plan *plan, long long *from, long long *to,
                                  struct err *e)
{
    long long ignored;
    const char *first = plan->reconcile_from[0] ? plan->reconcile_from : plan->date_from;
    enum err_code rc = date_day_window(first, from, &ignored, e);
    return rc ? rc : date_day_window(plan->date_to, &ignored, to, e);
}

enum err_code sync_moves_queue(struct etl_run_ctx *run, const struct etl_plan *plan, struct err *e)
{
    long long from = 0, to = 0;
    if (!plan->master) {
        if (!plan->documents)
            return ERR_OK;
        enum err_code rc = moves_window(plan, &from, &to, e);
        if (rc)
            return rc;
    }
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t t = 0; t < n; t++) {
        const struct cat_source *src = &tables[t]->source;
        if (src->fetch != CAT_FETCH_DATED)
            continue;
        char query[160];
        int len = snprintf(query, sizeof(query), "expand=%s", src->expand);
        if (!plan->master) /* a full sync reads the whole list */
            snprintf(query + len, sizeof(query) - (size_t)len, "&%s=[%lld,%lld]", src->date_filter,
                     from, to);
        plan_queue_stream(run, src->path, query, on_moves_page, plan_stream_new(run, (int)t, 0));
    }
    return ERR_OK;
}

/*
 * A document's taxes and sellers: embedded whole, they went with it
 * (transform_item). Cut ones are read through their link (rare); a bare
 * link only when ETL_DOCUMENT_EXTRAS=read, else the document is counted.
 */
void sync_moves_document_extras(struct etl_run_ctx *run, json_t *doc, int64_t doc_id)
{
    static const enum cat_role roles[] = {CAT_ROLE_DOCUMENT_TAXES, CAT_ROLE_DOCUMENT_SELLERS};
    bool unread = false;
    for (size_t k = 0; k < ARRAY_LEN(roles); k++) {
        const struct cat_table *t = catalog_by_role(roles[k]);
        json_t *coll = json_object_get(doc, t->source.embedded);
        if (!coll || transform_collection_complete(coll, NULL))
            continue;
        if (!transform_items(coll) && run->cfg->etl_document_extras != ETL_EXTRAS_READ) {
            unread = true;
            continue;
        }
        read_children(run, catalog_role_index(roles[k]), -1, doc_id, NULL, coll);
    }
    run->stats.extras_unread += unread;
}

void sync_moves_release(struct etl_plan_state *ps)
{
    while (ps->child_reads) {
        struct child_read *r = ps->child_reads;
        ps->child_reads = r->next;
        child_drop(r);
        free(r);
    }
}

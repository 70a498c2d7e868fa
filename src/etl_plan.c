/*
 * The plan: which Bsale lists a run reads and what becomes of each page.
 * Every stream is queued on one client so they share its concurrency and
 * rate limit. Documents whose embedded lines were cut at 25 wait here until
 * their /details.json list ends; only complete documents reach a batch, and
 * a document whose lines do not add up becomes an incident instead.
 */
#include "common.h"

#define LOG_MODULE "sync"
#include "date.h"
#include "clock.h"
#include "bsale_client.h"
#include "id_set.h"
#include "json_util.h"
#include "log.h"
#include "sync_progress.h"
#include "sync_lines.h"
#include "sync_reconcile.h"
#include "transform.h"
#include "etl_plan.h"
#include "etl_plan_parts.h"
#include "etl_incidents.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_ROWS 5000
#define KEEPALIVE_S 60.0
/* Missing references from one page at which the whole list is cheaper than single GETs. */
#define MISSING_REFS_LIST 25
/* Pages of one document's lines read at most (5,000 lines): far past real documents. */
#define DETAILS_MAX_PAGES 100

/*
 * A document waiting for its /details.json list. It completes when the
 * client says the list ended, judged by its lines: the embedded ones and the
 * list's, each id once, must reach both counts. The list starts past the
 * embedded lines when that saves a page; if what it gives there does not
 * follow them (an embedded id again, or the union short), it is read once
 * more from 0 before the document is judged. It stays allocated until the
 * plan ends, so a late callback can never touch freed memory.
 */
struct doc_wait {
    struct etl_run_ctx *run;
    json_t *doc;          /* owned reference; NULL once done */
    json_t *lines;        /* owned: embedded lines, then those the list adds, each id once */
    struct id_set ids;    /* ids in lines */
    struct id_set listed; /* ids the list gave, to see it repeat itself */
    int64_t doc_id;
    int64_t expected;                    /* the document's embedded count */
    long idless_embedded, idless_listed; /* lines without a usable id, by origin */
    long unreadable;                     /* lines whose body never parsed */
    long unreadable_at;                  /* the first one's offset */
    char unreadable_cause[96];
    long start;   /* the list's first offset: the embedded lines' number, or 0 */
    bool overlap; /* read from start, the list gave an embedded line again */
    bool repeated;
    bool restarted; /* read again from 0 */
    bool done;
    struct doc_wait *prev, *next;
};

/* A document's embedded lines (an envelope capped at 25, or a bare array). Borrowed. */
static json_t *embedded_lines(json_t *doc)
{
    return transform_items(json_object_get(doc, catalog_by_role(CAT_ROLE_LINES)->source.embedded));
}

/* "/documents/12.json": where incidents about one document are filed. */
static void document_path(int64_t doc_id, char *dst, size_t n)
{
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    if (!catalog_record_path(docs, doc_id, dst, n))
        snprintf(dst, n, "%s", docs->source.path);
}

/* "expand=[details,payments]" for t, empty when t expands nothing. */
static void expand_query(const struct cat_table *t, char *dst, size_t n)
{
    if (t->source.expand)
        snprintf(dst, n, "expand=%s", t->source.expand);
    else if (n)
        *dst = '\0';
}

struct stream_ctx *plan_stream_new(struct etl_run_ctx *run, int table, int64_t parent)
{
    struct stream_ctx *s = xcalloc(1, sizeof(*s));
    s->run = run;
    s->table = table;
    s->parent = parent;
    s->next = run->plan_state->streams;
    run->plan_state->streams = s;
    return s;
}

enum err_code plan_flush(struct etl_run_ctx *run, bool force, struct err *e)
{
    struct etl_batch *b = run->pending;
    enum err_code rc = sync_costs_scan(run, e);
    if (rc || (!b->n_rows && !b->n_incidents))
        return rc;
    if (!force && b->n_docs < (size_t)run->cfg->etl_batch_docs && b->n_rows < FLUSH_ROWS)
        return ERR_OK;
    sync_costs_batch_sent(run);
    run->pending = etl_batch_new();
    return etl_writer_push(run->writer, b, e);
}

enum err_code plan_check_cancel(struct etl_run_ctx *run, struct err *e)
{
    if (run->cancel && atomic_load(run->cancel))
        return err_set(e, ERR_INTERRUPTED, "interrupted");
    return ERR_OK;
}

/* The run thread's connection holds the lock and the run record: keep it from idling out. */
static void keep_alive(struct etl_run_ctx *run)
{
    double now = clock_monotonic();
    if (now - run->last_ping < KEEPALIVE_S)
        return;
    run->last_ping = now;
    struct err e = ERR_INIT;
    if (db_ping(run->db, &e))
        log_warn("the run's database connection failed a ping: %s", e.msg);
}

enum err_code plan_after_page(struct etl_run_ctx *run, struct err *e)
{
    sync_progress(&run->progress, run->client, &run->counters, false);
    keep_alive(run);
    return plan_flush(run, false, e);
}

static enum err_code on_single(void *p, json_t *item, struct err *e)
{
    struct stream_ctx *s = p;
    if (!item) /* 404: referenced but gone from Bsale; nothing to copy */
        return ERR_OK;
    (void)transform_item(s->run->pending, s->table, item, 0);
    return plan_after_page(s->run, e);
}

/* A record read by id whose body never parsed: an incident on its path, with the id asked for. */
static enum err_code on_single_bad(void *p, const char *path, long offset, const char *cause,
                                   struct err *e)
{
    (void)offset;
    struct stream_ctx *s = p;
    const char *slash = strrchr(path, '/');
    long long id = slash ? strtoll(slash + 1, NULL, 10) : 0;
    plan_doubtful(s->run, path, id > 0 ? id : ETL_NO_ID, "record not read: %s", cause);
    return plan_flush(s->run, false, e);
}

/*
 * A record Bsale sent that does not add up: logged, and an incident in the
 * batch being filled (the writer stores it; the next run retries documents).
 */
void plan_doubtful(struct etl_run_ctx *run, const char *resource, int64_t id, const char *fmt, ...)
{
    char problem[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof(problem), fmt, ap);
    va_end(ap);
    log_warn("doubtful %s: %s", resource, problem);
    etl_batch_add_incident(run->pending, resource, id, "%s", problem);
}

/* A list that ended short of its count, or at its page bound, may lack records. */
enum err_code plan_on_stream_end(void *p, const struct bsale_list_end *end, struct err *e)
{
    struct stream_ctx *s = p;
    if (end->flags & (BSALE_LIST_SHORT | BSALE_LIST_BOUNDED | BSALE_LIST_GROWING))
        plan_doubtful(s->run, s->path, ETL_NO_ID,
                      "list ended with %lld items of a count of %lld after %lld pages%s",
                      end->items, end->count, end->pages,
                      end->flags & BSALE_LIST_GROWING   ? " (stopped: its count kept growing)"
                      : end->flags & BSALE_LIST_BOUNDED ? " (page bound reached)"
                                                        : "");
    sync_costs_on_end(s);
    return plan_flush(s->run, false, e);
}

/* Queues a list whose pages go to fn with s, and whose end is checked. */
/* An item of a list whose body never parsed: left out, an incident without an id. */
enum err_code plan_on_stream_bad(void *p, const char *path, long offset, const char *cause,
                                 struct err *e)
{
    struct stream_ctx *s = p;
    plan_doubtful(s->run, path, ETL_NO_ID, "item at offset %ld not read: %s", offset, cause);
    return plan_flush(s->run, false, e);
}

/* item_query: how an item whose page would not parse is read alone the second time (or NULL). */
static void queue_stream_items(struct etl_run_ctx *run, const char *path, const char *query,
                               const char *item_query, bsale_json_fn fn, struct stream_ctx *s)
{
    snprintf(s->path, sizeof(s->path), "%s", path);
    struct bsale_list_spec spec = {.on_page = fn,
                                   .on_end = plan_on_stream_end,
                                   .on_bad = plan_on_stream_bad,
                                   .item_query = item_query,
                                   .ctx = s};
    bsale_queue_list_spec(run->client, path, query, &spec);
}

void plan_queue_stream(struct etl_run_ctx *run, const char *path, const char *query,
                       bsale_json_fn fn, struct stream_ctx *s)
{
    queue_stream_items(run, path, query, NULL, fn, s);
}

/* Sub-resources read for each listed parent (a price list's prices), not embedded in it. */
static void queue_children(struct etl_run_ctx *run, int parent_table, json_t *parents)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t t = 0; t < n; t++) {
        const struct cat_source *src = &tables[t]->source;
        if (src->fetch != CAT_FETCH_CHILD || src->embedded ||
            src->parent != tables[parent_table]->role)
            continue;
        size_t i;
        json_t *parent;
        json_array_foreach (parents, i, parent) {
            int64_t id;
            char path[64];
            if (json_util_int64(json_object_get(parent, "id"), &id) &&
                catalog_list_path(tables[t], id, path, sizeof(path)))
                plan_queue_stream(run, path, NULL, plan_on_list_page,
                                  plan_stream_new(run, (int)t, id));
        }
    }
}

enum err_code plan_on_list_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    enum err_code rc = plan_check_cancel(run, e);
    if (rc)
        return rc;
    json_t *items = json_object_get(page, "items");
    if ((rc = transform_page(run->pending, s->table, items, s->parent, e)))
        return rc;
    sync_costs_on_page(s, items);
    queue_children(run, s->table, items);
    return plan_after_page(run, e);
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
    int table = catalog_role_index(which == 0 ? CAT_ROLE_CLIENTS : CAT_ROLE_VARIANTS);
    const struct cat_rows *rows = etl_batch_rows(run->pending, table);
    int64_t *missing = NULL;
    size_t n_missing = 0;
    enum err_code rc = db_missing_ids(run->db, rows->table, ids, fresh, &missing, &n_missing, e);
    if (rc)
        return rc;
    const char *resource = rows->table->resource;
    if (ps->whole_list[which] || n_missing >= MISSING_REFS_LIST) {
        /* Many missing (a young warehouse): paging the whole list costs fewer requests. */
        if (!ps->whole_list[which]) {
            plan_queue_stream(run, rows->table->source.path, NULL, plan_on_list_page,
                              plan_stream_new(run, table, 0));
            log_info("fetching the whole %s list: %zu referenced ones are missing", resource,
                     n_missing);
        }
        ps->whole_list[which] = true;
        n_missing = 0;
    }
    struct stream_ctx *s = n_missing ? plan_stream_new(run, table, 0) : NULL;
    for (size_t i = 0; i < n_missing; i++) {
        char path[64];
        if (catalog_record_path(rows->table, missing[i], path, sizeof(path)))
            bsale_queue_get_or_bad(run->client, path, NULL, on_single, on_single_bad, s);
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
        json_t *embedded = embedded_lines(doc);
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
    id_set_release(&w->ids);
    id_set_release(&w->listed);
    w->doc = w->lines = NULL;
    w->done = true;
    w->prev = NULL;
    w->next = ps->finished;
    ps->finished = w;
}

/* Adds a line unless its id is already there; lines without an id are only kept when embedded. */
static void wait_add_line(struct doc_wait *w, json_t *line, bool listed)
{
    int64_t id;
    if (!json_util_int64(json_object_get(line, "id"), &id) || id <= 0) {
        /* It goes on to the mapper, which records it; the list repeats the embedded ones. */
        if (!listed)
            w->idless_embedded++;
        if (!listed || ++w->idless_listed > w->idless_embedded)
            json_array_append(w->lines, line);
        return;
    }
    if (listed && !id_set_add(&w->listed, id))
        w->repeated = true;
    if (id_set_add(&w->ids, id))
        json_array_append(w->lines, line);
    else if (listed && w->start > 0)
        w->overlap = true;
}

/* w's lines back to the embedded ones, which the list's are added to. */
static void wait_reset(struct doc_wait *w)
{
    json_decref(w->lines);
    w->lines = json_array();
    id_set_release(&w->ids);
    id_set_release(&w->listed);
    w->idless_embedded = w->idless_listed = 0;
    w->overlap = w->repeated = false;
    size_t i;
    json_t *line;
    json_array_foreach (embedded_lines(w->doc), i, line) {
        wait_add_line(w, line, false);
    }
}

static enum err_code on_details_page(void *p, json_t *page, struct err *e)
{
    struct doc_wait *w = p;
    struct etl_run_ctx *run = w->run;
    enum err_code rc = plan_check_cancel(run, e);
    if (rc)
        return rc;
    if (w->done) {
        log_warn("document lines: a page arrived after its document was done; ignored");
        return ERR_OK;
    }
    json_t *items = json_object_get(page, "items");
    size_t i;
    json_t *line;
    json_array_foreach (items, i, line) {
        wait_add_line(w, line, true);
    }
    if ((rc = check_refs(run, NULL, items, e)))
        return rc;
    return plan_after_page(run, e);
}

/* A line whose body never parsed: its document cannot be written whole (see lines_doubtful). */
static enum err_code on_details_bad(void *p, const char *path, long offset, const char *cause,
                                    struct err *e)
{
    (void)path;
    (void)e;
    struct doc_wait *w = p;
    if (!w->unreadable++) {
        w->unreadable_at = offset;
        snprintf(w->unreadable_cause, sizeof(w->unreadable_cause), "%s", cause);
    }
    return ERR_OK;
}

/* Why a document's lines cannot be trusted, into why; false when they can. */
static bool lines_doubtful(const struct doc_wait *w, const struct bsale_list_end *end, char *why,
                           size_t n)
{
    int64_t need = w->expected > end->count ? w->expected : end->count;
    size_t have = json_array_size(w->lines);
    if (end->flags & BSALE_LIST_GROWING)
        snprintf(why, n, "its lines list's count kept growing");
    else if (end->flags & BSALE_LIST_BOUNDED)
        snprintf(why, n, "its lines list did not end within %d pages", DETAILS_MAX_PAGES);
    else if (w->unreadable)
        snprintf(why, n, "%ld unreadable lines, the first at offset %ld: %s", w->unreadable,
                 w->unreadable_at, w->unreadable_cause);
    else if (w->repeated)
        snprintf(why, n, "its lines list repeated line ids");
    else if ((int64_t)have < need)
        snprintf(why, n, "%zu lines of %lld counted", have, (long long)need);
    else
        return false;
    return true;
}

static void queue_lines(struct doc_wait *w);

/* Read from past the embedded lines, the list did not follow them: it is read again from 0. */
static bool wants_restart(const struct doc_wait *w, const struct bsale_list_end *end)
{
    if (w->start == 0 || w->restarted || w->unreadable ||
        (end->flags & (BSALE_LIST_GROWING | BSALE_LIST_BOUNDED)))
        return false;
    int64_t need = w->expected > end->count ? w->expected : end->count;
    return w->overlap || w->repeated || (int64_t)json_array_size(w->lines) < need;
}

/* The lines list ended: the document is written whole, or not at all and becomes an incident. */
static enum err_code on_details_end(void *p, const struct bsale_list_end *end, struct err *e)
{
    struct doc_wait *w = p;
    struct etl_run_ctx *run = w->run;
    if (w->done)
        return ERR_OK;
    if (wants_restart(w, end)) {
        log_info("document %lld: its lines list from offset %ld did not follow the embedded "
                 "lines; reading it from 0",
                 (long long)w->doc_id, w->start);
        w->start = 0;
        w->restarted = true;
        wait_reset(w);
        queue_lines(w);
        return ERR_OK;
    }
    char why[200];
    if (!lines_doubtful(w, end, why, sizeof(why))) {
        enum err_code rc = transform_document(run->pending, w->doc, w->lines, e);
        wait_unlink(run->plan_state, w);
        return rc ? rc : plan_flush(run, false, e);
    }
    char resource[48];
    document_path(w->doc_id, resource, sizeof(resource));
    plan_doubtful(run, resource, w->doc_id,
                  "document not written: %s (lines list: %lld items, count %lld, %lld pages)", why,
                  end->items, end->count, end->pages);
    wait_unlink(run->plan_state, w);
    return plan_flush(run, false, e);
}

static long pages_for(int64_t items, long page)
{
    return items > 0 ? (long)((items + page - 1) / page) : 0;
}

/*
 * Where a lines list starts: past the k embedded lines when that saves a page
 * (a 60-line document: 25..59 in one page instead of two). Read from 0, a
 * single full page is followed by an empty one (bsale_client.c, count_doubtful).
 */
static long lines_start(long k, int64_t count, long page)
{
    long from0 = pages_for(count, page) + (count == page);
    return k > 0 && k < count && pages_for(count - k, page) < from0 ? k : 0;
}

/* Queues w's lines list from w->start, ahead of other requests. */
static void queue_lines(struct doc_wait *w)
{
    char path[64];
    (void)catalog_list_path(catalog_by_role(CAT_ROLE_LINES), w->doc_id, path, sizeof(path));
    struct bsale_list_spec spec = {.on_page = on_details_page,
                                   .on_end = on_details_end,
                                   .on_bad = on_details_bad,
                                   .ctx = w,
                                   .max_pages = DETAILS_MAX_PAGES,
                                   .first = true,
                                   .start = w->start};
    bsale_queue_list_spec(w->run->client, path, NULL, &spec);
}

static void wait_for_lines(struct etl_run_ctx *run, json_t *doc, int64_t doc_id, int64_t expected)
{
    struct etl_plan_state *ps = run->plan_state;
    struct doc_wait *w = xcalloc(1, sizeof(*w));
    w->run = run;
    w->doc = json_incref(doc);
    w->doc_id = doc_id;
    w->expected = expected;
    wait_reset(w);
    w->start = lines_start((long)json_array_size(embedded_lines(doc)), expected,
                           run->cfg->bsale_page_size);
    w->next = ps->waits;
    if (ps->waits)
        ps->waits->prev = w;
    ps->waits = w;
    ps->n_waits++;
    queue_lines(w);
}

/*
 * A listed document: written now when its lines are embedded whole; its
 * header alone when they are stored complete already (stored, may be NULL),
 * its lines kept; else it waits for its lines list. Its references are read
 * unless stored already.
 */
static enum err_code on_document(struct etl_run_ctx *run, json_t *doc,
                                 const struct sync_stored *stored, struct err *e)
{
    int64_t doc_id, expected;
    if (!transform_document_id(run->pending, doc, &doc_id))
        return ERR_OK; /* skipped, with an incident */
    if (!stored || !id_set_has(&stored->refs, doc_id))
        sync_references_read(run, doc, doc_id);
    sync_moves_document_extras(run, doc, doc_id);
    if (transform_lines_complete(doc, &expected))
        return transform_document(run->pending, doc, NULL, e);
    if (stored && id_set_has(&stored->lines, doc_id)) {
        (void)transform_item(run->pending, catalog_role_index(CAT_ROLE_DOCUMENTS), doc, 0);
        return ERR_OK;
    }
    wait_for_lines(run, doc, doc_id, expected);
    return ERR_OK;
}

/* A full sync reads every document's lines and references; a daily one trusts those stored. */
static bool trusts_stored_lines(const struct etl_plan *plan)
{
    return !plan->master && !plan->whole_lines;
}

static enum err_code on_documents_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    enum err_code rc = plan_check_cancel(run, e);
    if (rc)
        return rc;
    json_t *items = json_object_get(page, "items");
    struct sync_stored stored = {0};
    bool daily = trusts_stored_lines(run->plan_state->plan);
    if (daily)
        rc = sync_lines_stored(run->db, items, &stored, e);
    size_t i;
    json_t *doc;
    json_array_foreach (items, i, doc) {
        if (!rc)
            rc = on_document(run, doc, daily ? &stored : NULL, e);
    }
    sync_stored_release(&stored);
    if (!rc)
        rc = check_refs(run, items, NULL, e);
    return rc ? rc : plan_after_page(run, e);
}

/* A document re-read by id: written again if Bsale still has it, else remembered as gone. */
static enum err_code on_verified(void *p, json_t *doc, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    enum err_code rc = plan_check_cancel(run, e);
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
    rc = on_document(run, doc, NULL, e);
    if (!rc)
        rc = check_refs(run, one, NULL, e);
    json_decref(one);
    return rc ? rc : plan_after_page(run, e);
}

/* A document read again by id with its expansions; one that stays 5xx (gone, or Bsale
 * failing) is an incident, retried next run. */
static void queue_reread(struct etl_run_ctx *run, int64_t id)
{
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    char expand[64], path[64];
    expand_query(docs, expand, sizeof(expand));
    document_path(id, path, sizeof(path));
    bsale_queue_get_doubtful(run->client, path, *expand ? expand : NULL, on_verified, on_single_bad,
                             plan_stream_new(run, catalog_role_index(CAT_ROLE_DOCUMENTS), id));
}

static void queue_verifications(struct etl_run_ctx *run, const struct etl_plan *plan)
{
    for (size_t i = 0; i < plan->n_verify; i++)
        queue_reread(run, plan->verify_ids[i]);
}

static enum err_code on_light_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    enum err_code rc = plan_check_cancel(run, e);
    if (rc)
        return rc;
    sync_reconcile_add(run->plan_state->reconcile, json_object_get(page, "items"));
    run->stats.reconcile_pages++;
    run->stats.reconcile_requests++;
    return plan_after_page(run, e);
}

/*
 * The light list ended: documents that differ from the warehouse or are
 * missing are re-read; stored ones it no longer lists are verified by id
 * (404: removed) unless the list itself may lack records.
 */
static enum err_code on_light_end(void *p, const struct bsale_list_end *end, struct err *e)
{
    struct stream_ctx *s = p;
    struct etl_run_ctx *run = s->run;
    struct etl_plan_state *ps = run->plan_state;
    enum err_code rc = plan_on_stream_end(p, end, e);
    struct sync_reconcile_result res = {0};
    if (!rc)
        rc = sync_reconcile_compare(ps->reconcile, run->db, ps->reconcile_from, ps->reconcile_to,
                                    &res, e);
    sync_reconcile_free(ps->reconcile);
    ps->reconcile = NULL;
    if (rc)
        return rc;
    bool whole = !(end->flags & (BSALE_LIST_SHORT | BSALE_LIST_BOUNDED | BSALE_LIST_GROWING));
    for (size_t i = 0; i < res.n_reread; i++)
        queue_reread(run, res.reread[i]);
    for (size_t i = 0; whole && i < res.n_unlisted; i++)
        queue_reread(run, res.unlisted[i]);
    struct etl_plan_stats *st = &run->stats;
    st->reconcile_listed += res.listed;
    st->reconcile_changed += res.changed;
    st->reconcile_missing += res.missing;
    st->reconcile_unlisted += (long long)res.n_unlisted;
    st->reconcile_requests += (long long)(res.n_reread + (whole ? res.n_unlisted : 0));
    log_info("reconcile %s..%s: %lld listed, %lld changed, %lld missing, %zu no longer listed%s",
             ps->reconcile_from, ps->reconcile_to, res.listed, res.changed, res.missing,
             res.n_unlisted, whole ? "" : " (not verified: the list may lack records)");
    sync_reconcile_result_release(&res);
    return ERR_OK;
}

/* One light list over the reconcile's days: a few fields, no expansions. */
static enum err_code queue_reconcile(struct etl_run_ctx *run, const struct etl_plan *plan,
                                     struct err *e)
{
    struct etl_plan_state *ps = run->plan_state;
    long long from, to, ignored;
    enum err_code rc = date_day_window(plan->reconcile_from, &from, &ignored, e);
    if (!rc)
        rc = date_day_window(plan->reconcile_to, &ignored, &to, e);
    if (rc)
        return rc;
    memcpy(ps->reconcile_from, plan->reconcile_from, sizeof(ps->reconcile_from));
    memcpy(ps->reconcile_to, plan->reconcile_to, sizeof(ps->reconcile_to));
    ps->reconcile = sync_reconcile_new();
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    char query[256];
    snprintf(query, sizeof(query), "%s&%s=[%lld,%lld]", sync_reconcile_fields(),
             docs->source.date_filter, from, to);
    struct stream_ctx *s = plan_stream_new(run, catalog_role_index(CAT_ROLE_DOCUMENTS), 0);
    snprintf(s->path, sizeof(s->path), "%s", docs->source.path);
    struct bsale_list_spec spec = {
        .on_page = on_light_page, .on_end = on_light_end, .on_bad = plan_on_stream_bad, .ctx = s};
    bsale_queue_list_spec(run->client, docs->source.path, query, &spec);
    return ERR_OK;
}

/*
 * One day's list of a DAILY table (documents emitted) or of a JOURNAL one
 * (payments recorded). A range [first, last second] also matches the 03:00Z
 * values older records carry; payments without a date come with the tail.
 */
static void queue_day(struct etl_run_ctx *run, int table, long long from, long long to)
{
    const struct cat_table *t = etl_batch_rows(run->pending, table)->table;
    char query[160];
    expand_query(t, query, sizeof(query));
    size_t len = strlen(query);
    const char *sep = len ? "&" : "";
    if (t->source.date_kind == CAT_DATE_RANGE)
        snprintf(query + len, sizeof(query) - len, "%s%s=[%lld,%lld]", sep, t->source.date_filter,
                 from, to);
    else
        snprintf(query + len, sizeof(query) - len, "%s%s=%lld", sep, t->source.date_filter, from);
    bool docs = t->role == CAT_ROLE_DOCUMENTS;
    /* A document whose embedded line or payment is garbage is read again bare. */
    const char *bare = query + len + (len ? 1 : 0);
    queue_stream_items(run, t->source.path, query, docs && len ? bare : NULL,
                       docs ? on_documents_page : plan_on_list_page,
                       plan_stream_new(run, table, 0));
}

static enum err_code queue_document_windows(struct etl_run_ctx *run, const struct etl_plan *plan,
                                            struct err *e)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    char day[11];
    memcpy(day, plan->date_from, sizeof(day));
    long n_days = date_days_between(plan->date_from, plan->date_to);
    if (n_days < 1)
        return err_set(e, ERR_INVALID, "date range %s..%s is empty", plan->date_from,
                       plan->date_to);
    for (long d = 0; d < n_days; d++) {
        long long from, to;
        enum err_code rc = date_day_window(day, &from, &to, e);
        if (rc)
            return rc;
        for (size_t t = 0; t < n; t++)
            if (tables[t]->source.fetch == CAT_FETCH_DAILY ||
                (tables[t]->source.fetch == CAT_FETCH_JOURNAL && !plan->master &&
                 !plan->whole_lines))
                queue_day(run, (int)t, from, to);
        if ((rc = date_add(day, 1, day, e)))
            return rc;
    }
    return ERR_OK;
}

enum err_code plan_types_known(struct etl_run_ctx *run, struct err *e)
{
    const struct etl_plan *plan = run->plan_state->plan;
    enum err_code rc = ERR_OK;
    if (plan->documents)
        rc = queue_document_windows(run, plan, e);
    if (!rc && plan->reconcile_from[0])
        rc = queue_reconcile(run, plan, e);
    if (!rc)
        queue_verifications(run, plan);
    return rc;
}

static bool reads_documents(const struct etl_plan *plan)
{
    return plan->documents || plan->reconcile_from[0] || plan->n_verify;
}

/* A full sync reads every master list; a daily one with stock_prices the stock and price lists. */
static bool reads_master(const struct etl_plan *plan, enum cat_role role)
{
    return plan->master ||
           (plan->stock_prices && (role == CAT_ROLE_STOCK || role == CAT_ROLE_PRICE_LISTS));
}

static void queue_master(struct etl_run_ctx *run, const struct etl_plan *plan)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t t = 0; t < n; t++) {
        if (tables[t]->source.fetch != CAT_FETCH_MASTER || !reads_master(plan, tables[t]->role))
            continue;
        if (tables[t]->role == CAT_ROLE_DOCUMENT_TYPES && reads_documents(plan))
            continue; /* read ahead of the documents (queue_types) */
        char expand[64];
        expand_query(tables[t], expand, sizeof(expand));
        plan_queue_stream(run, tables[t]->source.path, *expand ? expand : NULL, plan_on_list_page,
                          plan_stream_new(run, (int)t, 0));
    }
}

static void state_init(struct etl_plan_state *ps, const struct etl_plan *plan)
{
    memset(ps, 0, sizeof(*ps));
    ps->fetch_missing_refs = plan->fetch_missing_refs;
    ps->plan = plan;
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
    id_set_release(&ps->known[0]);
    id_set_release(&ps->known[1]);
    sync_reconcile_free(ps->reconcile);
    sync_references_release(ps);
    sync_moves_release(ps);
    sync_costs_release(ps);
}

/* Every list has ended, so no document should still wait; one that does is not written. */
static void drop_stray_waits(struct etl_run_ctx *run)
{
    while (run->plan_state->waits) {
        struct doc_wait *w = run->plan_state->waits;
        char resource[48];
        document_path(w->doc_id, resource, sizeof(resource));
        plan_doubtful(run, resource, w->doc_id, "document not written: its lines list never ended");
        wait_unlink(run->plan_state, w);
    }
}

enum err_code etl_plan_execute(struct etl_run_ctx *ctx, const struct etl_plan *plan, struct err *e)
{
    struct etl_plan_state ps = {0};
    state_init(&ps, plan);
    ctx->plan_state = &ps;
    ctx->pending = etl_batch_new();
    enum err_code rc = ERR_OK;
    if (plan->master || plan->stock_prices)
        queue_master(ctx, plan);
    rc = sync_costs_start(ctx, e);
    if (!rc && !plan->later_window && (plan->master || plan->documents))
        rc = sync_journal_queue(ctx, plan, e);
    if (!rc && !(plan->later_window && plan->whole_lines)) /* a full sync's came whole */
        rc = sync_moves_queue(ctx, plan, e);
    if (!rc && reads_documents(plan))
        rc = sync_references_queue_types(ctx, e);
    if (!rc)
        rc = bsale_run(ctx->client, e);
    if (!rc)
        drop_stray_waits(ctx);
    if (!rc)
        rc = plan_flush(ctx, true, e);
    sync_progress(&ctx->progress, ctx->client, &ctx->counters, true);
    etl_batch_free(ctx->pending);
    ctx->pending = NULL;
    state_release(&ps);
    ctx->plan_state = NULL;
    return rc;
}

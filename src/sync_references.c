/*
 * Document types and references. A document's references come embedded
 * whole, cut at 25, or as a bare link; only credit and debit notes have any
 * (docs/bsale-api.md), so a link is read only for those, or for a type the
 * run does not know. The types come from the warehouse and from one read
 * of /document_types.json ahead of the documents.
 */
#include "common.h"

#define LOG_MODULE "sync"
#include "db_sync.h"
#include "etl_plan_parts.h"
#include "json_util.h"
#include "log.h"
#include "transform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* References of one document read at most: far past real documents. */
#define REFS_MAX 5000

/* A document's references read through its link, kept until the list ends. */
struct ref_wait {
    struct etl_run_ctx *run;
    int64_t doc_id;
    json_t *items; /* owned; NULL once done */
    long offset;   /* of the next page */
    char path[64];
    struct ref_wait *next;
};

static void note_type(struct etl_plan_state *ps, int64_t id, bool credit, const char *sii)
{
    if (id <= 0)
        return;
    (void)id_set_add(&ps->types_known, id);
    if (credit || (sii && (strcmp(sii, "56") == 0 || strcmp(sii, "61") == 0)))
        (void)id_set_add(&ps->types_noted, id);
}

static int on_stored_type(void *p, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    long long id = ncols >= 3 && cells[0] ? strtoll(cells[0], NULL, 10) : 0;
    if (id > 0)
        note_type(p, id, cells[1] && strcmp(cells[1], "1") == 0, cells[2]);
    return 0;
}

static enum err_code on_types_page(void *p, json_t *page, struct err *e)
{
    struct stream_ctx *s = p;
    size_t i;
    json_t *type;
    json_array_foreach (json_object_get(page, "items"), i, type) {
        int64_t id, credit = 0;
        json_t *sii = json_object_get(type, "codeSii");
        char code[24] = "";
        if (json_is_string(sii))
            snprintf(code, sizeof(code), "%s", json_string_value(sii));
        else if (json_is_integer(sii))
            snprintf(code, sizeof(code), "%lld", (long long)json_integer_value(sii));
        (void)json_util_int64(json_object_get(type, "isCreditNote"), &credit);
        if (json_util_int64(json_object_get(type, "id"), &id))
            note_type(s->run->plan_state, id, credit == 1, code);
    }
    return plan_on_list_page(p, page, e);
}

/* The types are known: the document windows, the reconcile and the re-reads go out. */
static enum err_code on_types_end(void *p, const struct bsale_list_end *end, struct err *e)
{
    struct stream_ctx *s = p;
    enum err_code rc = plan_on_stream_end(p, end, e);
    return rc ? rc : plan_types_known(s->run, e);
}

/* The stored types, then one read of /document_types.json ahead of the documents. */
enum err_code sync_references_queue_types(struct etl_run_ctx *run, struct err *e)
{
    enum err_code rc = db_document_types(run->db, on_stored_type, run->plan_state, e);
    if (rc)
        return rc;
    int table = catalog_role_index(CAT_ROLE_DOCUMENT_TYPES);
    struct stream_ctx *s = plan_stream_new(run, table, 0);
    const char *path = catalog_by_role(CAT_ROLE_DOCUMENT_TYPES)->source.path;
    snprintf(s->path, sizeof(s->path), "%s", path);
    struct bsale_list_spec spec = {
        .on_page = on_types_page, .on_end = on_types_end, .on_bad = plan_on_stream_bad, .ctx = s};
    bsale_queue_list_spec(run->client, path, NULL, &spec);
    return ERR_OK;
}

/* true for a credit or debit note, or a type the run does not know: its references are read. */
static bool has_references(struct etl_plan_state *ps, json_t *doc)
{
    int64_t type;
    if (!json_util_int64(json_object_get(json_object_get(doc, "document_type"), "id"), &type))
        return true;
    return !id_set_has(&ps->types_known, type) || id_set_has(&ps->types_noted, type);
}

static void queue_refs_page(struct ref_wait *w);
static enum err_code on_refs_bad(void *p, const char *path, long offset, const char *cause,
                                 struct err *e);

/* The references are whole: they replace the document's (an incident names the doc otherwise). */
static enum err_code refs_done(struct ref_wait *w, struct err *e)
{
    transform_children(w->run->pending, catalog_role_index(CAT_ROLE_REFERENCES), w->items,
                       w->doc_id);
    json_decref(w->items);
    w->items = NULL;
    return plan_flush(w->run, false, e);
}

/*
 * One page of a document's references, read by count/offset as an object:
 * a document gone since it was listed answers 404 (nothing to replace) or a
 * 5xx that outlasts the retries (an incident, see on_refs_bad).
 */
static enum err_code on_refs_page(void *p, json_t *page, struct err *e)
{
    struct ref_wait *w = p;
    enum err_code rc = plan_check_cancel(w->run, e);
    if (rc || !w->items)
        return rc;
    json_t *items = json_object_get(page, "items");
    int64_t count = 0;
    if (!page) {
        log_info("%s: the document is gone (404); its references are left as they are", w->path);
        json_decref(w->items);
        w->items = NULL;
        return ERR_OK;
    }
    if (!json_is_array(items) || !json_util_int64(json_object_get(page, "count"), &count))
        return on_refs_bad(w, w->path, -1, "not a list page", e);
    json_array_extend(w->items, items);
    w->offset += (long)json_array_size(items);
    if (json_array_size(items) && w->offset < count && w->offset < REFS_MAX) {
        queue_refs_page(w);
        return ERR_OK;
    }
    if (w->offset < count)
        return on_refs_bad(w, w->path, w->offset, "the list ended before its count", e);
    return refs_done(w, e);
}

static enum err_code on_refs_bad(void *p, const char *path, long offset, const char *cause,
                                 struct err *e)
{
    (void)path;
    struct ref_wait *w = p;
    if (!w->items)
        return ERR_OK;
    json_decref(w->items);
    w->items = NULL;
    /* Without an id, the incident names the document: the next run reads it again. */
    plan_doubtful(w->run, w->path, ETL_NO_ID, "references not read (offset %ld): %s", offset,
                  cause);
    return plan_flush(w->run, false, e);
}

static void queue_refs_page(struct ref_wait *w)
{
    char query[64];
    snprintf(query, sizeof(query), "limit=%ld&offset=%ld", w->run->cfg->bsale_page_size, w->offset);
    bsale_queue_get_doubtful(w->run->client, w->path, query, on_refs_page, on_refs_bad, w);
}

/*
 * A document's references come embedded whole, or cut at 25, or as a bare
 * link: cut ones are read through the link, linked ones only for the
 * documents that have any (credit and debit notes; docs/bsale-api.md).
 */
void sync_references_read(struct etl_run_ctx *run, json_t *doc, int64_t doc_id)
{
    const struct cat_table *refs = catalog_by_role(CAT_ROLE_REFERENCES);
    json_t *coll = json_object_get(doc, refs->source.embedded);
    if (transform_items(coll) ? transform_collection_complete(coll, NULL)
                              : !has_references(run->plan_state, doc))
        return;
    struct ref_wait *w = xcalloc(1, sizeof(*w));
    w->run = run;
    w->doc_id = doc_id;
    w->items = json_array();
    (void)catalog_list_path(refs, doc_id, w->path, sizeof(w->path));
    w->next = run->plan_state->ref_waits;
    run->plan_state->ref_waits = w;
    queue_refs_page(w);
}

void sync_references_release(struct etl_plan_state *ps)
{
    id_set_release(&ps->types_known);
    id_set_release(&ps->types_noted);
    while (ps->ref_waits) {
        struct ref_wait *w = ps->ref_waits;
        ps->ref_waits = w->next;
        json_decref(w->items);
        free(w);
    }
}

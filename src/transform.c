/*
 * Document splitting. Quirks handled here, with the catalog doing per-column
 * conversion: embedded collections are envelopes capped at 25 items whose
 * count tells the truth (docs/bsale-api.md, Expand and sub-resources), and embedded payments may
 * lack their `document` reference, which is then the parent document.
 */
#include "common.h"

#include "transform.h"

#include "id_set.h"
#include "json_util.h"

#include <stdlib.h>
#include <string.h>

json_t *transform_items(json_t *collection)
{
    if (json_is_array(collection))
        return collection;
    json_t *items = json_object_get(collection, "items");
    return json_is_array(items) ? items : NULL;
}

/* *count gets the collection's true size, -1 when unknown (a bare link). */
static bool collection_complete(json_t *coll, int64_t *count)
{
    json_t *items = transform_items(coll);
    int64_t have = items ? (int64_t)json_array_size(items) : 0;
    int64_t n = -1;
    if (json_is_object(coll) && json_util_int64(json_object_get(coll, "count"), &n) && n < 0)
        n = -1;
    if (n < 0 && json_is_array(coll))
        n = have;
    if (count)
        *count = n;
    return items && n >= 0 && have >= n;
}

bool transform_lines_complete(json_t *doc, int64_t *count)
{
    json_t *details = json_object_get(doc, catalog_by_role(CAT_ROLE_LINES)->source.embedded);
    if (!details) {
        if (count)
            *count = -1;
        return false;
    }
    return collection_complete(details, count);
}

bool transform_payments_complete(json_t *doc)
{
    json_t *payments =
        json_object_get(doc, catalog_by_role(CAT_ROLE_DOCUMENT_PAYMENT_TOTALS)->source.embedded);
    if (!payments || !transform_items(payments))
        return true;
    return collection_complete(payments, NULL);
}

/* Where a record's incidents go: the batch, under the record's canonical Bsale path. */
struct incident_sink {
    struct etl_batch *b;
    char resource[96];
};

static void add_issue(void *ctx, int64_t record_id, const char *problem)
{
    struct incident_sink *sink = ctx;
    etl_batch_add_incident(sink->b, sink->resource, record_id, "%s", problem);
}

bool transform_item(struct etl_batch *b, int ti, json_t *item, int64_t parent)
{
    struct cat_rows *rows = etl_batch_rows(b, ti);
    struct incident_sink sink = {.b = b};
    /* "/documents/12/details.json", "/clients.json": the list the record came from. */
    (void)catalog_list_path(rows->table, parent, sink.resource, sizeof(sink.resource));
    struct cat_report rep = {add_issue, &sink};
    if (!catalog_map_item_report(rows, item, parent, &rep))
        return false;
    b->n_rows++;
    return true;
}

enum err_code transform_page(struct etl_batch *b, int ti, json_t *items, int64_t parent,
                             struct err *e)
{
    (void)e;
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        (void)transform_item(b, ti, item, parent);
    }
    return ERR_OK;
}

static void add_lines(struct etl_batch *b, json_t *lines, int64_t doc_id)
{
    int ti = catalog_role_index(CAT_ROLE_LINES);
    size_t i;
    json_t *line;
    struct id_set seen = {0};
    json_array_foreach (lines, i, line) {
        int64_t id;
        /* Pages may repeat items while data changes; a line is written once per batch. */
        if (json_util_int64(json_object_get(line, "id"), &id) && id > 0 && !id_set_add(&seen, id))
            continue;
        (void)transform_item(b, ti, line, doc_id);
    }
    id_set_release(&seen);
}

static void add_payments(struct etl_batch *b, json_t *doc, int64_t doc_id)
{
    const struct cat_table *pay = catalog_by_role(CAT_ROLE_PAYMENTS);
    const char *member = catalog_by_role(CAT_ROLE_DOCUMENT_PAYMENT_TOTALS)->source.embedded;
    json_t *items = transform_items(json_object_get(doc, member));
    if (!items)
        return;
    int ti = catalog_role_index(CAT_ROLE_PAYMENTS);
    struct cat_rows *rows = etl_batch_rows(b, ti);
    int col = catalog_column_index(pay, "id_documento");
    size_t i;
    json_t *p;
    json_array_foreach (items, i, p) {
        if (!transform_item(b, ti, p, doc_id))
            continue;
        struct cat_value *v = &rows->v[(rows->n - 1) * rows->table->ncols + (size_t)col];
        if (v->kind == CAT_V_NULL) {
            v->kind = CAT_V_INT;
            v->i = doc_id;
        }
    }
}

bool transform_document_id(struct etl_batch *b, json_t *doc, int64_t *doc_id)
{
    json_t *id = json_is_object(doc) ? json_object_get(doc, "id") : NULL;
    if (id && json_util_int64(id, doc_id))
        return true;
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    etl_batch_add_incident(b, docs->source.path, ETL_NO_ID,
                           "%s: key column 'id_bsale' (id) is %s; document "
                           "skipped with its lines and payments",
                           docs->name,
                           !json_is_object(doc) ? "unreadable: the item is not an object"
                           : id                 ? "not a valid id"
                                                : "missing");
    return false;
}

enum err_code transform_document(struct etl_batch *b, json_t *doc, json_t *lines, struct err *e)
{
    (void)e;
    int64_t doc_id;
    if (!transform_document_id(b, doc, &doc_id))
        return ERR_OK;
    int ti = catalog_role_index(CAT_ROLE_DOCUMENTS);
    if (!transform_item(b, ti, doc, 0))
        return ERR_OK;
    json_t *embedded =
        transform_items(json_object_get(doc, catalog_by_role(CAT_ROLE_LINES)->source.embedded));
    json_t *use = lines ? lines : embedded;
    if (use)
        add_lines(b, use, doc_id);
    add_payments(b, doc, doc_id);
    etl_batch_add_doc(b, doc_id);
    return ERR_OK;
}

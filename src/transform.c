/*
 * Record splitting. Quirks handled here, with the catalog doing per-column
 * conversion: embedded collections are envelopes capped at 25 items whose
 * count tells the truth, or bare links (docs/bsale-api.md, Expand and
 * sub-resources); a document's `payments` are per-type totals, not payments.
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

bool transform_collection_complete(json_t *coll, int64_t *count)
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
    return transform_collection_complete(details, count);
}

bool transform_payments_complete(json_t *doc)
{
    json_t *payments =
        json_object_get(doc, catalog_by_role(CAT_ROLE_DOCUMENT_PAYMENT_TOTALS)->source.embedded);
    if (!payments || !transform_items(payments))
        return true;
    return transform_collection_complete(payments, NULL);
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

/* One item into table ti, without its embedded children. */
static bool map_one(struct etl_batch *b, int ti, json_t *item, int64_t parent)
{
    struct cat_rows *rows = etl_batch_rows(b, ti);
    struct incident_sink sink = {.b = b};
    /* "/documents/12/details.json", "/clients.json": the list the record came from. */
    if (!catalog_list_path(rows->table, parent, sink.resource, sizeof(sink.resource)) ||
        !rows->table->source.path) {
        const struct cat_table *up = catalog_by_role(rows->table->source.parent);
        (void)catalog_record_path(up ? up : rows->table, parent, sink.resource,
                                  sizeof(sink.resource));
    }
    struct cat_report rep = {add_issue, &sink};
    if (!catalog_map_item_report(rows, item, parent, &rep))
        return false;
    b->n_rows++;
    return true;
}

static void map_children(struct etl_batch *b, int child_ti, json_t *items, int64_t parent)
{
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        (void)map_one(b, child_ti, item, parent);
    }
}

/*
 * The children item embeds, for every CHILD table of table ti but lines
 * (their own path, transform_document). Complete ones replace the parent's
 * children; cut ones are mapped only when the plan reads the rest through
 * the link (linked_read), else left out: a part would look like the whole.
 */
static void map_embedded(struct etl_batch *b, int ti, json_t *item)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    int64_t id;
    if (!json_util_int64(json_object_get(item, "id"), &id))
        return;
    for (size_t c = 0; c < n; c++) {
        const struct cat_source *src = &tables[c]->source;
        if (src->fetch != CAT_FETCH_CHILD || !src->embedded || src->parent != tables[ti]->role ||
            tables[c]->role == CAT_ROLE_LINES)
            continue;
        json_t *coll = json_object_get(item, src->embedded);
        json_t *items = transform_items(coll);
        if (!items)
            continue; /* absent, or only a link */
        bool complete = transform_collection_complete(coll, NULL);
        if (complete || src->linked_read)
            map_children(b, (int)c, items, id);
        if (complete)
            etl_batch_replace_children(b, (int)c, id);
    }
}

bool transform_item(struct etl_batch *b, int ti, json_t *item, int64_t parent)
{
    if (!map_one(b, ti, item, parent))
        return false;
    map_embedded(b, ti, item);
    return true;
}

void transform_children(struct etl_batch *b, int child_ti, json_t *items, int64_t parent)
{
    if (json_is_array(items))
        map_children(b, child_ti, items, parent);
    etl_batch_replace_children(b, child_ti, parent);
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

bool transform_document_id(struct etl_batch *b, json_t *doc, int64_t *doc_id)
{
    json_t *id = json_is_object(doc) ? json_object_get(doc, "id") : NULL;
    if (id && json_util_int64(id, doc_id))
        return true;
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    etl_batch_add_incident(b, docs->source.path, ETL_NO_ID,
                           "%s: key column 'id_bsale' (id) is %s; document "
                           "skipped with its lines and other children",
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
    etl_batch_add_doc(b, doc_id);
    return ERR_OK;
}

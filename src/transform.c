/*
 * Document splitting. Quirks handled here, with the catalog doing per-column
 * conversion: embedded collections are envelopes capped at 25 items whose
 * count tells the truth (API.md §3.1), and embedded payments may lack their
 * `document` reference, which is then the parent document.
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
    json_t *details = json_object_get(doc, "details");
    if (!details) {
        if (count)
            *count = -1;
        return false;
    }
    return collection_complete(details, count);
}

bool transform_payments_complete(json_t *doc)
{
    json_t *payments = json_object_get(doc, "payments");
    if (!payments || !transform_items(payments))
        return true;
    return collection_complete(payments, NULL);
}

enum err_code transform_page(struct etl_batch *b, int ti, json_t *items, int64_t parent,
                             struct err *e)
{
    size_t i;
    json_t *item;
    struct cat_rows *rows = etl_batch_rows(b, ti);
    json_array_foreach (items, i, item) {
        enum err_code rc = catalog_map_item(rows, item, parent, e);
        if (rc)
            return rc;
        b->n_rows++;
    }
    return ERR_OK;
}

bool transform_has_id(json_t *items, size_t upto, int64_t id)
{
    for (size_t k = 0; k < upto; k++) {
        int64_t other;
        if (json_util_int64(json_object_get(json_array_get(items, k), "id"), &other) && other == id)
            return true;
    }
    return false;
}

static enum err_code add_lines(struct etl_batch *b, json_t *lines, int64_t doc_id, struct err *e)
{
    int ti = etl_table_index("detalles_venta");
    struct cat_rows *rows = etl_batch_rows(b, ti);
    size_t i;
    json_t *line;
    struct id_set seen = {0};
    enum err_code rc = ERR_OK;
    json_array_foreach (lines, i, line) {
        int64_t id;
        /* Pages may repeat items while data changes; a line is written once per batch. */
        if (json_util_int64(json_object_get(line, "id"), &id) && id > 0 && !id_set_add(&seen, id))
            continue;
        if ((rc = catalog_map_item(rows, line, doc_id, e)))
            break;
        b->n_rows++;
    }
    id_set_release(&seen);
    return rc;
}

static enum err_code add_payments(struct etl_batch *b, json_t *doc, int64_t doc_id, struct err *e)
{
    json_t *items = transform_items(json_object_get(doc, "payments"));
    if (!items)
        return ERR_OK;
    int ti = etl_table_index("pagos");
    struct cat_rows *rows = etl_batch_rows(b, ti);
    int col = catalog_column_index(rows->table, "id_documento");
    size_t i;
    json_t *p;
    json_array_foreach (items, i, p) {
        enum err_code rc = catalog_map_item(rows, p, doc_id, e);
        if (rc)
            return rc;
        struct cat_value *v = &rows->v[(rows->n - 1) * rows->table->ncols + (size_t)col];
        if (v->kind == CAT_V_NULL) {
            v->kind = CAT_V_INT;
            v->i = doc_id;
        }
        b->n_rows++;
    }
    return ERR_OK;
}

enum err_code transform_document(struct etl_batch *b, json_t *doc, json_t *lines, struct err *e)
{
    int64_t doc_id;
    if (!json_util_int64(json_object_get(doc, "id"), &doc_id))
        return err_set(e, ERR_JSON, "document without a valid id");
    int ti = etl_table_index("documentos_venta");
    enum err_code rc = catalog_map_item(etl_batch_rows(b, ti), doc, 0, e);
    if (rc)
        return rc;
    b->n_rows++;
    json_t *embedded = transform_items(json_object_get(doc, "details"));
    json_t *use = lines ? lines : embedded;
    if (use && (rc = add_lines(b, use, doc_id, e)))
        return rc;
    if ((rc = add_payments(b, doc, doc_id, e)))
        return rc;
    etl_batch_add_doc(b, doc_id);
    return ERR_OK;
}

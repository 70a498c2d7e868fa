/*
 * Which documents of a page are stored complete already. Each is compared
 * with the warehouse through the reconcile's own comparison of headers; one
 * whose header is the same keeps its stored lines when their number is the
 * listed details count, and its stored references (a credit note's do not
 * change once emitted).
 */
#include "common.h"

#include "json_util.h"
#include "sync_lines.h"
#include "sync_reconcile.h"
#include "transform.h"

#include <stdlib.h>

/* The documents of docs with an id, into v; their details counts (-1: embedded whole) in counts. */
static size_t listed_documents(json_t *docs, struct sync_stored_doc *v, int64_t *counts)
{
    size_t k = 0, i;
    json_t *doc;
    json_array_foreach (docs, i, doc) {
        int64_t id, count;
        if (!json_util_int64(json_object_get(doc, "id"), &id) || id <= 0)
            continue;
        bool whole = transform_lines_complete(doc, &count);
        v[k].id = id;
        counts[k++] = whole ? -1 : count;
    }
    return k;
}

enum err_code sync_lines_stored(struct db *db, json_t *docs, struct sync_stored *out, struct err *e)
{
    size_t n = json_array_size(docs);
    if (!n)
        return ERR_OK;
    struct sync_stored_doc *v = xcalloc(n, sizeof(*v));
    int64_t *counts = xcalloc(n, sizeof(*counts));
    size_t k = listed_documents(docs, v, counts);
    struct sync_reconcile *r = sync_reconcile_new();
    sync_reconcile_add(r, docs);
    enum err_code rc = k ? sync_reconcile_unchanged(r, db, v, k, e) : ERR_OK;
    for (size_t i = 0; !rc && i < k; i++) {
        if (!v[i].same)
            continue;
        if (counts[i] > 0 && v[i].lines == counts[i])
            (void)id_set_add(&out->lines, v[i].id);
        if (v[i].refs > 0)
            (void)id_set_add(&out->refs, v[i].id);
    }
    sync_reconcile_free(r);
    free(counts);
    free(v);
    return rc;
}

void sync_stored_release(struct sync_stored *s)
{
    id_set_release(&s->lines);
    id_set_release(&s->refs);
}

/*
 * Which documents of a page are stored complete already. Only documents
 * whose embedded lines were cut cost a request for the rest; those are
 * compared with the warehouse through the reconcile's own comparison, plus
 * the number of lines stored against the listed details count.
 */
#include "common.h"

#include "json_util.h"
#include "sync_lines.h"
#include "sync_reconcile.h"
#include "transform.h"

#include <stdlib.h>

/* The documents of docs whose lines were cut: ids, counts and the items, k of them. */
static size_t cut_documents(json_t *docs, int64_t *ids, int64_t *lines, json_t *cut)
{
    size_t k = 0, i;
    json_t *doc;
    json_array_foreach (docs, i, doc) {
        int64_t id, count;
        if (transform_lines_complete(doc, &count) || count <= 0 ||
            !json_util_int64(json_object_get(doc, "id"), &id) || id <= 0)
            continue;
        ids[k] = id;
        lines[k++] = count;
        json_array_append(cut, doc);
    }
    return k;
}

enum err_code sync_lines_stored_complete(struct etl_run_ctx *run, json_t *docs, struct id_set *out,
                                         struct err *e)
{
    size_t n = json_array_size(docs);
    if (!n)
        return ERR_OK;
    int64_t *ids = xcalloc(n, sizeof(*ids)), *lines = xcalloc(n, sizeof(*lines));
    json_t *cut = json_array();
    size_t k = cut_documents(docs, ids, lines, cut);
    enum err_code rc = ERR_OK;
    if (k) {
        struct sync_reconcile *r = sync_reconcile_new();
        sync_reconcile_add(r, cut);
        bool *same = xcalloc(k, sizeof(*same));
        rc = sync_reconcile_unchanged(r, run->db, ids, lines, k, same, e);
        for (size_t i = 0; !rc && i < k; i++)
            if (same[i])
                (void)id_set_add(out, ids[i]);
        free(same);
        sync_reconcile_free(r);
    }
    json_decref(cut);
    free(ids);
    free(lines);
    return rc;
}

/*
 * Prune, reconcile and delete for the sync engine, in portable SQL over the
 * store interface. Table names come from the catalog.
 */
#include "common.h"

#include "buf.h"
#include "db_sync.h"
#include "parse.h"

#include <stdio.h>
#include <stdlib.h>

enum err_code db_prune_unlisted(struct db *db, const struct cat_table *t, const char *before,
                                struct err *e)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE sincronizado_en < '%s'", t->name, before);
    return db_query(db, sql, NULL, NULL, e);
}

struct id_list {
    int64_t *v;
    size_t n, alloc;
};

static int collect_id(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    struct id_list *l = ctx;
    long v;
    if (ncols < 1 || !cells[0] || !parse_long(cells[0], 1, 0x7fffffffffffffffL, &v))
        return 0;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 64;
        l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
    }
    l->v[l->n++] = v;
    return 0;
}

enum err_code db_documents_unsynced(struct db *db, const char *date_from, const char *date_to,
                                    const char *before, int limit, int64_t **ids, size_t *n,
                                    struct err *e)
{
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    char sql[320];
    snprintf(sql, sizeof(sql),
             "SELECT id_bsale FROM %s WHERE fecha_emision BETWEEN '%s' AND '%s' "
             "AND sincronizado_en < '%s' ORDER BY id_bsale LIMIT %d",
             docs->name, date_from, date_to, before, limit);
    struct id_list l = {0};
    enum err_code rc = db_query(db, sql, collect_id, &l, e);
    if (rc) {
        free(l.v);
        l.v = NULL;
        l.n = 0;
    }
    *ids = l.v;
    *n = l.n;
    return rc;
}

enum err_code db_documents_headers(struct db *db, const char *date_from, const char *date_to,
                                   const char *const *cols, size_t ncols, db_row_fn fn, void *ctx,
                                   struct err *e)
{
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    char sql[1024];
    size_t len = (size_t)snprintf(sql, sizeof(sql), "SELECT id_bsale");
    for (size_t i = 0; i < ncols && len < sizeof(sql); i++)
        len += (size_t)snprintf(sql + len, sizeof(sql) - len, ", %s", cols[i]);
    if (len < sizeof(sql))
        len += (size_t)snprintf(sql + len, sizeof(sql) - len,
                                " FROM %s WHERE fecha_emision BETWEEN '%s' AND '%s' "
                                "ORDER BY id_bsale",
                                docs->name, date_from, date_to);
    if (len >= sizeof(sql))
        return err_set(e, ERR_INTERNAL, "document header query too long");
    return db_query(db, sql, fn, ctx, e);
}

enum err_code db_documents_headers_by_id(struct db *db, const int64_t *ids, size_t n,
                                         const char *const *cols, size_t ncols, db_row_fn fn,
                                         void *ctx, struct err *e)
{
    if (!n)
        return ERR_OK;
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    struct buf sql;
    buf_init(&sql, 0);
    enum err_code rc = buf_append_str(&sql, "SELECT d.id_bsale", e);
    for (size_t i = 0; !rc && i < ncols; i++)
        rc = buf_appendf(&sql, e, ", d.%s", cols[i]);
    if (!rc)
        rc = buf_appendf(&sql, e,
                         ", (SELECT COUNT(*) FROM %s l WHERE l.id_documento = d.id_bsale)"
                         ", (SELECT COUNT(*) FROM %s r WHERE r.id_documento = d.id_bsale)"
                         " FROM %s d WHERE d.id_bsale IN (",
                         catalog_by_role(CAT_ROLE_LINES)->name,
                         catalog_by_role(CAT_ROLE_REFERENCES)->name, docs->name);
    for (size_t i = 0; !rc && i < n; i++)
        rc = buf_appendf(&sql, e, "%s%lld", i ? "," : "", (long long)ids[i]);
    if (!rc)
        rc = buf_append_str(&sql, ")", e);
    if (!rc)
        rc = db_query(db, sql.data, fn, ctx, e);
    buf_release(&sql);
    return rc;
}

static int read_count(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    long v;
    if (ncols >= 1 && cells[0] && parse_long(cells[0], 0, 0x7fffffffffffffffL, &v))
        *(long long *)ctx = v;
    return 0;
}

enum err_code db_table_count_through(struct db *db, const struct cat_table *t, int64_t through_id,
                                     long long *count, struct err *e)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE id_bsale <= %lld", t->name,
             (long long)through_id);
    *count = 0;
    return db_query(db, sql, read_count, count, e);
}

enum err_code db_document_types(struct db *db, db_row_fn fn, void *ctx, struct err *e)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT id_bsale, es_nota_credito, codigo_sii FROM %s",
             catalog_by_role(CAT_ROLE_DOCUMENT_TYPES)->name);
    return db_query(db, sql, fn, ctx, e);
}

enum err_code db_documents_delete(struct db *db, const int64_t *ids, size_t n, struct err *e)
{
    const struct cat_table *lines = catalog_by_role(CAT_ROLE_LINES);
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    enum err_code rc = db_begin(db, e);
    if (!rc)
        rc = db_delete_children(db, lines, "id_documento", ids, n, NULL, 0, e);
    if (!rc)
        rc = db_delete_children(db, docs, "id_bsale", ids, n, NULL, 0, e);
    if (!rc)
        return db_commit(db, e);
    struct err ignored = ERR_INIT;
    db_rollback(db, &ignored);
    return rc;
}

/*
 * The reconcile's comparison. Listed items go through the catalog's own
 * mapping, so a listed value and a stored one are compared in the same
 * canonical text; the compared columns are those of the documents table
 * whose Bsale field the light list asks for (a column the catalog lacks is
 * simply not compared).
 */
#include "common.h"

#include "catalog.h"
#include "db_sync.h"
#include "sync_reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMPARED 16

/* The light list's fields: what a void, a cancellation or a re-typing changes. */
static const char *const FIELDS[] = {"id",
                                     "state",
                                     "totalAmount",
                                     "netAmount",
                                     "taxAmount",
                                     "cancellationStatus",
                                     "cancellationDate",
                                     "document_type",
                                     NULL};

struct listed {
    int64_t id;
    size_t row; /* in rows */
    bool seen;  /* stored too */
};

struct sync_reconcile {
    struct cat_rows rows;
    const char *cols[MAX_COMPARED];
    int col_index[MAX_COMPARED];
    size_t n_cols;
    struct listed *v;
    size_t n, alloc;
};

const char *sync_reconcile_fields(void)
{
    return "fields=[id,state,totalAmount,netAmount,taxAmount,cancellationStatus,"
           "cancellationDate,document_type]";
}

/* True when a column's JSON path starts with one of FIELDS (the key aside). */
static bool compared(const struct cat_column *c)
{
    if (!c->json || (c->flags & CAT_KEY))
        return false;
    size_t len = strcspn(c->json, ".");
    for (const char *const *f = FIELDS; *f; f++)
        if (strlen(*f) == len && strncmp(*f, c->json, len) == 0)
            return true;
    return false;
}

struct sync_reconcile *sync_reconcile_new(void)
{
    struct sync_reconcile *r = xcalloc(1, sizeof(*r));
    const struct cat_table *docs = catalog_by_role(CAT_ROLE_DOCUMENTS);
    cat_rows_init(&r->rows, docs);
    for (size_t i = 0; i < docs->ncols && r->n_cols < MAX_COMPARED; i++)
        if (compared(&docs->cols[i])) {
            r->cols[r->n_cols] = docs->cols[i].name;
            r->col_index[r->n_cols++] = (int)i;
        }
    return r;
}

void sync_reconcile_free(struct sync_reconcile *r)
{
    if (!r)
        return;
    cat_rows_release(&r->rows);
    free(r->v);
    free(r);
}

static void ignore_issue(void *ctx, int64_t record_id, const char *problem)
{
    (void)ctx;
    (void)record_id;
    (void)problem;
}

void sync_reconcile_add(struct sync_reconcile *r, json_t *items)
{
    struct cat_report rep = {ignore_issue, NULL};
    int key = catalog_column_index(r->rows.table, "id_bsale");
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item) {
        if (!catalog_map_item_report(&r->rows, item, 0, &rep))
            continue; /* no usable id: the full re-read of its day would not find it either */
        if (r->n == r->alloc) {
            r->alloc = r->alloc ? r->alloc * 2 : 256;
            r->v = xrealloc(r->v, r->alloc * sizeof(*r->v));
        }
        size_t row = r->rows.n - 1;
        r->v[r->n++] = (struct listed){cat_rows_cell(&r->rows, row, (size_t)key)->i, row, false};
    }
}

static int cmp_listed(const void *a, const void *b)
{
    const struct listed *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->row > y->row) - (x->row < y->row);
}

/* Sorted by id, one entry per id: the last listed (pages may repeat items while data changes). */
static void sort_unique(struct sync_reconcile *r)
{
    if (r->n == 0)
        return; /* an empty light list: nothing to sort (and r->v may be NULL) */
    qsort(r->v, r->n, sizeof(*r->v), cmp_listed);
    size_t u = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (u && r->v[u - 1].id == r->v[i].id)
            u--;
        r->v[u++] = r->v[i];
    }
    r->n = u;
}

static struct listed *find(struct sync_reconcile *r, int64_t id)
{
    struct listed key = {.id = id};
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->v[mid].id < key.id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && r->v[lo].id == id ? &r->v[lo] : NULL;
}

/* "12990.0000", "12990.0" and "12990" alike: decimals without trailing zeros. */
static void canon(char *s)
{
    const char *p = s + (*s == '-');
    size_t digits = strspn(p, "0123456789");
    if (!digits || p[digits] != '.' ||
        strspn(p + digits + 1, "0123456789") != strlen(p + digits + 1))
        return;
    char *end = s + strlen(s) - 1;
    while (*end == '0')
        *end-- = '\0';
    if (*end == '.')
        *end = '\0';
    if (strcmp(s, "-0") == 0)
        snprintf(s, 2, "0");
}

static bool same_value(const struct cat_value *v, const char *stored)
{
    if (v->kind == CAT_V_NULL || !stored)
        return v->kind == CAT_V_NULL && !stored;
    char a[128], b[128];
    if (v->kind == CAT_V_INT)
        snprintf(a, sizeof(a), "%lld", (long long)v->i);
    else
        snprintf(a, sizeof(a), "%.*s", (int)(v->len < sizeof(a) ? v->len : sizeof(a) - 1), v->s);
    snprintf(b, sizeof(b), "%s", stored);
    canon(a);
    canon(b);
    return strcmp(a, b) == 0;
}

struct ids {
    int64_t *v;
    size_t n, alloc;
};

static void ids_push(struct ids *l, int64_t id)
{
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 64;
        l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
    }
    l->v[l->n++] = id;
}

struct compare_ctx {
    struct sync_reconcile *r;
    struct ids reread, unlisted;
    long long changed;
};

/* The listed header l against the stored one, cells[1..n_cols] (cells[0]: the id). */
static bool header_same(struct sync_reconcile *r, const struct listed *l, const char *const *cells)
{
    for (size_t k = 0; k < r->n_cols; k++)
        if (!same_value(cat_rows_cell(&r->rows, l->row, (size_t)r->col_index[k]), cells[k + 1]))
            return false;
    return true;
}

static int on_stored(void *p, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    struct compare_ctx *cc = p;
    struct sync_reconcile *r = cc->r;
    long long id = cells[0] ? strtoll(cells[0], NULL, 10) : 0;
    if (id <= 0 || ncols < (int)r->n_cols + 1)
        return 0;
    struct listed *l = find(r, id);
    if (!l) {
        ids_push(&cc->unlisted, id);
        return 0;
    }
    l->seen = true;
    if (!header_same(r, l, cells)) {
        ids_push(&cc->reread, id);
        cc->changed++;
    }
    return 0;
}

enum err_code sync_reconcile_compare(struct sync_reconcile *r, struct db *db, const char *date_from,
                                     const char *date_to, struct sync_reconcile_result *out,
                                     struct err *e)
{
    memset(out, 0, sizeof(*out));
    sort_unique(r);
    struct compare_ctx cc = {.r = r};
    enum err_code rc =
        db_documents_headers(db, date_from, date_to, r->cols, r->n_cols, on_stored, &cc, e);
    if (rc) {
        free(cc.reread.v);
        free(cc.unlisted.v);
        return rc;
    }
    for (size_t i = 0; i < r->n; i++)
        if (!r->v[i].seen) {
            ids_push(&cc.reread, r->v[i].id);
            out->missing++;
        }
    out->listed = (long long)r->n;
    out->changed = cc.changed;
    out->reread = cc.reread.v;
    out->n_reread = cc.reread.n;
    out->unlisted = cc.unlisted.v;
    out->n_unlisted = cc.unlisted.n;
    return ERR_OK;
}

struct unchanged_ctx {
    struct sync_reconcile *r;
    struct sync_stored_doc *docs;
    size_t n;
};

static int on_stored_below(void *p, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    struct unchanged_ctx *uc = p;
    struct sync_reconcile *r = uc->r;
    long long id = cells[0] ? strtoll(cells[0], NULL, 10) : 0;
    size_t k = r->n_cols + 1;
    if (id <= 0 || ncols != (int)k + 2 || !cells[k] || !cells[k + 1])
        return 0;
    const struct listed *l = find(r, id);
    bool same = l && header_same(r, l, cells);
    for (size_t i = 0; i < uc->n; i++)
        if (uc->docs[i].id == id) {
            uc->docs[i].same = same;
            uc->docs[i].lines = strtoll(cells[k], NULL, 10);
            uc->docs[i].refs = strtoll(cells[k + 1], NULL, 10);
        }
    return 0;
}

enum err_code sync_reconcile_unchanged(struct sync_reconcile *r, struct db *db,
                                       struct sync_stored_doc *docs, size_t n, struct err *e)
{
    int64_t *ids = xcalloc(n ? n : 1, sizeof(*ids));
    for (size_t i = 0; i < n; i++) {
        ids[i] = docs[i].id;
        docs[i].same = false;
        docs[i].lines = docs[i].refs = 0;
    }
    sort_unique(r);
    struct unchanged_ctx uc = {.r = r, .docs = docs, .n = n};
    enum err_code rc =
        db_documents_headers_by_id(db, ids, n, r->cols, r->n_cols, on_stored_below, &uc, e);
    free(ids);
    return rc;
}

void sync_reconcile_result_release(struct sync_reconcile_result *res)
{
    free(res->reread);
    free(res->unlisted);
    memset(res, 0, sizeof(*res));
}

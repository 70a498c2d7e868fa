/*
 * Incidents: records a run could not map or verify travel in the batch and
 * land in etl_incidencias with it. Open incidents of earlier runs are read when
 * a run starts; a later write of the same record (same kind and id) without a
 * new incident resolves them, and documents among them are re-read by id.
 */
#include "common.h"
#include "etl_incidents.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open incidents read per run at most; older ones come first. */
#define OPEN_INCIDENTS_MAX 5000

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

void etl_resource_kind(const char *path, char *out, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    const char *p = path;
    while (*p && *p != '?') {
        while (*p == '/')
            p++;
        size_t seg = strcspn(p, "/?");
        size_t keep = seg;
        if (keep >= 5 && memcmp(p + keep - 5, ".json", 5) == 0)
            keep -= 5;
        if (keep && !all_digits(p, keep) && len + keep + 2 <= n) {
            if (len)
                out[len++] = '/';
            memcpy(out + len, p, keep);
            out[len += keep] = '\0';
        }
        p += seg;
    }
}

int64_t etl_incident_document(const char *resource, int64_t resource_id)
{
    const char *docs = catalog_by_role(CAT_ROLE_DOCUMENTS)->resource; /* "documents" */
    size_t len = strlen(docs);
    if (resource[0] != '/' || strncmp(resource + 1, docs, len) != 0)
        return -1;
    const char *p = resource + 1 + len;
    if (*p == '/' && p[1] >= '0' && p[1] <= '9') {
        char *end;
        long long id = strtoll(p + 1, &end, 10);
        if (id > 0 && (*end == '/' || *end == '.' || *end == '\0' || *end == '?'))
            return id;
    }
    char kind[64];
    etl_resource_kind(resource, kind, sizeof(kind));
    return strcmp(kind, docs) == 0 && resource_id > 0 ? resource_id : -1;
}

/* Catalog index of the table holding records of kind, when keyed by one Bsale id; else -1. */
static int table_of_kind(const char *kind)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t i = 0; i < n && i < ETL_MAX_TABLES; i++) {
        const struct cat_table *t = tables[i];
        if (t->resource && strcmp(t->resource, kind) == 0)
            return catalog_column_index(t, "id_bsale") >= 0 ? (int)i : -1;
    }
    return -1;
}

static int cmp_ref(const void *a, const void *b)
{
    const struct etl_open_ref *x = a, *y = b;
    if (x->table != y->table)
        return x->table < y->table ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

enum err_code etl_open_incidents_load(struct db *db, struct etl_open_incidents *o, struct err *e)
{
    memset(o, 0, sizeof(*o));
    pthread_mutex_init(&o->mu, NULL);
    enum err_code rc = db_incidents_open(db, OPEN_INCIDENTS_MAX, &o->v, &o->n, e);
    if (rc)
        return rc;
    o->refs = xmalloc((o->n ? o->n : 1) * sizeof(*o->refs));
    int docs = catalog_role_index(CAT_ROLE_DOCUMENTS);
    for (size_t i = 0; i < o->n; i++) {
        const struct db_incident *in = &o->v[i];
        char kind[64];
        etl_resource_kind(in->recurso, kind, sizeof(kind));
        int t = table_of_kind(kind);
        int64_t doc = etl_incident_document(in->recurso, in->id_recurso);
        if (t >= 0 && in->id_recurso >= 0)
            o->refs[o->n_refs++] = (struct etl_open_ref){t, in->id_recurso, in->id, false, NULL};
        else if (in->id_recurso < 0 && doc > 0)
            o->refs[o->n_refs++] = (struct etl_open_ref){docs, doc, in->id, false, in->recurso};
    }
    qsort(o->refs, o->n_refs, sizeof(*o->refs), cmp_ref);
    return ERR_OK;
}

void etl_open_incidents_release(struct etl_open_incidents *o)
{
    if (!o)
        return;
    free(o->v);
    free(o->refs);
    pthread_mutex_destroy(&o->mu);
    memset(o, 0, sizeof(*o));
}

/* true when b raises an incident about record (table, id) itself. */
static bool batch_raises(const struct etl_batch *b, int table, int64_t id)
{
    for (size_t i = 0; i < b->n_incidents; i++) {
        char kind[64];
        if (b->incidents[i].resource_id != id)
            continue;
        etl_resource_kind(b->incidents[i].resource, kind, sizeof(kind));
        if (table_of_kind(kind) == table)
            return true;
    }
    return false;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void push_id(long long **ids, size_t *n, size_t *alloc, long long id)
{
    if (*n == *alloc) {
        *alloc = *alloc ? *alloc * 2 : 16;
        *ids = xrealloc(*ids, *alloc * sizeof(**ids));
    }
    (*ids)[(*n)++] = id;
}

/* true when b raises an incident without an id under resource (the record is still bad). */
static bool batch_raises_keyless(const struct etl_batch *b, const char *resource)
{
    for (size_t i = 0; i < b->n_incidents; i++)
        if (b->incidents[i].resource_id < 0 && strcmp(b->incidents[i].resource, resource) == 0)
            return true;
    return false;
}

/* Open refs of (table, id) that b's write of that record resolves, appended to ids. */
static void match_record(struct etl_open_incidents *o, const struct etl_batch *b, int table,
                         int64_t id, long long **ids, size_t *n, size_t *alloc)
{
    bool raised = batch_raises(b, table, id);
    struct etl_open_ref key = {table, id, 0, false, NULL};
    struct etl_open_ref *hit = bsearch(&key, o->refs, o->n_refs, sizeof(*o->refs), cmp_ref);
    if (!hit)
        return;
    while (hit > o->refs && cmp_ref(hit - 1, &key) == 0)
        hit--;
    for (; hit < o->refs + o->n_refs && cmp_ref(hit, &key) == 0; hit++) {
        bool still =
            hit->keyless_resource ? batch_raises_keyless(b, hit->keyless_resource) : raised;
        if (!hit->resolved && !still)
            push_id(ids, n, alloc, hit->incident_id);
    }
}

static bool has_table(const struct etl_open_incidents *o, int table)
{
    for (size_t i = 0; i < o->n_refs; i++)
        if (o->refs[i].table == table)
            return true;
    return false;
}

void etl_open_incidents_match(struct etl_open_incidents *o, const struct etl_batch *b,
                              long long **ids, size_t *n)
{
    size_t alloc = 0;
    *ids = NULL;
    *n = 0;
    if (!o || !o->n_refs)
        return;
    pthread_mutex_lock(&o->mu);
    for (int t = 0; t < ETL_MAX_TABLES; t++) {
        const struct cat_rows *rows = &b->rows[t];
        if (!rows->table || !rows->n || !has_table(o, t))
            continue;
        size_t key = (size_t)catalog_column_index(rows->table, "id_bsale");
        for (size_t r = 0; r < rows->n; r++) {
            const struct cat_value *v = cat_rows_cell(rows, r, key);
            if (v->kind == CAT_V_INT)
                match_record(o, b, t, v->i, ids, n, &alloc);
        }
    }
    pthread_mutex_unlock(&o->mu);
    if (*n < 2)
        return;
    /* A record written twice in one batch resolves its incidents once. */
    qsort(*ids, *n, sizeof(**ids), cmp_ll);
    size_t u = 0;
    for (size_t i = 0; i < *n; i++)
        if (!u || (*ids)[u - 1] != (*ids)[i])
            (*ids)[u++] = (*ids)[i];
    *n = u;
}

void etl_open_incidents_mark(struct etl_open_incidents *o, const long long *ids, size_t n)
{
    if (!o || !n)
        return;
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < o->n_refs; i++)
        for (size_t k = 0; k < n; k++)
            if (o->refs[i].incident_id == ids[k])
                o->refs[i].resolved = true;
    pthread_mutex_unlock(&o->mu);
}

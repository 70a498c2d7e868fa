/*
 * The writer: the only code that writes synced rows. Its own thread and
 * database connection, fed by a bounded queue so memory stays flat whichever
 * side is faster. One transaction per batch; a document lands with all its
 * lines, and children Bsale no longer lists for a parent the batch replaces
 * (lines, payment documents, references…) are removed.
 */
#include "common.h"

#define LOG_MODULE "writer"
#include "clock.h"
#include "log.h"
#include "date.h"
#include "db_history.h"
#include "etl_writer.h"
#include "etl_batch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct etl_writer {
    struct db *db;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct etl_batch **q;
    size_t depth, head, count;
    bool closing, aborting;
    struct err err; /* first failure */
    struct etl_counters *counters;
    long long run_id;
    struct etl_open_incidents *open;
    bool wrote[ETL_MAX_TABLES]; /* tables this writer wrote: recounted when it ends */
};

/* Values of column col in the rows of r whose parent column (pcol >= 0) is parent. Owned. */
static int64_t *column_ids(const struct cat_rows *r, int col, int pcol, int64_t parent, size_t *n)
{
    int64_t *ids = xmalloc((r->n ? r->n : 1) * sizeof(*ids));
    *n = 0;
    for (size_t row = 0; row < r->n; row++) {
        if (pcol >= 0 && cat_rows_cell(r, row, (size_t)pcol)->i != parent)
            continue;
        const struct cat_value *v = cat_rows_cell(r, row, (size_t)col);
        if (v->kind == CAT_V_INT)
            ids[(*n)++] = v->i;
    }
    return ids;
}

/* The parents of table ti whose children the batch replaces. Owned. */
static int64_t *replaced_parents(const struct etl_batch *b, int ti, size_t *n)
{
    int64_t *ids = xmalloc((b->n_replaced ? b->n_replaced : 1) * sizeof(*ids));
    *n = 0;
    for (size_t i = 0; i < b->n_replaced; i++)
        if (b->replaced[i].table == ti)
            ids[(*n)++] = b->replaced[i].parent;
    return ids;
}

/* The key column of t besides its parent column; *composite when the parent is part of the key. */
static int child_key_index(const struct cat_table *t, bool *composite)
{
    int key = -1;
    *composite = false;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!(t->cols[i].flags & CAT_KEY))
            continue;
        if (strcmp(t->cols[i].name, t->source.parent_col) == 0)
            *composite = true;
        else
            key = (int)i;
    }
    return key;
}

/*
 * Deletes the children of table ti that the batch's replaced parents no
 * longer have. A child key unique on its own (a line's id) is kept whatever
 * its parent, in one statement; one keyed with its parent (a payment type in
 * a document's totals) is judged per parent.
 */
static enum err_code replace_table_children(struct db *db, const struct etl_batch *b, int ti,
                                            struct err *e)
{
    const struct cat_rows *rows = &b->rows[ti];
    size_t n_parents;
    int64_t *parents = replaced_parents(b, ti, &n_parents);
    bool composite;
    int key = child_key_index(rows->table, &composite);
    const char *pname = rows->table->source.parent_col;
    int pcol = catalog_column_index(rows->table, pname);
    enum err_code rc = ERR_OK;
    for (size_t i = 0; i < n_parents && !rc && key >= 0; i++) {
        size_t n_keep;
        int64_t *keep = column_ids(rows, key, composite ? pcol : -1, parents[i], &n_keep);
        size_t n = composite ? 1 : n_parents; /* single keys: every parent at once */
        rc = db_delete_children(db, rows->table, pname, parents + i, n, keep, n_keep, e);
        free(keep);
        if (!composite)
            break;
    }
    free(parents);
    return rc;
}

/* Removes children of the batch's replaced parents (lines of its documents…) it does not write. */
static enum err_code replace_children(struct db *db, const struct etl_batch *b, struct err *e)
{
    enum err_code rc = ERR_OK;
    for (int ti = 0; ti < ETL_MAX_TABLES && !rc; ti++) {
        const struct cat_table *t = b->rows[ti].table;
        if (!t || !t->source.parent_col)
            continue;
        bool any = false;
        for (size_t i = 0; i < b->n_replaced && !any; i++)
            any = b->replaced[i].table == ti;
        if (any)
            rc = replace_table_children(db, b, ti, e);
    }
    return rc;
}

/* An open incident of an earlier run says the same already: no second row for it. */
static bool already_open(const struct etl_open_incidents *o, const struct etl_incident *in)
{
    for (size_t i = 0; o && i < o->n; i++)
        if (o->v[i].id_recurso == in->resource_id && strcmp(o->v[i].recurso, in->resource) == 0 &&
            strcmp(o->v[i].problema, in->problem) == 0)
            return true;
    return false;
}

/* The batch's incidents, and the resolution of earlier ones its rows settle. */
static enum err_code write_incidents(struct etl_writer *w, const struct etl_batch *b,
                                     const char *now, long long *resolved, size_t n_resolved,
                                     struct err *e)
{
    enum err_code rc = ERR_OK;
    for (size_t i = 0; i < b->n_incidents && !rc; i++) {
        const struct etl_incident *in = &b->incidents[i];
        if (!already_open(w->open, in))
            rc = db_incident_insert(w->db, w->run_id, in->resource, in->resource_id, in->problem,
                                    now, e);
    }
    if (!rc && n_resolved)
        rc = db_incidents_resolve(w->db, resolved, n_resolved, now, e);
    return rc;
}

/* Running counts for progress; the distinct counts replace them when the writer ends. */
static void count_batch(struct etl_writer *w, const struct etl_batch *b, const char *synced_at,
                        size_t n_resolved)
{
    pthread_mutex_lock(&w->counters->mu);
    if (!w->counters->since[0])
        snprintf(w->counters->since, sizeof(w->counters->since), "%s", synced_at);
    for (size_t i = 0; i < ETL_MAX_TABLES; i++) {
        w->counters->rows_by_table[i] += (long long)b->rows[i].n;
        if (b->rows[i].n)
            w->wrote[i] = true;
    }
    w->counters->rows_total += (long long)b->n_rows;
    w->counters->docs += (long long)b->n_docs;
    w->counters->incidents += (long long)b->n_incidents;
    w->counters->incidents_resolved += (long long)n_resolved;
    pthread_mutex_unlock(&w->counters->mu);
}

/*
 * Replaces the counts of tables[i] with the rows stamped since the run's
 * first write: what each table holds of this run, a row written twice once.
 */
static enum err_code recount(struct db *db, struct etl_counters *c, const bool *tables,
                             struct err *e)
{
    size_t n;
    const struct cat_table *const *t = catalog_tables(&n);
    pthread_mutex_lock(&c->mu);
    char since[sizeof(c->since)];
    memcpy(since, c->since, sizeof(since));
    pthread_mutex_unlock(&c->mu);
    enum err_code rc = ERR_OK;
    for (size_t i = 0; i < n && i < ETL_MAX_TABLES && !rc && since[0]; i++) {
        long long rows = 0;
        if (!tables[i] || (rc = db_count_since(db, t[i], since, &rows, e)))
            continue;
        pthread_mutex_lock(&c->mu);
        c->rows_by_table[i] = rows;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_lock(&c->mu);
    c->rows_total = 0;
    for (size_t i = 0; i < ETL_MAX_TABLES; i++)
        c->rows_total += c->rows_by_table[i];
    pthread_mutex_unlock(&c->mu);
    return rc ? err_prefix(e, "counting the rows written") : ERR_OK;
}

static enum err_code write_batch(struct etl_writer *w, const struct etl_batch *b, struct err *e)
{
    char synced_at[20];
    utc_now(synced_at);
    long long *resolved = NULL;
    size_t n_resolved = 0;
    etl_open_incidents_match(w->open, b, &resolved, &n_resolved);
    enum err_code rc = db_begin(w->db, e);
    for (size_t i = 0; i < ETL_MAX_TABLES && !rc; i++)
        if (b->rows[i].table && b->rows[i].n)
            rc = db_upsert(w->db, &b->rows[i], synced_at, e);
    if (!rc)
        rc = replace_children(w->db, b, e);
    if (!rc)
        rc = write_incidents(w, b, synced_at, resolved, n_resolved, e);
    if (!rc)
        rc = db_commit(w->db, e);
    if (rc) {
        struct err ignored = ERR_INIT;
        db_rollback(w->db, &ignored);
        free(resolved);
        return rc;
    }
    etl_open_incidents_mark(w->open, resolved, n_resolved);
    free(resolved);
    count_batch(w, b, synced_at, n_resolved);
    return ERR_OK;
}

static struct etl_batch *pop(struct etl_writer *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->count && !w->closing)
        pthread_cond_wait(&w->cv, &w->mu);
    struct etl_batch *b = NULL;
    if (w->count) {
        b = w->q[w->head];
        w->head = (w->head + 1) % w->depth;
        w->count--;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return b;
}

static void *writer_main(void *arg)
{
    struct etl_writer *w = arg;
    struct etl_batch *b;
    while ((b = pop(w)) != NULL) {
        pthread_mutex_lock(&w->mu);
        bool skip = w->err.code != ERR_OK || w->aborting;
        pthread_mutex_unlock(&w->mu);
        struct err e = ERR_INIT;
        if (!skip && write_batch(w, b, &e)) {
            log_error("write failed: %s", e.msg);
            pthread_mutex_lock(&w->mu);
            w->err = e;
            pthread_cond_broadcast(&w->cv);
            pthread_mutex_unlock(&w->mu);
        }
        etl_batch_free(b);
    }
    return NULL;
}

enum err_code etl_writer_start(const struct etl_writer_opts *opts, struct etl_writer **out,
                               struct err *e)
{
    struct etl_writer *w = xcalloc(1, sizeof(*w));
    w->depth = opts->depth ? opts->depth : 1;
    w->q = xcalloc(w->depth, sizeof(struct etl_batch *));
    w->counters = opts->counters;
    w->run_id = opts->run_id;
    w->open = opts->open;
    enum err_code rc = db_open(opts->url, &w->db, e);
    if (rc) {
        free(w->q);
        free(w);
        return rc;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        db_close(w->db);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w->q);
        free(w);
        return err_set(e, ERR_INTERNAL, "cannot start the writer thread");
    }
    *out = w;
    return ERR_OK;
}

enum err_code etl_writer_push(struct etl_writer *w, struct etl_batch *b, struct err *e)
{
    pthread_mutex_lock(&w->mu);
    while (w->count == w->depth && !w->err.code)
        pthread_cond_wait(&w->cv, &w->mu);
    if (w->err.code) {
        if (e)
            *e = w->err;
        enum err_code rc = w->err.code;
        pthread_mutex_unlock(&w->mu);
        etl_batch_free(b);
        return rc;
    }
    w->q[(w->head + w->count) % w->depth] = b;
    w->count++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return ERR_OK;
}

enum err_code etl_writer_finish(struct etl_writer *w, bool abort, struct err *e)
{
    if (!w)
        return ERR_OK;
    pthread_mutex_lock(&w->mu);
    w->closing = true;
    w->aborting = abort;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    struct err ce = ERR_INIT;
    enum err_code crc = recount(w->db, w->counters, w->wrote, &ce);
    if (crc && !w->err.code)
        w->err = ce;
    enum err_code rc = w->err.code;
    if (rc && e)
        *e = w->err;
    db_close(w->db);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->q);
    free(w);
    return rc;
}

/* Marks the derived table of role for recounting (its stamp is the run's first when none came
 * before). */
static void mark_derived(struct etl_counters *c, enum cat_role role, const char *synced_at,
                         bool *tables)
{
    int i = catalog_role_index(role);
    if (i < 0 || i >= ETL_MAX_TABLES)
        return;
    pthread_mutex_lock(&c->mu);
    if (!c->since[0])
        snprintf(c->since, sizeof(c->since), "%s", synced_at);
    tables[i] = true;
    pthread_mutex_unlock(&c->mu);
}

enum err_code etl_writer_history(struct db *db, const char *tz, const char *run_at,
                                 struct etl_counters *c, struct err *e)
{
    char today[11], synced_at[20];
    bool tables[ETL_MAX_TABLES] = {0};
    utc_now(synced_at);
    /* A --date run does not change which day the stock is: it is read now. */
    enum err_code rc = date_today(tz, today, e);
    if (!rc)
        rc = db_history_stock(db, today, synced_at, e);
    if (!rc)
        mark_derived(c, CAT_ROLE_STOCK_HISTORY, synced_at, tables);
    if (!rc)
        rc = db_history_prices(db, run_at, synced_at, e);
    if (!rc)
        mark_derived(c, CAT_ROLE_PRICE_HISTORY, synced_at, tables);
    if (!rc)
        rc = recount(db, c, tables, e);
    return rc;
}

/*
 * Backend-independent warehouse logic: dispatch by URL, migrations and the
 * schema version, transactions around upserts, run history, id-list helpers.
 * SQL written here is portable; dialects live in the backends.
 */
#include "common.h"

#define LOG_MODULE "db"
#include "buf.h"
#include "clock.h"
#include "db.h"
#include "db_backend.h"
#include "db_views.h"
#include "log.h"
#include "secret_mask.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Ids per IN (...) list: keeps statements far below any packet limit. */
#define DB_IN_CHUNK 1000

enum err_code db_open(const struct db_url *url, struct db **out, struct err *e)
{
    *out = NULL;
    switch (url->kind) {
    case DB_KIND_SQLITE:
        return db_sqlite_open(url, out, e);
    case DB_KIND_MYSQL:
        return db_mysql_open(url, out, e);
    case DB_KIND_NONE:
        break;
    }
    return err_set(e, ERR_CONFIG, "DATABASE_URL: unsupported database kind");
}

void db_close(struct db *db)
{
    if (!db)
        return;
    if (db->in_txn)
        (void)db_rollback(db, NULL);
    db->ops->close(db);
}

const char *db_backend_name(const struct db *db)
{
    return db->ops->name;
}

enum err_code db_ping(struct db *db, struct err *e)
{
    return db->ops->ping(db, e);
}

enum err_code db_query(struct db *db, const char *sql, db_row_fn row, void *ctx, struct err *e)
{
    return db->ops->query(db, sql, row, ctx, e);
}

/* ---- schema version ---- */

static int store_int_cell(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    long long *v = ctx;
    if (ncols > 0 && cells[0])
        *v = strtoll(cells[0], NULL, 10);
    return 0;
}

/* *version = recorded version, 0 when etl_esquema is missing or empty. */
static enum err_code read_version(struct db *db, int *version, struct err *e)
{
    bool found = false;
    long long v = 0;
    *version = 0;
    const char *table = catalog_by_role(CAT_ROLE_SCHEMA_VERSION)->name;
    enum err_code rc = db->ops->has_table(db, table, &found, e);
    if (rc || !found)
        return rc;
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT MAX(version) FROM %s", table);
    rc = db->ops->query(db, sql, store_int_cell, &v, e);
    if (rc)
        return rc;
    *version = (int)v;
    return ERR_OK;
}

/* ---- the analysts' layer (db_views.c has the SQL) ---- */

static int count_cell(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    long long *n = ctx;
    if (ncols > 0 && cells[0])
        *n = strtoll(cells[0], NULL, 10);
    return 0;
}

static enum err_code insert_calendar(struct db *db, struct err *e)
{
    struct db_calendar_cursor c;
    struct buf sql;
    enum err_code rc = db->ops->exec(db, "DELETE FROM dim_fecha", e);
    buf_init(&sql, 64 * 1024);
    db_calendar_start(&c);
    while (!rc && db_calendar_insert(&c, &sql))
        rc = db->ops->exec(db, sql.data, e);
    buf_release(&sql);
    return rc;
}

/* Refills dim_fecha, in one transaction, unless it already holds every day. */
static enum err_code fill_calendar(struct db *db, struct err *e)
{
    long long have = -1;
    enum err_code rc = db->ops->query(db, "SELECT COUNT(*) FROM dim_fecha", count_cell, &have, e);
    if (rc || have == db_calendar_days())
        return rc;
    if ((rc = db->ops->begin(db, e)))
        return rc;
    rc = insert_calendar(db, e);
    if (!rc)
        return db->ops->commit(db, e);
    struct err ignored = ERR_INIT;
    (void)db->ops->rollback(db, &ignored);
    return err_prefix(e, "filling dim_fecha");
}

/* Drops and recreates every view, so a new definition replaces the old one. */
static enum err_code create_views(struct db *db, struct err *e)
{
    enum err_code rc = ERR_OK;
    char drop[64];
    const char *sql;
    for (size_t i = 0; !rc && (sql = db_view_name(i)) != NULL; i++) {
        snprintf(drop, sizeof(drop), "DROP VIEW IF EXISTS %s", sql);
        rc = db->ops->exec(db, drop, e);
    }
    bool mysql = strcmp(db->ops->name, "mysql") == 0;
    for (size_t i = 0; !rc && (sql = db_view_sql(i, mysql)) != NULL; i++)
        rc = db->ops->exec(db, sql, e);
    return rc ? err_prefix(e, "creating views") : ERR_OK;
}

enum err_code db_migrate(struct db *db, struct err *e)
{
    int found = 0;
    enum err_code rc = read_version(db, &found, e);
    if (rc)
        return err_prefix(e, "migrate");
    if (found > DB_SCHEMA_VERSION)
        return err_set(e, ERR_SCHEMA,
                       "migrate: database schema version %d is newer than this build's %d: "
                       "upgrade patitas-etl",
                       found, DB_SCHEMA_VERSION);
    /*
     * Upgrades are catalog-driven: ensure_table creates a missing table and
     * adds (ALTER TABLE ADD COLUMN) the columns and indexes an older version
     * lacks, so a new version step is a catalog entry plus a version bump.
     */
    size_t n_own, n;
    const struct cat_table *const *own = catalog_own_tables(&n_own);
    for (size_t i = 0; !rc && i < n_own; i++)
        rc = db->ops->ensure_table(db, own[i], e);
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = db->ops->ensure_table(db, tables[i], e);
    if (!rc)
        rc = fill_calendar(db, e);
    if (!rc)
        rc = create_views(db, e);
    if (rc)
        return err_prefix(e, "migrate");
    if (found == DB_SCHEMA_VERSION)
        return ERR_OK;
    char version[16], now[20];
    snprintf(version, sizeof(version), "%d", DB_SCHEMA_VERSION);
    utc_now(now);
    const char *params[] = {version, now};
    char sql[96];
    snprintf(sql, sizeof(sql), "INSERT INTO %s (version, aplicado_en) VALUES (?, ?)",
             catalog_by_role(CAT_ROLE_SCHEMA_VERSION)->name);
    rc = db->ops->exec_params(db, sql, params, 2, NULL, e);
    if (rc)
        return err_prefix(e, "migrate: recording schema version");
    log_info("schema migrated from version %d to %d backend=%s", found, DB_SCHEMA_VERSION,
             db->ops->name);
    return ERR_OK;
}

enum err_code db_schema_check(struct db *db, int *version, struct err *e)
{
    int v = 0;
    enum err_code rc = read_version(db, &v, e);
    *version = v;
    if (rc)
        return err_prefix(e, "schema check");
    if (v == 0)
        return err_set(e, ERR_SCHEMA,
                       "database schema missing: run 'patitas-etl migrate' (or ETL_AUTO_MIGRATE)");
    if (v < DB_SCHEMA_VERSION)
        return err_set(e, ERR_SCHEMA,
                       "database schema version %d is older than %d: run 'patitas-etl migrate'", v,
                       DB_SCHEMA_VERSION);
    if (v > DB_SCHEMA_VERSION)
        return err_set(e, ERR_SCHEMA,
                       "database schema version %d is newer than this build's %d: upgrade "
                       "patitas-etl",
                       v, DB_SCHEMA_VERSION);
    return ERR_OK;
}

/* ---- transactions and upserts ---- */

enum err_code db_begin(struct db *db, struct err *e)
{
    if (db->in_txn)
        return err_set(e, ERR_INTERNAL, "begin: a transaction is already open");
    enum err_code rc = db->ops->begin(db, e);
    if (rc == ERR_OK)
        db->in_txn = true;
    return rc;
}

enum err_code db_commit(struct db *db, struct err *e)
{
    if (!db->in_txn)
        return err_set(e, ERR_INTERNAL, "commit: no open transaction");
    enum err_code rc = db->ops->commit(db, e);
    if (rc) {
        (void)db->ops->rollback(db, NULL);
    }
    db->in_txn = false;
    return rc;
}

enum err_code db_rollback(struct db *db, struct err *e)
{
    if (!db->in_txn)
        return ERR_OK;
    db->in_txn = false;
    return db->ops->rollback(db, e);
}

enum err_code db_upsert(struct db *db, const struct cat_rows *rows, const char *synced_at,
                        struct err *e)
{
    if (!synced_at || !*synced_at)
        return err_set(e, ERR_INTERNAL, "upsert %s: no sincronizado_en value", rows->table->name);
    if (rows->n == 0)
        return ERR_OK;
    /* Outside a caller's transaction the batch is still all-or-nothing. */
    bool own = !db->in_txn;
    enum err_code rc = own ? db_begin(db, e) : ERR_OK;
    if (rc)
        return rc;
    rc = db->ops->upsert(db, rows, synced_at, e);
    if (own) {
        if (rc)
            (void)db_rollback(db, NULL);
        else
            rc = db_commit(db, e);
    }
    if (rc)
        return err_prefix(e, "upsert %s (%zu rows)", rows->table->name, rows->n);
    return ERR_OK;
}

/* ---- id lists ---- */

static void append_ids(struct buf *b, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        (void)buf_appendf(b, NULL, "%s%" PRId64, i ? "," : "", ids[i]);
}

/* The single key column of t, or NULL for composite keys. */
static const struct cat_column *single_key(const struct cat_table *t)
{
    const struct cat_column *key = NULL;
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].flags & CAT_KEY) {
            if (key)
                return NULL;
            key = &t->cols[i];
        }
    }
    return key;
}

/* The one key column of t besides parent_col (a line's id; a payment's document), or NULL. */
static const struct cat_column *child_key(const struct cat_table *t, const char *parent_col)
{
    const struct cat_column *key = NULL;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!(t->cols[i].flags & CAT_KEY) || strcmp(t->cols[i].name, parent_col) == 0)
            continue;
        if (key)
            return NULL;
        key = &t->cols[i];
    }
    return key;
}

enum err_code db_delete_children(struct db *db, const struct cat_table *t, const char *parent_col,
                                 const int64_t *parent_ids, size_t n_parents,
                                 const int64_t *keep_ids, size_t n_keep, struct err *e)
{
    const struct cat_column *key = child_key(t, parent_col);
    if (!key) /* parent_col is the key itself (documents by id): nothing to keep by */
        key = single_key(t);
    if (!key || catalog_column_index(t, parent_col) < 0)
        return err_set(e, ERR_INTERNAL, "delete children: '%s' is not a parent column of %s",
                       parent_col, t->name);
    if (n_parents == 0)
        return ERR_OK;
    struct buf sql;
    buf_init(&sql, 0);
    /* Ids are integers we format ourselves: nothing external reaches the SQL text. */
    (void)buf_appendf(&sql, NULL, "DELETE FROM %s WHERE %s IN (", t->name, parent_col);
    append_ids(&sql, parent_ids, n_parents);
    (void)buf_append_str(&sql, ")", NULL);
    if (n_keep > 0) {
        (void)buf_appendf(&sql, NULL, " AND %s NOT IN (", key->name);
        append_ids(&sql, keep_ids, n_keep);
        (void)buf_append_str(&sql, ")", NULL);
    }
    enum err_code rc = db->ops->exec(db, sql.data, e);
    buf_release(&sql);
    if (rc)
        return err_prefix(e, "delete children of %s", t->name);
    return ERR_OK;
}

struct id_set {
    int64_t *v;
    size_t n, alloc;
};

static int collect_id(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    struct id_set *s = ctx;
    if (ncols < 1 || !cells[0])
        return 0;
    if (s->n == s->alloc) {
        s->alloc = s->alloc ? s->alloc * 2 : 256;
        s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
    }
    s->v[s->n++] = strtoll(cells[0], NULL, 10);
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

enum err_code db_missing_ids(struct db *db, const struct cat_table *t, const int64_t *ids, size_t n,
                             int64_t **missing, size_t *n_missing, struct err *e)
{
    *missing = NULL;
    *n_missing = 0;
    const struct cat_column *key = single_key(t);
    if (!key)
        return err_set(e, ERR_INTERNAL, "missing ids: %s has no single-column key", t->name);
    struct id_set present = {0};
    struct buf sql;
    buf_init(&sql, 0);
    enum err_code rc = ERR_OK;
    for (size_t off = 0; off < n && !rc; off += DB_IN_CHUNK) {
        size_t k = n - off < DB_IN_CHUNK ? n - off : DB_IN_CHUNK;
        buf_reset(&sql);
        (void)buf_appendf(&sql, NULL, "SELECT %s FROM %s WHERE %s IN (", key->name, t->name,
                          key->name);
        append_ids(&sql, ids + off, k);
        (void)buf_append_str(&sql, ")", NULL);
        rc = db->ops->query(db, sql.data, collect_id, &present, e);
    }
    buf_release(&sql);
    if (rc) {
        free(present.v);
        return err_prefix(e, "missing ids of %s", t->name);
    }
    if (present.n)
        qsort(present.v, present.n, sizeof(*present.v), cmp_i64);
    int64_t *out = xmalloc((n ? n : 1) * sizeof(*out));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (present.n && bsearch(&ids[i], present.v, present.n, sizeof(*present.v), cmp_i64))
            continue;
        out[m++] = ids[i];
    }
    free(present.v);
    *missing = out;
    *n_missing = m;
    return ERR_OK;
}

/* ---- single-flight lock ---- */

enum err_code db_lock(struct db *db, struct err *e)
{
    return db->ops->lock(db, e);
}

void db_unlock(struct db *db)
{
    if (db)
        db->ops->unlock(db);
}

/* ---- run history ---- */

#define RUN_COLS                                                                                   \
    "id, tipo, origen, estado, inicio, fin, fecha_desde, fecha_hasta, registros, solicitudes, "    \
    "reintentos, error, detalle, clave_idempotencia, progreso, completado_hasta, reanuda"

void db_run_release(struct db_run *r)
{
    if (!r)
        return;
    free(r->detalle);
    free(r->progreso);
    r->detalle = NULL;
    r->progreso = NULL;
}

/* The run and incident tables' names (etl_ejecuciones, etl_incidencias), from the catalog. */
static const char *runs_table(void)
{
    return catalog_by_role(CAT_ROLE_RUNS)->name;
}

static const char *incidents_table(void)
{
    return catalog_by_role(CAT_ROLE_INCIDENTS)->name;
}

bool db_run_key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > DB_RUN_KEY_MAX)
        return false;
    /* Quoted into SQL by db_run_by_key: no quote, backslash, space or control character. */
    return strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                       "-_.:+/=@") == n;
}

static const char *null_if_empty(const char *s)
{
    return s && *s ? s : NULL;
}

enum err_code db_run_insert(struct db *db, struct db_run *r, struct err *e)
{
    char inicio[20];
    if (!r->inicio[0]) {
        utc_now(inicio);
        snprintf(r->inicio, sizeof(r->inicio), "%s", inicio);
    }
    snprintf(r->estado, sizeof(r->estado), "running");
    char reanuda[24];
    snprintf(reanuda, sizeof(reanuda), "%lld", r->reanuda);
    const char *params[] = {r->tipo,
                            r->origen,
                            r->estado,
                            r->inicio,
                            null_if_empty(r->fecha_desde),
                            null_if_empty(r->fecha_hasta),
                            r->detalle,
                            null_if_empty(r->clave),
                            null_if_empty(r->completado_hasta),
                            r->reanuda ? reanuda : NULL};
    long long id = 0;
    char sql[384];
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s (tipo, origen, estado, inicio, fecha_desde, fecha_hasta, registros, "
             "solicitudes, reintentos, detalle, clave_idempotencia, completado_hasta, reanuda) "
             "VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?, ?)",
             runs_table());
    enum err_code rc = db->ops->exec_params(db, sql, params, ARRAY_LEN(params), &id, e);
    if (rc)
        return err_prefix(e, "recording run");
    r->id = id;
    return ERR_OK;
}

enum err_code db_run_update(struct db *db, const struct db_run *r, struct err *e)
{
    char registros[24], solicitudes[24], reintentos[24], id[24];
    snprintf(registros, sizeof(registros), "%lld", r->registros);
    snprintf(solicitudes, sizeof(solicitudes), "%lld", r->solicitudes);
    snprintf(reintentos, sizeof(reintentos), "%lld", r->reintentos);
    snprintf(id, sizeof(id), "%lld", r->id);
    /* Stored texts are served by GET /etl/runs: no secret goes in, whatever quoted it. */
    char error[ERR_MSG_MAX];
    snprintf(error, sizeof(error), "%s", r->error);
    secret_mask(error);
    char *detalle = r->detalle ? secret_mask_dup(r->detalle, strlen(r->detalle)) : NULL;
    const char *params[] = {r->estado,  null_if_empty(r->fin), registros, solicitudes,
                            reintentos, null_if_empty(error),  detalle,   r->progreso,
                            id};
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE %s SET estado = ?, fin = ?, registros = ?, solicitudes = ?, reintentos = ?, "
             "error = ?, detalle = ?, progreso = ? WHERE id = ?",
             runs_table());
    enum err_code rc = db->ops->exec_params(db, sql, params, ARRAY_LEN(params), NULL, e);
    free(detalle);
    if (rc)
        return err_prefix(e, "updating run %lld", r->id);
    return ERR_OK;
}

struct run_list {
    struct db_run *v;
    size_t n, alloc;
};

static void copy_cell(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

static int collect_run(void *ctx, int ncols, const char *const *names, const char *const *c)
{
    struct run_list *l = ctx;
    if (ncols < 17)
        return 1;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 16;
        l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
    }
    struct db_run *r = &l->v[l->n++];
    memset(r, 0, sizeof(*r));
    r->id = c[0] ? strtoll(c[0], NULL, 10) : 0;
    copy_cell(r->tipo, sizeof(r->tipo), c[1]);
    copy_cell(r->origen, sizeof(r->origen), c[2]);
    copy_cell(r->estado, sizeof(r->estado), c[3]);
    copy_cell(r->inicio, sizeof(r->inicio), c[4]);
    copy_cell(r->fin, sizeof(r->fin), c[5]);
    copy_cell(r->fecha_desde, sizeof(r->fecha_desde), c[6]);
    copy_cell(r->fecha_hasta, sizeof(r->fecha_hasta), c[7]);
    r->registros = c[8] ? strtoll(c[8], NULL, 10) : 0;
    r->solicitudes = c[9] ? strtoll(c[9], NULL, 10) : 0;
    r->reintentos = c[10] ? strtoll(c[10], NULL, 10) : 0;
    copy_cell(r->error, sizeof(r->error), c[11]);
    r->detalle = c[12] ? xstrdup(c[12]) : NULL;
    copy_cell(r->clave, sizeof(r->clave), c[13]);
    r->progreso = c[14] ? xstrdup(c[14]) : NULL;
    copy_cell(r->completado_hasta, sizeof(r->completado_hasta), c[15]);
    r->reanuda = c[16] ? strtoll(c[16], NULL, 10) : 0;
    return 0;
}

static void run_list_release(struct run_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        db_run_release(&l->v[i]);
    free(l->v);
}

enum err_code db_run_list(struct db *db, int limit, struct db_run **runs, size_t *n, struct err *e)
{
    *runs = NULL;
    *n = 0;
    if (limit <= 0)
        return ERR_OK;
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT " RUN_COLS " FROM %s ORDER BY id DESC LIMIT %d",
             runs_table(), limit);
    struct run_list l = {0};
    enum err_code rc = db->ops->query(db, sql, collect_run, &l, e);
    if (rc) {
        run_list_release(&l);
        return err_prefix(e, "listing runs");
    }
    *runs = l.v;
    *n = l.n;
    return ERR_OK;
}

/* The first run where (a portable SQL condition) holds. */
static enum err_code run_where(struct db *db, const char *where, struct db_run *r, struct err *e)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT " RUN_COLS " FROM %s WHERE %s", runs_table(), where);
    struct run_list l = {0};
    enum err_code rc = db->ops->query(db, sql, collect_run, &l, e);
    if (rc) {
        run_list_release(&l);
        return err_prefix(e, "reading runs");
    }
    if (l.n == 0) {
        free(l.v);
        return err_set(e, ERR_NOT_FOUND, "run not found");
    }
    *r = l.v[0];
    l.v[0].detalle = l.v[0].progreso = NULL;
    run_list_release(&l);
    return ERR_OK;
}

enum err_code db_run_get(struct db *db, long long id, struct db_run *r, struct err *e)
{
    char where[64];
    snprintf(where, sizeof(where), "id = %lld", id);
    enum err_code rc = run_where(db, where, r, e);
    if (rc == ERR_NOT_FOUND)
        err_set(e, ERR_NOT_FOUND, "run %lld not found", id);
    return rc;
}

enum err_code db_run_by_key(struct db *db, const char *key, struct db_run *r, struct err *e)
{
    if (!db_run_key_valid(key))
        return err_set(e, ERR_INVALID, "invalid idempotency key");
    char where[DB_RUN_KEY_MAX + 64];
    snprintf(where, sizeof(where), "clave_idempotencia = '%s'", key);
    return run_where(db, where, r, e);
}

enum err_code db_run_last_of_kind(struct db *db, const char *tipo, struct db_run *r, struct err *e)
{
    if (strspn(tipo, "abcdefghijklmnopqrstuvwxyz") != strlen(tipo))
        return err_set(e, ERR_INVALID, "invalid run kind");
    char where[160];
    snprintf(where, sizeof(where), "id = (SELECT MAX(id) FROM %s WHERE tipo = '%s')", runs_table(),
             tipo);
    return run_where(db, where, r, e);
}

enum err_code db_run_completed(struct db *db, long long id, const char *day, struct err *e)
{
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", id);
    const char *params[] = {day, ids};
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE %s SET completado_hasta = ? WHERE id = ?", runs_table());
    enum err_code rc = db->ops->exec_params(db, sql, params, ARRAY_LEN(params), NULL, e);
    return rc ? err_prefix(e, "recording the progress of run %lld", id) : ERR_OK;
}

enum err_code db_run_running(struct db *db, struct db_run *r, struct err *e)
{
    char where[96];
    snprintf(where, sizeof(where), "id = (SELECT MAX(id) FROM %s WHERE estado = 'running')",
             runs_table());
    return run_where(db, where, r, e);
}

enum err_code db_run_progress(struct db *db, const struct db_run *r, struct err *e)
{
    char registros[24], solicitudes[24], reintentos[24], id[24];
    snprintf(registros, sizeof(registros), "%lld", r->registros);
    snprintf(solicitudes, sizeof(solicitudes), "%lld", r->solicitudes);
    snprintf(reintentos, sizeof(reintentos), "%lld", r->reintentos);
    snprintf(id, sizeof(id), "%lld", r->id);
    const char *params[] = {registros, solicitudes, reintentos, r->progreso, id};
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE %s SET registros = ?, solicitudes = ?, reintentos = ?, progreso = ? "
             "WHERE id = ? AND estado = 'running'",
             runs_table());
    enum err_code rc = db->ops->exec_params(db, sql, params, ARRAY_LEN(params), NULL, e);
    return rc ? err_prefix(e, "recording the progress of run %lld", r->id) : ERR_OK;
}

enum err_code db_run_last_successes(struct db *db, db_run_fn fn, void *ctx, struct err *e)
{
    static const char *const kinds[] = {"full", "daily"};
    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        char where[160];
        snprintf(where, sizeof(where),
                 "id = (SELECT MAX(id) FROM %s WHERE estado = 'succeeded' AND tipo = '%s')",
                 runs_table(), kinds[k]);
        struct db_run r;
        memset(&r, 0, sizeof(r));
        enum err_code rc = run_where(db, where, &r, e);
        if (rc == ERR_NOT_FOUND)
            continue;
        if (rc)
            return rc;
        fn(ctx, &r);
        db_run_release(&r);
    }
    return ERR_OK;
}

enum err_code db_run_fail_stale(struct db *db, const char *reason, struct err *e)
{
    char now[20];
    utc_now(now);
    const char *params[] = {now, reason ? reason : "interrupted"};
    /* A cause already recorded (the real one) is kept. */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE %s SET estado = 'failed', fin = COALESCE(fin, ?), "
             "error = COALESCE(NULLIF(error, ''), ?) WHERE estado = 'running'",
             runs_table());
    enum err_code rc = db->ops->exec_params(db, sql, params, 2, NULL, e);
    if (rc)
        return err_prefix(e, "failing stale runs");
    return ERR_OK;
}

/* ---- incidents ---- */

#define INCIDENT_COLS "id, id_ejecucion, recurso, id_recurso, problema, creado_en, resuelto_en"

/* Copies at most max bytes of s, never ending inside a UTF-8 sequence. */
static char *utf8_capped(const char *s, size_t max)
{
    return xstrndup(s, utf8_cut(s, strlen(s), max));
}

enum err_code db_incident_insert(struct db *db, long long run_id, const char *resource,
                                 int64_t resource_id, const char *problem, const char *created_at,
                                 struct err *e)
{
    char run[24], id[24];
    snprintf(run, sizeof(run), "%lld", run_id);
    snprintf(id, sizeof(id), "%" PRId64, resource_id);
    char *res = utf8_capped(resource ? resource : "", DB_INCIDENT_RESOURCE_MAX);
    char *prob = utf8_capped(problem ? problem : "", DB_INCIDENT_PROBLEM_MAX);
    const char *params[] = {run, res, resource_id < 0 ? NULL : id, prob, created_at};
    char sql[192];
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s (id_ejecucion, recurso, id_recurso, problema, creado_en) "
             "VALUES (?, ?, ?, ?, ?)",
             incidents_table());
    enum err_code rc = db->ops->exec_params(db, sql, params, ARRAY_LEN(params), NULL, e);
    free(res);
    free(prob);
    if (rc)
        return err_prefix(e, "recording an incident of run %lld", run_id);
    return ERR_OK;
}

struct incident_list {
    struct db_incident *v;
    size_t n, alloc;
};

static int collect_incident(void *ctx, int ncols, const char *const *names, const char *const *c)
{
    (void)names;
    struct incident_list *l = ctx;
    if (ncols < 7)
        return 1;
    if (l->n == l->alloc) {
        l->alloc = l->alloc ? l->alloc * 2 : 16;
        l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
    }
    struct db_incident *in = &l->v[l->n++];
    memset(in, 0, sizeof(*in));
    in->id = c[0] ? strtoll(c[0], NULL, 10) : 0;
    in->run_id = c[1] ? strtoll(c[1], NULL, 10) : 0;
    copy_cell(in->recurso, sizeof(in->recurso), c[2]);
    in->id_recurso = c[3] ? strtoll(c[3], NULL, 10) : -1;
    copy_cell(in->problema, sizeof(in->problema), c[4]);
    copy_cell(in->creado_en, sizeof(in->creado_en), c[5]);
    copy_cell(in->resuelto_en, sizeof(in->resuelto_en), c[6]);
    return 0;
}

static enum err_code incidents_query(struct db *db, const char *sql, struct db_incident **out,
                                     size_t *n, struct err *e)
{
    struct incident_list l = {0};
    enum err_code rc = db->ops->query(db, sql, collect_incident, &l, e);
    if (rc) {
        free(l.v);
        return err_prefix(e, "reading incidents");
    }
    *out = l.v;
    *n = l.n;
    return ERR_OK;
}

enum err_code db_incidents_open(struct db *db, int limit, struct db_incident **out, size_t *n,
                                struct err *e)
{
    *out = NULL;
    *n = 0;
    if (limit <= 0)
        return ERR_OK;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT " INCIDENT_COLS " FROM %s WHERE resuelto_en IS NULL ORDER BY id LIMIT %d",
             incidents_table(), limit);
    return incidents_query(db, sql, out, n, e);
}

enum err_code db_incidents_of_run(struct db *db, long long run_id, struct db_incident **out,
                                  size_t *n, struct err *e)
{
    *out = NULL;
    *n = 0;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT " INCIDENT_COLS " FROM %s WHERE id_ejecucion = %lld ORDER BY id",
             incidents_table(), run_id);
    return incidents_query(db, sql, out, n, e);
}

enum err_code db_incidents_resolve(struct db *db, const long long *ids, size_t n,
                                   const char *resolved_at, struct err *e)
{
    struct buf sql;
    buf_init(&sql, 0);
    enum err_code rc = ERR_OK;
    const char *params[] = {resolved_at};
    for (size_t off = 0; off < n && !rc; off += DB_IN_CHUNK) {
        size_t k = n - off < DB_IN_CHUNK ? n - off : DB_IN_CHUNK;
        buf_reset(&sql);
        (void)buf_appendf(&sql, NULL, "UPDATE %s SET resuelto_en = ? WHERE id IN (",
                          incidents_table());
        for (size_t i = 0; i < k; i++)
            (void)buf_appendf(&sql, NULL, "%s%lld", i ? "," : "", ids[off + i]);
        (void)buf_append_str(&sql, ") AND resuelto_en IS NULL", NULL);
        rc = db->ops->exec_params(db, sql.data, params, 1, NULL, e);
    }
    buf_release(&sql);
    if (rc)
        return err_prefix(e, "resolving incidents");
    return ERR_OK;
}

struct left_runs {
    char ids[32][24];
    char since[32][20];
    size_t n;
};

static int collect_left(void *ctx, int ncols, const char *const *names, const char *const *c)
{
    struct left_runs *l = ctx;
    if (ncols < 2 || !c[0] || l->n >= ARRAY_LEN(l->ids))
        return 0;
    snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", c[0]);
    snprintf(l->since[l->n], sizeof(l->since[0]), "%s", c[1] ? c[1] : "?");
    l->n++;
    return 0;
}

enum err_code db_run_close_left(struct db *db, const char *cause, int *closed, struct err *e)
{
    struct left_runs l;
    memset(&l, 0, sizeof(l));
    *closed = 0;
    char sql[192];
    snprintf(sql, sizeof(sql), "SELECT id, inicio FROM %s WHERE estado = 'running' ORDER BY id",
             runs_table());
    enum err_code rc = db_query(db, sql, collect_left, &l, e);
    char now[20];
    utc_now(now);
    for (size_t i = 0; !rc && i < l.n; i++) {
        char why[ERR_MSG_MAX];
        snprintf(why, sizeof(why), "%s (last seen %s UTC, when it started)", cause, l.since[i]);
        const char *params[] = {now, why, l.ids[i]};
        snprintf(sql, sizeof(sql),
                 "UPDATE %s SET estado = 'failed', fin = COALESCE(fin, ?), "
                 "error = COALESCE(NULLIF(error, ''), ?) WHERE id = ? AND estado = 'running'",
                 runs_table());
        rc = db->ops->exec_params(db, sql, params, ARRAY_LEN(params), NULL, e);
        *closed += !rc;
    }
    if (rc)
        return err_prefix(e, "closing runs left running");
    return ERR_OK;
}

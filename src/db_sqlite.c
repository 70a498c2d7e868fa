/*
 * SQLite backend: WAL, busy timeout, one cached upsert statement per table,
 * a flock()ed "<path>.lock" for the single-flight lock. Only db.c calls in.
 */
#include "common.h"

#define LOG_MODULE "db"
#include "buf.h"
#include "db_backend.h"
#include "db_nameset.h"
#include "db_sql.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 10000
/*
 * "sqlite://" is one in-memory database shared by every connection of the
 * process (the runner opens several). The memdb VFS shares it by name and,
 * unlike shared-cache mode (SQLITE_LOCKED at once), honours the busy timeout:
 * readers and a second writer wait for the running transaction to commit.
 */
#define MEMORY_URI "file:/patitas-etl-memory?vfs=memdb"

struct stmt_cache {
    const struct cat_table *table;
    sqlite3_stmt *st;
};

struct sqlite_db {
    struct db base;
    sqlite3 *h;
    char *path;
    bool memory;
    int lock_fd;      /* -1 unless this connection holds the file lock */
    bool memory_lock; /* this connection holds the in-process lock */
    struct stmt_cache cache[32];
    size_t ncache;
};

static pthread_mutex_t memory_lock_mu = PTHREAD_MUTEX_INITIALIZER;
static bool memory_lock_held;

static struct sqlite_db *S(struct db *db)
{
    return (struct sqlite_db *)db;
}

static enum err_code sqlite_fail(struct sqlite_db *s, struct err *e, const char *what)
{
    return err_set(e, ERR_DB, "%s: %s", what, sqlite3_errmsg(s->h));
}

static enum err_code s_exec(struct db *db, const char *sql, struct err *e)
{
    char *msg = NULL;
    if (sqlite3_exec(S(db)->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        err_set(e, ERR_DB, "sqlite: %s", msg ? msg : sqlite3_errmsg(S(db)->h));
        sqlite3_free(msg);
        return ERR_DB;
    }
    return ERR_OK;
}

static enum err_code s_exec_params(struct db *db, const char *sql, const char *const *params,
                                   size_t n, long long *insert_id, struct err *e)
{
    struct sqlite_db *s = S(db);
    sqlite3_stmt *st = NULL;
    enum err_code rc = ERR_OK;
    if (sqlite3_prepare_v2(s->h, sql, -1, &st, NULL) != SQLITE_OK)
        return sqlite_fail(s, e, "sqlite prepare");
    for (size_t i = 0; i < n; i++) {
        int brc = params[i] ? sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC)
                            : sqlite3_bind_null(st, (int)i + 1);
        if (brc != SQLITE_OK) {
            rc = sqlite_fail(s, e, "sqlite bind");
            goto out;
        }
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (step != SQLITE_DONE) {
        rc = sqlite_fail(s, e, "sqlite");
        goto out;
    }
    if (insert_id)
        *insert_id = sqlite3_last_insert_rowid(s->h);
out:
    sqlite3_finalize(st);
    return rc;
}

static enum err_code s_query(struct db *db, const char *sql, db_row_fn row, void *ctx,
                             struct err *e)
{
    struct sqlite_db *s = S(db);
    sqlite3_stmt *st = NULL;
    const char **names = NULL, **cells = NULL;
    enum err_code rc = ERR_OK;
    if (sqlite3_prepare_v2(s->h, sql, -1, &st, NULL) != SQLITE_OK)
        return sqlite_fail(s, e, "sqlite query");
    if (!st)
        return ERR_OK; /* only whitespace or a comment */
    int nc = sqlite3_column_count(st);
    names = xcalloc((size_t)nc + 1, sizeof(*names));
    cells = xcalloc((size_t)nc + 1, sizeof(*cells));
    for (int i = 0; i < nc; i++)
        names[i] = sqlite3_column_name(st, i);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < nc; i++)
            cells[i] = (const char *)sqlite3_column_text(st, i);
        if (row && row(ctx, nc, names, cells) != 0) {
            step = SQLITE_DONE;
            break;
        }
    }
    if (step != SQLITE_DONE)
        rc = sqlite_fail(s, e, "sqlite query");
    free(names);
    free(cells);
    sqlite3_finalize(st);
    return rc;
}

static enum err_code s_has_table(struct db *db, const char *name, bool *found, struct err *e)
{
    struct sqlite_db *s = S(db);
    sqlite3_stmt *st = NULL;
    *found = false;
    if (sqlite3_prepare_v2(s->h, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return sqlite_fail(s, e, "sqlite");
    enum err_code rc = ERR_OK;
    if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
        rc = sqlite_fail(s, e, "sqlite bind");
    } else {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            *found = true;
        else if (step != SQLITE_DONE)
            rc = sqlite_fail(s, e, "sqlite");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- DDL from the catalog ---- */

static enum err_code add_missing_columns(struct db *db, const struct cat_table *t, struct buf *sql,
                                         struct err *e)
{
    struct db_nameset cs = {.n = 0};
    buf_reset(sql);
    (void)buf_appendf(sql, NULL, "SELECT name FROM pragma_table_info('%s')", t->name);
    enum err_code rc = s_query(db, sql->data, db_nameset_collect, &cs, e);
    for (size_t i = 0; !rc && i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        if (db_nameset_has(&cs, c->name))
            continue;
        if (c->flags & CAT_KEY)
            return err_set(e, ERR_SCHEMA, "table %s lacks its key column %s", t->name, c->name);
        buf_reset(sql);
        db_sql_add_column(sql, &db_sql_sqlite, t, c);
        rc = s_exec(db, sql->data, e);
        if (!rc)
            log_info("added column %s.%s", t->name, c->name);
    }
    return rc;
}

static enum err_code ensure_indexes(struct db *db, const struct cat_table *t, struct buf *sql,
                                    struct err *e)
{
    enum err_code rc = ERR_OK;
    for (size_t i = 0; !rc && i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        if (!(c->flags & CAT_INDEX))
            continue;
        char name[160];
        db_sql_index_name(name, sizeof(name), t, c);
        buf_reset(sql);
        (void)buf_appendf(sql, NULL, "CREATE INDEX IF NOT EXISTS %s ON %s (%s)", name, t->name,
                          c->name);
        rc = s_exec(db, sql->data, e);
    }
    if (!rc && t->unique) {
        char name[160];
        db_sql_unique_name(name, sizeof(name), t);
        buf_reset(sql);
        (void)buf_appendf(sql, NULL, "CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (", name, t->name);
        db_sql_unique_list(sql, t);
        (void)buf_append_str(sql, ")", NULL);
        rc = s_exec(db, sql->data, e);
    }
    return rc;
}

static enum err_code s_ensure_table(struct db *db, const struct cat_table *t, struct err *e)
{
    struct buf sql;
    bool found = false;
    buf_init(&sql, 0);
    enum err_code rc = s_has_table(db, t->name, &found, e);
    if (rc)
        goto out;
    if (found) {
        rc = add_missing_columns(db, t, &sql, e);
    } else {
        db_sql_create_table(&sql, &db_sql_sqlite, t);
        rc = s_exec(db, sql.data, e);
    }
    if (!rc)
        rc = ensure_indexes(db, t, &sql, e);
out:
    buf_release(&sql);
    if (rc)
        return err_prefix(e, "table %s", t->name);
    return ERR_OK;
}

/* ---- transactions and upserts ---- */

static enum err_code s_begin(struct db *db, struct err *e)
{
    /* IMMEDIATE takes the write lock now, so the busy timeout applies here, not mid-batch. */
    return s_exec(db, "BEGIN IMMEDIATE", e);
}

static enum err_code s_commit(struct db *db, struct err *e)
{
    return s_exec(db, "COMMIT", e);
}

static enum err_code s_rollback(struct db *db, struct err *e)
{
    if (sqlite3_get_autocommit(S(db)->h))
        return ERR_OK;
    return s_exec(db, "ROLLBACK", e);
}

static void upsert_sql(struct buf *b, const struct cat_table *t)
{
    db_sql_upsert_prefix(b, t);
    db_sql_placeholders(b, t);
    db_sql_upsert_suffix(b, &db_sql_sqlite, t);
}

/* The table's prepared upsert, compiled once per connection. Borrowed. */
static enum err_code upsert_stmt(struct sqlite_db *s, const struct cat_table *t, sqlite3_stmt **out,
                                 struct err *e)
{
    for (size_t i = 0; i < s->ncache; i++) {
        if (s->cache[i].table == t) {
            *out = s->cache[i].st;
            return ERR_OK;
        }
    }
    if (s->ncache == ARRAY_LEN(s->cache))
        return err_set(e, ERR_INTERNAL, "sqlite: statement cache full");
    struct buf sql;
    buf_init(&sql, 0);
    upsert_sql(&sql, t);
    sqlite3_stmt *st = NULL;
    int prc = sqlite3_prepare_v3(s->h, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    buf_release(&sql);
    if (prc != SQLITE_OK)
        return sqlite_fail(s, e, "sqlite prepare upsert");
    s->cache[s->ncache].table = t;
    s->cache[s->ncache++].st = st;
    *out = st;
    return ERR_OK;
}

static int bind_cell(sqlite3_stmt *st, int idx, const struct cat_column *c,
                     const struct cat_value *v, const char *synced_at)
{
    if (c->type == CAT_SYNCED_AT)
        return sqlite3_bind_text(st, idx, synced_at, -1, SQLITE_STATIC);
    switch (v->kind) {
    case CAT_V_INT:
        return sqlite3_bind_int64(st, idx, v->i);
    case CAT_V_TEXT:
        return sqlite3_bind_text(st, idx, v->s, (int)v->len, SQLITE_STATIC);
    case CAT_V_NULL:
        break;
    }
    return sqlite3_bind_null(st, idx);
}

static enum err_code s_upsert(struct db *db, const struct cat_rows *rows, const char *synced_at,
                              struct err *e)
{
    struct sqlite_db *s = S(db);
    const struct cat_table *t = rows->table;
    sqlite3_stmt *st = NULL;
    enum err_code rc = upsert_stmt(s, t, &st, e);
    if (rc)
        return rc;
    for (size_t r = 0; r < rows->n; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            if (bind_cell(st, (int)c + 1, &t->cols[c], cat_rows_cell(rows, r, c), synced_at) !=
                SQLITE_OK) {
                rc = sqlite_fail(s, e, "sqlite bind");
                break;
            }
        }
        if (!rc && sqlite3_step(st) != SQLITE_DONE)
            rc = err_set(e, ERR_DB, "row %zu: %s", r, sqlite3_errmsg(s->h));
        sqlite3_reset(st);
        if (rc)
            break;
    }
    sqlite3_clear_bindings(st);
    return rc;
}

/* ---- single-flight lock ---- */

static enum err_code s_lock(struct db *db, struct err *e)
{
    struct sqlite_db *s = S(db);
    if (s->lock_fd >= 0 || s->memory_lock)
        return ERR_OK;
    if (s->memory) {
        bool busy;
        pthread_mutex_lock(&memory_lock_mu);
        busy = memory_lock_held;
        memory_lock_held = true;
        pthread_mutex_unlock(&memory_lock_mu);
        if (busy)
            return err_set(e, ERR_BUSY, DB_LOCK_BUSY_MSG " (in-memory database lock is held)");
        s->memory_lock = true;
        return ERR_OK;
    }
    char *lock_path = xasprintf("%s.lock", s->path);
    enum err_code rc = ERR_OK;
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = err_set(e, ERR_IO, "cannot open lock file '%s': %s", lock_path, strerror(errno));
        goto out;
    }
    /* flock dies with the process: a crashed sync never leaves the lock behind. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            rc = err_set(e, ERR_BUSY, DB_LOCK_BUSY_MSG " (lock file '%s' is held)", lock_path);
        else
            rc = err_set(e, ERR_IO, "cannot lock '%s': %s", lock_path, strerror(errno));
        close(fd);
        goto out;
    }
    s->lock_fd = fd;
out:
    free(lock_path);
    return rc;
}

static void s_unlock(struct db *db)
{
    struct sqlite_db *s = S(db);
    if (s->lock_fd >= 0) {
        (void)flock(s->lock_fd, LOCK_UN);
        close(s->lock_fd);
        s->lock_fd = -1;
    }
    if (s->memory_lock) {
        pthread_mutex_lock(&memory_lock_mu);
        memory_lock_held = false;
        pthread_mutex_unlock(&memory_lock_mu);
        s->memory_lock = false;
    }
}

static enum err_code s_ping(struct db *db, struct err *e)
{
    return s_query(db, "SELECT 1", NULL, NULL, e);
}

static void s_close(struct db *db)
{
    struct sqlite_db *s = S(db);
    s_unlock(db);
    for (size_t i = 0; i < s->ncache; i++)
        sqlite3_finalize(s->cache[i].st);
    if (sqlite3_close(s->h) != SQLITE_OK)
        log_warn("sqlite close: %s", sqlite3_errmsg(s->h));
    free(s->path);
    free(s);
}

static const struct db_ops sqlite_ops = {
    .name = "sqlite",
    .close = s_close,
    .exec = s_exec,
    .exec_params = s_exec_params,
    .query = s_query,
    .has_table = s_has_table,
    .ensure_table = s_ensure_table,
    .begin = s_begin,
    .commit = s_commit,
    .rollback = s_rollback,
    .upsert = s_upsert,
    .lock = s_lock,
    .unlock = s_unlock,
    .ping = s_ping,
};

static enum err_code s_configure(struct sqlite_db *s, struct err *e)
{
    if (sqlite3_busy_timeout(s->h, BUSY_TIMEOUT_MS) != SQLITE_OK)
        return sqlite_fail(s, e, "sqlite busy timeout");
    if (s->memory)
        return ERR_OK;
    /* WAL lets report readers run while the writer commits; NORMAL is durable enough in WAL. */
    enum err_code rc = s_query(&s->base, "PRAGMA journal_mode=WAL", NULL, NULL, e);
    if (!rc)
        rc = s_exec(&s->base, "PRAGMA synchronous=NORMAL", e);
    return rc;
}

enum err_code db_sqlite_open(const struct db_url *url, struct db **out, struct err *e)
{
    *out = NULL;
    if (!url->path || !*url->path)
        return err_set(e, ERR_CONFIG, "DATABASE_URL: sqlite URL without a path");
    struct sqlite_db *s = xcalloc(1, sizeof(*s));
    s->base.ops = &sqlite_ops;
    s->lock_fd = -1;
    s->path = xstrdup(url->path);
    s->memory = strcmp(url->path, ":memory:") == 0;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const char *name = s->path;
    if (s->memory) {
        flags |= SQLITE_OPEN_URI;
        name = MEMORY_URI;
    }
    enum err_code rc = ERR_OK;
    if (sqlite3_open_v2(name, &s->h, flags, NULL) != SQLITE_OK) {
        rc = err_set(e, ERR_DB, "cannot open database '%s': %s", s->path,
                     s->h ? sqlite3_errmsg(s->h) : "out of memory");
        goto out;
    }
    (void)sqlite3_extended_result_codes(s->h, 1);
    rc = s_configure(s, e);
    if (rc)
        err_prefix(e, "cannot open database '%s'", s->path);
out:
    if (rc) {
        sqlite3_close(s->h);
        free(s->path);
        free(s);
        return rc;
    }
    *out = &s->base;
    return ERR_OK;
}

/*
 * MySQL/MariaDB backend (MariaDB Connector/C): utf8mb4, strict mode, UTC,
 * escaped multi-row INSERT ... ON DUPLICATE KEY UPDATE batches, GET_LOCK for
 * the single-flight lock. Only db.c calls in.
 */
#include "common.h"

#define LOG_MODULE "db"
#include "buf.h"
#include "db_backend.h"
#include "db_nameset.h"
#include "db_sql.h"
#include "log.h"

#include <mysql.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECT_TIMEOUT_S 10
#define IO_TIMEOUT_S 120
/* Rows per INSERT statement; the packet limit may cut a statement shorter. */
#define ROWS_PER_STATEMENT 500
#define STATEMENT_CAP (8u << 20)

struct mysql_db {
    struct db base;
    MYSQL *h;
    char *database;
    size_t max_statement; /* bytes, below max_allowed_packet */
    bool locked;
    char lock_name[160]; /* already escaped for a string literal (2 x 64 + 1 at most) */
};

static struct mysql_db *M(struct db *db)
{
    return (struct mysql_db *)db;
}

static enum err_code mysql_fail(struct mysql_db *m, struct err *e, const char *what)
{
    return err_set(e, ERR_DB, "%s: %s (%u)", what, mysql_error(m->h), mysql_errno(m->h));
}

static enum err_code m_exec(struct db *db, const char *sql, struct err *e)
{
    struct mysql_db *m = M(db);
    if (mysql_real_query(m->h, sql, strlen(sql)) != 0)
        return mysql_fail(m, e, "mysql");
    /* Drain a result set if the statement produced one. */
    MYSQL_RES *res = mysql_store_result(m->h);
    if (res)
        mysql_free_result(res);
    else if (mysql_field_count(m->h) != 0)
        return mysql_fail(m, e, "mysql result");
    return ERR_OK;
}

static enum err_code m_exec_params(struct db *db, const char *sql, const char *const *params,
                                   size_t n, long long *insert_id, struct err *e)
{
    struct mysql_db *m = M(db);
    enum err_code rc = ERR_OK;
    MYSQL_BIND *bind = xcalloc(n ? n : 1, sizeof(*bind));
    unsigned long *lens = xcalloc(n ? n : 1, sizeof(*lens));
    my_bool *nulls = xcalloc(n ? n : 1, sizeof(*nulls));
    MYSQL_STMT *st = mysql_stmt_init(m->h);
    if (!st) {
        rc = mysql_fail(m, e, "mysql statement");
        goto out;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        rc = err_set(e, ERR_DB, "mysql prepare: %s", mysql_stmt_error(st));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        nulls[i] = params[i] == NULL;
        lens[i] = params[i] ? strlen(params[i]) : 0;
        bind[i].buffer_type = MYSQL_TYPE_STRING;
        bind[i].buffer = (void *)(params[i] ? params[i] : "");
        bind[i].buffer_length = lens[i];
        bind[i].length = &lens[i];
        bind[i].is_null = &nulls[i];
    }
    if ((n && mysql_stmt_bind_param(st, bind) != 0) || mysql_stmt_execute(st) != 0) {
        rc = err_set(e, ERR_DB, "mysql: %s (%u)", mysql_stmt_error(st), mysql_stmt_errno(st));
        goto out;
    }
    if (insert_id)
        *insert_id = (long long)mysql_stmt_insert_id(st);
out:
    if (st)
        mysql_stmt_close(st);
    free(bind);
    free(lens);
    free(nulls);
    return rc;
}

/* DECIMAL(18,4) reads "12990.0000": give the catalog's canonical "12990", as SQLite does. */
static void trim_decimal(char *s)
{
    char *dot = s ? strchr(s, '.') : NULL;
    if (!dot)
        return;
    char *end = dot + strlen(dot);
    while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
}

static enum err_code m_query(struct db *db, const char *sql, db_row_fn row, void *ctx,
                             struct err *e)
{
    struct mysql_db *m = M(db);
    if (mysql_real_query(m->h, sql, strlen(sql)) != 0)
        return mysql_fail(m, e, "mysql query");
    MYSQL_RES *res = mysql_use_result(m->h);
    if (!res)
        return mysql_field_count(m->h) == 0 ? ERR_OK : mysql_fail(m, e, "mysql query");
    unsigned nc = mysql_num_fields(res);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    const char **names = xcalloc(nc + 1, sizeof(*names));
    for (unsigned i = 0; i < nc; i++)
        names[i] = fields[i].name;
    bool stopped = false;
    MYSQL_ROW r;
    while ((r = mysql_fetch_row(res)) != NULL) {
        if (stopped)
            continue; /* drain: the connection is unusable until the set is read */
        for (unsigned i = 0; i < nc; i++)
            if (fields[i].type == MYSQL_TYPE_NEWDECIMAL || fields[i].type == MYSQL_TYPE_DECIMAL)
                trim_decimal(r[i]);
        if (row && row(ctx, (int)nc, names, (const char *const *)r) != 0)
            stopped = true;
    }
    enum err_code rc = mysql_errno(m->h) ? mysql_fail(m, e, "mysql fetch") : ERR_OK;
    free(names);
    mysql_free_result(res);
    return rc;
}

/* Appends s as a quoted, escaped string literal. */
static void append_literal(struct mysql_db *m, struct buf *b, const char *s, size_t len)
{
    size_t need = b->len + 2 * len + 3;
    if (need > b->alloc) {
        b->alloc = need * 2;
        b->data = xrealloc(b->data, b->alloc);
    }
    char *p = b->data + b->len;
    *p++ = '\'';
    unsigned long n = mysql_real_escape_string(m->h, p, s, (unsigned long)len);
    p += n;
    *p++ = '\'';
    *p = '\0';
    b->len = (size_t)(p - b->data);
}

struct count_ctx {
    long long n;
};

static int count_cell(void *ctx, int ncols, const char *const *names, const char *const *c)
{
    struct count_ctx *cc = ctx;
    cc->n = ncols > 0 && c[0] ? strtoll(c[0], NULL, 10) : 0;
    return 0;
}

static enum err_code m_has_table(struct db *db, const char *name, bool *found, struct err *e)
{
    struct mysql_db *m = M(db);
    struct buf sql;
    struct count_ctx cc = {0};
    buf_init(&sql, 0);
    (void)buf_append_str(&sql,
                         "SELECT COUNT(*) FROM information_schema.tables "
                         "WHERE table_schema = DATABASE() AND table_name = ",
                         NULL);
    append_literal(m, &sql, name, strlen(name));
    enum err_code rc = m_query(db, sql.data, count_cell, &cc, e);
    buf_release(&sql);
    *found = cc.n > 0;
    return rc;
}

/* ---- DDL from the catalog ---- */

static enum err_code list_names(struct db *db, const char *what, const char *table,
                                struct db_nameset *ns, struct err *e)
{
    struct buf sql;
    buf_init(&sql, 0);
    ns->n = 0;
    (void)buf_appendf(&sql, NULL,
                      "SELECT %s FROM information_schema.%s WHERE table_schema = DATABASE() "
                      "AND table_name = ",
                      strcmp(what, "columns") == 0 ? "column_name" : "DISTINCT index_name", what);
    append_literal(M(db), &sql, table, strlen(table));
    enum err_code rc = m_query(db, sql.data, db_nameset_collect, ns, e);
    buf_release(&sql);
    return rc;
}

/* Long-text columns an older build created as VARCHAR(255) become TEXT (no value is cut). */
static enum err_code widen_text_columns(struct db *db, const struct cat_table *t,
                                        struct db_nameset *ns, struct buf *sql, struct err *e)
{
    buf_reset(sql);
    (void)buf_append_str(sql,
                         "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                         "DATABASE() AND data_type = 'varchar' AND table_name = ",
                         NULL);
    append_literal(M(db), sql, t->name, strlen(t->name));
    ns->n = 0;
    enum err_code rc = m_query(db, sql->data, db_nameset_collect, ns, e);
    for (size_t i = 0; !rc && i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        if (c->type != CAT_LONGTEXT || !db_nameset_has(ns, c->name))
            continue;
        buf_reset(sql);
        (void)buf_appendf(sql, NULL, "ALTER TABLE %s MODIFY COLUMN ", t->name);
        db_sql_column_def(sql, &db_sql_mysql, c, false);
        rc = m_exec(db, sql->data, e);
        if (!rc)
            log_info("widened column %s.%s to TEXT", t->name, c->name);
    }
    return rc;
}

/* An older table gets the catalog's newer columns and indexes (ALTER TABLE ... ADD). */
static enum err_code upgrade_table(struct db *db, const struct cat_table *t, struct err *e)
{
    struct db_nameset *ns = xcalloc(1, sizeof(*ns));
    struct buf sql;
    buf_init(&sql, 0);
    enum err_code rc = list_names(db, "columns", t->name, ns, e);
    for (size_t i = 0; !rc && i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        if (db_nameset_has(ns, c->name))
            continue;
        if (c->flags & CAT_KEY) {
            rc = err_set(e, ERR_SCHEMA, "table %s lacks its key column %s", t->name, c->name);
            break;
        }
        buf_reset(&sql);
        db_sql_add_column(&sql, &db_sql_mysql, t, c);
        rc = m_exec(db, sql.data, e);
        if (!rc)
            log_info("added column %s.%s", t->name, c->name);
    }
    if (!rc)
        rc = widen_text_columns(db, t, ns, &sql, e);
    if (!rc)
        rc = list_names(db, "statistics", t->name, ns, e);
    for (size_t i = 0; !rc && i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        char idx[160];
        db_sql_index_name(idx, sizeof(idx), t, c);
        if (!(c->flags & CAT_INDEX) || db_nameset_has(ns, idx))
            continue;
        buf_reset(&sql);
        (void)buf_appendf(&sql, NULL, "ALTER TABLE %s ADD INDEX %s (%s)", t->name, idx, c->name);
        rc = m_exec(db, sql.data, e);
    }
    char uq[160];
    db_sql_unique_name(uq, sizeof(uq), t);
    if (!rc && t->unique && !db_nameset_has(ns, uq)) {
        buf_reset(&sql);
        (void)buf_appendf(&sql, NULL, "ALTER TABLE %s ADD UNIQUE KEY %s (", t->name, uq);
        db_sql_unique_list(&sql, t);
        (void)buf_append_str(&sql, ")", NULL);
        rc = m_exec(db, sql.data, e);
    }
    buf_release(&sql);
    free(ns);
    return rc;
}

static enum err_code m_ensure_table(struct db *db, const struct cat_table *t, struct err *e)
{
    bool found = false;
    enum err_code rc = m_has_table(db, t->name, &found, e);
    if (!rc && found) {
        rc = upgrade_table(db, t, e);
    } else if (!rc) {
        struct buf sql;
        buf_init(&sql, 0);
        db_sql_create_table(&sql, &db_sql_mysql, t);
        rc = m_exec(db, sql.data, e);
        buf_release(&sql);
    }
    if (rc)
        return err_prefix(e, "table %s", t->name);
    return ERR_OK;
}

/* ---- transactions and upserts ---- */

static enum err_code m_begin(struct db *db, struct err *e)
{
    return m_exec(db, "START TRANSACTION", e);
}

static enum err_code m_commit(struct db *db, struct err *e)
{
    return m_exec(db, "COMMIT", e);
}

static enum err_code m_rollback(struct db *db, struct err *e)
{
    return m_exec(db, "ROLLBACK", e);
}

static void row_values(struct mysql_db *m, struct buf *b, const struct cat_rows *rows, size_t r,
                       const char *synced_at)
{
    const struct cat_table *t = rows->table;
    (void)buf_append_str(b, "(", NULL);
    for (size_t c = 0; c < t->ncols; c++) {
        const struct cat_value *v = cat_rows_cell(rows, r, c);
        if (c)
            (void)buf_append_str(b, ",", NULL);
        if (t->cols[c].type == CAT_SYNCED_AT)
            append_literal(m, b, synced_at, strlen(synced_at));
        else if (v->kind == CAT_V_INT)
            (void)buf_appendf(b, NULL, "%lld", (long long)v->i);
        else if (v->kind == CAT_V_TEXT)
            append_literal(m, b, v->s, v->len);
        else
            (void)buf_append_str(b, "NULL", NULL);
    }
    (void)buf_append_str(b, ")", NULL);
}

static enum err_code flush_statement(struct db *db, struct buf *stmt, const struct buf *suffix,
                                     size_t first_row, struct err *e)
{
    (void)buf_append(stmt, suffix->data, suffix->len, NULL);
    enum err_code rc = m_exec(db, stmt->data, e);
    if (rc)
        return err_prefix(e, "rows from %zu", first_row);
    return ERR_OK;
}

static enum err_code m_upsert(struct db *db, const struct cat_rows *rows, const char *synced_at,
                              struct err *e)
{
    struct mysql_db *m = M(db);
    struct buf prefix, suffix, stmt, row;
    buf_init(&prefix, 0);
    buf_init(&suffix, 0);
    buf_init(&stmt, 0);
    buf_init(&row, 0);
    db_sql_upsert_prefix(&prefix, rows->table);
    db_sql_upsert_suffix(&suffix, &db_sql_mysql, rows->table);
    enum err_code rc = ERR_OK;
    size_t in_stmt = 0, first = 0;
    for (size_t r = 0; r < rows->n && !rc; r++) {
        buf_reset(&row);
        row_values(m, &row, rows, r, synced_at);
        size_t fixed = prefix.len + suffix.len + 1;
        if (fixed + row.len > m->max_statement) {
            rc = err_set(e, ERR_LIMIT, "row %zu is larger than max_allowed_packet", r);
            break;
        }
        if (in_stmt > 0 && (in_stmt == ROWS_PER_STATEMENT ||
                            stmt.len + row.len + suffix.len + 1 > m->max_statement)) {
            rc = flush_statement(db, &stmt, &suffix, first, e);
            in_stmt = 0;
        }
        if (rc)
            break;
        if (in_stmt == 0) {
            buf_reset(&stmt);
            (void)buf_append(&stmt, prefix.data, prefix.len, NULL);
            first = r;
        } else {
            (void)buf_append_str(&stmt, ",", NULL);
        }
        (void)buf_append(&stmt, row.data, row.len, NULL);
        in_stmt++;
    }
    if (!rc && in_stmt > 0)
        rc = flush_statement(db, &stmt, &suffix, first, e);
    buf_release(&prefix);
    buf_release(&suffix);
    buf_release(&stmt);
    buf_release(&row);
    return rc;
}

/* ---- single-flight lock: GET_LOCK lives as long as the connection ---- */

static enum err_code m_lock(struct db *db, struct err *e)
{
    struct mysql_db *m = M(db);
    if (m->locked)
        return ERR_OK;
    char sql[256];
    struct count_ctx cc = {.n = -1};
    snprintf(sql, sizeof(sql), "SELECT GET_LOCK('%s', 0)", m->lock_name);
    enum err_code rc = m_query(db, sql, count_cell, &cc, e);
    if (rc)
        return err_prefix(e, "lock");
    if (cc.n == 0)
        return err_set(e, ERR_BUSY, DB_LOCK_BUSY_MSG " (lock '%s' is held)", m->lock_name);
    if (cc.n != 1)
        return err_set(e, ERR_DB, "lock: GET_LOCK('%s') failed", m->lock_name);
    m->locked = true;
    return ERR_OK;
}

static void m_unlock(struct db *db)
{
    struct mysql_db *m = M(db);
    if (!m->locked)
        return;
    char sql[256];
    struct err e = ERR_INIT;
    snprintf(sql, sizeof(sql), "SELECT RELEASE_LOCK('%s')", m->lock_name);
    if (m_query(db, sql, NULL, NULL, &e) != ERR_OK)
        log_warn("unlock: %s", e.msg);
    m->locked = false;
}

static enum err_code m_ping(struct db *db, struct err *e)
{
    struct mysql_db *m = M(db);
    if (mysql_ping(m->h) != 0)
        return mysql_fail(m, e, "mysql ping");
    return ERR_OK;
}

static void m_close(struct db *db)
{
    struct mysql_db *m = M(db);
    m_unlock(db);
    mysql_close(m->h);
    free(m->database);
    free(m);
}

static const struct db_ops mysql_ops = {
    .name = "mysql",
    .close = m_close,
    .exec = m_exec,
    .exec_params = m_exec_params,
    .query = m_query,
    .has_table = m_has_table,
    .ensure_table = m_ensure_table,
    .begin = m_begin,
    .commit = m_commit,
    .rollback = m_rollback,
    .upsert = m_upsert,
    .lock = m_lock,
    .unlock = m_unlock,
    .ping = m_ping,
};

/* ---- connecting ---- */

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;

static void library_init(void)
{
    library_rc = mysql_library_init(0, NULL, NULL);
}

static enum err_code set_options(struct mysql_db *m, const struct db_url *url, struct err *e)
{
    unsigned connect_s = url->connect_timeout_s ? url->connect_timeout_s : CONNECT_TIMEOUT_S;
    unsigned io_s = IO_TIMEOUT_S;
    my_bool yes = 1, verify = url->ssl_verify ? 1 : 0;
    const char *charset = url->charset ? url->charset : "utf8mb4";
    int bad = mysql_optionsv(m->h, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s) |
              mysql_optionsv(m->h, MYSQL_OPT_READ_TIMEOUT, &io_s) |
              mysql_optionsv(m->h, MYSQL_OPT_WRITE_TIMEOUT, &io_s) |
              mysql_optionsv(m->h, MYSQL_SET_CHARSET_NAME, charset);
    if (!bad && url->ssl) {
        bad |= mysql_optionsv(m->h, MYSQL_OPT_SSL_ENFORCE, &yes);
        if (url->ssl_ca)
            bad |= mysql_optionsv(m->h, MYSQL_OPT_SSL_CA, url->ssl_ca);
        if (url->ssl_cert)
            bad |= mysql_optionsv(m->h, MYSQL_OPT_SSL_CERT, url->ssl_cert);
        if (url->ssl_key)
            bad |= mysql_optionsv(m->h, MYSQL_OPT_SSL_KEY, url->ssl_key);
    }
    if (!bad)
        bad |= mysql_optionsv(m->h, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    if (bad)
        return err_set(e, ERR_CONFIG, "mysql: cannot set connection options: %s",
                       mysql_error(m->h));
    return ERR_OK;
}

/* Session settings every statement relies on: strict types, UTC, autocommit outside txns. */
static enum err_code configure_session(struct mysql_db *m, struct err *e)
{
    enum err_code rc = m_exec(&m->base,
                              "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,"
                              "NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
                              "time_zone = '+00:00', autocommit = 1",
                              e);
    if (rc)
        return rc;
    struct count_ctx cc = {0};
    rc = m_query(&m->base, "SELECT @@max_allowed_packet", count_cell, &cc, e);
    if (rc)
        return rc;
    size_t packet = cc.n > 4096 ? (size_t)cc.n - 1024 : 4096;
    m->max_statement = packet < STATEMENT_CAP ? packet : STATEMENT_CAP;
    return ERR_OK;
}

static void make_lock_name(struct mysql_db *m)
{
    /* GET_LOCK names are at most 64 characters. */
    char raw[65];
    snprintf(raw, sizeof(raw), "%.46s.patitas_etl_sync", m->database ? m->database : "");
    mysql_real_escape_string(m->h, m->lock_name, raw, (unsigned long)strlen(raw));
}

enum err_code db_mysql_open(const struct db_url *url, struct db **out, struct err *e)
{
    *out = NULL;
    (void)pthread_once(&library_once, library_init);
    if (library_rc)
        return err_set(e, ERR_DB, "mysql: cannot initialize the client library");
    struct mysql_db *m = xcalloc(1, sizeof(*m));
    m->base.ops = &mysql_ops;
    m->database = url->database ? xstrdup(url->database) : NULL;
    char where[512];
    if (url->unix_socket)
        snprintf(where, sizeof(where), "socket %s", url->unix_socket);
    else
        snprintf(where, sizeof(where), "%s:%u", url->host ? url->host : "localhost",
                 url->port ? url->port : 3306);
    enum err_code rc = ERR_OK;
    m->h = mysql_init(NULL);
    if (!m->h) {
        rc = err_set(e, ERR_DB, "mysql: out of memory");
        goto out;
    }
    rc = set_options(m, url, e);
    if (rc)
        goto out;
    const char *host = url->unix_socket && !url->host ? "localhost" : url->host;
    if (!mysql_real_connect(m->h, host, url->user, url->password, url->database, url->port,
                            url->unix_socket, 0)) {
        /* The library's text names the user, never the password. */
        rc = err_set(e, ERR_DB, "cannot connect to MySQL database '%s' at %s as user '%s': %s",
                     url->database ? url->database : "", where, url->user ? url->user : "",
                     mysql_error(m->h));
        goto out;
    }
    /*
     * Connector/C treats MYSQL_OPT_SSL_ENFORCE as "TLS if the server offers it"
     * unless the certificate is verified: refuse a plaintext TCP session here.
     * A unix socket (Cloud SQL proxy) is local and never carries TLS.
     */
    if (url->ssl && !url->unix_socket && !mysql_get_ssl_cipher(m->h)) {
        rc = err_set(e, ERR_DB,
                     "cannot connect to MySQL database '%s' at %s as user '%s': TLS is required "
                     "(ssl) but the server did not negotiate it",
                     url->database ? url->database : "", where, url->user ? url->user : "");
        goto out;
    }
    rc = configure_session(m, e);
    if (rc) {
        err_prefix(e, "mysql session setup on %s", where);
        goto out;
    }
    make_lock_name(m);
out:
    if (rc) {
        if (m->h)
            mysql_close(m->h);
        free(m->database);
        free(m);
        return rc;
    }
    *out = &m->base;
    return ERR_OK;
}

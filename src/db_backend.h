/*
 * Private interface between db.c and the backends (db_sqlite.c, db_mysql.c).
 * Nothing outside those three files includes this header.
 */
#ifndef PETL_DB_BACKEND_H
#define PETL_DB_BACKEND_H

#include "common.h"
#include "db.h"

struct db_ops {
    const char *name;
    void (*close)(struct db *db);
    /* One statement, results discarded. */
    enum err_code (*exec)(struct db *db, const char *sql, struct err *e);
    /*
     * One statement with '?' placeholders bound to text params (NULL = SQL
     * NULL); *insert_id (may be NULL) gets the auto-increment id.
     */
    enum err_code (*exec_params)(struct db *db, const char *sql, const char *const *params,
                                 size_t n, long long *insert_id, struct err *e);
    enum err_code (*query)(struct db *db, const char *sql, db_row_fn row, void *ctx, struct err *e);
    enum err_code (*has_table)(struct db *db, const char *name, bool *found, struct err *e);
    /* Creates t, or adds the catalog columns and indexes it lacks. */
    enum err_code (*ensure_table)(struct db *db, const struct cat_table *t, struct err *e);
    enum err_code (*begin)(struct db *db, struct err *e);
    enum err_code (*commit)(struct db *db, struct err *e);
    enum err_code (*rollback)(struct db *db, struct err *e);
    /* Called inside a transaction; rows->n > 0. */
    enum err_code (*upsert)(struct db *db, const struct cat_rows *rows, const char *synced_at,
                            struct err *e);
    enum err_code (*lock)(struct db *db, struct err *e);
    void (*unlock)(struct db *db);
    enum err_code (*ping)(struct db *db, struct err *e);
};

/* Every backend's connection struct starts with this. */
struct db {
    const struct db_ops *ops;
    bool in_txn; /* inside db_begin .. db_commit/db_rollback */
};

#define DB_LOCK_BUSY_MSG "another sync is running"

enum err_code db_sqlite_open(const struct db_url *url, struct db **out, struct err *e) MUST_CHECK;
enum err_code db_mysql_open(const struct db_url *url, struct db **out, struct err *e) MUST_CHECK;

#endif

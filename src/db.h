/*
 * The warehouse behind one small interface. Backends (db_sqlite.c,
 * db_mysql.c) implement struct db_ops; nothing above this header writes SQL
 * for a particular database. A struct db is one connection: never share it
 * between threads.
 */
#ifndef PETL_DB_H
#define PETL_DB_H

#include "common.h"
#include "catalog.h"
#include "err.h"
#include "db_url.h"

struct db;

/* Current schema version this build creates and expects. */
#define DB_SCHEMA_VERSION                                                                          \
    4 /* 2: etl_incidencias; 3: payments, references; 4: costs, stock moves, history */

enum err_code db_open(const struct db_url *url, struct db **out, struct err *e) MUST_CHECK;
void db_close(struct db *db);                     /* accepts NULL */
const char *db_backend_name(const struct db *db); /* "sqlite" | "mysql" */

/* Creates or upgrades every catalog table, indexes, etl_ejecuciones and etl_incidencias;
 * idempotent. */
enum err_code db_migrate(struct db *db, struct err *e) MUST_CHECK;
/* ERR_SCHEMA when the schema is missing or not DB_SCHEMA_VERSION; *version gets what was found. */
enum err_code db_schema_check(struct db *db, int *version, struct err *e) MUST_CHECK;
/* Cheap liveness round trip. */
enum err_code db_ping(struct db *db, struct err *e) MUST_CHECK;

enum err_code db_begin(struct db *db, struct err *e) MUST_CHECK;
enum err_code db_commit(struct db *db, struct err *e) MUST_CHECK;
enum err_code db_rollback(struct db *db, struct err *e); /* best effort */

/* Inserts or updates (by key) every row of rows; synced_at fills CAT_SYNCED_AT columns. */
enum err_code db_upsert(struct db *db, const struct cat_rows *rows, const char *synced_at,
                        struct err *e) MUST_CHECK;

/*
 * Deletes rows of t whose column parent_col is one of parent_ids, except those
 * whose key (the key column besides parent_col) is in keep_ids (may be
 * NULL/0): lines of a document that Bsale no longer lists.
 */
enum err_code db_delete_children(struct db *db, const struct cat_table *t, const char *parent_col,
                                 const int64_t *parent_ids, size_t n_parents,
                                 const int64_t *keep_ids, size_t n_keep, struct err *e) MUST_CHECK;

/* The ids (from ids[0..n)) with no row in t's single-column key. *missing owned (free). */
enum err_code db_missing_ids(struct db *db, const struct cat_table *t, const int64_t *ids, size_t n,
                             int64_t **missing, size_t *n_missing, struct err *e) MUST_CHECK;

/*
 * Single-flight lock across processes (MySQL GET_LOCK, SQLite a lock file).
 * ERR_BUSY with "another sync is running" when held elsewhere.
 */
enum err_code db_lock(struct db *db, struct err *e) MUST_CHECK;
void db_unlock(struct db *db);

/* Run history (etl_ejecuciones). Strings are fixed-size to keep records copyable. */
#define DB_RUN_KEY_MAX 200 /* bytes of an idempotency key */
struct db_run {
    long long id;
    char tipo[16];        /* full | daily */
    char origen[8];       /* http | cli */
    char estado[16];      /* running | succeeded | failed */
    char inicio[20];      /* "YYYY-MM-DD HH:MM:SS" UTC */
    char fin[20];         /* "" while running */
    char fecha_desde[11]; /* "" when none */
    char fecha_hasta[11];
    long long registros;
    long long solicitudes;
    long long reintentos;
    char error[ERR_MSG_MAX];        /* "" on success */
    char *detalle;                  /* owned JSON text (rows per table, ...), may be NULL */
    char clave[DB_RUN_KEY_MAX + 1]; /* Idempotency-Key of the trigger, "" when none */
    char *progreso;                 /* owned JSON text while running, may be NULL */
    char completado_hasta[11];      /* last document day committed, "" when none */
    long long reanuda;              /* run this one resumes, 0 when none */
};

void db_run_release(struct db_run *r); /* frees detalle */
enum err_code db_run_insert(struct db *db, struct db_run *r,
                            struct err *e) MUST_CHECK; /* sets id */
enum err_code db_run_update(struct db *db, const struct db_run *r, struct err *e) MUST_CHECK;
/* Latest first. *runs owned: release each, then free(). */
enum err_code db_run_list(struct db *db, int limit, struct db_run **runs, size_t *n,
                          struct err *e) MUST_CHECK;
enum err_code db_run_get(struct db *db, long long id, struct db_run *r, struct err *e) MUST_CHECK;
/* 1..DB_RUN_KEY_MAX bytes of letters, digits and -_.:+/=@ (UUIDs, timestamps). */
bool db_run_key_valid(const char *key);
/* The run created with idempotency key; ERR_NOT_FOUND when none, ERR_INVALID for a bad key. */
enum err_code db_run_by_key(struct db *db, const char *key, struct db_run *r,
                            struct err *e) MUST_CHECK;
/* The newest run of kind tipo ("full", "daily"); ERR_NOT_FOUND when none. */
enum err_code db_run_last_of_kind(struct db *db, const char *tipo, struct db_run *r,
                                  struct err *e) MUST_CHECK;
/* Records day as the run's last committed document day (completado_hasta). */
enum err_code db_run_completed(struct db *db, long long id, const char *day,
                               struct err *e) MUST_CHECK;
/* The newest 'running' run; ERR_NOT_FOUND when none. */
enum err_code db_run_running(struct db *db, struct db_run *r, struct err *e) MUST_CHECK;
/* A running run's live counters and progreso (r->progreso); the row's other columns stay. */
enum err_code db_run_progress(struct db *db, const struct db_run *r, struct err *e) MUST_CHECK;
/*
 * Per kind ("full", "daily"), the newest succeeded run: fn(ctx, run) for each
 * kind that has one. For seeding /metrics after a restart.
 */
typedef void (*db_run_fn)(void *ctx, const struct db_run *run);
enum err_code db_run_last_successes(struct db *db, db_run_fn fn, void *ctx,
                                    struct err *e) MUST_CHECK;
/* Marks every 'running' row failed with reason (called while holding the lock). */
enum err_code db_run_fail_stale(struct db *db, const char *reason, struct err *e) MUST_CHECK;
/*
 * The same for runs a process left behind when it ended (call while holding
 * the lock): each gets cause plus when it was last seen, unless a cause is
 * recorded already. *closed gets how many were closed.
 */
enum err_code db_run_close_left(struct db *db, const char *cause, int *closed,
                                struct err *e) MUST_CHECK;

/* Incidents (etl_incidencias): records a run could not map or verify. */
#define DB_INCIDENT_RESOURCE_MAX 255 /* bytes of recurso */
#define DB_INCIDENT_PROBLEM_MAX 500  /* bytes of problema */
struct db_incident {
    long long id;
    long long run_id;
    char recurso[DB_INCIDENT_RESOURCE_MAX + 1];
    int64_t id_recurso; /* -1 when NULL (the record's id was unreadable) */
    char problema[DB_INCIDENT_PROBLEM_MAX + 1];
    char creado_en[20];
    char resuelto_en[20]; /* "" while open */
};
/* resource_id < 0 stores NULL; texts longer than the caps are cut at a UTF-8 boundary. */
enum err_code db_incident_insert(struct db *db, long long run_id, const char *resource,
                                 int64_t resource_id, const char *problem, const char *created_at,
                                 struct err *e) MUST_CHECK;
/* Open incidents (resuelto_en NULL), oldest first, at most limit. *out owned (free). */
enum err_code db_incidents_open(struct db *db, int limit, struct db_incident **out, size_t *n,
                                struct err *e) MUST_CHECK;
/* Incidents of one run, in order. *out owned (free). */
enum err_code db_incidents_of_run(struct db *db, long long run_id, struct db_incident **out,
                                  size_t *n, struct err *e) MUST_CHECK;
/* Sets resuelto_en = resolved_at on the open incidents among ids. */
enum err_code db_incidents_resolve(struct db *db, const long long *ids, size_t n,
                                   const char *resolved_at, struct err *e) MUST_CHECK;

/*
 * Runs one portable SQL query (no dialect-specific syntax); calls row for
 * each result row with text cells (NULL for SQL NULL). For reports and tests.
 */
typedef int (*db_row_fn)(void *ctx, int ncols, const char *const *names, const char *const *cells);
enum err_code db_query(struct db *db, const char *sql, db_row_fn row, void *ctx,
                       struct err *e) MUST_CHECK;

#endif

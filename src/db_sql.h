/*
 * The store's SQL text built from the catalog once for every backend: DDL
 * (tables, columns, indexes, COMMENTs) and upserts. A backend supplies its
 * dialect; only db*.c include this header.
 */
#ifndef PETL_DB_SQL_H
#define PETL_DB_SQL_H

#include "common.h"
#include "buf.h"
#include "catalog.h"

enum db_upsert_style {
    DB_UPSERT_ON_CONFLICT, /* INSERT … ON CONFLICT (key) DO UPDATE SET c = excluded.c */
    DB_UPSERT_ON_DUPLICATE /* INSERT … ON DUPLICATE KEY UPDATE c = VALUES(c) */
};

struct db_dialect {
    const char *(*type)(enum cat_type t); /* a column's SQL type */
    const char *serial;                   /* a CAT_SERIAL key column, after its name */
    bool explicit_null;                   /* writes NULL on nullable columns */
    bool inline_indexes;                  /* KEY/UNIQUE KEY inside CREATE TABLE */
    bool comments;                        /* COMMENT '…': the catalog's Spanish descriptions */
    const char *table_options;            /* after CREATE TABLE's column list, or NULL */
    enum db_upsert_style upsert;
};

/* The backends' dialects. */
extern const struct db_dialect db_sql_sqlite;
extern const struct db_dialect db_sql_mysql;

/* "name TYPE [NOT] NULL [DEFAULT …] [COMMENT '…']"; adding: for ALTER TABLE ADD COLUMN. */
void db_sql_column_def(struct buf *b, const struct db_dialect *d, const struct cat_column *c,
                       bool adding);
/* CREATE TABLE IF NOT EXISTS t (…) with its key, and its indexes when the dialect inlines them. */
void db_sql_create_table(struct buf *b, const struct db_dialect *d, const struct cat_table *t);
/* ALTER TABLE t ADD COLUMN …, for a column an older database lacks. */
void db_sql_add_column(struct buf *b, const struct db_dialect *d, const struct cat_table *t,
                       const struct cat_column *c);
/* "idx_<table>_<column>" and "uq_<table>": the names indexes are created under. */
void db_sql_index_name(char *dst, size_t n, const struct cat_table *t, const struct cat_column *c);
void db_sql_unique_name(char *dst, size_t n, const struct cat_table *t);
/* t's key columns, then its UNIQUE set, comma-separated. */
void db_sql_key_list(struct buf *b, const struct cat_table *t);
void db_sql_unique_list(struct buf *b, const struct cat_table *t);
/* "INSERT INTO t (c1, …) VALUES " */
void db_sql_upsert_prefix(struct buf *b, const struct cat_table *t);
/* "(?, ?, …)": one row of placeholders. */
void db_sql_placeholders(struct buf *b, const struct cat_table *t);
/* What follows the rows: the update of every non-key column. */
void db_sql_upsert_suffix(struct buf *b, const struct db_dialect *d, const struct cat_table *t);
/* ' COMMENT ''…''' with text escaped for a string literal (quotes and backslashes doubled). */
void db_sql_comment(struct buf *b, const char *keyword, const char *text);

#endif

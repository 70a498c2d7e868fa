/*
 * DDL and upsert text from the catalog, shared by the backends. Dialect
 * differences are data (struct db_dialect), so a table is described once.
 */
#include "common.h"

#include "db_sql.h"

#include <stdio.h>
#include <string.h>

/* Each catalog type's SQL type: {SQLite, MySQL}. NUMERIC keeps 15 significant digits exactly. */
static const char *const type_names[][2] = {
    [CAT_ID] = {"BIGINT", "BIGINT"},
    [CAT_INT] = {"BIGINT", "BIGINT"},
    [CAT_FLAG] = {"SMALLINT", "SMALLINT"},
    [CAT_DECIMAL] = {"NUMERIC", "DECIMAL(18,4)"},
    [CAT_DATE] = {"DATE", "DATE"},
    [CAT_DATETIME] = {"DATETIME", "DATETIME"},
    [CAT_TEXT] = {"TEXT", "VARCHAR(255)"},
    [CAT_LONGTEXT] = {"TEXT", "TEXT"},
    [CAT_SYNCED_AT] = {"DATETIME", "DATETIME"},
    [CAT_SERIAL] = {"INTEGER", "BIGINT"},
    [CAT_DOCUMENT] = {"TEXT", "MEDIUMTEXT"},
};

static const char *sqlite_type(enum cat_type t)
{
    return (size_t)t < ARRAY_LEN(type_names) ? type_names[t][0] : "TEXT";
}

static const char *mysql_type(enum cat_type t)
{
    return (size_t)t < ARRAY_LEN(type_names) ? type_names[t][1] : "TEXT";
}

const struct db_dialect db_sql_sqlite = {
    .type = sqlite_type,
    .serial = "INTEGER PRIMARY KEY AUTOINCREMENT",
    .upsert = DB_UPSERT_ON_CONFLICT,
};

/* Table and column COMMENTs carry the catalog's Spanish descriptions (docs/schema.md). */
const struct db_dialect db_sql_mysql = {
    .type = mysql_type,
    .serial = "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
    .explicit_null = true,
    .inline_indexes = true,
    .comments = true,
    .table_options = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    .upsert = DB_UPSERT_ON_DUPLICATE,
};

/* A NOT NULL column added to a table that has rows needs a default for them. */
static const char *added_default(const struct cat_column *c)
{
    return c->type == CAT_SYNCED_AT ? " DEFAULT '1970-01-01 00:00:00'" : " DEFAULT 0";
}

void db_sql_comment(struct buf *b, const char *keyword, const char *text)
{
    (void)buf_appendf(b, NULL, " %s '", keyword);
    for (const char *p = text; *p; p++) {
        if (*p == '\'' || *p == '\\')
            (void)buf_append(b, p, 1, NULL);
        (void)buf_append(b, p, 1, NULL);
    }
    (void)buf_append_str(b, "'", NULL);
}

void db_sql_column_def(struct buf *b, const struct db_dialect *d, const struct cat_column *c,
                       bool adding)
{
    if (c->type == CAT_SERIAL) {
        (void)buf_appendf(b, NULL, "%s %s", c->name, d->serial);
    } else {
        (void)buf_appendf(b, NULL, "%s %s", c->name, d->type(c->type));
        if (c->flags & CAT_NOT_NULL)
            (void)buf_append_str(b, " NOT NULL", NULL);
        else if (d->explicit_null)
            (void)buf_append_str(b, " NULL", NULL);
        if (c->flags & CAT_ZERO)
            (void)buf_append_str(b, " DEFAULT 0", NULL);
        else if (adding && (c->flags & CAT_NOT_NULL))
            (void)buf_append_str(b, added_default(c), NULL);
    }
    if (d->comments && c->es)
        db_sql_comment(b, "COMMENT", c->es);
}

void db_sql_key_list(struct buf *b, const struct cat_table *t)
{
    bool first = true;
    for (size_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].flags & CAT_KEY) {
            (void)buf_appendf(b, NULL, "%s%s", first ? "" : ", ", t->cols[i].name);
            first = false;
        }
    }
}

void db_sql_unique_list(struct buf *b, const struct cat_table *t)
{
    for (size_t i = 0; t->unique && t->unique[i]; i++)
        (void)buf_appendf(b, NULL, "%s%s", i ? ", " : "", t->unique[i]);
}

void db_sql_index_name(char *dst, size_t n, const struct cat_table *t, const struct cat_column *c)
{
    snprintf(dst, n, "idx_%s_%s", t->name, c->name);
}

void db_sql_unique_name(char *dst, size_t n, const struct cat_table *t)
{
    snprintf(dst, n, "uq_%s", t->name);
}

static bool has_serial_key(const struct cat_table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].type == CAT_SERIAL)
            return true;
    return false;
}

static void inline_indexes(struct buf *b, const struct cat_table *t)
{
    char name[160];
    for (size_t i = 0; i < t->ncols; i++) {
        if (!(t->cols[i].flags & CAT_INDEX))
            continue;
        db_sql_index_name(name, sizeof(name), t, &t->cols[i]);
        (void)buf_appendf(b, NULL, ", KEY %s (%s)", name, t->cols[i].name);
    }
    if (t->unique) {
        db_sql_unique_name(name, sizeof(name), t);
        (void)buf_appendf(b, NULL, ", UNIQUE KEY %s (", name);
        db_sql_unique_list(b, t);
        (void)buf_append_str(b, ")", NULL);
    }
}

void db_sql_create_table(struct buf *b, const struct db_dialect *d, const struct cat_table *t)
{
    (void)buf_appendf(b, NULL, "CREATE TABLE IF NOT EXISTS %s (", t->name);
    for (size_t i = 0; i < t->ncols; i++) {
        if (i)
            (void)buf_append_str(b, ", ", NULL);
        db_sql_column_def(b, d, &t->cols[i], false);
    }
    if (!has_serial_key(t)) {
        (void)buf_append_str(b, ", PRIMARY KEY (", NULL);
        db_sql_key_list(b, t);
        (void)buf_append_str(b, ")", NULL);
    }
    if (d->inline_indexes)
        inline_indexes(b, t);
    (void)buf_append_str(b, ")", NULL);
    if (d->table_options)
        (void)buf_appendf(b, NULL, " %s", d->table_options);
    if (d->comments && t->es)
        db_sql_comment(b, "COMMENT", t->es);
}

void db_sql_add_column(struct buf *b, const struct db_dialect *d, const struct cat_table *t,
                       const struct cat_column *c)
{
    (void)buf_appendf(b, NULL, "ALTER TABLE %s ADD COLUMN ", t->name);
    db_sql_column_def(b, d, c, true);
}

void db_sql_upsert_prefix(struct buf *b, const struct cat_table *t)
{
    (void)buf_appendf(b, NULL, "INSERT INTO %s (", t->name);
    for (size_t i = 0; i < t->ncols; i++)
        (void)buf_appendf(b, NULL, "%s%s", i ? ", " : "", t->cols[i].name);
    (void)buf_append_str(b, ") VALUES ", NULL);
}

void db_sql_placeholders(struct buf *b, const struct cat_table *t)
{
    (void)buf_append_str(b, "(", NULL);
    for (size_t i = 0; i < t->ncols; i++)
        (void)buf_append_str(b, i ? ", ?" : "?", NULL);
    (void)buf_append_str(b, ")", NULL);
}

/* VALUES(col) rather than an "AS new" alias: MariaDB does not know the alias. */
void db_sql_upsert_suffix(struct buf *b, const struct db_dialect *d, const struct cat_table *t)
{
    bool dup = d->upsert == DB_UPSERT_ON_DUPLICATE;
    if (dup) {
        (void)buf_append_str(b, " ON DUPLICATE KEY UPDATE ", NULL);
    } else {
        (void)buf_append_str(b, " ON CONFLICT (", NULL);
        db_sql_key_list(b, t);
        (void)buf_append_str(b, ") DO UPDATE SET ", NULL);
    }
    bool first = true;
    for (size_t i = 0; i < t->ncols; i++) {
        const char *c = t->cols[i].name;
        if (t->cols[i].flags & CAT_KEY)
            continue;
        (void)buf_appendf(b, NULL, dup ? "%s%s = VALUES(%s)" : "%s%s = excluded.%s",
                          first ? "" : ", ", c, c);
        first = false;
    }
}

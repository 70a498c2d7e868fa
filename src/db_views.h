/*
 * The analysts' layer that migrate builds, as SQL text: the dim_fecha
 * calendar's rows and the v_* views with the credit-note, void and
 * conversion rules built in (docs/reportes.md). Same names and columns on
 * SQLite and MariaDB. db.c runs the statements.
 */
#ifndef PETL_DB_VIEWS_H
#define PETL_DB_VIEWS_H

#include "common.h"

#include "buf.h"

#define DB_CALENDAR_FIRST_YEAR 2015
#define DB_CALENDAR_LAST_YEAR 2035
#define DB_CALENDAR_ROWS_PER_INSERT 400

struct db_calendar_cursor {
    int y, m, d; /* next day to write */
};

/* Rows dim_fecha holds when complete. */
int db_calendar_days(void);
void db_calendar_start(struct db_calendar_cursor *c);
/* Replaces sql with the next multi-row INSERT; false when every day is written. */
bool db_calendar_insert(struct db_calendar_cursor *c, struct buf *sql);

/* Views to drop, dependants first; NULL past the end. */
const char *db_view_name(size_t i);
/* CREATE VIEW statements in creation order; NULL past the end. */
const char *db_view_sql(size_t i, bool mysql);

#endif

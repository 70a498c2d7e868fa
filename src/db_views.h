/*
 * The analysts' layer built by migrate: the dim_fecha calendar and the
 * v_* views with the credit-note, void and conversion rules built in
 * (docs/reportes.md). Same names and columns on SQLite and MariaDB.
 */
#ifndef PETL_DB_VIEWS_H
#define PETL_DB_VIEWS_H

#include "common.h"
#include "db.h"

#define DB_CALENDAR_FIRST_YEAR 2015
#define DB_CALENDAR_LAST_YEAR 2035

/* Fills dim_fecha when it is not complete; idempotent. */
enum err_code db_views_fill_calendar(struct db *db, struct err *e) MUST_CHECK;
/* Drops and creates every view (so a new definition replaces an old one). */
enum err_code db_views_create(struct db *db, struct err *e) MUST_CHECK;

#endif

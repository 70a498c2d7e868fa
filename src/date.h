/*
 * Calendar dates "YYYY-MM-DD", the one parser the CLI, the HTTP API, the
 * settings and the runner share: a real Gregorian date in 1970..9999 (Bsale
 * dates are Unix timestamps, so nothing before the epoch exists there).
 * A date-only Bsale field is the UTC calendar date of its timestamp, so the
 * window for date D is [D 00:00:00, D 23:59:59] UTC (docs/bsale-api.md,
 * "Dates"); only "today" depends on the store's time zone.
 */
#ifndef PETL_DATE_H
#define PETL_DATE_H

#include "common.h"
#include "err.h"

#define DATE_MIN_YEAR 1970
#define DATE_MAX_YEAR 9999
/* What a caller says when date_parse refuses a value. */
#define DATE_WANT "a real calendar date YYYY-MM-DD from 1970-01-01 to 9999-12-31"

/* Strict: exactly 10 characters, a real date in range. y/m/d may be NULL. */
bool date_parse(const char *s, int *y, int *m, int *d);
/* The UTC seconds of date's first and last second. */
enum err_code date_day_window(const char *date, long long *from, long long *to,
                              struct err *e) MUST_CHECK;
/* date + days (may be negative) into out. */
enum err_code date_add(const char *date, long days, char out[11], struct err *e) MUST_CHECK;
/* Days from a to b inclusive (b >= a gives >= 1); < 0 when b before a or either is invalid. */
long date_days_between(const char *a, const char *b);
/*
 * Today's date in a tz ("America/Santiago"). Changes the process's TZ for
 * the call unless TZ already is tz: multi-threaded callers set it once with
 * date_use_timezone before starting threads.
 */
void date_use_timezone(const char *tz);
enum err_code date_today(const char *tz, char out[11], struct err *e) MUST_CHECK;

#endif

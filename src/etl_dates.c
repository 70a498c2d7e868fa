/*
 * Business dates. A date-only Bsale field is the UTC calendar date of its
 * timestamp, so the window for date D is [D 00:00:00, D 23:59:59] UTC
 * (API.md §4); only "today" depends on the store's time zone.
 */
#include "common.h"

#include "etl.h"
#include "etl_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool etl_parse_date(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int yy = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mm = (s[5] - '0') * 10 + (s[6] - '0');
    int dd = (s[8] - '0') * 10 + (s[9] - '0');
    if (yy < 1970 || yy > 2999 || mm < 1 || mm > 12 || dd < 1 || dd > days_in_month(yy, mm))
        return false;
    *y = yy;
    *m = mm;
    *d = dd;
    return true;
}

static bool date_to_unix(const char *s, long long *out)
{
    int y, m, d;
    if (!etl_parse_date(s, &y, &m, &d))
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    *out = (long long)timegm(&tm);
    return true;
}

static void unix_to_date(long long t, char out[11])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

enum err_code etl_day_window(const char *date, long long *from, long long *to, struct err *e)
{
    if (!date_to_unix(date, from))
        return err_set(e, ERR_INVALID, "invalid date '%.20s' (want YYYY-MM-DD)", date);
    *to = *from + 86399;
    return ERR_OK;
}

enum err_code etl_date_add(const char *date, long days, char out[11], struct err *e)
{
    long long t;
    if (!date_to_unix(date, &t))
        return err_set(e, ERR_INVALID, "invalid date '%.20s' (want YYYY-MM-DD)", date);
    unix_to_date(t + (long long)days * 86400, out);
    return ERR_OK;
}

long etl_days_between(const char *a, const char *b)
{
    long long ta, tb;
    if (!date_to_unix(a, &ta) || !date_to_unix(b, &tb) || tb < ta)
        return -1;
    return (long)((tb - ta) / 86400) + 1;
}

/* TZ is process-global; this lock keeps our own switches from interleaving. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

enum err_code etl_today(const char *tz, char out[11], struct err *e)
{
    time_t now = time(NULL);
    struct tm tm;
    const char *cur = getenv("TZ");
    if (cur && strcmp(cur, tz) == 0) { /* set at start-up: no environment change needed */
        if (!localtime_r(&now, &tm))
            return err_set(e, ERR_CONFIG, "cannot compute today's date in '%s'", tz);
        strftime(out, 11, "%Y-%m-%d", &tm);
        return ERR_OK;
    }
    pthread_mutex_lock(&tz_lock);
    char *old = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
    setenv("TZ", tz, 1);
    tzset();
    bool ok = localtime_r(&now, &tm) != NULL;
    if (old)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    pthread_mutex_unlock(&tz_lock);
    free(old);
    if (!ok)
        return err_set(e, ERR_CONFIG, "cannot compute today's date in '%s'", tz);
    strftime(out, 11, "%Y-%m-%d", &tm);
    return ERR_OK;
}

double etl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void etl_utc_now(char out[20])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

const char *etl_kind_name(enum etl_kind k)
{
    return k == ETL_FULL ? "full" : "daily";
}

void etl_use_timezone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

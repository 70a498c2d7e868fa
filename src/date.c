/* Calendar dates: the one strict parser, UTC day windows, arithmetic, today in a zone. */
#include "common.h"

#include "clock.h"
#include "date.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

bool date_parse(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int yy = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mm = (s[5] - '0') * 10 + (s[6] - '0');
    int dd = (s[8] - '0') * 10 + (s[9] - '0');
    if (yy < DATE_MIN_YEAR || yy > DATE_MAX_YEAR || mm < 1 || mm > 12 || dd < 1 ||
        dd > days_in_month(yy, mm))
        return false;
    if (y)
        *y = yy;
    if (m)
        *m = mm;
    if (d)
        *d = dd;
    return true;
}

static bool date_to_unix(const char *s, long long *out)
{
    int y, m, d;
    if (!date_parse(s, &y, &m, &d))
        return false;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    *out = (long long)timegm(&tm);
    return true;
}

static void unix_to_date(long long t, char out[11])
{
    (void)utc_format((time_t)t, "%Y-%m-%d", out, 11);
}

enum err_code date_day_window(const char *date, long long *from, long long *to, struct err *e)
{
    if (!date_to_unix(date, from))
        return err_set(e, ERR_INVALID, "invalid date '%.20s' (want " DATE_WANT ")", date);
    *to = *from + 86399;
    return ERR_OK;
}

enum err_code date_add(const char *date, long days, char out[11], struct err *e)
{
    long long t;
    if (!date_to_unix(date, &t))
        return err_set(e, ERR_INVALID, "invalid date '%.20s' (want " DATE_WANT ")", date);
    unix_to_date(t + (long long)days * 86400, out);
    return ERR_OK;
}

long date_days_between(const char *a, const char *b)
{
    long long ta, tb;
    if (!date_to_unix(a, &ta) || !date_to_unix(b, &tb) || tb < ta)
        return -1;
    return (long)((tb - ta) / 86400) + 1;
}

/* TZ is process-global; this lock keeps our own switches from interleaving. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

enum err_code date_today(const char *tz, char out[11], struct err *e)
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

void date_use_timezone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

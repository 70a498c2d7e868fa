/* Strict parsing of numbers and dates: the whole string, no overflow, within bounds. */
#include "common.h"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* strtol/strtod skip any leading whitespace and accept '+': require a digit or '-' first. */
static bool plain_start(const char *s)
{
    return s && (is_digit(s[0]) || (s[0] == '-' && is_digit(s[1])) ||
                 (s[0] == '.' && is_digit(s[1])) || (s[0] == '-' && s[1] == '.' && is_digit(s[2])));
}

bool parse_long(const char *s, long min, long max, long *out)
{
    if (!plain_start(s) || s[0] == '.' || strchr(s, '.'))
        return false;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool parse_double(const char *s, double min, double max, double *out)
{
    /* Decimal notation only: strtod would also take hex floats, "inf" and "nan". */
    if (!plain_start(s) || strspn(s, "0123456789.eE+-") != strlen(s))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool parse_date(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !is_digit(s[i]))
            return false;
    int yy = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mm = (s[5] - '0') * 10 + (s[6] - '0');
    int dd = (s[8] - '0') * 10 + (s[9] - '0');
    if (yy < 1900 || mm < 1 || mm > 12 || dd < 1 || dd > days_in_month(yy, mm))
        return false;
    if (y)
        *y = yy;
    if (m)
        *m = mm;
    if (d)
        *d = dd;
    return true;
}

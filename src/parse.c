/* Strict number parsing: the whole string, no overflow, within bounds. */
#include "common.h"

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

bool parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s || *s == ' ' || *s == '\t' || *s == '+')
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
    if (!s || !*s || *s == ' ' || *s == '\t' || *s == '+')
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

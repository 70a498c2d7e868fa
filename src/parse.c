/* Strict parsing of numbers and dates: the whole string, no overflow, within bounds. */
#include "common.h"
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

bool parse_yes_no(const char *v, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; v && i < ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, true;
    }
    return false;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

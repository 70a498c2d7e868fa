/* Shared utilities of the simulator's cmocka tests (header-only, static functions). */
#ifndef PETL_TEST_SIM_UTIL_H
#define PETL_TEST_SIM_UTIL_H

#include "sim_proc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_TOKEN "sim-test-token"

/* An id that may be a JSON integer or a numeric string. */
static inline long long jid(json_t *v)
{
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return -1;
}

static inline long long jget_id(json_t *obj, const char *key)
{
    return jid(json_object_get(obj, key));
}

/* Numeric value of a number or numeric string. */
static inline double jnum(json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v))
        return strtod(json_string_value(v), NULL);
    return -1e300;
}

static inline void url_of(char *out, size_t n, const char *base, const char *fmt, va_list ap)
{
    size_t bl = (size_t)snprintf(out, n, "%s", base);
    vsnprintf(out + bl, n - bl, fmt, ap);
}

#endif

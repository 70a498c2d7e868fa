/* Deterministic random numbers and the append-only JSON text writer of the simulator. */
#include "common.h"

#include "sim.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t rng_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct rng rng_for(uint64_t seed, uint32_t stream, uint64_t id)
{
    struct rng r = {rng_mix(rng_mix(seed) ^ ((uint64_t)stream << 40) ^ rng_mix(id))};
    return r;
}

uint64_t rng_next(struct rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return rng_mix(r->s);
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

bool rng_chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

void jw_init(struct jw *w, size_t cap)
{
    w->cap = cap ? cap : 64;
    w->p = xmalloc(w->cap);
    w->len = 0;
    w->p[0] = '\0';
}

void jw_free(struct jw *w)
{
    if (!w)
        return;
    free(w->p);
    w->p = NULL;
    w->len = w->cap = 0;
}

static void jw_reserve(struct jw *w, size_t n)
{
    if (w->len + n + 1 <= w->cap)
        return;
    size_t cap = w->cap ? w->cap : 64;
    while (w->len + n + 1 > cap)
        cap *= 2;
    w->p = xrealloc(w->p, cap);
    w->cap = cap;
}

void jw_raw(struct jw *w, const char *s, size_t n)
{
    jw_reserve(w, n);
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

void jw_lit(struct jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

void jw_str(struct jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s);
    jw_reserve(w, n * 6 + 2);
    char *o = w->p + w->len;
    *o++ = '"';
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
            *o++ = (char)*c;
        } else if (*c < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[*c >> 4];
            o[5] = hex[*c & 15];
            o += 6;
        } else {
            *o++ = (char)*c;
        }
    }
    *o++ = '"';
    *o = '\0';
    w->len = (size_t)(o - w->p);
}

void jw_int(struct jw *w, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    jw_raw(w, tmp, (size_t)n);
}

void jw_istr(struct jw *w, int64_t v)
{
    char tmp[26];
    int n = snprintf(tmp, sizeof tmp, "\"%" PRId64 "\"", v);
    jw_raw(w, tmp, (size_t)n);
}

/* Bsale prints integral amounts as "12990.0" and fractions without trailing zeros. */
static int num_text(double v, int decimals, char *tmp, size_t size)
{
    if (v == floor(v) && fabs(v) < 1e15)
        return snprintf(tmp, size, "%.1f", v);
    int n = snprintf(tmp, size, "%.*f", decimals, v);
    while (n > 2 && tmp[n - 1] == '0' && tmp[n - 2] != '.')
        tmp[--n] = '\0';
    return n;
}

void jw_num(struct jw *w, double v, int decimals)
{
    char tmp[48];
    int n = num_text(v, decimals, tmp, sizeof tmp);
    jw_raw(w, tmp, (size_t)n);
}

void jw_numstr(struct jw *w, double v, int decimals)
{
    char tmp[48];
    int n = num_text(v, decimals, tmp, sizeof tmp);
    jw_raw(w, "\"", 1);
    jw_raw(w, tmp, (size_t)n);
    jw_raw(w, "\"", 1);
}

void jw_fmt(struct jw *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    jw_reserve(w, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(w->p + w->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    w->len += (size_t)n;
}

/* jansson helpers: parsing with limits and the Bsale "number or string" rules. */
#include "common.h"

#include "json_util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A number literal starting at p (length *n): the text jansson can hold instead, owned, or NULL. */
static char *widened_number(const char *p, size_t *n)
{
    size_t len = strspn(p, "+-0123456789.eE");
    *n = len;
    char *tok = xstrndup(p, len);
    bool integer = strcspn(tok, ".eE") == len;
    errno = 0;
    char *end;
    if (integer) {
        (void)strtoll(tok, &end, 10);
        if (errno == ERANGE && len < 300) {
            char *out = xasprintf("%s.0", tok); /* a real: its magnitude stays visible */
            free(tok);
            return out;
        }
    } else {
        double d = strtod(tok, &end);
        if (!(errno == ERANGE && isinf(d))) {
            free(tok);
            return NULL;
        }
    }
    if (errno != ERANGE) {
        free(tok);
        return NULL;
    }
    char *out = xasprintf("\"%s\"", tok); /* beyond any double: kept as text */
    free(tok);
    return out;
}

/*
 * jansson refuses a whole document for one integer beyond 64 bits or one real
 * beyond double. Such literals are rewritten (an integer as a real, a real as a
 * string) so the other records still parse and the mapper reports this one.
 */
static char *widen_numbers(const char *data, size_t len, size_t *out_len)
{
    char *src = xmalloc(len + 1); /* terminated, so number scans stop at the end */
    memcpy(src, data, len);
    src[len] = '\0';
    size_t cap = len + 64, k = 0;
    char *out = xmalloc(cap);
    bool in_str = false;
    for (size_t i = 0; i < len;) {
        size_t n = 1;
        char *wide = NULL;
        char c = src[i];
        if (in_str) {
            n = c == '\\' && i + 1 < len ? 2 : 1;
            in_str = c != '"';
        } else if (c == '"') {
            in_str = true;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            wide = widened_number(src + i, &n);
        }
        const char *piece = wide ? wide : src + i;
        size_t plen = wide ? strlen(wide) : n;
        if (k + plen + 1 > cap) {
            cap = (k + plen + 1) * 2;
            out = xrealloc(out, cap);
        }
        memcpy(out + k, piece, plen);
        k += plen;
        free(wide);
        i += n;
    }
    free(src);
    *out_len = k;
    return out;
}

enum err_code json_util_load(const char *data, size_t len, json_t **out, struct err *e)
{
    json_error_t jerr;
    const size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
    *out = json_loadb(data, len, flags, &jerr);
    if (!*out && (strstr(jerr.text, "too big") || strstr(jerr.text, "overflow"))) {
        size_t wlen;
        char *wide = widen_numbers(data, len, &wlen);
        *out = json_loadb(wide, wlen, flags, &jerr);
        free(wide);
    }
    if (!*out)
        return err_set(e, ERR_JSON, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                       jerr.text);
    return ERR_OK;
}

json_t *json_util_path(json_t *root, const char *path)
{
    json_t *cur = root;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur))
            return NULL;
        cur = json_object_getn(cur, p, n);
        p += n + (dot ? 1 : 0);
    }
    return cur;
}

static bool parse_int_string(const char *s, int64_t *out)
{
    if (!*s)
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s)
        return false;
    if (*end == '.') {
        for (end++; *end == '0'; end++)
            ;
    }
    if (*end)
        return false;
    *out = v;
    return true;
}

bool json_util_int64(json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d != floor(d) || fabs(d) > 9.0e15)
            return false;
        *out = (int64_t)d;
        return true;
    }
    if (json_is_string(v))
        return parse_int_string(json_string_value(v), out);
    return false;
}

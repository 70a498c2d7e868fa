/* Query-parameter validation for the HTTP routes (FastAPI-style 422 messages). */
#include "common.h"

#include "date.h"
#include "http_params.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_LIMIT_DEFAULT 50
#define HTTP_LIMIT_MAX 500
#define HTTP_NAME_SHOWN 40

void http_query_add(struct http_query *q, const char *key, const char *value)
{
    if (q->n >= HTTP_QUERY_MAX) {
        q->overflow = true;
        return;
    }
    q->p[q->n].key = key ? key : "";
    q->p[q->n].value = value ? value : "";
    q->n++;
}

/* A client-chosen parameter name made safe to echo: short, printable ASCII only. */
static void safe_name(const char *s, char *dst, size_t n)
{
    size_t k = 0;
    for (; *s && k + 1 < n && k < HTTP_NAME_SHOWN; s++)
        dst[k++] = (isalnum((unsigned char)*s) || strchr("_.-[]", *s)) ? *s : '?';
    dst[k] = '\0';
}

static int hex_digit(char c)
{
    return isxdigit((unsigned char)c)
               ? (isdigit((unsigned char)c) ? c - '0' : (c | 0x20) - 'a' + 10)
               : -1;
}

/* Whether the raw (still encoded) character at p stands for a control character. */
static bool control_at(const char *p)
{
    unsigned char c = (unsigned char)*p;
    if (c == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0)
        c = (unsigned char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
    return c < 0x20 || c == 0x7f;
}

enum http_uri_fault http_uri_check(const char *raw, char *name, size_t name_len)
{
    const char *p = raw, *param = NULL;
    if (name_len)
        name[0] = '\0';
    for (; *p && *p != '?'; p++)
        if (control_at(p))
            return HTTP_URI_BAD_PATH;
    for (; *p; p++) {
        if (*p == '?' || *p == '&') {
            param = p + 1;
            continue;
        }
        if (!control_at(p))
            continue;
        if (name_len) {
            size_t len = strcspn(param, "=&");
            char *key = xstrndup(param, len < name_len - 1 ? len : name_len - 1);
            safe_name(key, name, name_len);
            free(key);
        }
        return HTTP_URI_BAD_QUERY;
    }
    return HTTP_URI_OK;
}

static const char *query_get(const struct http_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->p[i].key, key) == 0)
            return q->p[i].value;
    return NULL;
}

/* Rejects overflow, unknown names and repeated names; allowed is NULL-terminated. */
static enum err_code check_names(const struct http_query *q, const char *const *allowed,
                                 struct err *e)
{
    if (q->overflow)
        return err_set(e, ERR_INVALID, "too many query parameters (at most %d)", HTTP_QUERY_MAX);
    for (size_t i = 0; i < q->n; i++) {
        char name[HTTP_NAME_SHOWN + 1];
        safe_name(q->p[i].key, name, sizeof(name));
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            known = known || strcmp(*a, q->p[i].key) == 0;
        if (!known)
            return err_set(e, ERR_INVALID, "unknown query parameter '%s'", name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(q->p[j].key, q->p[i].key) == 0)
                return err_set(e, ERR_INVALID, "query parameter '%s' given more than once", name);
    }
    return ERR_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

long http_days_inclusive(const char *a, const char *b)
{
    int ya, ma, da, yb, mb, db;
    if (!date_parse(a, &ya, &ma, &da) || !date_parse(b, &yb, &mb, &db))
        return 0;
    return days_from_civil(yb, mb, db) - days_from_civil(ya, ma, da) + 1;
}

static enum err_code take_date(const struct http_query *q, const char *key, char dst[11],
                               struct err *e)
{
    const char *v = query_get(q, key);
    int y, m, d;
    if (!v)
        return ERR_OK;
    if (!date_parse(v, &y, &m, &d))
        return err_set(e, ERR_INVALID, "invalid query parameter '%s': expected " DATE_WANT, key);
    memcpy(dst, v, 11);
    return ERR_OK;
}

static enum err_code take_wait(const struct http_query *q, bool *wait, struct err *e)
{
    const char *v = query_get(q, "wait");
    *wait = true;
    if (!v)
        return ERR_OK;
    if (strcmp(v, "true") == 0)
        return ERR_OK;
    if (strcmp(v, "false") == 0) {
        *wait = false;
        return ERR_OK;
    }
    return err_set(e, ERR_INVALID, "invalid query parameter 'wait': expected true or false");
}

static enum err_code check_range(const struct etl_request *req, long max_range_days, struct err *e)
{
    bool has_from = req->date_from[0] != '\0', has_to = req->date_to[0] != '\0';
    if (has_from != has_to)
        return err_set(e, ERR_INVALID, "query parameter '%s' requires '%s'",
                       has_from ? "from" : "to", has_from ? "to" : "from");
    if (!has_from)
        return ERR_OK;
    long days = http_days_inclusive(req->date_from, req->date_to);
    if (days < 1)
        return err_set(e, ERR_INVALID, "query parameter 'from' is after 'to'");
    if (max_range_days > 0 && days > max_range_days)
        return err_set(e, ERR_INVALID,
                       "query parameters 'from'..'to' span %ld days, over the limit of %ld "
                       "(ETL_MAX_RANGE_DAYS)",
                       days, max_range_days);
    return ERR_OK;
}

enum err_code http_params_trigger(enum etl_kind kind, const struct http_query *q,
                                  long max_range_days, struct etl_request *req, bool *wait,
                                  struct err *e)
{
    static const char *const full_names[] = {"from", "to", "wait", NULL};
    static const char *const daily_names[] = {"date", "from", "to", "wait", NULL};
    memset(req, 0, sizeof(*req));
    req->kind = kind;
    req->origin = ETL_ORIGIN_HTTP;
    enum err_code rc = check_names(q, kind == ETL_DAILY ? daily_names : full_names, e);
    if (rc)
        return rc;
    char date[11] = "";
    if ((rc = take_date(q, "date", date, e)) || (rc = take_date(q, "from", req->date_from, e)) ||
        (rc = take_date(q, "to", req->date_to, e)) || (rc = take_wait(q, wait, e)))
        return rc;
    if (date[0]) {
        if (req->date_from[0] || req->date_to[0])
            return err_set(e, ERR_INVALID,
                           "query parameter 'date' cannot be combined with 'from'/'to'");
        memcpy(req->date_from, date, sizeof(date));
        memcpy(req->date_to, date, sizeof(date));
        return ERR_OK;
    }
    return check_range(req, max_range_days, e);
}

enum err_code http_params_limit(const struct http_query *q, int *limit, struct err *e)
{
    static const char *const names[] = {"limit", NULL};
    enum err_code rc = check_names(q, names, e);
    if (rc)
        return rc;
    const char *v = query_get(q, "limit");
    *limit = HTTP_LIMIT_DEFAULT;
    if (!v)
        return ERR_OK;
    char *end = NULL;
    errno = 0;
    long n = isdigit((unsigned char)v[0]) ? strtol(v, &end, 10) : 0;
    if (!end || *end || errno || n < 1 || n > HTTP_LIMIT_MAX)
        return err_set(e, ERR_INVALID,
                       "invalid query parameter 'limit': expected an integer from 1 to %d",
                       HTTP_LIMIT_MAX);
    *limit = (int)n;
    return ERR_OK;
}

enum err_code http_params_run_id(const char *s, long long *id, struct err *e)
{
    char *end = NULL;
    errno = 0;
    long long n = (s[0] >= '1' && s[0] <= '9') ? strtoll(s, &end, 10) : 0;
    if (!end || *end || errno || n < 1)
        return err_set(e, ERR_INVALID,
                       "invalid path parameter 'run_id': expected a positive "
                       "integer");
    *id = n;
    return ERR_OK;
}

/*
 * Fuzz target: an HTTP request target as received (path and query, still
 * encoded): the control-character check, then the route parameters decoded the
 * way libmicrohttpd does and validated. Checks the verdicts against a plain
 * decoder and that every accepted request is one the runner can take.
 */
#include "common.h"

#include "date.h"
#include "fuzz.h"
#include "http_params.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANGE_DAYS 31

static int hexv(char c)
{
    return isxdigit((unsigned char)c)
               ? (isdigit((unsigned char)c) ? c - '0' : (c | 0x20) - 'a' + 10)
               : -1;
}

/* Decodes s[0..n) in place like a form decoder ('+' as space, %XX); returns the new length. */
static size_t decode(char *s, size_t n, bool plus)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
            s[k++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        } else {
            s[k++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    return k;
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

/* What a correct check says, from the decoded text. */
static enum http_uri_fault expected_fault(const char *raw)
{
    char *copy = xstrdup(raw);
    size_t q = strcspn(copy, "?");
    bool path_bad = has_control(copy, decode(copy, q, false));
    char *query = xstrdup(raw + q);
    bool query_bad = has_control(query, decode(query, strlen(query), true));
    free(copy);
    free(query);
    return path_bad ? HTTP_URI_BAD_PATH : query_bad ? HTTP_URI_BAD_QUERY : HTTP_URI_OK;
}

static void check_message(const struct err *e)
{
    if (e->code != ERR_INVALID || !e->msg[0] || has_control(e->msg, strlen(e->msg)))
        abort();
}

static void check_dates(const struct etl_request *req)
{
    int y, m, d;
    bool from = req->date_from[0], to = req->date_to[0];
    if (from != to)
        abort();
    if (from && (!date_parse(req->date_from, &y, &m, &d) || !date_parse(req->date_to, &y, &m, &d)))
        abort();
    long days = from ? http_days_inclusive(req->date_from, req->date_to) : 1;
    if (days < 1 || (req->kind == ETL_FULL && days > MAX_RANGE_DAYS))
        abort();
}

/* Splits the decoded query into arguments like libmicrohttpd (borrowing from q's text). */
static void split_query(char *text, struct http_query *q)
{
    memset(q, 0, sizeof(*q));
    for (char *arg = text, *next; arg; arg = next) {
        next = strchr(arg, '&');
        if (next)
            *next++ = '\0';
        if (!*arg)
            continue;
        char *eq = strchr(arg, '=');
        if (eq)
            *eq = '\0';
        arg[decode(arg, strlen(arg), true)] = '\0';
        if (eq)
            eq[decode(eq + 1, strlen(eq + 1), true) + 1] = '\0';
        http_query_add(q, arg, eq ? eq + 1 : NULL);
    }
}

static void check_params(const char *raw)
{
    const char *qm = strchr(raw, '?');
    char *text = xstrdup(qm ? qm + 1 : "");
    struct http_query q;
    split_query(text, &q);
    for (int kind = ETL_FULL; kind <= ETL_DAILY; kind++) {
        struct etl_request req;
        struct err e = ERR_INIT;
        bool wait = false;
        if (http_params_trigger((enum etl_kind)kind, &q, MAX_RANGE_DAYS, &req, &wait, &e))
            check_message(&e);
        else
            check_dates(&req);
    }
    struct err e = ERR_INIT;
    int limit = 0;
    if (http_params_limit(&q, &limit, &e))
        check_message(&e);
    else if (limit < 1 || limit > 500)
        abort();
    free(text);
    long long id = 0;
    char seg[64];
    snprintf(seg, sizeof(seg), "%.*s", (int)strcspn(raw, "?"), raw);
    struct err ie = ERR_INIT;
    if (http_params_run_id(seg, &id, &ie))
        check_message(&ie);
    else if (id < 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *raw = xstrndup((const char *)data, size); /* a request line holds no NUL byte */
    char name[48];
    enum http_uri_fault got = http_uri_check(raw, name, sizeof(name));
    if (got != expected_fault(raw))
        abort();
    if (got == HTTP_URI_BAD_QUERY && has_control(name, strlen(name)))
        abort();
    if (got == HTTP_URI_OK)
        check_params(raw);
    free(raw);
    return 0;
}

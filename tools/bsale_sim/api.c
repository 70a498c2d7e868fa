/*
 * The /v1 request engine: routing, paging, filters and expand over the store.
 * Pure with respect to HTTP: it sees a path and decoded query parameters only.
 */
#include "common.h"

#include "moves.h"
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum filter_bit {
    F_STATE = 1 << 0,
    F_RANGE = 1 << 1,
    F_EMISSIONDATE = 1 << 2,
    F_DOCTYPE = 1 << 3,
    F_OFFICE = 1 << 4,
    F_CLIENT = 1 << 5,
    F_RECORDDATE = 1 << 6,
    F_RECORDRANGE = 1 << 14,
    F_DOCUMENT = 1 << 7,
    F_VARIANT = 1 << 8,
    F_PRODUCT = 1 << 9,
    F_CODE = 1 << 10,
    F_LIVE = 1 << 15, /* internal: skip removed documents */
};

struct filter_name {
    const char *name;
    unsigned bit;
};
static const struct filter_name filter_names[] = {
    {"state", F_STATE},
    {"emissiondaterange", F_RANGE},
    {"emissiondate", F_EMISSIONDATE},
    {"documenttypeid", F_DOCTYPE},
    {"officeid", F_OFFICE},
    {"clientid", F_CLIENT},
    {"recorddate", F_RECORDDATE},
    {"recorddaterange", F_RECORDRANGE},
    {"documentid", F_DOCUMENT},
    {"variantid", F_VARIANT},
    {"productid", F_PRODUCT},
    {"code", F_CODE},
};

struct query {
    size_t limit, offset;
    unsigned expand;
    const char *fields;
    unsigned set; /* filter bits present */
    int64_t state, range_from, range_to, day, doctype, office, client, document, variant, product;
    int64_t record_date, record_from, record_to; /* payments: exact recorddate, range */
    const char *code;
};

#define MAX_KEY_PARTS 64

struct list_ctx {
    enum sim_table t;
    size_t lo, hi;     /* candidate index range */
    size_t parent;     /* document or price list index for sub-collections */
    unsigned residual; /* filters still to test per item */
};

static unsigned allowed_filters(enum sim_table t)
{
    switch (t) {
    case T_DOCUMENTS:
        return F_RANGE | F_EMISSIONDATE | F_DOCTYPE | F_OFFICE | F_CLIENT | F_STATE;
    case T_PAYMENTS:
        return F_RECORDDATE | F_RECORDRANGE | F_DOCUMENT | F_STATE;
    case T_STOCKS:
        return F_OFFICE | F_VARIANT;
    case T_VARIANTS:
        return F_PRODUCT | F_STATE;
    case T_CLIENTS:
        return F_CODE | F_STATE;
    case T_PL_DETAILS:
        return F_VARIANT;
    case T_DOC_DETAILS:
        return 0;
    default:
        return F_STATE;
    }
}

static void error_body(struct sim_response *rs, int status, const char *msg)
{
    rs->status = status;
    rs->body.len = 0;
    jw_lit(&rs->body, "{\"error\":");
    jw_str(&rs->body, msg);
    jw_lit(&rs->body, "}");
}

bool sim_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool sim_parse_range(const char *s, int64_t *a, int64_t *b)
{
    char tmp[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n + 1);
    char *p = tmp;
    if (*p == '[') {
        p++;
        if (tmp[n - 1] != ']')
            return false;
        tmp[n - 1] = '\0';
    }
    char *comma = strchr(p, ',');
    if (!comma)
        return false;
    *comma = '\0';
    return sim_parse_i64(p, a) && sim_parse_i64(comma + 1, b);
}

static unsigned parse_expand(const char *s)
{
    static const struct filter_name names[] = {
        {"details", EXP_DETAILS},       {"client", EXP_CLIENT},
        {"payments", EXP_PAYMENTS},     {"document_type", EXP_DOCUMENT_TYPE},
        {"office", EXP_OFFICE},         {"product", EXP_PRODUCT},
        {"references", EXP_REFERENCES}, {"document_taxes", EXP_DOC_TAXES},
        {"sellers", EXP_SELLERS},
    };
    unsigned bits = 0;
    const char *p = s;
    while (*p) {
        while (*p == '[' || *p == ']' || *p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ",[] ");
        for (size_t i = 0; i < ARRAY_LEN(names); i++)
            if (n && strlen(names[i].name) == n && strncasecmp(p, names[i].name, n) == 0)
                bits |= names[i].bit;
        p += n;
    }
    return bits;
}

static bool set_filter(struct query *q, unsigned bit, const char *v)
{
    switch (bit) {
    case F_RANGE:
        return sim_parse_range(v, &q->range_from, &q->range_to);
    case F_RECORDDATE:
        return sim_parse_i64(v, &q->record_date); /* matched exactly, not by day */
    case F_RECORDRANGE:
        return sim_parse_range(v, &q->record_from, &q->record_to);
    case F_EMISSIONDATE:
        if (!sim_parse_i64(v, &q->day))
            return false;
        q->day -= ((q->day % SIM_DAY) + SIM_DAY) % SIM_DAY; /* the UTC date */
        return true;
    case F_CODE:
        q->code = v;
        return true;
    case F_STATE:
        return sim_parse_i64(v, &q->state);
    case F_DOCTYPE:
        return sim_parse_i64(v, &q->doctype);
    case F_OFFICE:
        return sim_parse_i64(v, &q->office);
    case F_CLIENT:
        return sim_parse_i64(v, &q->client);
    case F_DOCUMENT:
        return sim_parse_i64(v, &q->document);
    case F_VARIANT:
        return sim_parse_i64(v, &q->variant);
    case F_PRODUCT:
        return sim_parse_i64(v, &q->product);
    default:
        return false;
    }
}

/* Fills q from the parameters; false (with rs filled) on a rejected parameter. */
static bool parse_query(const struct sim_request *rq, unsigned allowed, bool is_list,
                        struct query *q, struct sim_response *rs)
{
    memset(q, 0, sizeof *q);
    q->limit = SIM_PAGE_DEFAULT;
    for (size_t i = 0; i < rq->n_params; i++) {
        const char *k = rq->params[i].key, *v = rq->params[i].value ? rq->params[i].value : "";
        int64_t n;
        if (strcmp(k, "limit") == 0) {
            if (sim_parse_i64(v, &n) && n > 0)
                q->limit = n > SIM_PAGE_MAX ? SIM_PAGE_MAX : (size_t)n;
        } else if (strcmp(k, "offset") == 0) {
            if (sim_parse_i64(v, &n) && n > 0)
                q->offset = (size_t)n;
        } else if (strcmp(k, "expand") == 0) {
            q->expand |= parse_expand(v);
        } else if (strcmp(k, "fields") == 0) {
            q->fields = v;
        } else if (is_list) {
            unsigned bit = 0;
            for (size_t f = 0; f < ARRAY_LEN(filter_names); f++)
                if (strcmp(k, filter_names[f].name) == 0)
                    bit = filter_names[f].bit;
            if (!(bit & allowed)) {
                /* Bsale answers 403 to a filter a resource does not support. */
                error_body(rs, 403, "Forbidden");
                return false;
            }
            if (!set_filter(q, bit, v)) {
                char msg[128];
                snprintf(msg, sizeof msg, "invalid value for parameter '%s'", k);
                error_body(rs, 400, msg);
                return false;
            }
            q->set |= bit;
        }
    }
    return true;
}

/* ---- filtering ---- */

static bool rut_matches(uint32_t rut, const char *code)
{
    char formatted[24], plain[24], given[40];
    sim_rut_format(rut, formatted, sizeof formatted);
    size_t o = 0;
    for (const char *c = formatted; *c; c++)
        if (*c != '.')
            plain[o++] = *c;
    plain[o] = '\0';
    o = 0;
    for (const char *c = code; *c && o + 1 < sizeof given; c++)
        if (*c != '.' && *c != '[' && *c != ']')
            given[o++] = *c;
    given[o] = '\0';
    return strcasecmp(given, plain) == 0;
}

static int64_t item_state(const struct sim_store *st, enum sim_table t, size_t i)
{
    switch (t) {
    case T_OFFICES:
        return st->office_state[i];
    case T_DOCUMENT_TYPES:
        return i == 5 ? 1 : 0; /* matches render.c's table */
    case T_PAYMENT_TYPES:
        return i == 5 ? 1 : 0;
    case T_USERS:
        return st->users[i].state;
    case T_PRODUCT_TYPES:
        return st->ptype_state[i];
    case T_PRODUCTS:
        return st->products[i].state;
    case T_VARIANTS:
        return st->variants[i].state;
    case T_CLIENTS:
        return st->clients[i].state;
    case T_PRICE_LISTS:
        return st->plist_state[i];
    case T_DOCUMENTS:
        return st->docs[i].state;
    case T_PAYMENTS:
        return st->pays[i].state;
    default:
        return 0;
    }
}

static bool matches(const struct sim_store *st, enum sim_table t, size_t i, unsigned f,
                    const struct query *q)
{
    if ((f & F_STATE) && item_state(st, t, i) != q->state)
        return false;
    if (t == T_DOCUMENTS) {
        const struct s_document *d = &st->docs[i];
        if ((f & F_RANGE) && (d->emission < q->range_from || d->emission > q->range_to))
            return false;
        if ((f & F_EMISSIONDATE) && d->emission - d->emission % SIM_DAY != q->day)
            return false;
        if ((f & F_DOCTYPE) && d->type_id != q->doctype)
            return false;
        if ((f & F_OFFICE) && d->office_id != q->office)
            return false;
        if ((f & F_CLIENT) && d->client_id != q->client)
            return false;
        if ((f & F_LIVE) && d->removed)
            return false;
    } else if (t == T_PAYMENTS) {
        const struct s_payment *p = &st->pays[i];
        if ((f & F_RECORDDATE) && !sim_payment_on(st, i, q->record_date, q->record_date))
            return false;
        if ((f & F_RECORDRANGE) && !sim_payment_on(st, i, q->record_from, q->record_to))
            return false;
        if ((f & F_DOCUMENT) &&
            (p->doc_idx < 0 || sim_id_base(T_DOCUMENTS) + p->doc_idx != q->document))
            return false;
    } else if (t == T_STOCKS) {
        if ((f & F_OFFICE) && (int64_t)(i % st->n_offices) + 1 != q->office)
            return false;
        if ((f & F_VARIANT) && sim_id_base(T_VARIANTS) + (int64_t)(i / st->n_offices) != q->variant)
            return false;
    } else if (t == T_VARIANTS) {
        if ((f & F_PRODUCT) && sim_id_base(T_PRODUCTS) + st->variants[i].product_idx != q->product)
            return false;
    } else if (t == T_CLIENTS) {
        if ((f & F_CODE) && !rut_matches(st->clients[i].rut, q->code))
            return false;
    } else if (t == T_PL_DETAILS) {
        if ((f & F_VARIANT) &&
            sim_id_base(T_VARIANTS) + (int64_t)(i % st->n_variants) != q->variant)
            return false;
    }
    return true;
}

/* First document index whose emission is >= when (emission never decreases with the index). */
size_t sim_doc_lower_bound(const struct sim_store *st, int64_t when)
{
    size_t lo = 0, hi = st->n_docs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->docs[mid].emission < when)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void clamp(struct list_ctx *c, size_t lo, size_t hi)
{
    if (lo > c->lo)
        c->lo = lo;
    if (hi < c->hi)
        c->hi = hi;
    if (c->lo > c->hi)
        c->lo = c->hi;
}

/* The recorddate filters are still tested per payment: this only skips the other days. */
static void narrow_payments(const struct sim_store *st, struct list_ctx *c, const struct query *q)
{
    size_t lo, hi;
    if (q->set & F_RECORDDATE) {
        sim_payments_span(st, q->record_date, q->record_date, &lo, &hi);
        clamp(c, lo, hi);
    }
    if ((q->set & F_RECORDRANGE) && q->record_from <= q->record_to) {
        sim_payments_span(st, q->record_from, q->record_to, &lo, &hi);
        clamp(c, lo, hi);
    }
}

/* Narrows the candidate range using the layout of the store; the rest is tested per item. */
static void narrow(const struct sim_store *st, struct list_ctx *c, const struct query *q)
{
    c->residual = q->set;
    if (c->t == T_DOCUMENTS && st->n_removed)
        c->residual |= F_LIVE;
    if (c->t == T_DOCUMENTS && (q->set & F_RANGE)) {
        if (q->range_from > q->range_to)
            clamp(c, 0, 0);
        else
            clamp(c, sim_doc_lower_bound(st, q->range_from),
                  sim_doc_lower_bound(st, q->range_to + 1));
        c->residual &= ~(unsigned)F_RANGE;
    }
    if (c->t == T_DOCUMENTS && (q->set & F_EMISSIONDATE))
        clamp(c, sim_doc_lower_bound(st, q->day), sim_doc_lower_bound(st, q->day + SIM_DAY));
    if (c->t == T_PAYMENTS && (q->set & F_DOCUMENT)) {
        int64_t di = q->document - sim_id_base(T_DOCUMENTS);
        bool valid = di >= 0 && (size_t)di < st->n_docs;
        /* Payments added later sit outside the document's run: then every payment is tested. */
        bool late = valid && sim_doc_has_late_payments(st, (size_t)di);
        if (!valid)
            clamp(c, 0, 0);
        else if (!late)
            clamp(c, st->docs[di].first_pay, st->docs[di].first_pay + st->docs[di].n_pay);
        if (!late)
            c->residual &= ~(unsigned)F_DOCUMENT;
    }
    if (c->t == T_PAYMENTS && (q->set & (F_RECORDDATE | F_RECORDRANGE)))
        narrow_payments(st, c, q);
    if (c->t == T_STOCKS && (q->set & F_VARIANT)) {
        int64_t vi = q->variant - sim_id_base(T_VARIANTS);
        if (vi < 0 || (size_t)vi >= st->n_variants)
            clamp(c, 0, 0);
        else
            clamp(c, (size_t)vi * st->n_offices, (size_t)(vi + 1) * st->n_offices);
    }
    if (c->t == T_VARIANTS && (q->set & F_PRODUCT)) {
        int64_t pi = q->product - sim_id_base(T_PRODUCTS);
        if (pi < 0 || (size_t)pi >= st->n_products)
            clamp(c, 0, 0);
        else
            clamp(c, st->products[pi].first_variant,
                  st->products[pi].first_variant + st->products[pi].n_variants);
    }
}

/* ---- output ---- */

static bool field_wanted(const char *fields, const char *k, size_t kn)
{
    const char *p = fields;
    while (*p) {
        while (*p == '[' || *p == ']' || *p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ",[] ");
        if (n == kn && strncasecmp(p, k, n) == 0)
            return true;
        p += n;
    }
    return false;
}

/* End of the JSON value at p: past a string or a nested object/array; a bare token (number,
 * literal, garbage) ends at the next ',' or '}' of the enclosing object. */
static const char *value_end(const char *p, const char *end)
{
    int depth = 0;
    for (; p < end; p++) {
        if (*p == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            if (p >= end || depth == 0)
                return p < end ? p + 1 : end;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth == 0)
                return p; /* the enclosing object ends: so did a bare token */
            if (--depth == 0)
                return p + 1;
        } else if (*p == ',' && depth == 0) {
            return p;
        }
    }
    return end;
}

/* Appends the members of rendered object s[0..n) named in fields, href always: one pass over
 * the text, no parse (the simulator's keys carry no escapes). */
static void put_fields(const char *s, size_t n, const char *fields, struct jw *w)
{
    const char *p = s, *end = s + n;
    bool first = true;
    jw_lit(w, "{");
    if (p < end && *p == '{')
        p++;
    while (p < end && *p == '"') {
        const char *k = p + 1, *ke = memchr(k, '"', (size_t)(end - k));
        if (!ke || ke + 1 >= end || ke[1] != ':')
            break;
        const char *ve = value_end(ke + 2, end);
        size_t kn = (size_t)(ke - k);
        if ((kn == 4 && memcmp(k, "href", 4) == 0) || field_wanted(fields, k, kn)) {
            if (!first)
                jw_raw(w, ",", 1);
            first = false;
            jw_raw(w, p, (size_t)(ve - p));
        }
        p = ve < end && *ve == ',' ? ve + 1 : ve;
    }
    jw_lit(w, "}");
}

/* Appends item idx, reduced to the requested fields (and href) when `fields` was given. */
static void put_item(struct sim_store *st, enum sim_table t, size_t idx, const struct query *q,
                     struct jw *w)
{
    if (!q->fields || !*q->fields) {
        sim_render(st, t, idx, q->expand, w);
        return;
    }
    struct jw tmp;
    jw_init(&tmp, 2048);
    sim_render(st, t, idx, q->expand, &tmp);
    put_fields(tmp.p, tmp.len, q->fields, w);
    jw_free(&tmp);
}

/* Echoes the request's filters (not limit/offset) into the next-page link. */
static void put_next(const struct sim_request *rq, const char *href, size_t limit, size_t offset,
                     struct jw *w)
{
    jw_fmt(w, ",\"next\":\"%s?", href);
    for (size_t i = 0; i < rq->n_params; i++) {
        const char *k = rq->params[i].key;
        if (strcmp(k, "limit") == 0 || strcmp(k, "offset") == 0)
            continue;
        struct jw kv;
        jw_init(&kv, 64);
        jw_str(&kv, k);
        jw_raw(w, kv.p + 1, kv.len - 2);
        jw_raw(w, "=", 1);
        kv.len = 0;
        jw_str(&kv, rq->params[i].value ? rq->params[i].value : "");
        jw_raw(w, kv.p + 1, kv.len - 2);
        jw_raw(w, "&", 1);
        jw_free(&kv);
    }
    jw_fmt(w, "limit=%zu&offset=%zu\"", limit, offset);
}

/* Identity of a list request apart from its offset, for the seeded short-page draw. */
static uint64_t list_key(const struct sim_request *rq)
{
    uint64_t h = 1469598103934665603ULL;
    const char *parts[2 * MAX_KEY_PARTS + 1];
    size_t n = 0;
    parts[n++] = rq->path;
    for (size_t i = 0; i < rq->n_params && n + 2 <= ARRAY_LEN(parts); i++) {
        if (strcmp(rq->params[i].key, "offset") == 0)
            continue;
        parts[n++] = rq->params[i].key;
        parts[n++] = rq->params[i].value ? rq->params[i].value : "";
    }
    for (size_t i = 0; i < n; i++)
        for (const char *p = parts[i];; p++) {
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
            if (!*p)
                break;
        }
    return h;
}

/* collect() over a list whose order is not the index order (--payments-order shuffled). */
static size_t collect_ordered(struct sim_store *st, const struct list_ctx *c, const struct query *q,
                              const uint32_t *order, size_t from, size_t to, size_t *pick,
                              size_t *count)
{
    size_t n = 0, pos = 0, len = sim_table_len(st, c->t);
    for (size_t j = 0; j < len; j++) {
        size_t i = order[j];
        if (i < c->lo || i >= c->hi || (c->residual && !matches(st, c->t, i, c->residual, q)))
            continue;
        if (pos >= from && pos < to)
            pick[n++] = i;
        pos++;
    }
    *count = pos;
    return n;
}

/* Fills pick with the store indexes at list positions [from, to); *count = the list's length. */
static size_t collect(struct sim_store *st, const struct list_ctx *c, const struct query *q,
                      size_t from, size_t to, size_t *pick, size_t *count)
{
    size_t n = 0, pos = 0;
    if (c->t == T_PAYMENTS && st->pay_order)
        return collect_ordered(st, c, q, st->pay_order, from, to, pick, count);
    if (!c->residual) {
        *count = c->hi - c->lo;
        for (size_t k = from; k < *count && k < to; k++)
            pick[n++] = c->lo + k;
        return n;
    }
    for (size_t i = c->lo; i < c->hi; i++) {
        if (!matches(st, c->t, i, c->residual, q))
            continue;
        if (pos >= from && pos < to)
            pick[n++] = i;
        pos++;
    }
    *count = pos;
    return n;
}

static enum sim_count_lie count_lie(const struct sim_store *st, const struct sim_request *rq)
{
    const char *prefix = st->h.count_lie_path;
    if (prefix && strncmp(rq->path, prefix, strlen(prefix)) != 0)
        return LIE_NONE;
    return st->h.count_lie;
}

/* An endless list: positions past the end repeat the real items; count keeps growing. */
static size_t collect_endless(struct sim_store *st, const struct list_ctx *c, const struct query *q,
                              size_t *pick, size_t *count)
{
    size_t span = c->hi - c->lo, real, n = 0;
    size_t *all = xmalloc((span ? span : 1) * sizeof *all);
    collect(st, c, q, 0, span, all, &real);
    for (size_t j = 0; real && j < q->limit; j++)
        pick[n++] = all[(q->offset + j) % real];
    free(all);
    *count = q->offset + 2 * q->limit;
    return n;
}

static void list_page(struct sim_store *st, const struct sim_request *rq, const struct query *q,
                      struct list_ctx *c, const char *href, struct sim_response *rs)
{
    struct jw *w = &rs->body;
    size_t *pick = xmalloc(q->limit * sizeof *pick);
    size_t n, real, count;
    enum sim_count_lie lie = count_lie(st, rq);
    if (lie == LIE_GROW) {
        n = collect_endless(st, c, q, pick, &count);
        real = count;
    } else {
        n = collect(st, c, q, q->offset, q->offset + q->limit, pick, &real);
        count = lie == LIE_LOW && real > 3 ? 3 : real;
    }
    if (q->offset + q->limit < real) /* a page with more after it may come short */
        n = sim_short_page(st, list_key(rq), q->offset, n);
    jw_fmt(w, "{\"href\":\"%s\",\"count\":%zu,\"limit\":%zu,\"offset\":%zu,\"items\":[", href,
           count, q->limit, q->offset);
    for (size_t k = 0; k < n; k++) {
        if (k)
            jw_raw(w, ",", 1);
        put_item(st, c->t, pick[k], q, w);
    }
    jw_lit(w, "]");
    if (q->offset + q->limit < count)
        put_next(rq, href, q->limit, q->offset + q->limit, w);
    jw_lit(w, "}");
    free(pick);
    rs->status = 200;
}

static size_t count_matches(struct sim_store *st, struct list_ctx *c, const struct query *q)
{
    if (!c->residual)
        return c->hi - c->lo;
    size_t n = 0;
    for (size_t i = c->lo; i < c->hi; i++)
        n += matches(st, c->t, i, c->residual, q);
    return n;
}

/* ---- routing ---- */

static enum sim_table table_by_name(const char *s, size_t n)
{
    for (int t = 0; t < T_COUNT; t++) {
        const char *name = sim_table_name((enum sim_table)t);
        if (name && strlen(name) == n && strncmp(name, s, n) == 0)
            return (enum sim_table)t;
    }
    return T_COUNT;
}

static bool seg_id(const char *s, int64_t *out)
{
    if (!*s || strlen(s) > 18)
        return false;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    return sim_parse_i64(s, out);
}

/* Index of id in t, or false when no such item. */
static bool lookup(const struct sim_store *st, enum sim_table t, int64_t id, size_t *idx)
{
    int64_t i = id - sim_id_base(t);
    if (i < 0 || (size_t)i >= sim_table_len(st, t))
        return false;
    *idx = (size_t)i;
    return true;
}

#define MAX_SEGS 5

static void not_found(struct sim_response *rs)
{
    error_body(rs, 404, "The requested resource is not available");
}

/* A removed document: 404, or Bsale's 500 with the same text (docs/bsale-api.md, "Errors and
 * throttling"). */
static bool gone(const struct sim_store *st, enum sim_table t, size_t idx, struct sim_response *rs)
{
    if (t != T_DOCUMENTS || !st->docs[idx].removed)
        return false;
    error_body(rs, st->h.gone_status, "The requested resource is not available");
    return true;
}

static void handle_single(struct sim_store *st, const struct sim_request *rq, enum sim_table t,
                          int64_t id, struct sim_response *rs)
{
    size_t idx;
    struct query q = {0};
    if (!lookup(st, t, id, &idx)) {
        not_found(rs);
        return;
    }
    if (gone(st, t, idx, rs))
        return;
    if (!parse_query(rq, 0, false, &q, rs))
        return;
    put_item(st, t, idx, &q, &rs->body);
    rs->status = 200;
}

static void handle_list(struct sim_store *st, const struct sim_request *rq, struct list_ctx *c,
                        const char *href, bool count_only, struct sim_response *rs)
{
    struct query q = {0};
    if (!parse_query(rq, allowed_filters(c->t), true, &q, rs))
        return;
    narrow(st, c, &q);
    if (count_only) {
        jw_fmt(&rs->body, "{\"count\":%zu}", count_matches(st, c, &q));
        rs->status = 200;
        return;
    }
    list_page(st, rq, &q, c, href, rs);
}

/* A detail page that never fills: the true count, no items. */
static void empty_page(const struct sim_request *rq, const char *href, size_t count,
                       struct sim_response *rs)
{
    struct query q = {0};
    if (!parse_query(rq, allowed_filters(T_DOC_DETAILS), true, &q, rs))
        return;
    jw_fmt(&rs->body, "{\"href\":\"%s\",\"count\":%zu,\"limit\":%zu,\"offset\":%zu,\"items\":[]}",
           href, count, q.limit, q.offset);
    rs->status = 200;
}

/* /documents/{id}/payments.json: the document's totals per payment type, paged. */
static void handle_doc_payments(struct sim_store *st, const struct sim_request *rq, int64_t pid,
                                struct sim_response *rs)
{
    size_t pidx;
    struct query q = {0};
    if (!lookup(st, T_DOCUMENTS, pid, &pidx)) {
        not_found(rs);
        return;
    }
    if (gone(st, T_DOCUMENTS, pidx, rs) || !parse_query(rq, 0, true, &q, rs))
        return;
    struct sim_pay_total totals[SIM_PAY_TYPES_MAX];
    size_t n = sim_doc_pay_totals(st, pidx, totals);
    char href[128];
    snprintf(href, sizeof href, SIM_HREF "/documents/%lld/payments.json", (long long)pid);
    struct jw *w = &rs->body;
    jw_fmt(w, "{\"href\":\"%s\",\"count\":%zu,\"limit\":%zu,\"offset\":%zu,\"items\":[", href, n,
           q.limit, q.offset);
    for (size_t k = q.offset; k < n && k < q.offset + q.limit; k++) {
        if (k > q.offset)
            jw_raw(w, ",", 1);
        sim_render_pay_total(&totals[k], w);
        jw_lit(w, "}");
    }
    jw_lit(w, "]");
    if (q.offset + q.limit < n)
        put_next(rq, href, q.limit, q.offset + q.limit, w);
    jw_lit(w, "}");
    rs->status = 200;
}

/* /documents/{id}/references.json and /documents/{id}/references/{refId}.json */
static void handle_references(struct sim_store *st, const struct sim_request *rq, int64_t pid,
                              const char *segs[], size_t nseg, struct sim_response *rs)
{
    size_t pidx;
    int64_t rid = 0;
    struct query q = {0};
    if (!lookup(st, T_DOCUMENTS, pid, &pidx) || (nseg == 4 && !seg_id(segs[3], &rid))) {
        not_found(rs);
        return;
    }
    if (gone(st, T_DOCUMENTS, pidx, rs) || !parse_query(rq, 0, nseg == 3, &q, rs))
        return;
    rs->status = 200;
    if (nseg == 3)
        sim_references_page(st, pidx, q.offset, q.limit, &rs->body);
    else if (!sim_reference_item(st, pidx, rid, &rs->body))
        not_found(rs);
}

static void handle_sub(struct sim_store *st, const struct sim_request *rq, enum sim_table parent,
                       int64_t pid, const char *segs[], size_t nseg, struct sim_response *rs)
{
    size_t pidx;
    char href[128];
    enum sim_table t = parent == T_DOCUMENTS ? T_DOC_DETAILS : T_PL_DETAILS;
    const char *res = sim_table_name(parent);
    if (parent == T_DOCUMENTS && nseg == 3 && strcmp(segs[2], "payments") == 0) {
        handle_doc_payments(st, rq, pid, rs);
        return;
    }
    if (parent == T_DOCUMENTS && strcmp(segs[2], "references") == 0) {
        handle_references(st, rq, pid, segs, nseg, rs);
        return;
    }
    if (strcmp(segs[2], "details") != 0 || !lookup(st, parent, pid, &pidx)) {
        not_found(rs);
        return;
    }
    if (gone(st, parent, pidx, rs))
        return;
    struct list_ctx c = {.t = t};
    if (t == T_DOC_DETAILS) {
        c.lo = st->docs[pidx].first_line;
        c.hi = c.lo + st->docs[pidx].n_lines;
    } else {
        c.lo = pidx * st->n_variants;
        c.hi = c.lo + st->n_variants;
    }
    if (nseg == 4) {
        int64_t did;
        size_t didx;
        if (!seg_id(segs[3], &did) || !lookup(st, t, did, &didx) || didx < c.lo || didx >= c.hi) {
            not_found(rs);
            return;
        }
        handle_single(st, rq, t, did, rs);
        return;
    }
    snprintf(href, sizeof href, SIM_HREF "/%s/%lld/details.json", res, (long long)pid);
    if (t == T_DOC_DETAILS && sim_empty_details(st, pidx)) {
        empty_page(rq, href, c.hi - c.lo, rs);
        return;
    }
    handle_list(st, rq, &c, href, false, rs);
}

static void set_tmpl(struct sim_response *rs, const char *segs[], size_t nseg, bool ok_res)
{
    if (!ok_res) {
        snprintf(rs->tmpl, sizeof rs->tmpl, "(unknown)");
        return;
    }
    const char *second = nseg >= 2 && strcmp(segs[1], "count") == 0 ? "count" : "{id}";
    if (nseg == 2)
        snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/%s/%s.json", segs[0], second);
    else if (nseg == 3)
        snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/%s/{id}/%s.json", segs[0], segs[2]);
    else if (nseg == 4)
        snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/%s/{id}/%s/{id}.json", segs[0], segs[2]);
    else
        snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/%s.json", segs[0]);
}

static void route(struct sim_store *st, const struct sim_request *rq, char *path,
                  struct sim_response *rs)
{
    const char *segs[MAX_SEGS] = {0};
    size_t nseg = 0;
    size_t n = strlen(path);
    if (n < 6 || strcmp(path + n - 5, ".json") != 0) {
        set_tmpl(rs, segs, 0, false);
        not_found(rs);
        return;
    }
    path[n - 5] = '\0';
    for (char *p = path; p && nseg < MAX_SEGS;) {
        segs[nseg++] = p;
        p = strchr(p, '/');
        if (p)
            *p++ = '\0';
    }
    if (sim_moves_route(st, rq, segs, nseg, rs) || sim_returns_route(st, rq, segs, nseg, rs))
        return;
    enum sim_table t = table_by_name(segs[0], strlen(segs[0]));
    bool ok = t != T_COUNT && nseg <= 4;
    set_tmpl(rs, segs, nseg, ok);
    rs->heavy = t == T_DOCUMENTS || t == T_PAYMENTS;
    int64_t id;
    char href[128];
    if (!ok) {
        not_found(rs);
    } else if (nseg == 1) {
        struct list_ctx c = {.t = t, .lo = 0, .hi = sim_table_len(st, t)};
        snprintf(href, sizeof href, SIM_HREF "/%s.json", segs[0]);
        handle_list(st, rq, &c, href, false, rs);
    } else if (nseg == 2 && strcmp(segs[1], "count") == 0) {
        struct list_ctx c = {.t = t, .lo = 0, .hi = sim_table_len(st, t)};
        handle_list(st, rq, &c, NULL, true, rs);
    } else if (!seg_id(segs[1], &id)) {
        not_found(rs);
    } else if (nseg == 2) {
        handle_single(st, rq, t, id, rs);
    } else if (t == T_DOCUMENTS || t == T_PRICE_LISTS) {
        handle_sub(st, rq, t, id, segs, nseg, rs);
    } else {
        not_found(rs);
    }
}

void sim_api_template(const char *path, char *out, size_t n)
{
    struct sim_response rs = {0};
    const char *segs[MAX_SEGS] = {0};
    size_t nseg = 0;
    char tmp[257];
    snprintf(out, n, "(unknown)");
    size_t len = strlen(path);
    if (strncmp(path, "/v1/", 4) != 0 || len > 256 || len < 10 ||
        strcmp(path + len - 5, ".json") != 0)
        return;
    snprintf(tmp, sizeof tmp, "%.*s", (int)(len - 9), path + 4);
    for (char *p = tmp; p && nseg < MAX_SEGS;) {
        segs[nseg++] = p;
        p = strchr(p, '/');
        if (p)
            *p++ = '\0';
    }
    if (sim_moves_template(segs, nseg, out, n))
        return;
    bool ok = table_by_name(segs[0], strlen(segs[0])) != T_COUNT && nseg <= 4;
    set_tmpl(&rs, segs, nseg, ok);
    snprintf(out, n, "%s", rs.tmpl);
}

void sim_api_handle(struct sim_store *st, const struct sim_request *rq, struct sim_response *rs)
{
    rs->status = 500;
    rs->heavy = false;
    snprintf(rs->tmpl, sizeof rs->tmpl, "(unknown)");
    if (strncmp(rq->path, "/v1/", 4) != 0 || strlen(rq->path) > 256) {
        not_found(rs);
        return;
    }
    char *path = xstrdup(rq->path + 4);
    pthread_rwlock_rdlock(&st->lock);
    route(st, rq, path, rs);
    pthread_rwlock_unlock(&st->lock);
    free(path);
}

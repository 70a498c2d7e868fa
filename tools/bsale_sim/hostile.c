/*
 * A hostile Bsale: short pages, garbage in items and detail pages that never fill.
 * Every decision is a pure function of the fault seed and the item or page, so a
 * retry sees the same answer and /__truth can say which records were affected.
 */
#include "common.h"

#include "sim.h"

#include <stdio.h>
#include <string.h>

/* Random streams of the hostile knobs (distinct from the generator's and the server's). */
enum { STREAM_SHORT = 400, STREAM_EMPTY = 401, STREAM_GARBAGE = 410 };

#define LONG_TEXT_MIN (1u << 20)
#define LONG_TEXT_SPAN (19u << 20)

static const char *const kind_names[G_KINDS] = {
    "true", "nan", "huge", "string_date", "bad_id", "long_text", "nul",
};

void sim_hostile_default(struct sim_hostile *h)
{
    memset(h, 0, sizeof *h);
    h->gone_status = 404;
    h->garbage_kinds = (1u << G_KINDS) - 1;
}

bool sim_garbage_parse(const char *s, unsigned *bits)
{
    unsigned out = 0;
    const char *p = s;
    while (*p) {
        size_t n = strcspn(p, ",");
        unsigned bit = 0;
        for (int k = 0; k < G_KINDS; k++)
            if (strlen(kind_names[k]) == n && strncmp(p, kind_names[k], n) == 0)
                bit = 1u << k;
        if (!bit)
            return false;
        out |= bit;
        p += n;
        if (*p == ',')
            p++;
    }
    *bits = out;
    return out != 0;
}

size_t sim_short_page(const struct sim_store *st, uint64_t list_key, size_t offset, size_t n)
{
    if (st->h.short_page_rate <= 0 || n < 2)
        return n;
    struct rng r = rng_for(st->h.seed, STREAM_SHORT, rng_mix(list_key) + offset);
    if (!rng_chance(&r, st->h.short_page_rate))
        return n;
    return 1 + rng_below(&r, (uint32_t)(n - 1));
}

bool sim_empty_details(const struct sim_store *st, size_t doc_idx)
{
    if (st->h.empty_details_rate <= 0 || st->docs[doc_idx].n_lines <= SIM_EMBED_MAX)
        return false;
    struct rng r = rng_for(st->h.seed, STREAM_EMPTY, (uint64_t)doc_idx);
    return rng_chance(&r, st->h.empty_details_rate);
}

/* The member a kind spoils in an item of t; NULL when the kind does not apply to t. */
static const char *garbage_field(enum sim_table t, enum sim_garbage kind)
{
    static const char *const docs[G_KINDS] = {
        "totalAmount", "totalAmount", "netAmount", "emissionDate", "id", "urlPdf", "token"};
    static const char *const lines[G_KINDS] = {"quantity", "netAmount", "totalAmount", NULL,
                                               "id",       "note",      "note"};
    static const char *const pays[G_KINDS] = {"amount", "amount", "amount", "recordDate",
                                              "id",     NULL,     NULL};
    switch (t) {
    case T_DOCUMENTS:
        return docs[kind];
    case T_DOC_DETAILS:
        return lines[kind];
    case T_PAYMENTS:
        return pays[kind];
    default:
        return NULL;
    }
}

static struct rng garbage_rng(const struct sim_store *st, enum sim_table t, size_t idx)
{
    return rng_for(st->h.seed, STREAM_GARBAGE + (uint32_t)t, (uint64_t)idx);
}

bool sim_garbled(const struct sim_store *st, enum sim_table t, size_t idx, enum sim_garbage *kind)
{
    if (st->h.garbage_rate <= 0 || !garbage_field(t, G_BAD_ID))
        return false;
    struct rng r = garbage_rng(st, t, idx);
    if (!rng_chance(&r, st->h.garbage_rate))
        return false;
    enum sim_garbage usable[G_KINDS] = {0};
    uint32_t n = 0;
    for (int k = 0; k < G_KINDS; k++)
        if ((st->h.garbage_kinds & (1u << k)) && garbage_field(t, (enum sim_garbage)k))
            usable[n++] = (enum sim_garbage)k;
    if (!n)
        return false;
    *kind = usable[rng_below(&r, n)];
    return true;
}

/* Length of the JSON value at p: a string, or a scalar up to the next ',' or '}'. */
static size_t value_len(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && *q == '"') {
        for (q++; q < end && *q != '"'; q++)
            if (*q == '\\')
                q++;
        return (size_t)(q + 1 - p);
    }
    while (q < end && *q != ',' && *q != '}')
        q++;
    return (size_t)(q - p);
}

static void long_text(struct rng *r, struct jw *w)
{
    size_t n = LONG_TEXT_MIN + rng_below(r, LONG_TEXT_SPAN);
    char chunk[64 * 1024];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = "garbage "[i % 8];
    jw_raw(w, "\"", 1);
    for (size_t done = 0; done < n; done += sizeof chunk)
        jw_raw(w, chunk, n - done < sizeof chunk ? n - done : sizeof chunk);
    jw_raw(w, "\"", 1);
}

static void garbage_value(enum sim_garbage kind, struct rng *r, struct jw *w)
{
    static const char *const bad_ids[] = {"3.5", "\"2abc\"", "1e308", "9223372036854775809"};
    switch (kind) {
    case G_TRUE:
        jw_lit(w, "true");
        break;
    case G_NAN:
        jw_lit(w, "NaN"); /* not JSON: the whole answer becomes unparseable */
        break;
    case G_HUGE:
        jw_lit(w, "1e308");
        break;
    case G_STRING_DATE:
        jw_lit(w, "\"2024-01-01\"");
        break;
    case G_BAD_ID:
        jw_lit(w, bad_ids[rng_below(r, ARRAY_LEN(bad_ids))]);
        break;
    case G_LONG_TEXT:
        long_text(r, w);
        break;
    default:
        jw_lit(w, "\"a\\u0000b\"");
        break;
    }
}

void sim_garble(const struct sim_store *st, enum sim_table t, size_t idx, enum sim_garbage kind,
                const char *in, size_t n, struct jw *w)
{
    char pat[40] = {0};
    snprintf(pat, sizeof pat, "\"%s\":", garbage_field(t, kind));
    const char *end = in + n;
    /* The item's own members come before any embedded envelope: the first match is ours. */
    const char *at = memmem(in, n, pat, strlen(pat));
    if (!at) {
        jw_raw(w, in, n);
        return;
    }
    const char *val = at + strlen(pat);
    struct rng r = garbage_rng(st, t, idx);
    rng_next(&r); /* past the draws of sim_garbled */
    rng_next(&r);
    jw_raw(w, in, (size_t)(val - in));
    garbage_value(kind, &r, w);
    const char *rest = val + value_len(val, end);
    jw_raw(w, rest, (size_t)(end - rest));
}

void sim_put_garbled(const struct sim_store *st, enum sim_table t, size_t idx, const char *in,
                     size_t n, struct jw *w)
{
    enum sim_garbage kind;
    if (sim_garbled(st, t, idx, &kind))
        sim_garble(st, t, idx, kind, in, n, w);
    else
        jw_raw(w, in, n);
}

static void garbled_item(struct jw *w, bool *first, const char *res, int64_t id, const char *field,
                         const char *kind)
{
    jw_fmt(w, "%s{\"resource\":\"%s\",\"id\":%lld,\"field\":\"%s\",\"kind\":\"%s\"",
           *first ? "" : ",", res, (long long)id, field, kind);
    *first = false;
}

static void garbled_of(const struct sim_store *st, enum sim_table t, const char *res, struct jw *w,
                       bool *first)
{
    size_t n = sim_table_len(st, t);
    for (size_t i = 0; i < n; i++) {
        enum sim_garbage kind;
        size_t doc = t == T_DOC_DETAILS ? st->lines[i].doc_idx : i;
        if ((t != T_PAYMENTS && st->docs[doc].removed) || !sim_garbled(st, t, i, &kind))
            continue;
        garbled_item(w, first, res, sim_id_base(t) + (int64_t)i, garbage_field(t, kind),
                     kind_names[kind]);
        if (t == T_DOC_DETAILS)
            jw_fmt(w, ",\"document_id\":%lld", (long long)(sim_id_base(T_DOCUMENTS) + doc));
        jw_lit(w, "}");
    }
}

void sim_render_garbled(const struct sim_store *st, struct jw *w)
{
    bool first = true;
    jw_lit(w, "\"garbled\":[");
    for (size_t i = 0; i < st->n_docs; i++)
        if (!st->docs[i].removed && sim_empty_details(st, i)) {
            garbled_item(w, &first, "documents", sim_id_base(T_DOCUMENTS) + (int64_t)i, "details",
                         "empty_details");
            jw_lit(w, "}");
        }
    garbled_of(st, T_DOCUMENTS, "documents", w, &first);
    garbled_of(st, T_DOC_DETAILS, "document_details", w, &first);
    garbled_of(st, T_PAYMENTS, "payments", w, &first);
    jw_lit(w, "]");
}

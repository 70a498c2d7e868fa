/*
 * Documents derived from others, as Bsale links them (docs/bsale-api.md, quirks 20-22):
 * credit notes reversing all or part of a sale, with an electronic reference to it, and
 * notas de venta turned into boletas. A derived line carries relatedDetailId = the line it
 * comes from. Also cancellation, and the rendering of references.
 */
#include "common.h"

#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define IVA 1.19
#define SOURCE_LOOKBACK 200 /* documents searched back for a source */
#define SHARE_CONVERTED 0.1 /* boletas that come from a nota de venta */
#define SHARE_PARTIAL 0.4   /* credit notes that reverse part of a sale */

static bool is_sale(uint32_t type_id)
{
    return type_id == SIM_DT_FACTURA || type_id == SIM_DT_BOLETA;
}

bool sim_reversible(const struct sim_store *st, size_t idx)
{
    const struct s_document *d = &st->docs[idx];
    return is_sale(d->type_id) && d->state == 0 && !d->derived && !d->removed && d->n_lines > 0;
}

static bool convertible(const struct sim_store *st, size_t idx)
{
    const struct s_document *d = &st->docs[idx];
    return d->type_id == SIM_DT_NOTA_VENTA && d->state == 0 && !d->derived && !d->removed &&
           d->n_lines > 0;
}

int32_t sim_pick_source(struct sim_store *st, struct rng *r, uint32_t type_id, int64_t when)
{
    bool credit = type_id == SIM_DT_NOTA_CREDITO;
    if (!credit && !(type_id == SIM_DT_BOLETA && rng_chance(r, SHARE_CONVERTED)))
        return -1;
    size_t n = st->n_docs;
    size_t span = n < SOURCE_LOOKBACK ? n : SOURCE_LOOKBACK;
    size_t start = span ? rng_below(r, (uint32_t)span) : 0;
    for (size_t k = 0; k < span; k++) {
        size_t idx = n - 1 - (start + k) % span;
        if (st->docs[idx].generation > when)
            continue;
        if (credit ? sim_reversible(st, idx) : convertible(st, idx))
            return (int32_t)idx;
    }
    return -1;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 256;
    while (c < need)
        c *= 2;
    *cap = c;
    return xrealloc(p, c * size);
}

/* The lines a credit note takes back: all of them, or (partial) a prefix of them. */
static uint32_t reversed_lines(struct rng *r, const struct s_document *sale, bool partial)
{
    if (!partial || sale->n_lines < 2)
        return sale->n_lines;
    return 1 + rng_below(r, sale->n_lines - 1);
}

/* Part of a line's quantity: half, in whole units unless sold by weight. */
static double part_quantity(double q)
{
    if (q != floor(q))
        return round(q * 50.0) / 100.0;
    return q >= 2 ? floor(q / 2) : q;
}

static void add_reference(struct sim_store *st, uint32_t doc_idx, uint32_t src, bool partial)
{
    st->refs = grow(st->refs, &st->refs_cap, st->n_refs + 1, sizeof *st->refs);
    struct s_document *d = &st->docs[doc_idx];
    d->first_ref = (uint32_t)st->n_refs;
    d->n_ref = 1;
    st->refs[st->n_refs++] =
        (struct s_reference){.doc_idx = doc_idx, .target_idx = src, .partial = partial ? 1 : 0};
}

void sim_derive_lines(struct sim_store *st, struct rng *r, uint32_t doc_idx, uint32_t src)
{
    bool credit = st->docs[doc_idx].type_id == SIM_DT_NOTA_CREDITO;
    bool partial = credit && rng_chance(r, SHARE_PARTIAL);
    uint32_t n = reversed_lines(r, &st->docs[src], partial);
    st->lines = grow(st->lines, &st->lines_cap, st->n_lines + n, sizeof *st->lines);
    struct s_document *d = &st->docs[doc_idx];
    const struct s_document *s = &st->docs[src];
    bool less = n < s->n_lines;
    d->first_line = (uint32_t)st->n_lines;
    d->n_lines = n;
    for (uint32_t i = 0; i < n; i++) {
        const struct s_line *from = &st->lines[s->first_line + i];
        struct s_line *l = &st->lines[st->n_lines++];
        *l = *from;
        l->doc_idx = doc_idx;
        l->related = sim_id_base(T_DOC_DETAILS) + (int64_t)(s->first_line + i);
        if (partial && n == s->n_lines && i + 1 == n &&
            part_quantity(from->quantity) < l->quantity) {
            l->quantity = part_quantity(from->quantity);
            l->total = llround(l->quantity * (double)l->total_unit);
            l->net = llround((double)l->total / IVA);
            l->tax = l->total - l->net;
            less = true;
        }
    }
    st->docs[src].derived = 1;
    if (credit)
        add_reference(st, doc_idx, src, less);
}

void sim_cancel(struct sim_store *st, size_t idx, int64_t when)
{
    struct s_document *d = &st->docs[idx];
    int64_t end_of_today = st->k.today + SIM_DAY - 1;
    d->state = 1;
    d->cancel_status = 1;
    d->cancel_date = when < end_of_today ? when : end_of_today;
}

/* ---- rendering (caller holds the read lock) ---- */

/* codeSii by document type id, as render.c's doc_types table has them. */
static const char *sii_code(uint32_t type_id)
{
    static const char *const codes[] = {"", "33", "39", "61", "", "52", "41"};
    return type_id < ARRAY_LEN(codes) ? codes[type_id] : "";
}

static void reference_item(struct sim_store *st, size_t ref_idx, struct jw *w)
{
    const struct s_reference *f = &st->refs[ref_idx];
    const struct s_document *sale = &st->docs[f->target_idx];
    int64_t id = SIM_REF_ID_BASE + (int64_t)ref_idx;
    int64_t did = sim_id_base(T_DOCUMENTS) + (int64_t)f->doc_idx;
    const char *code = sii_code(sale->type_id);
    jw_fmt(w,
           "{\"href\":\"" SIM_HREF "/documents/%lld/references/%lld.json\",\"id\":%lld"
           ",\"referenceDate\":%lld,\"number\":\"%lld\",\"reason\":",
           (long long)did, (long long)id, (long long)id, (long long)sale->emission,
           (long long)sale->number);
    jw_str(w, f->partial ? "Devolución de mercaderías" : "Anula documento");
    jw_fmt(w, ",\"dte_code\":{\"href\":\"" SIM_HREF "/dte_codes/%s.json\",\"id\":\"%s\"}}", code,
           code);
}

static void envelope(struct sim_store *st, size_t doc_idx, size_t offset, size_t limit, bool next,
                     struct jw *w)
{
    const struct s_document *d = &st->docs[doc_idx];
    long long did = (long long)(sim_id_base(T_DOCUMENTS) + (int64_t)doc_idx);
    size_t count = d->n_ref;
    jw_fmt(w,
           "{\"href\":\"" SIM_HREF "/documents/%lld/references.json\",\"count\":%zu"
           ",\"limit\":%zu,\"offset\":%zu,\"items\":[",
           did, count, limit, offset);
    for (size_t k = offset; k < count && k < offset + limit; k++) {
        if (k > offset)
            jw_raw(w, ",", 1);
        reference_item(st, d->first_ref + k, w);
    }
    jw_lit(w, "]");
    if (next && offset + limit < count)
        jw_fmt(w, ",\"next\":\"" SIM_HREF "/documents/%lld/references.json?limit=%zu&offset=%zu\"",
               did, limit, offset + limit);
    jw_lit(w, "}");
}

void sim_render_doc_references(struct sim_store *st, size_t doc_idx, unsigned expand, struct jw *w)
{
    jw_lit(w, ",\"references\":");
    if ((expand & EXP_REFERENCES) && st->k.expand_style == EXPAND_EMBED) {
        envelope(st, doc_idx, 0, SIM_EMBED_MAX, false, w);
        return;
    }
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/documents/%lld/references.json\"}",
           (long long)(sim_id_base(T_DOCUMENTS) + (int64_t)doc_idx));
}

void sim_references_page(struct sim_store *st, size_t doc_idx, size_t offset, size_t limit,
                         struct jw *w)
{
    envelope(st, doc_idx, offset, limit, true, w);
}

bool sim_reference_item(struct sim_store *st, size_t doc_idx, int64_t ref_id, struct jw *w)
{
    const struct s_document *d = &st->docs[doc_idx];
    int64_t k = ref_id - SIM_REF_ID_BASE - (int64_t)d->first_ref;
    if (ref_id < SIM_REF_ID_BASE || k < 0 || k >= (int64_t)d->n_ref)
        return false;
    reference_item(st, d->first_ref + (size_t)k, w);
    return true;
}

void sim_render_truth_references(struct sim_store *st, struct jw *w)
{
    jw_lit(w, "\"document_references\":[");
    bool first = true;
    for (size_t i = 0; i < st->n_refs; i++) {
        const struct s_reference *f = &st->refs[i];
        if (st->docs[f->doc_idx].removed)
            continue;
        if (!first)
            jw_raw(w, ",", 1);
        first = false;
        struct jw one;
        jw_init(&one, 512);
        reference_item(st, i, &one);
        jw_raw(w, one.p, one.len - 1);
        jw_fmt(w, ",\"document_id\":%lld}",
               (long long)(sim_id_base(T_DOCUMENTS) + (int64_t)f->doc_idx));
        jw_free(&one);
    }
    jw_lit(w, "]");
}

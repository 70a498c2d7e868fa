/*
 * Returns (one per credit note, tied to the sale it reverses and to the sale's lines),
 * taxes, and documents' document_taxes and sellers.
 */
#include "common.h"

#include "moves.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_OTHER_SELLER 0.1

struct tax {
    const char *name, *percentage, *code;
    int for_all, state;
};
static const struct tax taxes[] = {
    {"IVA", "19.0", "14", 1, 0},
    {"ILA Bebidas Analcohólicas", "10.0", "27", 0, 0},
};

static void ref(struct jw *w, const char *k, const char *res, int64_t id)
{
    jw_fmt(w, ",\"%s\":{\"href\":\"" SIM_HREF "/%s/%lld.json\",\"id\":\"%lld\"}", k, res,
           (long long)id, (long long)id);
}

static int64_t doc_id(size_t idx)
{
    return sim_id_base(T_DOCUMENTS) + (int64_t)idx;
}

static bool return_live(const struct sim_store *st, size_t ref_idx)
{
    return !st->docs[st->refs[ref_idx].doc_idx].removed;
}

static void return_line(struct sim_store *st, size_t ref_idx, size_t line, struct jw *w);

struct return_lines {
    struct sim_store *st;
    size_t ref_idx, first;
};

static void return_line_k(const void *ctx, size_t k, struct jw *w)
{
    const struct return_lines *rl = ctx;
    return_line(rl->st, rl->ref_idx, rl->first + k, w);
}

static void return_item(struct sim_store *st, size_t i, bool embed, struct jw *w)
{
    const struct s_reference *f = &st->refs[i];
    const struct s_document *cn = &st->docs[f->doc_idx];
    long long id = (long long)i + 1;
    jw_fmt(w,
           "{\"href\":\"" SIM_HREF "/returns/%lld.json\",\"id\":%lld,\"code\":\"DEV-%lld\""
           ",\"returnDate\":%lld,\"motive\":",
           id, id, id, (long long)cn->emission);
    jw_str(w, f->partial ? "Devolución de mercaderías" : "Anula documento");
    jw_fmt(w, ",\"type\":0,\"priceAdjustment\":0,\"editTexts\":0,\"amount\":");
    jw_num(w, (double)cn->total, 1);
    ref(w, "office", "offices", cn->office_id);
    ref(w, "reference_document", "documents", doc_id(f->target_idx));
    ref(w, "credit_note", "documents", doc_id(f->doc_idx));
    char href[128];
    snprintf(href, sizeof href, SIM_HREF "/returns/%lld/details.json", id);
    struct return_lines rl = {st, i, cn->first_line};
    sim_moves_details_member(w, href, cn->n_lines, embed, return_line_k, &rl);
    jw_lit(w, "}");
}

static void return_line(struct sim_store *st, size_t ref_idx, size_t line, struct jw *w)
{
    const struct s_line *l = &st->lines[line];
    jw_fmt(w,
           "{\"href\":\"" SIM_HREF "/returns/%zu/details/%zu.json\",\"id\":%zu"
           ",\"quantity\":",
           ref_idx + 1, line + 1, line + 1);
    jw_num(w, l->quantity, 3);
    jw_lit(w, ",\"quantityDevStock\":");
    jw_num(w, l->quantity, 3);
    jw_lit(w, ",\"variantStock\":");
    jw_num(w, l->quantity + (double)(rng_mix(line) % 60), 3);
    jw_lit(w, ",\"variantCost\":");
    jw_num(w, round(l->net_unit * 0.6), 1);
    jw_fmt(w, ",\"documentDetailId\":%lld}", (long long)l->related);
}

static void tax_item(size_t i, struct jw *w)
{
    const struct tax *t = &taxes[i];
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/taxes/%zu.json\",\"id\":%zu,\"name\":", i + 1, i + 1);
    jw_str(w, t->name);
    jw_fmt(w,
           ",\"percentage\":\"%s\",\"forAllProducts\":%d,\"ledgerAccount\":\"\",\"code\":\"%s\""
           ",\"state\":%d}",
           t->percentage, t->for_all, t->code, t->state);
}

static void doc_tax_item(struct sim_store *st, size_t d, struct jw *w)
{
    jw_fmt(w,
           "{\"href\":\"" SIM_HREF "/documents/%lld/document_taxes/%zu.json\",\"id\":%zu"
           ",\"totalAmount\":",
           (long long)doc_id(d), d + 1, d + 1);
    jw_num(w, (double)st->docs[d].tax, 1);
    jw_lit(w, ",\"exemptAmount\":0.0");
    jw_fmt(w, ",\"tax\":{\"href\":\"" SIM_HREF "/taxes/1.json\",\"id\":\"1\"}}");
}

/* The seller: the document's user, or for a tenth of documents another one. */
static uint32_t seller_of(const struct sim_store *st, size_t d)
{
    uint32_t u = st->docs[d].user_id;
    uint64_t h = rng_mix(st->k.seed ^ (uint64_t)doc_id(d) * 0x9e3779b97f4a7c15ULL);
    if (st->n_users > 1 && (double)(h % 1000) < SHARE_OTHER_SELLER * 1000)
        u = u % st->n_users + 1;
    return u;
}

static void seller_item(struct sim_store *st, size_t d, struct jw *w)
{
    uint32_t u = seller_of(st, d);
    const char *first = "", *last = "";
    sim_user_names(st, u - (uint32_t)sim_id_base(T_USERS), &first, &last);
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/users/%u.json\",\"id\":%u,\"firstName\":", u, u);
    jw_str(w, first);
    jw_lit(w, ",\"lastName\":");
    jw_str(w, last);
    jw_lit(w, "}");
}

typedef void (*doc_item_fn)(struct sim_store *st, size_t d, struct jw *w);

/* A one-item envelope of a document's sub-collection at q. */
static void doc_sub_page(struct sim_store *st, size_t d, const char *sub, doc_item_fn fn,
                         const struct moves_query *q, struct jw *w)
{
    char href[128];
    snprintf(href, sizeof href, SIM_HREF "/documents/%lld/%s.json", (long long)doc_id(d), sub);
    sim_moves_envelope_open(w, href, 1, q);
    if (q->offset == 0 && q->limit > 0)
        fn(st, d, w);
    sim_moves_envelope_close(w, href, 1, q);
}

static void doc_member(struct sim_store *st, size_t d, const char *sub, doc_item_fn fn, bool embed,
                       struct jw *w)
{
    jw_fmt(w, ",\"%s\":", sub);
    if (embed) {
        struct moves_query q = {.limit = SIM_EMBED_MAX};
        doc_sub_page(st, d, sub, fn, &q, w);
        return;
    }
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/documents/%lld/%s.json\"}", (long long)doc_id(d), sub);
}

void sim_render_doc_taxes(struct sim_store *st, size_t d, unsigned expand, struct jw *w)
{
    bool embed = (expand & EXP_DOC_TAXES) && st->k.expand_style == EXPAND_EMBED;
    doc_member(st, d, "document_taxes", doc_tax_item, embed, w);
}

void sim_render_doc_sellers(struct sim_store *st, size_t d, unsigned expand, struct jw *w)
{
    bool embed = (expand & EXP_SELLERS) && st->k.expand_style == EXPAND_EMBED;
    doc_member(st, d, "sellers", seller_item, embed, w);
}

/* ---- routing ---- */

static void not_found(struct sim_response *rs)
{
    rs->status = 404;
    rs->body.len = 0;
    jw_lit(&rs->body, "{\"error\":\"The requested resource is not available\"}");
}

static bool get_query(const struct sim_request *rq, const char *day, const char *range,
                      const char *const *ids, struct moves_query *q, struct sim_response *rs)
{
    if (sim_moves_query(rq, day, range, ids, q))
        return true;
    sim_moves_refuse(q, rs);
    return false;
}

static bool return_in(const struct sim_store *st, size_t i, const struct moves_query *q)
{
    const struct s_reference *f = &st->refs[i];
    int64_t t = st->docs[f->doc_idx].emission;
    return return_live(st, i) && (q->from > q->to || (t >= q->from && t <= q->to)) &&
           sim_moves_id_ok(q, 0, st->docs[f->doc_idx].office_id) &&
           sim_moves_id_ok(q, 1, doc_id(f->target_idx)) &&
           sim_moves_id_ok(q, 2, doc_id(f->doc_idx)) && sim_moves_id_ok(q, 3, 0);
}

static void returns_list(struct sim_store *st, const struct sim_request *rq,
                         struct sim_response *rs)
{
    struct moves_query q;
    static const char *const ids[] = {"officeid", "referencedocumentid", "creditnoteid", "type",
                                      NULL};
    if (!get_query(rq, "returndate", "returndaterange", ids, &q, rs))
        return;
    size_t count = 0;
    for (size_t i = 0; i < st->n_refs; i++)
        count += return_in(st, i, &q);
    const char *href = SIM_HREF "/returns.json";
    sim_moves_envelope_open(&rs->body, href, count, &q);
    size_t k = 0, put = 0;
    for (size_t i = 0; i < st->n_refs && put < q.limit; i++) {
        if (!return_in(st, i, &q) || k++ < q.offset)
            continue;
        if (put++)
            jw_lit(&rs->body, ",");
        return_item(st, i, q.expand_details, &rs->body);
    }
    sim_moves_envelope_close(&rs->body, href, count, &q);
    rs->status = 200;
}

static void return_lines(struct sim_store *st, const struct sim_request *rq, size_t i,
                         struct sim_response *rs)
{
    struct moves_query q;
    if (!get_query(rq, NULL, NULL, NULL, &q, rs))
        return;
    const struct s_document *cn = &st->docs[st->refs[i].doc_idx];
    char href[128];
    snprintf(href, sizeof href, SIM_HREF "/returns/%zu/details.json", i + 1);
    sim_moves_envelope_open(&rs->body, href, cn->n_lines, &q);
    for (size_t k = q.offset; k < cn->n_lines && k < q.offset + q.limit; k++) {
        if (k > q.offset)
            jw_lit(&rs->body, ",");
        return_line(st, i, cn->first_line + k, &rs->body);
    }
    sim_moves_envelope_close(&rs->body, href, cn->n_lines, &q);
    rs->status = 200;
}

static bool index_of(const char *s, size_t base, size_t n, size_t *idx)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < (long long)base || (unsigned long long)v - base >= n)
        return false;
    *idx = (size_t)v - base;
    return true;
}

static void route_returns(struct sim_store *st, const struct sim_request *rq, const char *segs[],
                          size_t nseg, struct sim_response *rs)
{
    size_t i;
    static const char *const tmpls[3] = {"", "/{id}", "/{id}/details"};
    snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/returns%s.json", tmpls[nseg - 1]);
    if (nseg == 1) {
        returns_list(st, rq, rs);
    } else if (!index_of(segs[1], 1, st->n_refs, &i) || !return_live(st, i) ||
               (nseg == 3 && strcmp(segs[2], "details") != 0)) {
        not_found(rs);
    } else if (nseg == 2) {
        struct moves_query q;
        if (!get_query(rq, NULL, NULL, NULL, &q, rs))
            return;
        return_item(st, i, q.expand_details, &rs->body);
        rs->status = 200;
    } else {
        return_lines(st, rq, i, rs);
    }
}

static void route_taxes(const struct sim_request *rq, const char *segs[], size_t nseg,
                        struct sim_response *rs)
{
    size_t i;
    struct moves_query q;
    snprintf(rs->tmpl, sizeof rs->tmpl, nseg == 1 ? "/v1/taxes.json" : "/v1/taxes/{id}.json");
    if (nseg == 2) {
        if (!index_of(segs[1], 1, ARRAY_LEN(taxes), &i)) {
            not_found(rs);
            return;
        }
        tax_item(i, &rs->body);
        rs->status = 200;
        return;
    }
    if (!get_query(rq, NULL, NULL, NULL, &q, rs))
        return;
    const char *href = SIM_HREF "/taxes.json";
    sim_moves_envelope_open(&rs->body, href, ARRAY_LEN(taxes), &q);
    for (size_t k = q.offset; k < ARRAY_LEN(taxes) && k < q.offset + q.limit; k++) {
        if (k > q.offset)
            jw_lit(&rs->body, ",");
        tax_item(k, &rs->body);
    }
    sim_moves_envelope_close(&rs->body, href, ARRAY_LEN(taxes), &q);
    rs->status = 200;
}

static void route_doc_sub(struct sim_store *st, const struct sim_request *rq, const char *segs[],
                          struct sim_response *rs)
{
    size_t d;
    struct moves_query q;
    bool taxes_sub = strcmp(segs[2], "document_taxes") == 0;
    snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/documents/{id}/%s.json", segs[2]);
    if (!index_of(segs[1], (size_t)sim_id_base(T_DOCUMENTS), st->n_docs, &d) ||
        st->docs[d].removed) {
        not_found(rs);
        return;
    }
    if (!get_query(rq, NULL, NULL, NULL, &q, rs))
        return;
    doc_sub_page(st, d, segs[2], taxes_sub ? doc_tax_item : seller_item, &q, &rs->body);
    rs->status = 200;
}

bool sim_returns_route(struct sim_store *st, const struct sim_request *rq, const char *segs[],
                       size_t nseg, struct sim_response *rs)
{
    if (strcmp(segs[0], "returns") == 0 && nseg <= 3) {
        route_returns(st, rq, segs, nseg, rs);
        return true;
    }
    if (strcmp(segs[0], "taxes") == 0 && nseg <= 2) {
        route_taxes(rq, segs, nseg, rs);
        return true;
    }
    if (nseg == 3 && strcmp(segs[0], "documents") == 0 &&
        (strcmp(segs[2], "document_taxes") == 0 || strcmp(segs[2], "sellers") == 0)) {
        route_doc_sub(st, rq, segs, rs);
        return true;
    }
    return false;
}

/* ---- /__truth ---- */

static void truth_doc_sub(struct sim_store *st, const char *name, doc_item_fn fn, struct jw *w)
{
    jw_fmt(w, ",\"%s\":[", name);
    bool first = true;
    for (size_t d = 0; d < st->n_docs; d++) {
        if (st->docs[d].removed)
            continue;
        if (!first)
            jw_lit(w, ",");
        first = false;
        fn(st, d, w);
        w->len--;
        jw_fmt(w, ",\"document_id\":%lld}", (long long)doc_id(d));
    }
    jw_lit(w, "]");
}

void sim_returns_truth(struct sim_store *st, struct jw *w)
{
    jw_lit(w, ",\"returns\":[");
    bool first = true;
    for (size_t i = 0; i < st->n_refs; i++) {
        if (!return_live(st, i))
            continue;
        jw_lit(w, first ? "" : ",");
        first = false;
        return_item(st, i, false, w);
    }
    jw_lit(w, "],\"return_details\":[");
    first = true;
    for (size_t i = 0; i < st->n_refs; i++) {
        const struct s_document *cn = &st->docs[st->refs[i].doc_idx];
        for (size_t k = 0; return_live(st, i) && k < cn->n_lines; k++) {
            jw_lit(w, first ? "" : ",");
            first = false;
            return_line(st, i, cn->first_line + k, w);
            w->len--;
            jw_fmt(w, ",\"return_id\":%zu}", i + 1);
        }
    }
    jw_lit(w, "],\"taxes\":[");
    for (size_t i = 0; i < ARRAY_LEN(taxes); i++) {
        jw_lit(w, i ? "," : "");
        tax_item(i, w);
    }
    jw_lit(w, "]");
    truth_doc_sub(st, "document_taxes", doc_tax_item, w);
    truth_doc_sub(st, "document_sellers", seller_item, w);
}

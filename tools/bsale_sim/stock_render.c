/*
 * Rendering and routing of /stocks/receptions, /stocks/consumptions, their details,
 * /stock_consumption_types and /variants/{id}/costs. Shared list paging for moves.h.
 */
#include "common.h"

#include "moves.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_res[2] = {"stocks/receptions", "stocks/consumptions"};
static const char *const rec_docs[] = {"Guía", "Factura", "Sin Documento"};
static const char *const cons_types[] = {"Merma", "Uso interno", "Vencimiento"};

static bool id_filter(const char *k, const char *v, const char *const *keys, struct moves_query *q,
                      bool *bad)
{
    for (unsigned j = 0; keys && keys[j] && j < MOVES_ID_FILTERS; j++) {
        if (strcmp(k, keys[j]) != 0)
            continue;
        *bad = !sim_parse_i64(v, &q->id_val[j]);
        q->id_set |= 1u << j;
        return true;
    }
    return false;
}

static bool page_param(const char *k, const char *v, struct moves_query *q, bool *bad)
{
    int64_t n = 0;
    if (strcmp(k, "expand") == 0)
        q->expand_details = q->expand_details || strstr(v, "details") != NULL;
    if (strcmp(k, "limit") != 0 && strcmp(k, "offset") != 0)
        return strcmp(k, "expand") == 0 || strcmp(k, "fields") == 0;
    *bad = !sim_parse_i64(v, &n) || n < 0;
    if (k[0] == 'l')
        q->limit = n == 0 ? SIM_PAGE_DEFAULT : n > SIM_PAGE_MAX ? SIM_PAGE_MAX : (size_t)n;
    else
        q->offset = (size_t)n;
    return true;
}

bool sim_moves_query(const struct sim_request *rq, const char *day_key, const char *range_key,
                     const char *const *id_keys, struct moves_query *q)
{
    *q = (struct moves_query){.limit = SIM_PAGE_DEFAULT, .from = 1, .to = 0, .rq = rq};
    for (size_t i = 0; i < rq->n_params; i++) {
        const char *k = rq->params[i].key, *v = rq->params[i].value ? rq->params[i].value : "";
        bool bad = false;
        if (day_key && strcmp(k, day_key) == 0) {
            bad = !sim_parse_i64(v, &q->from);
            q->to = q->from + SIM_DAY - 1;
        } else if (range_key && strcmp(k, range_key) == 0) {
            bad = !sim_parse_range(v, &q->from, &q->to);
        } else if (!page_param(k, v, q, &bad) && !id_filter(k, v, id_keys, q, &bad)) {
            q->status = 403;
            return false;
        }
        if (bad) {
            q->status = 400;
            return false;
        }
    }
    return true;
}

void sim_moves_refuse(const struct moves_query *q, struct sim_response *rs)
{
    rs->status = q->status;
    rs->body.len = 0;
    jw_lit(&rs->body,
           q->status == 403 ? "{\"error\":\"Forbidden\"}" : "{\"error\":\"invalid parameter\"}");
}

bool sim_moves_id_ok(const struct moves_query *q, unsigned k, int64_t v)
{
    return !(q->id_set & (1u << k)) || q->id_val[k] == v;
}

void sim_moves_envelope_open(struct jw *w, const char *href, size_t count,
                             const struct moves_query *q)
{
    jw_fmt(w, "{\"href\":\"%s\",\"count\":%zu,\"limit\":%zu,\"offset\":%zu,\"items\":[", href,
           count, q->limit, q->offset);
}

/* s as JSON string content, without the quotes. */
static void put_escaped(struct jw *w, const char *s)
{
    struct jw t;
    jw_init(&t, 64);
    jw_str(&t, s);
    jw_raw(w, t.p + 1, t.len - 2);
    jw_free(&t);
}

void sim_moves_envelope_close(struct jw *w, const char *href, size_t count,
                              const struct moves_query *q)
{
    jw_lit(w, "]");
    if (q->offset + q->limit < count) {
        jw_fmt(w, ",\"next\":\"%s?", href);
        for (size_t i = 0; q->rq && i < q->rq->n_params; i++) {
            const char *k = q->rq->params[i].key, *v = q->rq->params[i].value;
            if (strcmp(k, "limit") == 0 || strcmp(k, "offset") == 0)
                continue;
            put_escaped(w, k);
            jw_lit(w, "=");
            put_escaped(w, v ? v : "");
            jw_lit(w, "&");
        }
        jw_fmt(w, "limit=%zu&offset=%zu\"", q->limit, q->offset + q->limit);
    }
    jw_lit(w, "}");
}

void sim_moves_details_member(struct jw *w, const char *href, size_t count, bool embed,
                              void (*item)(const void *ctx, size_t k, struct jw *w),
                              const void *ctx)
{
    if (!embed) {
        jw_fmt(w, ",\"details\":{\"href\":\"%s\"}", href);
        return;
    }
    /* As a document's embedded details: the first page, no next link, the true count. */
    jw_fmt(w, ",\"details\":{\"href\":\"%s\",\"count\":%zu,\"limit\":%d,\"offset\":0,\"items\":[",
           href, count, SIM_EMBED_MAX);
    for (size_t k = 0; k < count && k < SIM_EMBED_MAX; k++) {
        if (k)
            jw_lit(w, ",");
        item(ctx, k, w);
    }
    jw_lit(w, "]}");
}

static void ref(struct jw *w, const char *k, const char *res, int64_t id)
{
    jw_fmt(w, ",\"%s\":{\"href\":\"" SIM_HREF "/%s/%lld.json\",\"id\":\"%lld\"}", k, res,
           (long long)id, (long long)id);
}

static void line_item(struct sim_store *st, int kind, size_t j, struct jw *w);

struct move_lines {
    struct sim_store *st;
    int kind;
    uint32_t first;
};

static void move_line_k(const void *ctx, size_t k, struct jw *w)
{
    const struct move_lines *ml = ctx;
    line_item(ml->st, ml->kind, ml->first + k, w);
}

static void move_item(struct sim_store *st, int kind, size_t i, bool embed, struct jw *w)
{
    const struct s_move *m = &st->moves->mv[kind][i];
    long long id = (long long)i + 1;
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/%s/%lld.json\",\"id\":%lld", kind_res[kind], id, id);
    if (kind == 0) {
        jw_fmt(w, ",\"admissionDate\":%lld,\"document\":", (long long)m->date);
        jw_str(w, rec_docs[m->number % ARRAY_LEN(rec_docs)]);
        jw_fmt(w,
               ",\"documentNumber\":\"%lld\",\"note\":\"\",\"imagestionCctId\":0"
               ",\"imagestionCcDescription\":\"\",\"internalDispatchId\":0",
               (long long)m->number);
    } else {
        jw_fmt(w, ",\"consumptionDate\":%lld,\"note\":", (long long)m->date);
        jw_str(w, cons_types[(m->type_id - 1) % ARRAY_LEN(cons_types)]);
        jw_fmt(w, ",\"consumptionTypeId\":%u", m->type_id);
    }
    jw_lit(w, ",\"updateStock\":1");
    ref(w, "office", "offices", m->office_id);
    ref(w, "user", "users", m->user_id);
    char href[128];
    snprintf(href, sizeof href, SIM_HREF "/%s/%lld/details.json", kind_res[kind], id);
    struct move_lines ml = {st, kind, m->first};
    sim_moves_details_member(w, href, m->n, embed, move_line_k, &ml);
    jw_lit(w, "}");
}

static void line_item(struct sim_store *st, int kind, size_t j, struct jw *w)
{
    const struct s_move_line *l = &st->moves->ln[kind][j];
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/%s/%lld/details/%lld.json\",\"id\":%lld,\"quantity\":",
           kind_res[kind], (long long)l->move_idx + 1, (long long)j + 1, (long long)j + 1);
    jw_num(w, l->quantity, 1);
    jw_lit(w, ",\"cost\":");
    jw_num(w, l->cost, 1);
    jw_lit(w, ",\"variantStock\":");
    jw_num(w, l->variant_stock, 1);
    if (kind == 0)
        jw_lit(w, ",\"serialNumber\":null");
    ref(w, "variant", "variants", sim_id_base(T_VARIANTS) + (int64_t)l->variant_idx);
    jw_lit(w, "}");
}

static void cons_type_item(size_t i, struct jw *w)
{
    jw_fmt(w, "{\"cntId\":%zu,\"cntI18nName\":", i + 1);
    jw_str(w, cons_types[i]);
    jw_fmt(w, ",\"cntActive\":1,\"cntCode\":\"C%zu\"}", i + 1);
}

/* Appends the costs object of variant v (stock controlled). */
static void cost_object(struct sim_store *st, size_t v, struct jw *w)
{
    const struct sim_moves *m = st->moves;
    double qty = 0, value = 0;
    for (int32_t j = m->v_last[v]; j >= 0; j = m->ln[0][j].prev) {
        qty += m->ln[0][j].quantity;
        value += m->ln[0][j].quantity * m->ln[0][j].cost;
    }
    double avg = qty > 0 ? value / qty : 0;
    jw_lit(w, "{\"averageCost\":");
    int64_t vid = sim_id_base(T_VARIANTS) + (int64_t)v;
    if (vid % 7 == 0) /* the documented string form */
        jw_numstr(w, avg, 1);
    else
        jw_num(w, avg, 2);
    jw_lit(w, ",\"totalCost\":");
    jw_num(w, value, 2);
    jw_lit(w, ",\"history\":[");
    for (int32_t j = m->v_last[v]; j >= 0; j = m->ln[0][j].prev) {
        const struct s_move_line *l = &m->ln[0][j];
        if (j != m->v_last[v])
            jw_lit(w, ",");
        jw_fmt(w,
               "{\"reception_detail\":{\"href\":\"" SIM_HREF
               "/stocks/receptions/%u/details/%d.json\",\"id\":%d},\"admissionDate\":%lld"
               ",\"cost\":",
               l->move_idx + 1, j + 1, j + 1, (long long)m->mv[0][l->move_idx].date);
        jw_num(w, l->cost, 1);
        jw_lit(w, ",\"availableFifo\":");
        jw_num(w, l->quantity, 1);
        jw_lit(w, "}");
    }
    jw_lit(w, "]}");
}

static void not_found(struct sim_response *rs, const char *msg)
{
    rs->status = 404;
    rs->body.len = 0;
    jw_lit(&rs->body, "{\"error\":");
    jw_str(&rs->body, msg);
    jw_lit(&rs->body, "}");
}

static bool move_in(const struct sim_store *st, int kind, size_t i, const struct moves_query *q)
{
    const struct s_move *m = &st->moves->mv[kind][i];
    return (q->from > q->to || (m->date >= q->from && m->date <= q->to)) &&
           sim_moves_id_ok(q, 0, m->office_id) && (kind == 1 || sim_moves_id_ok(q, 1, m->number));
}

/* The list of kind's moves in the filters. */
static void move_list(struct sim_store *st, const struct sim_request *rq, int kind,
                      struct sim_response *rs)
{
    static const char *const day_keys[2] = {"admissiondate", "consumptiondate"};
    static const char *const range_keys[2] = {"admissiondaterange", "consumptiondaterange"};
    struct moves_query q;
    static const char *const rec_ids[] = {"officeid", "documentnumber", NULL};
    static const char *const cons_ids[] = {"officeid", NULL};
    if (!sim_moves_query(rq, day_keys[kind], range_keys[kind], kind ? cons_ids : rec_ids, &q)) {
        sim_moves_refuse(&q, rs);
        return;
    }
    const struct sim_moves *m = st->moves;
    size_t count = 0;
    for (size_t i = 0; i < m->n_mv[kind]; i++)
        count += move_in(st, kind, i, &q);
    char href[128];
    snprintf(href, sizeof href, SIM_HREF "/%s.json", kind_res[kind]);
    sim_moves_envelope_open(&rs->body, href, count, &q);
    size_t k = 0, put = 0;
    for (size_t i = 0; i < m->n_mv[kind] && put < q.limit; i++) {
        if (!move_in(st, kind, i, &q) || k++ < q.offset)
            continue;
        if (put++)
            jw_lit(&rs->body, ",");
        move_item(st, kind, i, q.expand_details, &rs->body);
    }
    sim_moves_envelope_close(&rs->body, href, count, &q);
    rs->status = 200;
}

static void line_list(struct sim_store *st, const struct sim_request *rq, int kind, size_t mi,
                      struct sim_response *rs)
{
    struct moves_query q;
    if (!sim_moves_query(rq, NULL, NULL, NULL, &q)) {
        sim_moves_refuse(&q, rs);
        return;
    }
    const struct s_move *m = &st->moves->mv[kind][mi];
    char href[128];
    snprintf(href, sizeof href, SIM_HREF "/%s/%zu/details.json", kind_res[kind], mi + 1);
    sim_moves_envelope_open(&rs->body, href, m->n, &q);
    for (size_t k = q.offset; k < m->n && k < q.offset + q.limit; k++) {
        if (k > q.offset)
            jw_lit(&rs->body, ",");
        line_item(st, kind, m->first + k, &rs->body);
    }
    sim_moves_envelope_close(&rs->body, href, m->n, &q);
    rs->status = 200;
}

static bool seg_index(const char *s, size_t n, size_t *idx)
{
    int64_t id;
    if (!sim_parse_i64(s, &id) || id < 1 || (uint64_t)id > n)
        return false;
    *idx = (size_t)id - 1;
    return true;
}

static void route_kind(struct sim_store *st, const struct sim_request *rq, int kind,
                       const char *segs[], size_t nseg, struct sim_response *rs)
{
    const struct sim_moves *m = st->moves;
    size_t i;
    if (nseg == 2) {
        move_list(st, rq, kind, rs);
    } else if (!seg_index(segs[2], m->n_mv[kind], &i)) {
        not_found(rs, "The requested resource is not available");
    } else if (nseg == 3) {
        struct moves_query q;
        if (!sim_moves_query(rq, NULL, NULL, NULL, &q)) {
            sim_moves_refuse(&q, rs);
            return;
        }
        move_item(st, kind, i, q.expand_details, &rs->body);
        rs->status = 200;
    } else if (nseg == 4 && strcmp(segs[3], "details") == 0) {
        line_list(st, rq, kind, i, rs);
    } else {
        not_found(rs, "The requested resource is not available");
    }
}

static void cons_types_list(const struct sim_request *rq, struct sim_response *rs)
{
    struct moves_query q;
    if (!sim_moves_query(rq, NULL, NULL, NULL, &q)) {
        sim_moves_refuse(&q, rs);
        return;
    }
    const char *href = SIM_HREF "/stock_consumption_types.json";
    size_t n = ARRAY_LEN(cons_types);
    sim_moves_envelope_open(&rs->body, href, n, &q);
    for (size_t k = q.offset; k < n && k < q.offset + q.limit; k++) {
        if (k > q.offset)
            jw_lit(&rs->body, ",");
        cons_type_item(k, &rs->body);
    }
    sim_moves_envelope_close(&rs->body, href, n, &q);
    rs->status = 200;
}

static void costs(struct sim_store *st, const char *seg, struct sim_response *rs)
{
    int64_t id;
    int64_t base = sim_id_base(T_VARIANTS);
    if (!sim_parse_i64(seg, &id) || id < base || id >= base + (int64_t)st->n_variants) {
        not_found(rs, "The requested resource is not available");
        return;
    }
    size_t v = (size_t)(id - base);
    if (!sim_stock_controlled(st, v)) {
        not_found(rs, "no cost");
        return;
    }
    cost_object(st, v, &rs->body);
    rs->status = 200;
}

bool sim_moves_route(struct sim_store *st, const struct sim_request *rq, const char *segs[],
                     size_t nseg, struct sim_response *rs)
{
    if (nseg == 3 && strcmp(segs[0], "variants") == 0 && strcmp(segs[2], "costs") == 0) {
        snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/variants/{id}/costs.json");
        costs(st, segs[1], rs);
        return true;
    }
    if (nseg == 1 && strcmp(segs[0], "stock_consumption_types") == 0) {
        snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/stock_consumption_types.json");
        cons_types_list(rq, rs);
        return true;
    }
    if (nseg < 2 || nseg > 4 || strcmp(segs[0], "stocks") != 0)
        return false;
    int kind = strcmp(segs[1], "receptions") == 0     ? 0
               : strcmp(segs[1], "consumptions") == 0 ? 1
                                                      : -1;
    if (kind < 0)
        return false;
    static const char *const tmpls[3] = {".json", "/{id}.json", "/{id}/details.json"};
    snprintf(rs->tmpl, sizeof rs->tmpl, "/v1/stocks/%s%s", segs[1], tmpls[nseg - 2]);
    route_kind(st, rq, kind, segs, nseg, rs);
    return true;
}

bool sim_moves_template(const char *segs[], size_t nseg, char *out, size_t n)
{
    static const char *const tails[4] = {".json", "/{id}.json", "/{id}/details.json", ""};
    bool stocks = nseg >= 2 && strcmp(segs[0], "stocks") == 0 &&
                  (strcmp(segs[1], "receptions") == 0 || strcmp(segs[1], "consumptions") == 0);
    if (stocks && nseg <= 4) {
        snprintf(out, n, "/v1/stocks/%s%s", segs[1], tails[nseg - 2]);
        return true;
    }
    bool flat = strcmp(segs[0], "returns") == 0 || strcmp(segs[0], "taxes") == 0 ||
                strcmp(segs[0], "stock_consumption_types") == 0;
    if (flat && nseg <= 3) {
        snprintf(out, n, "/v1/%s%s", segs[0], tails[nseg - 1]);
        return true;
    }
    return false;
}

static void truth_kind(struct sim_store *st, int kind, const char *name, const char *dname,
                       const char *parent, struct jw *w)
{
    const struct sim_moves *m = st->moves;
    jw_fmt(w, ",\"%s\":[", name);
    for (size_t i = 0; i < m->n_mv[kind]; i++) {
        if (i)
            jw_lit(w, ",");
        move_item(st, kind, i, false, w);
    }
    jw_fmt(w, "],\"%s\":[", dname);
    for (size_t j = 0; j < m->n_ln[kind]; j++) {
        if (j)
            jw_lit(w, ",");
        line_item(st, kind, j, w);
        w->len--;
        jw_fmt(w, ",\"%s\":%u}", parent, m->ln[kind][j].move_idx + 1);
    }
    jw_lit(w, "]");
}

void sim_moves_truth(struct sim_store *st, struct jw *w)
{
    truth_kind(st, 0, "receptions", "reception_details", "reception_id", w);
    truth_kind(st, 1, "consumptions", "consumption_details", "consumption_id", w);
    jw_lit(w, ",\"variant_costs\":[");
    bool first = true;
    for (size_t v = 0; v < st->n_variants; v++) {
        if (!sim_stock_controlled(st, v))
            continue;
        if (!first)
            jw_lit(w, ",");
        first = false;
        cost_object(st, v, w);
        w->len--;
        jw_fmt(w, ",\"variant_id\":%lld}", (long long)(sim_id_base(T_VARIANTS) + (int64_t)v));
    }
    jw_lit(w, "]");
}

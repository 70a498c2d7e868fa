/*
 * Generates the simulated store from a seed and scale knobs. Only what filters,
 * amounts and mutations need is stored; display text is derived at render time.
 */
#include "common.h"

#include "moves.h"
#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_DOC_TYPES 6
#define N_PAY_TYPES 6
#define IVA 1.19

/* Document type ids (see render.c for their names). */
enum { DT_FACTURA = 1, DT_BOLETA = 2, DT_NOTA_CREDITO = 3, DT_NOTA_VENTA = 4 };
/* Payment type ids. */
enum { PT_CASH = 1, PT_DEBIT = 2, PT_CREDIT_CARD = 3, PT_TRANSFER = 4, PT_CLIENT_CREDIT = 5 };

void sim_knobs_default(struct sim_knobs *k)
{
    memset(k, 0, sizeof *k);
    k->seed = 1;
    k->today = (time(NULL) / SIM_DAY) * SIM_DAY;
    k->offices = 3;
    k->users = 8;
    k->clients = 200;
    k->product_types = 12;
    k->products = 150;
    k->variants_per_product = 2;
    k->price_lists = 3;
    k->days = 60;
    k->docs_per_day = 40;
    k->lines_per_doc = 3;
    k->share_over_25 = 0.01;
    k->share_over_50 = 0.004;
    k->payments_per_doc = 2;
    k->share_voided = 0.03;
    k->share_anonymous = 0.35;
    k->expand_style = EXPAND_LINK;
    k->payments_order = PAYORDER_ID;
}

bool sim_expand_style_parse(const char *s, enum sim_expand_style *out)
{
    if (strcmp(s, "link") == 0)
        *out = EXPAND_LINK;
    else if (strcmp(s, "embed") == 0)
        *out = EXPAND_EMBED;
    else
        return false;
    return true;
}

bool sim_payments_order_parse(const char *s, enum sim_payments_order *out)
{
    if (strcmp(s, "id") == 0)
        *out = PAYORDER_ID;
    else if (strcmp(s, "shuffled") == 0)
        *out = PAYORDER_SHUFFLED;
    else
        return false;
    return true;
}

int64_t sim_id_base(enum sim_table t)
{
    switch (t) {
    case T_PRODUCTS:
        return 1001;
    case T_VARIANTS:
        return 1501;
    case T_CLIENTS:
        return 301;
    case T_DOCUMENTS:
        return 90001;
    case T_PAYMENTS:
        return 40001;
    case T_DOC_DETAILS:
        return 170001;
    case T_STOCKS:
        return 7001;
    case T_PL_DETAILS:
        return 501;
    default:
        return 1;
    }
}

size_t sim_table_len(const struct sim_store *st, enum sim_table t)
{
    switch (t) {
    case T_OFFICES:
        return st->n_offices;
    case T_DOCUMENT_TYPES:
        return st->n_doc_types;
    case T_PAYMENT_TYPES:
        return st->n_pay_types;
    case T_USERS:
        return st->n_users;
    case T_PRODUCT_TYPES:
        return st->n_product_types;
    case T_PRODUCTS:
        return st->n_products;
    case T_VARIANTS:
        return st->n_variants;
    case T_CLIENTS:
        return st->n_clients;
    case T_PRICE_LISTS:
        return st->n_price_lists;
    case T_STOCKS:
        return (size_t)st->n_variants * st->n_offices;
    case T_DOCUMENTS:
        return st->n_docs;
    case T_PAYMENTS:
        return st->n_pays;
    case T_DOC_DETAILS:
        return st->n_lines;
    case T_PL_DETAILS:
        return (size_t)st->n_price_lists * st->n_variants;
    default:
        return 0;
    }
}

const char *sim_table_name(enum sim_table t)
{
    static const char *const names[T_COUNT] = {"offices",
                                               "document_types",
                                               "payment_types",
                                               "users",
                                               "product_types",
                                               "products",
                                               "variants",
                                               "clients",
                                               "price_lists",
                                               "stocks",
                                               "documents",
                                               "payments",
                                               NULL,
                                               NULL};
    return t < T_COUNT ? names[t] : NULL;
}

static int8_t pick_state(struct rng *r, double inactive, double deleted)
{
    double u = rng_unit(r);
    if (u < deleted)
        return 99;
    if (u < deleted + inactive)
        return 1;
    return 0;
}

static void gen_catalogs(struct sim_store *st, uint64_t seed)
{
    const struct sim_knobs *k = &st->k;
    struct rng r = rng_for(seed, 100, 0);

    st->n_offices = k->offices;
    st->office_state = xcalloc(st->n_offices, 1);
    for (uint32_t i = 0; i < st->n_offices; i++)
        st->office_state[i] = (i == 2 && st->n_offices > 3) ? 1 : 0;
    st->n_doc_types = N_DOC_TYPES;
    st->n_pay_types = N_PAY_TYPES;

    st->n_users = k->users;
    st->users = xcalloc(st->n_users, sizeof *st->users);
    for (uint32_t i = 0; i < st->n_users; i++) {
        st->users[i].office_id = 1 + rng_below(&r, st->n_offices);
        st->users[i].state = (i > 0 && rng_chance(&r, 0.12)) ? 1 : 0;
    }

    st->n_product_types = k->product_types;
    st->ptype_state = xcalloc(st->n_product_types, 1);
    for (uint32_t i = 0; i < st->n_product_types; i++)
        st->ptype_state[i] = (i > 0 && i % 7 == 6) ? 1 : 0;

    st->n_price_lists = k->price_lists;
    st->plist_state = xcalloc(st->n_price_lists, 1);
    for (uint32_t i = 0; i < st->n_price_lists; i++)
        st->plist_state[i] = (i == 2) ? 1 : 0;
}

static void gen_products(struct sim_store *st, uint64_t seed)
{
    const struct sim_knobs *k = &st->k;
    struct rng r = rng_for(seed, 101, 0);
    uint32_t vpp = k->variants_per_product ? k->variants_per_product : 1;

    st->n_products = k->products;
    st->products = xcalloc(st->n_products, sizeof *st->products);
    st->variants = xcalloc((size_t)st->n_products * vpp, sizeof *st->variants);
    for (uint32_t i = 0; i < st->n_products; i++) {
        struct s_product *p = &st->products[i];
        p->type_id = 1 + rng_below(&r, st->n_product_types);
        p->allow_decimal = rng_chance(&r, 0.12) ? 1 : 0;
        p->classification = (!p->allow_decimal && rng_chance(&r, 0.05)) ? 1 : 0;
        p->state = pick_state(&r, 0.07, 0.02);
        p->first_variant = st->n_variants;
        p->n_variants = (uint16_t)(1 + rng_below(&r, vpp));
        int32_t base = (int32_t)(990 + 1000 * rng_below(&r, 45));
        if (p->allow_decimal)
            base = (int32_t)(1990 + 500 * rng_below(&r, 10)); /* per kilo */
        for (uint16_t v = 0; v < p->n_variants; v++) {
            struct s_variant *sv = &st->variants[st->n_variants++];
            sv->product_idx = i;
            sv->price = base + v * 2000;
            sv->state = p->state ? p->state : (rng_chance(&r, 0.05) ? 1 : 0);
        }
    }

    size_t n_pl = (size_t)st->n_price_lists * st->n_variants;
    st->pl_price = xcalloc(n_pl ? n_pl : 1, sizeof *st->pl_price);
    static const double factor[] = {1.0, 0.9, 1.05, 0.95, 1.1};
    for (uint32_t l = 0; l < st->n_price_lists; l++)
        for (uint32_t v = 0; v < st->n_variants; v++) {
            double f = factor[l % ARRAY_LEN(factor)];
            st->pl_price[(size_t)l * st->n_variants + v] =
                (int32_t)(llround(st->variants[v].price * f / 10.0) * 10);
        }
}

uint32_t sim_gen_client(struct sim_store *st, struct rng *r)
{
    if (st->n_clients == st->clients_cap) {
        st->clients_cap = st->clients_cap ? st->clients_cap * 2 : 256;
        st->clients = xrealloc(st->clients, st->clients_cap * sizeof *st->clients);
    }
    uint32_t idx = st->n_clients++;
    struct s_client *c = &st->clients[idx];
    struct rng d = rng_for(st->k.seed, T_CLIENTS, sim_id_base(T_CLIENTS) + idx);
    bool company = rng_chance(&d, 0.2); /* render.c draws the same first value */
    c->rut = company ? 76000000 + rng_below(r, 2000000) : 5000000 + rng_below(r, 22000000);
    c->state = pick_state(r, 0.06, 0.02);
    return idx;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    *cap = c;
    return xrealloc(p, c * size);
}

static uint32_t pick_lines(struct sim_store *st, struct rng *r)
{
    const struct sim_knobs *k = &st->k;
    double u = rng_unit(r);
    if (u < k->share_over_50)
        return 51 + rng_below(r, 30);
    if (u < k->share_over_50 + k->share_over_25)
        return 26 + rng_below(r, 25);
    uint32_t mean = k->lines_per_doc ? k->lines_per_doc : 1;
    return 1 + rng_below(r, 2 * mean - 1);
}

static void gen_line(struct sim_store *st, struct rng *r, uint32_t doc_idx)
{
    struct s_line *l = &st->lines[st->n_lines++];
    memset(l, 0, sizeof *l);
    l->doc_idx = doc_idx;
    l->variant_idx = rng_below(r, st->n_variants);
    const struct s_variant *v = &st->variants[l->variant_idx];
    if (st->products[v->product_idx].allow_decimal)
        l->quantity = (double)(25 + rng_below(r, 476)) / 100.0; /* 0.25 .. 5.00 kg */
    else
        l->quantity = rng_chance(r, 0.8) ? 1 : 2 + rng_below(r, 3);
    l->total_unit = v->price;
    l->net_unit = (double)v->price / IVA; /* exact: netUnitValueRaw */
    l->total = llround(l->quantity * (double)v->price);
    l->net = llround((double)l->total / IVA);
    l->tax = l->total - l->net;
}

static uint32_t pick_pay_type(struct rng *r, const struct s_document *d)
{
    uint32_t t = 1 + rng_below(r, 5);
    if (t == PT_CLIENT_CREDIT && (d->client_id == 0 || d->type_id != DT_FACTURA))
        t = PT_CASH;
    return t;
}

static void gen_payments(struct sim_store *st, struct rng *r, uint32_t doc_idx)
{
    struct s_document *d = &st->docs[doc_idx];
    uint32_t n = st->k.payments_per_doc ? 1 + rng_below(r, st->k.payments_per_doc) : 0;
    if (d->type_id == DT_NOTA_CREDITO || d->total <= 0)
        n = 0;
    st->pays = grow(st->pays, &st->pays_cap, st->n_pays + n + 1, sizeof *st->pays);
    d->first_pay = (uint32_t)st->n_pays;
    d->n_pay = n;
    int64_t left = d->total;
    bool on_credit = false;
    for (uint32_t i = 0; i < n; i++) {
        struct s_payment *p = &st->pays[st->n_pays++];
        memset(p, 0, sizeof *p);
        p->amount = (i + 1 == n) ? left : llround((double)left * (0.2 + 0.6 * rng_unit(r)));
        left -= p->amount;
        p->doc_idx = (int32_t)doc_idx;
        p->record_date = d->emission;
        p->created_at = d->generation + rng_below(r, 90);
        p->type_id = pick_pay_type(r, d);
        p->office_id = d->office_id;
        p->user_id = d->user_id;
        p->state = d->state; /* a voided sale's payments are voided with it */
        sim_gen_payment_dates(st, st->n_pays - 1);
        on_credit = on_credit || p->type_id == PT_CLIENT_CREDIT;
    }
    /* A sale on the client's credit line is settled later by a credit payment. */
    int64_t settle = d->emission - d->emission % SIM_DAY + SIM_DAY * (1 + rng_below(r, 20));
    bool now = on_credit && settle <= st->k.today && rng_chance(r, 0.6);
    int64_t created = 0;
    if (now) {
        (void)rng_chance(r, 0.1); /* a former draw, kept so the stream stays the same */
        created = settle + 36000 + rng_below(r, 20000);
    }
    if (on_credit)
        sim_gen_credit_payment(st, doc_idx, created, now);
}

static uint32_t pick_doc_type(struct rng *r)
{
    double u = rng_unit(r);
    if (u < 0.15)
        return DT_FACTURA;
    if (u < 0.85)
        return DT_BOLETA;
    if (u < 0.95)
        return DT_NOTA_VENTA;
    return DT_NOTA_CREDITO;
}

/* Older documents were stored at Chilean local midnight: 03:00 UTC in summer, else 04:00. */
static int64_t old_offset(int64_t day)
{
    time_t t = (time_t)day;
    struct tm tm;
    gmtime_r(&t, &tm);
    return (tm.tm_mon >= 9 || tm.tm_mon <= 2) ? 3 * 3600 : 4 * 3600;
}

/* A document of type_id at `when`; its lines derive from document src when src >= 0. */
static uint32_t gen_doc(struct sim_store *st, struct rng *r, int64_t when, bool old_style,
                        uint32_t type_id, int32_t src)
{
    st->docs = grow(st->docs, &st->docs_cap, st->n_docs + 1, sizeof *st->docs);
    uint32_t idx = (uint32_t)st->n_docs++;
    struct s_document *d = &st->docs[idx];
    memset(d, 0, sizeof *d);
    int64_t day = when - when % SIM_DAY;
    d->emission = old_style ? day + old_offset(day) : day;
    d->generation = when;
    d->type_id = type_id;
    bool may_be_anon = d->type_id == DT_BOLETA || d->type_id == DT_NOTA_VENTA;
    double p_anon = st->k.share_anonymous / 0.8;
    if (!(may_be_anon && rng_chance(r, p_anon)) && st->n_clients > 0)
        d->client_id = (uint32_t)(sim_id_base(T_CLIENTS) + rng_below(r, st->n_clients));
    if (src >= 0)
        d->client_id = st->docs[src].client_id;
    d->office_id = 1 + rng_below(r, st->n_offices);
    d->user_id = 1 + rng_below(r, st->n_users);
    if (rng_chance(r, st->k.share_voided))
        sim_cancel(st, idx, when + 3600 * (1 + (int64_t)rng_below(r, 48)));
    if (d->type_id == DT_NOTA_VENTA)
        d->number = d->generation * 1000000 + (int64_t)(idx % 1000000); /* 16-digit folio */
    else
        d->number = (int64_t)st->folio_next[d->type_id]++;

    if (src >= 0) {
        sim_derive_lines(st, r, idx, (uint32_t)src);
        d = &st->docs[idx];
    } else {
        uint32_t n = pick_lines(st, r);
        st->lines = grow(st->lines, &st->lines_cap, st->n_lines + n, sizeof *st->lines);
        d->first_line = (uint32_t)st->n_lines;
        d->n_lines = n;
        for (uint32_t i = 0; i < n; i++)
            gen_line(st, r, idx);
    }
    for (uint32_t i = 0; i < d->n_lines; i++) {
        const struct s_line *l = &st->lines[d->first_line + i];
        d->net += l->net;
        d->tax += l->tax;
        d->total += l->total;
    }
    gen_payments(st, r, idx);
    return idx;
}

uint32_t sim_gen_document(struct sim_store *st, struct rng *r, int64_t when, bool old_style)
{
    uint32_t type_id = pick_doc_type(r);
    int32_t src = sim_pick_source(st, r, type_id, when);
    if (src < 0 && type_id == DT_NOTA_CREDITO)
        type_id = DT_BOLETA; /* nothing to reverse yet */
    return gen_doc(st, r, when, old_style, type_id, src);
}

uint32_t sim_gen_credit_note(struct sim_store *st, struct rng *r, int64_t when, uint32_t src)
{
    return gen_doc(st, r, when, false, DT_NOTA_CREDITO, (int32_t)src);
}

static void gen_history(struct sim_store *st, uint64_t seed)
{
    const struct sim_knobs *k = &st->k;
    struct rng r = rng_for(seed, 102, 0);
    int64_t first = k->today - (int64_t)(k->days ? k->days - 1 : 0) * SIM_DAY;
    size_t expect = (size_t)k->days * k->docs_per_day + 16;
    st->docs = grow(st->docs, &st->docs_cap, expect, sizeof *st->docs);
    st->lines = grow(st->lines, &st->lines_cap, expect * (k->lines_per_doc + 2), sizeof *st->lines);
    st->pays = grow(st->pays, &st->pays_cap, expect * (k->payments_per_doc + 1), sizeof *st->pays);
    st->credit_pending = xmalloc(2 * (st->n_clients ? st->n_clients : 1) * sizeof(int32_t));
    memset(st->credit_pending, 0xff, 2 * (st->n_clients ? st->n_clients : 1) * sizeof(int32_t));
    for (uint32_t day = 0; day < k->days; day++) {
        int64_t start = first + (int64_t)day * SIM_DAY;
        bool old_style = day < k->days / 3;
        uint32_t n = (uint32_t)llround(k->docs_per_day * (0.7 + 0.6 * rng_unit(&r)));
        /* Shop hours 09:00-21:00 local = 12:00-24:00 UTC, evenly spread and increasing. */
        int64_t step = n ? 43200 / n : 43200;
        for (uint32_t i = 0; i < n; i++) {
            int64_t when = start + 43200 + (int64_t)i * step + rng_below(&r, (uint32_t)step);
            sim_gen_document(st, &r, when, old_style);
        }
    }
    free(st->credit_pending);
    st->credit_pending = NULL;
}

void sim_cache_grow(struct sim_store *st)
{
    for (int t = 0; t < T_COUNT; t++) {
        struct sim_cache *c = &st->cache[t];
        size_t n = sim_table_len(st, (enum sim_table)t);
        if (n <= c->n)
            continue;
        c->slot = xrealloc(c->slot, n * sizeof *c->slot);
        for (size_t i = c->n; i < n; i++)
            atomic_init(&c->slot[i], NULL);
        c->n = n;
    }
}

void sim_cache_drop(struct sim_store *st, enum sim_table t, size_t idx)
{
    struct sim_cache *c = &st->cache[t];
    if (idx < c->n)
        free(atomic_exchange(&c->slot[idx], NULL));
}

struct sim_store *sim_store_new(const struct sim_knobs *k)
{
    struct sim_store *st = xcalloc(1, sizeof *st);
    sim_hostile_default(&st->h);
    st->k = *k;
    pthread_rwlock_init(&st->lock, NULL);
    static const uint64_t folio0[8] = {0, 1001, 48001, 501, 0, 1, 1, 1};
    memcpy(st->folio_next, folio0, sizeof folio0);
    gen_catalogs(st, k->seed);
    gen_products(st, k->seed);
    struct rng r = rng_for(k->seed, 103, 0);
    for (uint32_t i = 0; i < k->clients; i++)
        sim_gen_client(st, &r);
    gen_history(st, k->seed);
    sim_moves_gen(st);
    sim_cache_grow(st);
    sim_payments_reorder(st);
    return st;
}

void sim_store_free(struct sim_store *st)
{
    if (!st)
        return;
    for (int t = 0; t < T_COUNT; t++) {
        struct sim_cache *c = &st->cache[t];
        for (size_t i = 0; i < c->n; i++)
            free(atomic_load(&c->slot[i]));
        free(c->slot);
    }
    free(st->office_state);
    free(st->ptype_state);
    free(st->plist_state);
    free(st->users);
    free(st->products);
    free(st->variants);
    free(st->clients);
    free(st->pl_price);
    free(st->docs);
    free(st->lines);
    free(st->pays);
    free(st->pay_order);
    free(st->late_pays);
    free(st->refs);
    sim_moves_free(st);
    pthread_rwlock_destroy(&st->lock);
    free(st);
}

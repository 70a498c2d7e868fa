/*
 * Payments as the real Bsale sends them (docs/bsale-api.md, payments): records with ""
 * dates, credit payments settling several documents, per-type totals of a document's
 * payments, the list order and the payment mutations.
 */
#include "common.h"

#include "sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Ids as in gen.c. */
enum { PAY_DT_NOTA_CREDITO = 3, PAY_PT_TRANSFER = 4, PAY_PT_CLIENT_CREDIT = 5 };
/* Random streams of this module, apart from gen.c's and mutate.c's. */
enum { STREAM_PAY_DATES = 300, STREAM_PAY_ORDER = 301 };

#define CREDIT_WINDOW_DAYS 40

/* ---- generation ---- */

void sim_gen_payment_dates(struct sim_store *st, size_t pay_idx)
{
    struct s_payment *p = &st->pays[pay_idx];
    struct rng r = rng_for(st->k.seed, STREAM_PAY_DATES, pay_idx);
    if (rng_chance(&r, 0.05))
        p->record_date = -1;
    p->accounting_date = p->record_date >= 0 && rng_chance(&r, 0.3) ? p->record_date : -1;
}

/* A document's part settled by a credit payment: what it owes on the client's credit. */
static int64_t credit_part(const struct sim_store *st, size_t doc_idx)
{
    const struct s_document *d = &st->docs[doc_idx];
    int64_t owed = 0;
    for (uint32_t k = 0; k < d->n_pay; k++) {
        const struct s_payment *p = &st->pays[d->first_pay + k];
        if (p->type_id == PAY_PT_CLIENT_CREDIT)
            owed += p->amount;
    }
    return owed > 0 ? owed : d->total;
}

static void add_credit_doc(const struct sim_store *st, struct s_payment *p, size_t doc_idx)
{
    unsigned k = p->n_credit_docs++;
    p->credit_doc_idx[k] = (int32_t)doc_idx;
    p->credit_amount[k] = credit_part(st, doc_idx);
    p->amount += p->credit_amount[k];
}

/* A new credit payment (recordDate "", no accountingDate) at the end of the store. */
static struct s_payment *new_credit_payment(struct sim_store *st, const struct s_document *d,
                                            int64_t created)
{
    struct s_payment *p = &st->pays[st->n_pays++];
    memset(p, 0, sizeof *p);
    p->doc_idx = -1;
    p->record_date = -1;
    p->accounting_date = -1;
    p->created_at = created;
    p->type_id = PAY_PT_TRANSFER;
    p->office_id = d->office_id;
    p->user_id = d->user_id;
    p->is_credit = 1;
    return p;
}

void sim_gen_credit_payment(struct sim_store *st, size_t doc_idx, int64_t created, bool settle_now)
{
    const struct s_document *d = &st->docs[doc_idx];
    if (d->state != 0)
        return;
    int32_t *slot = NULL;
    if (st->credit_pending && d->client_id)
        slot = &st->credit_pending[2 * (d->client_id - (uint32_t)sim_id_base(T_CLIENTS))];
    if (!settle_now) {
        for (int k = 0; slot && k < 2; k++)
            if (slot[k] < 0) {
                slot[k] = (int32_t)doc_idx;
                break;
            }
        return;
    }
    struct s_payment *p = new_credit_payment(st, d, created);
    for (int k = 0; slot && k < 2; k++)
        if (slot[k] >= 0) {
            add_credit_doc(st, p, (size_t)slot[k]);
            slot[k] = -1;
        }
    add_credit_doc(st, p, doc_idx);
}

/* ---- rendering ---- */

size_t sim_doc_pay_totals(const struct sim_store *st, size_t doc_idx,
                          struct sim_pay_total out[SIM_PAY_TYPES_MAX])
{
    int64_t sum[SIM_PAY_TYPES_MAX] = {0};
    bool used[SIM_PAY_TYPES_MAX] = {0};
    const struct s_document *d = &st->docs[doc_idx];
    for (size_t k = 0; k < d->n_pay + st->n_late; k++) {
        size_t i = k < d->n_pay ? d->first_pay + k : st->late_pays[k - d->n_pay];
        const struct s_payment *p = &st->pays[i];
        if (p->doc_idx != (int32_t)doc_idx || p->state != 0 || p->type_id >= SIM_PAY_TYPES_MAX)
            continue;
        sum[p->type_id] += p->amount;
        used[p->type_id] = true;
    }
    size_t n = 0;
    for (uint32_t t = 0; t < SIM_PAY_TYPES_MAX; t++)
        if (used[t])
            out[n++] = (struct sim_pay_total){.type_id = t, .amount = sum[t]};
    return n;
}

void sim_render_pay_total(const struct sim_pay_total *t, struct jw *w)
{
    const char *name = sim_pay_type_name(t->type_id);
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/payment_types/%u.json\",\"id\":%u,\"name\":",
           (unsigned)t->type_id, (unsigned)t->type_id);
    jw_str(w, name ? name : "");
    jw_lit(w, ",\"amount\":");
    jw_num(w, (double)t->amount, 2);
}

void sim_render_credit_doc(const struct s_payment *p, unsigned k, struct jw *w)
{
    long long did = (long long)(sim_id_base(T_DOCUMENTS) + p->credit_doc_idx[k]);
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/documents/%lld.json\",\"id\":\"%lld\",\"amount\":", did,
           did);
    jw_num(w, (double)p->credit_amount[k], 2);
}

void sim_render_doc_payments(const struct sim_store *st, size_t doc_idx, unsigned expand,
                             struct jw *w)
{
    long long id = (long long)(sim_id_base(T_DOCUMENTS) + (int64_t)doc_idx);
    jw_fmt(w, ",\"payments\":{\"href\":\"" SIM_HREF "/documents/%lld/payments.json\"", id);
    if (st->k.expand_style != EXPAND_EMBED || !(expand & EXP_PAYMENTS)) {
        jw_lit(w, "}");
        return;
    }
    struct sim_pay_total totals[SIM_PAY_TYPES_MAX];
    size_t n = sim_doc_pay_totals(st, doc_idx, totals);
    jw_fmt(w, ",\"count\":%zu,\"limit\":%d,\"offset\":0,\"items\":[", n, SIM_EMBED_MAX);
    for (size_t k = 0; k < n && k < SIM_EMBED_MAX; k++) {
        if (k)
            jw_raw(w, ",", 1);
        sim_render_pay_total(&totals[k], w);
        jw_lit(w, "}");
    }
    jw_lit(w, "]}");
}

/* ---- filters and order ---- */

bool sim_payment_on(const struct sim_store *st, size_t idx, int64_t from, int64_t to)
{
    int64_t rd = st->pays[idx].record_date;
    return rd >= 0 && from <= rd && rd <= to;
}

/* First payment index of the documents emitted at or after when. */
static size_t first_pay_from(const struct sim_store *st, int64_t when)
{
    size_t d = sim_doc_lower_bound(st, when);
    return d < st->n_docs ? st->docs[d].first_pay : st->n_pays;
}

void sim_payments_span(const struct sim_store *st, int64_t from, int64_t to, size_t *lo, size_t *hi)
{
    /* A dated payment carries its document's emission, or today when recorded later. */
    *lo = first_pay_from(st, from);
    *hi = st->n_late || to == INT64_MAX ? st->n_pays : first_pay_from(st, to + 1);
}

bool sim_doc_has_late_payments(const struct sim_store *st, size_t doc_idx)
{
    for (size_t k = 0; k < st->n_late; k++)
        if (st->pays[st->late_pays[k]].doc_idx == (int32_t)doc_idx)
            return true;
    return false;
}

struct order_key {
    uint64_t key;
    uint32_t idx;
};

static int cmp_order_key(const void *a, const void *b)
{
    const struct order_key *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void sim_payments_reorder(struct sim_store *st)
{
    free(st->pay_order);
    st->pay_order = NULL;
    if (st->k.payments_order != PAYORDER_SHUFFLED || !st->n_pays)
        return;
    struct order_key *keys = xmalloc(st->n_pays * sizeof *keys);
    for (size_t i = 0; i < st->n_pays; i++) {
        struct rng r = rng_for(st->k.seed, STREAM_PAY_ORDER, i);
        keys[i] = (struct order_key){.key = rng_next(&r), .idx = (uint32_t)i};
    }
    qsort(keys, st->n_pays, sizeof *keys, cmp_order_key);
    st->pay_order = xmalloc(st->n_pays * sizeof *st->pay_order);
    for (size_t i = 0; i < st->n_pays; i++)
        st->pay_order[i] = keys[i].idx;
    free(keys);
}

/* ---- mutations ---- */

static void reserve_pays(struct sim_store *st, size_t more)
{
    if (st->n_pays + more <= st->pays_cap)
        return;
    st->pays_cap = (st->n_pays + more) * 2;
    st->pays = xrealloc(st->pays, st->pays_cap * sizeof *st->pays);
}

/* An active sale in docs [from, n_docs) that may take a payment, or -1 after a few tries. */
static int64_t pick_sale(const struct sim_store *st, struct rng *r, size_t from, bool need_client)
{
    if (from >= st->n_docs)
        return -1;
    for (int attempt = 0; attempt < 200; attempt++) {
        size_t i = from + rng_below(r, (uint32_t)(st->n_docs - from));
        const struct s_document *d = &st->docs[i];
        if (d->state == 0 && !d->removed && d->type_id != PAY_DT_NOTA_CREDITO && d->total > 0 &&
            (!need_client || d->client_id))
            return (int64_t)i;
    }
    return -1;
}

/* A clock after every payment and document so far: new payments are created "now". */
static int64_t mutation_clock(const struct sim_store *st)
{
    int64_t now = st->k.today + 43200;
    for (size_t i = 0; i < st->n_pays; i++)
        if (st->pays[i].created_at > now)
            now = st->pays[i].created_at;
    if (st->n_docs && st->docs[st->n_docs - 1].generation > now)
        now = st->docs[st->n_docs - 1].generation;
    return now;
}

/*
 * What each document from `from` on still owes on the client's credit line:
 * its client-credit payments less what credit payments already settled.
 * Only those documents can be settled again, so no balance turns negative.
 */
static int64_t *credit_left(const struct sim_store *st, size_t from)
{
    size_t n = st->n_docs - from;
    int64_t *left = xmalloc((n ? n : 1) * sizeof *left);
    memset(left, 0, (n ? n : 1) * sizeof *left);
    for (size_t i = 0; i < st->n_pays; i++) {
        const struct s_payment *p = &st->pays[i];
        if (!p->is_credit && p->doc_idx >= (int32_t)from && p->type_id == PAY_PT_CLIENT_CREDIT &&
            p->state == 0)
            left[(size_t)p->doc_idx - from] += p->amount;
        for (unsigned k = 0; p->is_credit && k < p->n_credit_docs; k++)
            if (p->credit_doc_idx[k] >= (int32_t)from)
                left[(size_t)p->credit_doc_idx[k] - from] -= p->credit_amount[k];
    }
    return left;
}

static void settle_doc(struct s_payment *p, size_t doc_idx, int64_t amount)
{
    unsigned k = p->n_credit_docs++;
    p->credit_doc_idx[k] = (int32_t)doc_idx;
    p->credit_amount[k] = amount;
    p->amount += amount;
}

static bool owes_credit(const struct sim_store *st, const int64_t *left, size_t from, size_t i)
{
    const struct s_document *d = &st->docs[i];
    return left[i - from] > 0 && d->state == 0 && !d->removed && d->client_id &&
           d->type_id != PAY_DT_NOTA_CREDITO;
}

/* A credit payment settling 1-3 documents of one client, from the last 40 days, still owed. */
static bool add_credit_payment(struct sim_store *st, struct rng *r, int64_t created)
{
    size_t from = sim_doc_lower_bound(st, st->k.today - (CREDIT_WINDOW_DAYS - 1) * SIM_DAY);
    if (from >= st->n_docs)
        return false;
    int64_t *left = credit_left(st, from);
    int64_t first = -1;
    for (int attempt = 0; attempt < 400 && first < 0; attempt++) {
        size_t i = from + rng_below(r, (uint32_t)(st->n_docs - from));
        if (owes_credit(st, left, from, i))
            first = (int64_t)i;
    }
    if (first < 0) {
        free(left);
        return false;
    }
    const struct s_document *d = &st->docs[first];
    struct s_payment *p = new_credit_payment(st, d, created);
    settle_doc(p, (size_t)first, left[(size_t)first - from]);
    unsigned want = 1 + rng_below(r, SIM_CREDIT_DOCS_MAX);
    for (size_t i = from; i < st->n_docs && p->n_credit_docs < want; i++)
        if (i != (size_t)first && st->docs[i].client_id == d->client_id &&
            owes_credit(st, left, from, i))
            settle_doc(p, i, left[i - from]);
    free(left);
    return true;
}

/* An ordinary payment recorded today for a document of today, after the document's own. */
static bool add_late_payment(struct sim_store *st, struct rng *r, int64_t created)
{
    int64_t di = pick_sale(st, r, sim_doc_lower_bound(st, st->k.today), false);
    if (di < 0)
        return false;
    const struct s_document *d = &st->docs[di];
    struct s_payment *p = &st->pays[st->n_pays++];
    memset(p, 0, sizeof *p);
    p->doc_idx = (int32_t)di;
    p->amount = llround((double)d->total * (0.1 + 0.4 * rng_unit(r)));
    p->amount = p->amount > 0 ? p->amount : 1;
    p->record_date = st->k.today;
    p->accounting_date = -1;
    p->created_at = created;
    p->type_id = 1 + rng_below(r, 4);
    p->office_id = d->office_id;
    p->user_id = d->user_id;
    if (st->n_late == st->late_cap) {
        st->late_cap = st->late_cap ? st->late_cap * 2 : 64;
        st->late_pays = xrealloc(st->late_pays, st->late_cap * sizeof *st->late_pays);
    }
    st->late_pays[st->n_late++] = (uint32_t)(st->n_pays - 1);
    return true;
}

static void payment_batch(struct sim_store *st, struct rng *r, uint32_t n, bool credit,
                          int64_t *clock, struct jw *w)
{
    jw_fmt(w, ",\"%s\":[", credit ? "credit_payment_ids" : "new_payment_ids");
    reserve_pays(st, n);
    bool first = true;
    for (uint32_t i = 0; i < n; i++) {
        *clock += 1 + rng_below(r, 600);
        bool ok = credit ? add_credit_payment(st, r, *clock) : add_late_payment(st, r, *clock);
        if (!ok)
            continue;
        if (!first)
            jw_raw(w, ",", 1);
        first = false;
        jw_int(w, sim_id_base(T_PAYMENTS) + (int64_t)st->n_pays - 1);
    }
    jw_lit(w, "]");
}

void sim_mutate_payments(struct sim_store *st, struct rng *r, const struct sim_mutation *m,
                         struct jw *w)
{
    int64_t clock = mutation_clock(st);
    if (m->credit_payments)
        payment_batch(st, r, m->credit_payments, true, &clock, w);
    if (m->new_payments)
        payment_batch(st, r, m->new_payments, false, &clock, w);
}

/* ---- /__truth ---- */

static void truth_payment_documents(const struct sim_store *st, struct jw *w)
{
    jw_lit(w, "\"payment_documents\":[");
    bool first = true;
    for (size_t i = 0; i < st->n_pays; i++) {
        const struct s_payment *p = &st->pays[i];
        for (unsigned k = 0; p->is_credit && k < p->n_credit_docs; k++) {
            if (!first)
                jw_raw(w, ",", 1);
            first = false;
            sim_render_credit_doc(p, k, w);
            jw_fmt(w, ",\"payment_id\":%lld}", (long long)(sim_id_base(T_PAYMENTS) + (int64_t)i));
        }
    }
    jw_lit(w, "]");
}

/* Only an embedding Bsale lets the warehouse see these totals: empty in link style. */
static void truth_payment_totals(const struct sim_store *st, struct jw *w)
{
    jw_lit(w, "\"document_payment_totals\":[");
    bool first = true;
    for (size_t i = 0; st->k.expand_style == EXPAND_EMBED && i < st->n_docs; i++) {
        if (st->docs[i].removed)
            continue;
        struct sim_pay_total totals[SIM_PAY_TYPES_MAX];
        size_t n = sim_doc_pay_totals(st, i, totals);
        for (size_t k = 0; k < n; k++) {
            if (!first)
                jw_raw(w, ",", 1);
            first = false;
            sim_render_pay_total(&totals[k], w);
            jw_fmt(w, ",\"document_id\":%lld}", (long long)(sim_id_base(T_DOCUMENTS) + (int64_t)i));
        }
    }
    jw_lit(w, "]");
}

void sim_render_payment_truth(struct sim_store *st, struct jw *w)
{
    truth_payment_documents(st, w);
    jw_lit(w, ",");
    truth_payment_totals(st, w);
}

/*
 * Changes the store the way time does (new sales today, voids, price changes,
 * deactivations, new clients), deterministically from a seed.
 */
#include "common.h"

#include "moves.h"
#include "sim.h"

#include <math.h>

void sim_mutation_default(struct sim_mutation *m)
{
    m->seed = 1;
    m->new_documents = 20;
    m->voids = 5;
    m->price_changes = 10;
    m->deactivations = 2;
    m->new_clients = 3;
    m->removals = 0;
    m->credit_payments = 0;
    m->new_payments = 0;
    m->void_max_age_days = 0;
    m->credit_notes = 0;
}

static void id_list_open(struct jw *w, const char *name)
{
    jw_fmt(w, ",\"%s\":[", name);
}

static void id_item(struct jw *w, bool *first, int64_t id)
{
    if (!*first)
        jw_raw(w, ",", 1);
    *first = false;
    jw_int(w, id);
}

static void add_clients(struct sim_store *st, struct rng *r, uint32_t n, struct jw *w)
{
    bool first = true;
    id_list_open(w, "new_clients");
    for (uint32_t i = 0; i < n; i++)
        id_item(w, &first, sim_id_base(T_CLIENTS) + sim_gen_client(st, r));
    jw_lit(w, "]");
}

static void add_documents(struct sim_store *st, struct rng *r, uint32_t n, struct jw *w)
{
    bool first = true;
    size_t lines0 = st->n_lines, pays0 = st->n_pays;
    int64_t when = st->k.today + 43200;
    if (st->n_docs && st->docs[st->n_docs - 1].generation >= when)
        when = st->docs[st->n_docs - 1].generation + 1;
    id_list_open(w, "new_documents");
    for (uint32_t i = 0; i < n; i++) {
        when += 1 + rng_below(r, 600);
        /* Sales of today keep today's date even if the clock passes midnight. */
        int64_t at = when < st->k.today + SIM_DAY ? when : st->k.today + SIM_DAY - 1;
        id_item(w, &first, sim_id_base(T_DOCUMENTS) + sim_gen_document(st, r, at, false));
    }
    jw_fmt(w, "],\"new_lines\":%zu,\"new_payments\":%zu", st->n_lines - lines0, st->n_pays - pays0);
}

/* Voids active documents emitted before today and at most max_age days ago (0: any age). A
 * void sets the cancellation fields; emissionDate stays, so it may land on an old document. */
static void void_documents(struct sim_store *st, struct rng *r, uint32_t n, uint32_t max_age,
                           struct jw *w)
{
    bool first = true;
    size_t lo = max_age ? sim_doc_lower_bound(st, st->k.today - (int64_t)max_age * SIM_DAY) : 0;
    size_t span = st->n_docs - lo;
    id_list_open(w, "voided_documents");
    for (uint32_t i = 0; i < n && span; i++) {
        for (int attempt = 0; attempt < 50; attempt++) {
            size_t idx = lo + rng_below(r, (uint32_t)span);
            struct s_document *d = &st->docs[idx];
            if (d->state != 0 || d->removed || d->emission >= st->k.today)
                continue;
            sim_cancel(st, idx, st->k.today + 43200 + 60 * (int64_t)i);
            sim_cache_drop(st, T_DOCUMENTS, idx);
            id_item(w, &first, sim_id_base(T_DOCUMENTS) + (int64_t)idx);
            break;
        }
    }
    jw_lit(w, "]");
}

/* Credit notes emitted today, each reversing all or part of an active sale of any age. */
static void add_credit_notes(struct sim_store *st, struct rng *r, uint32_t n, struct jw *w)
{
    bool first = true;
    int64_t when = st->k.today + 43200;
    if (st->n_docs && st->docs[st->n_docs - 1].generation >= when)
        when = st->docs[st->n_docs - 1].generation;
    id_list_open(w, "credit_notes");
    for (uint32_t i = 0; i < n && st->n_docs; i++) {
        for (int attempt = 0; attempt < 200; attempt++) {
            size_t src = rng_below(r, (uint32_t)st->n_docs);
            if (!sim_reversible(st, src))
                continue;
            when += 1 + rng_below(r, 60);
            int64_t at = when < st->k.today + SIM_DAY ? when : st->k.today + SIM_DAY - 1;
            id_item(w, &first,
                    sim_id_base(T_DOCUMENTS) + sim_gen_credit_note(st, r, at, (uint32_t)src));
            break;
        }
    }
    jw_lit(w, "]");
}

static void change_prices(struct sim_store *st, struct rng *r, uint32_t n, struct jw *w)
{
    size_t total = (size_t)st->n_price_lists * st->n_variants;
    bool first = true;
    jw_lit(w, ",\"price_changes\":[");
    for (uint32_t i = 0; i < n && total; i++) {
        size_t idx = rng_below(r, (uint32_t)total);
        int32_t old = st->pl_price[idx];
        double factor = 1.0 + (rng_chance(r, 0.7) ? 1 : -1) * (0.05 + 0.15 * rng_unit(r));
        int32_t now = (int32_t)(llround(old * factor / 10.0) * 10);
        if (now == old)
            now = old + 10;
        st->pl_price[idx] = now;
        sim_cache_drop(st, T_PL_DETAILS, idx);
        if (!first)
            jw_raw(w, ",", 1);
        first = false;
        jw_fmt(w,
               "{\"detail_id\":%lld,\"price_list_id\":%lld,\"variant_id\":%lld,"
               "\"old\":%d,\"new\":%d}",
               (long long)(sim_id_base(T_PL_DETAILS) + (int64_t)idx),
               (long long)(sim_id_base(T_PRICE_LISTS) + (int64_t)(idx / st->n_variants)),
               (long long)(sim_id_base(T_VARIANTS) + (int64_t)(idx % st->n_variants)), old, now);
    }
    jw_lit(w, "]");
}

static void deactivate_products(struct sim_store *st, struct rng *r, uint32_t n, struct jw *w)
{
    bool first = true;
    id_list_open(w, "deactivated_products");
    for (uint32_t i = 0; i < n && st->n_products; i++) {
        for (int attempt = 0; attempt < 50; attempt++) {
            size_t idx = rng_below(r, st->n_products);
            if (st->products[idx].state != 0)
                continue;
            st->products[idx].state = 1;
            sim_cache_drop(st, T_PRODUCTS, idx);
            id_item(w, &first, sim_id_base(T_PRODUCTS) + (int64_t)idx);
            break;
        }
    }
    jw_lit(w, "]");
}

/* Removes documents without payments, so no payment is left pointing at a gone document. */
static void remove_documents(struct sim_store *st, struct rng *r, uint32_t n, struct jw *w)
{
    bool first = true;
    id_list_open(w, "removed_documents");
    for (uint32_t i = 0; i < n && st->n_docs; i++) {
        for (int attempt = 0; attempt < 200; attempt++) {
            size_t idx = rng_below(r, (uint32_t)st->n_docs);
            struct s_document *d = &st->docs[idx];
            if (d->removed || d->n_pay != 0)
                continue;
            d->removed = 1;
            st->n_removed++;
            id_item(w, &first, sim_id_base(T_DOCUMENTS) + (int64_t)idx);
            break;
        }
    }
    jw_lit(w, "]");
}

void sim_mutate(struct sim_store *st, const struct sim_mutation *m, struct jw *w)
{
    struct rng r = rng_for(st->k.seed, 200, m->seed);
    pthread_rwlock_wrlock(&st->lock);
    jw_fmt(w, "{\"seed\":%llu", (unsigned long long)m->seed);
    add_clients(st, &r, m->new_clients, w);
    add_documents(st, &r, m->new_documents, w);
    void_documents(st, &r, m->voids, m->void_max_age_days, w);
    change_prices(st, &r, m->price_changes, w);
    deactivate_products(st, &r, m->deactivations, w);
    if (m->credit_notes) { /* a stream of its own: the other changes stay as they were */
        struct rng nc = rng_for(st->k.seed, 202, m->seed);
        add_credit_notes(st, &nc, m->credit_notes, w);
    }
    if (m->removals) { /* a stream of its own: the other changes stay as they were */
        struct rng gone = rng_for(st->k.seed, 201, m->seed);
        remove_documents(st, &gone, m->removals, w);
    }
    if (m->credit_payments || m->new_payments) { /* a stream of its own, too */
        struct rng pay = rng_for(st->k.seed, 202, m->seed);
        sim_mutate_payments(st, &pay, m, w);
    }
    if (m->receptions || m->consumptions) { /* a stream of its own */
        struct rng mv = rng_for(st->k.seed, 203, m->seed);
        sim_moves_mutate(st, &mv, m->receptions, m->consumptions, w);
    }
    sim_cache_grow(st);
    sim_payments_reorder(st);
    jw_fmt(w, ",\"documents\":%zu,\"clients\":%u}", st->n_docs, st->n_clients);
    pthread_rwlock_unlock(&st->lock);
}

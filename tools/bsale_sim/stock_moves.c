/*
 * Stock receptions and consumptions over the history, and the variant costs they make:
 * averageCost is the quantity-weighted mean of the variant's received costs, so a new
 * reception changes it. Variants without stock control have no costs (404).
 */
#include "common.h"

#include "moves.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECEPTIONS_PER_WEEK 3.0 /* per office */
#define CONSUMPTIONS_PER_WEEK 1.0
#define OLD_HOUR (3 * 3600) /* old records sit at 03:00Z, like documents */

bool sim_stock_controlled(const struct sim_store *st, size_t v)
{
    return st->products[st->variants[v].product_idx].classification != 1;
}

double sim_stock_delta(const struct sim_store *st, size_t i)
{
    const struct sim_moves *m = st->moves;
    return m && m->stock_delta ? m->stock_delta[i] : 0;
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

static uint32_t pick_variant(const struct sim_store *st, struct rng *r)
{
    for (int tries = 0; tries < 64; tries++) {
        uint32_t v = rng_below(r, st->n_variants);
        if (sim_stock_controlled(st, v))
            return v;
    }
    return UINT32_MAX;
}

static void add_line(struct sim_store *st, int kind, struct rng *r, uint32_t mv_idx, bool live)
{
    struct sim_moves *m = st->moves;
    uint32_t v = pick_variant(st, r);
    if (v == UINT32_MAX)
        return;
    m->ln[kind] = grow(m->ln[kind], &m->ln_cap[kind], m->n_ln[kind] + 1, sizeof *m->ln[kind]);
    struct s_move_line *l = &m->ln[kind][m->n_ln[kind]];
    double net = (double)st->variants[v].price / 1.19;
    *l = (struct s_move_line){.move_idx = mv_idx, .variant_idx = v, .prev = -1};
    l->quantity = kind == 0 ? 1 + rng_below(r, 48) : 1 + rng_below(r, 4);
    l->cost = round(net * (0.45 + 0.25 * rng_unit(r)));
    l->variant_stock = l->quantity + rng_below(r, 100);
    if (kind == 0) {
        l->prev = m->v_last[v];
        m->v_last[v] = (int32_t)m->n_ln[kind];
    }
    m->mv[kind][mv_idx].n++;
    m->n_ln[kind]++;
    if (live) { /* today's movement: the stock row shows it */
        size_t row = (size_t)v * st->n_offices + (m->mv[kind][mv_idx].office_id - 1);
        m->stock_delta[row] += kind == 0 ? l->quantity : -l->quantity;
        sim_cache_drop(st, T_STOCKS, row);
    }
}

static uint32_t add_move(struct sim_store *st, int kind, struct rng *r, int64_t when,
                         uint32_t office, bool live)
{
    struct sim_moves *m = st->moves;
    m->mv[kind] = grow(m->mv[kind], &m->mv_cap[kind], m->n_mv[kind] + 1, sizeof *m->mv[kind]);
    uint32_t idx = (uint32_t)m->n_mv[kind]++;
    struct s_move *mv = &m->mv[kind][idx];
    *mv = (struct s_move){.date = when, .office_id = office, .first = (uint32_t)m->n_ln[kind]};
    mv->user_id = 1 + rng_below(r, st->n_users);
    mv->type_id = 1 + rng_below(r, 3) /* stock_render.c has 3 types */;
    mv->number = 1000 + rng_below(r, 90000);
    uint32_t lines = kind == 0 ? 1 + rng_below(r, 6) : 1 + rng_below(r, 3);
    for (uint32_t k = 0; k < lines; k++)
        add_line(st, kind, r, idx, live);
    return idx;
}

void sim_moves_gen(struct sim_store *st)
{
    struct sim_moves *m = xcalloc(1, sizeof *m);
    st->moves = m;
    m->v_last = xcalloc(st->n_variants ? st->n_variants : 1, sizeof *m->v_last);
    for (uint32_t v = 0; v < st->n_variants; v++)
        m->v_last[v] = -1;
    m->stock_delta = xcalloc((size_t)st->n_variants * st->n_offices + 1, sizeof(double));
    struct rng r = rng_for(st->k.seed, 300, 0);
    if (!st->n_variants || !st->n_offices || !st->n_users)
        return;
    for (uint32_t d = 0; d < st->k.days; d++) {
        int64_t day = st->k.today - (int64_t)(st->k.days - 1 - d) * SIM_DAY;
        for (uint32_t o = 1; o <= st->n_offices; o++) {
            if (rng_chance(&r, RECEPTIONS_PER_WEEK / 7))
                add_move(st, 0, &r, day + OLD_HOUR, o, false);
            if (rng_chance(&r, CONSUMPTIONS_PER_WEEK / 7))
                add_move(st, 1, &r, day + OLD_HOUR, o, false);
        }
    }
}

void sim_moves_free(struct sim_store *st)
{
    struct sim_moves *m = st->moves;
    if (!m)
        return;
    for (int k = 0; k < 2; k++) {
        free(m->mv[k]);
        free(m->ln[k]);
    }
    free(m->v_last);
    free(m->stock_delta);
    free(m);
    st->moves = NULL;
}

static void id_list(struct sim_store *st, int kind, size_t from, const char *name, struct jw *w)
{
    jw_fmt(w, ",\"%s\":[", name);
    for (size_t i = from; i < st->moves->n_mv[kind]; i++)
        jw_fmt(w, "%s%zu", i > from ? "," : "", i + 1);
    jw_lit(w, "]");
}

void sim_moves_mutate(struct sim_store *st, struct rng *r, uint32_t receptions,
                      uint32_t consumptions, struct jw *w)
{
    struct sim_moves *m = st->moves;
    if (!m || !st->n_variants || !st->n_offices || !st->n_users)
        return;
    int64_t when = st->k.today + 10 * 3600;
    size_t r0 = m->n_mv[0], c0 = m->n_mv[1];
    for (uint32_t i = 0; i < receptions; i++)
        add_move(st, 0, r, when + i * 60, 1 + rng_below(r, st->n_offices), true);
    for (uint32_t i = 0; i < consumptions; i++)
        add_move(st, 1, r, when + i * 60, 1 + rng_below(r, st->n_offices), true);
    if (receptions)
        id_list(st, 0, r0, "receptions", w);
    if (consumptions)
        id_list(st, 1, c0, "consumptions", w);
}

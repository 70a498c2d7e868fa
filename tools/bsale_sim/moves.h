/*
 * Stock movements, variant costs, returns, taxes and sellers: the analysts' resources.
 * stock_moves.c holds receptions, consumptions and costs; returns.c the rest.
 */
#ifndef PETL_SIM_MOVES_H
#define PETL_SIM_MOVES_H

#include "sim.h"

/* A reception (kind 0) or a consumption (kind 1) and its lines. */
struct s_move {
    int64_t date;
    uint32_t office_id, user_id, type_id; /* type_id: consumption type */
    uint32_t first, n;                    /* lines */
    int64_t number;                       /* documentNumber of a reception */
};
struct s_move_line {
    uint32_t move_idx, variant_idx;
    double quantity, cost, variant_stock;
    int32_t prev; /* previous reception line of the same variant, -1 */
};
struct sim_moves {
    struct s_move *mv[2];
    size_t n_mv[2], mv_cap[2];
    struct s_move_line *ln[2];
    size_t n_ln[2], ln_cap[2];
    int32_t *v_last;     /* [variant]: its latest reception line, -1 */
    double *stock_delta; /* [stock row]: received minus consumed after generation */
};

/* Generation and mutation (caller holds the write lock). */
void sim_moves_gen(struct sim_store *st);
void sim_moves_free(struct sim_store *st);
void sim_moves_mutate(struct sim_store *st, struct rng *r, uint32_t receptions,
                      uint32_t consumptions, struct jw *w);
bool sim_stock_controlled(const struct sim_store *st, size_t variant_idx);
double sim_stock_delta(const struct sim_store *st, size_t stock_idx);

/* Paging of the new lists (stock_moves.c). */
#define MOVES_ID_FILTERS 4
struct moves_query {
    size_t limit, offset;
    int64_t from, to;                 /* date filter; from > to when absent */
    const struct sim_request *rq;     /* its filters go into the next link */
    int64_t id_val[MOVES_ID_FILTERS]; /* integer filters, by position in id_keys */
    unsigned id_set;                  /* bit k: id_keys[k] was given */
    int status;                       /* 400 or 403 when the query is refused */
    bool expand_details;              /* expand names details: embedded, capped at 25 */
};
/* Parses limit/offset, the day and range filters and the integer filters id_keys
 * (NULL-terminated, or NULL); anything else but expand/fields is refused with 403. */
bool sim_moves_query(const struct sim_request *rq, const char *day_key, const char *range_key,
                     const char *const *id_keys, struct moves_query *q);
/* The refusal of a query sim_moves_query did not accept. */
void sim_moves_refuse(const struct moves_query *q, struct sim_response *rs);
/* Whether integer filter k is absent or equal to v. */
bool sim_moves_id_ok(const struct moves_query *q, unsigned k, int64_t v);
void sim_moves_envelope_open(struct jw *w, const char *href, size_t count,
                             const struct moves_query *q);
void sim_moves_envelope_close(struct jw *w, const char *href, size_t count,
                              const struct moves_query *q);
/* Appends `,"details":` of a movement or return: its link, or when expanded an envelope of its
 * first SIM_EMBED_MAX lines with the true count; item(ctx, k, w) renders line k. */
void sim_moves_details_member(struct jw *w, const char *href, size_t count, bool embed,
                              void (*item)(const void *ctx, size_t k, struct jw *w),
                              const void *ctx);

/* Routing: true when the path (without /v1/ and .json) is one of these resources. */
bool sim_moves_route(struct sim_store *st, const struct sim_request *rq, const char *segs[],
                     size_t nseg, struct sim_response *rs);
bool sim_returns_route(struct sim_store *st, const struct sim_request *rq, const char *segs[],
                       size_t nseg, struct sim_response *rs);
/* The statistics template of those paths, e.g. "/v1/stocks/receptions/{id}.json"; false when
 * the path is none of them. */
bool sim_moves_template(const char *segs[], size_t nseg, char *out, size_t n);
/* Documents' `document_taxes` and `sellers` members (link, or embedded when expanded). */
void sim_render_doc_taxes(struct sim_store *st, size_t doc_idx, unsigned expand, struct jw *w);
void sim_render_doc_sellers(struct sim_store *st, size_t doc_idx, unsigned expand, struct jw *w);
void sim_user_names(const struct sim_store *st, size_t user_idx, const char **first,
                    const char **last); /* render.c */
/* /__truth keys, each preceded by a comma. */
void sim_moves_truth(struct sim_store *st, struct jw *w);
void sim_returns_truth(struct sim_store *st, struct jw *w);

#endif

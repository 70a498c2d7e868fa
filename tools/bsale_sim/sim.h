/*
 * bsale-sim internals: the generated store, its JSON rendering and the request
 * engine. The HTTP layer (server.c) knows nothing of the data model beyond this.
 */
#ifndef PETL_SIM_H
#define PETL_SIM_H

#include "common.h"
#include "err.h"

#include <pthread.h>
#include <stdatomic.h>

/* The real API's host: hrefs always point there, never at the simulator. */
#define SIM_HREF "https://api.bsale.io/v1"
#define SIM_PAGE_DEFAULT 25
#define SIM_PAGE_MAX 50
#define SIM_EMBED_MAX 25
#define SIM_DAY 86400

/* ---- deterministic random numbers (splitmix64) ---- */
struct rng {
    uint64_t s;
};
uint64_t rng_mix(uint64_t x);
struct rng rng_for(uint64_t seed, uint32_t stream, uint64_t id);
uint64_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n); /* 0..n-1; n > 0 */
double rng_unit(struct rng *r);                /* [0,1) */
bool rng_chance(struct rng *r, double p);

/* ---- growable text buffer for JSON output (fast, uncapped) ---- */
struct jw {
    char *p; /* owned */
    size_t len;
    size_t cap;
};
void jw_init(struct jw *w, size_t cap);
void jw_free(struct jw *w);
void jw_raw(struct jw *w, const char *s, size_t n);
void jw_lit(struct jw *w, const char *s);
void jw_str(struct jw *w, const char *s); /* quoted and escaped */
void jw_int(struct jw *w, int64_t v);
void jw_istr(struct jw *w, int64_t v);             /* integer as a JSON string: "12" */
void jw_num(struct jw *w, double v, int decimals); /* 12990.0, 2.35, 8394.958 */
void jw_numstr(struct jw *w, double v, int decimals);
void jw_fmt(struct jw *w, const char *fmt, ...) PRINTF_FMT(2, 3);

/* ---- the store ---- */
enum sim_table {
    T_OFFICES,
    T_DOCUMENT_TYPES,
    T_PAYMENT_TYPES,
    T_USERS,
    T_PRODUCT_TYPES,
    T_PRODUCTS,
    T_VARIANTS,
    T_CLIENTS,
    T_PRICE_LISTS,
    T_STOCKS,
    T_DOCUMENTS,
    T_PAYMENTS,
    T_DOC_DETAILS,
    T_PL_DETAILS,
    T_COUNT
};

/* How a documents request answers an expanded `payments`/`references` member. */
enum sim_expand_style {
    EXPAND_LINK,  /* always a {href} link, as every live dump shows */
    EXPAND_EMBED, /* an envelope of at most 25 items with the true count */
};
/* Order of the unfiltered /payments.json list. */
enum sim_payments_order {
    PAYORDER_ID,       /* id ascending */
    PAYORDER_SHUFFLED, /* a fixed, seeded permutation */
};
/* Parse "embed"/"link" and "id"/"shuffled"; false on an unknown name. */
bool sim_expand_style_parse(const char *s, enum sim_expand_style *out);
bool sim_payments_order_parse(const char *s, enum sim_payments_order *out);

struct sim_knobs {
    uint64_t seed;
    int64_t today; /* Unix seconds of the last day of history, 00:00 UTC */
    uint32_t offices;
    uint32_t users;
    uint32_t clients;
    uint32_t product_types;
    uint32_t products;
    uint32_t variants_per_product; /* maximum; each product has 1..N */
    uint32_t price_lists;
    uint32_t days;
    uint32_t docs_per_day;     /* mean; each day varies +-30% */
    uint32_t lines_per_doc;    /* mean for ordinary documents */
    double share_over_25;      /* documents with 26..50 lines */
    double share_over_50;      /* documents with 51..80 lines */
    uint32_t payments_per_doc; /* maximum; each paid document has 1..N */
    double share_voided;
    double share_anonymous;
    enum sim_expand_style expand_style;     /* default EXPAND_LINK */
    enum sim_payments_order payments_order; /* default PAYORDER_ID */
};

void sim_knobs_default(struct sim_knobs *k);

struct s_user {
    uint32_t office_id;
    int8_t state;
};
struct s_product {
    uint32_t type_id;
    uint32_t first_variant; /* index */
    uint16_t n_variants;
    int8_t allow_decimal;
    int8_t classification;
    int8_t state;
};
struct s_variant {
    uint32_t product_idx;
    int32_t price; /* gross CLP, IVA included */
    int8_t state;
};
struct s_client {
    uint32_t rut;
    int8_t state;
};
struct s_document {
    int64_t emission;
    int64_t generation;
    int64_t number;
    int64_t net, tax, total;
    uint32_t type_id, office_id, user_id, client_id; /* client_id 0 = anonymous */
    uint32_t first_line, n_lines;                    /* indexes into lines */
    uint32_t first_pay, n_pay;                       /* indexes into payments */
    uint32_t first_ref, n_ref;                       /* indexes into refs */
    int64_t cancel_date;                             /* cancellationDate; 0 renders null */
    int8_t state;
    int8_t removed; /* gone from Bsale: not listed, by-id reads answer the gone status */
    int8_t cancel_status;
    int8_t derived; /* a sale reversed by a credit note, a nota de venta turned into a boleta */
};
struct s_line {
    uint32_t doc_idx;
    uint32_t variant_idx;
    double quantity;
    double net_unit; /* exact (netUnitValueRaw); netUnitValue is it rounded to pesos */
    int64_t total_unit;
    int64_t net, tax, total;
    int64_t related; /* relatedDetailId: the line of another document this one comes from; 0 */
};
/* An electronic reference of a credit note to the sale it reverses. */
struct s_reference {
    uint32_t doc_idx;    /* the credit note */
    uint32_t target_idx; /* the sale */
    int8_t partial;      /* reverses part of the sale */
};
#define SIM_CREDIT_DOCS_MAX 3
struct s_payment {
    int64_t record_date;     /* -1 renders as "" */
    int64_t accounting_date; /* -1 renders as "" */
    int64_t created_at;
    int64_t amount;
    int32_t doc_idx; /* -1 for credit payments */
    /* Documents a credit payment settles and the part of each (the parts sum to amount). */
    int32_t credit_doc_idx[SIM_CREDIT_DOCS_MAX];
    int64_t credit_amount[SIM_CREDIT_DOCS_MAX];
    uint8_t n_credit_docs;
    uint32_t type_id, office_id, user_id;
    int8_t state;
    int8_t is_credit;
};

/* One cached rendering: length-prefixed bytes, published with an atomic pointer. */
struct sim_rendered {
    uint32_t len;
    char data[];
};

struct sim_cache {
    _Atomic(struct sim_rendered *) *slot; /* owned array */
    size_t n;
};

/* Hostile-Bsale knobs, applied by the request engine; all off by default. */
enum sim_count_lie { LIE_NONE, LIE_LOW, LIE_GROW };
enum sim_garbage { G_TRUE, G_NAN, G_HUGE, G_STRING_DATE, G_BAD_ID, G_LONG_TEXT, G_NUL, G_KINDS };
struct sim_hostile {
    uint64_t seed;
    double short_page_rate; /* share of non-final list pages cut short */
    enum sim_count_lie count_lie;
    const char *count_lie_path; /* request path prefix; NULL = every list */
    double empty_details_rate;  /* share of documents over 25 lines with empty detail pages */
    double garbage_rate;        /* share of documents, lines and payments garbled */
    unsigned garbage_kinds;     /* bit per enum sim_garbage */
    int gone_status;            /* answer to a by-id read of a removed document */
};
void sim_hostile_default(struct sim_hostile *h);
/* Parses "true,nan,..." into kind bits; false on an unknown name. */
bool sim_garbage_parse(const char *s, unsigned *bits);

struct sim_store {
    struct sim_knobs k;
    struct sim_hostile h;
    pthread_rwlock_t lock; /* readers: requests; writer: mutations */
    uint32_t n_offices, n_doc_types, n_pay_types, n_users, n_product_types, n_products, n_variants,
        n_clients, n_price_lists;
    int8_t *office_state, *ptype_state, *plist_state;
    struct s_user *users;
    struct s_product *products;
    struct s_variant *variants;
    struct s_client *clients;
    size_t clients_cap;
    int32_t *pl_price; /* [list * n_variants + variant], gross CLP */
    struct s_document *docs;
    size_t n_docs, docs_cap;
    struct s_line *lines;
    size_t n_lines, lines_cap;
    struct s_payment *pays;
    size_t n_pays, pays_cap;
    uint32_t *pay_order;     /* list order of payments (--payments-order shuffled), else NULL */
    uint32_t *late_pays;     /* ordinary payments added after their document's own run */
    size_t n_late, late_cap; /* (so outside its first_pay..n_pay range) */
    int32_t *credit_pending; /* while generating: 2 unsettled credit sales per client, -1 none */
    struct s_reference *refs;
    size_t n_refs, refs_cap;
    uint64_t folio_next[8]; /* per document type */
    size_t n_removed;       /* documents with removed set */
    struct sim_cache cache[T_COUNT];
    struct sim_moves *moves; /* stock movements (moves.h) */
};

/* First id of each table: ids are contiguous, id = base + index. */
int64_t sim_id_base(enum sim_table t);
size_t sim_table_len(const struct sim_store *st, enum sim_table t);
const char *sim_table_name(enum sim_table t); /* "documents"; details: NULL */

/* Builds the store; owned, free with sim_store_free. */
struct sim_store *sim_store_new(const struct sim_knobs *k);
void sim_store_free(struct sim_store *st);

/* Generation steps shared with mutations (caller holds the write lock). */
uint32_t sim_gen_document(struct sim_store *st, struct rng *r, int64_t day, bool old_style);
uint32_t sim_gen_client(struct sim_store *st, struct rng *r);
void sim_cache_grow(struct sim_store *st);
void sim_cache_drop(struct sim_store *st, enum sim_table t, size_t idx);
/* A credit note emitted at `when` reversing all or part of sale src. */
uint32_t sim_gen_credit_note(struct sim_store *st, struct rng *r, int64_t when, uint32_t src);

/* ---- derived documents (references.c; caller holds the write lock) ---- */
#define SIM_DT_FACTURA 1
#define SIM_DT_BOLETA 2
#define SIM_DT_NOTA_CREDITO 3
#define SIM_DT_NOTA_VENTA 4
#define SIM_REF_ID_BASE 12001
/* The document a new one of type_id derives from (a sale to reverse, a nota de venta to turn
 * into a boleta), or -1. */
int32_t sim_pick_source(struct sim_store *st, struct rng *r, uint32_t type_id, int64_t when);
/* Whether sale idx may still be reversed by a credit note. */
bool sim_reversible(const struct sim_store *st, size_t idx);
/* Appends doc_idx's lines derived from src's lines (with relatedDetailId), and its reference
 * when doc_idx is a credit note. */
void sim_derive_lines(struct sim_store *st, struct rng *r, uint32_t doc_idx, uint32_t src);
/* Marks document idx voided at `when` (state 1 and its cancellation fields). */
void sim_cancel(struct sim_store *st, size_t idx, int64_t when);

/* ---- rendering (caller holds the read lock) ---- */
enum sim_expand {
    EXP_DETAILS = 1 << 0,
    EXP_CLIENT = 1 << 1,
    EXP_PAYMENTS = 1 << 2,
    EXP_DOCUMENT_TYPE = 1 << 3,
    EXP_OFFICE = 1 << 4,
    EXP_PRODUCT = 1 << 5,
    EXP_REFERENCES = 1 << 6,
    EXP_DOC_TAXES = 1 << 7,
    EXP_SELLERS = 1 << 8,
};
/* Appends item idx of t as the single-item endpoint returns it. */
void sim_render(struct sim_store *st, enum sim_table t, size_t idx, unsigned expand, struct jw *w);
void sim_render_truth(struct sim_store *st, struct jw *w);
/* References (references.c): a document's `references` member, its references page, and the
 * truth's `"document_references":[...]`. */
void sim_render_doc_references(struct sim_store *st, size_t doc_idx, unsigned expand, struct jw *w);
void sim_references_page(struct sim_store *st, size_t doc_idx, size_t offset, size_t limit,
                         struct jw *w);
bool sim_reference_item(struct sim_store *st, size_t doc_idx, int64_t ref_id, struct jw *w);
void sim_render_truth_references(struct sim_store *st, struct jw *w);
void sim_rut_format(uint32_t rut, char *out, size_t n); /* "12.345.678-5" */
char sim_rut_dv(uint32_t rut);

/* ---- hostile answers (hostile.c; caller holds the read lock) ---- */
/* Items a list page keeps of n: n, or 1..n-1 when the page is cut short. */
size_t sim_short_page(const struct sim_store *st, uint64_t list_key, size_t offset, size_t n);
bool sim_empty_details(const struct sim_store *st, size_t doc_idx);
/* Whether item idx of t is garbled, and how. */
bool sim_garbled(const struct sim_store *st, enum sim_table t, size_t idx, enum sim_garbage *kind);
/* Appends item text in[0..n) with its garbage applied. */
void sim_garble(const struct sim_store *st, enum sim_table t, size_t idx, enum sim_garbage kind,
                const char *in, size_t n, struct jw *w);
/* Appends item text, garbled when its record is. */
void sim_put_garbled(const struct sim_store *st, enum sim_table t, size_t idx, const char *in,
                     size_t n, struct jw *w);
/* Appends `"garbled":[{resource,id,field,kind[,document_id]},...]` for /__truth. */
void sim_render_garbled(const struct sim_store *st, struct jw *w);

/* ---- mutations (takes the write lock itself) ---- */
struct sim_mutation {
    uint64_t seed;
    uint32_t new_documents, voids, price_changes, deactivations, new_clients;
    uint32_t removals;                      /* documents without payments removed from Bsale */
    uint32_t credit_payments, new_payments; /* payments.c; default 0 */
    uint32_t void_max_age_days;             /* voids pick documents at most this old; 0: any age */
    uint32_t credit_notes;                  /* new credit notes today reversing existing sales */
    uint32_t receptions, consumptions;      /* stock movements today (stock_moves.c) */
};
void sim_mutation_default(struct sim_mutation *m);
void sim_mutate(struct sim_store *st, const struct sim_mutation *m, struct jw *summary);

/* ---- payments (payments.c) ---- */
/* One payment type's total over a document's active ordinary payments. */
struct sim_pay_total {
    uint32_t type_id;
    int64_t amount;
};
#define SIM_PAY_TYPES_MAX 8
const char *sim_pay_type_name(uint32_t type_id); /* render.c; NULL when unknown */
/* Fills out (ordered by type id) and returns how many types the document's payments use. */
size_t sim_doc_pay_totals(const struct sim_store *st, size_t doc_idx,
                          struct sim_pay_total out[SIM_PAY_TYPES_MAX]);
/* Appends `{"href":…/payment_types/5.json,"id":5,"name":…,"amount":50966.0`, unclosed. */
void sim_render_pay_total(const struct sim_pay_total *t, struct jw *w);
/* Appends document k of a credit payment, `{"href":…,"id":"90012","amount":12000.0`, unclosed. */
void sim_render_credit_doc(const struct s_payment *p, unsigned k, struct jw *w);
/* Appends `,"payments":` of a document: a link, or in embed style when expanded an envelope. */
void sim_render_doc_payments(const struct sim_store *st, size_t doc_idx, unsigned expand,
                             struct jw *w);
/* Whether payment idx matches recorddate=day / recorddaterange=[from,to] ("" never does). */
bool sim_payment_on(const struct sim_store *st, size_t idx, int64_t from, int64_t to);
bool sim_doc_has_late_payments(const struct sim_store *st, size_t doc_idx);
/* The index range [lo, hi) holding every payment recorded in [from, to]. */
void sim_payments_span(const struct sim_store *st, int64_t from, int64_t to, size_t *lo,
                       size_t *hi);
/* Rebuilds the list order after payments were added (caller holds the write lock). */
void sim_payments_reorder(struct sim_store *st);
/* recordDate "" on a few, accountingDate, from draws of the payment's own (gen.c). */
void sim_gen_payment_dates(struct sim_store *st, size_t pay_idx);
/* A credit sale: settled now (created at `created`) by a credit payment that also settles the
 * client's earlier unsettled ones, or left pending for a later one (gen.c). */
void sim_gen_credit_payment(struct sim_store *st, size_t doc_idx, int64_t created, bool settle_now);
/* The credit_payments and new_payments mutations (caller holds the write lock). */
void sim_mutate_payments(struct sim_store *st, struct rng *r, const struct sim_mutation *m,
                         struct jw *w);
/* Appends `"payment_documents":[...],"document_payment_totals":[...]` for /__truth. */
void sim_render_payment_truth(struct sim_store *st, struct jw *w);

/* ---- the /v1 API (pure: request in, status and body out) ---- */
/* First document index emitted at or after when (emission never decreases with the index). */
size_t sim_doc_lower_bound(const struct sim_store *st, int64_t when);
/* A decimal int64 filling all of s; false on NULL, "" or trailing text. */
bool sim_parse_i64(const char *s, int64_t *out);
/* "[a,b]" (brackets optional) of two sim_parse_i64 values. */
bool sim_parse_range(const char *s, int64_t *a, int64_t *b);
struct sim_param {
    const char *key;
    const char *value;
};
struct sim_request {
    const char *path; /* "/v1/documents.json" */
    const struct sim_param *params;
    size_t n_params;
};
struct sim_response {
    int status;
    struct jw body;
    char tmpl[64]; /* path template for statistics: "/v1/documents/{id}.json" */
    bool heavy;    /* a documents/payments/details page (slower latency) */
};
void sim_api_handle(struct sim_store *st, const struct sim_request *rq, struct sim_response *rs);
/* The statistics template of a /v1 path ("/v1/documents/{id}.json"), without routing it. */
void sim_api_template(const char *path, char *out, size_t n);

#endif

/*
 * The declarative catalog: every table described once (columns, types, keys,
 * the Bsale JSON field each column comes from and how it converts, where a
 * run reads it, what becomes of rows Bsale stops listing, and its meaning in
 * Spanish and English). The plan's streams, DDL, upserts, MySQL COMMENTs,
 * docs/schema.md and the JSON item -> row mapping all derive from it. Code
 * elsewhere finds tables by role (catalog_by_role), never by SQL name.
 * Knows nothing of HTTP or of a particular database's SQL dialect.
 */
#ifndef PETL_CATALOG_H
#define PETL_CATALOG_H

#include "common.h"
#include "err.h"

#include <jansson.h>

enum cat_type {
    CAT_ID,        /* BIGINT from a number or numeric string */
    CAT_INT,       /* BIGINT */
    CAT_FLAG,      /* SMALLINT 0/1 (also "0"/"1") */
    CAT_DECIMAL,   /* DECIMAL(18,4); number or numeric string; "" / null -> NULL */
    CAT_DATE,      /* DATE: UTC calendar date of Unix seconds; "" -> NULL */
    CAT_DATETIME,  /* DATETIME UTC of Unix seconds; "" -> NULL */
    CAT_TEXT,      /* names, codes (VARCHAR(255) in MySQL): 255 characters */
    CAT_LONGTEXT,  /* descriptions, notes (TEXT): 65535 bytes */
    CAT_SYNCED_AT, /* sincronizado_en: filled by the writer, not from JSON */
    CAT_SERIAL,    /* auto-increment BIGINT key of the ETL's own tables */
    CAT_DOCUMENT,  /* a JSON document (MEDIUMTEXT in MySQL): up to 16 MB */
};

enum cat_col_flags {
    CAT_KEY = 1 << 0,   /* part of the primary key */
    CAT_INDEX = 1 << 1, /* gets an index */
    CAT_NOT_NULL = 1 << 2,
    CAT_PARENT = 1 << 3,    /* value is the parent's id (document lines, price-list prices) */
    CAT_ZERO = 1 << 4,      /* DEFAULT 0 */
    CAT_ZERO_NULL = 1 << 5, /* an id of 0 means "none": stored NULL (relatedDetailId) */
};

struct cat_column {
    const char *name; /* SQL column name (docs/schema.md) */
    enum cat_type type;
    const char *json; /* dotted path in the Bsale item ("office.id"); NULL for PARENT/SYNCED_AT */
    unsigned flags;
    const char *es; /* meaning in Spanish: MySQL COMMENT and docs/schema.md */
    const char *en; /* meaning in English: docs/schema.md */
};

/* What a table is for: code outside catalog.c names tables by role, never by SQL name. */
enum cat_role {
    CAT_ROLE_NONE = 0,
    CAT_ROLE_DOCUMENTS,
    CAT_ROLE_LINES,
    CAT_ROLE_PAYMENTS,
    CAT_ROLE_PRICE_LISTS,
    CAT_ROLE_PRICES,
    CAT_ROLE_CLIENTS,
    CAT_ROLE_VARIANTS,
    CAT_ROLE_STOCK,
    CAT_ROLE_RUNS,
    CAT_ROLE_INCIDENTS,
    CAT_ROLE_OFFICES,
    CAT_ROLE_DOCUMENT_TYPES,
    CAT_ROLE_PAYMENT_TYPES,
    CAT_ROLE_USERS,
    CAT_ROLE_PRODUCT_TYPES,
    CAT_ROLE_PRODUCTS,
    CAT_ROLE_PAYMENT_DOCUMENTS,       /* pagos_documentos: documents[] of credit payments */
    CAT_ROLE_DOCUMENT_PAYMENT_TOTALS, /* pagos_por_tipo_documento: a document's per-type totals */
    CAT_ROLE_REFERENCES,              /* referencias_documento */
    CAT_ROLE_SCHEMA_VERSION,          /* etl_esquema */
    CAT_ROLE_CALENDAR,                /* dim_fecha: filled by migrate */
    CAT_ROLE_TAXES,                   /* impuestos */
    CAT_ROLE_DOCUMENT_TAXES,          /* impuestos_documento */
    CAT_ROLE_DOCUMENT_SELLERS,        /* vendedores_documento */
    CAT_ROLE_VARIANT_COSTS,           /* costos_variante: one object per variant */
    CAT_ROLE_RECEPTIONS,              /* recepciones_stock */
    CAT_ROLE_RECEPTION_DETAILS,       /* detalles_recepcion */
    CAT_ROLE_CONSUMPTIONS,            /* consumos_stock */
    CAT_ROLE_CONSUMPTION_DETAILS,     /* detalles_consumo */
    CAT_ROLE_RETURNS,                 /* devoluciones */
    CAT_ROLE_RETURN_DETAILS,          /* detalles_devolucion */
    CAT_ROLE_STOCK_HISTORY,           /* stock_historial: derived from stock */
    CAT_ROLE_PRICE_HISTORY,           /* precios_historial: derived from precios */
    CAT_ROLE_COUNT
};

/* How a run reads a table's records from Bsale. */
enum cat_fetch {
    CAT_FETCH_NONE = 0, /* not from Bsale: the ETL's own bookkeeping */
    CAT_FETCH_MASTER,   /* master data: the whole list, on a full sync */
    CAT_FETCH_DAILY,    /* one list per business day, by date_filter */
    CAT_FETCH_CHILD,    /* a sub-resource of each parent record (path holds "{id}") */
    /*
     * A journal of records (payments): read whole (the unfiltered list) on a
     * full sync; by date window plus the id-ordered tail on a daily sync.
     */
    CAT_FETCH_JOURNAL,
    /*
     * Dated records, few per day (stock receptions, consumptions, returns):
     * the whole list on a full sync; on a daily sync one date_filter range
     * over the window and its reconcile horizon.
     */
    CAT_FETCH_DATED,
    /* One plain object (not a list) per parent record, read for the parents the plan selects. */
    CAT_FETCH_OBJECT,
    /* Not read from Bsale: written from another table's rows (source.parent) by the store. */
    CAT_FETCH_DERIVED,
};

enum cat_date_kind {
    CAT_DATE_NONE = 0,
    CAT_DATE_DAY,   /* filter=<the day's first second> */
    CAT_DATE_RANGE, /* filter=[<first second>,<last second>] */
};

struct cat_source {
    enum cat_fetch fetch;
    const char *path;        /* "/documents.json"; sub-resources "/price_lists/{id}/details.json" */
    const char *expand;      /* expand= value for lists and single reads, or NULL */
    const char *date_filter; /* list parameter of a DAILY table ("emissiondaterange") */
    enum cat_date_kind date_kind;
    enum cat_role parent;     /* records that belong to a parent table (NONE otherwise) */
    const char *parent_col;   /* the column holding the parent's id */
    const char *embedded;     /* member of the parent item that embeds them ("details"), or NULL */
    const char *parent_query; /* list parameter selecting one parent's records ("documentid") */
    /*
     * CHILD only: when the parent gives only a link ({"href": …}) instead of
     * embedding them, the plan reads path for the parents that need it.
     */
    bool linked_read;
};

/* What becomes of rows Bsale no longer lists. */
enum cat_prune {
    CAT_PRUNE_NEVER = 0,   /* kept: Bsale deactivates (estado) rather than deletes */
    CAT_PRUNE_UNLISTED,    /* deleted after a complete full sync did not write them */
    CAT_PRUNE_WITH_PARENT, /* replaced with their parent: a rewritten parent's others deleted */
    CAT_PRUNE_VERIFIED,    /* re-read by id when a window skips them; deleted on a 404 */
};

struct cat_table {
    const char *name; /* SQL table name */
    const struct cat_column *cols;
    size_t ncols;
    const char *const *unique; /* extra UNIQUE column set (NULL-terminated) or NULL */
    const char *resource;      /* Bsale record kind ("documents/details"), see etl_resource_kind */
    enum cat_role role;
    struct cat_source source;
    enum cat_prune prune;
    const char *es; /* description in Spanish: MySQL COMMENT and docs/schema.md */
    const char *en; /* description in English */
};

/* Every table synced from Bsale, in creation order. Borrowed, static. */
const struct cat_table *const *catalog_tables(size_t *n);
/* By SQL name ("documentos_venta"), synced tables only; NULL if unknown. */
const struct cat_table *catalog_table(const char *name);
/* The table playing role (synced or the ETL's own bookkeeping); never NULL for a listed role. */
const struct cat_table *catalog_by_role(enum cat_role role);
/* Index in catalog_tables() of the table playing role, or -1 (not a synced table). */
int catalog_role_index(enum cat_role role);
/* The ETL's own tables (etl_esquema, etl_ejecuciones, etl_incidencias), in creation order. */
const struct cat_table *const *catalog_own_tables(size_t *n);
/* t's Bsale list path for parent_id ("{id}" replaced); false when it does not fit dst. */
bool catalog_list_path(const struct cat_table *t, int64_t parent_id, char *dst, size_t n);
/* The path of one record of t by id ("/clients.json" -> "/clients/12.json"). */
bool catalog_record_path(const struct cat_table *t, int64_t id, char *dst, size_t n);
/* Index of a column in t, or -1. */
int catalog_column_index(const struct cat_table *t, const char *name);

enum cat_vkind { CAT_V_NULL = 0, CAT_V_INT, CAT_V_TEXT };

/* One cell. Decimals, dates and datetimes are canonical text ("840.3361", "2024-02-15"). */
struct cat_value {
    enum cat_vkind kind;
    int64_t i;
    const char *s; /* borrowed from the owning cat_rows */
    size_t len;
};

/* A batch of rows of one table; owns every string its values point to. */
struct cat_rows {
    const struct cat_table *table;
    size_t n; /* rows */
    size_t alloc;
    struct cat_value *v; /* n * table->ncols cells, row-major */
    struct cat_arena *arena;
};

void cat_rows_init(struct cat_rows *r, const struct cat_table *t);
void cat_rows_release(struct cat_rows *r);
/* Cell (row, col). */
static inline const struct cat_value *cat_rows_cell(const struct cat_rows *r, size_t row,
                                                    size_t col)
{
    return &r->v[row * r->table->ncols + col];
}

/*
 * Maps one Bsale JSON item to a new row appended to r. parent_id fills
 * CAT_PARENT columns. Fails (ERR_JSON) when the item is not an object or a key
 * column is missing or not an id. Other values that do not fit their column are
 * stored as faithfully as it allows (see catalog_map_item_report), unreported.
 */
enum err_code catalog_map_item(struct cat_rows *r, json_t *item, int64_t parent_id,
                               struct err *e) MUST_CHECK;

/* Receives one value that did not fit: the record's id (-1 when unreadable) and what was done. */
typedef void (*cat_issue_fn)(void *ctx, int64_t record_id, const char *problem);
struct cat_report {
    cat_issue_fn fn;
    void *ctx;
};

/*
 * Like catalog_map_item, but never fails: each value that does not fit its
 * column goes to rep, naming table, column, JSON path and the JSON type (a
 * value only when short), and is stored as faithfully as the column allows:
 *  - integers, flags, decimals, dates that do not convert: NULL ("" is NULL,
 *    unreported, as Bsale writes "none");
 *  - a date given as text ("2024-02-15"): stored as that date;
 *  - true/false, objects, arrays in a text column: their JSON text;
 *  - NUL inside text: U+FFFD in its place;
 *  - text longer than the column (255 characters; 65535 bytes for long text):
 *    cut there, at a UTF-8 boundary.
 * A record whose key is unusable (or an item that is not an object) is
 * reported and skipped: returns false and appends no row.
 */
bool catalog_map_item_report(struct cat_rows *r, json_t *item, int64_t parent_id,
                             const struct cat_report *rep);

/* Conversions, exposed for tests and the simulator's truth comparison. */
bool cat_convert_decimal(json_t *v, char *dst, size_t n);  /* "12990", "840.3361" */
bool cat_convert_date(json_t *v, char *dst, size_t n);     /* "2024-02-15" */
bool cat_convert_datetime(json_t *v, char *dst, size_t n); /* "2024-02-16 12:23:13" */

#endif

/*
 * The batch: rows for several tables, and incidents about records, that
 * cross from the fetch thread to the writer and land in one transaction.
 * Filled by the mapper (transform.c) and the plan, written by etl_writer.c.
 * Implemented in etl_batch.c.
 */
#ifndef PETL_ETL_BATCH_H
#define PETL_ETL_BATCH_H

#include "common.h"
#include "catalog.h"

#define ETL_MAX_TABLES 40

/* resource_id of an incident whose record id itself was unreadable (stored as NULL). */
#define ETL_NO_ID (-1)

/* A record a run could not map or verify: one etl_incidencias row. */
struct etl_incident {
    char *resource;      /* Bsale path, "/documents/123/details.json" (owned) */
    int64_t resource_id; /* the record's Bsale id; < 0 (ETL_NO_ID) when unreadable */
    char *problem;       /* owned; never a secret nor a huge raw value */
};

/* Children of one parent that the batch replaces: rows of table it does not write are deleted. */
struct etl_child_replace {
    int table; /* index in catalog_tables() of the CHILD table */
    int64_t parent;
};

/* Rows for several tables that must land in one transaction. */
struct etl_batch {
    struct cat_rows rows[ETL_MAX_TABLES]; /* indexed like catalog_tables() */
    size_t n_rows;                        /* total over every table */
    size_t n_docs;                        /* complete documents inside */
    int64_t *doc_ids;                     /* documents whose lines are replaced (owned) */
    size_t doc_alloc;
    struct etl_child_replace *replaced; /* children replaced, lines of doc_ids too (owned) */
    size_t n_replaced, replaced_alloc;
    struct etl_incident *incidents; /* written with the rows, in the same transaction (owned) */
    size_t n_incidents, incident_alloc;
};

struct etl_batch *etl_batch_new(void);
void etl_batch_free(struct etl_batch *b);
/* Index of table name in catalog_tables(), or -1. */
int etl_table_index(const char *name);
struct cat_rows *etl_batch_rows(struct etl_batch *b, int table_index);
/* A complete document: counted, and its lines replaced (etl_batch_replace_children). */
void etl_batch_add_doc(struct etl_batch *b, int64_t doc_id);
/*
 * The batch holds every child of parent_id in CHILD table child_ti: the
 * writer deletes, in the batch's transaction, that table's rows whose parent
 * column is parent_id and that the batch does not write.
 */
void etl_batch_replace_children(struct etl_batch *b, int child_ti, int64_t parent_id);
/*
 * Records an incident about one record: resource is the Bsale path it came
 * from, resource_id its id or a negative value (ETL_NO_ID) when the id was
 * unreadable. The writer stores it with the run's id in the batch's
 * transaction. The problem text is capped; never pass a secret or a raw value.
 */
void etl_batch_add_incident(struct etl_batch *b, const char *resource, int64_t resource_id,
                            const char *fmt, ...) PRINTF_FMT(4, 5);

#endif

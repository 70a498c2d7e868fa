/*
 * The batch that crosses from the fetch thread to the writer: rows per
 * catalog table, the parents whose children it replaces (documents' lines
 * among them), and incidents about records, all landing in one transaction.
 */
#include "common.h"

#include "db.h"
#include "etl_batch.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct etl_batch *etl_batch_new(void)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    struct etl_batch *b = xcalloc(1, sizeof(*b));
    for (size_t i = 0; i < n && i < ETL_MAX_TABLES; i++)
        cat_rows_init(&b->rows[i], tables[i]);
    return b;
}

void etl_batch_free(struct etl_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < ETL_MAX_TABLES; i++)
        if (b->rows[i].table)
            cat_rows_release(&b->rows[i]);
    for (size_t i = 0; i < b->n_incidents; i++) {
        free(b->incidents[i].resource);
        free(b->incidents[i].problem);
    }
    free(b->incidents);
    free(b->doc_ids);
    free(b->replaced);
    free(b);
}

int etl_table_index(const char *name)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(tables[i]->name, name) == 0)
            return (int)i;
    return -1;
}

struct cat_rows *etl_batch_rows(struct etl_batch *b, int table_index)
{
    return &b->rows[table_index];
}

void etl_batch_add_doc(struct etl_batch *b, int64_t doc_id)
{
    if (b->n_docs == b->doc_alloc) {
        b->doc_alloc = b->doc_alloc ? b->doc_alloc * 2 : 64;
        b->doc_ids = xrealloc(b->doc_ids, b->doc_alloc * sizeof(*b->doc_ids));
    }
    b->doc_ids[b->n_docs++] = doc_id;
    etl_batch_replace_children(b, catalog_role_index(CAT_ROLE_LINES), doc_id);
}

void etl_batch_replace_children(struct etl_batch *b, int child_ti, int64_t parent_id)
{
    if (child_ti < 0 || child_ti >= ETL_MAX_TABLES)
        return;
    if (b->n_replaced == b->replaced_alloc) {
        b->replaced_alloc = b->replaced_alloc ? b->replaced_alloc * 2 : 64;
        b->replaced = xrealloc(b->replaced, b->replaced_alloc * sizeof(*b->replaced));
    }
    b->replaced[b->n_replaced++] = (struct etl_child_replace){child_ti, parent_id};
}

void etl_batch_add_incident(struct etl_batch *b, const char *resource, int64_t resource_id,
                            const char *fmt, ...)
{
    if (b->n_incidents == b->incident_alloc) {
        b->incident_alloc = b->incident_alloc ? b->incident_alloc * 2 : 8;
        b->incidents = xrealloc(b->incidents, b->incident_alloc * sizeof(*b->incidents));
    }
    char problem[DB_INCIDENT_PROBLEM_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(problem, sizeof(problem), fmt, ap);
    va_end(ap);
    if (k < 0)
        problem[0] = '\0';
    else if ((size_t)k >= sizeof(problem))
        utf8_trim_partial(problem); /* cut by the cap: never half a character */
    struct etl_incident *in = &b->incidents[b->n_incidents++];
    in->resource = xstrdup(resource ? resource : "");
    in->resource_id = resource_id < 0 ? ETL_NO_ID : resource_id;
    in->problem = xstrdup(problem);
}

/*
 * Bsale JSON -> warehouse rows through the catalog: a record and the
 * children it embeds (a document's lines, per-type payment totals and
 * references; a credit payment's documents). Pure: no I/O, no threads.
 */
#ifndef PETL_TRANSFORM_H
#define PETL_TRANSFORM_H

#include "common.h"
#include "err.h"
#include "etl_batch.h"

#include <jansson.h>

/* An embedded collection: an envelope {count, items} or a bare array. Borrowed. */
json_t *transform_items(json_t *collection);
/*
 * true when an embedded collection holds every item (a bare array, or an
 * envelope whose count <= items); *count (may be NULL) gets its true size,
 * -1 when unknown (a bare link).
 */
bool transform_collection_complete(json_t *coll, int64_t *count);
/* true when doc's embedded `details` hold every line (count <= items). */
bool transform_lines_complete(json_t *doc, int64_t *count);
/* true when doc's embedded `payments` (per-type totals) are absent, a link, or complete. */
bool transform_payments_complete(json_t *doc);

/*
 * Appends doc's rows to b: documentos_venta, its lines (from lines when
 * non-NULL, else the embedded details) and its other embedded children (as
 * transform_item), and records the document so its stale lines are replaced.
 * Its `payments` member never gives pagos rows (those come from
 * /payments.json). Lines with an id already seen are skipped. Values that do not fit become
 * incidents in b (see catalog_map_item_report); a document without a usable id is skipped with an
 * incident, a line or payment without one likewise. Never fails on Bsale data.
 */
enum err_code transform_document(struct etl_batch *b, json_t *doc, json_t *lines,
                                 struct err *e) MUST_CHECK;

/* doc's id; false (with an incident in b naming /documents.json) when unusable. */
bool transform_document_id(struct etl_batch *b, json_t *doc, int64_t *doc_id);

/*
 * Appends one item to table ti of b (parent fills CAT_PARENT columns); values
 * that do not fit become incidents under the record's Bsale path
 * ("/documents/{parent}/details.json", "/clients.json"). false when the item
 * was skipped (unusable key; an incident says so).
 * The item's embedded children go to every CHILD table whose parent is ti
 * (but lines) and whose `embedded` member holds items: when that member holds
 * every item (count <= items) the parent's children in that table are
 * replaced (etl_batch_replace_children); a cut one is mapped only for a
 * linked_read table, else left out. A bare link maps nothing.
 */
bool transform_item(struct etl_batch *b, int ti, json_t *item, int64_t parent);

/*
 * Maps a separately read children list of parent (references read through
 * the document's link) into CHILD table child_ti and marks them replaced:
 * the parent's rows in that table the batch lacks are deleted. items may be
 * empty (the parent has none left); NULL maps nothing but still replaces.
 */
void transform_children(struct etl_batch *b, int child_ti, json_t *items, int64_t parent);

/* Appends every item of a list page to table ti of b, as transform_item. Never fails. */
enum err_code transform_page(struct etl_batch *b, int ti, json_t *items, int64_t parent,
                             struct err *e) MUST_CHECK;

#endif

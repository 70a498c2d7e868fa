/*
 * What a sync asks of the warehouse besides upserts: rows Bsale no longer
 * lists, documents a run did not see again, documents Bsale deleted. The SQL
 * lives here so the sync engine never writes any.
 */
#ifndef PETL_DB_SYNC_H
#define PETL_DB_SYNC_H

#include "common.h"
#include "catalog.h"
#include "db.h"
#include "err.h"

/* Deletes the rows of t not written since before ("YYYY-MM-DD HH:MM:SS" UTC). */
enum err_code db_prune_unlisted(struct db *db, const struct cat_table *t, const char *before,
                                struct err *e) MUST_CHECK;

/*
 * Documents issued in [date_from, date_to] not written since before, lowest
 * id first, at most limit. *ids owned (free), may be NULL when *n == 0.
 */
enum err_code db_documents_unsynced(struct db *db, const char *date_from, const char *date_to,
                                    const char *before, int limit, int64_t **ids, size_t *n,
                                    struct err *e) MUST_CHECK;

/*
 * The stored header of every document issued in [date_from, date_to], lowest
 * id first: fn gets id_bsale then cols[0..ncols) as text (NULL for SQL NULL;
 * decimals canonical, as the catalog writes them). For the reconcile.
 */
enum err_code db_documents_headers(struct db *db, const char *date_from, const char *date_to,
                                   const char *const *cols, size_t ncols, db_row_fn fn, void *ctx,
                                   struct err *e) MUST_CHECK;

/*
 * The stored header of documents ids[0..n) and what each has stored below
 * it: fn gets id_bsale, cols[0..ncols) as text (as db_documents_headers),
 * then its number of lines and of references. For the documents a daily
 * sync finds unchanged.
 */
enum err_code db_documents_headers_by_id(struct db *db, const int64_t *ids, size_t n,
                                         const char *const *cols, size_t ncols, db_row_fn fn,
                                         void *ctx, struct err *e) MUST_CHECK;

/* Rows of t whose id_bsale is at most through_id: where a journal's tail starts. */
enum err_code db_table_count_through(struct db *db, const struct cat_table *t, int64_t through_id,
                                     long long *count, struct err *e) MUST_CHECK;

/*
 * Every stored document type: fn gets id_bsale, es_nota_credito and
 * codigo_sii as text (NULL for SQL NULL).
 */
enum err_code db_document_types(struct db *db, db_row_fn fn, void *ctx, struct err *e) MUST_CHECK;

/* Deletes documents ids[0..n) with their lines, in one transaction. */
enum err_code db_documents_delete(struct db *db, const int64_t *ids, size_t n,
                                  struct err *e) MUST_CHECK;

#endif

/*
 * The reconcile: the documents of the days before a daily sync's lookback,
 * as a light list gives them (a few fields, no expansions), compared with
 * what the warehouse stores. Only documents that differ or are missing are
 * re-read in full; stored ones the list no longer has are verified by id.
 * Late voids and cancellations of old documents converge this way
 * (docs/reliability.md, Late changes converge).
 */
#ifndef PETL_SYNC_RECONCILE_H
#define PETL_SYNC_RECONCILE_H

#include "common.h"
#include "db.h"
#include "err.h"

#include <jansson.h>

struct sync_reconcile;

/* What the comparison found; ids owned (free). */
struct sync_reconcile_result {
    int64_t *reread; /* listed and changed, or listed and not stored */
    size_t n_reread;
    int64_t *unlisted; /* stored but not listed */
    size_t n_unlisted;
    long long listed, changed, missing;
};

struct sync_reconcile *sync_reconcile_new(void);
void sync_reconcile_free(struct sync_reconcile *r); /* accepts NULL */
/* The light list's fields parameter: "fields=[id,state,...]". Static. */
const char *sync_reconcile_fields(void);
/* Keeps the compared values of each item of a light list page. */
void sync_reconcile_add(struct sync_reconcile *r, json_t *items);
/* Compares what was added with the documents stored for [date_from, date_to]. */
enum err_code sync_reconcile_compare(struct sync_reconcile *r, struct db *db, const char *date_from,
                                     const char *date_to, struct sync_reconcile_result *out,
                                     struct err *e) MUST_CHECK;
/* What the warehouse holds of one listed document (sync_reconcile_unchanged). */
struct sync_stored_doc {
    int64_t id;
    bool same;       /* stored, with a header equal to the listed one */
    long long lines; /* lines stored */
    long long refs;  /* references stored */
};

/*
 * For docs[0..n) (ids set) added whole, a documents page's items: whether
 * each is stored with the same header, compared as the reconcile compares,
 * and how many lines and references it has stored.
 */
enum err_code sync_reconcile_unchanged(struct sync_reconcile *r, struct db *db,
                                       struct sync_stored_doc *docs, size_t n,
                                       struct err *e) MUST_CHECK;
void sync_reconcile_result_release(struct sync_reconcile_result *res);

#endif

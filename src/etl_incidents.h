/*
 * Incidents of earlier runs: read when a run starts, matched against what
 * each batch writes, resolved in the batch's transaction.
 */
#ifndef PETL_ETL_INCIDENTS_H
#define PETL_ETL_INCIDENTS_H

#include "common.h"
#include "db.h"
#include "err.h"
#include "etl_batch.h"

#include <pthread.h>

/*
 * The kind of record a Bsale path names: its non-numeric segments without
 * ".json" ("/documents/12/details.json" -> "documents/details"). Same kind and
 * id = same record, whichever path read it.
 */
void etl_resource_kind(const char *path, char *out, size_t n);
/* The document a path or incident is about (the id after "/documents/"), or -1. */
int64_t etl_incident_document(const char *resource, int64_t resource_id);

/*
 * Open incidents of earlier runs, read when a run starts. A batch that writes
 * one of their records (same kind and id) without a new incident for it marks
 * them resolved in its transaction.
 */
struct etl_open_ref {
    int table; /* catalog index of the record's kind */
    int64_t id;
    long long incident_id;
    bool resolved;
    /* An incident without an id under a document's path ("/documents/12/details.json"):
     * keyed by that document, resolved when it is written again without such an incident. */
    const char *keyless_resource; /* borrowed from v[], NULL for ordinary refs */
};
struct etl_open_incidents {
    struct db_incident *v; /* as read (owned) */
    size_t n;
    struct etl_open_ref *refs; /* sorted by (table, id): those a write can resolve (owned) */
    size_t n_refs;
    pthread_mutex_t mu; /* refs[].resolved, set by writers */
};
enum err_code etl_open_incidents_load(struct db *db, struct etl_open_incidents *o,
                                      struct err *e) MUST_CHECK;
void etl_open_incidents_release(struct etl_open_incidents *o);
/* Incident ids of open refs that batch b resolves (*ids owned, may be NULL when *n == 0). */
void etl_open_incidents_match(struct etl_open_incidents *o, const struct etl_batch *b,
                              long long **ids, size_t *n);
/* Marks ids resolved in memory once their transaction committed. */
void etl_open_incidents_mark(struct etl_open_incidents *o, const long long *ids, size_t n);

#endif

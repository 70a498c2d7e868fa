/*
 * What a daily sync need not read again of a listed document whose header
 * equals the stored one: its lines, when as many are stored as it counts,
 * and its references, when it has some stored (docs/reliability.md, A daily
 * sync reads only what changed).
 */
#ifndef PETL_SYNC_LINES_H
#define PETL_SYNC_LINES_H

#include "common.h"
#include "err.h"
#include "db.h"
#include "id_set.h"

#include <jansson.h>

/* Documents of one page stored complete already, by id. */
struct sync_stored {
    struct id_set lines; /* cut lines: every counted line is stored */
    struct id_set refs;  /* references are stored */
};

/* Fills out for docs, a documents page's items, against the warehouse db. */
enum err_code sync_lines_stored(struct db *db, json_t *docs, struct sync_stored *out,
                                struct err *e) MUST_CHECK;
void sync_stored_release(struct sync_stored *s);

#endif

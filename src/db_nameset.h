/* A small set of schema names (columns, indexes) the backends read back. */
#ifndef PETL_DB_NAMESET_H
#define PETL_DB_NAMESET_H

#include "common.h"

#include <stddef.h>

/* Names read back from the schema (columns, indexes), for upgrades. */
struct db_nameset {
    char names[96][80];
    size_t n;
};

/* A db_row_fn that adds each row's first cell to the db_nameset ctx. */
int db_nameset_collect(void *ctx, int ncols, const char *const *names, const char *const *cells);
/* Case-insensitive: MySQL may report names in another case. */
bool db_nameset_has(const struct db_nameset *ns, const char *name);

#endif

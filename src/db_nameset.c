/* Names read back from a schema, collected by the backends for upgrades. */
#include "common.h"

#include "db_nameset.h"

#include <stdio.h>
#include <strings.h>

int db_nameset_collect(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    (void)names;
    struct db_nameset *ns = ctx;
    if (ncols >= 1 && cells[0] && ns->n < ARRAY_LEN(ns->names))
        snprintf(ns->names[ns->n++], sizeof(ns->names[0]), "%s", cells[0]);
    return 0;
}

bool db_nameset_has(const struct db_nameset *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcasecmp(ns->names[i], name) == 0)
            return true;
    return false;
}

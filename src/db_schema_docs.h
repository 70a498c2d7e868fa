/* docs/schema.md's generated part: every table and column of the catalog, Spanish then English. */
#ifndef PETL_DB_SCHEMA_DOCS_H
#define PETL_DB_SCHEMA_DOCS_H

#include "common.h"

#include <stdio.h>

/* Writes the tables section of docs/schema.md (markdown) to out. */
void db_schema_write_docs(FILE *out);

#endif

/*
 * The service's self-description: the OpenAPI 3.1 document of every route and
 * the /docs page that renders it in the browser without any external asset.
 * Knows the HTTP contract, nothing of how routes are served.
 */
#ifndef PETL_HTTP_OPENAPI_H
#define PETL_HTTP_OPENAPI_H

#include "common.h"

#include <jansson.h>

/* The OpenAPI 3.1 document. Owned (json_decref). */
json_t *openapi_document(void);

/* The self-contained HTML page behind GET /docs. Borrowed, static. */
const char *openapi_docs_html(void);

#endif

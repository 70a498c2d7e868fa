/* The route table and the dispatcher (auth, 404, 405 + Allow included). */
#ifndef PETL_HTTP_ROUTES_H
#define PETL_HTTP_ROUTES_H

#include "common.h"
#include "http_request.h"

#include <microhttpd.h>

/* The route table, for documentation checks. Borrowed, static. */
struct http_route_info {
    const char *method; /* "GET", "POST" */
    const char *path;   /* OpenAPI template, e.g. "/etl/runs/{run_id}" */
};

enum MHD_Result http_dispatch(struct http_ctx *c);
/* Every route's method, path and auth, for the OpenAPI document and tests. */
const struct http_route_info *http_routes_info(size_t *n);

#endif

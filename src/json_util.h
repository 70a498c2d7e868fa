/*
 * Typed jansson helpers tolerant of Bsale's quirks (ids and numbers as strings).
 * Returned json_t pointers are borrowed from the root passed in.
 */
#ifndef PETL_JSON_UTIL_H
#define PETL_JSON_UTIL_H

#include "common.h"
#include "err.h"

#include <jansson.h>

/* Parses data (len bytes) rejecting duplicate keys. *out is owned (json_decref). */
enum err_code json_util_load(const char *data, size_t len, json_t **out, struct err *e) MUST_CHECK;

/* Member at a dotted path ("office.id"); NULL when any step is missing. Borrowed. */
json_t *json_util_path(json_t *root, const char *path);

/* Integer from a JSON integer, an integral real, or a numeric string ("12", "12.0"). */
bool json_util_int64(json_t *v, int64_t *out);

#endif

/*
 * The one secret masker: the logger, run errors stored in the database and
 * HTTP responses all pass their text through secret_mask(). A registered
 * secret is found raw, JSON-escaped, percent-encoded (either hex case, '+'
 * for space, also double-encoded) or in any mix of these, and as base64 of
 * itself at any alignment (so inside base64 of "user:pass" too). Thread-safe.
 */
#ifndef PETL_SECRET_MASK_H
#define PETL_SECRET_MASK_H

#include "common.h"

#define SECRET_MASK_TEXT "[REDACTED]"
#define SECRET_MASK_MIN_LEN 4

/* Registers s (ignored when shorter than SECRET_MASK_MIN_LEN or already known). */
void secret_mask_add(const char *s);
/* Registers the base64 of "user:pass" as sent in a Basic Authorization header. */
void secret_mask_add_basic(const char *user, const char *pass);
void secret_mask_clear(void);

/* Masks every registered secret in s, in place (the text never grows); returns the count. */
size_t secret_mask(char *s);
/* The same, plus secret (may be NULL) in its raw, JSON and percent spellings, registered or not. */
size_t secret_mask_with(char *s, const char *secret);
/* A masked copy of s[0..len) (owned, NUL-terminated). */
char *secret_mask_dup(const char *s, size_t len);

/* Base64 (RFC 4648, with padding) of data[0..n); owned. */
char *secret_base64(const unsigned char *data, size_t n);

#endif

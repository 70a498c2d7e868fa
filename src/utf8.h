/* The one UTF-8 decoder, and what the code needs of it: validate, repair, count, cut. */
#ifndef PETL_UTF8_H
#define PETL_UTF8_H

#include "common.h"

#include <stddef.h>

/* Length of the well-formed sequence at s (at most n bytes), 0 when malformed or cut short. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool utf8_valid(const char *s, size_t n);
/* Replaces each byte that does not start a well-formed sequence with '?', in place. */
void utf8_sanitize(char *s);
/* Characters in a NUL-terminated string (continuation bytes not counted). */
size_t utf8_chars(const char *s);
/* The longest prefix of s[0..len) of at most max_bytes that does not split a character. */
size_t utf8_cut(const char *s, size_t len, size_t max_bytes);
/* Drops an incomplete sequence at the end of s (left by a byte-counted cut), in place. */
void utf8_trim_partial(char *s);

#endif

/*
 * First include of every source file: feature macros, attributes and the
 * allocation helpers that abort on out-of-memory (input-sized data has caps).
 */
#ifndef PETL_COMMON_H
#define PETL_COMMON_H

/* System headers come before banned.h so its macros never rewrite their declarations. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))
#define MUST_CHECK __attribute__((warn_unused_result))
#define UNUSED __attribute__((unused))
#define NORETURN __attribute__((noreturn))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PRINTF_FMT(1, 2);

#include "banned.h"

#endif

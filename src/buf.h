/*
 * Growable byte buffer with a hard cap, always NUL-terminated.
 * Not thread-safe; one owner at a time. Appends fail only past the cap, so
 * uncapped buffers may ignore their results.
 */
#ifndef PETL_BUF_H
#define PETL_BUF_H

#include "common.h"
#include "err.h"

struct buf {
    char *data; /* owned; "" when empty, never NULL after buf_init */
    size_t len;
    size_t alloc;
    size_t cap; /* appends past cap fail with ERR_LIMIT; 0 = no cap */
};

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b); /* keeps memory, len = 0 */

enum err_code buf_append(struct buf *b, const void *p, size_t n, struct err *e);
enum err_code buf_appendf(struct buf *b, struct err *e, const char *fmt, ...) PRINTF_FMT(3, 4);
;
enum err_code buf_append_str(struct buf *b, const char *s, struct err *e);

/* Gives the data to the caller (owned, free with free()) and re-inits b. */
char *buf_detach(struct buf *b, size_t *len);

#endif

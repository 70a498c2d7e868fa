/* Growable byte buffer; callers decide caps, this file enforces them. */
#include "common.h"

#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char buf_empty[1];

void buf_init(struct buf *b, size_t cap)
{
    b->data = buf_empty;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void buf_release(struct buf *b)
{
    if (!b)
        return;
    if (b->alloc)
        free(b->data);
    buf_init(b, b->cap);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->alloc)
        b->data[0] = '\0';
}

static enum err_code buf_grow(struct buf *b, size_t extra, struct err *e)
{
    if (b->cap && (extra > b->cap || b->len > b->cap - extra))
        return err_set(e, ERR_LIMIT, "data exceeds the %zu byte limit", b->cap);
    size_t need = b->len + extra + 1;
    if (need <= b->alloc)
        return ERR_OK;
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
        n *= 2;
    if (b->alloc) {
        b->data = xrealloc(b->data, n);
    } else {
        b->data = xmalloc(n);
        b->data[0] = '\0';
    }
    b->alloc = n;
    return ERR_OK;
}

enum err_code buf_append(struct buf *b, const void *p, size_t n, struct err *e)
{
    enum err_code rc = buf_grow(b, n, e);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ERR_OK;
}

enum err_code buf_append_str(struct buf *b, const char *s, struct err *e)
{
    return buf_append(b, s, strlen(s), e);
}

enum err_code buf_appendf(struct buf *b, struct err *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err_set(e, ERR_INTERNAL, "bad format string");
    enum err_code rc = buf_grow(b, (size_t)n, e);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return ERR_OK;
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->alloc ? b->data : xstrdup("");
    if (len)
        *len = b->len;
    buf_init(b, b->cap);
    return p;
}

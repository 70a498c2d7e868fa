/* Error records: formatting only, no policy. */
#include "common.h"

#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

enum err_code err_prefix(struct err *e, const char *fmt, ...)
{
    if (!e)
        return ERR_INTERNAL;
    char prefix[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    char old[ERR_MSG_MAX];
    memcpy(old, e->msg, sizeof(old));
    size_t k = strlen(prefix);
    if (k > sizeof(e->msg) - 3)
        k = sizeof(e->msg) - 3;
    memcpy(e->msg, prefix, k);
    memcpy(e->msg + k, ": ", 2);
    size_t room = sizeof(e->msg) - k - 3;
    size_t n = strnlen(old, room);
    memcpy(e->msg + k + 2, old, n);
    e->msg[k + 2 + n] = '\0';
    return e->code;
}

const char *err_str(enum err_code code)
{
    static const char *const names[] = {
        "ERR_OK",        "ERR_USAGE", "ERR_CONFIG",   "ERR_INVALID",
        "ERR_IO",        "ERR_JSON",  "ERR_HTTP",     "ERR_BSALE_AUTH",
        "ERR_BSALE",     "ERR_DB",    "ERR_BUSY",     "ERR_INTERRUPTED",
        "ERR_NOT_FOUND", "ERR_LIMIT", "ERR_INTERNAL", "ERR_SCHEMA",
    };
    if ((size_t)code < ARRAY_LEN(names))
        return names[code];
    return "ERR_UNKNOWN";
}

void err_clear(struct err *e)
{
    if (!e)
        return;
    e->code = ERR_OK;
    e->msg[0] = '\0';
}

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

#define ERR_NAME_ENTRY(name, value, meaning) [value] = #name,
static const char *const err_names[] = {ERR_CODES(ERR_NAME_ENTRY)};
#undef ERR_NAME_ENTRY

const char *err_str(enum err_code code)
{
    if ((size_t)code < ARRAY_LEN(err_names) && err_names[code])
        return err_names[code];
    return "ERR_UNKNOWN";
}

enum err_code err_from_str(const char *name, enum err_code fallback)
{
    for (size_t i = 0; name && i < ARRAY_LEN(err_names); i++)
        if (err_names[i] && strcmp(err_names[i], name) == 0)
            return (enum err_code)i;
    return fallback;
}

void err_clear(struct err *e)
{
    if (!e)
        return;
    e->code = ERR_OK;
    e->msg[0] = '\0';
}

/* Fuzz target: the .env parser. Checks the invariants every accepted file must keep. */
#include "common.h"

#include "dotenv.h"
#include "utf8.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static void check_entries(const struct dotenv *d)
{
    if (d->n > DOTENV_ENTRIES_MAX)
        abort();
    for (size_t i = 0; i < d->n; i++) {
        const char *k = d->v[i].key;
        const char *v = d->v[i].value;
        if (!*k || strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
                       strlen(k))
            abort();
        if (strlen(v) > DOTENV_LINE_MAX || !utf8_valid(v, strlen(v)))
            abort();
        if (d->v[i].line == 0)
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->v[j].key, k) == 0) /* duplicates collapse: last wins */
                abort();
        if (dotenv_get(d, k) != v)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dotenv d = {0};
    struct err e = ERR_INIT;
    dotenv_init(&d);
    enum err_code rc = dotenv_parse((const char *)data, size, "fuzz.env", &d, &e);
    if (rc == ERR_OK)
        check_entries(&d);
    else if ((rc != ERR_CONFIG && rc != ERR_LIMIT) || d.n != 0 || !e.msg[0])
        abort();
    dotenv_release(&d);
    return 0;
}

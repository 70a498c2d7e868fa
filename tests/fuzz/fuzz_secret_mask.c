/*
 * Fuzz target: the secret masker over arbitrary text. Masking never grows the
 * text, and what it leaves holds the secret in none of its plain spellings.
 */
#include "common.h"

#include "fuzz.h"
#include "secret_mask.h"

#include <stdlib.h>
#include <string.h>

#define SECRET "s3cr3t/T0k+en%x"

static const char *const spellings[] = {SECRET, "s3cr3t%2FT0k%2Ben%25x", "s3cr3t%2fT0k%2ben%25x",
                                        "s3cr3t\\/T0k+en%x", "czNjcjN0L1QwaytlbiV4"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool registered;
    if (!registered) {
        secret_mask_add(SECRET);
        registered = true;
    }
    char *text = xstrndup((const char *)data, size);
    size_t before = strlen(text);
    secret_mask(text);
    if (strlen(text) > before)
        abort();
    for (size_t i = 0; i < ARRAY_LEN(spellings); i++)
        if (strstr(text, spellings[i]))
            abort();
    free(text);
    return 0;
}

/* Prints the service's OpenAPI document, for linters: openapi_dump > openapi.json */
#include "common.h"

#include "http_openapi.h"

#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    json_t *doc = openapi_document();
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    json_decref(doc);
    if (!text) {
        fprintf(stderr, "openapi_dump: cannot render the document\n");
        return 1;
    }
    puts(text);
    free(text);
    return 0;
}

/*
 * Fuzz target: a Bsale page -> rows and incidents (json_util_load, transform,
 * catalog). The first byte picks the table (documents go through
 * transform_document); the rest is the page: {"items": [...]} or a bare array.
 * Whatever the page holds, mapping never fails, every kept row has its key,
 * text fits its column as valid UTF-8 without NUL, and incidents stay short.
 */
#include "common.h"

#include "catalog.h"
#include "etl_batch.h"
#include "fuzz.h"
#include "json_util.h"
#include "utf8.h"
#include "transform.h"

#include <stdlib.h>
#include <string.h>

static bool valid_utf8(const char *s, size_t len)
{
    char *copy = xstrndup(s, len);
    utf8_sanitize(copy);
    bool same = memcmp(copy, s, len) == 0;
    free(copy);
    return same;
}

static size_t chars_in(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static void check_cell(const struct cat_column *c, const struct cat_value *v)
{
    if ((c->flags & CAT_KEY) && v->kind != CAT_V_INT)
        abort();
    if (v->kind != CAT_V_TEXT)
        return;
    if (strlen(v->s) != v->len || !valid_utf8(v->s, v->len))
        abort();
    if (c->type == CAT_TEXT && chars_in(v->s, v->len) > 255)
        abort();
    if (c->type == CAT_LONGTEXT && v->len > 65535)
        abort();
    if (c->type == CAT_DATE && v->len != 10)
        abort();
    if (c->type == CAT_DECIMAL && v->s[strspn(v->s, "-0123456789.")] != '\0')
        abort();
}

static void check_batch(const struct etl_batch *b)
{
    size_t rows = 0;
    for (size_t t = 0; t < ETL_MAX_TABLES; t++) {
        const struct cat_rows *r = &b->rows[t];
        for (size_t i = 0; r->table && i < r->n; i++)
            for (size_t c = 0; c < r->table->ncols; c++)
                check_cell(&r->table->cols[c], cat_rows_cell(r, i, c));
        rows += r->n;
    }
    if (rows != b->n_rows)
        abort();
    for (size_t i = 0; i < b->n_incidents; i++) {
        const struct etl_incident *in = &b->incidents[i];
        size_t len = strlen(in->problem);
        if (in->resource[0] != '/' || len == 0 || len > 400 || !valid_utf8(in->problem, len))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n;
    catalog_tables(&n);
    int ti = (int)(data[0] % n);
    if (catalog_tables(&n)[ti]->source.fetch == CAT_FETCH_DERIVED)
        return 0; /* written from other tables by the store, never mapped from Bsale JSON */
    json_t *page = NULL;
    struct err e = ERR_INIT;
    if (json_util_load((const char *)data + 1, size - 1, &page, &e) != ERR_OK)
        return 0;
    json_t *items = json_is_array(page) ? page : json_object_get(page, "items");
    struct etl_batch *b = etl_batch_new();
    if (ti == etl_table_index("documentos_venta")) {
        size_t i;
        json_t *doc;
        json_array_foreach (items, i, doc) {
            if (transform_document(b, doc, NULL, &e) != ERR_OK)
                abort();
        }
    } else if (transform_page(b, ti, items, data[0], &e) != ERR_OK) {
        abort();
    }
    check_batch(b);
    etl_batch_free(b);
    json_decref(page);
    return 0;
}

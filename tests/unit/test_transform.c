/* Record splitting: complete vs truncated lines, embedded children, repeated lines. */
#include "common.h"

#include "json_util.h"
#include "etl_incidents.h"
#include "transform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *parse(const char *text)
{
    json_t *root = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(json_util_load(text, strlen(text), &root, &e), ERR_OK);
    return root;
}

#define LINE_JSON                                                                                  \
    "{\"id\":%d,\"lineNumber\":%d,\"quantity\":2.0,\"netUnitValue\":2500.0,"                       \
    "\"totalUnitValue\":2975.0,\"netAmount\":5000.0,\"taxAmount\":950.0,"                          \
    "\"totalAmount\":5950.0,\"netDiscount\":0.0,\"totalDiscount\":0.0,"                            \
    "\"variant\":{\"href\":\"x\",\"id\":2373},\"note\":\"\"}"

/* A document with `have` embedded lines out of `count`, and its per-type payment totals embedded.
 */
static json_t *make_doc(int id, int have, int count)
{
    char *lines = xstrdup("");
    for (int i = 0; i < have; i++) {
        char one[512];
        snprintf(one, sizeof(one), LINE_JSON, id * 100 + i, i);
        char *next = xasprintf("%s%s%s", lines, i ? "," : "", one);
        free(lines);
        lines = next;
    }
    char *text = xasprintf(
        "{\"id\":%d,\"emissionDate\":1707955200,\"generationDate\":1707999013,\"number\":"
        "48120,"
        "\"totalAmount\":11900.0,\"netAmount\":10000.0,\"taxAmount\":1900.0,\"exemptAmount\":"
        "0.0,"
        "\"state\":0,\"informedSii\":0,\"token\":\"9f1c\",\"urlPdf\":\"u\","
        "\"document_type\":{\"href\":\"h\",\"id\":\"1\"},\"office\":{\"href\":\"h\",\"id\":"
        "\"2\"},"
        "\"user\":{\"href\":\"h\",\"id\":\"4\"},"
        "\"details\":{\"href\":\"h\",\"count\":%d,\"limit\":25,\"offset\":0,\"items\":[%s]},"
        "\"payments\":{\"href\":\"h\",\"count\":1,\"limit\":25,\"offset\":0,\"items\":[{"
        "\"href\":\"https://api.bsale.io/v1/payment_types/3.json\",\"id\":3,"
        "\"name\":\"EFECTIVO\",\"amount\":\"11900.0\"}]}}",
        id, count, lines);
    json_t *doc = parse(text);
    free(text);
    free(lines);
    return doc;
}

static void test_complete_document(void **state)
{
    (void)state;
    json_t *doc = make_doc(90211, 2, 2);
    int64_t count;
    assert_true(transform_lines_complete(doc, &count));
    assert_int_equal(count, 2);
    assert_true(transform_payments_complete(doc));
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    assert_int_equal(transform_document(b, doc, NULL, &e), ERR_OK);
    assert_int_equal(b->rows[etl_table_index("documentos_venta")].n, 1);
    assert_int_equal(b->rows[etl_table_index("detalles_venta")].n, 2);
    /* A document's `payments` are per-type totals: never payment records. */
    assert_int_equal(b->rows[etl_table_index("pagos")].n, 0);
    int ti = etl_table_index("pagos_por_tipo_documento");
    const struct cat_rows *tot = &b->rows[ti];
    assert_int_equal(tot->n, 1);
    const struct cat_value *v =
        cat_rows_cell(tot, 0, (size_t)catalog_column_index(tot->table, "id_documento"));
    assert_int_equal(v->kind, CAT_V_INT);
    assert_int_equal(v->i, 90211);
    v = cat_rows_cell(tot, 0, (size_t)catalog_column_index(tot->table, "id_forma_pago"));
    assert_int_equal(v->i, 3);
    v = cat_rows_cell(tot, 0, (size_t)catalog_column_index(tot->table, "monto"));
    assert_string_equal(v->s, "11900");
    assert_int_equal(b->n_docs, 1);
    assert_int_equal(b->doc_ids[0], 90211);
    assert_int_equal(b->n_rows, 4);
    /* Complete embedded totals replace the document's; its lines are replaced too. */
    bool totals = false, lines = false;
    for (size_t i = 0; i < b->n_replaced; i++) {
        totals |= b->replaced[i].table == ti && b->replaced[i].parent == 90211;
        lines |= b->replaced[i].table == etl_table_index("detalles_venta") &&
                 b->replaced[i].parent == 90211;
    }
    assert_true(totals);
    assert_true(lines);
    etl_batch_free(b);
    json_decref(doc);
}

static void test_truncated_lines_are_detected(void **state)
{
    (void)state;
    json_t *doc = make_doc(90212, 25, 31);
    int64_t count;
    assert_false(transform_lines_complete(doc, &count));
    assert_int_equal(count, 31);
    json_decref(doc);

    json_t *link_only = parse("{\"id\":5,\"details\":{\"href\":\"h\"}}");
    assert_false(transform_lines_complete(link_only, &count));
    assert_int_equal(count, -1);
    json_decref(link_only);

    json_t *no_lines = parse("{\"id\":6,\"details\":{\"count\":0,\"items\":[]}}");
    assert_true(transform_lines_complete(no_lines, &count));
    json_decref(no_lines);
}

static void test_external_lines_replace_embedded_and_skip_repeats(void **state)
{
    (void)state;
    json_t *doc = make_doc(90213, 25, 27);
    json_t *lines = json_array();
    for (int i = 0; i < 27; i++) {
        char one[512];
        snprintf(one, sizeof(one), LINE_JSON, 90213 * 100 + i, i);
        json_array_append_new(lines, parse(one));
    }
    char again[512];
    snprintf(again, sizeof(again), LINE_JSON, 90213 * 100 + 3, 3);
    json_array_append_new(lines, parse(again)); /* repeated across pages */
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    assert_int_equal(transform_document(b, doc, lines, &e), ERR_OK);
    assert_int_equal(b->rows[etl_table_index("detalles_venta")].n, 27);
    etl_batch_free(b);
    json_decref(lines);
    json_decref(doc);
}

static void test_truncated_payments(void **state)
{
    (void)state;
    json_t *doc = parse("{\"id\":7,\"payments\":{\"count\":30,\"items\":[]}}");
    assert_false(transform_payments_complete(doc));
    json_decref(doc);
    doc = parse("{\"id\":8,\"payments\":{\"href\":\"h\"}}");
    assert_true(transform_payments_complete(doc));
    json_decref(doc);
}

/* A document whose id is unusable is skipped with an incident: never a failed run. */
/* Whether b replaces parent's children in table. */
static bool replaces(const struct etl_batch *b, const char *table, int64_t parent)
{
    int ti = etl_table_index(table);
    for (size_t i = 0; i < b->n_replaced; i++)
        if (b->replaced[i].table == ti && b->replaced[i].parent == parent)
            return true;
    return false;
}

/* A credit payment's documents[] become pagos_documentos rows that replace the payment's. */
static void test_payment_documents(void **state)
{
    (void)state;
    json_t *page = parse("[{\"id\":78,\"amount\":\"15000.0\",\"isCreditPayment\":1,"
                         "\"recordDate\":\"\",\"documents\":[{\"href\":\"h\",\"id\":\"90012\","
                         "\"amount\":12000.0},{\"href\":\"h\",\"id\":\"90013\",\"amount\":3000}]},"
                         "{\"id\":79,\"amount\":500,\"document\":{\"id\":90012}}]");
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    assert_int_equal(transform_page(b, etl_table_index("pagos"), page, 0, &e), ERR_OK);
    const struct cat_rows *pay = etl_batch_rows(b, etl_table_index("pagos"));
    const struct cat_rows *pd = etl_batch_rows(b, etl_table_index("pagos_documentos"));
    assert_int_equal(pay->n, 2);
    assert_int_equal(pd->n, 2);
    int ip = catalog_column_index(pd->table, "id_pago");
    int id = catalog_column_index(pd->table, "id_documento");
    assert_int_equal(cat_rows_cell(pd, 0, (size_t)ip)->i, 78);
    assert_int_equal(cat_rows_cell(pd, 1, (size_t)id)->i, 90013);
    assert_true(replaces(b, "pagos_documentos", 78));
    assert_false(replaces(b, "pagos_documentos", 79)); /* no documents[]: nothing to replace */
    assert_int_equal(b->n_rows, 4);
    etl_batch_free(b);
    json_decref(page);
}

/*
 * Children as links map nothing and replace nothing; cut per-type totals are
 * left out (nothing reads the rest), cut references are kept (the plan
 * reads the rest through the link) but replace nothing.
 */
static void test_linked_and_cut_children(void **state)
{
    (void)state;
    json_t *doc = parse("{\"id\":5,\"details\":[],\"payments\":{\"href\":\"h\"},"
                        "\"references\":{\"href\":\"h\"}}");
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    assert_int_equal(transform_document(b, doc, NULL, &e), ERR_OK);
    json_decref(doc);
    assert_int_equal(b->n_rows, 1);
    assert_false(replaces(b, "pagos_por_tipo_documento", 5));
    assert_false(replaces(b, "referencias_documento", 5));
    assert_true(replaces(b, "detalles_venta", 5));
    doc = parse("{\"id\":6,\"details\":[],"
                "\"payments\":{\"count\":30,\"items\":[{\"id\":1,\"amount\":5}]},"
                "\"references\":{\"count\":30,\"items\":[{\"id\":4,\"number\":\"9\"}]}}");
    assert_int_equal(transform_document(b, doc, NULL, &e), ERR_OK);
    json_decref(doc);
    assert_int_equal(etl_batch_rows(b, etl_table_index("pagos_por_tipo_documento"))->n, 0);
    assert_int_equal(etl_batch_rows(b, etl_table_index("referencias_documento"))->n, 1);
    assert_false(replaces(b, "pagos_por_tipo_documento", 6));
    assert_false(replaces(b, "referencias_documento", 6));
    /* The references read through the link: mapped under their document, and replacing. */
    json_t *refs = parse("[{\"id\":4,\"number\":\"9\"},{\"id\":8,\"number\":\"10\"}]");
    int ti = etl_table_index("referencias_documento");
    transform_children(b, ti, refs, 6);
    json_decref(refs);
    const struct cat_rows *r = etl_batch_rows(b, ti);
    assert_int_equal(r->n, 3);
    assert_int_equal(cat_rows_cell(r, 2, (size_t)catalog_column_index(r->table, "id_documento"))->i,
                     6);
    assert_true(replaces(b, "referencias_documento", 6));
    assert_int_equal(b->n_rows, 5);
    etl_batch_free(b);
}

static void test_document_without_id_is_skipped(void **state)
{
    (void)state;
    static const char *const docs[] = {"{\"number\":1}",
                                       "{\"id\":3.5}",
                                       "{\"id\":\"2abc\"}",
                                       "{\"id\":1e308}",
                                       "{\"id\":9223372036854775809}",
                                       "[]"};
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
        json_t *doc = parse(docs[i]);
        assert_int_equal(transform_document(b, doc, NULL, &e), ERR_OK);
        json_decref(doc);
    }
    assert_int_equal(b->n_docs, 0);
    assert_int_equal(b->n_rows, 0);
    assert_int_equal(b->n_incidents, ARRAY_LEN(docs));
    for (size_t i = 0; i < b->n_incidents; i++) {
        assert_string_equal(b->incidents[i].resource, "/documents.json");
        assert_int_equal(b->incidents[i].resource_id, ETL_NO_ID);
        assert_non_null(strstr(b->incidents[i].problem, "documentos_venta"));
        assert_non_null(strstr(b->incidents[i].problem, "skipped"));
    }
    assert_non_null(strstr(b->incidents[0].problem, "missing"));
    assert_non_null(strstr(b->incidents[1].problem, "not a valid id"));
    etl_batch_free(b);
}

/* Values that do not fit become incidents under each record's own Bsale path. */
static void test_document_values_become_incidents(void **state)
{
    (void)state;
    json_t *doc = make_doc(90211, 3, 3);
    json_object_set_new(doc, "emissionDate", json_string("2024-02-15"));
    json_object_set_new(doc, "totalAmount", json_real(1e308));
    json_t *lines = json_object_get(json_object_get(doc, "details"), "items");
    json_object_set_new(json_array_get(lines, 1), "quantity", json_true());
    json_object_set_new(json_array_get(lines, 2), "id", json_real(3.5));
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    assert_int_equal(transform_document(b, doc, NULL, &e), ERR_OK);
    assert_int_equal(b->n_docs, 1);
    const struct cat_rows *docs = etl_batch_rows(b, etl_table_index("documentos_venta"));
    const struct cat_rows *rows = etl_batch_rows(b, etl_table_index("detalles_venta"));
    assert_int_equal(docs->n, 1);
    assert_int_equal(rows->n, 2); /* the line without a usable id is skipped */
    int fe = catalog_column_index(docs->table, "fecha_emision");
    assert_string_equal(cat_rows_cell(docs, 0, (size_t)fe)->s, "2024-02-15");
    assert_int_equal(b->n_incidents, 4);
    assert_string_equal(b->incidents[0].resource, "/documents.json");
    assert_int_equal(b->incidents[0].resource_id, 90211);
    assert_non_null(strstr(b->incidents[0].problem, "documentos_venta.fecha_emision"));
    assert_non_null(strstr(b->incidents[1].problem, "documentos_venta.monto_total"));
    assert_string_equal(b->incidents[2].resource, "/documents/90211/details.json");
    assert_int_equal(b->incidents[2].resource_id, 9021101);
    assert_non_null(strstr(b->incidents[2].problem, "detalles_venta.cantidad (quantity): true"));
    assert_string_equal(b->incidents[3].resource, "/documents/90211/details.json");
    assert_int_equal(b->incidents[3].resource_id, ETL_NO_ID);
    assert_non_null(strstr(b->incidents[3].problem, "record skipped"));
    /* The next run re-reads the document these incidents are about. */
    for (size_t i = 0; i < b->n_incidents; i++)
        assert_int_equal(
            etl_incident_document(b->incidents[i].resource, b->incidents[i].resource_id), 90211);
    etl_batch_free(b);
    json_decref(doc);
}

/* A page keeps its good records around a bad one. */
static void test_page_skips_only_the_bad_record(void **state)
{
    (void)state;
    json_t *items = parse("[{\"id\":1,\"firstName\":\"a\"},{\"id\":\"2abc\"},"
                          "{\"id\":3,\"points\":1e308},{\"id\":4}]");
    struct etl_batch *b = etl_batch_new();
    struct err e = ERR_INIT;
    assert_int_equal(transform_page(b, etl_table_index("clientes"), items, 0, &e), ERR_OK);
    assert_int_equal(b->n_rows, 3);
    assert_int_equal(b->n_incidents, 2);
    assert_string_equal(b->incidents[0].resource, "/clients.json");
    assert_int_equal(b->incidents[0].resource_id, ETL_NO_ID);
    assert_int_equal(b->incidents[1].resource_id, 3);
    assert_non_null(strstr(b->incidents[1].problem, "clientes.puntos (points): real 1e+308"));
    json_decref(items);
    items = parse("[{\"id\":7,\"variant\":{\"id\":\"x\"}}]");
    assert_int_equal(transform_page(b, etl_table_index("precios"), items, 5, &e), ERR_OK);
    assert_string_equal(b->incidents[2].resource, "/price_lists/5/details.json");
    assert_int_equal(b->incidents[2].resource_id, 7);
    json_decref(items);
    etl_batch_free(b);
}

static void assert_kind(const char *path, const char *want)
{
    char kind[64];
    etl_resource_kind(path, kind, sizeof(kind));
    assert_string_equal(kind, want);
}

/* Incidents name records by kind and id, whichever path read them. */
static void test_incident_resource_kinds(void **state)
{
    (void)state;
    assert_kind("/documents/123/details.json", "documents/details");
    assert_kind("/documents.json", "documents");
    assert_kind("/documents/123.json?expand=[details]", "documents");
    assert_kind("/price_lists/5/details.json", "price_lists/details");
    assert_kind("/clients.json", "clients");
    assert_kind("", "");
    assert_int_equal(etl_incident_document("/documents/123/details.json", 9), 123);
    assert_int_equal(etl_incident_document("/documents/77.json", 77), 77);
    assert_int_equal(etl_incident_document("/documents.json", 41), 41);
    assert_int_equal(etl_incident_document("/documents.json", ETL_NO_ID), -1);
    assert_int_equal(etl_incident_document("/clients.json", 41), -1);
    assert_int_equal(etl_incident_document("/document_types.json", 3), -1);
}

static void test_batch_incidents(void **state)
{
    (void)state;
    struct etl_batch *b = etl_batch_new();
    for (int i = 0; i < 20; i++)
        etl_batch_add_incident(b, "/clients.json", i == 3 ? -7 : i, "clientes.puntos: %s",
                               i % 2 ? "real" : "string");
    assert_int_equal(b->n_incidents, 20);
    assert_int_equal(b->incidents[3].resource_id, ETL_NO_ID);
    assert_string_equal(b->incidents[19].problem, "clientes.puntos: real");
    assert_string_equal(b->incidents[0].resource, "/clients.json");
    /* A problem never grows past the column, whatever the format expands to. */
    char huge[2000];
    memset(huge, 'x', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    etl_batch_add_incident(b, "/clients.json", 1, "%s", huge);
    assert_int_equal(strlen(b->incidents[20].problem), DB_INCIDENT_PROBLEM_MAX);
    etl_batch_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_document),
        cmocka_unit_test(test_truncated_lines_are_detected),
        cmocka_unit_test(test_external_lines_replace_embedded_and_skip_repeats),
        cmocka_unit_test(test_truncated_payments),
        cmocka_unit_test(test_payment_documents),
        cmocka_unit_test(test_linked_and_cut_children),
        cmocka_unit_test(test_document_without_id_is_skipped),
        cmocka_unit_test(test_document_values_become_incidents),
        cmocka_unit_test(test_page_skips_only_the_bad_record),
        cmocka_unit_test(test_incident_resource_kinds),
        cmocka_unit_test(test_batch_incidents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

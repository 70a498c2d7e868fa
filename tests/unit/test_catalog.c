/* Catalog: table contract, conversions and JSON item -> row mapping on Bsale's quirks. */
#include "common.h"

#include "catalog.h"
#include "json_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *parse(const char *s)
{
    json_t *root = NULL;
    struct err e = ERR_INIT;
    assert_int_equal(json_util_load(s, strlen(s), &root, &e), ERR_OK);
    return root;
}

/* The cell of column name in row 0 of r. */
static const struct cat_value *cell(const struct cat_rows *r, size_t row, const char *name)
{
    int i = catalog_column_index(r->table, name);
    assert_true(i >= 0);
    return cat_rows_cell(r, row, (size_t)i);
}

static void assert_text(const struct cat_rows *r, size_t row, const char *col, const char *want)
{
    const struct cat_value *v = cell(r, row, col);
    assert_int_equal(v->kind, CAT_V_TEXT);
    assert_string_equal(v->s, want);
    assert_int_equal(v->len, strlen(want));
}

static void assert_int(const struct cat_rows *r, size_t row, const char *col, int64_t want)
{
    const struct cat_value *v = cell(r, row, col);
    assert_int_equal(v->kind, CAT_V_INT);
    assert_true(v->i == want);
}

static void assert_null_cell(const struct cat_rows *r, size_t row, const char *col)
{
    assert_int_equal(cell(r, row, col)->kind, CAT_V_NULL);
}

static void test_tables_follow_schema(void **state)
{
    (void)state;
    static const char *const order[] = {
        "sucursales",
        "tipos_documento",
        "formas_pago",
        "usuarios",
        "tipos_producto",
        "productos",
        "variantes",
        "clientes",
        "listas_precio",
        "precios",
        "stock",
        "documentos_venta",
        "detalles_venta",
        "pagos",
        "pagos_documentos",
        "pagos_por_tipo_documento",
        "referencias_documento",
        "impuestos",
        "impuestos_documento",
        "vendedores_documento",
        "costos_variante",
        "recepciones_stock",
        "detalles_recepcion",
        "consumos_stock",
        "detalles_consumo",
        "devoluciones",
        "detalles_devolucion",
        "stock_historial",
        "precios_historial",
    };
    /* Keyed by two columns: stock, and children keyed by (parent, their item's id). */
    static const char *const two_keys[] = {"stock", "pagos_documentos", "pagos_por_tipo_documento",
                                           "vendedores_documento"};
    /* Keyed by three: the history tables (a day or a validity start, and the stock/price key). */
    static const char *const three_keys[] = {"stock_historial", "precios_historial"};
    size_t n;
    const struct cat_table *const *t = catalog_tables(&n);
    assert_int_equal(n, ARRAY_LEN(order));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(t[i]->name, order[i]);
        assert_ptr_equal(catalog_table(order[i]), t[i]);
        const struct cat_column *last = &t[i]->cols[t[i]->ncols - 1];
        assert_string_equal(last->name, "sincronizado_en");
        assert_int_equal(last->type, CAT_SYNCED_AT);
        assert_true(last->flags & CAT_NOT_NULL);
        size_t keys = 0;
        for (size_t c = 0; c < t[i]->ncols; c++)
            keys += (t[i]->cols[c].flags & CAT_KEY) != 0;
        bool two = false;
        for (size_t k = 0; k < ARRAY_LEN(two_keys); k++)
            two = two || strcmp(order[i], two_keys[k]) == 0;
        bool three = false;
        for (size_t k = 0; k < ARRAY_LEN(three_keys); k++)
            three = three || strcmp(order[i], three_keys[k]) == 0;
        assert_int_equal(keys, three ? 3 : two ? 2 : 1);
    }
    assert_null(catalog_table("etl_ejecuciones"));
    assert_int_equal(catalog_column_index(catalog_table("stock"), "id_sucursal"), 1);
    assert_int_equal(catalog_column_index(catalog_table("stock"), "nope"), -1);
    const struct cat_table *precios = catalog_table("precios");
    assert_non_null(precios->unique);
    assert_string_equal(precios->unique[0], "id_lista_precio");
    assert_string_equal(precios->unique[1], "id_variante");
    assert_null(precios->unique[2]);
    int di = catalog_column_index(catalog_table("detalles_venta"), "id_documento");
    assert_true(catalog_table("detalles_venta")->cols[di].flags & CAT_INDEX);
    int fi = catalog_column_index(catalog_table("documentos_venta"), "fecha_emision");
    assert_true(catalog_table("documentos_venta")->cols[fi].flags & CAT_INDEX);
}

/* Code outside the catalog finds tables by role: each role has exactly one table. */
static void test_tables_by_role(void **state)
{
    (void)state;
    for (int r = CAT_ROLE_NONE + 1; r < CAT_ROLE_COUNT; r++) {
        const struct cat_table *t = catalog_by_role((enum cat_role)r);
        assert_non_null(t);
        assert_int_equal(t->role, r);
    }
    assert_null(catalog_by_role(CAT_ROLE_NONE));
    assert_ptr_equal(catalog_by_role(CAT_ROLE_DOCUMENTS), catalog_table("documentos_venta"));
    assert_ptr_equal(catalog_by_role(CAT_ROLE_LINES), catalog_table("detalles_venta"));
    assert_string_equal(catalog_by_role(CAT_ROLE_RUNS)->name, "etl_ejecuciones");
    assert_string_equal(catalog_by_role(CAT_ROLE_INCIDENTS)->name, "etl_incidencias");
    size_t n;
    const struct cat_table *const *t = catalog_tables(&n);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(catalog_by_role(t[i]->role), t[i]);
}

static void check_decimal(const char *json, const char *want)
{
    json_t *root = parse(json);
    char out[64];
    bool ok = cat_convert_decimal(json_array_get(root, 0), out, sizeof(out));
    if (want) {
        assert_true(ok);
        assert_string_equal(out, want);
    } else {
        assert_false(ok);
    }
    json_decref(root);
}

static void test_decimal_conversion(void **state)
{
    (void)state;
    check_decimal("[12990.0]", "12990");
    check_decimal("[840.3361]", "840.3361");
    check_decimal("[\"68643.0\"]", "68643");
    check_decimal("[\"840.3361\"]", "840.3361");
    check_decimal("[60.36]", "60.36");
    check_decimal("[2.8]", "2.8");
    check_decimal("[0.1]", "0.1");
    check_decimal("[14280]", "14280");
    check_decimal("[-1500.5]", "-1500.5");
    check_decimal("[\"-0.0\"]", "0");
    check_decimal("[-0.0]", "0");
    check_decimal("[\"007.50\"]", "7.5");
    check_decimal("[\".5\"]", "0.5");
    check_decimal("[0.00004]", "0");
    check_decimal("[1.23456]", "1.2346");
    check_decimal("[\"1.23456\"]", "1.2346");
    check_decimal("[\"1e3\"]", "1000");
    check_decimal("[123456789.1234]", "123456789.1234");
    check_decimal("[\"99999999999999.9999\"]", "99999999999999.9999");
    check_decimal("[\"\"]", NULL);
    check_decimal("[null]", NULL);
    check_decimal("[\"abc\"]", NULL);
    check_decimal("[\"12abc\"]", NULL);
    check_decimal("[\"0x10\"]", NULL);
    check_decimal("[\"inf\"]", NULL);
    check_decimal("[\" 5\"]", NULL);
    check_decimal("[1e20]", NULL);
    check_decimal("[\"123456789012345\"]", NULL);
    check_decimal("[true]", NULL);
}

static void test_date_conversion(void **state)
{
    (void)state;
    json_t *root = parse("[1463540400, 1707955200, \"1707955200\", \"\", null, 1708086193, "
                         "1388545200, 1370318400, 99999999999999]");
    char out[32];
    assert_true(cat_convert_date(json_array_get(root, 0), out, sizeof(out)));
    assert_string_equal(out, "2016-05-18");
    assert_true(cat_convert_date(json_array_get(root, 1), out, sizeof(out)));
    assert_string_equal(out, "2024-02-15");
    assert_true(cat_convert_date(json_array_get(root, 2), out, sizeof(out)));
    assert_string_equal(out, "2024-02-15");
    assert_false(cat_convert_date(json_array_get(root, 3), out, sizeof(out)));
    assert_false(cat_convert_date(json_array_get(root, 4), out, sizeof(out)));
    assert_true(cat_convert_datetime(json_array_get(root, 5), out, sizeof(out)));
    assert_string_equal(out, "2024-02-16 12:23:13");
    /* Legacy local-midnight values (03:00/04:00 UTC) keep their calendar date. */
    assert_true(cat_convert_date(json_array_get(root, 6), out, sizeof(out)));
    assert_string_equal(out, "2014-01-01");
    assert_true(cat_convert_date(json_array_get(root, 7), out, sizeof(out)));
    assert_string_equal(out, "2013-06-04");
    assert_false(cat_convert_datetime(json_array_get(root, 8), out, sizeof(out)));
    json_decref(root);
}

/* Shaped like a documents list item (docs/bsale-api.md), with quirks added. */
static const char document_json[] =
    "{\"href\":\"https://api.bsale.io/v1/documents/90211.json\",\"id\":90211,"
    "\"emissionDate\":1707955200,\"expirationDate\":\"\",\"generationDate\":1707999013,"
    "\"number\":1451650496937243,\"totalAmount\":11900.0,\"netAmount\":\"10000.0\","
    "\"taxAmount\":1900.0,\"exemptAmount\":0.0,"
    "\"urlPdf\":\"https://app2.bsale.cl/view/5807/9f1c2e7a1b22.pdf?sfd=99\","
    "\"token\":\"9f1c2e7a1b22\",\"state\":0,\"informedSii\":0,"
    "\"document_type\":{\"href\":\"https://api.bsale.io/v1/document_types/1.json\",\"id\":\"1\"},"
    "\"client\":{\"id\":311,\"firstName\":\"Marta\"},"
    "\"office\":{\"href\":\"https://api.bsale.io/v1/offices/1.json\",\"id\":\"1\"},"
    "\"user\":{\"href\":\"https://api.bsale.io/v1/users/4.json\",\"id\":\"4\"}}";

static void test_map_document(void **state)
{
    (void)state;
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    json_t *item = parse(document_json);
    cat_rows_init(&r, catalog_table("documentos_venta"));
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    assert_int_equal(r.n, 1);
    assert_int(&r, 0, "id_bsale", 90211);
    assert_int(&r, 0, "id_tipo_documento", 1);
    assert_int(&r, 0, "numero", 1451650496937243LL);
    assert_text(&r, 0, "fecha_emision", "2024-02-15");
    assert_null_cell(&r, 0, "fecha_vencimiento");
    assert_text(&r, 0, "fecha_generacion", "2024-02-15 12:10:13");
    assert_int(&r, 0, "id_cliente", 311);
    assert_int(&r, 0, "id_sucursal", 1);
    assert_int(&r, 0, "id_usuario", 4);
    assert_text(&r, 0, "monto_neto", "10000");
    assert_text(&r, 0, "monto_impuestos", "1900");
    assert_text(&r, 0, "monto_exento", "0");
    assert_text(&r, 0, "monto_total", "11900");
    assert_int(&r, 0, "estado", 0);
    assert_int(&r, 0, "estado_sii", 0);
    assert_text(&r, 0, "token", "9f1c2e7a1b22");
    assert_text(&r, 0, "url_pdf", "https://app2.bsale.cl/view/5807/9f1c2e7a1b22.pdf?sfd=99");
    assert_null_cell(&r, 0, "sincronizado_en");
    json_decref(item);

    /* Anonymous boleta (no client), PE field name "informed", voided. */
    item = parse("{\"id\":\"90212\",\"number\":\"48121\",\"state\":1,\"informed\":1,"
                 "\"emissionDate\":\"1707955200\",\"totalAmount\":\"4990.0\"}");
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    assert_int_equal(r.n, 2);
    assert_int(&r, 1, "id_bsale", 90212);
    assert_int(&r, 1, "numero", 48121);
    assert_null_cell(&r, 1, "id_cliente");
    assert_int(&r, 1, "estado", 1);
    assert_int(&r, 1, "estado_sii", 1);
    assert_text(&r, 1, "monto_total", "4990");
    /* Row 0 is untouched by appending row 1 (cells and strings stay put). */
    assert_text(&r, 0, "token", "9f1c2e7a1b22");
    json_decref(item);
    cat_rows_release(&r);
    assert_int_equal(r.n, 0);
}

static void test_map_details_use_parent(void **state)
{
    (void)state;
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    json_t *page = parse("[{\"id\":170533,\"lineNumber\":0,\"quantity\":2.0,"
                         "\"netUnitValue\":2500.0,\"totalUnitValue\":2975.0,\"netAmount\":5000.0,"
                         "\"taxAmount\":950.0,\"totalAmount\":5950.0,\"netDiscount\":0.0,"
                         "\"totalDiscount\":0.0,\"variant\":{\"id\":2373,\"code\":\"1441310864\"},"
                         "\"note\":\"\"},"
                         "{\"id\":170534,\"lineNumber\":1,\"quantity\":60.36,"
                         "\"netUnitValue\":840.3361,\"note\":null,"
                         "\"comment\":\"Ba\\u00f1o para perro \\ud83d\\udc36 ni\\u00f1o\"}]");
    cat_rows_init(&r, catalog_table("detalles_venta"));
    for (size_t i = 0; i < json_array_size(page); i++)
        assert_int_equal(catalog_map_item(&r, json_array_get(page, i), 90211, &e), ERR_OK);
    assert_int_equal(r.n, 2);
    assert_int(&r, 0, "id_documento", 90211);
    assert_int(&r, 1, "id_documento", 90211);
    assert_int(&r, 0, "id_variante", 2373);
    assert_text(&r, 0, "cantidad", "2");
    assert_text(&r, 0, "precio_unitario_total", "2975");
    assert_text(&r, 0, "nota", "");         /* "" stays "" */
    assert_null_cell(&r, 1, "nota");        /* null stays NULL */
    assert_null_cell(&r, 1, "id_variante"); /* free-text line */
    assert_text(&r, 1, "cantidad", "60.36");
    assert_text(&r, 1, "precio_unitario_neto", "840.3361");
    assert_null_cell(&r, 1, "monto_total");
    cat_rows_release(&r);
    json_decref(page);
}

static void test_map_text_and_flags(void **state)
{
    (void)state;
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    json_t *item = parse("{\"id\":\"12\",\"name\":\"Boleta electr\\u00f3nica \\ud83d\\udc3e\","
                         "\"codeSii\":39,\"isElectronicDocument\":\"1\",\"use\":\"0\","
                         "\"isSalesNote\":0,\"isCreditNote\":true,\"isExempt\":7,\"state\":0}");
    cat_rows_init(&r, catalog_table("tipos_documento"));
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    assert_int(&r, 0, "id_bsale", 12);
    assert_text(&r, 0, "nombre", "Boleta electr\xc3\xb3nica \xf0\x9f\x90\xbe");
    assert_text(&r, 0, "codigo_sii", "39"); /* integer codeSii rendered as text */
    assert_int(&r, 0, "es_electronico", 1);
    assert_int(&r, 0, "uso", 0);
    assert_int(&r, 0, "es_nota_venta", 0);
    assert_int(&r, 0, "es_nota_credito", 1);
    assert_null_cell(&r, 0, "es_exento"); /* not a 0/1 flag */
    json_decref(item);
    cat_rows_release(&r);

    /* Variants: numeric barCode, string product id. */
    item = parse("{\"id\":1548,\"description\":\"120 ML\",\"barCode\":7801234000017,"
                 "\"code\":\"SKU-1548\",\"unlimitedStock\":0,\"allowNegativeStock\":\"1\","
                 "\"state\":0,\"product\":{\"href\":\"x\",\"id\":\"416\"}}");
    cat_rows_init(&r, catalog_table("variantes"));
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    assert_text(&r, 0, "codigo_barras", "7801234000017");
    assert_int(&r, 0, "id_producto", 416);
    assert_int(&r, 0, "permite_stock_negativo", 1);
    json_decref(item);
    cat_rows_release(&r);
}

static void test_map_payments_and_clients(void **state)
{
    (void)state;
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    json_t *page = parse("[{\"id\":656,\"recordDate\":\"\",\"amount\":\"68643.0\","
                         "\"createdAt\":1708086193,\"state\":0,"
                         "\"payment_type\":{\"id\":\"3\"},\"document\":{\"id\":\"90211\"},"
                         "\"office\":{\"id\":\"1\"}},"
                         "{\"id\":\"657\",\"recordDate\":1707955200,\"amount\":1000,"
                         "\"isCreditPayment\":1,\"documents\":[{\"id\":\"90211\",\"amount\":500}],"
                         "\"payment_type\":{\"id\":3}}]");
    cat_rows_init(&r, catalog_table("pagos"));
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(catalog_map_item(&r, json_array_get(page, i), 0, &e), ERR_OK);
    assert_null_cell(&r, 0, "fecha_registro");
    assert_text(&r, 0, "monto", "68643");
    assert_text(&r, 0, "creado_en", "2024-02-16 12:23:13");
    assert_int(&r, 0, "id_documento", 90211);
    assert_int(&r, 1, "id_bsale", 657);
    assert_null_cell(&r, 1, "id_documento"); /* credit payment */
    assert_text(&r, 1, "fecha_registro", "2024-02-15");
    cat_rows_release(&r);
    json_decref(page);

    json_t *client =
        parse("{\"id\":311,\"firstName\":\"Mar\\u00eda Jos\\u00e9\",\"lastName\":"
              "\"N\\u00fa\\u00f1ez\",\"code\":\"12.345.678-5\",\"phone\":\"\","
              "\"maxCredit\":\"10000.0\",\"points\":\"12\",\"district\":\"Miraflores\","
              "\"companyOrPerson\":0,\"hasCredit\":1,\"email\":null}");
    cat_rows_init(&r, catalog_table("clientes"));
    assert_int_equal(catalog_map_item(&r, client, 0, &e), ERR_OK);
    assert_text(&r, 0, "nombre",
                "Mar\xc3\xad"
                "a Jos\xc3\xa9");
    assert_text(&r, 0, "apellido",
                "N\xc3\xba\xc3\xb1"
                "ez");
    assert_text(&r, 0, "telefono", "");
    assert_null_cell(&r, 0, "email");
    assert_text(&r, 0, "credito_maximo", "10000");
    assert_int(&r, 0, "puntos", 12);
    assert_text(&r, 0, "comuna", "Miraflores");
    cat_rows_release(&r);
    json_decref(client);
}

/* r gets t's rows of json (an item, or an array of them), each under parent. */
static void map_json(struct cat_rows *r, const struct cat_table *t, const char *json,
                     int64_t parent)
{
    json_t *root = parse(json);
    json_t *items = json_is_array(root) ? root : json_pack("[O]", root);
    struct err e = ERR_INIT;
    cat_rows_init(r, t);
    for (size_t i = 0; i < json_array_size(items); i++)
        assert_int_equal(catalog_map_item(r, json_array_get(items, i), parent, &e), ERR_OK);
    if (items != root)
        json_decref(items);
    json_decref(root);
}

/* Version 3 fields of documents, lines and payments, in the shapes live Bsale sends. */
static void test_map_new_fields(void **state)
{
    (void)state;
    struct cat_rows r = {0};
    map_json(&r, catalog_table("documentos_venta"),
             "{\"id\":3698601,\"priceList\":{\"href\":\"h\",\"id\":\"2\"},"
             "\"notExemptAmount\":29900,\"cancellationStatus\":0,\"cancellationDate\":1707999013}",
             0);
    assert_int(&r, 0, "id_lista_precio", 2);
    assert_text(&r, 0, "monto_afecto", "29900");
    assert_int(&r, 0, "estado_anulacion", 0); /* 0 is a state here, not "none" */
    assert_text(&r, 0, "fecha_anulacion", "2024-02-15 12:10:13");
    cat_rows_release(&r);

    map_json(&r, catalog_table("detalles_venta"),
             "[{\"id\":1,\"netUnitValueRaw\":1148.0672268907,\"discountPercentage\":\"10.0\","
             "\"relatedDetailId\":0},{\"id\":2,\"relatedDetailId\":\"7001\"},{\"id\":3}]",
             9);
    assert_text(&r, 0, "precio_unitario_neto_exacto", "1148.0672");
    assert_text(&r, 0, "porcentaje_descuento", "10");
    assert_null_cell(&r, 0, "id_detalle_relacionado"); /* 0: derived from no line */
    assert_int(&r, 1, "id_detalle_relacionado", 7001);
    assert_null_cell(&r, 2, "id_detalle_relacionado");
    cat_rows_release(&r);

    map_json(&r, catalog_table("pagos"),
             "[{\"id\":78,\"amount\":\"68643.0\",\"accountingDate\":\"\","
             "\"operationNumber\":\"A-88\",\"isCreditPayment\":1,\"user\":{\"id\":\"4\"}},"
             "{\"id\":79,\"amount\":1000,\"accountingDate\":1396494000,"
             "\"operationNumber\":null,\"isCreditPayment\":\"0\"}]",
             0);
    assert_text(&r, 0, "monto", "68643");
    assert_null_cell(&r, 0, "fecha_contable");
    assert_text(&r, 0, "numero_operacion", "A-88");
    assert_int(&r, 0, "es_pago_credito", 1);
    assert_int(&r, 0, "id_usuario", 4);
    assert_text(&r, 1, "fecha_contable", "2014-04-03"); /* local midnight, 03:00Z */
    assert_null_cell(&r, 1, "numero_operacion");
    assert_int(&r, 1, "es_pago_credito", 0);
    cat_rows_release(&r);
}

/* One item of a (parent, key, monto) child table maps to those three values. */
static void check_keyed_amount(enum cat_role role, const char *json, int64_t parent,
                               const char *parent_col, const char *key_col, int64_t key,
                               const char *amount)
{
    struct cat_rows r = {0};
    map_json(&r, catalog_by_role(role), json, parent);
    assert_int(&r, 0, parent_col, parent);
    assert_int(&r, 0, key_col, key);
    assert_text(&r, 0, "monto", amount);
    cat_rows_release(&r);
}

/* Children keyed by their parent: payment documents, per-type totals, references. */
static void test_map_children_tables(void **state)
{
    (void)state;
    check_keyed_amount(CAT_ROLE_PAYMENT_DOCUMENTS,
                       "{\"href\":\"h\",\"id\":\"90012\",\"amount\":12000.0}", 78, "id_pago",
                       "id_documento", 90012, "12000");
    check_keyed_amount(CAT_ROLE_DOCUMENT_PAYMENT_TOTALS,
                       "{\"href\":\"h\",\"id\":5,\"name\":\"CHEQUE\",\"amount\":50966.0}", 3696755,
                       "id_documento", "id_forma_pago", 5, "50966");
    struct cat_rows r = {0};
    map_json(&r, catalog_by_role(CAT_ROLE_REFERENCES),
             "{\"href\":\"h\",\"id\":12,\"referenceDate\":1707955200,\"number\":\"123\","
             "\"reason\":\"Anula documento\",\"dte_code\":{\"href\":\"h\",\"id\":\"33\"}}",
             3698601);
    static const char *const texts[][2] = {{"fecha_referencia", "2024-02-15"},
                                           {"numero", "123"}, /* a string in Bsale */
                                           {"motivo", "Anula documento"},
                                           {"codigo_dte", "33"}};
    for (size_t i = 0; i < ARRAY_LEN(texts); i++)
        assert_text(&r, 0, texts[i][0], texts[i][1]);
    assert_int(&r, 0, "id_bsale", 12);
    assert_int(&r, 0, "id_documento", 3698601);
    cat_rows_release(&r);
    /* The interface other modules code against. */
    const struct cat_table *pay = catalog_by_role(CAT_ROLE_PAYMENTS);
    assert_int_equal(pay->source.fetch, CAT_FETCH_JOURNAL);
    assert_string_equal(pay->source.date_filter, "recorddaterange");
    assert_int_equal(pay->source.parent, CAT_ROLE_NONE);
    assert_null(pay->source.embedded);
    assert_true(catalog_by_role(CAT_ROLE_REFERENCES)->source.linked_read);
    assert_false(catalog_by_role(CAT_ROLE_DOCUMENT_PAYMENT_TOTALS)->source.linked_read);
    assert_int_equal(catalog_by_role(CAT_ROLE_PAYMENT_DOCUMENTS)->source.parent, CAT_ROLE_PAYMENTS);
}

static void test_map_stock_composite_key(void **state)
{
    (void)state;
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    json_t *item = parse("{\"quantity\":12.0,\"quantityReserved\":0.0,\"quantityAvailable\":12.0,"
                         "\"variant\":{\"id\":\"1548\"},\"office\":{\"id\":\"2\"}}");
    cat_rows_init(&r, catalog_table("stock"));
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    assert_int(&r, 0, "id_variante", 1548);
    assert_int(&r, 0, "id_sucursal", 2);
    assert_text(&r, 0, "cantidad", "12");
    json_decref(item);
    item = parse("{\"quantity\":1,\"variant\":{\"id\":\"1548\"}}");
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_JSON);
    assert_non_null(strstr(e.msg, "stock"));
    assert_non_null(strstr(e.msg, "id_sucursal"));
    assert_int_equal(r.n, 1);
    json_decref(item);
    cat_rows_release(&r);
}

static void test_map_rejects_bad_keys(void **state)
{
    (void)state;
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    cat_rows_init(&r, catalog_table("productos"));
    json_t *item = parse("{\"name\":\"Sin id\"}");
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_JSON);
    assert_non_null(strstr(e.msg, "productos"));
    assert_non_null(strstr(e.msg, "id_bsale"));
    assert_non_null(strstr(e.msg, "missing"));
    json_decref(item);
    err_clear(&e);
    item = parse("{\"id\":\"abc\",\"name\":\"x\"}");
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_JSON);
    assert_non_null(strstr(e.msg, "not a valid id"));
    json_decref(item);
    item = parse("{\"id\":12.5}");
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_JSON);
    json_decref(item);
    item = parse("[1,2]");
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_JSON);
    json_decref(item);
    assert_int_equal(r.n, 0);
    /* A good item after failures lands as row 0 with clean cells. */
    item = parse("{\"id\":5,\"name\":null,\"product_type\":{\"id\":\"\"}}");
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    assert_int_equal(r.n, 1);
    assert_null_cell(&r, 0, "nombre");
    assert_null_cell(&r, 0, "id_tipo_producto");
    json_decref(item);
    cat_rows_release(&r);
}

static void test_text_caps(void **state)
{
    (void)state;
    /* 300 x "ñ" (2 bytes each): VARCHAR(255) keeps 255 characters, cut between them. */
    char json[1024];
    size_t k = (size_t)snprintf(json, sizeof(json), "{\"id\":1,\"name\":\"");
    for (int i = 0; i < 300; i++)
        k += (size_t)snprintf(json + k, sizeof(json) - k, "\xc3\xb1");
    snprintf(json + k, sizeof(json) - k, "\",\"description\":\"%s\"}", "long text is fine");
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    json_t *item = parse(json);
    cat_rows_init(&r, catalog_table("productos"));
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    assert_int_equal(cell(&r, 0, "nombre")->len, 510);
    json_decref(item);
    cat_rows_release(&r);

    /* Long text (TEXT) keeps at most 65535 bytes, also cut between characters. */
    size_t big = 70000;
    char *desc = xmalloc(big + 64);
    k = (size_t)snprintf(desc, big + 64, "{\"id\":2,\"description\":\"x");
    while (k < big)
        k += (size_t)snprintf(desc + k, big + 64 - k, "\xe2\x82\xac"); /* euro sign, 3 bytes */
    snprintf(desc + k, big + 64 - k, "\"}");
    item = parse(desc);
    free(desc);
    cat_rows_init(&r, catalog_table("productos"));
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    const struct cat_value *d = cell(&r, 0, "descripcion");
    assert_int_equal(d->len, 65533); /* "x" + 21844 euro signs */
    assert_int_equal((unsigned char)d->s[d->len - 1], 0xac);
    json_decref(item);
    cat_rows_release(&r);
}

static void test_many_rows_grow(void **state)
{
    (void)state;
    struct cat_rows r = {0};
    struct err e = ERR_INIT;
    cat_rows_init(&r, catalog_table("detalles_venta"));
    for (int i = 0; i < 5000; i++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "{\"id\":%d,\"note\":\"line %d with some text\"}", i, i);
        json_t *item = parse(buf);
        assert_int_equal(catalog_map_item(&r, item, i / 10, &e), ERR_OK);
        json_decref(item);
    }
    assert_int_equal(r.n, 5000);
    assert_int(&r, 4321, "id_bsale", 4321);
    assert_int(&r, 4321, "id_documento", 432);
    assert_text(&r, 17, "nota", "line 17 with some text");
    assert_text(&r, 4999, "nota", "line 4999 with some text");
    cat_rows_release(&r);
}

/* ---- values that do not fit ---- */

struct issues {
    size_t n;
    int64_t ids[16];
    char text[16][400];
};

static void collect_issue(void *ctx, int64_t id, const char *problem)
{
    struct issues *is = ctx;
    assert_true(strlen(problem) < sizeof(is->text[0]));
    if (is->n < ARRAY_LEN(is->ids)) {
        is->ids[is->n] = id;
        snprintf(is->text[is->n], sizeof(is->text[0]), "%s", problem);
    }
    is->n++;
}

/* Maps one item with reports; returns whether a row was kept. */
static bool map_report(struct cat_rows *r, const char *json, struct issues *is)
{
    memset(is, 0, sizeof(*is));
    json_t *item = parse(json);
    struct cat_report rep = {collect_issue, is};
    bool kept = catalog_map_item_report(r, item, 0, &rep);
    json_decref(item);
    return kept;
}

static void assert_issue(const struct issues *is, size_t i, int64_t id, const char *part1,
                         const char *part2)
{
    assert_true(i < is->n);
    assert_true(is->ids[i] == id);
    if (!strstr(is->text[i], part1) || (part2 && !strstr(is->text[i], part2)))
        fail_msg("issue '%s' lacks '%s' / '%s'", is->text[i], part1, part2 ? part2 : "");
}

/* true is neither silently "1" in text nor silently NULL elsewhere. */
static void test_booleans_that_do_not_fit(void **state)
{
    (void)state;
    struct cat_rows r;
    struct issues is;
    cat_rows_init(&r, catalog_table("clientes"));
    assert_true(map_report(&r,
                           "{\"id\":311,\"firstName\":true,\"points\":true,\"maxCredit\":false,"
                           "\"hasCredit\":true,\"company\":{\"a\":[1,2]}}",
                           &is));
    assert_text(&r, 0, "nombre", "true");
    assert_null_cell(&r, 0, "puntos");
    assert_null_cell(&r, 0, "credito_maximo");
    assert_int(&r, 0, "tiene_credito", 1); /* a boolean flag fits */
    assert_text(&r, 0, "empresa", "{\"a\":[1,2]}");
    assert_int_equal(is.n, 4);
    assert_issue(&is, 0, 311, "clientes.nombre (firstName): true", "JSON text");
    assert_issue(&is, 1, 311, "clientes.empresa (company): object", "JSON text");
    assert_issue(&is, 2, 311, "clientes.credito_maximo (maxCredit): false", "NULL");
    assert_issue(&is, 3, 311, "clientes.puntos (points): true", "NULL");
    cat_rows_release(&r);
    /* The reporting-free mapper stores the same. */
    struct err e = ERR_INIT;
    json_t *item = parse("{\"id\":1,\"firstName\":true}");
    cat_rows_init(&r, catalog_table("clientes"));
    assert_int_equal(catalog_map_item(&r, item, 0, &e), ERR_OK);
    assert_text(&r, 0, "nombre", "true");
    json_decref(item);
    cat_rows_release(&r);
}

static void test_amounts_that_do_not_fit(void **state)
{
    (void)state;
    struct cat_rows r;
    struct issues is;
    cat_rows_init(&r, catalog_table("documentos_venta"));
    assert_true(map_report(&r,
                           "{\"id\":90211,\"totalAmount\":1e308,\"netAmount\":\"NaN\","
                           "\"taxAmount\":1900.0,\"exemptAmount\":\"\",\"number\":3.5}",
                           &is));
    assert_null_cell(&r, 0, "monto_total");
    assert_null_cell(&r, 0, "monto_neto");
    assert_null_cell(&r, 0, "numero");
    assert_null_cell(&r, 0, "monto_exento"); /* "" is Bsale's none: no incident */
    assert_text(&r, 0, "monto_impuestos", "1900");
    assert_int_equal(is.n, 3);
    assert_issue(&is, 0, 90211, "documentos_venta.numero (number): real 3.5", "integer");
    assert_issue(&is, 1, 90211, "documentos_venta.monto_neto (netAmount): string \"NaN\"",
                 "DECIMAL(18,4); stored NULL");
    assert_issue(&is, 2, 90211, "documentos_venta.monto_total (totalAmount): real 1e+308",
                 "stored NULL");
    cat_rows_release(&r);
}

static void test_dates_that_do_not_fit(void **state)
{
    (void)state;
    struct cat_rows r;
    struct issues is;
    cat_rows_init(&r, catalog_table("documentos_venta"));
    assert_true(map_report(&r,
                           "{\"id\":7,\"emissionDate\":\"2024-02-15\","
                           "\"generationDate\":\"2024-02-16T12:23:13Z\","
                           "\"expirationDate\":\"mañana\"}",
                           &is));
    /* A date string keeps the document in its date's filters; it is reported all the same. */
    assert_text(&r, 0, "fecha_emision", "2024-02-15");
    assert_text(&r, 0, "fecha_generacion", "2024-02-16 12:23:13");
    assert_null_cell(&r, 0, "fecha_vencimiento");
    assert_int_equal(is.n, 3);
    assert_issue(&is, 0, 7, "fecha_emision (emissionDate): string \"2024-02-15\"",
                 "stored as the date it names");
    assert_issue(&is, 1, 7, "fecha_vencimiento", "stored NULL");
    assert_issue(&is, 2, 7, "fecha_generacion", "stored as the date it names");
    assert_true(map_report(&r, "{\"id\":8,\"emissionDate\":\"2023-02-29\"}", &is));
    assert_null_cell(&r, 1, "fecha_emision"); /* not a calendar date */
    assert_int_equal(is.n, 1);
    cat_rows_release(&r);
}

/* One record with an unusable key is skipped and named; the page goes on. */
static void test_bad_ids_skip_the_record(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"id\":3.5,\"name\":\"a\"}",
        "{\"id\":\"2abc\",\"name\":\"b\"}",
        "{\"id\":1e308,\"name\":\"c\"}",
        "{\"id\":9223372036854775809,\"name\":\"d\"}",
        "{\"id\":\"9223372036854775809\",\"name\":\"e\"}",
        "{\"id\":-92233720368547758090000,\"name\":\"f\"}",
        "{\"name\":\"no id\"}",
        "[1,2]",
    };
    static const char *const said[] = {
        "real 3.5",       "string \"2abc\"",       "real 1e+308", "real 9.223372037e+18",
        "string \"92233", "real -9.223372037e+22", "missing",     "not a JSON object"};
    struct cat_rows r;
    struct issues is;
    cat_rows_init(&r, catalog_table("productos"));
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        assert_false(map_report(&r, bad[i], &is));
        assert_int_equal(is.n, 1);
        assert_issue(&is, 0, -1, "productos: ", said[i]);
        assert_non_null(strstr(is.text[0], "record skipped"));
        assert_int_equal(r.n, 0);
    }
    assert_true(map_report(&r, "{\"id\":5,\"name\":\"ok\"}", &is));
    assert_int_equal(is.n, 0);
    assert_int_equal(r.n, 1);
    assert_text(&r, 0, "nombre", "ok");
    cat_rows_release(&r);
}

/* 20 MB of text: cut at the column's capacity, reported without the value itself. */
static void test_huge_text_is_cut_and_reported(void **state)
{
    (void)state;
    size_t big = 20u << 20;
    char *json = xmalloc(big + 1024);
    size_t k = (size_t)snprintf(json, 128, "{\"id\":9,\"description\":\"");
    size_t text_at = k;
    for (size_t i = 0; i < big / 2; i++, k += 2)
        memcpy(json + k, "\xc3\xb1", 2);
    k += (size_t)snprintf(json + k, 128, "\",\"name\":\"");
    memcpy(json + k, json + text_at, 600); /* 300 x "ñ" */
    k += 600;
    snprintf(json + k, 128, "\"}");
    struct cat_rows r;
    struct issues is;
    cat_rows_init(&r, catalog_table("productos"));
    assert_true(map_report(&r, json, &is));
    free(json);
    const struct cat_value *d = cell(&r, 0, "descripcion");
    assert_int_equal(d->len, 65534); /* whole "ñ" only */
    assert_int_equal(cell(&r, 0, "nombre")->len, 510);
    assert_int_equal(is.n, 2);
    assert_issue(&is, 0, 9, "productos.nombre (name): string of 600 bytes", "stored its first 255");
    assert_issue(&is, 1, 9, "productos.descripcion (description): string of 20971520 bytes",
                 "first 65535");
    assert_null(strstr(is.text[1], "\xc3\xb1"));
    cat_rows_release(&r);
}

static void test_nul_in_text_is_kept_visible(void **state)
{
    (void)state;
    struct cat_rows r;
    struct issues is;
    cat_rows_init(&r, catalog_table("detalles_venta"));
    assert_true(map_report(&r, "{\"id\":4,\"note\":\"a\\u0000b\\u0000\"}", &is));
    assert_text(&r, 0, "nota",
                "a\xef\xbf\xbd"
                "b\xef\xbf\xbd");
    assert_int_equal(is.n, 1);
    assert_issue(&is, 0, 4, "detalles_venta.nota (note): string \"a?b?\"", "U+FFFD");
    cat_rows_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_follow_schema),
        cmocka_unit_test(test_tables_by_role),
        cmocka_unit_test(test_decimal_conversion),
        cmocka_unit_test(test_date_conversion),
        cmocka_unit_test(test_map_document),
        cmocka_unit_test(test_map_details_use_parent),
        cmocka_unit_test(test_map_text_and_flags),
        cmocka_unit_test(test_map_payments_and_clients),
        cmocka_unit_test(test_map_new_fields),
        cmocka_unit_test(test_map_children_tables),
        cmocka_unit_test(test_map_stock_composite_key),
        cmocka_unit_test(test_map_rejects_bad_keys),
        cmocka_unit_test(test_text_caps),
        cmocka_unit_test(test_many_rows_grow),
        cmocka_unit_test(test_booleans_that_do_not_fit),
        cmocka_unit_test(test_amounts_that_do_not_fit),
        cmocka_unit_test(test_dates_that_do_not_fit),
        cmocka_unit_test(test_bad_ids_skip_the_record),
        cmocka_unit_test(test_huge_text_is_cut_and_reported),
        cmocka_unit_test(test_nul_in_text_is_kept_visible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

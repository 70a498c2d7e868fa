/*
 * The warehouse catalog: each table of SCHEMA.md described once, plus the
 * Bsale JSON -> row conversions. Adding a Bsale resource means adding entries
 * here; DDL, upserts and mapping follow. No SQL dialect lives here.
 */
#include "common.h"

#include "catalog.h"
#include "json_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY (CAT_KEY | CAT_NOT_NULL)
#define IDX CAT_INDEX
#define SYNCED                                                                                     \
    {                                                                                              \
        "sincronizado_en", CAT_SYNCED_AT, NULL, CAT_NOT_NULL                                       \
    }
#define TABLE(n, c, res, r)                                                                        \
    {                                                                                              \
        .name = n, .cols = c, .ncols = ARRAY_LEN(c), .resource = res, .role = r                    \
    }

/*
 * A json path may list alternatives separated by '|': the first present
 * member wins (CL "municipality" vs PE/MX "district").
 */
static const struct cat_column sucursales_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"nombre", CAT_TEXT, "name", 0},
    {"descripcion", CAT_LONGTEXT, "description", 0},
    {"direccion", CAT_LONGTEXT, "address", 0},
    {"comuna", CAT_TEXT, "municipality|district", 0},
    {"ciudad", CAT_TEXT, "city", 0},
    {"pais", CAT_TEXT, "country", 0},
    {"centro_costo", CAT_TEXT, "costCenter", 0},
    {"es_virtual", CAT_FLAG, "isVirtual", 0},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column tipos_documento_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"nombre", CAT_TEXT, "name", 0},
    {"codigo_sii", CAT_TEXT, "codeSii", 0},
    {"es_electronico", CAT_FLAG, "isElectronicDocument", 0},
    {"uso", CAT_INT, "use", 0},
    {"es_nota_venta", CAT_FLAG, "isSalesNote", 0},
    {"es_nota_credito", CAT_FLAG, "isCreditNote", 0},
    {"es_exento", CAT_FLAG, "isExempt", 0},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column formas_pago_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"nombre", CAT_TEXT, "name", 0},
    {"es_efectivo", CAT_FLAG, "isCash", 0},
    {"es_cheque", CAT_FLAG, "isCheck", 0},
    {"es_credito_cliente", CAT_FLAG, "isClientCredit", 0},
    {"es_nota_credito", CAT_FLAG, "isCreditNote", 0},
    {"es_virtual", CAT_FLAG, "isVirtual", 0},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column usuarios_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"nombre", CAT_TEXT, "firstName", 0},
    {"apellido", CAT_TEXT, "lastName", 0},
    {"email", CAT_TEXT, "email", 0},
    {"id_sucursal", CAT_ID, "office.id", IDX},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column tipos_producto_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"nombre", CAT_TEXT, "name", 0},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column productos_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"nombre", CAT_TEXT, "name", 0},
    {"descripcion", CAT_LONGTEXT, "description", 0},
    {"clasificacion", CAT_INT, "classification", 0},
    {"id_tipo_producto", CAT_ID, "product_type.id", IDX},
    {"controla_stock", CAT_FLAG, "stockControl", 0},
    {"permite_decimal", CAT_FLAG, "allowDecimal", 0},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column variantes_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"id_producto", CAT_ID, "product.id", IDX},
    {"descripcion", CAT_LONGTEXT, "description", 0},
    {"codigo", CAT_TEXT, "code", IDX},
    {"codigo_barras", CAT_TEXT, "barCode", 0},
    {"stock_ilimitado", CAT_FLAG, "unlimitedStock", 0},
    {"permite_stock_negativo", CAT_FLAG, "allowNegativeStock", 0},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column clientes_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"nombre", CAT_TEXT, "firstName", 0},
    {"apellido", CAT_TEXT, "lastName", 0},
    {"rut", CAT_TEXT, "code", IDX},
    {"email", CAT_TEXT, "email", 0},
    {"telefono", CAT_TEXT, "phone", 0},
    {"empresa", CAT_LONGTEXT, "company", 0},
    {"giro", CAT_LONGTEXT, "activity", 0},
    {"direccion", CAT_LONGTEXT, "address", 0},
    {"comuna", CAT_TEXT, "municipality|district", 0},
    {"ciudad", CAT_TEXT, "city", 0},
    {"es_empresa", CAT_FLAG, "companyOrPerson", 0},
    {"tiene_credito", CAT_FLAG, "hasCredit", 0},
    {"credito_maximo", CAT_DECIMAL, "maxCredit", 0},
    {"puntos", CAT_INT, "points", 0},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column listas_precio_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"nombre", CAT_TEXT, "name", 0},
    {"descripcion", CAT_LONGTEXT, "description", 0},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_column precios_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"id_lista_precio", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX},
    {"id_variante", CAT_ID, "variant.id", IDX},
    {"valor_neto", CAT_DECIMAL, "variantValue", 0},
    {"valor_con_impuestos", CAT_DECIMAL, "variantValueWithTaxes", 0},
    SYNCED,
};
static const char *const precios_unique[] = {"id_lista_precio", "id_variante", NULL};

static const struct cat_column stock_cols[] = {
    {"id_variante", CAT_ID, "variant.id", KEY},
    {"id_sucursal", CAT_ID, "office.id", KEY | IDX},
    {"cantidad", CAT_DECIMAL, "quantity", 0},
    {"cantidad_reservada", CAT_DECIMAL, "quantityReserved", 0},
    {"cantidad_disponible", CAT_DECIMAL, "quantityAvailable", 0},
    SYNCED,
};

static const struct cat_column documentos_venta_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"id_tipo_documento", CAT_ID, "document_type.id", IDX},
    {"numero", CAT_INT, "number", 0},
    {"fecha_emision", CAT_DATE, "emissionDate", IDX},
    {"fecha_vencimiento", CAT_DATE, "expirationDate", 0},
    {"fecha_generacion", CAT_DATETIME, "generationDate", 0},
    {"id_cliente", CAT_ID, "client.id", IDX},
    {"id_sucursal", CAT_ID, "office.id", IDX},
    {"id_usuario", CAT_ID, "user.id", IDX},
    {"monto_neto", CAT_DECIMAL, "netAmount", 0},
    {"monto_impuestos", CAT_DECIMAL, "taxAmount", 0},
    {"monto_exento", CAT_DECIMAL, "exemptAmount", 0},
    {"monto_total", CAT_DECIMAL, "totalAmount", 0},
    {"estado", CAT_INT, "state", 0},
    {"estado_sii", CAT_INT, "informedSii|informed", 0},
    {"token", CAT_TEXT, "token", 0},
    {"url_pdf", CAT_LONGTEXT, "urlPdf", 0},
    SYNCED,
};

static const struct cat_column detalles_venta_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"id_documento", CAT_ID, NULL, CAT_PARENT | CAT_NOT_NULL | IDX},
    {"numero_linea", CAT_INT, "lineNumber", 0},
    {"id_variante", CAT_ID, "variant.id", IDX},
    {"cantidad", CAT_DECIMAL, "quantity", 0},
    {"precio_unitario_neto", CAT_DECIMAL, "netUnitValue", 0},
    {"precio_unitario_total", CAT_DECIMAL, "totalUnitValue", 0},
    {"monto_neto", CAT_DECIMAL, "netAmount", 0},
    {"monto_impuestos", CAT_DECIMAL, "taxAmount", 0},
    {"monto_total", CAT_DECIMAL, "totalAmount", 0},
    {"descuento_neto", CAT_DECIMAL, "netDiscount", 0},
    {"descuento_total", CAT_DECIMAL, "totalDiscount", 0},
    {"nota", CAT_LONGTEXT, "note", 0},
    SYNCED,
};

/* Credit payments carry documents[] instead of document: id_documento stays NULL. */
static const struct cat_column pagos_cols[] = {
    {"id_bsale", CAT_ID, "id", KEY},
    {"id_documento", CAT_ID, "document.id", IDX},
    {"id_forma_pago", CAT_ID, "payment_type.id", IDX},
    {"monto", CAT_DECIMAL, "amount", 0},
    {"fecha_registro", CAT_DATE, "recordDate", IDX},
    {"creado_en", CAT_DATETIME, "createdAt", 0},
    {"id_sucursal", CAT_ID, "office.id", IDX},
    {"estado", CAT_INT, "state", 0},
    SYNCED,
};

static const struct cat_table t_sucursales =
    TABLE("sucursales", sucursales_cols, "offices", CAT_ROLE_OFFICES);
static const struct cat_table t_tipos_documento =
    TABLE("tipos_documento", tipos_documento_cols, "document_types", CAT_ROLE_DOCUMENT_TYPES);
static const struct cat_table t_formas_pago =
    TABLE("formas_pago", formas_pago_cols, "payment_types", CAT_ROLE_PAYMENT_TYPES);
static const struct cat_table t_usuarios =
    TABLE("usuarios", usuarios_cols, "users", CAT_ROLE_USERS);
static const struct cat_table t_tipos_producto =
    TABLE("tipos_producto", tipos_producto_cols, "product_types", CAT_ROLE_PRODUCT_TYPES);
static const struct cat_table t_productos =
    TABLE("productos", productos_cols, "products", CAT_ROLE_PRODUCTS);
static const struct cat_table t_variantes =
    TABLE("variantes", variantes_cols, "variants", CAT_ROLE_VARIANTS);
static const struct cat_table t_clientes =
    TABLE("clientes", clientes_cols, "clients", CAT_ROLE_CLIENTS);
static const struct cat_table t_listas_precio =
    TABLE("listas_precio", listas_precio_cols, "price_lists", CAT_ROLE_PRICE_LISTS);
static const struct cat_table t_precios = {.name = "precios",
                                           .cols = precios_cols,
                                           .ncols = ARRAY_LEN(precios_cols),
                                           .unique = precios_unique,
                                           .resource = "price_lists/details",
                                           .role = CAT_ROLE_PRICES};
static const struct cat_table t_stock = TABLE("stock", stock_cols, "stocks", CAT_ROLE_STOCK);
static const struct cat_table t_documentos_venta =
    TABLE("documentos_venta", documentos_venta_cols, "documents", CAT_ROLE_DOCUMENTS);
static const struct cat_table t_detalles_venta =
    TABLE("detalles_venta", detalles_venta_cols, "documents/details", CAT_ROLE_LINES);
static const struct cat_table t_pagos = TABLE("pagos", pagos_cols, "payments", CAT_ROLE_PAYMENTS);

/* ---- the ETL's own bookkeeping: not synced, written by the store ---- */

static const struct cat_column etl_esquema_cols[] = {
    {"version", CAT_INT, NULL, KEY},
    {"aplicado_en", CAT_DATETIME, NULL, CAT_NOT_NULL},
};

static const struct cat_column etl_ejecuciones_cols[] = {
    {"id", CAT_SERIAL, NULL, KEY},
    {"tipo", CAT_TEXT, NULL, CAT_NOT_NULL},
    {"origen", CAT_TEXT, NULL, CAT_NOT_NULL},
    {"estado", CAT_TEXT, NULL, CAT_NOT_NULL | IDX},
    {"inicio", CAT_DATETIME, NULL, CAT_NOT_NULL},
    {"fin", CAT_DATETIME, NULL, 0},
    {"fecha_desde", CAT_DATE, NULL, 0},
    {"fecha_hasta", CAT_DATE, NULL, 0},
    {"registros", CAT_INT, NULL, CAT_NOT_NULL | CAT_ZERO},
    {"solicitudes", CAT_INT, NULL, CAT_NOT_NULL | CAT_ZERO},
    {"reintentos", CAT_INT, NULL, CAT_NOT_NULL | CAT_ZERO},
    {"error", CAT_LONGTEXT, NULL, 0},
    {"detalle", CAT_DOCUMENT, NULL, 0},
};

static const struct cat_column etl_incidencias_cols[] = {
    {"id", CAT_SERIAL, NULL, KEY},
    {"id_ejecucion", CAT_ID, NULL, CAT_NOT_NULL | IDX},
    {"recurso", CAT_TEXT, NULL, CAT_NOT_NULL},
    {"id_recurso", CAT_ID, NULL, 0},
    {"problema", CAT_LONGTEXT, NULL, CAT_NOT_NULL},
    {"creado_en", CAT_DATETIME, NULL, CAT_NOT_NULL},
    {"resuelto_en", CAT_DATETIME, NULL, IDX},
};

static const struct cat_table t_etl_esquema =
    TABLE("etl_esquema", etl_esquema_cols, NULL, CAT_ROLE_SCHEMA_VERSION);
static const struct cat_table t_etl_ejecuciones =
    TABLE("etl_ejecuciones", etl_ejecuciones_cols, NULL, CAT_ROLE_RUNS);
static const struct cat_table t_etl_incidencias =
    TABLE("etl_incidencias", etl_incidencias_cols, NULL, CAT_ROLE_INCIDENTS);

static const struct cat_table *const own_tables[] = {
    &t_etl_esquema,
    &t_etl_ejecuciones,
    &t_etl_incidencias,
};

static const struct cat_table *const all_tables[] = {
    &t_sucursales, &t_tipos_documento,  &t_formas_pago,    &t_usuarios,      &t_tipos_producto,
    &t_productos,  &t_variantes,        &t_clientes,       &t_listas_precio, &t_precios,
    &t_stock,      &t_documentos_venta, &t_detalles_venta, &t_pagos,
};

const struct cat_table *const *catalog_tables(size_t *n)
{
    *n = ARRAY_LEN(all_tables);
    return all_tables;
}

const struct cat_table *catalog_table(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(all_tables); i++)
        if (strcmp(all_tables[i]->name, name) == 0)
            return all_tables[i];
    return NULL;
}

const struct cat_table *catalog_by_role(enum cat_role role)
{
    for (size_t i = 0; i < ARRAY_LEN(all_tables); i++)
        if (all_tables[i]->role == role)
            return all_tables[i];
    for (size_t i = 0; i < ARRAY_LEN(own_tables); i++)
        if (own_tables[i]->role == role)
            return own_tables[i];
    return NULL;
}

int catalog_column_index(const struct cat_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* ---- row storage: cells plus an arena of the strings they point to ---- */

#define ARENA_CHUNK 16384

struct cat_arena {
    struct cat_arena *next;
    size_t used, size;
    char data[];
};

void cat_rows_init(struct cat_rows *r, const struct cat_table *t)
{
    memset(r, 0, sizeof(*r));
    r->table = t;
}

void cat_rows_release(struct cat_rows *r)
{
    if (!r)
        return;
    struct cat_arena *a = r->arena;
    while (a) {
        struct cat_arena *next = a->next;
        free(a);
        a = next;
    }
    free(r->v);
    cat_rows_init(r, r->table);
}

/* Copies s[0..n) (NUL-terminated) into r's arena; the copy lives as long as r. */
static const char *arena_copy(struct cat_rows *r, const char *s, size_t n)
{
    struct cat_arena *a = r->arena;
    if (!a || a->size - a->used < n + 1) {
        size_t size = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;
        a = xmalloc(sizeof(*a) + size);
        a->used = 0;
        a->size = size;
        a->next = r->arena;
        r->arena = a;
    }
    char *p = a->data + a->used;
    memcpy(p, s, n);
    p[n] = '\0';
    a->used += n + 1;
    return p;
}

static struct cat_value *rows_append(struct cat_rows *r)
{
    size_t nc = r->table->ncols;
    if (r->n == r->alloc) {
        r->alloc = r->alloc ? r->alloc * 2 : 64;
        r->v = xrealloc(r->v, r->alloc * nc * sizeof(*r->v));
    }
    struct cat_value *row = &r->v[r->n * nc];
    memset(row, 0, nc * sizeof(*row));
    return row;
}

/* ---- conversions ---- */

/*
 * Precision rule for DECIMAL(18,4): values are rounded to 4 decimals and
 * written as canonical text without trailing zeros (12990.0 -> "12990").
 * Numeric strings with up to 4 decimals are copied digit by digit, exactly.
 * JSON numbers arrive as doubles: "%.4f" of the nearest double gives back the
 * written value whenever it has at most 15 significant digits (any CLP amount
 * up to 10^11 with 4 decimals). At most 14 integer digits; larger -> NULL.
 */
#define DEC_MAX_ABS 1e14

/* Removes trailing fraction zeros (and a bare '.') and turns "-0" into "0". */
static void decimal_trim(char *s)
{
    char *dot = strchr(s, '.');
    if (dot) {
        char *end = s + strlen(s);
        while (end > dot + 1 && end[-1] == '0')
            *--end = '\0';
        if (end == dot + 1)
            *dot = '\0';
    }
    if (strcmp(s, "-0") == 0)
        memmove(s, s + 1, 2);
}

static bool decimal_from_double(double d, char *dst, size_t n)
{
    if (!isfinite(d) || fabs(d) >= DEC_MAX_ABS)
        return false;
    int k = snprintf(dst, n, "%.4f", d);
    if (k < 0 || (size_t)k >= n)
        return false;
    decimal_trim(dst);
    return true;
}

/*
 * Plain decimal text ("68643.0", "-12.5") is normalized digit by digit so no
 * binary rounding touches it; more than 4 decimals or exponents go through
 * double rounding like JSON numbers.
 */
static bool decimal_from_string(const char *s, char *dst, size_t n)
{
    const char *p = s + (*s == '-' || *s == '+');
    size_t int_digits = strspn(p, "0123456789");
    const char *frac = p[int_digits] == '.' ? p + int_digits + 1 : p + int_digits;
    size_t frac_digits = strspn(frac, "0123456789");
    bool plain = frac[frac_digits] == '\0' && int_digits + frac_digits > 0 && frac_digits <= 4;
    if (!plain) {
        if (!*s || s[strspn(s, "0123456789+-.eE")] != '\0')
            return false;
        char *end;
        double d = strtod(s, &end);
        if (end == s || *end)
            return false;
        return decimal_from_double(d, dst, n);
    }
    while (int_digits > 0 && *p == '0')
        p++, int_digits--;
    if (int_digits > 14)
        return false;
    int k = snprintf(dst, n, "%s%.*s%s%s%.*s", *s == '-' ? "-" : "", (int)int_digits, p,
                     int_digits ? "" : "0", frac_digits ? "." : "", (int)frac_digits, frac);
    if (k < 0 || (size_t)k >= n)
        return false;
    decimal_trim(dst);
    return true;
}

bool cat_convert_decimal(json_t *v, char *dst, size_t n)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i >= (json_int_t)DEC_MAX_ABS || i <= -(json_int_t)DEC_MAX_ABS)
            return false;
        int k = snprintf(dst, n, "%" JSON_INTEGER_FORMAT, i);
        return k > 0 && (size_t)k < n;
    }
    if (json_is_real(v))
        return decimal_from_double(json_real_value(v), dst, n);
    if (json_is_string(v))
        return decimal_from_string(json_string_value(v), dst, n);
    return false;
}

/* Unix seconds from a number or numeric string; "" and null fail. */
static bool unix_time(json_t *v, struct tm *tm)
{
    int64_t secs;
    if (!json_util_int64(v, &secs))
        return false;
    /* Years 1..9999 only: what DATE/DATETIME accept on every backend. */
    if (secs < -62135596800LL || secs > 253402300799LL)
        return false;
    time_t t = (time_t)secs;
    return gmtime_r(&t, tm) != NULL;
}

bool cat_convert_date(json_t *v, char *dst, size_t n)
{
    struct tm tm;
    if (!unix_time(v, &tm))
        return false;
    return strftime(dst, n, "%Y-%m-%d", &tm) > 0;
}

bool cat_convert_datetime(json_t *v, char *dst, size_t n)
{
    struct tm tm;
    if (!unix_time(v, &tm))
        return false;
    return strftime(dst, n, "%Y-%m-%d %H:%M:%S", &tm) > 0;
}

static bool convert_flag(json_t *v, int64_t *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    int64_t i;
    if (!json_util_int64(v, &i) || (i != 0 && i != 1))
        return false;
    *out = i;
    return true;
}

/* VARCHAR(255) counts characters: cut at 255 code points, never inside one. */
#define TEXT_MAX_CHARS 255
static size_t utf8_prefix(const char *s, size_t len, size_t max_chars)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == max_chars)
                return i;
            chars++;
        }
    }
    return len;
}

/* MySQL TEXT holds 65535 bytes: longer values are cut (at a character boundary) everywhere. */
#define LONGTEXT_MAX_BYTES 65535

static size_t utf8_prefix_bytes(const char *s, size_t len, size_t max_bytes)
{
    if (len <= max_bytes)
        return len;
    size_t n = max_bytes;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static void set_text(struct cat_rows *r, struct cat_value *cell, const char *s, size_t len)
{
    cell->kind = CAT_V_TEXT;
    cell->s = arena_copy(r, s, len);
    cell->len = len;
}

/* ---- values that do not fit: described, never silently changed ---- */

/* One item being mapped: where its problems go. */
struct map_ctx {
    const struct cat_table *t;
    const struct cat_report *rep; /* NULL: problems are not reported */
    int64_t record_id;            /* -1 when unreadable */
};

static const char *json_type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "value";
}

/* Short strings are quoted (control bytes as '?'); long ones only measured: never a huge value. */
#define SHOWN_MAX 40

static void describe(json_t *v, char *dst, size_t n)
{
    if (json_is_string(v)) {
        size_t len = json_string_length(v);
        const char *s = json_string_value(v);
        if (len > SHOWN_MAX) {
            snprintf(dst, n, "string of %zu bytes", len);
            return;
        }
        char shown[SHOWN_MAX + 1];
        for (size_t i = 0; i < len; i++)
            shown[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' ? '?' : s[i];
        shown[len] = '\0';
        snprintf(dst, n, "string \"%s\"", shown);
    } else if (json_is_integer(v)) {
        snprintf(dst, n, "integer %" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(dst, n, "real %.10g", json_real_value(v));
    } else {
        snprintf(dst, n, "%s", json_type_name(v));
    }
}

/* Reports "<table>.<column> (<json>): <value> <what>". */
static void report(const struct map_ctx *m, const struct cat_column *c, json_t *v, const char *what)
{
    if (!m->rep || !m->rep->fn)
        return;
    char value[64], problem[320];
    describe(v, value, sizeof(value));
    snprintf(problem, sizeof(problem), "%s.%s (%s): %s %s", m->t->name, c->name,
             c->json ? c->json : "-", value, what);
    m->rep->fn(m->rep->ctx, m->record_id, problem);
}

/*
 * A date written as text ("2024-02-15", "2024-02-15 10:00:00", "...T10:00:00Z")
 * instead of Unix seconds: kept (the document would otherwise drop out of every
 * date filter) and reported. out gets the column's canonical form.
 */
static bool date_from_text(const char *s, bool with_time, char *out, size_t n)
{
    int y, mo, d, h = 0, mi = 0, se = 0, used = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
        return false;
    const char *rest = s + 10;
    if (*rest == ' ' || *rest == 'T') {
        int k = 0;
        if (sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &k) != 3 || k != 8)
            return false;
        rest += 9;
        if (*rest == 'Z')
            rest++;
    }
    if (*rest || y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
        return false;
    int k = with_time ? snprintf(out, n, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, se)
                      : snprintf(out, n, "%04d-%02d-%02d", y, mo, d);
    return k > 0 && (size_t)k < n;
}

static bool is_empty_string(json_t *v)
{
    return json_is_string(v) && json_string_length(v) == 0;
}

/* DATE / DATETIME from Unix seconds; a date string is kept and reported. */
static void convert_date_cell(struct cat_rows *r, const struct map_ctx *m,
                              const struct cat_column *c, json_t *v, struct cat_value *cell)
{
    char tmp[32];
    bool with_time = c->type == CAT_DATETIME;
    bool ok = with_time ? cat_convert_datetime(v, tmp, sizeof(tmp))
                        : cat_convert_date(v, tmp, sizeof(tmp));
    if (ok) {
        set_text(r, cell, tmp, strlen(tmp));
    } else if (json_is_string(v) &&
               date_from_text(json_string_value(v), with_time, tmp, sizeof(tmp))) {
        set_text(r, cell, tmp, strlen(tmp));
        report(m, c, v, "is a date string, not Unix seconds; stored as the date it names");
    } else {
        report(m, c, v, "is not Unix seconds within years 1..9999; stored NULL");
    }
}

/* Replaces each NUL by U+FFFD, so no backend cuts the text there. Owned. */
static char *replace_nul(const char *s, size_t len, size_t *out_len)
{
    size_t nul = 0;
    for (size_t i = 0; i < len; i++)
        nul += s[i] == '\0';
    char *out = xmalloc(len + 2 * nul + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0') {
            memcpy(out + k, "\xef\xbf\xbd", 3);
            k += 3;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    *out_len = k;
    return out;
}

/* The value as text (owned), and what a non-text JSON type becomes: NULL for null. */
static char *text_of(json_t *v, size_t *len, bool *coerced)
{
    char tmp[64];
    *coerced = false;
    if (json_is_string(v))
        return replace_nul(json_string_value(v), json_string_length(v), len);
    if (json_is_integer(v)) {
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        /* Numeric codes (barCode 7801234000017.0) read as written; beyond that, all digits. */
        if (!decimal_from_double(json_real_value(v), tmp, sizeof(tmp)))
            snprintf(tmp, sizeof(tmp), "%.17g", json_real_value(v));
    } else {
        /* true, false, objects and arrays: their JSON text, which the column can hold. */
        *coerced = true;
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            return NULL;
        *len = strlen(s);
        char *copy = xstrndup(s, *len);
        free(s);
        return copy;
    }
    *len = strlen(tmp);
    return xstrndup(tmp, *len);
}

/* Text columns take strings as they are and render numbers (codeSii 33, numeric barCode). */
static void convert_text(struct cat_rows *r, const struct map_ctx *m, const struct cat_column *c,
                         json_t *v, struct cat_value *cell)
{
    size_t len = 0;
    bool coerced;
    char *s = text_of(v, &len, &coerced);
    if (!s) {
        report(m, c, v, "cannot be rendered as text; stored NULL");
        return;
    }
    if (coerced)
        report(m, c, v, "is not text; stored as its JSON text");
    if (json_is_string(v) && memchr(json_string_value(v), '\0', json_string_length(v)))
        report(m, c, v, "holds NUL characters; stored with U+FFFD in their place");
    size_t keep = c->type == CAT_TEXT ? utf8_prefix(s, len, TEXT_MAX_CHARS)
                                      : utf8_prefix_bytes(s, len, LONGTEXT_MAX_BYTES);
    if (keep < len)
        report(m, c, v,
               c->type == CAT_TEXT ? "is longer than the column's 255 characters; stored its "
                                     "first 255"
                                   : "is longer than the column's 65535 bytes; stored its first "
                                     "65535 at a character boundary");
    set_text(r, cell, s, keep);
    free(s);
}

/* Fills cell from v (present, not null); a value that does not fit is reported. */
static void convert_cell(struct cat_rows *r, const struct map_ctx *m, const struct cat_column *c,
                         json_t *v, struct cat_value *cell)
{
    char tmp[64];
    switch (c->type) {
    case CAT_ID:
    case CAT_INT:
        if (json_util_int64(v, &cell->i))
            cell->kind = CAT_V_INT;
        else if (!is_empty_string(v))
            report(m, c, v, "is not an integer within 64 bits; stored NULL");
        return;
    case CAT_FLAG:
        if (convert_flag(v, &cell->i))
            cell->kind = CAT_V_INT;
        else if (!is_empty_string(v))
            report(m, c, v, "is not a 0/1 flag; stored NULL");
        return;
    case CAT_DECIMAL:
        if (cat_convert_decimal(v, tmp, sizeof(tmp)))
            set_text(r, cell, tmp, strlen(tmp));
        else if (!is_empty_string(v))
            report(m, c, v, "is not a number within DECIMAL(18,4); stored NULL");
        return;
    case CAT_DATE:
    case CAT_DATETIME:
        if (!is_empty_string(v))
            convert_date_cell(r, m, c, v, cell);
        return;
    case CAT_TEXT:
    case CAT_LONGTEXT:
        convert_text(r, m, c, v, cell);
        return;
    case CAT_SYNCED_AT:
    case CAT_SERIAL:
    case CAT_DOCUMENT: /* the ETL's own columns: never mapped from Bsale JSON */
        return;
    }
}

/* The first present alternative of a '|'-separated path. Borrowed from item. */
static json_t *lookup(json_t *item, const char *paths)
{
    char one[128];
    const char *p = paths;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n < sizeof(one)) {
            memcpy(one, p, n);
            one[n] = '\0';
            json_t *v = json_util_path(item, one);
            if (v && !json_is_null(v))
                return v;
        }
        if (!bar)
            return NULL;
        p = bar + 1;
    }
}

/* The record's id for reports: its first key column read from JSON, -1 when unreadable. */
static int64_t record_id(const struct cat_table *t, json_t *item)
{
    for (size_t i = 0; i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        if ((c->flags & CAT_KEY) && c->json) {
            int64_t id;
            return json_util_int64(lookup(item, c->json), &id) ? id : -1;
        }
    }
    return -1;
}

/* A key cell: must convert exactly, else *why says what is wrong. */
static bool key_cell(const struct cat_column *c, json_t *v, struct cat_value *cell, char *why,
                     size_t n)
{
    if (!v) {
        snprintf(why, n, "key column '%s' (%s) is missing", c->name, c->json);
        return false;
    }
    bool ok = c->type == CAT_ID || c->type == CAT_INT ? json_util_int64(v, &cell->i) : false;
    if (ok) {
        cell->kind = CAT_V_INT;
        return true;
    }
    char value[64];
    describe(v, value, sizeof(value));
    snprintf(why, n, "key column '%s' (%s) is not a valid id: %s", c->name, c->json, value);
    return false;
}

/* Maps into a new row; false with why set when the record cannot be keyed (no row kept). */
static bool map_row(struct cat_rows *r, const struct map_ctx *m, json_t *item, int64_t parent_id,
                    char *why, size_t n)
{
    const struct cat_table *t = r->table;
    if (!json_is_object(item)) {
        snprintf(why, n, "item is %s, not a JSON object", json_type_name(item));
        return false;
    }
    struct cat_value *row = rows_append(r);
    for (size_t i = 0; i < t->ncols; i++) {
        const struct cat_column *c = &t->cols[i];
        struct cat_value *cell = &row[i];
        if (c->flags & CAT_PARENT) {
            cell->kind = CAT_V_INT;
            cell->i = parent_id;
            continue;
        }
        if (!c->json)
            continue;
        json_t *v = lookup(item, c->json);
        /* The row was not counted yet: on a bad key its cells are simply reused. */
        if (c->flags & CAT_KEY) {
            if (!key_cell(c, v, cell, why, n))
                return false;
        } else if (v) {
            convert_cell(r, m, c, v, cell);
        }
    }
    r->n++;
    return true;
}

enum err_code catalog_map_item(struct cat_rows *r, json_t *item, int64_t parent_id, struct err *e)
{
    struct map_ctx m = {r->table, NULL, -1};
    char why[256];
    if (!map_row(r, &m, item, parent_id, why, sizeof(why)))
        return err_set(e, ERR_JSON, "%s: %s", r->table->name, why);
    return ERR_OK;
}

bool catalog_map_item_report(struct cat_rows *r, json_t *item, int64_t parent_id,
                             const struct cat_report *rep)
{
    struct map_ctx m = {r->table, rep, json_is_object(item) ? record_id(r->table, item) : -1};
    char why[256];
    if (map_row(r, &m, item, parent_id, why, sizeof(why)))
        return true;
    if (rep && rep->fn) {
        char problem[320];
        snprintf(problem, sizeof(problem), "%s: %s; record skipped", r->table->name, why);
        rep->fn(rep->ctx, m.record_id, problem);
    }
    return false;
}

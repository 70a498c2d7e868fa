/*
 * Renders store items in Bsale's JSON shapes, quirks included (docs/bsale-api.md):
 * ids inside references are strings, amounts may be strings, "" for empty dates.
 * Plain renderings are cached per item; expanded ones are assembled from the cache.
 */
#include "common.h"

#include "moves.h"
#include "sim.h"
#include "sim_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct doc_type_def {
    const char *name;
    int initial;
    const char *sii;
    int electronic, use, sales_note, credit_note, exempt, use_client, state;
};
static const struct doc_type_def doc_types[6] = {
    {"FACTURA ELECTRÓNICA", 1001, "33", 1, 0, 0, 0, 0, 1, 0},
    {"BOLETA ELECTRÓNICA", 48001, "39", 1, 0, 0, 0, 0, 0, 0},
    {"NOTA DE CRÉDITO ELECTRÓNICA", 501, "61", 1, 1, 0, 1, 0, 1, 0},
    {"NOTA DE VENTA", 1, "", 0, 0, 1, 0, 0, 0, 0},
    {"GUÍA DE DESPACHO ELECTRÓNICA", 1, "52", 1, 2, 0, 0, 0, 1, 0},
    {"BOLETA EXENTA ELECTRÓNICA", 1, "41", 1, 0, 0, 0, 1, 0, 1},
};

struct pay_type_def {
    const char *name;
    int is_cash, is_check, is_client_credit, is_virtual, state;
};
static const struct pay_type_def pay_types[6] = {
    {"Efectivo", 1, 0, 0, 0, 0},           {"Tarjeta de Débito", 0, 0, 0, 0, 0},
    {"Tarjeta de Crédito", 0, 0, 0, 0, 0}, {"Transferencia Bancaria", 0, 0, 0, 1, 0},
    {"Crédito Cliente", 0, 0, 1, 0, 0},    {"Cheque", 0, 1, 0, 0, 1},
};

const char *sim_pay_type_name(uint32_t type_id)
{
    return type_id >= 1 && type_id <= ARRAY_LEN(pay_types) ? pay_types[type_id - 1].name : NULL;
}

char sim_rut_dv(uint32_t rut)
{
    static const int factors[] = {2, 3, 4, 5, 6, 7};
    unsigned sum = 0;
    for (int i = 0; rut > 0; i++, rut /= 10)
        sum += (rut % 10) * (unsigned)factors[i % 6];
    unsigned dv = 11 - sum % 11;
    return dv == 11 ? '0' : dv == 10 ? 'K' : (char)('0' + dv);
}

void sim_rut_format(uint32_t rut, char *out, size_t n)
{
    snprintf(out, n, "%u.%03u.%03u-%c", rut / 1000000, rut / 1000 % 1000, rut % 1000,
             sim_rut_dv(rut));
}

/* ---- small writers ---- */

static void key(struct jw *w, const char *k)
{
    jw_raw(w, ",\"", 2);
    jw_lit(w, k);
    jw_raw(w, "\":", 2);
}

static void kint(struct jw *w, const char *k, int64_t v)
{
    key(w, k);
    jw_int(w, v);
}

static void kstr(struct jw *w, const char *k, const char *v)
{
    key(w, k);
    if (v)
        jw_str(w, v);
    else
        jw_lit(w, "null");
}

static void knum(struct jw *w, const char *k, double v, int decimals)
{
    key(w, k);
    jw_num(w, v, decimals);
}

/* Opens an object with its href and numeric id: {"href":".../res/ID.json","id":ID */
static void open_item(struct jw *w, const char *res, int64_t id)
{
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/%s/%lld.json\",\"id\":%lld", res, (long long)id,
           (long long)id);
}

static void ref(struct jw *w, const char *k, const char *res, int64_t id)
{
    key(w, k);
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/%s/%lld.json\",\"id\":\"%lld\"}", res, (long long)id,
           (long long)id);
}

static void link(struct jw *w, const char *k, const char *res, int64_t id, const char *sub)
{
    key(w, k);
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/%s/%lld/%s.json\"}", res, (long long)id, sub);
}

static struct rng item_rng(const struct sim_store *st, enum sim_table t, int64_t id)
{
    return rng_for(st->k.seed, t, (uint64_t)id);
}

/* ---- catalogs ---- */

static void render_office(struct sim_store *st, size_t i, struct jw *w)
{
    int64_t id = sim_id_base(T_OFFICES) + (int64_t)i;
    struct rng r = item_rng(st, T_OFFICES, id);
    char name[64], addr[80];
    text_office_name((uint32_t)i, name, sizeof name);
    size_t place = text_place(&r);
    text_address(&r, addr, sizeof addr);
    open_item(w, "offices", id);
    kstr(w, "name", name);
    kstr(w, "description", i == 0 ? "Casa matriz y bodega central" : "");
    kstr(w, "address", addr);
    key(w, "latitude");
    jw_str(w, i % 2 ? "" : "-33.4263");
    key(w, "longitude");
    jw_str(w, i % 2 ? "" : "-70.6118");
    kint(w, "isVirtual", 0);
    kstr(w, "country", "Chile");
    kstr(w, "municipality", text_municipality(place));
    kstr(w, "city", text_city(place));
    kstr(w, "zipCode", i % 2 ? NULL : "7500000");
    key(w, "costCenter");
    jw_fmt(w, "\"CC-%02zu\"", i + 1);
    kint(w, "state", st->office_state[i]);
    kint(w, "imagestionCellarId", 0);
    jw_lit(w, "}");
}

static void render_doc_type(struct sim_store *st, size_t i, struct jw *w)
{
    const struct doc_type_def *d = &doc_types[i];
    open_item(w, "document_types", (int64_t)i + 1);
    kstr(w, "name", d->name);
    kint(w, "initialNumber", d->initial);
    kstr(w, "codeSii", d->sii);
    kint(w, "isElectronicDocument", d->electronic);
    kint(w, "breakdownTax", d->sii[0] == '3' && d->sii[1] == '3');
    kint(w, "use", d->use);
    kint(w, "isSalesNote", d->sales_note);
    kint(w, "isExempt", d->exempt);
    kint(w, "restrictsTax", 0);
    kint(w, "useClient", d->use_client);
    kstr(w, "messageBodyFormat", NULL);
    kint(w, "thermalPrinter", i == 1);
    kint(w, "copyNumber", 1);
    kint(w, "isCreditNote", d->credit_note);
    kint(w, "continuedHigh", 0);
    kstr(w, "ledgerAccount", i % 2 ? "" : NULL);
    kint(w, "ipadPrint", 0);
    kstr(w, "ipadPrintHigh", "0");
    kint(w, "state", d->state);
    ref(w, "book_type", "book_types", d->use == 1 ? 2 : 1);
    jw_lit(w, "}");
}

static void render_pay_type(struct sim_store *st, size_t i, struct jw *w)
{
    const struct pay_type_def *p = &pay_types[i];
    int64_t id = (int64_t)i + 1;
    open_item(w, "payment_types", id);
    kstr(w, "name", p->name);
    kint(w, "isVirtual", p->is_virtual);
    kint(w, "isCheck", p->is_check);
    key(w, "maxCheck");
    if (p->is_check)
        jw_int(w, 3);
    else
        jw_lit(w, "null");
    kint(w, "isCreditNote", 0);
    kint(w, "isClientCredit", p->is_client_credit);
    kint(w, "isCash", p->is_cash);
    kint(w, "isCreditMemo", 0);
    kint(w, "state", p->state);
    kint(w, "maxClientCuota", p->is_client_credit ? 12 : 0);
    kstr(w, "ledgerAccount", NULL);
    kstr(w, "ledgerCode", NULL);
    kint(w, "isAgreementBank", 0);
    kstr(w, "agreementCode", "");
    link(w, "dynamic_attributes", "payment_types", id, "dynamic_attributes");
    jw_lit(w, "}");
}

void sim_user_names(const struct sim_store *st, size_t i, const char **first, const char **last)
{
    struct rng r = item_rng(st, T_USERS, sim_id_base(T_USERS) + (int64_t)i);
    *first = text_first_name(&r);
    *last = text_last_name(&r);
}

static void render_user(struct sim_store *st, size_t i, struct jw *w)
{
    int64_t id = sim_id_base(T_USERS) + (int64_t)i;
    struct rng r = item_rng(st, T_USERS, id);
    const char *first = text_first_name(&r);
    const char *last = text_last_name(&r);
    char email[96];
    text_email(first, last, (uint32_t)id, email, sizeof email);
    open_item(w, "users", id);
    kstr(w, "firstName", first);
    kstr(w, "lastName", last);
    kstr(w, "email", email);
    kint(w, "state", st->users[i].state);
    ref(w, "office", "offices", st->users[i].office_id);
    jw_lit(w, "}");
}

static void render_product_type(struct sim_store *st, size_t i, struct jw *w)
{
    int64_t id = sim_id_base(T_PRODUCT_TYPES) + (int64_t)i;
    char name[64];
    text_type_name((uint32_t)i, name, sizeof name);
    open_item(w, "product_types", id);
    kstr(w, "name", name);
    kint(w, "isEditable", 1);
    kint(w, "state", st->ptype_state[i]);
    kint(w, "imagestionCategoryId", 0);
    kint(w, "prestashopCategoryId", 0);
    link(w, "attributes", "product_types", id, "attributes");
    jw_lit(w, "}");
}

static void render_product(struct sim_store *st, size_t i, struct jw *w)
{
    const struct s_product *p = &st->products[i];
    int64_t id = sim_id_base(T_PRODUCTS) + (int64_t)i;
    struct rng r = item_rng(st, T_PRODUCTS, id);
    char name[160];
    text_product_name(&r, (uint32_t)i, p->allow_decimal, p->classification == 1, name, sizeof name);
    open_item(w, "products", id);
    /* Bsale sometimes has a null name with the text in the description. */
    bool null_name = i % 97 == 50;
    kstr(w, "name", null_name ? NULL : name);
    kstr(w, "description", null_name ? name : (i % 3 == 0 ? NULL : ""));
    kint(w, "classification", p->classification);
    kstr(w, "ledgerAccount", NULL);
    kstr(w, "costCenter", i % 2 ? NULL : "");
    kint(w, "allowDecimal", p->allow_decimal);
    kint(w, "stockControl", p->classification == 1 ? 0 : 1);
    kint(w, "printDetailPack", 0);
    kint(w, "state", p->state);
    kint(w, "prestashopProductId", 0);
    kint(w, "presashopAttributeId", 0);
    ref(w, "product_type", "product_types", p->type_id);
    link(w, "product_taxes", "products", id, "product_taxes");
    link(w, "variants", "products", id, "variants");
    jw_lit(w, "}");
}

static void variant_codes(struct sim_store *st, int64_t id, char *bar, size_t nb, char *code,
                          size_t nc, const char **desc)
{
    struct rng r = item_rng(st, T_VARIANTS, id);
    *desc = text_size(&r);
    unsigned long long digits = 7800000000000ULL + (rng_next(&r) % 9999999999ULL);
    snprintf(bar, nb, "%llu", digits);
    if (id % 3 == 0)
        snprintf(code, nc, "%s", bar);
    else
        snprintf(code, nc, "PAT-%05lld", (long long)id);
}

static const struct sim_rendered *cached(struct sim_store *st, enum sim_table t, size_t idx);

static void render_variant(struct sim_store *st, size_t i, unsigned expand, struct jw *w)
{
    const struct s_variant *v = &st->variants[i];
    int64_t id = sim_id_base(T_VARIANTS) + (int64_t)i;
    char bar[24], code[32];
    const char *desc;
    variant_codes(st, id, bar, sizeof bar, code, sizeof code, &desc);
    open_item(w, "variants", id);
    kstr(w, "description", desc);
    kint(w, "unlimitedStock", st->products[v->product_idx].classification == 1);
    kint(w, "allowNegativeStock", i % 11 == 3);
    kint(w, "state", v->state);
    kstr(w, "barCode", bar);
    kstr(w, "code", code);
    kint(w, "imagestionCenterCost", 0);
    kint(w, "imagestionAccount", 0);
    kint(w, "imagestionConceptCod", 0);
    kint(w, "imagestionProyectCod", 0);
    kint(w, "imagestionCategoryCod", 0);
    kint(w, "imagestionProductId", 0);
    kint(w, "serialNumber", 0);
    kint(w, "isLot", 0);
    kint(w, "prestashopCombinationId", 0);
    kint(w, "prestashopValueId", 0);
    if (expand & EXP_PRODUCT) {
        const struct sim_rendered *p = cached(st, T_PRODUCTS, v->product_idx);
        key(w, "product");
        jw_raw(w, p->data, p->len);
    } else {
        ref(w, "product", "products", sim_id_base(T_PRODUCTS) + v->product_idx);
    }
    link(w, "attribute_values", "variants", id, "attribute_values");
    link(w, "costs", "variants", id, "costs");
    jw_lit(w, "}");
}

struct client_text {
    bool company;
    const char *first, *last, *company_name, *activity;
    size_t place;
    char address[80], email[96], phone[20];
};

static void client_text(const struct sim_store *st, int64_t id, struct client_text *ct)
{
    struct rng r = rng_for(st->k.seed, T_CLIENTS, (uint64_t)id);
    ct->company = rng_chance(&r, 0.2); /* same first draw as gen.c */
    ct->first = text_first_name(&r);
    ct->last = text_last_name(&r);
    ct->company_name = text_company(&r);
    ct->place = text_place(&r);
    text_address(&r, ct->address, sizeof ct->address);
    ct->activity = ct->company ? text_activity(&r) : "Sin Giro";
    text_email(ct->first, ct->last, (uint32_t)id, ct->email, sizeof ct->email);
    snprintf(ct->phone, sizeof ct->phone, "+569%08u", rng_below(&r, 100000000));
}

static void render_client(struct sim_store *st, size_t i, struct jw *w)
{
    const struct s_client *c = &st->clients[i];
    int64_t id = sim_id_base(T_CLIENTS) + (int64_t)i;
    struct client_text ct = {0};
    client_text(st, id, &ct);
    struct rng r = rng_for(st->k.seed, T_CLIENTS + 64, (uint64_t)id);
    char rut[20], fullname[96];
    sim_rut_format(c->rut, rut, sizeof rut);
    snprintf(fullname, sizeof fullname, "%s %s", ct.first, ct.last);
    bool credit = ct.company && i % 2 == 0;
    int points = (i % 4 == 1) ? (int)(10 + rng_below(&r, 990)) : 0;
    open_item(w, "clients", id);
    kstr(w, "firstName", ct.first);
    kstr(w, "lastName", ct.last);
    kstr(w, "code", rut);
    kstr(w, "phone", i % 5 == 4 ? "" : ct.phone);
    kstr(w, "company", ct.company ? ct.company_name : fullname);
    kstr(w, "note", i % 3 == 0 ? NULL : (i % 17 == 5 ? "Entregar en bodega \\ portón 2" : ""));
    kstr(w, "facebook", i % 2 ? NULL : "");
    kstr(w, "twitter", "");
    kint(w, "hasCredit", credit);
    key(w, "maxCredit");
    jw_numstr(w, credit ? 500000.0 : (i % 7 == 0 ? 10000.0 : 0.0), 1);
    kint(w, "state", c->state);
    kstr(w, "activity", ct.activity);
    kstr(w, "city", text_city(ct.place));
    kstr(w, "municipality", text_municipality(ct.place));
    kstr(w, "address", ct.address);
    kstr(w, "email", i % 6 == 5 ? "" : ct.email);
    kint(w, "companyOrPerson", ct.company);
    kint(w, "points", points);
    key(w, "pointsUpdated");
    if (points)
        jw_int(w, st->k.today - (int64_t)rng_below(&r, 90) * SIM_DAY + 50000);
    else
        jw_lit(w, "\"\"");
    kint(w, "accumulatePoints", points ? 1 : 0);
    kint(w, "sendDte", ct.company);
    kint(w, "prestashopClienId", 0);
    link(w, "contacts", "clients", id, "contacts");
    link(w, "attributes", "clients", id, "attributes");
    /* Bsale's own typo: the addresses href lacks the colon after https. */
    key(w, "addresses");
    jw_fmt(w, "{\"href\":\"https//api.bsale.io/v1/clients/%lld/addresses.json\"}", (long long)id);
    jw_lit(w, "}");
}

static void render_price_list(struct sim_store *st, size_t i, struct jw *w)
{
    static const char *const names[] = {"Lista Base", "Mayorista", "Lista Web (antigua)"};
    int64_t id = sim_id_base(T_PRICE_LISTS) + (int64_t)i;
    char name[48];
    if (i < ARRAY_LEN(names))
        snprintf(name, sizeof name, "%s", names[i]);
    else
        snprintf(name, sizeof name, "Lista %zu", i + 1);
    /* The price list id is a string even at top level. */
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/price_lists/%lld.json\",\"id\":\"%lld\"", (long long)id,
           (long long)id);
    kstr(w, "name", name);
    kstr(w, "description", i == 0 ? "Precios de venta público" : NULL);
    kint(w, "state", st->plist_state[i]);
    ref(w, "coin", "coins", 1);
    link(w, "details", "price_lists", id, "details");
    jw_lit(w, "}");
}

static void render_pl_detail(struct sim_store *st, size_t i, struct jw *w)
{
    size_t list = i / st->n_variants, v = i % st->n_variants;
    int64_t id = sim_id_base(T_PL_DETAILS) + (int64_t)i;
    int64_t vid = sim_id_base(T_VARIANTS) + (int64_t)v;
    double gross = st->pl_price[i];
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/price_lists/%lld/details/%lld.json\",\"id\":%lld",
           (long long)(sim_id_base(T_PRICE_LISTS) + (int64_t)list), (long long)id, (long long)id);
    knum(w, "variantValue", round(gross / 1.19 * 1000.0) / 1000.0, 3);
    knum(w, "variantValueWithTaxes", gross, 2);
    /* Quirk: singular "variant" in this href. */
    key(w, "variant");
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/variant/%lld.json\",\"id\":\"%lld\"}", (long long)vid,
           (long long)vid);
    jw_lit(w, "}");
}

static void render_stock(struct sim_store *st, size_t i, struct jw *w)
{
    size_t v = i / st->n_offices, o = i % st->n_offices;
    int64_t id = sim_id_base(T_STOCKS) + (int64_t)i;
    struct rng r = item_rng(st, T_STOCKS, id);
    bool weighed = st->products[st->variants[v].product_idx].allow_decimal;
    double q = rng_chance(&r, 0.15) ? 0 : (double)rng_below(&r, 120);
    if (weighed)
        q = (double)rng_below(&r, 25000) / 100.0;
    q += sim_stock_delta(st, i);
    double reserved = (q >= 2 && rng_chance(&r, 0.1)) ? 1 + rng_below(&r, 2) : 0;
    open_item(w, "stocks", id);
    knum(w, "quantity", q, 2);
    knum(w, "quantityReserved", reserved, 2);
    knum(w, "quantityAvailable", q - reserved, 2);
    ref(w, "variant", "variants", sim_id_base(T_VARIANTS) + (int64_t)v);
    ref(w, "office", "offices", sim_id_base(T_OFFICES) + (int64_t)o);
    jw_lit(w, "}");
}

/* ---- documents, lines, payments ---- */

/* The shortest text that reads back as v, with a fraction: 1148.0672268907563, 1000.0. */
static void jw_exact(struct jw *w, double v)
{
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    jw_lit(w, tmp);
    if (!strpbrk(tmp, ".eEn"))
        jw_lit(w, ".0");
}

static void render_line(struct sim_store *st, size_t i, struct jw *w)
{
    const struct s_line *l = &st->lines[i];
    int64_t id = sim_id_base(T_DOC_DETAILS) + (int64_t)i;
    int64_t did = sim_id_base(T_DOCUMENTS) + (int64_t)l->doc_idx;
    int64_t vid = sim_id_base(T_VARIANTS) + (int64_t)l->variant_idx;
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/documents/%lld/details/%lld.json\",\"id\":%lld",
           (long long)did, (long long)id, (long long)id);
    kint(w, "lineNumber", 0); /* Bsale answers 0 on every line: order by id */
    knum(w, "quantity", l->quantity, 3);
    kint(w, "netUnitValue", llround(l->net_unit));
    key(w, "netUnitValueRaw");
    jw_exact(w, l->net_unit);
    kint(w, "totalUnitValue", l->total_unit);
    kint(w, "netAmount", l->net);
    kint(w, "taxAmount", l->tax);
    kint(w, "totalAmount", l->total);
    kint(w, "netDiscount", 0);
    kint(w, "totalDiscount", 0);
    knum(w, "discountPercentage", 0, 1);
    kint(w, "discountId", 0);
    kint(w, "gratuity", 0);
    char bar[24], code[32];
    const char *desc;
    variant_codes(st, vid, bar, sizeof bar, code, sizeof code, &desc);
    /* Here the variant id is a number, unlike other references. */
    key(w, "variant");
    jw_fmt(w, "{\"href\":\"" SIM_HREF "/variants/%lld.json\",\"id\":%lld,\"description\":",
           (long long)vid, (long long)vid);
    jw_str(w, desc);
    jw_lit(w, ",\"code\":");
    jw_str(w, code);
    jw_lit(w, "}");
    kstr(w, "note", i % 29 == 7 ? "Sin bolsa, cliente trae \"su\" caja" : "");
    kint(w, "relatedDetailId", l->related);
    jw_lit(w, "}");
}

/* A Unix date, or "" where Bsale has none. */
static void kdate(struct jw *w, const char *k, int64_t v)
{
    key(w, k);
    if (v < 0)
        jw_lit(w, "\"\"");
    else
        jw_int(w, v);
}

static void render_payment(struct sim_store *st, size_t i, struct jw *w)
{
    const struct s_payment *p = &st->pays[i];
    int64_t id = sim_id_base(T_PAYMENTS) + (int64_t)i;
    open_item(w, "payments", id);
    kdate(w, "recordDate", p->record_date);
    key(w, "amount");
    if (i % 4 == 3)
        jw_num(w, (double)p->amount, 2);
    else
        jw_numstr(w, (double)p->amount, 2);
    key(w, "operationNumber");
    if (p->type_id == 2 || p->type_id == 3 || p->type_id == 4)
        jw_fmt(w, "\"%06u\"", (unsigned)(rng_mix((uint64_t)id) % 1000000));
    else
        jw_lit(w, i % 2 ? "null" : "\"\"");
    kdate(w, "accountingDate", p->accounting_date);
    kstr(w, "checkDate", NULL);
    kstr(w, "checkNumber", NULL);
    kstr(w, "checkAmount", "0");
    kint(w, "checkTaken", 0);
    kint(w, "isCreditPayment", p->is_credit);
    kint(w, "createdAt", p->created_at);
    kint(w, "state", p->state);
    ref(w, "payment_type", "payment_types", p->type_id);
    if (p->doc_idx >= 0) {
        ref(w, "document", "documents", sim_id_base(T_DOCUMENTS) + p->doc_idx);
    } else {
        key(w, "documents");
        jw_lit(w, "[");
        for (unsigned k = 0; k < p->n_credit_docs; k++) {
            if (k)
                jw_raw(w, ",", 1);
            sim_render_credit_doc(p, k, w);
            jw_lit(w, "}");
        }
        jw_lit(w, "]");
    }
    ref(w, "office", "offices", p->office_id);
    ref(w, "user", "users", p->user_id);
    jw_lit(w, "}");
}

/* Appends an embedded or sub-collection envelope over items [first, first+n) of t. */
static void envelope(struct sim_store *st, struct jw *w, const char *href, enum sim_table t,
                     size_t first, size_t count, size_t offset, size_t limit, const char *next)
{
    jw_fmt(w, "{\"href\":\"%s\",\"count\":%zu,\"limit\":%zu,\"offset\":%zu,\"items\":[", href,
           count, limit, offset);
    for (size_t k = offset; k < count && k < offset + limit; k++) {
        if (k > offset)
            jw_raw(w, ",", 1);
        const struct sim_rendered *r = cached(st, t, first + k);
        sim_put_garbled(st, t, first + k, r->data, r->len, w);
    }
    jw_lit(w, "]");
    if (next && offset + limit < count)
        jw_fmt(w, ",\"next\":\"%s?limit=%zu&offset=%zu\"", next, limit, offset + limit);
    jw_lit(w, "}");
}

static void doc_token(const struct sim_store *st, int64_t id, char *out, size_t n)
{
    snprintf(out, n, "%012llx",
             (unsigned long long)(rng_mix(st->k.seed * 31 + (uint64_t)id) & 0xffffffffffffULL));
}

/* Live documents carry CLP amounts as JSON integers. */
static void doc_amounts(struct jw *w, const struct s_document *d)
{
    kint(w, "totalAmount", d->total);
    kint(w, "netAmount", d->net);
    kint(w, "taxAmount", d->tax);
    kint(w, "notExemptAmount", d->net);
    jw_lit(w, ",\"exemptAmount\":0,\"exportTotalAmount\":0,\"exportNetAmount\":0,"
              "\"exportTaxAmount\":0,\"exportExemptAmount\":0,\"commissionRate\":0,"
              "\"commissionNetAmount\":0,\"commissionTaxAmount\":0,"
              "\"commissionTotalAmount\":0,\"percentageTaxWithheld\":0.0,"
              "\"purchaseTaxAmount\":0,\"purchaseTotalAmount\":0");
}

/* state, and the cancellation members live documents carry (null/0 until voided). */
static void doc_state(struct jw *w, const struct s_document *d)
{
    kint(w, "state", d->state);
    kint(w, "cancellationStatus", d->cancel_status);
    key(w, "cancellationDate");
    if (d->cancel_date)
        jw_int(w, d->cancel_date);
    else
        jw_lit(w, "null");
}

static void render_document(struct sim_store *st, size_t i, unsigned expand, struct jw *w)
{
    const struct s_document *d = &st->docs[i];
    const struct doc_type_def *dt = &doc_types[d->type_id - 1];
    int64_t id = sim_id_base(T_DOCUMENTS) + (int64_t)i;
    char token[16], href[96];
    doc_token(st, id, token, sizeof token);
    open_item(w, "documents", id);
    kint(w, "emissionDate", d->emission);
    kint(w, "expirationDate", d->emission + (d->type_id == 1 ? 30 * SIM_DAY : 0));
    kint(w, "generationDate", d->generation);
    kint(w, "rcofDate", d->emission);
    kint(w, "number", d->number);
    kstr(w, "serialNumber", NULL);
    kstr(w, "trackingNumber", NULL);
    doc_amounts(w, d);
    if (d->client_id && d->type_id == 1) {
        struct client_text ct = {0};
        client_text(st, d->client_id, &ct);
        kstr(w, "address", ct.address);
        kstr(w, "municipality", text_municipality(ct.place));
        kstr(w, "city", text_city(ct.place));
    } else {
        kstr(w, "address", "");
        kstr(w, "municipality", i % 2 ? NULL : "");
        kstr(w, "city", "");
    }
    kstr(w, "urlTimbre", NULL);
    jw_fmt(w,
           ",\"urlPublicView\":\"https://app2.bsale.cl/view/5807/%s?sfd=99\""
           ",\"urlPdf\":\"https://app2.bsale.cl/view/5807/%s.pdf?sfd=99\""
           ",\"urlPublicViewOriginal\":\"https://app2.bsale.cl/view/5807/%s\""
           ",\"urlPdfOriginal\":\"https://app2.bsale.cl/view/5807/%s.pdf\"",
           token, token, token, token);
    kstr(w, "token", token);
    doc_state(w, d);
    kint(w, "commercialState", 0);
    key(w, "urlXml");
    if (dt->electronic)
        jw_fmt(w, "\"https://api.bsale.cl/v1/5807/files/%s.xml\"", token);
    else
        jw_lit(w, "null");
    kstr(w, "ted", NULL);
    kstr(w, "salesId", NULL);
    kint(w, "informedSii", dt->electronic ? (i % 53 == 1 ? 1 : 0) : 0);
    kstr(w, "responseMsgSii", dt->electronic ? "Proceso Finalizado Correctamente!" : NULL);

    if (expand & EXP_DOCUMENT_TYPE) {
        const struct sim_rendered *r = cached(st, T_DOCUMENT_TYPES, d->type_id - 1);
        key(w, "document_type");
        jw_raw(w, r->data, r->len);
    } else {
        ref(w, "document_type", "document_types", d->type_id);
    }
    if (d->client_id) { /* anonymous sales carry no client at all */
        if (expand & EXP_CLIENT) {
            const struct sim_rendered *r =
                cached(st, T_CLIENTS, d->client_id - (uint32_t)sim_id_base(T_CLIENTS));
            key(w, "client");
            jw_raw(w, r->data, r->len);
        } else {
            ref(w, "client", "clients", d->client_id);
        }
    }
    if (expand & EXP_OFFICE) {
        const struct sim_rendered *r = cached(st, T_OFFICES, d->office_id - 1);
        key(w, "office");
        jw_raw(w, r->data, r->len);
    } else {
        ref(w, "office", "offices", d->office_id);
    }
    ref(w, "user", "users", d->user_id);
    ref(w, "coin", "coins", 1);
    if (st->n_price_lists) /* the first two lists are the active ones */
        ref(w, "priceList", "price_lists",
            sim_id_base(T_PRICE_LISTS) + id % (st->n_price_lists < 2 ? 1 : 2));
    sim_render_doc_references(st, i, expand, w);
    sim_render_doc_taxes(st, i, expand, w);
    if (expand & EXP_DETAILS) {
        snprintf(href, sizeof href, SIM_HREF "/documents/%lld/details.json", (long long)id);
        key(w, "details");
        envelope(st, w, href, T_DOC_DETAILS, d->first_line, d->n_lines, 0, SIM_EMBED_MAX, NULL);
    } else {
        link(w, "details", "documents", id, "details");
    }
    sim_render_doc_sellers(st, i, expand, w);
    link(w, "attributes", "documents", id, "attributes");
    sim_render_doc_payments(st, i, expand, w);
    jw_lit(w, "}");
}

static void render_plain(struct sim_store *st, enum sim_table t, size_t idx, struct jw *w)
{
    switch (t) {
    case T_OFFICES:
        render_office(st, idx, w);
        break;
    case T_DOCUMENT_TYPES:
        render_doc_type(st, idx, w);
        break;
    case T_PAYMENT_TYPES:
        render_pay_type(st, idx, w);
        break;
    case T_USERS:
        render_user(st, idx, w);
        break;
    case T_PRODUCT_TYPES:
        render_product_type(st, idx, w);
        break;
    case T_PRODUCTS:
        render_product(st, idx, w);
        break;
    case T_VARIANTS:
        render_variant(st, idx, 0, w);
        break;
    case T_CLIENTS:
        render_client(st, idx, w);
        break;
    case T_PRICE_LISTS:
        render_price_list(st, idx, w);
        break;
    case T_STOCKS:
        render_stock(st, idx, w);
        break;
    case T_DOCUMENTS:
        render_document(st, idx, 0, w);
        break;
    case T_PAYMENTS:
        render_payment(st, idx, w);
        break;
    case T_DOC_DETAILS:
        render_line(st, idx, w);
        break;
    case T_PL_DETAILS:
        render_pl_detail(st, idx, w);
        break;
    default:
        jw_lit(w, "null");
    }
}

/*
 * Readers hold the store's read lock; two may render the same item at once, the
 * loser of the publish race frees its copy. Writers drop entries under the write lock.
 */
static const struct sim_rendered *cached(struct sim_store *st, enum sim_table t, size_t idx)
{
    struct sim_cache *c = &st->cache[t];
    struct sim_rendered *r = atomic_load_explicit(&c->slot[idx], memory_order_acquire);
    if (r)
        return r;
    struct jw w;
    jw_init(&w, 2048);
    render_plain(st, t, idx, &w);
    struct sim_rendered *fresh = xmalloc(sizeof *fresh + w.len);
    fresh->len = (uint32_t)w.len;
    memcpy(fresh->data, w.p, w.len);
    jw_free(&w);
    struct sim_rendered *expected = NULL;
    if (!atomic_compare_exchange_strong(&c->slot[idx], &expected, fresh)) {
        free(fresh);
        return expected;
    }
    return fresh;
}

static void render_expanded(struct sim_store *st, enum sim_table t, size_t idx, unsigned expand,
                            struct jw *w)
{
    enum sim_garbage kind;
    if (!sim_garbled(st, t, idx, &kind)) {
        render_document(st, idx, expand, w);
        return;
    }
    struct jw tmp = {0};
    jw_init(&tmp, 8192);
    render_document(st, idx, expand, &tmp);
    sim_garble(st, t, idx, kind, tmp.p, tmp.len, w);
    jw_free(&tmp);
}

void sim_render(struct sim_store *st, enum sim_table t, size_t idx, unsigned expand, struct jw *w)
{
    if (st->k.expand_style == EXPAND_LINK)
        expand &= ~(unsigned)EXP_PAYMENTS; /* the cached rendering already has the link */
    unsigned embeds = EXP_DETAILS | EXP_CLIENT | EXP_PAYMENTS | EXP_DOCUMENT_TYPE | EXP_OFFICE;
    if (st->k.expand_style == EXPAND_EMBED)
        embeds |= EXP_REFERENCES | EXP_DOC_TAXES | EXP_SELLERS;
    if (t == T_DOCUMENTS && (expand & embeds)) {
        render_expanded(st, t, idx, expand, w);
        return;
    }
    if (t == T_VARIANTS && (expand & EXP_PRODUCT)) {
        render_variant(st, idx, expand, w);
        return;
    }
    const struct sim_rendered *r = cached(st, t, idx);
    sim_put_garbled(st, t, idx, r->data, r->len, w);
}

/* Removed documents and their lines are not in Bsale any more. */
static bool truth_gone(const struct sim_store *st, enum sim_table t, size_t i)
{
    if (!st->n_removed)
        return false;
    if (t == T_DOCUMENTS)
        return st->docs[i].removed;
    return t == T_DOC_DETAILS && st->docs[st->lines[i].doc_idx].removed;
}

/* Appends `"key":[item,...]` with an extra parent id member on each item. */
static void truth_array(struct sim_store *st, enum sim_table t, const char *name,
                        const char *parent_key, struct jw *w)
{
    jw_fmt(w, "\"%s\":[", name);
    size_t n = sim_table_len(st, t);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (truth_gone(st, t, i))
            continue;
        if (!first)
            jw_raw(w, ",", 1);
        first = false;
        const struct sim_rendered *r = cached(st, t, i);
        if (!parent_key) {
            jw_raw(w, r->data, r->len);
            continue;
        }
        int64_t parent = t == T_DOC_DETAILS
                             ? sim_id_base(T_DOCUMENTS) + st->lines[i].doc_idx
                             : sim_id_base(T_PRICE_LISTS) + (int64_t)(i / st->n_variants);
        jw_raw(w, r->data, r->len - 1);
        jw_fmt(w, ",\"%s\":%lld}", parent_key, (long long)parent);
    }
    jw_lit(w, "]");
}

void sim_render_truth(struct sim_store *st, struct jw *w)
{
    jw_lit(w, "{");
    for (int t = T_OFFICES; t <= T_PAYMENTS; t++) {
        truth_array(st, (enum sim_table)t, sim_table_name((enum sim_table)t), NULL, w);
        jw_lit(w, ",");
    }
    truth_array(st, T_DOC_DETAILS, "document_details", "document_id", w);
    jw_lit(w, ",");
    truth_array(st, T_PL_DETAILS, "price_list_details", "price_list_id", w);
    jw_lit(w, ",");
    sim_render_payment_truth(st, w);
    jw_lit(w, ",");
    sim_render_truth_references(st, w);
    sim_moves_truth(st, w);
    sim_returns_truth(st, w);
    if (st->h.garbage_rate > 0 || st->h.empty_details_rate > 0) {
        jw_lit(w, ",");
        sim_render_garbled(st, w);
    }
    jw_lit(w, "}\n");
}

/*
 * bsale-sim against docs/bsale-api.md: envelopes, paging, filters, expand, quirks, errors,
 * statistics, mutations and determinism. Usage: test_sim_api <path-to-bsale-sim>
 */
#include "sim_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <math.h>
#include <time.h>

static const char *sim_bin;
static struct sim_proc sim;
static json_t *truth;

static const char *const store_args[] = {"--token",         TEST_TOKEN,   "--seed",          "42",
                                         "--today",         "2026-03-15", "--days",          "12",
                                         "--docs-per-day",  "18",         "--clients",       "60",
                                         "--products",      "40",         "--share-over-25", "0.06",
                                         "--share-over-50", "0.04",       "--test-hooks",    NULL};

static const char *const resources[] = {
    "offices",  "document_types", "payment_types", "users",  "product_types", "products",
    "variants", "clients",        "price_lists",   "stocks", "documents",     "payments"};

/* ---- requests ---- */

static void fetch(struct http_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fetch(struct http_result *r, const char *fmt, ...)
{
    char url[1024];
    va_list ap;
    va_start(ap, fmt);
    url_of(url, sizeof url, sim.base, fmt, ap);
    va_end(ap);
    http_get(url, TEST_TOKEN, r);
}

static json_t *get_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *get_json(const char *fmt, ...)
{
    char url[1024];
    struct http_result r = {0};
    va_list ap;
    va_start(ap, fmt);
    url_of(url, sizeof url, sim.base, fmt, ap);
    va_end(ap);
    http_get(url, TEST_TOKEN, &r);
    if (r.status != 200)
        fprintf(stderr, "GET %s -> %ld %s\n", url, r.status, r.body);
    assert_int_equal(r.curl_code, 0);
    assert_int_equal(r.status, 200);
    json_error_t jerr;
    json_t *j = json_loadb(r.body, r.len, 0, &jerr);
    if (!j)
        fprintf(stderr, "bad JSON from %s: %s\n", url, jerr.text);
    assert_non_null(j);
    http_result_free(&r);
    return j;
}

static char *hook(const char *method, const char *path, const char *body, long *status)
{
    char url[256];
    struct http_result r = {0};
    snprintf(url, sizeof url, "%s%s", sim.root, path);
    http_call(method, url, TEST_TOKEN, body, 60000, &r);
    assert_int_equal(r.curl_code, 0);
    *status = r.status;
    return r.body;
}

static json_t *load_truth(void)
{
    long status;
    char *body = hook("GET", "/__truth", NULL, &status);
    assert_int_equal(status, 200);
    json_t *t = json_loads(body, 0, NULL);
    assert_non_null(t);
    free(body);
    return t;
}

static json_t *truth_of(const char *res)
{
    json_t *a = json_object_get(truth, res);
    assert_true(json_is_array(a));
    return a;
}

/* Lines of one document as /documents/{id}/details.json shows them (no document_id). */
static json_t *truth_lines(long long doc_id)
{
    json_t *out = json_array(), *line;
    size_t i;
    json_array_foreach (truth_of("document_details"), i, line) {
        if (jget_id(line, "document_id") != doc_id)
            continue;
        json_t *copy = json_deep_copy(line);
        json_object_del(copy, "document_id");
        json_array_append_new(out, copy);
    }
    return out;
}

static json_t *truth_prices(long long list_id)
{
    json_t *out = json_array(), *p;
    size_t i;
    json_array_foreach (truth_of("price_list_details"), i, p) {
        if (jget_id(p, "price_list_id") != list_id)
            continue;
        json_t *copy = json_deep_copy(p);
        json_object_del(copy, "price_list_id");
        json_array_append_new(out, copy);
    }
    return out;
}

/* A document with more than min_lines lines, or -1. */
static long long long_document(size_t min_lines)
{
    json_t *docs = truth_of("documents"), *d;
    size_t i;
    json_array_foreach (docs, i, d) {
        long long id = jget_id(d, "id");
        json_t *lines = truth_lines(id);
        size_t n = json_array_size(lines);
        json_decref(lines);
        if (n > min_lines)
            return id;
    }
    return -1;
}

static int setup(void **state)
{
    if (!sim_proc_start(&sim, sim_bin, store_args))
        return -1;
    truth = load_truth();
    return 0;
}

static int teardown(void **state)
{
    json_decref(truth);
    return sim_proc_stop(&sim) == 0 ? 0 : -1;
}

/* ---- paging ---- */

/* Pages path with page size `limit` and checks the union of pages against expect, in order. */
static void page_through(const char *path, size_t limit, json_t *expect)
{
    size_t n = json_array_size(expect), off = 0, eff = limit > 50 ? 50 : limit;
    const char *sep = strchr(path, '?') ? "&" : "?";
    for (int guard = 0; guard < 100000; guard++) {
        json_t *page = get_json("%s%slimit=%zu&offset=%zu", path, sep, limit, off);
        json_t *items = json_object_get(page, "items");
        assert_int_equal(json_integer_value(json_object_get(page, "count")), n);
        assert_int_equal(json_integer_value(json_object_get(page, "limit")), eff);
        assert_int_equal(json_integer_value(json_object_get(page, "offset")), off);
        assert_true(json_array_size(items) <= eff);
        bool more = off + json_array_size(items) < n;
        assert_int_equal(json_object_get(page, "next") != NULL, more);
        json_t *item;
        size_t k;
        json_array_foreach (items, k, item) {
            json_t *want = json_array_get(expect, off + k);
            if (!json_equal(item, want)) {
                char *a = json_dumps(item, JSON_COMPACT), *b = json_dumps(want, JSON_COMPACT);
                fprintf(stderr, "%s offset %zu: got %s\nwant %s\n", path, off + k, a, b);
                free(a);
                free(b);
                fail();
            }
        }
        off += json_array_size(items);
        bool done = json_array_size(items) == 0 || off >= n;
        json_decref(page);
        if (done)
            break;
    }
    assert_int_equal(off, n);
}

static void test_paging_every_resource(void **state)
{
    static const size_t sizes[] = {1, 7, 50, 80};
    char path[128];
    for (size_t r = 0; r < sizeof resources / sizeof *resources; r++) {
        snprintf(path, sizeof path, "/%s.json", resources[r]);
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            page_through(path, sizes[s], truth_of(resources[r]));
    }
}

static void test_paging_sub_collections(void **state)
{
    char path[128];
    long long doc = long_document(50);
    assert_true(doc > 0);
    json_t *lines = truth_lines(doc);
    snprintf(path, sizeof path, "/documents/%lld/details.json", doc);
    page_through(path, 1, lines);
    page_through(path, 7, lines);
    page_through(path, 50, lines);
    page_through(path, 80, lines);
    json_decref(lines);
    json_t *prices = truth_prices(2);
    assert_true(json_array_size(prices) > 50);
    page_through("/price_lists/2/details.json", 50, prices);
    page_through("/price_lists/2/details.json", 7, prices);
    json_decref(prices);
}

static void test_envelope_fields(void **state)
{
    size_t n = json_array_size(truth_of("documents"));
    json_t *p = get_json("/documents.json");
    assert_string_equal(json_string_value(json_object_get(p, "href")),
                        "https://api.bsale.io/v1/documents.json");
    assert_int_equal(json_integer_value(json_object_get(p, "limit")), 25);
    assert_int_equal(json_integer_value(json_object_get(p, "offset")), 0);
    assert_int_equal(json_array_size(json_object_get(p, "items")), 25);
    assert_string_equal(json_string_value(json_object_get(p, "next")),
                        "https://api.bsale.io/v1/documents.json?limit=25&offset=25");
    json_decref(p);

    p = get_json("/documents.json?limit=1000");
    assert_int_equal(json_integer_value(json_object_get(p, "limit")), 50);
    assert_int_equal(json_array_size(json_object_get(p, "items")), 50);
    json_decref(p);

    p = get_json("/documents.json?limit=10&offset=%zu", n - 3);
    assert_int_equal(json_array_size(json_object_get(p, "items")), 3);
    assert_null(json_object_get(p, "next"));
    json_decref(p);

    p = get_json("/documents.json?offset=%zu", n + 100);
    assert_int_equal(json_integer_value(json_object_get(p, "count")), n);
    assert_int_equal(json_array_size(json_object_get(p, "items")), 0);
    assert_null(json_object_get(p, "next"));
    json_decref(p);
}

/* ---- single items and counts ---- */

static void test_single_and_count(void **state)
{
    for (size_t r = 0; r < sizeof resources / sizeof *resources; r++) {
        json_t *all = truth_of(resources[r]);
        size_t n = json_array_size(all);
        json_t *c = get_json("/%s/count.json", resources[r]);
        assert_int_equal(json_integer_value(json_object_get(c, "count")), n);
        json_decref(c);
        size_t picks[] = {0, n / 2, n - 1};
        for (size_t k = 0; k < 3; k++) {
            json_t *want = json_array_get(all, picks[k]);
            json_t *got = get_json("/%s/%lld.json", resources[r], jget_id(want, "id"));
            assert_true(json_equal(got, want));
            json_decref(got);
        }
    }
}

static size_t truth_count(const char *res, const char *key, long long value)
{
    size_t n = 0, i;
    json_t *item;
    json_array_foreach (truth_of(res), i, item) {
        json_t *v = json_object_get(item, key);
        if (v && !json_is_object(v) && jid(v) == value)
            n++;
        else if (json_is_object(v) && jget_id(v, "id") == value)
            n++;
    }
    return n;
}

static long long count_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long count_of(const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *p = get_json("%s", path);
    long long c = json_integer_value(json_object_get(p, "count"));
    json_decref(p);
    return c;
}

/* ---- filters ---- */

static void test_filters_documents(void **state)
{
    json_t *docs = truth_of("documents");
    json_t *mid = json_array_get(docs, json_array_size(docs) / 2);
    long long e = jget_id(mid, "emissionDate");
    size_t same = truth_count("documents", "emissionDate", e);
    assert_true(same > 0);
    /* Inclusive bounds, raw or percent-encoded brackets. */
    assert_int_equal(count_of("/documents.json?emissiondaterange=[%lld,%lld]", e, e), same);
    assert_int_equal(count_of("/documents.json?emissiondaterange=%%5B%lld%%2C%lld%%5D", e, e),
                     same);
    assert_int_equal(count_of("/documents.json?emissiondaterange=[%lld,%lld]", e + 1, e + 3600), 0);
    long long day = e - e % 86400;
    assert_int_equal(count_of("/documents.json?emissiondate=%lld", day), same);
    size_t in_range = 0, i;
    json_t *d;
    json_array_foreach (docs, i, d) {
        long long em = jget_id(d, "emissionDate");
        in_range += em >= e - 2 * 86400 && em <= e;
    }
    assert_int_equal(count_of("/documents.json?emissiondaterange=[%lld,%lld]", e - 2 * 86400, e),
                     in_range);
    assert_int_equal(count_of("/documents.json?state=1"), truth_count("documents", "state", 1));
    assert_int_equal(count_of("/documents/count.json?state=0"),
                     truth_count("documents", "state", 0));
    assert_int_equal(count_of("/documents.json?officeid=2"), truth_count("documents", "office", 2));
    assert_int_equal(count_of("/documents.json?documenttypeid=1"),
                     truth_count("documents", "document_type", 1));
    long long client = jget_id(json_object_get(mid, "client"), "id");
    if (client > 0)
        assert_int_equal(count_of("/documents.json?clientid=%lld", client),
                         truth_count("documents", "client", client));
    /* Combined filters page correctly too. */
    char path[128];
    snprintf(path, sizeof path, "/documents.json?officeid=1&state=0");
    json_t *expect = json_array();
    json_array_foreach (docs, i, d) {
        if (jget_id(json_object_get(d, "office"), "id") == 1 &&
            json_integer_value(json_object_get(d, "state")) == 0)
            json_array_append(expect, d);
    }
    page_through(path, 7, expect);
    json_decref(expect);
}

static void test_filters_other(void **state)
{
    json_t *pays = truth_of("payments"), *p;
    size_t i;
    json_t *first = json_array_get(pays, 0);
    long long rd = jget_id(first, "recordDate");
    size_t same = 0;
    json_array_foreach (pays, i, p) {
        json_t *v = json_object_get(p, "recordDate");
        same += json_is_integer(v) && json_integer_value(v) == rd;
    }
    assert_true(same > 0);
    assert_int_equal(count_of("/payments.json?recorddate=%lld", rd), same);
    long long doc = jget_id(json_object_get(first, "document"), "id");
    assert_int_equal(count_of("/payments.json?documentid=%lld", doc),
                     truth_count("payments", "document", doc));
    assert_int_equal(count_of("/stocks.json?officeid=3"), truth_count("stocks", "office", 3));
    assert_int_equal(count_of("/stocks.json?variantid=1502&officeid=1"), 1);
    assert_int_equal(count_of("/variants.json?productid=1005"),
                     truth_count("variants", "product", 1005));
    json_t *c = json_array_get(truth_of("clients"), 7);
    const char *code = json_string_value(json_object_get(c, "code"));
    json_t *found = get_json("/clients.json?code=%s", code);
    assert_int_equal(json_integer_value(json_object_get(found, "count")), 1);
    assert_int_equal(jget_id(json_array_get(json_object_get(found, "items"), 0), "id"),
                     jget_id(c, "id"));
    json_decref(found);
    static const char *const cats[] = {"products", "clients", "variants",
                                       "users",    "offices", "price_lists"};
    for (size_t k = 0; k < 6; k++) {
        assert_int_equal(count_of("/%s.json?state=0", cats[k]), truth_count(cats[k], "state", 0));
        assert_int_equal(count_of("/%s.json?state=1", cats[k]), truth_count(cats[k], "state", 1));
    }
}

static void test_unsupported_filter_forbidden(void **state)
{
    struct http_result r = {0};
    fetch(&r, "/documents.json?generationdaterange=[1,2]");
    assert_int_equal(r.status, 403);
    http_result_free(&r);
    fetch(&r, "/offices.json?color=blue");
    assert_int_equal(r.status, 403);
    http_result_free(&r);
    fetch(&r, "/stocks.json?state=0");
    assert_int_equal(r.status, 403);
    http_result_free(&r);
    /* Paging, expand and fields are always accepted. */
    fetch(&r, "/offices.json?limit=2&offset=1&expand=[office]&fields=[name]");
    assert_int_equal(r.status, 200);
    http_result_free(&r);
    json_t *f = get_json("/users.json?fields=[firstname,id]&limit=2");
    json_t *u = json_array_get(json_object_get(f, "items"), 0);
    assert_int_equal(json_object_size(u), 2);
    assert_non_null(json_object_get(u, "firstName"));
    json_decref(f);
}

/* ---- expand ---- */

static void check_expanded_doc(json_t *d, json_t *plain)
{
    json_t *dt = json_object_get(d, "document_type");
    assert_true(json_is_integer(json_object_get(dt, "id")));
    assert_non_null(json_object_get(dt, "codeSii"));
    json_t *office = json_object_get(d, "office");
    assert_non_null(json_object_get(office, "name"));
    json_t *client = json_object_get(d, "client");
    if (json_object_get(plain, "client"))
        assert_non_null(json_object_get(client, "firstName"));
    else
        assert_null(client);
    json_t *det = json_object_get(d, "details");
    long long id = jget_id(d, "id");
    json_t *lines = truth_lines(id);
    size_t n = json_array_size(lines);
    assert_int_equal(json_integer_value(json_object_get(det, "count")), n);
    assert_int_equal(json_integer_value(json_object_get(det, "limit")), 25);
    assert_int_equal(json_integer_value(json_object_get(det, "offset")), 0);
    json_t *items = json_object_get(det, "items");
    assert_int_equal(json_array_size(items), n > 25 ? 25 : n);
    for (size_t k = 0; k < json_array_size(items); k++)
        assert_true(json_equal(json_array_get(items, k), json_array_get(lines, k)));
    json_decref(lines);
    /* The default --expand-style link: payments stay a link even when expanded. */
    json_t *pays = json_object_get(d, "payments");
    char href[128];
    snprintf(href, sizeof href, "https://api.bsale.io/v1/documents/%lld/payments.json", id);
    assert_int_equal(json_object_size(pays), 1);
    assert_string_equal(json_string_value(json_object_get(pays, "href")), href);
}

static void test_expand(void **state)
{
    long long doc = long_document(25);
    assert_true(doc > 0);
    json_t *plain = get_json("/documents/%lld.json", doc);
    json_t *d = get_json("/documents/%lld.json?expand=[details,client,payments,document_type,"
                         "office]",
                         doc);
    check_expanded_doc(d, plain);
    json_decref(d);
    d = get_json("/documents/%lld.json?expand=details,client,payments,document_type,office", doc);
    check_expanded_doc(d, plain);
    json_decref(d);
    json_decref(plain);

    json_t *page = get_json("/documents.json?limit=30&offset=5&expand=[details,client,payments,"
                            "document_type,office]");
    json_t *item;
    size_t i;
    json_array_foreach (json_object_get(page, "items"), i, item) {
        json_t *base = json_array_get(truth_of("documents"), 5 + i);
        check_expanded_doc(item, base);
    }
    json_decref(page);

    json_t *v = get_json("/variants.json?expand=[product]&limit=3");
    json_t *prod = json_object_get(json_array_get(json_object_get(v, "items"), 0), "product");
    assert_true(json_is_integer(json_object_get(prod, "id")));
    assert_non_null(json_object_get(prod, "allowDecimal"));
    json_decref(v);
}

/* ---- quirks and data consistency ---- */

static bool rut_valid(const char *code)
{
    long long body = 0;
    const char *c = code;
    for (; *c && *c != '-'; c++)
        if (*c >= '0' && *c <= '9')
            body = body * 10 + (*c - '0');
    if (*c != '-')
        return false;
    int factors[] = {2, 3, 4, 5, 6, 7}, sum = 0;
    for (int k = 0; body > 0; k++, body /= 10)
        sum += (int)(body % 10) * factors[k % 6];
    int dv = 11 - sum % 11;
    char want = dv == 11 ? '0' : dv == 10 ? 'K' : (char)('0' + dv);
    return c[1] == want && c[2] == '\0';
}

static void test_quirks_present(void **state)
{
    json_t *d, *p;
    size_t i;
    bool anon = false, folio16 = false, at_local = false, at_utc = false, voided = false;
    json_array_foreach (truth_of("documents"), i, d) {
        assert_true(json_is_string(json_object_get(json_object_get(d, "office"), "id")));
        anon = anon || !json_object_get(d, "client");
        folio16 = folio16 || json_integer_value(json_object_get(d, "number")) >= 1000000000000000LL;
        long long sec = json_integer_value(json_object_get(d, "emissionDate")) % 86400;
        at_local = at_local || sec == 3 * 3600 || sec == 4 * 3600;
        at_utc = at_utc || sec == 0;
        voided = voided || json_integer_value(json_object_get(d, "state")) == 1;
    }
    assert_true(anon && folio16 && at_local && at_utc && voided);
    json_t *line = json_array_get(truth_of("document_details"), 0);
    assert_true(json_is_integer(json_object_get(json_object_get(line, "variant"), "id")));
    assert_true(json_is_string(json_object_get(json_array_get(truth_of("price_lists"), 0), "id")));
    bool str_amount = false, num_amount = false, credit = false;
    json_array_foreach (truth_of("payments"), i, p) {
        json_t *a = json_object_get(p, "amount");
        str_amount = str_amount || json_is_string(a);
        num_amount = num_amount || json_is_real(a);
        if (json_integer_value(json_object_get(p, "isCreditPayment")) == 1) {
            credit = true;
            assert_null(json_object_get(p, "document"));
        }
    }
    assert_true(str_amount && num_amount && credit);
    bool empty_points = false, inactive = false, deleted = false;
    json_array_foreach (truth_of("clients"), i, p) {
        assert_true(json_is_string(json_object_get(p, "maxCredit")));
        assert_true(rut_valid(json_string_value(json_object_get(p, "code"))));
        json_t *pu = json_object_get(p, "pointsUpdated");
        empty_points = empty_points || (json_is_string(pu) && !*json_string_value(pu));
        inactive = inactive || json_integer_value(json_object_get(p, "state")) == 1;
        deleted = deleted || json_integer_value(json_object_get(p, "state")) == 99;
    }
    assert_true(empty_points && inactive && deleted);
    /* Text with ñ, quotes, backslashes, emoji and both null and "" notes. */
    long status;
    char *raw = hook("GET", "/__truth", NULL, &status);
    assert_non_null(strstr(raw, "ñ"));
    assert_non_null(strstr(raw, "\\\""));
    assert_non_null(strstr(raw, "\\\\"));
    assert_non_null(strstr(raw, "\xf0\x9f"));
    assert_non_null(strstr(raw, "\"note\":null"));
    assert_non_null(strstr(raw, "\"note\":\"\""));
    free(raw);
}

static void test_amounts_add_up(void **state)
{
    json_t *docs = truth_of("documents"), *lines = truth_of("document_details");
    json_t *pays = truth_of("payments");
    size_t nd = json_array_size(docs);
    long long base = jget_id(json_array_get(docs, 0), "id");
    double *sum_lines = calloc(nd, sizeof *sum_lines), *sum_net = calloc(nd, sizeof *sum_net);
    double *sum_pay = calloc(nd, sizeof *sum_pay);
    json_t *x;
    size_t i;
    bool fractional = false;
    json_array_foreach (lines, i, x) {
        double net = jnum(json_object_get(x, "netAmount")),
               tax = jnum(json_object_get(x, "taxAmount")),
               tot = jnum(json_object_get(x, "totalAmount"));
        assert_true(fabs(net + tax - tot) < 0.001);
        double q = jnum(json_object_get(x, "quantity"));
        fractional = fractional || q != floor(q);
        size_t di = (size_t)(jget_id(x, "document_id") - base);
        sum_lines[di] += tot;
        sum_net[di] += net;
    }
    assert_true(fractional);
    json_array_foreach (pays, i, x) {
        json_t *doc = json_object_get(x, "document");
        if (doc)
            sum_pay[jget_id(doc, "id") - base] += jnum(json_object_get(x, "amount"));
    }
    json_array_foreach (docs, i, x) {
        double tot = jnum(json_object_get(x, "totalAmount"));
        assert_true(fabs(tot - sum_lines[i]) < 0.001);
        assert_true(fabs(jnum(json_object_get(x, "netAmount")) - sum_net[i]) < 0.001);
        assert_true(fabs(jnum(json_object_get(x, "netAmount")) +
                         jnum(json_object_get(x, "taxAmount")) - tot) < 0.001);
        /* Sales are paid in full; credit notes carry no payment. */
        assert_true(sum_pay[i] == 0 || fabs(sum_pay[i] - tot) < 0.001);
    }
    free(sum_lines);
    free(sum_net);
    free(sum_pay);
    size_t nv = json_array_size(truth_of("variants")), no = json_array_size(truth_of("offices"));
    size_t nl = json_array_size(truth_of("price_lists"));
    assert_int_equal(json_array_size(truth_of("stocks")), nv * no);
    assert_int_equal(json_array_size(truth_of("price_list_details")), nv * nl);
}

/* ---- errors ---- */

static void test_errors(void **state)
{
    struct http_result r = {0};
    char url[256];
    snprintf(url, sizeof url, "%s/documents.json", sim.base);
    http_get(url, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "{\"error\":\"Sorry, this request can not be authenticated\"}");
    http_result_free(&r);
    http_get(url, "wrong-token", &r);
    assert_int_equal(r.status, 401);
    http_result_free(&r);
    snprintf(url, sizeof url, "%s/__truth", sim.root);
    http_get(url, NULL, &r);
    assert_int_equal(r.status, 401);
    http_result_free(&r);
    fetch(&r, "/nothing.json");
    assert_int_equal(r.status, 404);
    http_result_free(&r);
    fetch(&r, "/documents/1.json");
    assert_int_equal(r.status, 404);
    http_result_free(&r);
    fetch(&r, "/documents/abc/details.json");
    assert_int_equal(r.status, 404);
    http_result_free(&r);
    static const char *const methods[] = {"POST", "PUT", "DELETE"};
    snprintf(url, sizeof url, "%s/documents.json", sim.base);
    for (int m = 0; m < 3; m++) {
        http_call(methods[m], url, TEST_TOKEN, NULL, 10000, &r);
        assert_int_equal(r.status, 405);
        http_result_free(&r);
    }
}

/* ---- hooks ---- */

static void test_stats(void **state)
{
    long status;
    free(hook("POST", "/__stats/reset", NULL, &status));
    assert_int_equal(status, 200);
    struct http_result r = {0};
    for (int k = 0; k < 3; k++) {
        fetch(&r, "/documents.json?limit=5");
        http_result_free(&r);
    }
    fetch(&r, "/documents/90001.json");
    http_result_free(&r);
    fetch(&r, "/documents/1.json");
    http_result_free(&r);
    char url[256];
    snprintf(url, sizeof url, "%s/documents.json", sim.base);
    http_get(url, "bad-token", &r);
    http_result_free(&r);
    http_call("DELETE", url, TEST_TOKEN, NULL, 10000, &r);
    http_result_free(&r);
    char *body = hook("GET", "/__stats", NULL, &status);
    json_t *s = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(s);
    assert_int_equal(json_integer_value(json_object_get(s, "requests")), 7);
    json_t *by = json_object_get(s, "by_path");
    json_t *list = json_object_get(by, "/v1/documents.json");
    assert_int_equal(json_integer_value(json_object_get(list, "200")), 3);
    assert_int_equal(json_integer_value(json_object_get(list, "401")), 1);
    assert_int_equal(json_integer_value(json_object_get(list, "405")), 1);
    json_t *one = json_object_get(by, "/v1/documents/{id}.json");
    assert_int_equal(json_integer_value(json_object_get(one, "200")), 1);
    assert_int_equal(json_integer_value(json_object_get(one, "404")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "throttled")), 0);
    /* Sequential requests; a completion may be noted just after the next one starts. */
    long long inflight = json_integer_value(json_object_get(s, "max_in_flight"));
    assert_true(inflight >= 1 && inflight <= 7);
    long long rate = json_integer_value(json_object_get(s, "max_rate_1s"));
    assert_true(rate >= 1 && rate <= 7);
    json_decref(s);
}

static void test_mutate(void **state)
{
    long status;
    char *body = hook("POST", "/__mutate?seed=7", NULL, &status);
    assert_int_equal(status, 200);
    json_t *sum = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(sum);
    json_t *after = load_truth();
    size_t nd0 = json_array_size(truth_of("documents"));
    json_t *new_docs = json_object_get(sum, "new_documents");
    assert_int_equal(json_array_size(new_docs), 20);
    assert_int_equal(json_array_size(json_object_get(after, "documents")),
                     nd0 + json_array_size(new_docs));
    json_t *last_new = json_array_get(json_object_get(after, "documents"), nd0);
    assert_int_equal(jget_id(last_new, "id"), jid(json_array_get(new_docs, 0)));
    /* New sales are dated today (2026-03-15). */
    assert_int_equal(json_integer_value(json_object_get(last_new, "emissionDate")), 1773532800);
    json_t *v;
    size_t i;
    long long doc_base = jget_id(json_array_get(truth_of("documents"), 0), "id");
    json_array_foreach (json_object_get(sum, "voided_documents"), i, v) {
        size_t idx = (size_t)(jid(v) - doc_base);
        json_t *before = json_array_get(truth_of("documents"), idx);
        json_t *now = json_array_get(json_object_get(after, "documents"), idx);
        assert_int_equal(json_integer_value(json_object_get(before, "state")), 0);
        assert_int_equal(json_integer_value(json_object_get(now, "state")), 1);
    }
    assert_true(json_array_size(json_object_get(sum, "voided_documents")) > 0);
    json_array_foreach (json_object_get(sum, "price_changes"), i, v) {
        json_t *got = get_json("/price_lists/%lld/details/%lld.json", jget_id(v, "price_list_id"),
                               jget_id(v, "detail_id"));
        assert_true(jnum(json_object_get(got, "variantValueWithTaxes")) ==
                    jnum(json_object_get(v, "new")));
        json_decref(got);
    }
    json_array_foreach (json_object_get(sum, "deactivated_products"), i, v) {
        json_t *got = get_json("/products/%lld.json", jid(v));
        assert_int_equal(json_integer_value(json_object_get(got, "state")), 1);
        json_decref(got);
    }
    assert_int_equal(json_array_size(json_object_get(after, "clients")),
                     json_array_size(truth_of("clients")) + 3);
    /* A JSON body sets the counts. */
    body = hook("POST", "/__mutate",
                "{\"seed\":8,\"new_documents\":2,\"voids\":0,"
                "\"price_changes\":0,\"deactivations\":0,\"new_clients\":0}",
                &status);
    assert_int_equal(status, 200);
    json_t *sum2 = json_loads(body, 0, NULL);
    free(body);
    assert_int_equal(json_array_size(json_object_get(sum2, "new_documents")), 2);
    assert_int_equal(json_array_size(json_object_get(sum2, "voided_documents")), 0);
    json_decref(sum2);
    json_decref(sum);
    json_decref(truth);
    truth = after;
}

/* Runs last: compares this (mutated) instance with fresh ones. */
static void test_determinism(void **state)
{
    struct sim_proc other = {0};
    long status;
    char *mine = hook("GET", "/__truth", NULL, &status);
    assert_true(sim_proc_start(&other, sim_bin, store_args));
    struct sim_proc saved = sim;
    sim = other;
    char *fresh = hook("GET", "/__truth", NULL, &status);
    assert_string_not_equal(mine, fresh); /* ours was mutated */
    free(hook("POST", "/__mutate?seed=7", NULL, &status));
    free(hook("POST", "/__mutate",
              "{\"seed\":8,\"new_documents\":2,\"voids\":0,\"price_changes\":0,"
              "\"deactivations\":0,\"new_clients\":0}",
              &status));
    char *replayed = hook("GET", "/__truth", NULL, &status);
    assert_string_equal(mine, replayed);
    sim = saved;
    assert_int_equal(sim_proc_stop(&other), 0);

    static const char *const other_seed[] = {
        "--token",      TEST_TOKEN, "--seed",          "43",   "--today",         "2026-03-15",
        "--days",       "12",       "--docs-per-day",  "18",   "--clients",       "60",
        "--products",   "40",       "--share-over-25", "0.06", "--share-over-50", "0.04",
        "--test-hooks", NULL};
    assert_true(sim_proc_start(&other, sim_bin, other_seed));
    sim = other;
    char *different = hook("GET", "/__truth", NULL, &status);
    sim = saved;
    assert_int_equal(sim_proc_stop(&other), 0);
    assert_string_not_equal(fresh, different);
    /* Same seed, fresh instance: byte-identical. */
    assert_true(sim_proc_start(&other, sim_bin, store_args));
    sim = other;
    char *again = hook("GET", "/__truth", NULL, &status);
    sim = saved;
    assert_int_equal(sim_proc_stop(&other), 0);
    assert_string_equal(fresh, again);
    free(mine);
    free(fresh);
    free(replayed);
    free(different);
    free(again);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s <bsale-sim>\n", argv[0]);
        return 2;
    }
    sim_bin = argv[1];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_fields),
        cmocka_unit_test(test_paging_every_resource),
        cmocka_unit_test(test_paging_sub_collections),
        cmocka_unit_test(test_single_and_count),
        cmocka_unit_test(test_filters_documents),
        cmocka_unit_test(test_filters_other),
        cmocka_unit_test(test_unsupported_filter_forbidden),
        cmocka_unit_test(test_expand),
        cmocka_unit_test(test_quirks_present),
        cmocka_unit_test(test_amounts_add_up),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_mutate),
        cmocka_unit_test(test_determinism),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}

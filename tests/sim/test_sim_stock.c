/*
 * bsale-sim analysts' resources: stock receptions and consumptions, variant costs, returns,
 * taxes, documents' document_taxes and sellers; their paging and filters against /__truth,
 * costs after a reception mutation, returns tied to credit notes, embed vs link.
 * Usage: test_sim_stock <path-to-bsale-sim>
 */
#include "sim_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <math.h>

#define TODAY 1773532800LL /* 2026-03-15 00:00Z */
#define DAY 86400LL

struct sim_ctx {
    struct sim_proc proc;
    json_t *truth;
};

static const char *sim_bin;
static struct sim_ctx link_sim, embed_sim; /* default options; --expand-style embed */

#define STORE_ARGS                                                                                 \
    "--token", TEST_TOKEN, "--seed", "7", "--today", "2026-03-15", "--days", "40",                 \
        "--docs-per-day", "20", "--clients", "8", "--products", "120", "--test-hooks"

static const char *const link_args[] = {STORE_ARGS, NULL};
static const char *const embed_args[] = {STORE_ARGS, "--expand-style", "embed", NULL};

/* ---- requests ---- */

static json_t *get_json(struct sim_ctx *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *get_json(struct sim_ctx *s, const char *fmt, ...)
{
    char url[1024];
    struct http_result r = {0};
    va_list ap;
    va_start(ap, fmt);
    url_of(url, sizeof url, s->proc.base, fmt, ap);
    va_end(ap);
    http_get(url, TEST_TOKEN, &r);
    if (r.status != 200)
        fprintf(stderr, "GET %s -> %ld %s\n", url, r.status, r.body);
    assert_int_equal(r.curl_code, 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    assert_non_null(j);
    http_result_free(&r);
    return j;
}

static json_t *hook_json(struct sim_ctx *s, const char *method, const char *path, const char *body)
{
    char url[256];
    struct http_result r = {0};
    snprintf(url, sizeof url, "%s%s", s->proc.root, path);
    http_call(method, url, TEST_TOKEN, body, 60000, &r);
    assert_int_equal(r.curl_code, 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    assert_non_null(j);
    http_result_free(&r);
    return j;
}

static json_t *truth_of(struct sim_ctx *s, const char *key)
{
    json_t *a = json_object_get(s->truth, key);
    assert_true(json_is_array(a));
    return a;
}

/* Every item of a list, paged by offset (limit 50 unless the path sets one). */
static json_t *all_items(struct sim_ctx *s, const char *path, size_t limit)
{
    json_t *out = json_array();
    const char *sep = strchr(path, '?') ? "&" : "?";
    for (size_t off = 0;;) {
        json_t *page = get_json(s, "%s%slimit=%zu&offset=%zu", path, sep, limit, off);
        json_t *items = json_object_get(page, "items");
        size_t n = json_array_size(items);
        size_t count = (size_t)json_integer_value(json_object_get(page, "count"));
        json_array_extend(out, items);
        json_decref(page);
        off += n;
        if (n == 0 || off >= count)
            break;
    }
    return out;
}

static int start(struct sim_ctx *s, const char *const args[])
{
    if (!sim_proc_start(&s->proc, sim_bin, args))
        return -1;
    s->truth = hook_json(s, "GET", "/__truth", NULL);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    return start(&link_sim, link_args) == 0 && start(&embed_sim, embed_args) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(link_sim.truth);
    json_decref(embed_sim.truth);
    int a = sim_proc_stop(&link_sim.proc), b = sim_proc_stop(&embed_sim.proc);
    return a == 0 && b == 0 ? 0 : -1;
}

static void refresh_truth(struct sim_ctx *s)
{
    json_decref(s->truth);
    s->truth = hook_json(s, "GET", "/__truth", NULL);
}

/* Truth items of key whose member `parent` is pid, with that member removed. */
static json_t *truth_children(struct sim_ctx *s, const char *key, const char *parent, long long pid)
{
    json_t *out = json_array(), *x;
    size_t i;
    json_array_foreach (truth_of(s, key), i, x) {
        if (jget_id(x, parent) != pid)
            continue;
        json_t *c = json_deep_copy(x);
        json_object_del(c, parent);
        json_array_append_new(out, c);
    }
    return out;
}

/* Truth items of key whose integer field lies in [from, to]. */
static json_t *truth_between(struct sim_ctx *s, const char *key, const char *field, long long from,
                             long long to)
{
    json_t *out = json_array(), *x;
    size_t i;
    json_array_foreach (truth_of(s, key), i, x) {
        long long t = (long long)json_integer_value(json_object_get(x, field));
        if (t >= from && t <= to)
            json_array_append(out, x);
    }
    return out;
}

static long get_status(struct sim_ctx *s, const char *path)
{
    char url[512];
    struct http_result r = {0};
    snprintf(url, sizeof url, "%s%s", s->proc.base, path);
    http_get(url, TEST_TOKEN, &r);
    long st = r.status;
    http_result_free(&r);
    return st;
}

/* A list paged at 50 (asking more) equals its truth key, and each parent's details page. */
static void check_list(struct sim_ctx *s, const char *res, const char *key, const char *dkey,
                       const char *parent)
{
    json_t *page = get_json(s, "/%s.json?limit=200", res);
    assert_int_equal(json_integer_value(json_object_get(page, "limit")), 50);
    assert_true(json_array_size(json_object_get(page, "items")) <= 50);
    json_decref(page);
    char path[128];
    snprintf(path, sizeof path, "/%s.json", res);
    json_t *items = all_items(s, path, 7);
    json_t *truth = truth_of(s, key);
    assert_true(json_array_size(truth) > 5);
    assert_true(json_equal(items, truth));
    json_t *x;
    size_t i;
    json_array_foreach (items, i, x) {
        if (i % 5)
            continue;
        long long id = jget_id(x, "id");
        snprintf(path, sizeof path, "/%s/%lld/details.json", res, id);
        json_t *got = all_items(s, path, 2), *want = truth_children(s, dkey, parent, id);
        assert_true(json_array_size(want) > 0);
        assert_true(json_equal(got, want));
        json_decref(got);
        json_decref(want);
        json_t *one = get_json(s, "/%s/%lld.json", res, id);
        assert_true(json_equal(one, x));
        json_decref(one);
    }
    json_decref(items);
}

/* ---- shapes and paging ---- */

static void test_receptions_and_consumptions(void **state)
{
    (void)state;
    check_list(&link_sim, "stocks/receptions", "receptions", "reception_details", "reception_id");
    check_list(&link_sim, "stocks/consumptions", "consumptions", "consumption_details",
               "consumption_id");
    json_t *r = json_array_get(truth_of(&link_sim, "receptions"), 0);
    assert_true(json_is_string(json_object_get(r, "documentNumber")));
    assert_true(json_is_integer(json_object_get(r, "admissionDate")));
    assert_int_equal(json_integer_value(json_object_get(r, "admissionDate")) % DAY, 3 * 3600);
    json_t *d = json_array_get(truth_of(&link_sim, "reception_details"), 0);
    assert_true(json_is_real(json_object_get(d, "cost")));
    assert_true(json_is_null(json_object_get(d, "serialNumber")));
    json_t *types = get_json(&link_sim, "/stock_consumption_types.json");
    json_t *t0 = json_array_get(json_object_get(types, "items"), 0);
    assert_true(json_is_integer(json_object_get(t0, "cntId")));
    assert_true(json_is_string(json_object_get(t0, "cntI18nName")));
    assert_null(json_object_get(t0, "href"));
    json_decref(types);
}

static void test_returns_and_taxes_paging(void **state)
{
    (void)state;
    check_list(&link_sim, "returns", "returns", "return_details", "return_id");
    json_t *taxes = all_items(&link_sim, "/taxes.json", 1);
    assert_true(json_equal(taxes, truth_of(&link_sim, "taxes")));
    json_t *iva = json_array_get(taxes, 0);
    assert_string_equal(json_string_value(json_object_get(iva, "percentage")), "19.0");
    assert_string_equal(json_string_value(json_object_get(iva, "code")), "14");
    json_decref(taxes);
}

/* ---- filters ---- */

static void check_range(struct sim_ctx *s, const char *res, const char *key, const char *filter,
                        const char *field, long long from, long long to)
{
    char path[160];
    snprintf(path, sizeof path, "/%s.json?%s=[%lld,%lld]", res, filter, from, to);
    json_t *got = all_items(s, path, 3), *want = truth_between(s, key, field, from, to);
    assert_true(json_array_size(want) > 0);
    assert_true(json_array_size(want) < json_array_size(truth_of(s, key)));
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
}

static void test_date_filters(void **state)
{
    (void)state;
    long long from = TODAY - 20 * DAY, to = TODAY - 6 * DAY - 1;
    check_range(&link_sim, "stocks/receptions", "receptions", "admissiondaterange", "admissionDate",
                from, to);
    check_range(&link_sim, "stocks/consumptions", "consumptions", "consumptiondaterange",
                "consumptionDate", from, to);
    check_range(&link_sim, "returns", "returns", "returndaterange", "returnDate", from, to);
    /* admissiondate: the whole day */
    long long day = (long long)json_integer_value(json_object_get(
                        json_array_get(truth_of(&link_sim, "receptions"), 3), "admissionDate")) /
                    DAY * DAY;
    json_t *got = get_json(&link_sim, "/stocks/receptions.json?admissiondate=%lld", day);
    json_t *want = truth_between(&link_sim, "receptions", "admissionDate", day, day + DAY - 1);
    assert_true(json_equal(json_object_get(got, "items"), want));
    json_decref(got);
    json_decref(want);
}

/* Truth items of key whose reference member ref has id. */
static json_t *truth_ref(struct sim_ctx *s, const char *key, const char *ref, long long id)
{
    json_t *out = json_array(), *x;
    size_t i;
    json_array_foreach (truth_of(s, key), i, x) {
        if (jget_id(json_object_get(x, ref), "id") == id)
            json_array_append(out, x);
    }
    return out;
}

static void check_ref_filter(struct sim_ctx *s, const char *path, const char *key, const char *ref,
                             long long id)
{
    json_t *got = all_items(s, path, 4), *want = truth_ref(s, key, ref, id);
    assert_true(json_array_size(want) > 0);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
}

static void test_id_filters(void **state)
{
    (void)state;
    struct sim_ctx *s = &link_sim;
    check_ref_filter(s, "/stocks/receptions.json?officeid=2", "receptions", "office", 2);
    check_ref_filter(s, "/stocks/consumptions.json?officeid=1", "consumptions", "office", 1);
    check_ref_filter(s, "/returns.json?officeid=3", "returns", "office", 3);
    json_t *r = json_array_get(truth_of(s, "returns"), 2);
    long long sale = jget_id(json_object_get(r, "reference_document"), "id");
    long long cn = jget_id(json_object_get(r, "credit_note"), "id");
    char path[96];
    snprintf(path, sizeof path, "/returns.json?referencedocumentid=%lld", sale);
    check_ref_filter(s, path, "returns", "reference_document", sale);
    snprintf(path, sizeof path, "/returns.json?creditnoteid=%lld", cn);
    check_ref_filter(s, path, "returns", "credit_note", cn);
    json_t *rec = json_array_get(truth_of(s, "receptions"), 4);
    json_t *page = get_json(s, "/stocks/receptions.json?documentnumber=%s",
                            json_string_value(json_object_get(rec, "documentNumber")));
    assert_true(json_equal(json_array_get(json_object_get(page, "items"), 0), rec));
    json_decref(page);
    assert_int_equal(get_status(s, "/stocks/receptions.json?clientid=1"), 403);
    assert_int_equal(get_status(s, "/returns.json?returndaterange=[1,x]"), 400);
    assert_int_equal(get_status(s, "/stocks/receptions/1/details.json?officeid=1"), 403);
}

/* ---- costs ---- */

static json_t *truth_cost(struct sim_ctx *s, long long vid)
{
    json_t *c = truth_children(s, "variant_costs", "variant_id", vid);
    assert_int_equal(json_array_size(c), 1);
    json_t *one = json_incref(json_array_get(c, 0));
    json_decref(c);
    return one;
}

static void test_costs_shape(void **state)
{
    (void)state;
    json_t *v;
    size_t i, services = 0, strings = 0;
    json_array_foreach (truth_of(&link_sim, "variants"), i, v) {
        long long id = jget_id(v, "id");
        char path[64];
        snprintf(path, sizeof path, "/variants/%lld/costs.json", id);
        if (json_integer_value(json_object_get(v, "unlimitedStock")) == 1) {
            assert_int_equal(get_status(&link_sim, path), 404);
            services++;
            continue;
        }
        json_t *got = get_json(&link_sim, "%s", path), *want = truth_cost(&link_sim, id);
        assert_true(json_equal(got, want));
        assert_null(json_object_get(got, "count"));
        assert_true(json_is_array(json_object_get(got, "history")));
        strings += json_is_string(json_object_get(got, "averageCost"));
        json_decref(got);
        json_decref(want);
    }
    assert_true(services > 0);
    assert_true(strings > 0);
}

/* The quantity-weighted mean of variant vid's received costs in the truth. */
static double truth_average(struct sim_ctx *s, long long vid)
{
    json_t *d;
    size_t i;
    double q = 0, v = 0;
    json_array_foreach (truth_of(s, "reception_details"), i, d) {
        if (jget_id(json_object_get(d, "variant"), "id") != vid)
            continue;
        double n = jnum(json_object_get(d, "quantity"));
        q += n;
        v += n * jnum(json_object_get(d, "cost"));
    }
    return q > 0 ? v / q : 0;
}

static double stock_quantity(struct sim_ctx *s, long long vid, long long oid)
{
    json_t *p = get_json(s, "/stocks.json?variantid=%lld&officeid=%lld", vid, oid);
    json_t *items = json_object_get(p, "items");
    assert_int_equal(json_array_size(items), 1);
    double q = jnum(json_object_get(json_array_get(items, 0), "quantity"));
    json_decref(p);
    return q;
}

/* The office of reception rid in the truth. */
static long long reception_office(struct sim_ctx *s, long long rid)
{
    json_t *r = json_array_get(truth_of(s, "receptions"), (size_t)rid - 1);
    return jget_id(json_object_get(r, "office"), "id");
}

/* The stock row of the newest reception line grew by exactly the new lines' quantities. */
static void check_stock_grew(struct sim_ctx *s, json_t *old_stocks, size_t n_rec, size_t n_cons)
{
    json_t *d;
    size_t i;
    json_t *nd = json_array_get(truth_of(s, "reception_details"),
                                json_array_size(truth_of(s, "reception_details")) - 1);
    long long v = jget_id(json_object_get(nd, "variant"), "id");
    long long o = reception_office(s, jget_id(nd, "reception_id"));
    double q0 = -1, added = 0;
    json_array_foreach (truth_of(s, "reception_details"), i, d) {
        long long rid = jget_id(d, "reception_id");
        if (rid > (long long)n_rec && jget_id(json_object_get(d, "variant"), "id") == v &&
            reception_office(s, rid) == o)
            added += jnum(json_object_get(d, "quantity"));
    }
    assert_true(added > 0);
    json_array_foreach (truth_of(s, "consumption_details"), i, d) {
        long long cid = jget_id(d, "consumption_id");
        json_t *c = json_array_get(truth_of(s, "consumptions"), (size_t)cid - 1);
        if (cid > (long long)n_cons && jget_id(json_object_get(d, "variant"), "id") == v &&
            jget_id(json_object_get(c, "office"), "id") == o)
            added -= jnum(json_object_get(d, "quantity"));
    }
    json_array_foreach (old_stocks, i, d) {
        if (jget_id(json_object_get(d, "variant"), "id") == v &&
            jget_id(json_object_get(d, "office"), "id") == o)
            q0 = jnum(json_object_get(d, "quantity"));
    }
    assert_true(q0 >= 0);
    assert_true(fabs(stock_quantity(s, v, o) - (q0 + added)) < 0.001);
}

/* Receptions today change the costs and the stock of their variants. */
static void test_costs_follow_reception(void **state)
{
    (void)state;
    struct sim_ctx *s = &embed_sim;
    json_t *first = json_array_get(truth_of(s, "reception_details"), 0);
    long long vid = jget_id(json_object_get(first, "variant"), "id");
    json_t *before = get_json(s, "/variants/%lld/costs.json", vid);
    double avg0 = jnum(json_object_get(before, "averageCost"));
    assert_true(fabs(avg0 - truth_average(s, vid)) < 0.06);
    size_t n_rec = json_array_size(truth_of(s, "receptions"));
    size_t n_cons = json_array_size(truth_of(s, "consumptions"));
    size_t n_ret = json_array_size(truth_of(s, "returns"));
    json_t *m = hook_json(s, "POST",
                          "/__mutate?receptions=40&consumptions=30&credit_notes=3&new_documents=0&"
                          "voids=0&price_changes=0"
                          "&deactivations=0&new_clients=0",
                          NULL);
    json_t *ids = json_object_get(m, "receptions");
    assert_int_equal(json_array_size(ids), 40);
    json_decref(m);
    /* stock rows before, read from the old truth */
    json_t *old_stocks = json_deep_copy(truth_of(s, "stocks"));
    refresh_truth(s);
    assert_int_equal(json_array_size(truth_of(s, "receptions")), n_rec + 40);
    json_t *r = json_array_get(truth_of(s, "receptions"), n_rec);
    assert_true(json_integer_value(json_object_get(r, "admissionDate")) >= TODAY);
    json_t *d;
    size_t i, changed = 0;
    json_array_foreach (truth_of(s, "reception_details"), i, d) {
        if (jget_id(d, "reception_id") <= (long long)n_rec)
            continue;
        long long v = jget_id(json_object_get(d, "variant"), "id");
        json_t *c = get_json(s, "/variants/%lld/costs.json", v);
        assert_true(fabs(jnum(json_object_get(c, "averageCost")) - truth_average(s, v)) < 0.06);
        json_t *h0 = json_array_get(json_object_get(c, "history"), 0);
        assert_true(jget_id(json_object_get(h0, "reception_detail"), "id") >= jget_id(d, "id"));
        changed += v == vid;
        json_decref(c);
    }
    json_t *after = get_json(s, "/variants/%lld/costs.json", vid);
    if (changed)
        assert_false(json_equal(before, after));
    else
        assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    check_stock_grew(s, old_stocks, n_rec, n_cons);
    assert_int_equal(json_array_size(truth_of(s, "consumptions")), n_cons + 30);
    json_t *rets = truth_of(s, "returns");
    assert_int_equal(json_array_size(rets), n_ret + 3);
    long long rd = (long long)json_integer_value(
        json_object_get(json_array_get(rets, json_array_size(rets) - 1), "returnDate"));
    assert_true(rd >= TODAY && rd < TODAY + DAY);
    json_decref(old_stocks);
}

/* ---- returns ---- */

static json_t *find_by(json_t *arr, const char *key, long long id)
{
    json_t *x;
    size_t i;
    json_array_foreach (arr, i, x) {
        if (jget_id(x, key) == id)
            return x;
    }
    return NULL;
}

static void test_returns_tied_to_credit_notes(void **state)
{
    (void)state;
    struct sim_ctx *s = &link_sim;
    json_t *rets = truth_of(s, "returns"), *refs = truth_of(s, "document_references");
    assert_int_equal(json_array_size(rets), json_array_size(refs));
    json_t *r;
    size_t i;
    json_array_foreach (rets, i, r) {
        long long cn = jget_id(json_object_get(r, "credit_note"), "id");
        long long sale = jget_id(json_object_get(r, "reference_document"), "id");
        json_t *doc = find_by(truth_of(s, "documents"), "id", cn);
        assert_non_null(doc);
        assert_int_equal(jget_id(json_object_get(doc, "document_type"), "id"), 3);
        assert_int_equal(json_integer_value(json_object_get(r, "returnDate")),
                         json_integer_value(json_object_get(doc, "emissionDate")));
        json_t *f = find_by(refs, "document_id", cn);
        assert_non_null(f);
        json_t *sdoc = find_by(truth_of(s, "documents"), "id", sale);
        assert_non_null(sdoc);
        assert_int_equal(strtoll(json_string_value(json_object_get(f, "number")), NULL, 10),
                         json_integer_value(json_object_get(sdoc, "number")));
        json_t *lines = truth_children(s, "return_details", "return_id", jget_id(r, "id"));
        json_t *sale_lines = truth_children(s, "document_details", "document_id", sale);
        json_t *l;
        size_t k;
        assert_true(json_array_size(lines) > 0);
        json_array_foreach (lines, k, l) {
            json_t *sl = find_by(sale_lines, "id", jget_id(l, "documentDetailId"));
            assert_non_null(sl);
            assert_true(jnum(json_object_get(l, "quantity")) <=
                        jnum(json_object_get(sl, "quantity")) + 0.001);
        }
        json_decref(lines);
        json_decref(sale_lines);
    }
}

/* ---- document_taxes and sellers ---- */

static void check_member(struct sim_ctx *s, json_t *doc, const char *sub, const char *key,
                         bool embed)
{
    long long id = jget_id(doc, "id");
    json_t *m = json_object_get(doc, sub);
    assert_true(json_is_object(m));
    char href[128];
    snprintf(href, sizeof href, "https://api.bsale.io/v1/documents/%lld/%s.json", id, sub);
    assert_string_equal(json_string_value(json_object_get(m, "href")), href);
    if (!embed) {
        assert_int_equal(json_object_size(m), 1);
        return;
    }
    char path[96];
    snprintf(path, sizeof path, "/documents/%lld/%s.json", id, sub);
    json_t *page = all_items(s, path, 50), *want = truth_children(s, key, "document_id", id);
    assert_true(json_equal(json_object_get(m, "items"), page));
    assert_true(json_equal(page, want));
    assert_int_equal(json_integer_value(json_object_get(m, "count")), json_array_size(want));
    json_decref(page);
    json_decref(want);
}

static void test_taxes_sellers_embed_vs_link(void **state)
{
    (void)state;
    for (int e = 0; e < 2; e++) {
        struct sim_ctx *s = e ? &embed_sim : &link_sim;
        json_t *page = get_json(s, "/documents.json?expand=[document_taxes,sellers]&limit=10");
        json_t *doc;
        size_t i;
        json_array_foreach (json_object_get(page, "items"), i, doc) {
            check_member(s, doc, "document_taxes", "document_taxes", e == 1);
            check_member(s, doc, "sellers", "document_sellers", e == 1);
        }
        json_decref(page);
        json_t *plain = get_json(s, "/documents.json?limit=3");
        json_array_foreach (json_object_get(plain, "items"), i, doc) {
            check_member(s, doc, "document_taxes", "document_taxes", false);
            check_member(s, doc, "sellers", "document_sellers", false);
        }
        json_decref(plain);
    }
    json_t *docs = truth_of(&link_sim, "documents"), *sl;
    size_t i, other = 0, n = json_array_size(truth_of(&link_sim, "document_sellers"));
    json_array_foreach (truth_of(&link_sim, "document_sellers"), i, sl) {
        json_t *doc = find_by(docs, "id", jget_id(sl, "document_id"));
        assert_non_null(doc);
        other += jget_id(json_object_get(doc, "user"), "id") != jget_id(sl, "id");
        json_t *tax = find_by(truth_of(&link_sim, "document_taxes"), "document_id",
                              jget_id(sl, "document_id"));
        assert_non_null(tax);
        assert_int_equal((long long)jnum(json_object_get(tax, "totalAmount")),
                         (long long)jnum(json_object_get(doc, "taxAmount")));
    }
    assert_true(n > 100);
    assert_true(other * 100 > n * 4 && other * 100 < n * 18);
}

/* A movement's or return's `details`: its link, or under expand=details (either expand style)
 * an envelope of its first 25 lines with the true count, as a document's details. */
static void check_details_member(struct sim_ctx *s, const char *res, json_t *item, bool embed)
{
    long long id = jget_id(item, "id");
    json_t *m = json_object_get(item, "details");
    assert_true(json_is_object(m));
    char href[128], path[96];
    snprintf(path, sizeof path, "/%s/%lld/details.json", res, id);
    snprintf(href, sizeof href, "https://api.bsale.io/v1%s", path);
    assert_string_equal(json_string_value(json_object_get(m, "href")), href);
    if (!embed) {
        assert_int_equal(json_object_size(m), 1);
        return;
    }
    json_t *whole = all_items(s, path, 50), *items = json_object_get(m, "items");
    size_t n = json_array_size(whole), shown = n < 25 ? n : 25;
    assert_int_equal(json_integer_value(json_object_get(m, "count")), n);
    assert_int_equal(json_integer_value(json_object_get(m, "limit")), 25);
    assert_int_equal(json_array_size(items), shown);
    for (size_t k = 0; k < shown; k++)
        assert_true(json_equal(json_array_get(items, k), json_array_get(whole, k)));
    assert_null(json_object_get(m, "next"));
    json_decref(whole);
}

static void test_movement_details_embedded(void **state)
{
    (void)state;
    static const char *const res[] = {"stocks/receptions", "stocks/consumptions", "returns"};
    for (int e = 0; e < 2; e++) {
        struct sim_ctx *s = e ? &embed_sim : &link_sim;
        for (size_t r = 0; r < 3; r++) {
            char path[96];
            snprintf(path, sizeof path, "/%s.json?expand=[details]", res[r]);
            json_t *items = all_items(s, path, 50), *item;
            size_t i;
            assert_true(json_array_size(items) > 0);
            json_array_foreach (items, i, item) {
                check_details_member(s, res[r], item, true);
            }
            json_t *one = get_json(s, "/%s/%lld.json?expand=details", res[r],
                                   jget_id(json_array_get(items, 0), "id"));
            assert_true(json_equal(one, json_array_get(items, 0)));
            json_decref(one);
            json_decref(items);
            snprintf(path, sizeof path, "/%s.json", res[r]);
            items = all_items(s, path, 50);
            json_array_foreach (items, i, item) {
                check_details_member(s, res[r], item, false);
            }
            json_decref(items);
        }
    }
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
        cmocka_unit_test(test_receptions_and_consumptions),
        cmocka_unit_test(test_returns_and_taxes_paging),
        cmocka_unit_test(test_date_filters),
        cmocka_unit_test(test_id_filters),
        cmocka_unit_test(test_costs_shape),
        cmocka_unit_test(test_returns_tied_to_credit_notes),
        cmocka_unit_test(test_taxes_sellers_embed_vs_link),
        cmocka_unit_test(test_movement_details_embedded),
        cmocka_unit_test(test_costs_follow_reception), /* last: it changes the embed store */
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}

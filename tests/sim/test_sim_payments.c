/*
 * bsale-sim payments as the real Bsale sends them: exact and range recorddate filters,
 * "" dates, credit payments over several documents, per-type totals of a document,
 * --expand-style, --payments-order, the payment mutations and their /__truth keys.
 * Usage: test_sim_payments <path-to-bsale-sim>
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
static struct sim_ctx link_sim, embed_sim; /* default options; embed + shuffled */

#define STORE_ARGS                                                                                 \
    "--token", TEST_TOKEN, "--seed", "7", "--today", "2026-03-15", "--days", "40",                 \
        "--docs-per-day", "25", "--clients", "8", "--products", "30", "--test-hooks"

static const char *const link_args[] = {STORE_ARGS, NULL};
static const char *const embed_args[] = {STORE_ARGS,         "--expand-style", "embed",
                                         "--payments-order", "shuffled",       NULL};

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

static bool has_id(json_t *items, long long id)
{
    json_t *x;
    size_t i;
    json_array_foreach (items, i, x) {
        if (jget_id(x, "id") == id)
            return true;
    }
    return false;
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
    return start(&link_sim, link_args) == 0 && start(&embed_sim, embed_args) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    json_decref(link_sim.truth);
    json_decref(embed_sim.truth);
    int a = sim_proc_stop(&link_sim.proc), b = sim_proc_stop(&embed_sim.proc);
    return a == 0 && b == 0 ? 0 : -1;
}

/* Payments of the truth whose integer recordDate lies in [from, to]. */
static size_t truth_recorded(struct sim_ctx *s, long long from, long long to)
{
    json_t *p;
    size_t i, n = 0;
    json_array_foreach (truth_of(s, "payments"), i, p) {
        json_t *rd = json_object_get(p, "recordDate");
        n += json_is_integer(rd) && json_integer_value(rd) >= from && json_integer_value(rd) <= to;
    }
    return n;
}

/* ---- filters ---- */

static void test_recorddate_exact_vs_range(void **state)
{
    struct sim_ctx *s = &link_sim;
    json_t *p, *pick = NULL;
    size_t i;
    json_array_foreach (truth_of(s, "payments"), i, p) {
        json_t *rd = json_object_get(p, "recordDate");
        if (!pick && json_is_integer(rd) && json_integer_value(rd) % DAY == 3 * 3600)
            pick = p;
    }
    assert_non_null(pick); /* an old payment at local midnight, 03:00Z */
    long long id = jget_id(pick, "id"), rd = jget_id(pick, "recordDate"), day = rd - rd % DAY;
    char path[160];
    snprintf(path, sizeof path, "/payments.json?recorddate=%lld", rd);
    json_t *exact = all_items(s, path, 50);
    assert_true(has_id(exact, id));
    assert_int_equal(json_array_size(exact), truth_recorded(s, rd, rd));
    json_decref(exact);
    /* The UTC date of the same day is another value: no match. */
    snprintf(path, sizeof path, "/payments.json?recorddate=%lld", day);
    json_t *at_midnight = all_items(s, path, 50);
    assert_false(has_id(at_midnight, id));
    assert_int_equal(json_array_size(at_midnight), truth_recorded(s, day, day));
    json_decref(at_midnight);
    snprintf(path, sizeof path, "/payments.json?recorddaterange=[%lld,%lld]", day, day + DAY - 1);
    json_t *range = all_items(s, path, 50);
    assert_true(has_id(range, id));
    assert_int_equal(json_array_size(range), truth_recorded(s, day, day + DAY - 1));
    json_decref(range);
}

static void test_empty_recorddate_never_matches(void **state)
{
    struct sim_ctx *s = &link_sim;
    json_t *p;
    size_t i, empty_ordinary = 0, empty_credit = 0, credit = 0;
    json_array_foreach (truth_of(s, "payments"), i, p) {
        bool empty = json_is_string(json_object_get(p, "recordDate"));
        bool is_credit = json_integer_value(json_object_get(p, "isCreditPayment")) == 1;
        credit += is_credit;
        empty_credit += empty && is_credit;
        empty_ordinary += empty && !is_credit;
    }
    assert_true(credit > 0 && empty_credit == credit); /* every credit payment has "" */
    assert_true(empty_ordinary > 0);
    json_t *all = all_items(s, "/payments.json?recorddaterange=[0,4102444800]", 50);
    size_t n = json_array_size(all);
    assert_int_equal(n, truth_recorded(s, 0, 4102444800LL));
    assert_int_equal(n + empty_ordinary + empty_credit, json_array_size(truth_of(s, "payments")));
    json_array_foreach (all, i, p)
        assert_true(json_is_integer(json_object_get(p, "recordDate")));
    json_decref(all);
}

/* ---- shapes ---- */

static void check_credit_payment(json_t *p, json_t *links)
{
    assert_null(json_object_get(p, "document"));
    json_t *docs = json_object_get(p, "documents"), *d;
    assert_true(json_array_size(docs) >= 1 && json_array_size(docs) <= 3);
    double sum = 0;
    size_t k;
    json_array_foreach (docs, k, d) {
        json_t *id = json_object_get(d, "id");
        assert_true(json_is_string(id));
        char href[128];
        snprintf(href, sizeof href, "https://api.bsale.io/v1/documents/%s.json",
                 json_string_value(id));
        assert_string_equal(json_string_value(json_object_get(d, "href")), href);
        assert_true(json_is_real(json_object_get(d, "amount")));
        sum += json_real_value(json_object_get(d, "amount"));
        json_t *copy = json_deep_copy(d);
        json_object_set_new(copy, "payment_id", json_integer(jget_id(p, "id")));
        json_array_append_new(links, copy);
    }
    assert_true(fabs(sum - jnum(json_object_get(p, "amount"))) < 0.001);
}

static void test_credit_payment_shape(void **state)
{
    struct sim_ctx *s = &link_sim;
    json_t *p, *links = json_array();
    size_t i, multi = 0;
    json_array_foreach (truth_of(s, "payments"), i, p) {
        if (json_integer_value(json_object_get(p, "isCreditPayment")) != 1)
            continue;
        check_credit_payment(p, links);
        multi += json_array_size(json_object_get(p, "documents")) > 1;
    }
    assert_true(multi > 0); /* some settle more than one document */
    assert_true(json_equal(links, truth_of(s, "payment_documents")));
    json_decref(links);
    /* The list renders what the truth holds. */
    json_t *listed = all_items(s, "/payments.json", 50);
    assert_true(json_equal(listed, truth_of(s, "payments")));
    json_decref(listed);
}

/* Per payment type, the document's state-0 ordinary payments from the truth. */
static void expected_totals(struct sim_ctx *s, long long doc, double sums[16], size_t *excluded)
{
    json_t *p;
    size_t i;
    memset(sums, 0, 16 * sizeof *sums);
    json_array_foreach (truth_of(s, "payments"), i, p) {
        if (jget_id(json_object_get(p, "document"), "id") != doc)
            continue;
        if (json_integer_value(json_object_get(p, "state")) != 0) {
            (*excluded)++;
            continue;
        }
        long long type = jget_id(json_object_get(p, "payment_type"), "id");
        assert_true(type > 0 && type < 16);
        sums[type] += jnum(json_object_get(p, "amount"));
    }
}

static void check_totals(struct sim_ctx *s, json_t *items, const double sums[16])
{
    size_t want = 0, k;
    for (int t = 1; t < 16; t++)
        want += sums[t] != 0;
    assert_int_equal(json_array_size(items), want);
    json_t *it;
    long long last = 0;
    json_array_foreach (items, k, it) {
        long long type = jget_id(it, "id");
        assert_true(json_is_integer(json_object_get(it, "id")) && type > last && type < 16);
        last = type;
        assert_true(fabs(json_real_value(json_object_get(it, "amount")) - sums[type]) < 0.001);
        json_t *pt = json_array_get(truth_of(s, "payment_types"), (size_t)type - 1);
        assert_string_equal(json_string_value(json_object_get(it, "name")),
                            json_string_value(json_object_get(pt, "name")));
        assert_string_equal(json_string_value(json_object_get(it, "href")),
                            json_string_value(json_object_get(pt, "href")));
    }
}

static void test_document_payment_totals(void **state)
{
    struct sim_ctx *s = &link_sim;
    json_t *d;
    size_t i, excluded = 0, with_totals = 0;
    json_array_foreach (truth_of(s, "documents"), i, d) {
        if (i % 3) /* a third of the documents keeps the test quick */
            continue;
        long long id = jget_id(d, "id");
        double sums[16];
        expected_totals(s, id, sums, &excluded);
        json_t *page = get_json(s, "/documents/%lld/payments.json", id);
        json_t *items = json_object_get(page, "items");
        assert_int_equal(json_integer_value(json_object_get(page, "count")),
                         json_array_size(items));
        check_totals(s, items, sums);
        with_totals += json_array_size(items) > 1;
        json_decref(page);
    }
    assert_true(excluded > 0 && with_totals > 0);
}

static void check_members(struct sim_ctx *s, json_t *docs, bool embedded)
{
    json_t *d;
    size_t i;
    json_array_foreach (docs, i, d) {
        long long id = jget_id(d, "id");
        json_t *pays = json_object_get(d, "payments");
        char href[128];
        snprintf(href, sizeof href, "https://api.bsale.io/v1/documents/%lld/payments.json", id);
        assert_string_equal(json_string_value(json_object_get(pays, "href")), href);
        assert_true(json_is_object(json_object_get(d, "details")));
        if (!embedded) {
            assert_int_equal(json_object_size(pays), 1);
            continue;
        }
        json_t *own = get_json(s, "/documents/%lld/payments.json", id);
        assert_true(json_equal(pays, own));
        json_decref(own);
    }
}

static void test_embed_vs_link(void **state)
{
    json_t *page = get_json(&link_sim, "/documents.json?expand=[details,payments]&limit=20");
    check_members(&link_sim, json_object_get(page, "items"), false);
    json_decref(page);
    page = get_json(&embed_sim, "/documents.json?expand=[details,payments]&limit=20");
    check_members(&embed_sim, json_object_get(page, "items"), true);
    json_decref(page);
    /* Not expanded: a link in both styles. */
    page = get_json(&embed_sim, "/documents.json?limit=20");
    check_members(&embed_sim, json_object_get(page, "items"), false);
    json_decref(page);
    json_t *one = get_json(&embed_sim, "/documents/90002.json?expand=payments");
    json_t *pays = json_object_get(one, "payments");
    assert_int_equal(json_integer_value(json_object_get(pays, "limit")), 25);
    assert_int_equal(json_integer_value(json_object_get(pays, "offset")), 0);
    json_decref(one);
}

/* ---- order ---- */

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Ids of a list in the order served, n of them. */
static long long *listed_ids(struct sim_ctx *s, size_t limit, size_t *n)
{
    json_t *items = all_items(s, "/payments.json", limit), *p;
    *n = json_array_size(items);
    long long *ids = calloc(*n ? *n : 1, sizeof *ids);
    size_t i;
    json_array_foreach (items, i, p)
        ids[i] = jget_id(p, "id");
    json_decref(items);
    return ids;
}

static void test_shuffled_order_pages_every_id_once(void **state)
{
    size_t n = 0, descents = 0, m = 0;
    long long *ids = listed_ids(&embed_sim, 7, &n);
    json_t *all = truth_of(&embed_sim, "payments");
    assert_int_equal(n, json_array_size(all));
    for (size_t i = 1; i < n; i++)
        descents += ids[i] < ids[i - 1];
    assert_true(descents > n / 4); /* not id order */
    long long *again = listed_ids(&embed_sim, 50, &m);
    assert_int_equal(m, n);
    assert_memory_equal(ids, again, n * sizeof *ids); /* the same order on every request */
    qsort(ids, n, sizeof *ids, cmp_ll);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ids[i], jget_id(json_array_get(all, i), "id")); /* each once */
    free(ids);
    free(again);
    ids = listed_ids(&link_sim, 50, &n);
    for (size_t i = 1; i < n; i++)
        assert_true(ids[i] > ids[i - 1]); /* default: id ascending */
    free(ids);
}

/* ---- truth and mutations ---- */

static void test_truth_keys(void **state)
{
    static const char *const keys[] = {"payments", "payment_documents", "document_payment_totals"};
    for (size_t k = 0; k < 3; k++) {
        truth_of(&link_sim, keys[k]);
        truth_of(&embed_sim, keys[k]);
    }
    assert_int_equal(json_array_size(truth_of(&link_sim, "document_payment_totals")), 0);
    json_t *totals = truth_of(&embed_sim, "document_payment_totals"), *t;
    assert_true(json_array_size(totals) > 0);
    long long doc = jget_id(json_array_get(totals, 0), "document_id");
    json_t *want = json_array();
    size_t i;
    json_array_foreach (totals, i, t) {
        if (jget_id(t, "document_id") != doc)
            continue;
        json_t *copy = json_deep_copy(t);
        json_object_del(copy, "document_id");
        json_array_append_new(want, copy);
    }
    json_t *page = get_json(&embed_sim, "/documents/%lld/payments.json", doc);
    assert_true(json_equal(json_object_get(page, "items"), want));
    json_decref(page);
    json_decref(want);
}

static long long max_payment_id(struct sim_ctx *s)
{
    json_t *p;
    size_t i;
    long long max = 0;
    json_array_foreach (truth_of(s, "payments"), i, p) {
        if (jget_id(p, "id") > max)
            max = jget_id(p, "id");
    }
    return max;
}

static json_t *payment_by_id(struct sim_ctx *s, long long id)
{
    return get_json(s, "/payments/%lld.json", id);
}

static void check_new_credit(struct sim_ctx *s, long long id)
{
    json_t *p = payment_by_id(s, id);
    assert_int_equal(json_integer_value(json_object_get(p, "isCreditPayment")), 1);
    assert_string_equal(json_string_value(json_object_get(p, "recordDate")), "");
    json_t *docs = json_object_get(p, "documents"), *d;
    size_t k;
    json_array_foreach (docs, k, d) {
        json_t *doc = get_json(s, "/documents/%lld.json", jget_id(d, "id"));
        assert_true(json_integer_value(json_object_get(doc, "emissionDate")) >= TODAY - 39 * DAY);
        json_decref(doc);
    }
    json_t *links = json_array();
    check_credit_payment(p, links);
    json_decref(links);
    json_decref(p);
}

static void check_new_ordinary(struct sim_ctx *s, long long id)
{
    json_t *p = payment_by_id(s, id);
    assert_int_equal(json_integer_value(json_object_get(p, "isCreditPayment")), 0);
    assert_int_equal(jget_id(p, "recordDate"), TODAY);
    long long doc = jget_id(json_object_get(p, "document"), "id");
    json_t *d = get_json(s, "/documents/%lld.json", doc);
    assert_true(json_integer_value(json_object_get(d, "emissionDate")) >= TODAY);
    json_decref(d);
    char path[96];
    snprintf(path, sizeof path, "/payments.json?documentid=%lld", doc);
    json_t *of_doc = all_items(s, path, 50);
    assert_true(has_id(of_doc, id));
    json_decref(of_doc);
    json_decref(p);
}

static void check_ids_above(json_t *ids, long long *above)
{
    json_t *v;
    size_t i;
    json_array_foreach (ids, i, v) {
        assert_true(json_integer_value(v) > *above);
        *above = json_integer_value(v);
    }
}

/*
 * No document is settled by credit payments beyond what it owes on the
 * client's credit line (its client-credit payments), so no balance goes negative.
 */
static void check_no_oversettled(struct sim_ctx *s)
{
    json_t *owed = json_object(), *p;
    size_t i;
    char key[32];
    json_array_foreach (truth_of(s, "payments"), i, p) {
        if (json_integer_value(json_object_get(p, "state")) != 0 ||
            jget_id(json_object_get(p, "payment_type"), "id") != 5)
            continue;
        snprintf(key, sizeof key, "%lld", jget_id(json_object_get(p, "document"), "id"));
        double before = json_real_value(json_object_get(owed, key));
        json_object_set_new(owed, key, json_real(before + jnum(json_object_get(p, "amount"))));
    }
    size_t settled = 0;
    json_array_foreach (truth_of(s, "payment_documents"), i, p) {
        snprintf(key, sizeof key, "%lld", jget_id(p, "id"));
        double left =
            json_real_value(json_object_get(owed, key)) - jnum(json_object_get(p, "amount"));
        assert_true(left > -0.005);
        json_object_set_new(owed, key, json_real(left));
        settled++;
    }
    assert_true(settled > 0);
    json_decref(owed);
}

static void test_mutate_payments(void **state)
{
    struct sim_ctx *s = &embed_sim;
    long long above = max_payment_id(s);
    json_t *ans = hook_json(s, "POST", "/__mutate",
                            "{\"seed\":9,\"new_documents\":4,\"voids\":0,\"price_changes\":0,"
                            "\"deactivations\":0,\"new_clients\":0,\"credit_payments\":4,"
                            "\"new_payments\":3}");
    json_t *credit = json_object_get(ans, "credit_payment_ids");
    json_t *fresh = json_object_get(ans, "new_payment_ids");
    assert_int_equal(json_array_size(credit), 4);
    assert_int_equal(json_array_size(fresh), 3);
    check_ids_above(credit, &above);
    check_ids_above(fresh, &above);
    json_t *v;
    size_t i;
    json_array_foreach (credit, i, v)
        check_new_credit(s, json_integer_value(v));
    json_array_foreach (fresh, i, v)
        check_new_ordinary(s, json_integer_value(v));
    /* The truth follows: the new payments, and totals that count the late ones. */
    json_decref(s->truth);
    s->truth = hook_json(s, "GET", "/__truth", NULL);
    check_no_oversettled(s);
    json_t *late = payment_by_id(s, json_integer_value(json_array_get(fresh, 0)));
    long long doc = jget_id(json_object_get(late, "document"), "id");
    json_decref(late);
    double sums[16];
    size_t excluded = 0;
    expected_totals(s, doc, sums, &excluded);
    json_t *page = get_json(s, "/documents/%lld/payments.json", doc);
    check_totals(s, json_object_get(page, "items"), sums);
    json_decref(page);
    assert_int_equal(max_payment_id(s), above);
    char path[96];
    snprintf(path, sizeof path, "/payments.json?recorddaterange=[%lld,%lld]", TODAY,
             TODAY + DAY - 1);
    json_t *today = all_items(s, path, 50);
    assert_int_equal(json_array_size(today), truth_recorded(s, TODAY, TODAY + DAY - 1));
    json_array_foreach (fresh, i, v)
        assert_true(has_id(today, json_integer_value(v)));
    json_decref(today);
    json_decref(ans);
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
        cmocka_unit_test(test_recorddate_exact_vs_range),
        cmocka_unit_test(test_empty_recorddate_never_matches),
        cmocka_unit_test(test_credit_payment_shape),
        cmocka_unit_test(test_document_payment_totals),
        cmocka_unit_test(test_embed_vs_link),
        cmocka_unit_test(test_shuffled_order_pages_every_id_once),
        cmocka_unit_test(test_truth_keys),
        cmocka_unit_test(test_mutate_payments), /* last: it changes the embed store */
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}

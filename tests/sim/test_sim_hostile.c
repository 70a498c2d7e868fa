/*
 * bsale-sim as a hostile Bsale, checked against /__truth: short pages keep their dropped
 * items at their offsets, lying counts (low and endless), detail pages that never fill,
 * a 429 storm, garbage of each kind exactly on the records /__truth lists, and removed
 * documents answering 404 or 500.
 * Usage: test_sim_hostile <path-to-bsale-sim>
 */
#include "sim_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *sim_bin;

static void start(struct sim_proc *p, const char *const extra[])
{
    const char *args[48] = {
        "--token",        TEST_TOKEN, "--days",    "3",  "--seed",          "21", "--test-hooks",
        "--docs-per-day", "20",       "--clients", "30", "--share-over-25", "0.3"};
    size_t n = 13;
    for (size_t i = 0; extra[i] && n + 1 < 48; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    assert_true(sim_proc_start(p, sim_bin, args));
}

/* GET base+path; the parsed body (NULL when it is not JSON), status in *status. */
static json_t *get_json(const char *base, const char *path, long *status)
{
    char url[512] = {0};
    snprintf(url, sizeof url, "%s%s", base, path);
    struct http_result r = {0};
    http_get(url, TEST_TOKEN, &r);
    *status = r.status;
    json_t *j = json_loadb(r.body, r.len, 0, NULL);
    http_result_free(&r);
    return j;
}

static json_t *page(const struct sim_proc *p, const char *res, size_t limit, size_t offset)
{
    char path[256] = {0};
    long status = 0;
    snprintf(path, sizeof path, "/%s.json?limit=%zu&offset=%zu", res, limit, offset);
    json_t *j = get_json(p->base, path, &status);
    assert_int_equal(status, 200);
    assert_non_null(j);
    return j;
}

static json_t *truth(const struct sim_proc *p)
{
    long status = 0;
    json_t *t = get_json(p->root, "/__truth", &status);
    assert_int_equal(status, 200);
    assert_non_null(t);
    return t;
}

static size_t jsize(json_t *page_obj, const char *key)
{
    return (size_t)json_integer_value(json_object_get(page_obj, key));
}

/* The ids of `res` read with offset += items, stopping at an empty page; *short_pages counted. */
static json_t *read_by_items(const struct sim_proc *p, const char *res, size_t limit,
                             size_t want_count, int *short_pages)
{
    json_t *ids = json_array();
    size_t offset = 0;
    *short_pages = 0;
    for (int guard = 0; guard < 1000; guard++) {
        json_t *pg = page(p, res, limit, offset);
        json_t *items = json_object_get(pg, "items");
        size_t n = json_array_size(items);
        assert_int_equal(jsize(pg, "count"), want_count);
        if (n < limit && offset + limit < want_count)
            (*short_pages)++;
        for (size_t i = 0; i < n; i++)
            json_array_append_new(ids, json_integer(jget_id(json_array_get(items, i), "id")));
        json_decref(pg);
        if (n == 0)
            break;
        offset += n;
    }
    return ids;
}

static void assert_ids_of(json_t *ids, json_t *items)
{
    assert_int_equal(json_array_size(ids), json_array_size(items));
    for (size_t i = 0; i < json_array_size(items); i++)
        assert_int_equal(json_integer_value(json_array_get(ids, i)),
                         jget_id(json_array_get(items, i), "id"));
}

static void test_short_pages_keep_items_at_their_offsets(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--short-page-rate", "0.5", "--fault-seed", "4", NULL};
    start(&p, extra);
    json_t *t = truth(&p);
    json_t *docs = json_object_get(t, "documents");
    int shorts = 0;
    json_t *ids = read_by_items(&p, "documents", 7, json_array_size(docs), &shorts);
    assert_ids_of(ids, docs);
    assert_true(shorts > 0);
    json_decref(ids);
    /* The same request gets the same short page; a client stepping by limit loses items. */
    json_t *a = page(&p, "documents", 7, 0), *b = page(&p, "documents", 7, 0);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    size_t seen = 0;
    for (size_t off = 0; off < json_array_size(docs); off += 7) {
        json_t *pg = page(&p, "documents", 7, off);
        seen += json_array_size(json_object_get(pg, "items"));
        json_decref(pg);
    }
    assert_true(seen < json_array_size(docs));
    json_decref(t);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_count_low(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--count-lie", "low", NULL};
    start(&p, extra);
    json_t *t = truth(&p);
    json_t *clients = json_object_get(t, "clients");
    int shorts = 0;
    json_t *ids = read_by_items(&p, "clients", 10, 3, &shorts);
    assert_ids_of(ids, clients);
    json_decref(ids);
    json_t *pg = page(&p, "clients", 10, 0);
    assert_null(json_object_get(pg, "next")); /* next follows the reported count */
    json_decref(pg);
    json_decref(t);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_count_grow_is_endless_on_its_path_only(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--count-lie", "grow", "--count-lie-path", "/v1/documents.json", NULL};
    start(&p, extra);
    json_t *t = truth(&p);
    json_t *docs = json_object_get(t, "documents");
    size_t real = json_array_size(docs), offset = 0;
    for (int i = 0; i < 20; i++) { /* a client trusting count would never stop */
        json_t *pg = page(&p, "documents", 25, offset);
        json_t *items = json_object_get(pg, "items");
        assert_int_equal(jsize(pg, "count"), offset + 50);
        assert_non_null(json_object_get(pg, "next"));
        assert_int_equal(json_array_size(items), 25);
        for (size_t k = 0; k < 25; k++)
            assert_int_equal(jget_id(json_array_get(items, k), "id"),
                             jget_id(json_array_get(docs, (offset + k) % real), "id"));
        json_decref(pg);
        offset += 25;
    }
    json_t *cl = page(&p, "clients", 25, 0);
    assert_int_equal(jsize(cl, "count"), json_array_size(json_object_get(t, "clients")));
    json_decref(cl);
    json_decref(t);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static size_t lines_of(json_t *t, long long doc)
{
    size_t n = 0, i;
    json_t *l;
    json_array_foreach (json_object_get(t, "document_details"), i, l)
        n += jget_id(l, "document_id") == doc;
    return n;
}

static bool listed(json_t *garbled, const char *res, long long id, const char *kind)
{
    size_t i;
    json_t *g;
    json_array_foreach (garbled, i, g) {
        if (jget_id(g, "id") == id &&
            strcmp(json_string_value(json_object_get(g, "resource")), res) == 0 &&
            (!kind || strcmp(json_string_value(json_object_get(g, "kind")), kind) == 0))
            return true;
    }
    return false;
}

static void check_details(const struct sim_proc *p, long long doc, size_t n, bool empty)
{
    char path[128] = {0};
    long status = 0;
    for (size_t off = 0; off < n; off += 25) {
        snprintf(path, sizeof path, "/documents/%lld/details.json?limit=25&offset=%zu", doc, off);
        json_t *pg = get_json(p->base, path, &status);
        assert_int_equal(status, 200);
        assert_int_equal(jsize(pg, "count"), n);
        size_t want = empty ? 0 : (n - off < 25 ? n - off : 25);
        assert_int_equal(json_array_size(json_object_get(pg, "items")), want);
        json_decref(pg);
    }
    snprintf(path, sizeof path, "/documents/%lld.json?expand=[details]", doc);
    json_t *d = get_json(p->base, path, &status);
    json_t *emb = json_object_get(d, "details");
    assert_int_equal(jsize(emb, "count"), n);
    assert_int_equal(json_array_size(json_object_get(emb, "items")), n > 25 ? 25 : n);
    json_decref(d);
}

static void test_empty_details_never_fill(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--empty-details-rate", "0.5", NULL};
    start(&p, extra);
    json_t *t = truth(&p);
    json_t *garbled = json_object_get(t, "garbled");
    size_t i, empty = 0, full = 0;
    json_t *d;
    json_array_foreach (json_object_get(t, "documents"), i, d) {
        long long id = jget_id(d, "id");
        size_t n = lines_of(t, id);
        bool is_empty = listed(garbled, "documents", id, "empty_details");
        assert_true(!is_empty || n > 25);
        if (n > 25) {
            check_details(&p, id, n, is_empty);
            empty += is_empty;
            full += !is_empty;
        }
    }
    assert_true(empty > 0 && full > 0);
    assert_int_equal(json_array_size(garbled), empty);
    json_decref(t);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_storm_then_service(void **state)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--storm-seconds", "1", "--storm-start-after", "3", NULL};
    start(&p, extra);
    char url[256] = {0};
    snprintf(url, sizeof url, "%s/offices.json", p.base);
    int storm = 0;
    long last = 0;
    for (int i = 0; i < 200000 && !(i > 3 && last == 200); i++) {
        struct http_result r = {0};
        http_get(url, TEST_TOKEN, &r);
        last = r.status;
        if (i < 3) {
            assert_int_equal(r.status, 200);
        } else if (r.status == 429) {
            storm++;
            assert_string_equal(r.retry_after, "1");
            assert_non_null(strstr(r.body, "\"retry_after\":1"));
        }
        http_result_free(&r);
    }
    assert_true(storm > 0);
    assert_int_equal(last, 200); /* the storm ended; normal service */
    long status = 0;
    json_t *s = get_json(p.root, "/__stats", &status);
    assert_int_equal(json_integer_value(json_object_get(s, "throttled")), storm);
    json_decref(s);
    assert_int_equal(sim_proc_stop(&p), 0);
}

/* The single-item path of a garbled record. */
static void record_path(json_t *g, char *out, size_t n)
{
    const char *res = json_string_value(json_object_get(g, "resource"));
    long long id = jget_id(g, "id");
    if (strcmp(res, "document_details") == 0)
        snprintf(out, n, "/documents/%lld/details/%lld.json", jget_id(g, "document_id"), id);
    else
        snprintf(out, n, "/%s/%lld.json", res, id);
}

/* The raw answer for a garbled record carries its kind of garbage in its field. */
static void check_garbage(const struct sim_proc *p, json_t *g)
{
    char path[160] = {0}, url[512] = {0}, pat[64] = {0};
    record_path(g, path, sizeof path);
    snprintf(url, sizeof url, "%s%s", p->base, path);
    struct http_result r = {0};
    http_get(url, TEST_TOKEN, &r);
    assert_int_equal(r.status, 200);
    const char *kind = json_string_value(json_object_get(g, "kind"));
    snprintf(pat, sizeof pat, "\"%s\":", json_string_value(json_object_get(g, "field")));
    const char *at = strstr(r.body, pat);
    assert_non_null(at);
    at += strlen(pat);
    static const char *const want[][2] = {{"true", "true"},
                                          {"nan", "NaN"},
                                          {"huge", "1e308"},
                                          {"string_date", "\"2024-01-01\""},
                                          {"nul", "\"a\\u0000b\""}};
    bool matched = false;
    for (size_t k = 0; k < ARRAY_LEN(want); k++)
        if (strcmp(kind, want[k][0]) == 0) {
            assert_memory_equal(at, want[k][1], strlen(want[k][1]));
            matched = true;
        }
    if (strcmp(kind, "nan") == 0 || strcmp(kind, "nul") == 0) {
        json_t *j = json_loadb(r.body, r.len, 0, NULL);
        assert_null(j); /* not JSON / a NUL that strict parsers refuse */
    }
    if (strcmp(kind, "long_text") == 0) {
        assert_true(r.len > (1u << 20));
        matched = at[0] == '"';
    }
    if (strcmp(kind, "bad_id") == 0)
        matched = strncmp(at, "3.5", 3) == 0 || strncmp(at, "\"2abc\"", 6) == 0 ||
                  strncmp(at, "1e308", 5) == 0 || strncmp(at, "9223372036854775809", 19) == 0;
    assert_true(matched);
    http_result_free(&r);
}

/* Records not listed as garbled answer exactly their /__truth item. */
static void check_clean(const struct sim_proc *p, json_t *t, const char *res)
{
    size_t i;
    json_t *item, *garbled = json_object_get(t, "garbled");
    json_array_foreach (json_object_get(t, res), i, item) {
        long long id = jget_id(item, "id");
        if (listed(garbled, res, id, NULL))
            continue;
        char path[96] = {0};
        long status = 0;
        snprintf(path, sizeof path, "/%s/%lld.json", res, id);
        json_t *got = get_json(p->base, path, &status);
        assert_int_equal(status, 200);
        assert_true(json_equal(got, item));
        json_decref(got);
    }
}

static void test_garbage_of_each_kind(void **state)
{
    static const char *const kinds[] = {"true",   "nan",       "huge", "string_date",
                                        "bad_id", "long_text", "nul"};
    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        struct sim_proc p = {0};
        bool huge_text = strcmp(kinds[k], "long_text") == 0;
        const char *rate = huge_text ? "0.01" : "0.2";
        const char *extra[] = {"--garbage-rate", rate, "--garbage-kind", kinds[k], NULL};
        start(&p, extra);
        json_t *t = truth(&p);
        json_t *garbled = json_object_get(t, "garbled");
        assert_true(json_array_size(garbled) > 0);
        size_t i;
        json_t *g;
        json_array_foreach (garbled, i, g) {
            assert_string_equal(json_string_value(json_object_get(g, "kind")), kinds[k]);
            if (!huge_text || i < 2) /* megabytes each: two show it */
                check_garbage(&p, g);
        }
        check_clean(&p, t, "documents");
        check_clean(&p, t, "payments");
        json_decref(t);
        assert_int_equal(sim_proc_stop(&p), 0);
    }
}

static bool in_list(json_t *items, long long id)
{
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it)
        if (jget_id(it, "id") == id)
            return true;
    return false;
}

static void check_gone(const char *status_flag, long want)
{
    struct sim_proc p = {0};
    const char *extra[] = {"--gone-status", status_flag, NULL};
    start(&p, extra);
    char url[256] = {0};
    snprintf(url, sizeof url, "%s/__mutate", p.root);
    struct http_result r = {0};
    http_call("POST", url, TEST_TOKEN,
              "{\"removals\":2,\"new_documents\":0,\"voids\":0,\"price_changes\":0,"
              "\"deactivations\":0,\"new_clients\":0}",
              10000, &r);
    assert_int_equal(r.status, 200);
    json_t *m = json_loadb(r.body, r.len, 0, NULL);
    http_result_free(&r);
    json_t *removed = json_object_get(m, "removed_documents");
    assert_int_equal(json_array_size(removed), 2);
    json_t *t = truth(&p);
    for (size_t i = 0; i < 2; i++) {
        long long id = json_integer_value(json_array_get(removed, i));
        char path[96] = {0};
        long status = 0;
        snprintf(path, sizeof path, "/documents/%lld.json", id);
        json_t *e = get_json(p.base, path, &status);
        assert_int_equal(status, want);
        assert_string_equal(json_string_value(json_object_get(e, "error")),
                            "The requested resource is not available");
        json_decref(e);
        snprintf(path, sizeof path, "/documents/%lld/details.json", id);
        json_decref(get_json(p.base, path, &status));
        assert_int_equal(status, want);
        assert_false(in_list(json_object_get(t, "documents"), id));
        assert_int_equal(lines_of(t, id), 0);
        json_t *pg = page(&p, "documents", 50, 0);
        assert_false(in_list(json_object_get(pg, "items"), id));
        json_decref(pg);
    }
    json_t *pg = page(&p, "documents", 1, 0);
    assert_int_equal(jsize(pg, "count"), json_array_size(json_object_get(t, "documents")));
    json_decref(pg);
    json_decref(t);
    json_decref(m);
    assert_int_equal(sim_proc_stop(&p), 0);
}

static void test_removed_documents_gone_404(void **state)
{
    check_gone("404", 404);
}

static void test_removed_documents_gone_500(void **state)
{
    check_gone("500", 500);
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
        cmocka_unit_test(test_short_pages_keep_items_at_their_offsets),
        cmocka_unit_test(test_count_low),
        cmocka_unit_test(test_count_grow_is_endless_on_its_path_only),
        cmocka_unit_test(test_empty_details_never_fill),
        cmocka_unit_test(test_storm_then_service),
        cmocka_unit_test(test_garbage_of_each_kind),
        cmocka_unit_test(test_removed_documents_gone_404),
        cmocka_unit_test(test_removed_documents_gone_500),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}

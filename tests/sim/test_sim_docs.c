/*
 * bsale-sim documents and lines as the live Bsale sends them (docs/bsale-api.md, quirks 20-23):
 * line members, credit notes and their references (link and embed styles), boletas from notas
 * de venta, voids of old documents, light `fields=` pages, the gone 500 body and /__truth.
 * Usage: test_sim_docs <path-to-bsale-sim>
 */
#include "sim_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <math.h>

#define TODAY 1773532800LL /* 2026-03-15 */
#define DAY 86400LL
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define GONE_BODY "{\"error\":\"The requested resource is not available\"}"

static const char *sim_bin;
static struct sim_proc linked, embedded; /* --expand-style link (default) / embed */
static json_t *truth;                    /* of `linked`, before any mutation */

#define STORE_ARGS                                                                                 \
    "--token", TEST_TOKEN, "--seed", "42", "--today", "2026-03-15", "--days", "60",                \
        "--docs-per-day", "20", "--clients", "60", "--products", "40", "--share-voided", "0.02",   \
        "--test-hooks"
static const char *const link_args[] = {STORE_ARGS, NULL};
static const char *const embed_args[] = {
    STORE_ARGS, "--expand-style", "embed", "--gone-status", "500", NULL};

/* ---- requests ---- */

static json_t *parse_ok(struct http_result *r, const char *url)
{
    if (r->status != 200)
        fprintf(stderr, "%s -> %ld %s\n", url, r->status, r->body);
    assert_int_equal(r->curl_code, 0);
    assert_int_equal(r->status, 200);
    json_t *j = json_loadb(r->body, r->len, 0, NULL);
    assert_non_null(j);
    http_result_free(r);
    return j;
}

static json_t *get_on(const struct sim_proc *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *get_on(const struct sim_proc *p, const char *fmt, ...)
{
    char url[1024];
    struct http_result r = {0};
    va_list ap;
    va_start(ap, fmt);
    url_of(url, sizeof url, p->base, fmt, ap);
    va_end(ap);
    http_get(url, TEST_TOKEN, &r);
    return parse_ok(&r, url);
}

static json_t *hook_on(const struct sim_proc *p, const char *method, const char *path,
                       const char *body)
{
    char url[512];
    struct http_result r = {0};
    snprintf(url, sizeof url, "%s%s", p->root, path);
    http_call(method, url, TEST_TOKEN, body, 60000, &r);
    return parse_ok(&r, url);
}

/* ---- truth look-ups ---- */

static json_t *truth_arr(json_t *t, const char *key)
{
    json_t *a = json_object_get(t, key);
    assert_true(json_is_array(a));
    return a;
}

static json_t *by_id(json_t *t, const char *key, long long id)
{
    json_t *a = truth_arr(t, key), *v;
    size_t i;
    json_array_foreach (a, i, v)
        if (jget_id(v, "id") == id)
            return v;
    return NULL;
}

static json_t *doc_type_of(json_t *t, json_t *doc)
{
    json_t *dt = by_id(t, "document_types", jget_id(json_object_get(doc, "document_type"), "id"));
    assert_non_null(dt);
    return dt;
}

static long long int_of(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return (long long)json_integer_value(v);
}

static const char *str_of(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* ---- tests ---- */

static void check_line(json_t *l)
{
    assert_int_equal(int_of(l, "lineNumber"), 0);
    json_t *raw = json_object_get(l, "netUnitValueRaw");
    assert_true(json_is_real(raw));
    assert_int_equal(int_of(l, "netUnitValue"), llround(json_real_value(raw)));
    assert_true(fabs(json_real_value(raw) * 1.19 - (double)int_of(l, "totalUnitValue")) < 0.01);
    assert_int_equal(int_of(l, "netAmount") + int_of(l, "taxAmount"), int_of(l, "totalAmount"));
    assert_true(json_is_real(json_object_get(l, "discountPercentage")));
    assert_int_equal(int_of(l, "discountId"), 0);
    assert_int_equal(int_of(l, "gratuity"), 0);
    assert_true(int_of(l, "relatedDetailId") >= 0);
    assert_true(json_is_integer(json_object_get(l, "netDiscount")));
}

static void test_line_fields(void **state)
{
    (void)state;
    json_t *docs = get_on(&linked, "/documents.json?limit=50&offset=100");
    json_t *d;
    size_t i, lines = 0;
    json_array_foreach (json_object_get(docs, "items"), i, d) {
        json_t *page = get_on(&linked, "/documents/%lld/details.json?limit=50", jget_id(d, "id"));
        json_t *l;
        size_t k;
        json_array_foreach (json_object_get(page, "items"), k, l) {
            check_line(l);
            lines++;
        }
        json_decref(page);
        assert_true(json_is_integer(json_object_get(d, "totalAmount")));
    }
    assert_true(lines > 50);
    json_decref(docs);
}

/* The lines of document id in the truth, in id order. */
static json_t *lines_of(json_t *t, long long id)
{
    json_t *out = json_array(), *l;
    size_t i;
    json_array_foreach (truth_arr(t, "document_details"), i, l)
        if (jget_id(l, "document_id") == id)
            json_array_append(out, l);
    return out;
}

/* Checks credit note nc against the sale its reference names; true when it reverses part. */
static bool check_credit_note(json_t *t, json_t *nc, json_t *ref)
{
    json_t *nc_lines = lines_of(t, jget_id(nc, "id")), *l;
    size_t i;
    assert_true(json_array_size(nc_lines) > 0);
    long long sale_id = jget_id(
        by_id(t, "document_details", int_of(json_array_get(nc_lines, 0), "relatedDetailId")),
        "document_id");
    json_t *sale = by_id(t, "documents", sale_id);
    assert_non_null(sale);
    char folio[32];
    snprintf(folio, sizeof folio, "%lld", int_of(sale, "number"));
    assert_string_equal(str_of(ref, "number"), folio);
    assert_int_equal(int_of(ref, "referenceDate"), int_of(sale, "emissionDate"));
    assert_string_equal(str_of(json_object_get(ref, "dte_code"), "id"),
                        str_of(doc_type_of(t, sale), "codeSii"));
    assert_true(int_of(nc, "totalAmount") > 0 &&
                int_of(nc, "totalAmount") <= int_of(sale, "totalAmount"));
    bool partial = int_of(nc, "totalAmount") < int_of(sale, "totalAmount");
    assert_string_equal(str_of(ref, "reason"),
                        partial ? "Devolución de mercaderías" : "Anula documento");
    json_array_foreach (nc_lines, i, l) {
        json_t *from = by_id(t, "document_details", int_of(l, "relatedDetailId"));
        assert_non_null(from);
        assert_int_equal(jget_id(from, "document_id"), sale_id);
        assert_int_equal(jget_id(json_object_get(l, "variant"), "id"),
                         jget_id(json_object_get(from, "variant"), "id"));
        assert_true(jnum(json_object_get(l, "quantity")) <=
                    jnum(json_object_get(from, "quantity")));
    }
    json_decref(nc_lines);
    return partial;
}

static void test_credit_notes(void **state)
{
    (void)state;
    json_t *d;
    size_t i, notes = 0, partial = 0;
    json_array_foreach (truth_arr(truth, "documents"), i, d) {
        json_t *dt = doc_type_of(truth, d);
        if (int_of(dt, "isCreditNote") != 1)
            continue;
        assert_string_equal(str_of(dt, "codeSii"), "61");
        long long id = jget_id(d, "id");
        json_t *refs = get_on(&linked, "/documents/%lld/references.json", id);
        assert_int_equal(int_of(refs, "count"), 1);
        json_t *ref = json_array_get(json_object_get(refs, "items"), 0);
        partial += check_credit_note(truth, d, ref);
        json_t *one =
            get_on(&linked, "/documents/%lld/references/%lld.json", id, jget_id(ref, "id"));
        assert_true(json_equal(one, ref));
        json_decref(one);
        json_decref(refs);
        notes++;
    }
    assert_true(notes >= 20);
    assert_true(partial >= 3 && partial < notes);
}

static void test_references_styles(void **state)
{
    (void)state;
    json_t *r, *ref = NULL;
    size_t i;
    json_array_foreach (truth_arr(truth, "document_references"), i, r) {
        ref = r;
        break;
    }
    assert_non_null(ref);
    long long id = jget_id(ref, "document_id");
    /* link: a bare {href} even when expanded. */
    json_t *d = get_on(&linked, "/documents/%lld.json?expand=[references,details]", id);
    json_t *m = json_object_get(d, "references");
    assert_int_equal(json_object_size(m), 1);
    assert_true(json_is_string(json_object_get(m, "href")));
    json_decref(d);
    /* embed: an envelope with the true count, its item as references.json answers it. */
    d = get_on(&embedded, "/documents.json?expand=[references]&limit=1&offset=%lld",
               id - jget_id(json_array_get(truth_arr(truth, "documents"), 0), "id"));
    m = json_object_get(json_array_get(json_object_get(d, "items"), 0), "references");
    assert_int_equal(int_of(m, "count"), 1);
    json_t *item = json_deep_copy(json_array_get(json_object_get(m, "items"), 0));
    json_object_set_new(item, "document_id", json_integer(id));
    assert_true(json_equal(item, ref));
    json_decref(item);
    json_decref(d);
    /* embed without expand: still a link; a sale has an empty references page. */
    d = get_on(&embedded, "/documents/%lld.json", id);
    assert_int_equal(json_object_size(json_object_get(d, "references")), 1);
    json_decref(d);
    d = get_on(&embedded, "/documents/90001.json?expand=[references]");
    assert_int_equal(int_of(json_object_get(d, "references"), "count"), 0);
    json_decref(d);
}

static void test_converted_boletas(void **state)
{
    (void)state;
    json_t *l;
    size_t i, converted = 0;
    json_array_foreach (truth_arr(truth, "document_details"), i, l) {
        long long related = int_of(l, "relatedDetailId");
        json_t *doc = by_id(truth, "documents", jget_id(l, "document_id"));
        if (!related || strcmp(str_of(doc_type_of(truth, doc), "codeSii"), "39") != 0)
            continue;
        json_t *from = by_id(truth, "document_details", related);
        assert_non_null(from);
        json_t *nota = by_id(truth, "documents", jget_id(from, "document_id"));
        assert_int_equal(int_of(doc_type_of(truth, nota), "isSalesNote"), 1);
        assert_int_equal(int_of(nota, "state"), 0); /* the nota stays active */
        assert_true(jnum(json_object_get(l, "quantity")) ==
                    jnum(json_object_get(from, "quantity")));
        assert_int_equal(int_of(l, "totalAmount"), int_of(from, "totalAmount"));
        converted++;
    }
    assert_true(converted >= 20);
}

static void test_voids_of_old_documents(void **state)
{
    (void)state;
    json_t *sum = hook_on(&linked, "POST",
                          "/__mutate?seed=3&voids=30&void_max_age_days=40&new_documents=0"
                          "&price_changes=0&deactivations=0&new_clients=0",
                          NULL);
    json_t *after = hook_on(&linked, "GET", "/__truth", NULL);
    json_t *v;
    size_t i, old = 0;
    json_t *voided = json_object_get(sum, "voided_documents");
    assert_int_equal(json_array_size(voided), 30);
    json_array_foreach (voided, i, v) {
        json_t *before = by_id(truth, "documents", jid(v));
        json_t *now = get_on(&linked, "/documents/%lld.json", jid(v));
        assert_true(json_equal(now, by_id(after, "documents", jid(v))));
        assert_int_equal(int_of(before, "state"), 0);
        assert_int_equal(int_of(before, "cancellationStatus"), 0);
        assert_true(json_is_null(json_object_get(before, "cancellationDate")));
        assert_int_equal(int_of(now, "state"), 1);
        assert_int_equal(int_of(now, "cancellationStatus"), 1);
        long long when = int_of(now, "cancellationDate");
        assert_true(when >= TODAY && when < TODAY + DAY);
        long long emitted = int_of(now, "emissionDate");
        assert_int_equal(emitted, int_of(before, "emissionDate"));
        assert_true(emitted >= TODAY - 40 * DAY && emitted < TODAY);
        old += emitted < TODAY - 30 * DAY;
        json_decref(now);
    }
    assert_true(old > 0);
    json_decref(after);
    json_decref(sum);
}

static void test_mutate_credit_notes(void **state)
{
    (void)state;
    json_t *sum = hook_on(&embedded, "POST", "/__mutate",
                          "{\"seed\":4,\"credit_notes\":4,\"new_documents\":0,\"voids\":0,"
                          "\"price_changes\":0,\"deactivations\":0,\"new_clients\":0}");
    json_t *after = hook_on(&embedded, "GET", "/__truth", NULL);
    json_t *v, *r;
    size_t i, k;
    json_t *ids = json_object_get(sum, "credit_notes");
    assert_int_equal(json_array_size(ids), 4);
    json_array_foreach (ids, i, v) {
        json_t *nc = by_id(after, "documents", jid(v));
        assert_non_null(nc);
        assert_int_equal(int_of(nc, "emissionDate"), TODAY);
        assert_int_equal(int_of(doc_type_of(after, nc), "isCreditNote"), 1);
        json_t *ref = NULL;
        json_array_foreach (truth_arr(after, "document_references"), k, r)
            if (jget_id(r, "document_id") == jid(v))
                ref = r;
        assert_non_null(ref);
        check_credit_note(after, nc, ref);
    }
    json_decref(after);
    json_decref(sum);
}

static void test_fields_light_page(void **state)
{
    (void)state;
    json_t *page = get_on(&linked, "/documents.json?fields=[id,state,totalAmount]&limit=50");
    json_t *d;
    size_t i;
    assert_int_equal(json_array_size(json_object_get(page, "items")), 50);
    json_array_foreach (json_object_get(page, "items"), i, d) {
        assert_int_equal(json_object_size(d), 4);
        json_t *full = by_id(truth, "documents", jget_id(d, "id"));
        assert_non_null(full);
        assert_true(json_equal(json_object_get(d, "href"), json_object_get(full, "href")));
        assert_int_equal(int_of(d, "totalAmount"), int_of(full, "totalAmount"));
        assert_true(json_is_integer(json_object_get(d, "state")));
    }
    json_decref(page);
    /* Nested members come whole. */
    page = get_on(&linked, "/documents/90001.json?fields=[document_type,details]");
    assert_int_equal(json_object_size(page), 3);
    assert_string_equal(
        str_of(json_object_get(page, "document_type"), "id"),
        str_of(json_object_get(by_id(truth, "documents", 90001), "document_type"), "id"));
    json_decref(page);
}

static void test_gone_500_body(void **state)
{
    (void)state;
    json_t *sum = hook_on(&embedded, "POST", "/__mutate",
                          "{\"seed\":5,\"removals\":1,\"new_documents\":0,\"voids\":0,"
                          "\"price_changes\":0,\"deactivations\":0,\"new_clients\":0}");
    long long id = jid(json_array_get(json_object_get(sum, "removed_documents"), 0));
    assert_true(id > 0);
    const char *tails[] = {".json", "/details.json", "/references.json"};
    for (size_t i = 0; i < ARRAY_LEN(tails); i++) {
        char url[512];
        snprintf(url, sizeof url, "%s/documents/%lld%s", embedded.base, id, tails[i]);
        struct http_result r = {0};
        http_get(url, TEST_TOKEN, &r);
        assert_int_equal(r.status, 500);
        assert_string_equal(r.body, GONE_BODY);
        http_result_free(&r);
    }
    json_decref(sum);
}

static void test_truth_keys(void **state)
{
    (void)state;
    static const char *const doc_keys[] = {"priceList", "notExemptAmount", "cancellationStatus",
                                           "cancellationDate", "references"};
    static const char *const line_keys[] = {"netUnitValueRaw", "discountPercentage", "discountId",
                                            "gratuity",        "relatedDetailId",    "document_id"};
    json_t *d = json_array_get(truth_arr(truth, "documents"), 0);
    for (size_t i = 0; i < ARRAY_LEN(doc_keys); i++)
        assert_non_null(json_object_get(d, doc_keys[i]));
    assert_true(json_is_string(json_object_get(json_object_get(d, "priceList"), "id")));
    json_t *l = json_array_get(truth_arr(truth, "document_details"), 0);
    for (size_t i = 0; i < ARRAY_LEN(line_keys); i++)
        assert_non_null(json_object_get(l, line_keys[i]));
    json_t *refs = truth_arr(truth, "document_references"), *r;
    size_t i;
    assert_true(json_array_size(refs) > 0);
    json_array_foreach (refs, i, r) {
        json_t *nc = by_id(truth, "documents", jget_id(r, "document_id"));
        assert_non_null(nc);
        assert_int_equal(int_of(doc_type_of(truth, nc), "isCreditNote"), 1);
        assert_true(json_is_string(json_object_get(r, "number")));
        assert_true(json_is_integer(json_object_get(r, "id")));
    }
    /* Voided documents of the generated history carry their cancellation too. */
    json_array_foreach (truth_arr(truth, "documents"), i, d) {
        bool voided = int_of(d, "state") == 1;
        assert_int_equal(int_of(d, "cancellationStatus"), voided);
        assert_true(voided ? json_is_integer(json_object_get(d, "cancellationDate"))
                           : json_is_null(json_object_get(d, "cancellationDate")));
    }
}

static int setup(void **state)
{
    (void)state;
    if (!sim_proc_start(&linked, sim_bin, link_args))
        return -1;
    if (!sim_proc_start(&embedded, sim_bin, embed_args)) {
        sim_proc_stop(&linked);
        return -1;
    }
    char url[256];
    struct http_result r = {0};
    snprintf(url, sizeof url, "%s/__truth", linked.root);
    http_get(url, TEST_TOKEN, &r);
    truth = r.status == 200 ? json_loadb(r.body, r.len, 0, NULL) : NULL;
    http_result_free(&r);
    return truth ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(truth);
    int a = sim_proc_stop(&linked), b = sim_proc_stop(&embedded);
    return a == 0 && b == 0 ? 0 : -1;
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
        cmocka_unit_test(test_line_fields),
        cmocka_unit_test(test_credit_notes),
        cmocka_unit_test(test_references_styles),
        cmocka_unit_test(test_converted_boletas),
        cmocka_unit_test(test_fields_light_page),
        cmocka_unit_test(test_truth_keys),
        cmocka_unit_test(test_voids_of_old_documents),
        cmocka_unit_test(test_mutate_credit_notes),
        cmocka_unit_test(test_gone_500_body),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}

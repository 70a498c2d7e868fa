/* Base utilities: buffer caps, error records, JSON quirks, log masking. */
#include "common.h"

#include "buf.h"
#include "err.h"
#include "json_util.h"
#include "utf8.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_buf_cap(void **state)
{
    (void)state;
    struct buf b;
    struct err e = ERR_INIT;
    buf_init(&b, 8);
    assert_int_equal(buf_append_str(&b, "1234", &e), ERR_OK);
    assert_int_equal(buf_appendf(&b, &e, "%d", 5678), ERR_OK);
    assert_string_equal(b.data, "12345678");
    assert_int_equal(buf_append_str(&b, "9", &e), ERR_LIMIT);
    assert_string_equal(b.data, "12345678");
    buf_release(&b);
    assert_string_equal(b.data, "");
}

static void test_err_prefix(void **state)
{
    (void)state;
    struct err e = ERR_INIT;
    assert_int_equal(err_set(&e, ERR_DB, "cannot open '%s'", "x.db"), ERR_DB);
    err_prefix(&e, "migrate");
    assert_string_equal(e.msg, "migrate: cannot open 'x.db'");
    assert_string_equal(err_str(ERR_DB), "ERR_DB");
}

static void test_json_int64_quirks(void **state)
{
    (void)state;
    json_t *root = NULL;
    struct err e = ERR_INIT;
    const char *doc = "{\"a\":\"656\",\"b\":1451650496937243,\"c\":\"68643.0\",\"d\":\"\","
                      "\"e\":{\"id\":\"7\"},\"f\":2.5}";
    assert_int_equal(json_util_load(doc, strlen(doc), &root, &e), ERR_OK);
    int64_t v;
    assert_true(json_util_int64(json_object_get(root, "a"), &v));
    assert_int_equal(v, 656);
    assert_true(json_util_int64(json_object_get(root, "b"), &v));
    assert_true(v == 1451650496937243LL);
    assert_true(json_util_int64(json_object_get(root, "c"), &v));
    assert_int_equal(v, 68643);
    assert_false(json_util_int64(json_object_get(root, "d"), &v));
    assert_false(json_util_int64(json_object_get(root, "f"), &v));
    assert_true(json_util_int64(json_util_path(root, "e.id"), &v));
    assert_int_equal(v, 7);
    assert_null(json_util_path(root, "e.id.x"));
    json_decref(root);
}

static void test_json_rejects_duplicates(void **state)
{
    (void)state;
    json_t *root = NULL;
    struct err e = ERR_INIT;
    const char *doc = "{\"a\":1,\"a\":2}";
    assert_int_equal(json_util_load(doc, strlen(doc), &root, &e), ERR_JSON);
    assert_null(root);
}

static void test_log_masks_secrets(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    log_set_output(f);
    log_setup(LOG_DEBUG, LOG_FORMAT_TEXT);
    log_add_secret("s3cr3t-token");
    log_info("calling with token s3cr3t-token and again s3cr3t-token");
    log_setup(LOG_INFO, LOG_FORMAT_JSON);
    log_info("json s3cr3t-token \xff bad utf8");
    log_debug("not shown");
    fflush(f);
    assert_null(strstr(out, "s3cr3t"));
    assert_non_null(strstr(out, "[REDACTED]"));
    assert_non_null(strstr(out, "\"severity\":\"INFO\""));
    assert_null(strstr(out, "not shown"));
    log_set_output(NULL);
    log_clear_secrets();
    fclose(f);
    free(out);
}

static void test_utf8_sanitize(void **state)
{
    (void)state;
    char s[] = "ñandú \xc3\x28 \xed\xa0\x80 ok";
    utf8_sanitize(s);
    assert_string_equal(s, "ñandú ?( ??? ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap),           cmocka_unit_test(test_err_prefix),
        cmocka_unit_test(test_json_int64_quirks), cmocka_unit_test(test_json_rejects_duplicates),
        cmocka_unit_test(test_log_masks_secrets), cmocka_unit_test(test_utf8_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

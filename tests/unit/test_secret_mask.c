/* The secret masker: every encoding of a registered secret is masked, other text is kept. */
#include "common.h"

#include "log.h"
#include "secret_mask.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Has special characters, so that each encoding spells it differently. */
#define TOKEN "tok \"en/+%&=ü-42"

static int setup(void **state)
{
    (void)state;
    secret_mask_clear();
    secret_mask_add(TOKEN);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    secret_mask_clear();
    return 0;
}

/* Masks a copy of text; asserts the mask appears and returns the masked copy. */
static char *masked(const char *text)
{
    char *d = secret_mask_dup(text, strlen(text));
    assert_true(strstr(d, SECRET_MASK_TEXT) != NULL);
    return d;
}

static void expect_masked(const char *text, const char *want)
{
    char *d = masked(text);
    assert_string_equal(d, want);
    free(d);
}

static void test_raw_and_json_escaped(void **state)
{
    (void)state;
    expect_masked("a " TOKEN " b", "a [REDACTED] b");
    expect_masked("{\"e\":\"tok \\\"en\\/+%&=\\u00fc-42\"}", "{\"e\":\"[REDACTED]\"}");
    expect_masked("{\"e\":\"tok \\\"en/+%&=\\u00FC-42\"}", "{\"e\":\"[REDACTED]\"}");
}

static void test_percent_encoded(void **state)
{
    (void)state;
    expect_masked("?t=tok%20%22en%2F%2B%25%26%3D%C3%BC-42&x=1", "?t=[REDACTED]&x=1");
    expect_masked("?t=tok%20%22en%2f%2b%25%26%3d%c3%bc-42", "?t=[REDACTED]");
    expect_masked("?t=tok+%22en/%2B%25%26%3D%C3%BC-42", "?t=[REDACTED]");
    /* every character encoded, and encoded twice */
    expect_masked("%74%6F%6B%20%22%65%6E%2F%2B%25%26%3D%C3%BC%2D%34%32", "[REDACTED]");
    expect_masked("tok%2520%2522en%252F%252B%2525%2526%253D%25C3%25BC-42", "[REDACTED]");
}

static void test_base64(void **state)
{
    (void)state;
    char *b64 = secret_base64((const unsigned char *)TOKEN, strlen(TOKEN));
    char *text = xasprintf("Authorization: Bearer %s", b64);
    char *d = masked(text);
    assert_null(strstr(d, b64));
    free(d);
    free(text);
    free(b64);
    /* inside base64 of anything, at each of the three alignments */
    for (size_t k = 0; k < 3; k++) {
        char *pair = xasprintf("%.*sme:%s", (int)k, "xy", TOKEN);
        char *enc = secret_base64((const unsigned char *)pair, strlen(pair));
        char *out = masked(enc);
        assert_true(strlen(out) < strlen(enc) - 8);
        free(out);
        free(enc);
        free(pair);
    }
}

static void test_basic_auth(void **state)
{
    (void)state;
    secret_mask_add_basic("etl", "pw-42");
    char *enc = secret_base64((const unsigned char *)"etl:pw-42", 9);
    char *text = xasprintf("Authorization: Basic %s.", enc);
    expect_masked(text, "Authorization: Basic [REDACTED].");
    free(text);
    free(enc);
}

static void test_other_text_kept(void **state)
{
    (void)state;
    const char *plain[] = {
        "tok \"en/+%&=ü-4", "tok en/+%&=ü-42", "%7", "\\u00", "+", "%25%25%25%25%25", "tok%2"};
    for (size_t i = 0; i < ARRAY_LEN(plain); i++) {
        char *d = secret_mask_dup(plain[i], strlen(plain[i]));
        assert_string_equal(d, plain[i]);
        free(d);
    }
    secret_mask_add("abc"); /* too short to mask safely */
    char *d = secret_mask_dup("abc", 3);
    assert_string_equal(d, "abc");
    free(d);
}

/* However many secrets are registered (each with its base64 spellings), the last is masked. */
static void test_many_secrets(void **state)
{
    (void)state;
    char last[32] = "";
    for (int i = 0; i < 60; i++) {
        snprintf(last, sizeof(last), "secret-number-%02d-x", i);
        secret_mask_add(last);
    }
    char *text = xasprintf("a %s b", last);
    expect_masked(text, "a [REDACTED] b");
    free(text);
}

static void test_log_masks_every_encoding(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    log_set_output(f);
    log_setup(LOG_INFO, LOG_FORMAT_JSON);
    /* JSON rendering escapes the quote and the non-ASCII character itself */
    log_info("raw %s pct %s", TOKEN, "tok%20%22en%2F%2B%25%26%3D%C3%BC-42");
    log_setup(LOG_INFO, LOG_FORMAT_TEXT);
    fflush(f);
    assert_null(strstr(out, "tok"));
    assert_non_null(strstr(out, "raw [REDACTED] pct [REDACTED]"));
    log_set_output(NULL);
    fclose(f);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_and_json_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_percent_encoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_base64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_text_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_masks_every_encoding, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

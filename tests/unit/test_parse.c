/* Strict number and date parsing: whole string, range, overflow, garbage. */
#include "common.h"

#include "date.h"
#include "parse.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void test_parse_long_accepts(void **state)
{
    (void)state;
    long v = 0;
    assert_true(parse_long("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(parse_long("8", 1, 50, &v));
    assert_int_equal(v, 8);
    assert_true(parse_long("-5", -10, 10, &v));
    assert_int_equal(v, -5);
    assert_true(parse_long("050", 0, 100, &v)); /* decimal, not octal */
    assert_int_equal(v, 50);
    assert_true(parse_long("9223372036854775807", 0, LONG_MAX, &v));
    assert_true(v == LONG_MAX);
    assert_true(parse_long("-9223372036854775808", LONG_MIN, 0, &v));
    assert_true(v == LONG_MIN);
    assert_true(parse_long("50", 1, 50, &v));
    assert_true(parse_long("1", 1, 50, &v));
}

static void test_parse_long_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        " 8",
        "8 ",
        "\t8",
        "\n8",
        "+8",
        "8x",
        "x8",
        "0x10",
        "1e3",
        "8.0",
        "8.",
        ".5",
        "-",
        "--1",
        "1-",
        "١٢",
        "8\n",
        "1 000",
        "1_000",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999999999",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        long v = 12345;
        if (parse_long(bad[i], LONG_MIN, LONG_MAX, &v))
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(v, 12345); /* untouched on failure */
    }
    long v = 7;
    assert_false(parse_long(NULL, 0, 10, &v));
    assert_false(parse_long("0", 1, 50, &v));
    assert_false(parse_long("51", 1, 50, &v));
    assert_false(parse_long("-1", 0, 60, &v));
    assert_int_equal(v, 7);
}

static void test_parse_double(void **state)
{
    (void)state;
    double d = 0;
    assert_true(parse_double("8", 0.01, 1000, &d));
    assert_true(d == 8.0);
    assert_true(parse_double("0.5", 0.01, 1000, &d));
    assert_true(d == 0.5);
    assert_true(parse_double(".25", 0, 1, &d));
    assert_true(d == 0.25);
    assert_true(parse_double("1e2", 0, 1000, &d));
    assert_true(d == 100.0);
    assert_true(parse_double("2.5E-1", 0, 1, &d));
    assert_true(d == 0.25);
    assert_true(parse_double("-1.5", -2, 0, &d));
    assert_true(d == -1.5);
    const char *bad[] = {"",       " 1",   "1 ",    "+1",  "inf",  "-inf",    "nan",   "NaN",
                         "1e",     "0x10", "0x1p3", "1,5", "1..2", "e5",      "1e999", "-1e999",
                         "1e-400", "abc",  ".",     "-",   "1.5.", "infinity"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        d = 42;
        if (parse_double(bad[i], -1e300, 1e300, &d))
            fail_msg("accepted '%s'", bad[i]);
        assert_true(d == 42);
    }
    assert_false(parse_double("0", 0.01, 1000, &d));
    assert_false(parse_double("1000.5", 0.01, 1000, &d));
    assert_false(parse_double(NULL, 0, 1, &d));
}

static void test_parse_date(void **state)
{
    (void)state;
    int y, m, d;
    assert_true(date_parse("2024-02-29", &y, &m, &d));
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    assert_true(date_parse("2000-02-29", NULL, NULL, NULL)); /* divisible by 400 */
    assert_true(date_parse("1999-12-31", NULL, NULL, NULL));
    assert_true(date_parse("2026-01-01", NULL, NULL, NULL));
    assert_true(date_parse("9999-12-31", NULL, NULL, NULL));
    const char *bad[] = {
        "2024-02-30", "2023-02-29",  "1900-02-29",  "2100-02-29",       "2024-04-31", "2024-13-01",
        "2024-00-10", "2024-01-00",  "2024-01-32",  "2024-1-01",        "2024-01-1",  "24-01-01",
        "2024/01/01", "2024-01-01 ", " 2024-01-01", "2024-01-01T00:00", "",           "yyyy-mm-dd",
        "1899-12-31", "2024-0a-01",  "+024-01-01",  "2024--1-01"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        if (date_parse(bad[i], NULL, NULL, NULL))
            fail_msg("accepted '%s'", bad[i]);
    assert_false(date_parse(NULL, NULL, NULL, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_long_accepts),
        cmocka_unit_test(test_parse_long_rejects),
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_parse_date),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

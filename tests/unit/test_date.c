/* Business dates: strict parsing, UTC day windows, ranges, today in a zone. */
#include "common.h"

#include "date.h"
#include "sync_runner.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_parse_date_strict(void **state)
{
    (void)state;
    int y, m, d;
    assert_true(date_parse("2024-02-29", &y, &m, &d));
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    assert_false(date_parse("2023-02-29", &y, &m, &d));
    assert_false(date_parse("2024-02-30", &y, &m, &d));
    assert_false(date_parse("2024-13-01", &y, &m, &d));
    assert_false(date_parse("2024-1-01", &y, &m, &d));
    assert_false(date_parse("2024-01-01x", &y, &m, &d));
    assert_false(date_parse("", &y, &m, &d));
    assert_false(date_parse(NULL, &y, &m, &d));
    assert_false(date_parse("1969-12-31", &y, &m, &d));
}

static void test_day_window_is_utc_inclusive(void **state)
{
    (void)state;
    long long from, to;
    struct err e = ERR_INIT;
    /* docs/bsale-api.md, Dates: 2024-02-15T00:00Z is 1707955200. */
    assert_int_equal(date_day_window("2024-02-15", &from, &to, &e), ERR_OK);
    assert_true(from == 1707955200LL);
    assert_true(to == 1707955200LL + 86399);
    assert_int_equal(date_day_window("2024-02-30", &from, &to, &e), ERR_INVALID);
}

static void test_date_arithmetic(void **state)
{
    (void)state;
    char out[11];
    struct err e = ERR_INIT;
    assert_int_equal(date_add("2024-03-01", -1, out, &e), ERR_OK);
    assert_string_equal(out, "2024-02-29");
    assert_int_equal(date_add("2023-12-31", 1, out, &e), ERR_OK);
    assert_string_equal(out, "2024-01-01");
    assert_int_equal(date_days_between("2024-02-01", "2024-02-01"), 1);
    assert_int_equal(date_days_between("2024-02-01", "2024-03-01"), 30);
    assert_int_equal(date_days_between("2024-02-02", "2024-02-01"), -1);
}

static void test_today_depends_on_zone(void **state)
{
    (void)state;
    char utc[11], far_east[11], far_west[11];
    struct err e = ERR_INIT;
    assert_int_equal(date_today("UTC", utc, &e), ERR_OK);
    assert_int_equal(date_today("Pacific/Kiritimati", far_east, &e), ERR_OK);
    assert_int_equal(date_today("Pacific/Pago_Pago", far_west, &e), ERR_OK);
    int y, m, d;
    assert_true(date_parse(utc, &y, &m, &d));
    /* UTC+14 and UTC-11 are 25 hours apart: always different calendar dates. */
    assert_string_not_equal(far_east, far_west);
    assert_int_equal(date_days_between(far_west, far_east), 2);
    assert_null(getenv("TZ"));
}

int main(void)
{
    unsetenv("TZ");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_date_strict),
        cmocka_unit_test(test_day_window_is_utc_inclusive),
        cmocka_unit_test(test_date_arithmetic),
        cmocka_unit_test(test_today_depends_on_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

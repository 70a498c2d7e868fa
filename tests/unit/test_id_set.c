/* The id set: membership, growth, and what it refuses. */
#include "common.h"

#include "id_set.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

static void test_add_and_has(void **state)
{
    (void)state;
    struct id_set s = {0};
    assert_false(id_set_has(&s, 1));
    assert_true(id_set_add(&s, 42));
    assert_false(id_set_add(&s, 42));
    assert_true(id_set_has(&s, 42));
    assert_false(id_set_has(&s, 43));
    assert_false(id_set_add(&s, 0));
    assert_false(id_set_add(&s, -5));
    assert_int_equal(s.n, 1);
    id_set_release(&s);
    assert_int_equal(s.n, 0);
    assert_false(id_set_has(&s, 42));
}

/* Many ids, spread and clustered, survive every growth; each is added once. */
static void test_grows_and_keeps_every_id(void **state)
{
    (void)state;
    struct id_set s = {0};
    for (int64_t i = 1; i <= 100000; i++)
        assert_true(id_set_add(&s, i % 2 ? i : i * 1000003));
    assert_int_equal(s.n, 100000);
    assert_true(s.cap >= 2 * s.n);
    for (int64_t i = 1; i <= 100000; i++) {
        assert_true(id_set_has(&s, i % 2 ? i : i * 1000003));
        assert_false(id_set_add(&s, i % 2 ? i : i * 1000003));
    }
    assert_false(id_set_has(&s, 2));
    assert_true(id_set_add(&s, INT64_MAX));
    assert_true(id_set_has(&s, INT64_MAX));
    id_set_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_has),
        cmocka_unit_test(test_grows_and_keeps_every_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

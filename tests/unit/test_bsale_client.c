/* Pure functions of the Bsale fetcher: Retry-After parsing, backoff, rate limiter math. */
#include "common.h"

#include "bsale_client.h"
#include "rate_limit.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static void http_date(time_t t, const char *fmt, char *out, size_t n)
{
    struct tm tm;
    gmtime_r(&t, &tm);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    strftime(out, n, fmt, &tm);
#pragma GCC diagnostic pop
}

static void test_retry_after_seconds(void **state)
{
    (void)state;
    time_t now = 1700000000;
    assert_true(bsale_parse_retry_after("120", now) == 120.0);
    assert_true(bsale_parse_retry_after("  5 \r\n", now) == 5.0);
    assert_true(bsale_parse_retry_after("0", now) == 0.0);
    /* Huge values stay finite and positive; the caller caps what it honours. */
    double huge = bsale_parse_retry_after("99999999999999999999999999", now);
    assert_true(huge >= 1e9 && isfinite(huge));
}

static void test_retry_after_dates(void **state)
{
    (void)state;
    time_t now = 1700000000;
    char d[64];
    http_date(now + 90, "%a, %d %b %Y %H:%M:%S GMT", d, sizeof(d));
    assert_true(fabs(bsale_parse_retry_after(d, now) - 90.0) < 0.001);
    http_date(now + 30, "%A, %d-%b-%y %H:%M:%S GMT", d, sizeof(d)); /* RFC 850 */
    assert_true(fabs(bsale_parse_retry_after(d, now) - 30.0) < 0.001);
    http_date(now + 7, "%a %b %e %H:%M:%S %Y", d, sizeof(d)); /* asctime */
    assert_true(fabs(bsale_parse_retry_after(d, now) - 7.0) < 0.001);
    http_date(now - 60, "%a, %d %b %Y %H:%M:%S GMT", d, sizeof(d));
    assert_true(bsale_parse_retry_after(d, now) < 0);
    http_date(now, "%a, %d %b %Y %H:%M:%S GMT", d, sizeof(d));
    assert_true(bsale_parse_retry_after(d, now) < 0);
}

static void test_retry_after_garbage(void **state)
{
    (void)state;
    time_t now = 1700000000;
    const char *bad[] = {
        "", "   ", "soon", "12abc", "-5", "1.5.3", "Sun, 99 Foo 2023 99:99:99 GMT"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++)
        assert_true(bsale_parse_retry_after(bad[i], now) < 0);
    assert_true(bsale_parse_retry_after(NULL, now) < 0);
    char longv[200];
    memset(longv, '1', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    assert_true(bsale_parse_retry_after(longv, now) < 0);
}

static void test_backoff_bounds_and_growth(void **state)
{
    (void)state;
    uint64_t rng = 42;
    const double base = 0.5, max = 30.0;
    for (int attempt = 1; attempt <= 12; attempt++) {
        double cap = fmin(max, base * pow(2.0, attempt - 1));
        double lo = INFINITY, hi = 0, sum = 0;
        const int n = 4000;
        for (int i = 0; i < n; i++) {
            double w = bsale_backoff_s(attempt, base, max, &rng);
            assert_true(w >= 0.0 && w <= cap);
            lo = fmin(lo, w);
            hi = fmax(hi, w);
            sum += w;
        }
        /* Full jitter: the whole [0, cap] range is used, centred on cap / 2. */
        assert_true(lo < 0.02 * cap);
        assert_true(hi > 0.98 * cap);
        assert_true(fabs(sum / n - cap / 2) < 0.05 * cap);
    }
    assert_true(bsale_backoff_s(0, base, max, &rng) <= base);
    assert_true(bsale_backoff_s(1000, base, max, &rng) <= max);
    assert_true(bsale_backoff_s(3, 0.0, max, &rng) == 0.0);
}

static void test_backoff_differs_by_seed(void **state)
{
    (void)state;
    uint64_t a = 1, b = 2;
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += bsale_backoff_s(4, 1.0, 30.0, &a) == bsale_backoff_s(4, 1.0, 30.0, &b);
    assert_true(same < 5);
}

/* A greedy caller: takes whenever allowed, else sleeps exactly the wait asked. */
static size_t simulate_on(struct rate_limit *rl, double rate, double start, double seconds,
                          double *times, size_t max)
{
    double now = start;
    size_t n = 0;
    while (now < start + seconds && n < max) {
        double w = rate_limit_take(rl, rate, now);
        if (w == 0.0)
            times[n++] = now;
        else
            now += w;
    }
    return n;
}

static size_t simulate(double rate, double seconds, double *times, size_t max)
{
    struct rate_limit rl = {0};
    rate_limit_init(&rl);
    return simulate_on(&rl, rate, 100.0, seconds, times, max);
}

static size_t peak_in_window(const double *t, size_t n, double window)
{
    size_t peak = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        while (t[i] - t[j] > window) /* closed window [t_j, t_j + window] */
            j++;
        if (i - j + 1 > peak)
            peak = i - j + 1;
    }
    return peak;
}

static void test_rate_limit_window(void **state)
{
    (void)state;
    static double times[20000];
    const double rates[] = {1, 2.5, 8, 10, 50, 300, 1000};
    for (size_t k = 0; k < ARRAY_LEN(rates); k++) {
        double rate = rates[k];
        size_t n = simulate(rate, 10.0, times, ARRAY_LEN(times));
        size_t per_s = (size_t)floor(rate);
        assert_true(peak_in_window(times, n, 1.0) <= per_s);
        /* At least 97 % of the rate (whole attempts per second): 2.4 % goes to the slack. */
        double ceiling = fmin(rate, (double)per_s);
        if (!(n + 1 >= 0.97 * ceiling * 10.0))
            fail_msg("rate %.1f: %zu attempts in 10 s", rate, n);
    }
}

static void sort_times(double *t, size_t n)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: nearly sorted already */
        for (size_t j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
}

/* Arrivals delayed by up to 24 ms each (under the 25 ms the slack leaves at 8/s) stay legal. */
static void test_rate_limit_absorbs_arrival_jitter(void **state)
{
    (void)state;
    static double times[2000];
    size_t n = simulate(8.0, 60.0, times, ARRAY_LEN(times));
    uint64_t seed = 42;
    for (size_t i = 0; i < n; i++)
        times[i] += bsale_backoff_s(1, 0.024, 0.024, &seed);
    sort_times(times, n);
    assert_true(peak_in_window(times, n, 1.0) <= 8);
}

/*
 * Every 5th request leaves up to 300 ms after its attempt was granted (a new connection, a
 * busy loop); the sends, reported in time order, still never put 9 in one rolling second.
 */
static void test_rate_limit_counts_late_sends(void **state)
{
    (void)state;
    static double took[1000], sent[1000];
    struct rate_limit rl = {0};
    rate_limit_init(&rl);
    uint64_t seed = 7;
    size_t n = 0, applied = 0;
    double now = 100.0;
    while (now < 160.0 && n < ARRAY_LEN(took)) {
        for (size_t i = applied; i < n && sent[i] <= now; i++, applied++)
            rate_limit_sent(&rl, took[i], sent[i]);
        double w = rate_limit_take(&rl, 8.0, now);
        if (w == 0.0) {
            took[n] = now;
            sent[n] = now + (n % 5 == 0 ? bsale_backoff_s(1, 0.3, 0.3, &seed) : 0.0);
            /* sends go out in order: one held back holds back those granted after it */
            if (n > 0 && sent[n] < sent[n - 1])
                sent[n] = sent[n - 1];
            n++;
            continue;
        }
        now += applied < n && sent[applied] > now ? fmin(w, sent[applied] - now) : w;
    }
    sort_times(sent, n);
    assert_true(peak_in_window(sent, n, 1.0) <= 8);
    assert_true(n > 400); /* the pace is kept nonetheless */
}

static void test_rate_limit_even_pace_and_slow_rates(void **state)
{
    (void)state;
    double times[64] = {0};
    size_t n = simulate(8.0, 0.001, times, ARRAY_LEN(times));
    assert_int_equal(n, 1); /* no burst: the next one is paced */
    n = simulate(8.0, 3.0, times, ARRAY_LEN(times));
    for (size_t i = 2; i < n; i++)
        assert_true(times[i] - times[i - 1] >= rate_limit_interval(8.0) / 2.0 - 1e-9);
    n = simulate(0.5, 9.0, times, ARRAY_LEN(times));
    assert_true(n >= 4 && n <= 5);
    for (size_t i = 1; i < n; i++)
        assert_true(times[i] - times[i - 1] >= 2.0);
    struct rate_limit rl = {0};
    rate_limit_init(&rl);
    assert_true(rate_limit_take(&rl, 0.0, 1.0) == 0.0); /* unlimited */
}

static int temp_state_file(void)
{
    char path[] = "/tmp/petl-rate-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

/* P runs flat out storing its attempts; Q starts after it from P's state file. */
static void test_rate_limit_state_file_handoff(void **state)
{
    (void)state;
    static double times[512];
    const double gaps[] = {0.0, 0.001, 0.05, 0.4, 0.99, 1.05, 5.0};
    for (size_t g = 0; g < ARRAY_LEN(gaps); g++) {
        int fd = temp_state_file();
        struct rate_limit p = {0}, q = {0};
        rate_limit_init(&p);
        rate_limit_init(&q);
        size_t n = simulate_on(&p, 8.0, 100.0, 2.6, times, 256);
        assert_true(rate_limit_store(&p, fd));
        double q_start = times[n - 1] + gaps[g];
        assert_int_equal(rate_limit_load(&q, fd, 8.0, q_start),
                         n < RATE_LIMIT_STATE_MAX ? n : RATE_LIMIT_STATE_MAX);
        size_t m = simulate_on(&q, 8.0, q_start, 3.0, times + n, 256);
        assert_true(m > 0);
        assert_true(peak_in_window(times, n + m, 1.0) <= 8);
        if (gaps[g] > 1.0 + RATE_LIMIT_SLACK)
            assert_true(times[n] == q_start); /* a run long after the last: no wait */
        close(fd);
    }
}

static void test_rate_limit_state_file_ignored(void **state)
{
    (void)state;
    int fd = temp_state_file();
    struct rate_limit rl = {0};
    rate_limit_init(&rl);
    assert_int_equal(rate_limit_load(&rl, fd, 8.0, 10.0), 0); /* empty file */
    assert_true(rate_limit_take(&rl, 8.0, 50.0) == 0.0);
    assert_true(rate_limit_store(&rl, fd));
    struct rate_limit after_reboot = {0};
    rate_limit_init(&after_reboot);
    assert_int_equal(rate_limit_load(&after_reboot, fd, 8.0, 20.0), 0); /* from the future */
    assert_true(rate_limit_take(&after_reboot, 8.0, 20.0) == 0.0);
    close(fd);
}

static void test_rate_limit_idle_no_burst(void **state)
{
    (void)state;
    /* After a long pause one attempt goes at once, the next ones at the pace. */
    struct rate_limit rl = {0};
    rate_limit_init(&rl);
    double now = 10.0;
    for (int i = 0; i < 40;) {
        double w = rate_limit_take(&rl, 8.0, now);
        if (w == 0.0)
            i++;
        else
            now += w;
    }
    now += 60.0;
    int burst = 0;
    while (rate_limit_take(&rl, 8.0, now) == 0.0)
        burst++;
    assert_int_equal(burst, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_dates),
        cmocka_unit_test(test_retry_after_garbage),
        cmocka_unit_test(test_backoff_bounds_and_growth),
        cmocka_unit_test(test_backoff_differs_by_seed),
        cmocka_unit_test(test_rate_limit_window),
        cmocka_unit_test(test_rate_limit_absorbs_arrival_jitter),
        cmocka_unit_test(test_rate_limit_counts_late_sends),
        cmocka_unit_test(test_rate_limit_even_pace_and_slow_rates),
        cmocka_unit_test(test_rate_limit_state_file_handoff),
        cmocka_unit_test(test_rate_limit_state_file_ignored),
        cmocka_unit_test(test_rate_limit_idle_no_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

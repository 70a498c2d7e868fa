/* Token bucket and window guard shared by every Bsale request of the process. */
#include "common.h"

#include "rate_limit.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/* Smallest wait returned, so callers never spin on rounding leftovers. */
#define RATE_LIMIT_MIN_WAIT_S 0.0005

static struct rate_limit shared_limit;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

void rate_limit_init(struct rate_limit *rl)
{
    memset(rl, 0, sizeof(*rl));
}

double rate_limit_burst(double rate)
{
    double b = floor(rate / 4.0);
    return b < 1.0 ? 1.0 : b;
}

/* Attempts the window guard allows per window: one second's worth, within the ring. */
static size_t window_attempts(double rate)
{
    double n = floor(rate);
    if (n < 1.0)
        return 1;
    if (n > RATE_LIMIT_RING)
        return RATE_LIMIT_RING;
    return (size_t)n;
}

static void record(struct rate_limit *rl, double at)
{
    rl->ring[rl->head] = at;
    rl->head = (rl->head + 1) % RATE_LIMIT_RING;
    if (rl->len < RATE_LIMIT_RING)
        rl->len++;
}

static double bucket_wait(struct rate_limit *rl, double rate, double now)
{
    double cap = rate_limit_burst(rate);
    if (!rl->started) {
        rl->started = true;
        rl->tokens = cap;
        rl->last = now;
    }
    if (now > rl->last) {
        rl->tokens = fmin(cap, rl->tokens + (now - rl->last) * rate);
        rl->last = now;
    }
    rl->tokens = fmin(rl->tokens, cap);
    return rl->tokens >= 1.0 ? 0.0 : (1.0 - rl->tokens) / rate;
}

/*
 * A bucket alone lets burst + rate attempts into one second; the guard makes
 * the n-th previous attempt at least a window (+ margin) old, so any window
 * holds at most n = floor(rate) attempts.
 */
static double window_wait(const struct rate_limit *rl, double rate)
{
    size_t n = window_attempts(rate);
    if (rl->len < n)
        return 0.0;
    /* One second for floor(rate) attempts; longer below 1/s, shorter past the ring. */
    double window = fmax((double)n / rate, n < RATE_LIMIT_RING ? 1.0 : 0.0);
    double nth = rl->ring[(rl->head + RATE_LIMIT_RING - n) % RATE_LIMIT_RING];
    return nth + window + RATE_LIMIT_MARGIN_S;
}

double rate_limit_take(struct rate_limit *rl, double rate, double now)
{
    if (!(rate > 0.0))
        return 0.0;
    double wait = bucket_wait(rl, rate, now);
    double free_at = window_wait(rl, rate);
    if (free_at > now)
        wait = fmax(wait, free_at - now);
    if (wait > 0.0)
        return fmax(wait, RATE_LIMIT_MIN_WAIT_S);
    rl->tokens -= 1.0;
    record(rl, now);
    return 0.0;
}

void rate_limit_prime(struct rate_limit *rl, double rate, double now)
{
    if (!(rate > 0.0))
        return;
    for (size_t i = 0; i < window_attempts(rate); i++)
        record(rl, now);
}

double rate_limit_take_shared(double rate, double now)
{
    pthread_mutex_lock(&shared_lock);
    if (!shared_limit.started && shared_limit.len == 0)
        rate_limit_prime(&shared_limit, rate, now);
    double w = rate_limit_take(&shared_limit, rate, now);
    pthread_mutex_unlock(&shared_lock);
    return w;
}

/*
 * Request pacing: a token bucket with a small burst plus a sliding-window
 * guard, so that no 1-second window ever holds more than floor(rate) attempts
 * (for rates up to RATE_LIMIT_RING per second). Pure math on a caller-given clock, plus one
 * process-wide instance.
 */
#ifndef PETL_RATE_LIMIT_H
#define PETL_RATE_LIMIT_H

#include "common.h"

/* Attempts remembered by the window guard; rates above this many per second use a shorter window.
 */
#define RATE_LIMIT_RING 1024
/* Slack added to the window for jitter between our sends and the server's arrivals (a loaded
 * host or network can bunch them up); 60 ms costs about 6% of the rate at 8/s. */
#define RATE_LIMIT_MARGIN_S 0.06

struct rate_limit {
    bool started;
    double tokens;
    double last;                  /* time of the last refill */
    double ring[RATE_LIMIT_RING]; /* start times of the latest attempts */
    size_t head;                  /* next ring slot to write */
    size_t len;                   /* filled ring slots */
};

void rate_limit_init(struct rate_limit *rl);

/* Bucket capacity for a rate: a quarter second's worth, at least one attempt. */
double rate_limit_burst(double rate);

/*
 * Asks to start one attempt at time now (seconds, monotonic) under rate
 * attempts per second. Returns 0 and records the attempt when allowed,
 * else the seconds to wait (nothing recorded). rate <= 0 means unlimited.
 */
double rate_limit_take(struct rate_limit *rl, double rate, double now);

/*
 * Records a full window of attempts at now, as if another process using the
 * same token (the previous CLI run) had just spent it: the first attempt then
 * waits about a second, and the two processes together stay within the limit.
 */
void rate_limit_prime(struct rate_limit *rl, double rate, double now);

/* rate_limit_take on the process-wide limiter, primed on first use; thread-safe. */
double rate_limit_take_shared(double rate, double now);

#endif

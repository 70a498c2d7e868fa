/*
 * Request pacing: attempts evenly spaced at rate / (1 + RATE_LIMIT_SLACK), plus a
 * sliding-window guard, so that no window of (1 + RATE_LIMIT_SLACK) seconds ever holds
 * more than floor(rate) attempts (for rates up to RATE_LIMIT_RING per second). Pure math on
 * a caller-given clock, a small state file that hands the latest attempts to the next
 * process using the same token, and one process-wide instance.
 */
#ifndef PETL_RATE_LIMIT_H
#define PETL_RATE_LIMIT_H

#include "common.h"

/* Attempts remembered by the window guard; rates above this many per second use a shorter window.
 */
#define RATE_LIMIT_RING 1024
/*
 * Fraction by which the pace and the window are stretched: at 8/s attempts are 128 ms apart
 * and the 9th comes 25 ms after the 1st's second has closed, headroom for the server's arrival
 * jitter (docs/reliability.md, Pacing). Costs 2.4 % of the rate.
 */
#define RATE_LIMIT_SLACK 0.025
/* Latest attempts kept in the state file (enough for Bsale's 8/s). */
#define RATE_LIMIT_STATE_MAX 64

struct rate_limit {
    bool started;
    double tat;                   /* the paced time of the next attempt */
    double ring[RATE_LIMIT_RING]; /* start times of the latest attempts, ascending */
    size_t head;                  /* next ring slot to write */
    size_t len;                   /* filled ring slots */
};

void rate_limit_init(struct rate_limit *rl);

/* Seconds between paced attempts at a rate. */
double rate_limit_interval(double rate);

/*
 * Asks to start one attempt at time now (seconds, monotonic) under rate
 * attempts per second. Returns 0 and records the attempt when allowed,
 * else the seconds to wait (nothing recorded). rate <= 0 means unlimited.
 */
double rate_limit_take(struct rate_limit *rl, double rate, double now);

/*
 * Moves the attempt started at took to when its request was really sent (later, when the
 * connection or a busy loop held it), so the window guard counts what the server sees.
 */
void rate_limit_sent(struct rate_limit *rl, double took, double sent);

/*
 * Writes the latest attempts to fd (from offset 0), for the next process using the same
 * token. Returns false when the write fails (the next process then does not wait).
 */
bool rate_limit_store(const struct rate_limit *rl, int fd);

/*
 * Records the attempts a previous process stored in fd, so the two together stay within
 * the limit; the first attempt waits only as long as their window asks. Entries after now
 * (a file from before a reboot) are ignored. Returns the number of attempts loaded.
 */
size_t rate_limit_load(struct rate_limit *rl, int fd, double rate, double now);

/*
 * Points the process-wide limiter at the state file of a token: under $XDG_RUNTIME_DIR (else
 * /tmp), named by the user id and a hash of the token, never the token. Thread-safe.
 */
void rate_limit_shared_open(const char *token);

/* rate_limit_take on the process-wide limiter, stored after every attempt; thread-safe. */
double rate_limit_take_shared(double rate, double now);

/* rate_limit_sent on the process-wide limiter; thread-safe. */
void rate_limit_sent_shared(double took, double sent);

#endif

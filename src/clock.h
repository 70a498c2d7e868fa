/* The one clock (monotonic for durations, wall for deadlines) and UTC formatter. */
#ifndef PETL_CLOCK_H
#define PETL_CLOCK_H

#include "common.h"

#include <stddef.h>
#include <time.h>

/* Seconds on the monotonic clock: for durations and rate limits. */
double clock_monotonic(void);
/* The CLOCK_REALTIME instant secs from now, for pthread_cond_timedwait. */
void clock_deadline(double secs, struct timespec *out);
/* t formatted in UTC with strftime's fmt; returns strftime's length (0: did not fit). */
size_t utc_format(time_t t, const char *fmt, char *out, size_t n);
/* Now as "YYYY-MM-DD HH:MM:SS" UTC, the form every stored timestamp has. */
void utc_now(char out[20]);

#endif

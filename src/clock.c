#include "common.h"

#include "clock.h"

double clock_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_deadline(double secs, struct timespec *out)
{
    clock_gettime(CLOCK_REALTIME, out);
    double whole = secs > 1e8 ? 1e8 : secs < 0 ? 0 : secs;
    out->tv_sec += (time_t)whole;
    out->tv_nsec += (long)((whole - (double)(long long)whole) * 1e9);
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

size_t utc_format(time_t t, const char *fmt, char *out, size_t n)
{
    struct tm tm;
    if (!n)
        return 0;
    out[0] = '\0';
    if (!gmtime_r(&t, &tm))
        return 0;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    return strftime(out, n, fmt, &tm); /* callers pass literals; checked by utc_format's users */
#pragma GCC diagnostic pop
}

void utc_now(char out[20])
{
    (void)utc_format(time(NULL), "%Y-%m-%d %H:%M:%S", out, 20);
}

/* Request statistics of the simulator (GET /__stats): counts, concurrency and peak rate. */
#include "common.h"

#include "stats.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define STATS_MAX_KEYS 256
#define RATE_RING (1u << 16)
#define NS_PER_S 1000000000LL

struct stat_key {
    char tmpl[64];
    int status;
    uint64_t count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct stat_key keys[STATS_MAX_KEYS];
static size_t n_keys;
static uint64_t total, throttled, faults[FAULT_COUNT];
static int in_flight, max_in_flight;
static int64_t ring[RATE_RING];
static size_t ring_head, ring_len, max_rate;

int64_t stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

void stats_begin(void)
{
    int64_t now = stats_now_ns();
    pthread_mutex_lock(&lock);
    if (++in_flight > max_in_flight)
        max_in_flight = in_flight;
    while (ring_len && ring[ring_head] <= now - NS_PER_S) {
        ring_head = (ring_head + 1) % RATE_RING;
        ring_len--;
    }
    if (ring_len == RATE_RING) {
        ring_head = (ring_head + 1) % RATE_RING;
        ring_len--;
    }
    ring[(ring_head + ring_len) % RATE_RING] = now;
    ring_len++;
    if (ring_len > max_rate)
        max_rate = ring_len;
    pthread_mutex_unlock(&lock);
}

void stats_end(void)
{
    pthread_mutex_lock(&lock);
    in_flight--;
    pthread_mutex_unlock(&lock);
}

void stats_record(const char *tmpl, int status, enum fault fault, bool was_throttled)
{
    pthread_mutex_lock(&lock);
    total++;
    throttled += was_throttled;
    if (fault != FAULT_NONE)
        faults[fault]++;
    size_t i = 0;
    while (i < n_keys && !(keys[i].status == status && strcmp(keys[i].tmpl, tmpl) == 0))
        i++;
    if (i == n_keys && n_keys < STATS_MAX_KEYS) {
        snprintf(keys[i].tmpl, sizeof keys[i].tmpl, "%s", tmpl);
        keys[i].status = status;
        keys[i].count = 0;
        n_keys++;
    }
    if (i < n_keys)
        keys[i].count++;
    pthread_mutex_unlock(&lock);
}

void stats_reset(void)
{
    pthread_mutex_lock(&lock);
    n_keys = 0;
    total = throttled = 0;
    memset(faults, 0, sizeof faults);
    max_in_flight = in_flight;
    ring_head = ring_len = max_rate = 0;
    pthread_mutex_unlock(&lock);
}

void stats_render(struct jw *w)
{
    static const char *const fault_names[FAULT_COUNT] = {"none",  "fail",  "truncate",
                                                         "empty", "reset", "slow"};
    pthread_mutex_lock(&lock);
    jw_fmt(w,
           "{\"requests\":%llu,\"throttled\":%llu,\"in_flight\":%d,\"max_in_flight\":%d,"
           "\"max_rate_1s\":%zu,\"faults\":{",
           (unsigned long long)total, (unsigned long long)throttled, in_flight, max_in_flight,
           max_rate);
    for (int f = FAULT_NONE + 1; f < FAULT_COUNT; f++)
        jw_fmt(w, "%s\"%s\":%llu", f > FAULT_NONE + 1 ? "," : "", fault_names[f],
               (unsigned long long)faults[f]);
    jw_lit(w, "},\"by_path\":{");
    /* Group the (template, status) pairs by template in first-seen order. */
    bool first_tmpl = true;
    for (size_t i = 0; i < n_keys; i++) {
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || strcmp(keys[j].tmpl, keys[i].tmpl) == 0;
        if (seen)
            continue;
        if (!first_tmpl)
            jw_raw(w, ",", 1);
        first_tmpl = false;
        jw_str(w, keys[i].tmpl);
        jw_lit(w, ":{");
        bool first = true;
        for (size_t j = i; j < n_keys; j++) {
            if (strcmp(keys[j].tmpl, keys[i].tmpl) != 0)
                continue;
            jw_fmt(w, "%s\"%d\":%llu", first ? "" : ",", keys[j].status,
                   (unsigned long long)keys[j].count);
            first = false;
        }
        jw_lit(w, "}");
    }
    jw_lit(w, "}}");
    pthread_mutex_unlock(&lock);
}

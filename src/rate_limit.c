/* Even pacing and a window guard shared by every Bsale request of the process. */
#include "common.h"

#include "rate_limit.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Smallest wait returned, so callers never spin on rounding leftovers. */
#define RATE_LIMIT_MIN_WAIT_S 0.0005
/* "PRL1": the state file's layout. */
#define STATE_MAGIC 0x50524c31u

struct state_file {
    uint32_t magic;
    uint32_t n;
    double at[RATE_LIMIT_STATE_MAX]; /* ascending, monotonic clock */
};

static struct rate_limit shared_limit;
static int shared_fd = -1;
static uint64_t shared_key;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

void rate_limit_init(struct rate_limit *rl)
{
    memset(rl, 0, sizeof(*rl));
}

double rate_limit_interval(double rate)
{
    return (1.0 + RATE_LIMIT_SLACK) / rate;
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

static double last_attempt(const struct rate_limit *rl)
{
    return rl->len ? rl->ring[(rl->head + RATE_LIMIT_RING - 1) % RATE_LIMIT_RING] : -INFINITY;
}

/* Keeps the ring ascending even when callers' clocks interleave: later is the safe side. */
static void record(struct rate_limit *rl, double at)
{
    at = fmax(at, last_attempt(rl));
    rl->ring[rl->head] = at;
    rl->head = (rl->head + 1) % RATE_LIMIT_RING;
    if (rl->len < RATE_LIMIT_RING)
        rl->len++;
}

/*
 * The guard: the n-th previous attempt must be a stretched window old, so any window of
 * (1 + slack) s holds at most n = floor(rate) attempts, however the pace was kept.
 */
static double window_free_at(const struct rate_limit *rl, double rate)
{
    size_t n = window_attempts(rate);
    if (rl->len < n)
        return -INFINITY;
    /* One second for floor(rate) attempts; longer below 1/s, shorter past the ring. */
    double window = fmax((double)n / rate, n < RATE_LIMIT_RING ? 1.0 : 0.0);
    double nth = rl->ring[(rl->head + RATE_LIMIT_RING - n) % RATE_LIMIT_RING];
    return nth + window * (1.0 + RATE_LIMIT_SLACK);
}

double rate_limit_take(struct rate_limit *rl, double rate, double now)
{
    if (!(rate > 0.0))
        return 0.0;
    double interval = rate_limit_interval(rate);
    if (!rl->started) {
        rl->started = true;
        rl->tat = fmax(now, last_attempt(rl) + interval);
    }
    /* Half an interval of tolerance: a loop that wakes a little late keeps the pace. */
    double free_at = fmax(rl->tat - interval / 2.0, window_free_at(rl, rate));
    if (free_at > now)
        return fmax(free_at - now, RATE_LIMIT_MIN_WAIT_S);
    record(rl, now);
    rl->tat = fmax(rl->tat, now) + interval;
    return 0.0;
}

static double *ring_at(struct rate_limit *rl, size_t back)
{
    return &rl->ring[(rl->head + RATE_LIMIT_RING - 1 - back) % RATE_LIMIT_RING];
}

/*
 * The attempt is the oldest entry at or after took: any entry between took and it holds the
 * same time (record() lifts interleaved clocks to the latest), so which one moves is the same.
 */
void rate_limit_sent(struct rate_limit *rl, double took, double sent)
{
    size_t i = 0;
    while (i < rl->len && *ring_at(rl, i) >= took)
        i++;
    if (i == 0 || sent <= *ring_at(rl, i - 1))
        return;
    *ring_at(rl, --i) = sent;
    for (; i > 0 && *ring_at(rl, i) > *ring_at(rl, i - 1); i--) { /* keep the ring ascending */
        double t = *ring_at(rl, i);
        *ring_at(rl, i) = *ring_at(rl, i - 1);
        *ring_at(rl, i - 1) = t;
    }
}

bool rate_limit_store(const struct rate_limit *rl, int fd)
{
    struct state_file s = {.magic = STATE_MAGIC};
    s.n = (uint32_t)(rl->len < RATE_LIMIT_STATE_MAX ? rl->len : RATE_LIMIT_STATE_MAX);
    for (size_t i = 0; i < s.n; i++)
        s.at[i] = rl->ring[(rl->head + RATE_LIMIT_RING - s.n + i) % RATE_LIMIT_RING];
    return pwrite(fd, &s, sizeof(s), 0) == (ssize_t)sizeof(s);
}

size_t rate_limit_load(struct rate_limit *rl, int fd, double rate, double now)
{
    struct state_file s = {0};
    if (pread(fd, &s, sizeof(s), 0) != (ssize_t)sizeof(s) || s.magic != STATE_MAGIC ||
        s.n > RATE_LIMIT_STATE_MAX)
        return 0;
    for (uint32_t i = 0; i < s.n; i++)
        if (!isfinite(s.at[i]) || s.at[i] > now || (i && s.at[i] < s.at[i - 1]))
            return 0; /* torn, or written before a reboot */
    for (uint32_t i = 0; i < s.n; i++)
        record(rl, s.at[i]);
    if (s.n && rate > 0.0) {
        rl->started = true;
        rl->tat = fmax(now, s.at[s.n - 1] + rate_limit_interval(rate));
    }
    return s.n;
}

/* FNV-1a: names the file without holding anything the token could be read back from cheaply. */
static uint64_t token_hash(const char *token)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *p = token; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return h ? h : 1;
}

static int open_state(uint64_t key)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (!dir || dir[0] != '/')
        dir = "/tmp";
    char path[512];
    int n = snprintf(path, sizeof(path), "%s/patitas-etl-rate-%u-%016llx", dir, (unsigned)getuid(),
                     (unsigned long long)key);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -1;
    return open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
}

void rate_limit_shared_open(const char *token)
{
    uint64_t key = token_hash(token);
    pthread_mutex_lock(&shared_lock);
    if (key != shared_key) {
        if (shared_fd >= 0)
            close(shared_fd);
        shared_key = key;
        shared_fd = open_state(key);
        rate_limit_init(&shared_limit);
    }
    pthread_mutex_unlock(&shared_lock);
}

double rate_limit_take_shared(double rate, double now)
{
    pthread_mutex_lock(&shared_lock);
    if (!shared_limit.started && shared_limit.len == 0 && shared_fd >= 0)
        (void)rate_limit_load(&shared_limit, shared_fd, rate, now);
    double w = rate_limit_take(&shared_limit, rate, now);
    if (w == 0.0 && rate > 0.0 && shared_fd >= 0)
        (void)rate_limit_store(&shared_limit, shared_fd);
    pthread_mutex_unlock(&shared_lock);
    return w;
}

void rate_limit_sent_shared(double took, double sent)
{
    pthread_mutex_lock(&shared_lock);
    rate_limit_sent(&shared_limit, took, sent);
    if (shared_fd >= 0)
        (void)rate_limit_store(&shared_limit, shared_fd);
    pthread_mutex_unlock(&shared_lock);
}

/* Process-wide request statistics of the simulator; every function is thread-safe. */
#ifndef PETL_SIM_STATS_H
#define PETL_SIM_STATS_H

#include "sim.h"

enum fault {
    FAULT_NONE,
    FAULT_FAIL,
    FAULT_TRUNCATE,
    FAULT_EMPTY,
    FAULT_RESET,
    FAULT_SLOW,
    FAULT_COUNT
};

int64_t stats_now_ns(void); /* monotonic clock */
void stats_begin(void);     /* a /v1 request arrived */
void stats_end(void);       /* ... and completed */
void stats_record(const char *tmpl, int status, enum fault fault, bool was_throttled);
void stats_reset(void);
void stats_render(struct jw *w);

#endif

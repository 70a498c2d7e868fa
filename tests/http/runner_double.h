/*
 * A stand-in for the runner (src/sync_runner.h) used only by the HTTP tests: runs are
 * timers whose length and outcome the test chooses, so every HTTP path can be
 * driven without Bsale or a database.
 */
#ifndef PETL_RUNNER_DOUBLE_H
#define PETL_RUNNER_DOUBLE_H

#include "sync_runner.h"

struct runner_double_opts {
    int run_ms;            /* how long a run lasts; < 0 = until released or shut down */
    enum err_code outcome; /* of a run that ends by itself */
    const char *outcome_msg;
    enum err_code ready; /* what etl_runner_ready answers */
    const char *ready_msg;
};

void runner_double_set(struct etl_runner *r, const struct runner_double_opts *o);
/* Lets runs that wait for a release finish now, with the configured outcome. */
void runner_double_release(struct etl_runner *r);
/* Runs started so far. */
int runner_double_started(struct etl_runner *r);
/* The request of the latest run started. */
struct etl_request runner_double_last(struct etl_runner *r);
/* Whether etl_runner_shutdown was called. */
bool runner_double_shut_down(struct etl_runner *r);

#endif

/*
 * HTTP side of bsale-sim: libmicrohttpd daemon, authentication, rate limit,
 * injected faults, latency, statistics and the /__ test hooks.
 */
#ifndef PETL_SIM_SERVER_H
#define PETL_SIM_SERVER_H

#include "sim.h"

enum rl_style { RL_HEADER, RL_BODY, RL_BOTH, RL_500 };

struct server_opts {
    const char *bind;  /* IPv4 address, borrowed */
    uint16_t port;     /* 0 = any free port */
    const char *token; /* borrowed; never logged */
    bool test_hooks;
    unsigned latency_ms;
    bool live_latency;   /* per-path latency as Bsale answers (overrides latency_ms) */
    unsigned rate_limit; /* requests per second per token; 0 = none */
    enum rl_style rl_style;
    double fail_rate, truncate_rate, empty_rate, reset_rate, slow_rate;
    unsigned slow_ms;
    unsigned storm_seconds; /* every /v1 request answers 429 for this long; 0 = no storm */
    uint64_t storm_after;   /* ... starting at this request (0 = the first) */
    uint64_t fault_seed;
};

struct sim_server;

/* Starts serving st (borrowed; must outlive the server). *out is owned (server_stop). */
enum err_code server_start(const struct server_opts *o, struct sim_store *st,
                           struct sim_server **out, struct err *e) MUST_CHECK;
uint16_t server_port(const struct sim_server *s);
/* Wakes sleeping requests, stops the daemon and frees s (NULL is fine). */
void server_stop(struct sim_server *s);

#endif

/*
 * Test support: starts bsale-sim on a free port, reads the base URL from its first
 * stdout line, stops it with SIGTERM; plus a small libcurl GET/POST wrapper.
 * Reusable by any test area that needs a simulated Bsale.
 */
#ifndef PETL_TEST_SIM_PROC_H
#define PETL_TEST_SIM_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sim_proc {
    pid_t pid;
    char base[128]; /* "http://127.0.0.1:40123/v1" */
    char root[128]; /* "http://127.0.0.1:40123" (for the /__ hooks) */
};

/*
 * Runs `bin --port 0 <args...>` (args NULL-terminated) and waits up to 20 s for the
 * URL line. Returns false (and reaps the child) on failure.
 */
bool sim_proc_start(struct sim_proc *p, const char *bin, const char *const args[]);
/* SIGTERM, then waits; returns the exit status (0 on a clean stop), -1 if it had to kill. */
int sim_proc_stop(struct sim_proc *p);

struct http_result {
    long status;
    int curl_code; /* CURLcode; 0 = transfer complete */
    char *body;    /* owned, NUL-terminated, never NULL */
    size_t len;
    char retry_after[32]; /* Retry-After header value or "" */
    double seconds;       /* total time */
};

/* One request; token may be NULL (no header). method "GET"/"POST"/...; body may be NULL. */
void http_call(const char *method, const char *url, const char *token, const char *body,
               long timeout_ms, struct http_result *r);
void http_get(const char *url, const char *token, struct http_result *r);
void http_result_free(struct http_result *r);

#endif

/*
 * `patitas-etl serve`: the HTTP API on GNU libmicrohttpd. Routes parse the
 * request and talk to the runner; they know nothing of Bsale or SQL.
 */
#ifndef PETL_HTTP_SERVER_H
#define PETL_HTTP_SERVER_H

#include "common.h"
#include "config.h"
#include "err.h"
#include "sync_runner.h"

struct http_server;

/*
 * Binds cfg->host:cfg->port (port 0 = any free port) and serves from
 * background threads. cfg and runner are borrowed and must outlive the server.
 * *out owned: http_server_stop.
 */
enum err_code http_server_start(const struct config *cfg, struct etl_runner *runner,
                                struct http_server **out, struct err *e) MUST_CHECK;

/* The bound TCP port. */
unsigned http_server_port(const struct http_server *s);

/*
 * Graceful stop: stops accepting, asks the runner to stop a running sync
 * (etl_runner_shutdown with cfg->shutdown_timeout_s), lets in-flight requests
 * answer, then stops the daemon and frees s. Accepts NULL.
 */
void http_server_stop(struct http_server *s);

/*
 * Serves until SIGTERM or SIGINT, then stops gracefully and returns ERR_OK.
 * Blocks both signals in the calling thread (threads started later inherit
 * that); threads the caller started earlier should block them as well.
 */
enum err_code http_server_run(const struct config *cfg, struct etl_runner *runner,
                              struct err *e) MUST_CHECK;

#endif

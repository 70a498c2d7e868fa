/*
 * The runner: owns a run's life (single-flight lock, etl_ejecuciones row,
 * plan of streams, outcome) and the process-wide run state that the CLI and
 * the HTTP server read. Triggers know nothing of Bsale or SQL; they call this.
 * Thread-safe.
 */
#ifndef PETL_SYNC_RUNNER_H
#define PETL_SYNC_RUNNER_H

#include "common.h"
#include "config.h"
#include "err.h"
#include "sync_metrics.h"
#include "sync_request.h"

#include <jansson.h>

struct etl_runner;

/* cfg is borrowed and must outlive the runner. */
enum err_code etl_runner_new(const struct config *cfg, struct etl_runner **out,
                             struct err *e) MUST_CHECK;
void etl_runner_free(struct etl_runner *r); /* cancels and joins a running sync; accepts NULL */

/*
 * Starts a run in a background thread and returns once its run record exists
 * (*run_id set). ERR_BUSY when a sync is running here or in another process
 * (*run_id then holds the running run's id when known, else 0).
 */
enum err_code etl_runner_start(struct etl_runner *r, const struct etl_request *req,
                               long long *run_id, struct err *e) MUST_CHECK;

/*
 * The run a trigger joins instead of starting one: the run created with
 * req->idempotency_key (running or finished), else the run going now (in any
 * process sharing the database) when it has req's kind and resolved dates.
 * ERR_NOT_FOUND when there is none.
 */
enum err_code etl_runner_join(struct etl_runner *r, const struct etl_request *req,
                              long long *run_id, struct err *e) MUST_CHECK;

/*
 * Waits for run_id (started by this runner, or any run recorded: another
 * process's is polled in the database until it ends) to finish; *summary owned
 * (json_decref), set whatever the outcome. Returns the run's outcome: ERR_OK
 * when it succeeded, else the code of its first real cause (ERR_BSALE,
 * ERR_BSALE_AUTH, ERR_HTTP: Bsale side; ERR_DB, ERR_SCHEMA: database side;
 * ERR_INTERRUPTED) with e describing it. The summary's "error_code" holds
 * err_str() of that code and "error" the reason.
 */
enum err_code etl_runner_wait(struct etl_runner *r, long long run_id, json_t **summary,
                              struct err *e) MUST_CHECK;

/*
 * Asks a running sync to stop at its next transaction boundary and waits up to
 * timeout_s; a run that could not finish is recorded as failed, "interrupted".
 */
void etl_runner_shutdown(struct etl_runner *r, double timeout_s);

/* Run history from the database, as JSON summaries. Owned. */
enum err_code etl_runner_list(struct etl_runner *r, int limit, json_t **runs,
                              struct err *e) MUST_CHECK;
enum err_code etl_runner_get(struct etl_runner *r, long long id, json_t **run,
                             struct err *e) MUST_CHECK; /* ERR_NOT_FOUND */

/* Readiness: database reachable and schema current. */
enum err_code etl_runner_ready(struct etl_runner *r, struct err *e) MUST_CHECK;

void etl_runner_metrics(struct etl_runner *r, struct etl_metrics *out);

#endif

/*
 * The bodies of the CLI subcommands that act (sync, migrate, report, serve):
 * each takes the loaded configuration, prints what went wrong and returns
 * the outcome; main.c alone turns it into the exit status.
 */
#ifndef PETL_CLI_COMMANDS_H
#define PETL_CLI_COMMANDS_H

#include "config.h"
#include "err.h"
#include "sync_runner.h"

enum err_code cmd_sync_run(const struct config *cfg, const struct etl_request *req,
                           bool json_output);
enum err_code cmd_migrate_run(const struct config *cfg);
/* date: "YYYY-MM-DD" for the best sellers, NULL = the latest date with sales. */
enum err_code cmd_report_run(const struct config *cfg, const char *date);
/* Serves the HTTP API until SIGTERM/SIGINT; a running sync is stopped gracefully. */
enum err_code cmd_serve_run(const struct config *cfg);

#endif

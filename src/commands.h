/*
 * The bodies of the CLI subcommands that act (sync, migrate, report, serve):
 * each takes the loaded configuration and returns a process exit code
 * (0 success, 1 runtime failure, 2 usage). Only main.c calls them.
 */
#ifndef PETL_COMMANDS_H
#define PETL_COMMANDS_H

#include "config.h"
#include "sync_runner.h"

int cmd_sync_run(const struct config *cfg, const struct etl_request *req, bool json_output);
int cmd_migrate_run(const struct config *cfg);
/* date: "YYYY-MM-DD" for the best sellers, NULL = the latest date with sales. */
int cmd_report_run(const struct config *cfg, const char *date);
/* Serves the HTTP API until SIGTERM/SIGINT; a running sync is stopped gracefully. */
int cmd_serve_run(const struct config *cfg);

#endif

/*
 * Command-line parsing shared by the subcommands: global options (--env-file
 * and one flag per setting) and the sync date options. Prints nothing and
 * never exits: main.c turns the results into messages and exit codes.
 */
#ifndef PETL_CLI_H
#define PETL_CLI_H

#include "common.h"
#include "config.h"
#include "err.h"
#include "sync_runner.h"

struct cli_globals {
    const char *env_file; /* borrowed from argv; NULL = ./.env if present */
    char **overrides;     /* owned "KEY=VALUE" strings, in command-line order */
    size_t n_overrides;
};

void cli_globals_init(struct cli_globals *g);
void cli_globals_release(struct cli_globals *g);

/* The config_opts view of g (borrows g). */
void cli_config_opts(const struct cli_globals *g, struct config_opts *o);

/*
 * If argv[*i] is a global option, consumes it and its value (advancing *i past
 * them) and sets *taken. ERR_USAGE when the option lacks its value.
 */
enum err_code cli_take_global(struct cli_globals *g, int argc, char **argv, int *i, bool *taken,
                              struct err *e) MUST_CHECK;

/* True for "-h" and "--help". */
bool cli_is_help(const char *arg);

/*
 * Parses the arguments of a command without options of its own: only global
 * options and --help. *help is set when --help was given.
 */
enum err_code cli_parse_plain(int argc, char **argv, struct cli_globals *g, bool *help,
                              struct err *e) MUST_CHECK;

struct sync_args {
    struct etl_request req; /* kind, origin CLI, dates ("" = not given) */
    bool json;              /* --json: print the run summary as JSON */
};

/*
 * Parses `sync full [--from D --to D] [--json]` or
 * `sync daily [--date D | --from D --to D] [--json]` (argv after the command
 * words): real calendar dates, --from with --to, from <= to, --date alone
 * (daily only). ERR_USAGE on any violation.
 */
enum err_code cli_parse_sync(enum etl_kind kind, int argc, char **argv, struct cli_globals *g,
                             struct sync_args *a, bool *help, struct err *e) MUST_CHECK;

/* Parses `report [--date D]`; date is "" when not given. */
enum err_code cli_parse_report(int argc, char **argv, struct cli_globals *g, char date[11],
                               bool *help, struct err *e) MUST_CHECK;

#endif

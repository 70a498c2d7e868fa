/*
 * Command-line entry point: the subcommand table, configuration loading and
 * exit codes (0 success, 1 runtime failure, 2 usage or configuration error).
 * The only place that decides how the process ends.
 */
#include "common.h"

#include "bsale_client.h"
#include "buf.h"
#include "cli.h"
#include "cli_commands.h"
#include "config.h"
#include "db_schema_docs.h"
#include "sync_runner.h"
#include "log.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct command {
    const char *name; /* one or two words: "sync full" */
    int (*fn)(const struct command *cmd, int argc, char **argv, struct cli_globals *g);
    const char *summary;
    const char *args;   /* after the name in the usage line */
    const char *detail; /* options and notes for --help */
};

static void print_command_help(const struct command *cmd, FILE *out)
{
    fprintf(out, "usage: patitas-etl %s%s%s [options]\n\n%s.\n", cmd->name, *cmd->args ? " " : "",
            cmd->args, cmd->summary);
    if (*cmd->detail)
        fprintf(out, "\n%s", cmd->detail);
    fprintf(out, "\nGlobal options (see `patitas-etl --help`):\n"
                 "  --env-file PATH              read settings from PATH instead of ./.env\n"
                 "  --<setting> VALUE            override a setting, e.g. --log-level debug\n");
}

static int usage_error(const struct command *cmd, const struct err *e)
{
    fprintf(stderr, "patitas-etl: %s\n", e->msg);
    if (cmd)
        fprintf(stderr, "Run 'patitas-etl %s --help' for usage.\n", cmd->name);
    else
        fprintf(stderr, "Run 'patitas-etl --help' for usage.\n");
    return EXIT_USAGE;
}

/* Prints the problems (one per line in problems) as one line: "A is required; B: ...". */
static void print_config_problems(const struct buf *problems, const struct err *e)
{
    const char *sep = "";
    fprintf(stderr, "patitas-etl: configuration error: ");
    for (const char *p = problems->data; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(stderr, "%s%.*s", sep, (int)n, p);
        sep = "; ";
        p += n + (p[n] == '\n');
    }
    fprintf(stderr, "%s\n", problems->len ? "" : e->msg);
}

/* Loads the configuration into cfg; on failure prints every problem. Returns an exit code. */
static int load_config(const struct cli_globals *g, struct config *cfg)
{
    struct config_opts opts = {0};
    struct buf problems;
    struct err e = ERR_INIT;
    int rc = EXIT_OK;
    cli_config_opts(g, &opts);
    buf_init(&problems, 0);
    if (config_load(cfg, &opts, &problems, &e) != ERR_OK) {
        print_config_problems(&problems, &e);
        rc = EXIT_USAGE;
    }
    buf_release(&problems);
    return rc;
}

/* The one mapping from an action's outcome to the exit status: refused input is a usage error. */
static int exit_code_for(enum err_code rc)
{
    if (rc == ERR_OK)
        return EXIT_OK;
    return rc == ERR_INVALID || rc == ERR_USAGE ? EXIT_USAGE : EXIT_RUNTIME;
}

/* ---- argument handling per command ---- */

/* Parses a command without options of its own; returns -1 to go on, else an exit code. */
static int parse_plain(const struct command *cmd, int argc, char **argv, struct cli_globals *g)
{
    struct err e = ERR_INIT;
    bool help;
    if (cli_parse_plain(argc, argv, g, &help, &e))
        return usage_error(cmd, &e);
    if (help) {
        print_command_help(cmd, stdout);
        return EXIT_OK;
    }
    return -1;
}

static int main_serve(const struct command *cmd, int argc, char **argv, struct cli_globals *g)
{
    struct config cfg = {0};
    int rc = parse_plain(cmd, argc, argv, g);
    if (rc >= 0 || (rc = load_config(g, &cfg)) != EXIT_OK)
        return rc;
    rc = exit_code_for(cmd_serve_run(&cfg));
    config_release(&cfg);
    return rc;
}

static int main_migrate(const struct command *cmd, int argc, char **argv, struct cli_globals *g)
{
    struct config cfg = {0};
    int rc = parse_plain(cmd, argc, argv, g);
    if (rc >= 0 || (rc = load_config(g, &cfg)) != EXIT_OK)
        return rc;
    rc = exit_code_for(cmd_migrate_run(&cfg));
    config_release(&cfg);
    return rc;
}

static int main_sync(const struct command *cmd, int argc, char **argv, struct cli_globals *g)
{
    struct sync_args args = {0};
    struct config cfg = {0};
    struct err e = ERR_INIT;
    bool help;
    enum etl_kind kind = strcmp(cmd->name, "sync full") == 0 ? ETL_FULL : ETL_DAILY;
    if (cli_parse_sync(kind, argc, argv, g, &args, &help, &e))
        return usage_error(cmd, &e);
    if (help) {
        print_command_help(cmd, stdout);
        return EXIT_OK;
    }
    int rc = load_config(g, &cfg);
    if (rc != EXIT_OK)
        return rc;
    rc = exit_code_for(cmd_sync_run(&cfg, &args.req, args.json));
    config_release(&cfg);
    return rc;
}

static int main_report(const struct command *cmd, int argc, char **argv, struct cli_globals *g)
{
    char date[11];
    struct config cfg = {0};
    struct err e = ERR_INIT;
    bool help;
    if (cli_parse_report(argc, argv, g, date, &help, &e))
        return usage_error(cmd, &e);
    if (help) {
        print_command_help(cmd, stdout);
        return EXIT_OK;
    }
    int rc = load_config(g, &cfg);
    if (rc != EXIT_OK)
        return rc;
    rc = exit_code_for(cmd_report_run(&cfg, *date ? date : NULL));
    config_release(&cfg);
    return rc;
}

static int main_config_check(const struct command *cmd, int argc, char **argv,
                             struct cli_globals *g)
{
    struct config cfg = {0};
    int rc = parse_plain(cmd, argc, argv, g);
    if (rc >= 0 || (rc = load_config(g, &cfg)) != EXIT_OK)
        return rc;
    config_dump(&cfg, stdout);
    printf("configuration OK\n");
    config_release(&cfg);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}

static int main_config_docs(const struct command *cmd, int argc, char **argv, struct cli_globals *g)
{
    int rc = parse_plain(cmd, argc, argv, g);
    if (rc >= 0)
        return rc;
    config_write_docs(stdout);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}

static int main_schema_docs(const struct command *cmd, int argc, char **argv, struct cli_globals *g)
{
    int rc = parse_plain(cmd, argc, argv, g);
    if (rc >= 0)
        return rc;
    db_schema_write_docs(stdout);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}

static int main_version(const struct command *cmd, int argc, char **argv, struct cli_globals *g)
{
    int rc = parse_plain(cmd, argc, argv, g);
    if (rc >= 0)
        return rc;
    printf("patitas-etl %s\n", petl_version());
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
}

static const struct command commands[] = {
    {"serve", main_serve, "Run the HTTP service (health, metrics, sync triggers)", "", ""},
    {"sync full", main_sync,
     "Copy all master data, plus the documents of --from..--to or since ETL_HISTORY_FROM",
     "[--from YYYY-MM-DD --to YYYY-MM-DD] [--json]",
     "Options:\n"
     "  --from YYYY-MM-DD            first document date to copy (needs --to)\n"
     "  --to YYYY-MM-DD              last document date to copy, inclusive\n"
     "  --json                       print the run summary as JSON\n"},
    {"sync daily", main_sync,
     "Copy the documents of today and ETL_LOOKBACK_DAYS days before (and check the "
     "ETL_RECONCILE_DAYS before those), or exactly the given dates",
     "[--date YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD] [--json]",
     "Options:\n"
     "  --date YYYY-MM-DD            copy that day only (no lookback, no reconcile)\n"
     "  --from YYYY-MM-DD            first day to copy (needs --to); no lookback, no reconcile\n"
     "  --to YYYY-MM-DD              last day to copy, inclusive\n"
     "  --json                       print the run summary as JSON\n"},
    {"migrate", main_migrate, "Create or upgrade the database schema", "", ""},
    {"report", main_report, "Print rows per table, the latest runs and a day's best sellers",
     "[--date YYYY-MM-DD]",
     "Options:\n"
     "  --date YYYY-MM-DD            the day for best sellers (default: latest day with sales)\n"},
    {"config check", main_config_check,
     "Print the configuration (secrets redacted) and where each value came from; validate it", "",
     ""},
    {"config docs", main_config_docs, "Print the settings table of docs/config.md", "", ""},
    {"schema docs", main_schema_docs, "Print the tables section of docs/schema.md", "", ""},
    {"version", main_version, "Print the version", "", ""},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: patitas-etl [--env-file PATH] [--<setting> VALUE]... <command> [args]\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'patitas-etl <command> --help' for a command's options.\n\n"
                 "Settings come from, lowest precedence first: defaults, ./.env (or --env-file),\n"
                 "the environment, then these flags (secrets have none; see docs/config.md):\n");
    config_write_flags_help(out);
    fprintf(out, "\nExit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n");
}

/* Length of cmd's first word ("sync" in "sync full"). */
static size_t first_word_len(const char *name)
{
    return strcspn(name, " ");
}

/* Finds the command named by argv[0] (and argv[1] for two-word commands); *used = words used. */
static const struct command *find_command(int argc, char **argv, int *used, bool *group)
{
    *group = false;
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        const char *name = commands[i].name;
        size_t n = first_word_len(name);
        if (strlen(argv[0]) != n || strncmp(argv[0], name, n) != 0)
            continue;
        if (!name[n]) {
            *used = 1;
            return &commands[i];
        }
        *group = true;
        if (argc > 1 && strcmp(argv[1], name + n + 1) == 0) {
            *used = 2;
            return &commands[i];
        }
    }
    return NULL;
}

static int group_help(const char *group, bool is_help)
{
    FILE *out = is_help ? stdout : stderr;
    fprintf(out, "usage: patitas-etl %s <subcommand> [options]\n\nSubcommands:\n", group);
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        const char *name = commands[i].name;
        size_t n = first_word_len(name);
        if (name[n] && strlen(group) == n && strncmp(group, name, n) == 0)
            fprintf(out, "  %-14s %s\n", name, commands[i].summary);
    }
    return is_help ? EXIT_OK : EXIT_USAGE;
}

static int dispatch(int argc, char **argv, struct cli_globals *g)
{
    struct err e = ERR_INIT;
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        bool taken;
        if (cli_is_help(argv[i])) {
            print_usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("patitas-etl %s\n", petl_version());
            return fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;
        }
        if (cli_take_global(g, argc, argv, &i, &taken, &e))
            return usage_error(NULL, &e);
        if (!taken) {
            err_set(&e, ERR_USAGE, "unknown option '%.60s'", argv[i]);
            return usage_error(NULL, &e);
        }
    }
    if (i == argc) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[i], "help") == 0) {
        print_usage(stdout);
        return EXIT_OK;
    }
    int used;
    bool group;
    const struct command *cmd = find_command(argc - i, argv + i, &used, &group);
    if (cmd)
        return cmd->fn(cmd, argc - i - used, argv + i + used, g);
    if (group) {
        const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
        bool is_help = sub && cli_is_help(sub);
        if (sub && !is_help)
            fprintf(stderr, "patitas-etl: unknown subcommand '%.60s' of '%s'\n", sub, argv[i]);
        else if (!sub)
            fprintf(stderr, "patitas-etl: '%s' needs a subcommand\n", argv[i]);
        return group_help(argv[i], is_help);
    }
    err_set(&e, ERR_USAGE, "unknown command '%.60s'", argv[i]);
    return usage_error(NULL, &e);
}

int main(int argc, char **argv)
{
    struct cli_globals g = {0};
    cli_globals_init(&g);
    log_setup(LOG_INFO, LOG_FORMAT_TEXT);
    /* Before any thread starts, unless libcurl's set-up is thread-safe: then at the first run. */
    if (!bsale_global_init(false)) {
        fprintf(stderr, "patitas-etl: cannot initialise libcurl\n");
        return EXIT_RUNTIME;
    }
    int rc = argc > 0 ? dispatch(argc, argv, &g) : EXIT_USAGE;
    bsale_global_cleanup();
    cli_globals_release(&g);
    log_clear_secrets();
    return rc;
}

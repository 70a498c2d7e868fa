/*
 * Settings: one declarative table (config.c) drives loading, validation,
 * `config check` and docs/config.md. Precedence, lowest first: defaults,
 * .env file, process environment, command-line overrides.
 * Knows nothing of Bsale, HTTP or SQL.
 */
#ifndef PETL_CONFIG_H
#define PETL_CONFIG_H

#include "common.h"
#include "buf.h"
#include "err.h"
#include "db_url.h"
#include "log.h"

#include <stdio.h>

/* Where a setting's effective value came from. */
enum config_source {
    CONFIG_SRC_DEFAULT = 0,
    CONFIG_SRC_DOTENV = 1,
    CONFIG_SRC_ENV = 2,
    CONFIG_SRC_FLAG = 3,
};

#define CONFIG_SETTINGS_MAX 48

/* ETL_DOCUMENT_EXTRAS: whether a document's taxes and sellers given as links are read. */
enum etl_document_extras {
    ETL_EXTRAS_EMBEDDED = 0, /* store what Bsale embeds (a cut collection is read whole) */
    ETL_EXTRAS_READ = 1,     /* also read both links of every document: +2 requests each */
};

struct config {
    char *database_url; /* raw, secret-bearing */
    struct db_url db;
    char *bsale_api_url; /* http(s), without a trailing '/' */
    char *bsale_api_token;
    double bsale_rate_limit; /* requests per second, process-wide */
    long bsale_concurrency;  /* requests in flight */
    long bsale_timeout_s;    /* per request, total */
    long bsale_connect_timeout_s;
    long bsale_max_attempts;   /* per request, including the first */
    long bsale_retry_budget_s; /* total time a request may spend retrying */
    long bsale_page_size;      /* list limit, max 50 */
    char *host;
    long port;
    char *etl_api_token; /* secret; protects the /etl routes and /metrics when set; NULL = unset */
    char *etl_timezone;  /* the store's zone for "today" */
    long etl_lookback_days;
    long etl_backfill_window_days;
    long etl_reconcile_days; /* days before the lookback a plain daily sync reconciles; 0 = off */
    /* Days within which daily syncs re-read every variant's cost. */
    long etl_cost_refresh_days;
    bool etl_daily_stock;    /* a plain daily sync reads stock and price lists whole */
    long etl_max_range_days; /* largest backfill accepted over HTTP */
    char *etl_history_from;  /* full sync also copies documents from this date ("" = no) */
    int etl_document_extras; /* enum etl_document_extras: documents' taxes and sellers links */
    long etl_batch_docs;     /* documents per write transaction */
    long etl_queue_batches;  /* bounded queue depth between fetcher and writer */
    long etl_run_timeout_s;  /* a run fails once it has fetched this long; 0 = no deadline */
    bool etl_auto_migrate;   /* serve/sync migrate on start */
    long http_max_connections;
    long http_timeout_s;
    long http_max_body;
    long shutdown_timeout_s;
    enum log_level log_level;
    enum log_format log_format;
    /* private: enum config_source per row of the settings table, for config_dump */
    unsigned char sources[CONFIG_SETTINGS_MAX];
};

struct config_opts {
    const char *env_file;         /* NULL: ./.env if it exists */
    bool env_file_required;       /* true when given with --env-file */
    const char *const *overrides; /* "KEY=VALUE" from the command line */
    size_t n_overrides;
    bool skip_required; /* load without demanding required keys (e.g. `version`) */
};

/*
 * Loads and validates every setting. On failure returns ERR_CONFIG, e names
 * every offending variable, and problems (may be NULL) gets one line per
 * problem. Registers secrets with the logger and applies LOG_LEVEL/LOG_FORMAT
 * (log_setup) before logging warnings (unknown .env keys). An override naming
 * a SECRET setting is refused: command lines are visible to other users.
 */
enum err_code config_load(struct config *cfg, const struct config_opts *opts, struct buf *problems,
                          struct err *e) MUST_CHECK;
void config_release(struct config *cfg);

/* Prints every setting, its value (secrets redacted) and where it came from. */
void config_dump(const struct config *cfg, FILE *out);

/* Writes docs/config.md's body (markdown table) to out. */
void config_write_docs(FILE *out);

/* Lists the command-line flag of every setting that may be set on the command line. */
void config_write_flags_help(FILE *out);

/* Setting names, for tests and docs. Borrowed, static. NULL-terminated. */
const char *const *config_setting_names(void);

#endif

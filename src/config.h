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
#include "log.h"

#include <stdio.h>

enum db_kind { DB_KIND_NONE = 0, DB_KIND_SQLITE = 1, DB_KIND_MYSQL = 2 };

/* A parsed SQLAlchemy-style DATABASE_URL. All strings owned; NULL when absent. */
struct db_url {
    enum db_kind kind;
    char *scheme; /* as written: "mysql+pymysql", "sqlite", ... */
    char *user;
    char *password; /* secret: never print */
    char *host;     /* NULL when only a unix socket is given */
    unsigned port;  /* 0 = driver default (3306) */
    char *database;
    char *unix_socket; /* ?unix_socket=/cloudsql/PROJECT:REGION:INSTANCE */
    char *charset;     /* ?charset=, default utf8mb4 */
    char *ssl_ca;      /* ?ssl_ca= */
    char *ssl_cert;    /* ?ssl_cert= */
    char *ssl_key;     /* ?ssl_key= */
    bool ssl;          /* TLS required (?ssl=true, ?ssl_mode=REQUIRED, or any ssl_* file) */
    bool ssl_verify;   /* verify server certificate (?ssl_verify_cert=true / ssl_mode=VERIFY_*) */
    unsigned connect_timeout_s; /* ?connect_timeout=, 0 = backend default */
    char *path;                 /* sqlite: file path, or ":memory:" for sqlite:// */
};

/* Parses s into u (zeroed first). Errors never quote the password. */
enum err_code db_url_parse(const char *s, struct db_url *u, struct err *e) MUST_CHECK;
void db_url_release(struct db_url *u);
/* The URL with the password replaced by "***". Owned, free(). */
char *db_url_redacted(const char *s);

/* Where a setting's effective value came from. */
enum config_source {
    CONFIG_SRC_DEFAULT = 0,
    CONFIG_SRC_DOTENV = 1,
    CONFIG_SRC_ENV = 2,
    CONFIG_SRC_FLAG = 3,
};

#define CONFIG_SETTINGS_MAX 48

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
    long etl_max_range_days; /* largest backfill accepted over HTTP */
    char *etl_history_from;  /* full sync also copies documents from this date ("" = no) */
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

/* Strict number parsing: whole string, no overflow, within [min, max]. */
bool parse_long(const char *s, long min, long max, long *out);
bool parse_double(const char *s, double min, double max, double *out);

#endif

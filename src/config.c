/*
 * Settings: the one table below drives loading, validation, the redacted dump,
 * command-line flags and docs/config.md. Knows nothing of Bsale, HTTP or SQL
 * beyond the shape of their settings.
 */
#include "common.h"

#define LOG_MODULE "config"
#include "clock.h"
#include "date.h"
#include "config.h"

#include "dotenv.h"
#include "utf8.h"
#include "log.h"
#include "secret_mask.h"
#include "parse.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

enum setting_type { T_STR, T_INT, T_DOUBLE, T_BOOL, T_ENUM, T_URL, T_DBURL, T_TZ, T_DATE };

#define S_REQUIRED 1u /* must be given, non-empty */
#define S_SECRET 2u   /* never printed, never a command-line flag, masked in logs */

#define VALUE_MAX DOTENV_LINE_MAX

struct setting {
    const char *name;
    enum setting_type type;
    size_t offset;
    const char *def; /* textual default; NULL = none */
    double min, max; /* T_INT, T_DOUBLE */
    unsigned flags;
    const char *const *choices; /* T_ENUM: index = stored value */
    const char *help;
};

static const char *const level_choices[] = {"error", "warn", "info", "debug", NULL};
static const char *const format_choices[] = {"text", "json", NULL};
static const char *const extras_choices[] = {"embedded", "read", NULL};

#define F(field) offsetof(struct config, field)
#define STR(n, f, def, flags, help)                                                                \
    {                                                                                              \
        n, T_STR, F(f), def, 0, 0, flags, NULL, help                                               \
    }
#define INT(n, f, def, lo, hi, help)                                                               \
    {                                                                                              \
        n, T_INT, F(f), def, lo, hi, 0, NULL, help                                                 \
    }

static const struct setting settings[] = {
    {"DATABASE_URL", T_DBURL, F(database_url), NULL, 0, 0, S_REQUIRED | S_SECRET, NULL,
     "Where to write: `mysql+pymysql://user:pass@host:3306/db`, "
     "`mysql+pymysql://user:pass@/db?unix_socket=/cloudsql/PROJECT:REGION:INSTANCE`, "
     "`mariadb://...`, `sqlite:///relative.db`, `sqlite:////absolute.db`. "
     "Shown with the password hidden"},
    STR("BSALE_API_TOKEN", bsale_api_token, NULL, S_REQUIRED | S_SECRET,
        "Bsale access token, sent as the `access_token` header"),
    {"BSALE_API_URL", T_URL, F(bsale_api_url), "https://api.bsale.io/v1", 0, 0, 0, NULL,
     "Bsale API base URL (http or https); point it at `bsale-sim` for tests"},
    {"BSALE_RATE_LIMIT", T_DOUBLE, F(bsale_rate_limit), "8", 0.01, 1000, 0, NULL,
     "Requests per second to Bsale, process-wide (Bsale publishes a limit of 8/s)"},
    INT("BSALE_CONCURRENCY", bsale_concurrency, "64", 1, 64,
        "Most Bsale requests in flight; about rate x latency + 1 are kept"),
    INT("BSALE_TIMEOUT_S", bsale_timeout_s, "60", 1, 3600,
        "Total time one Bsale request may take, in seconds"),
    INT("BSALE_CONNECT_TIMEOUT_S", bsale_connect_timeout_s, "10", 1, 600,
        "Time to connect to Bsale, in seconds; at most BSALE_TIMEOUT_S"),
    INT("BSALE_MAX_ATTEMPTS", bsale_max_attempts, "6", 1, 50,
        "Attempts per Bsale request, the first included (429, 5xx and network errors retry)"),
    INT("BSALE_RETRY_BUDGET_S", bsale_retry_budget_s, "300", 0, 86400,
        "Total time one Bsale request may spend retrying, in seconds"),
    INT("BSALE_PAGE_SIZE", bsale_page_size, "50", 1, 50,
        "Items per Bsale list page (`limit`; Bsale's maximum is 50)"),
    STR("HOST", host, "0.0.0.0", 0, "Address `serve` listens on"),
    INT("PORT", port, "8000", 0, 65535,
        "Port `serve` listens on (Cloud Run sets it); 0 picks a free port"),
    STR("ETL_API_TOKEN", etl_api_token, NULL, S_SECRET,
        "When set, `/etl/*` and `/metrics` require `Authorization: Bearer <token>`"),
    {"ETL_TIMEZONE", T_TZ, F(etl_timezone), "America/Santiago", 0, 0, 0, NULL,
     "The store's IANA time zone (or `UTC`): decides what \"today\" is"},
    INT("ETL_LOOKBACK_DAYS", etl_lookback_days, "3", 0, 60,
        "A daily sync without dates copies today and this many days before it"),
    INT("ETL_BACKFILL_WINDOW_DAYS", etl_backfill_window_days, "7", 1, 366,
        "A sync whose document dates span more days runs them as consecutive windows of this "
        "many days, each committed and recorded on its run; an interrupted run is resumed from "
        "the first incomplete window by the next identical trigger"),
    INT("ETL_RECONCILE_DAYS", etl_reconcile_days, "45", 0, 366,
        "A daily sync without dates also checks this many days before its lookback against a "
        "light documents list and re-reads what changed; 0 = off"),
    INT("ETL_COST_REFRESH_DAYS", etl_cost_refresh_days, "7", 1, 366,
        "Every stock-controlled variant's cost is read again within this many daily syncs: each "
        "reads the least recently read 1/N of them (one request each), besides those received"),
    {"ETL_DAILY_STOCK", T_BOOL, F(etl_daily_stock), "true", 0, 0, 0, NULL,
     "A daily sync without dates also reads the whole stock and price lists (a full sync "
     "always does)"},
    INT("ETL_MAX_RANGE_DAYS", etl_max_range_days, "366", 1, 36600,
        "Largest date range, in days, a sync request over HTTP may ask for"),
    {"ETL_HISTORY_FROM", T_DATE, F(etl_history_from), NULL, 0, 0, 0, NULL,
     "Date `YYYY-MM-DD`: when set, a full sync also copies documents from it to today"},
    {"ETL_DOCUMENT_EXTRAS", T_ENUM, F(etl_document_extras), "embedded", 0, 0, 0, extras_choices,
     "A document's taxes and sellers: `embedded` stores what Bsale embeds in the document "
     "(a cut list is read whole); `read` also reads both links of every document that only "
     "links them, 2 more requests per document (docs/reliability.md)"},
    INT("ETL_BATCH_DOCS", etl_batch_docs, "50", 1, 10000,
        "Documents per database transaction (a document always with all its lines)"),
    INT("ETL_QUEUE_BATCHES", etl_queue_batches, "8", 1, 1024,
        "Batches queued between the Bsale fetcher and the database writer"),
    INT("ETL_RUN_TIMEOUT_S", etl_run_timeout_s, "21600", 0, 604800,
        "Deadline of one sync, in seconds: at it the run stops and is recorded failed; 0 = none"),
    {"ETL_AUTO_MIGRATE", T_BOOL, F(etl_auto_migrate), "true", 0, 0, 0, NULL,
     "`serve` and `sync` bring the database schema up to date on start"},
    INT("HTTP_MAX_CONNECTIONS", http_max_connections, "64", 1, 10000,
        "Simultaneous HTTP connections `serve` accepts"),
    INT("HTTP_TIMEOUT_S", http_timeout_s, "30", 1, 86400,
        "Idle timeout per HTTP connection, and the longest a request head may take, in seconds "
        "(not a limit on a sync request's length)"),
    INT("HTTP_MAX_BODY", http_max_body, "65536", 1024, 16777216,
        "Largest HTTP request body accepted, in bytes"),
    INT("SHUTDOWN_TIMEOUT_S", shutdown_timeout_s, "25", 0, 3600,
        "On SIGTERM, seconds a running sync gets to reach a transaction boundary"),
    {"LOG_LEVEL", T_ENUM, F(log_level), "info", 0, 0, 0, level_choices,
     "Least severe level logged"},
    {"LOG_FORMAT", T_ENUM, F(log_format), "text", 0, 0, 0, format_choices,
     "`text` (key=value lines) or `json` (Google Cloud Logging)"},
};

#define N_SETTINGS ARRAY_LEN(settings)
_Static_assert(ARRAY_LEN(settings) <= CONFIG_SETTINGS_MAX, "raise CONFIG_SETTINGS_MAX");
_Static_assert(sizeof(enum log_level) == sizeof(int), "T_ENUM fields are int-sized");
_Static_assert(sizeof(enum log_format) == sizeof(int), "T_ENUM fields are int-sized");

static const char *const source_names[] = {"default", ".env", "environment", "flag"};

static const char *setting_names[N_SETTINGS + 1];
static pthread_once_t setting_names_once = PTHREAD_ONCE_INIT;

static void fill_setting_names(void)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        setting_names[i] = settings[i].name;
}

const char *const *config_setting_names(void)
{
    pthread_once(&setting_names_once, fill_setting_names);
    return setting_names;
}

static const struct setting *find_setting(const char *name, size_t n)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (strlen(settings[i].name) == n && strncmp(settings[i].name, name, n) == 0)
            return &settings[i];
    return NULL;
}

static void *field(struct config *cfg, const struct setting *s)
{
    return (char *)cfg + s->offset;
}

static const void *cfield(const struct config *cfg, const struct setting *s)
{
    return (const char *)cfg + s->offset;
}

/* Loading state: the winning raw value of each setting, all borrowed. */
struct load {
    const char *raw[N_SETTINGS];
    enum config_source src[N_SETTINGS];
    bool bad[N_SETTINGS]; /* has a problem: cross-checks skip it */
    struct dotenv dotenv;
    const char *dotenv_name;
    struct buf joined; /* "; "-separated problems */
    struct buf names;  /* ", "-separated offending names */
    struct buf *problems;
    size_t n_problems;
};

static void add_problem(struct load *ld, const char *name, const char *fmt, ...) PRINTF_FMT(3, 4);

/*
 * msg with every secret's value replaced by "[REDACTED]". Owned; steals msg.
 * Messages never quote a secret setting, but one pasted into the wrong
 * variable would be quoted there.
 */
static char *mask_secret_values(const struct load *ld, char *msg)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *v = ld->raw[i];
        size_t n = v ? strlen(v) : 0;
        if (!(settings[i].flags & S_SECRET) || n < 4 || !strstr(msg, v))
            continue;
        struct buf b;
        struct err ignore = {0};
        buf_init(&b, 0);
        const char *p = msg;
        for (const char *hit; (hit = strstr(p, v)) != NULL; p = hit + n) {
            (void)buf_append(&b, p, (size_t)(hit - p), &ignore);
            (void)buf_append_str(&b, "[REDACTED]", &ignore);
        }
        (void)buf_append_str(&b, p, &ignore);
        free(msg);
        msg = buf_detach(&b, NULL);
    }
    return msg;
}

static void add_problem(struct load *ld, const char *name, const char *fmt, ...)
{
    struct err ignore = {0};
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (msg)
        msg = mask_secret_values(ld, msg);
    const char *m = msg ? msg : "invalid";
    const struct setting *s = find_setting(name, strlen(name));
    if (s)
        ld->bad[s - settings] = true;
    if (ld->n_problems) {
        (void)buf_append_str(&ld->joined, "; ", &ignore);
        (void)buf_append_str(&ld->names, ", ", &ignore);
    }
    (void)buf_append_str(&ld->joined, m, &ignore);
    (void)buf_append_str(&ld->names, name, &ignore);
    if (ld->problems)
        (void)buf_appendf(ld->problems, &ignore, "%s\n", m);
    ld->n_problems++;
    free(msg);
}

/* ---- value conversion, one function per type ---- */

static bool has_control_char(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

static bool tz_name_ok(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 128 || v[0] == '/' || v[n - 1] == '/' || strstr(v, ".."))
        return false;
    for (const char *p = v; *p; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || strchr("/_+-", *p);
        if (!ok)
            return false;
    }
    return true;
}

/* A zone exists when its compiled file is there: glibc would silently fall back to UTC. */
static bool tz_exists(const char *v, const char **dir_out)
{
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    *dir_out = dir;
    if (strcmp(v, "UTC") == 0)
        return true;
    if (!tz_name_ok(v))
        return false;
    char *path = xasprintf("%s/%s", dir, v);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return false;
    char magic[4];
    bool ok = read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic) &&
              memcmp(magic, "TZif", sizeof(magic)) == 0;
    close(fd);
    return ok;
}

static bool url_ok(const char *v)
{
    const char *rest;
    if (strncasecmp(v, "https://", 8) == 0)
        rest = v + 8;
    else if (strncasecmp(v, "http://", 7) == 0)
        rest = v + 7;
    else
        return false;
    if (!*rest || *rest == '/' || *rest == ':' || *rest == '?')
        return false;
    return strpbrk(v, " \"<>\\^`{|}") == NULL;
}

static char *strip_trailing_slashes(const char *v)
{
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == '/')
        n--;
    return xstrndup(v, n);
}

static void set_str(struct config *cfg, const struct setting *s, char *v)
{
    char **dst = field(cfg, s);
    free(*dst);
    *dst = v;
}

static void convert_dburl(struct load *ld, struct config *cfg, const struct setting *s,
                          const char *v)
{
    struct err e = ERR_INIT;
    db_url_release(&cfg->db);
    if (db_url_parse(v, &cfg->db, &e)) {
        /* db_url messages start with "DATABASE_URL" and never quote the password */
        add_problem(ld, s->name, "%s", e.msg);
        return;
    }
    log_add_secret(cfg->db.password);
    secret_mask_add_basic(cfg->db.user, cfg->db.password);
    if (cfg->db.password && *cfg->db.password)
        log_add_secret(v);
    set_str(cfg, s, xstrdup(v));
}

static void convert_number(struct load *ld, struct config *cfg, const struct setting *s,
                           const char *v)
{
    if (s->type == T_INT) {
        long n;
        if (!parse_long(v, (long)s->min, (long)s->max, &n))
            add_problem(ld, s->name, "%s: '%.40s' is not a whole number in %ld..%ld", s->name, v,
                        (long)s->min, (long)s->max);
        else
            *(long *)field(cfg, s) = n;
        return;
    }
    double d;
    if (!parse_double(v, s->min, s->max, &d))
        add_problem(ld, s->name, "%s: '%.40s' is not a number in %g..%g", s->name, v, s->min,
                    s->max);
    else
        *(double *)field(cfg, s) = d;
}

static void convert_enum(struct load *ld, struct config *cfg, const struct setting *s,
                         const char *v)
{
    for (int i = 0; s->choices[i]; i++) {
        if (strcasecmp(v, s->choices[i]) == 0) {
            memcpy(field(cfg, s), &i, sizeof(i));
            return;
        }
    }
    char list[128] = "";
    size_t k = 0;
    for (int i = 0; s->choices[i] && k < sizeof(list); i++)
        k += (size_t)snprintf(list + k, sizeof(list) - k, "%s%s", i ? "|" : "", s->choices[i]);
    add_problem(ld, s->name, "%s: '%.40s' is not one of %s", s->name, v, list);
}

static void convert_text(struct load *ld, struct config *cfg, const struct setting *s,
                         const char *v)
{
    const char *dir;
    switch (s->type) {
    case T_URL:
        if (!url_ok(v))
            add_problem(ld, s->name, "%s: '%.60s' is not an http:// or https:// URL", s->name, v);
        else
            set_str(cfg, s, strip_trailing_slashes(v));
        return;
    case T_TZ:
        if (!tz_exists(v, &dir))
            add_problem(ld, s->name,
                        "%s: unknown time zone '%.60s' (not UTC and not found under %s)", s->name,
                        v, dir);
        else
            set_str(cfg, s, xstrdup(v));
        return;
    case T_DATE:
        if (*v && !date_parse(v, NULL, NULL, NULL))
            add_problem(ld, s->name, "%s: '%.40s' is not a date (want " DATE_WANT ")", s->name, v);
        else
            set_str(cfg, s, xstrdup(v));
        return;
    default:
        if (!*v && s->def)
            add_problem(ld, s->name, "%s must not be empty", s->name);
        else
            set_str(cfg, s, *v || s->def ? xstrdup(v) : NULL);
        return;
    }
}

static void convert(struct load *ld, struct config *cfg, size_t i)
{
    const struct setting *s = &settings[i];
    const char *v = ld->raw[i];
    cfg->sources[i] = (unsigned char)ld->src[i];
    if (!v || !*v) {
        if (s->flags & S_REQUIRED) {
            add_problem(ld, s->name, "%s is required", s->name);
            return;
        }
        if (!v)
            v = "";
    }
    if (strlen(v) > VALUE_MAX) {
        add_problem(ld, s->name, "%s is longer than %d bytes", s->name, VALUE_MAX);
        return;
    }
    if (!utf8_valid(v, strlen(v)) || has_control_char(v)) {
        add_problem(ld, s->name, "%s contains invalid UTF-8 or a control character", s->name);
        return;
    }
    switch (s->type) {
    case T_DBURL:
        convert_dburl(ld, cfg, s, v);
        break;
    case T_INT:
    case T_DOUBLE:
        convert_number(ld, cfg, s, v);
        break;
    case T_BOOL:
        if (!parse_yes_no(v, (bool *)field(cfg, s)))
            add_problem(ld, s->name, "%s: '%.40s' is not true or false", s->name, v);
        break;
    case T_ENUM:
        convert_enum(ld, cfg, s, v);
        break;
    default:
        convert_text(ld, cfg, s, v);
        break;
    }
}

/* ---- layers ---- */

static enum err_code layer_dotenv(struct load *ld, const struct config_opts *opts, struct err *e)
{
    const char *path = opts && opts->env_file ? opts->env_file : ".env";
    bool required = opts && opts->env_file && opts->env_file_required;
    enum err_code rc = dotenv_load_file(path, &ld->dotenv, e);
    if (rc == ERR_NOT_FOUND && !required)
        return err_clear(e), ERR_OK;
    if (rc) {
        if (e)
            e->code = ERR_CONFIG;
        return ERR_CONFIG;
    }
    ld->dotenv_name = path;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *v = dotenv_get(&ld->dotenv, settings[i].name);
        if (v)
            ld->raw[i] = v, ld->src[i] = CONFIG_SRC_DOTENV;
    }
    return ERR_OK;
}

static void layer_env(struct load *ld)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *v = getenv(settings[i].name);
        if (v)
            ld->raw[i] = v, ld->src[i] = CONFIG_SRC_ENV;
    }
}

static void layer_overrides(struct load *ld, const struct config_opts *opts)
{
    for (size_t k = 0; opts && k < opts->n_overrides; k++) {
        const char *o = opts->overrides[k];
        const char *eq = strchr(o, '=');
        size_t n = eq ? (size_t)(eq - o) : strlen(o);
        const struct setting *s = find_setting(o, n);
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(n < 40 ? n : 40), o);
        if (!s || !eq) {
            add_problem(ld, name, "unknown setting override '%s'", name);
        } else if (s->flags & S_SECRET) {
            add_problem(ld, s->name,
                        "%s cannot be given on the command line (it is secret; use the "
                        "environment or .env)",
                        s->name);
        } else {
            size_t i = (size_t)(s - settings);
            ld->raw[i] = eq + 1;
            ld->src[i] = CONFIG_SRC_FLAG;
        }
    }
}

/* Applies the log settings early so warnings raised while loading use them. */
static void early_log_setup(const struct load *ld)
{
    enum log_level level = LOG_INFO;
    enum log_format format = LOG_FORMAT_TEXT;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (!ld->raw[i])
            continue;
        if (strcmp(settings[i].name, "LOG_LEVEL") == 0 && !log_level_parse(ld->raw[i], &level))
            level = LOG_INFO;
        if (strcmp(settings[i].name, "LOG_FORMAT") == 0 && !log_format_parse(ld->raw[i], &format))
            format = LOG_FORMAT_TEXT;
    }
    log_setup(level, format);
}

/* The setting whose name differs from key only in case, or NULL. */
static const struct setting *find_setting_nocase(const char *key)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (strcasecmp(settings[i].name, key) == 0)
            return &settings[i];
    return NULL;
}

static void warn_unknown_keys(const struct load *ld)
{
    for (size_t i = 0; i < ld->dotenv.n; i++) {
        const struct dotenv_entry *en = &ld->dotenv.v[i];
        if (find_setting(en->key, strlen(en->key)))
            continue;
        const struct setting *near = find_setting_nocase(en->key);
        if (near)
            log_warn("%s:%u: ignoring unknown setting %s (names are case-sensitive: %s?)",
                     ld->dotenv_name, en->line, en->key, near->name);
        else
            log_warn("%s:%u: ignoring unknown setting %s", ld->dotenv_name, en->line, en->key);
    }
}

static void register_secrets(const struct load *ld)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if ((settings[i].flags & S_SECRET) && settings[i].type != T_DBURL && ld->raw[i])
            log_add_secret(ld->raw[i]);
}

/* The UTC date days from now, "YYYY-MM-DD". */
static void utc_date(long days, char out[11])
{
    (void)utc_format(time(NULL) + (time_t)days * 86400, "%Y-%m-%d", out, 11);
}

static bool usable(const struct load *ld, const char *name)
{
    const struct setting *s = find_setting(name, strlen(name));
    return s && !ld->bad[s - settings];
}

static void cross_check(struct load *ld, const struct config *cfg)
{
    char latest[11];
    utc_date(1, latest); /* a day of slack: the store's zone may already be in tomorrow */
    if (usable(ld, "ETL_HISTORY_FROM") && cfg->etl_history_from &&
        strcmp(cfg->etl_history_from, latest) > 0)
        add_problem(ld, "ETL_HISTORY_FROM", "ETL_HISTORY_FROM: %s is in the future",
                    cfg->etl_history_from);
    if (usable(ld, "BSALE_CONNECT_TIMEOUT_S") && usable(ld, "BSALE_TIMEOUT_S") &&
        cfg->bsale_connect_timeout_s > cfg->bsale_timeout_s)
        add_problem(ld, "BSALE_CONNECT_TIMEOUT_S",
                    "BSALE_CONNECT_TIMEOUT_S (%ld) must not exceed BSALE_TIMEOUT_S (%ld)",
                    cfg->bsale_connect_timeout_s, cfg->bsale_timeout_s);
}

static enum err_code finish(struct load *ld, struct err *e)
{
    if (!ld->n_problems)
        return ERR_OK;
    if (ld->joined.len + 1 <= ERR_MSG_MAX)
        return err_set(e, ERR_CONFIG, "%s", ld->joined.data);
    return err_set(e, ERR_CONFIG, "%zu problems with %s", ld->n_problems, ld->names.data);
}

enum err_code config_load(struct config *cfg, const struct config_opts *opts, struct buf *problems,
                          struct err *e)
{
    struct load ld = {.problems = problems};
    enum err_code rc;
    memset(cfg, 0, sizeof(*cfg));
    dotenv_init(&ld.dotenv);
    buf_init(&ld.joined, 0);
    buf_init(&ld.names, 0);
    for (size_t i = 0; i < N_SETTINGS; i++)
        ld.raw[i] = settings[i].def, ld.src[i] = CONFIG_SRC_DEFAULT;
    if ((rc = layer_dotenv(&ld, opts, e))) {
        if (problems)
            (void)buf_appendf(problems, NULL, "%s\n", e->msg);
        goto out;
    }
    layer_env(&ld);
    layer_overrides(&ld, opts);
    register_secrets(&ld);
    early_log_setup(&ld);
    warn_unknown_keys(&ld);
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (!opts || !opts->skip_required || !(settings[i].flags & S_REQUIRED) || ld.raw[i])
            convert(&ld, cfg, i);
    cross_check(&ld, cfg);
    rc = finish(&ld, e);
    if (!rc)
        log_setup(cfg->log_level, cfg->log_format);
out:
    if (rc)
        config_release(cfg);
    dotenv_release(&ld.dotenv);
    buf_release(&ld.joined);
    buf_release(&ld.names);
    return rc;
}

void config_release(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        if (s->type == T_STR || s->type == T_URL || s->type == T_DBURL || s->type == T_TZ ||
            s->type == T_DATE) {
            char **p = field(cfg, s);
            if (*p)
                explicit_bzero(*p, strlen(*p));
            free(*p);
        }
    }
    db_url_release(&cfg->db);
    memset(cfg, 0, sizeof(*cfg));
}

/* ---- output ---- */

/* The value as config check shows it. Owned. */
static char *display_value(const struct config *cfg, const struct setting *s)
{
    const void *p = cfield(cfg, s);
    int idx;
    switch (s->type) {
    case T_DBURL:
        return db_url_redacted(*(char *const *)p);
    case T_INT:
        return xasprintf("%ld", *(const long *)p);
    case T_DOUBLE:
        return xasprintf("%g", *(const double *)p);
    case T_BOOL:
        return xstrdup(*(const bool *)p ? "true" : "false");
    case T_ENUM:
        memcpy(&idx, p, sizeof(idx));
        return xstrdup(s->choices[idx]);
    default:
        break;
    }
    const char *v = *(char *const *)p;
    if (!v || !*v)
        return xstrdup("");
    return xstrdup(s->flags & S_SECRET ? "[REDACTED]" : v);
}

void config_dump(const struct config *cfg, FILE *out)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char *v = display_value(cfg, &settings[i]);
        unsigned src = cfg->sources[i] < ARRAY_LEN(source_names) ? cfg->sources[i] : 0;
        fprintf(out, "%s=%s  (source: %s)\n", settings[i].name, v, source_names[src]);
        free(v);
    }
}

static void describe_type(const struct setting *s, char *dst, size_t n)
{
    switch (s->type) {
    case T_INT:
        snprintf(dst, n, "integer %ld..%ld", (long)s->min, (long)s->max);
        break;
    case T_DOUBLE:
        snprintf(dst, n, "number %g..%g", s->min, s->max);
        break;
    case T_BOOL:
        snprintf(dst, n, "true/false");
        break;
    case T_ENUM:
        dst[0] = '\0';
        for (size_t i = 0, k = 0; s->choices[i] && k < n; i++)
            k += (size_t)snprintf(dst + k, n - k, "%s%s", i ? ", " : "", s->choices[i]);
        break;
    case T_URL:
        snprintf(dst, n, "URL");
        break;
    case T_DBURL:
        snprintf(dst, n, "database URL");
        break;
    case T_TZ:
        snprintf(dst, n, "time zone");
        break;
    case T_DATE:
        snprintf(dst, n, "date");
        break;
    default:
        snprintf(dst, n, "text");
        break;
    }
}

/* "bsale-rate-limit" for BSALE_RATE_LIMIT; "" for secrets, which have no flag. */
static void flag_name(const struct setting *s, char *dst, size_t n)
{
    size_t k = 0;
    for (const char *p = s->name; !(s->flags & S_SECRET) && *p && k + 1 < n; p++)
        dst[k++] = (char)(*p == '_' ? '-' : tolower((unsigned char)*p));
    dst[k] = '\0';
}

void config_write_docs(FILE *out)
{
    fprintf(out, "| Variable | Default | Type | Flag | Meaning |\n");
    fprintf(out, "|---|---|---|---|---|\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        char type[64];
        describe_type(s, type, sizeof(type));
        char def[80];
        if (s->flags & S_REQUIRED)
            snprintf(def, sizeof(def), "**required**");
        else if (s->def)
            snprintf(def, sizeof(def), "`%s`", s->def);
        else
            snprintf(def, sizeof(def), "(unset)");
        char flag[64];
        flag_name(s, flag, sizeof(flag));
        fprintf(out, "| `%s` | %s | %s%s | %s%s%s | %s |\n", s->name, def, type,
                s->flags & S_SECRET ? ", secret" : "", *flag ? "`--" : "-", flag, *flag ? "`" : "",
                s->help);
    }
}

void config_write_flags_help(FILE *out)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        if (s->flags & S_SECRET)
            continue;
        char flag[64];
        flag_name(s, flag, sizeof(flag));
        char type[64];
        describe_type(s, type, sizeof(type));
        fprintf(out, "  --%-26s %s (%s)\n", flag, s->name, type);
    }
}

/* Command-line parsing: global options, setting flags and the sync date options. */
#include "common.h"

#include "date.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define CLI_OVERRIDES_MAX 256

void cli_globals_init(struct cli_globals *g)
{
    memset(g, 0, sizeof(*g));
}

void cli_globals_release(struct cli_globals *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_overrides; i++)
        free(g->overrides[i]);
    free(g->overrides);
    cli_globals_init(g);
}

void cli_config_opts(const struct cli_globals *g, struct config_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->env_file = g->env_file;
    o->env_file_required = g->env_file != NULL;
    o->overrides = (const char *const *)g->overrides;
    o->n_overrides = g->n_overrides;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/*
 * Splits "--name=value" / "--name value". *name_len covers "name"; *value is
 * NULL when the option has no value. *next is the index after what was used.
 */
static void split_option(int argc, char **argv, int i, size_t *name_len, const char **value,
                         bool take_next, int *next)
{
    const char *name = argv[i] + 2;
    const char *eq = strchr(name, '=');
    *next = i + 1;
    *value = NULL;
    *name_len = eq ? (size_t)(eq - name) : strlen(name);
    if (eq)
        *value = eq + 1;
    else if (take_next && i + 1 < argc)
        *value = argv[i + 1], *next = i + 2;
}

/* "bsale-rate-limit" → "BSALE_RATE_LIMIT" when it names a setting; false otherwise. */
static bool setting_for_flag(const char *flag, size_t n, char *out, size_t out_n)
{
    if (n == 0 || n >= out_n)
        return false;
    for (size_t k = 0; k < n; k++) {
        char c = flag[k];
        if (c == '-')
            out[k] = '_';
        else if (c >= 'a' && c <= 'z')
            out[k] = (char)(c - 'a' + 'A');
        else
            return false;
    }
    out[n] = '\0';
    for (const char *const *s = config_setting_names(); *s; s++)
        if (strcmp(*s, out) == 0)
            return true;
    return false;
}

enum err_code cli_take_global(struct cli_globals *g, int argc, char **argv, int *i, bool *taken,
                              struct err *e)
{
    const char *arg = argv[*i];
    char name[64];
    size_t n;
    const char *value;
    int next;
    *taken = false;
    if (strncmp(arg, "--", 2) != 0)
        return ERR_OK;
    split_option(argc, argv, *i, &n, &value, true, &next);
    bool is_env_file = n == 8 && strncmp(arg + 2, "env-file", 8) == 0;
    if (!is_env_file && !setting_for_flag(arg + 2, n, name, sizeof(name)))
        return ERR_OK;
    if (!value)
        return err_set(e, ERR_USAGE, "option '--%.*s' needs a value", (int)n, arg + 2);
    if (is_env_file) {
        if (!*value)
            return err_set(e, ERR_USAGE, "option '--env-file' needs a file name");
        g->env_file = value;
    } else {
        if (g->n_overrides == CLI_OVERRIDES_MAX)
            return err_set(e, ERR_USAGE, "too many options");
        g->overrides = xrealloc(g->overrides, (g->n_overrides + 1) * sizeof(*g->overrides));
        g->overrides[g->n_overrides++] = xasprintf("%s=%s", name, value);
    }
    *i = next;
    *taken = true;
    return ERR_OK;
}

static enum err_code unexpected(const char *arg, struct err *e)
{
    if (arg[0] == '-')
        return err_set(e, ERR_USAGE, "unknown option '%.60s'", arg);
    return err_set(e, ERR_USAGE, "unexpected argument '%.60s'", arg);
}

/* Stores a date option's value once, checking it is a real calendar date. */
static enum err_code take_date(const char *opt, const char *value, char dst[11], struct err *e)
{
    if (!value)
        return err_set(e, ERR_USAGE, "option '--%s' needs a date YYYY-MM-DD", opt);
    if (dst[0])
        return err_set(e, ERR_USAGE, "option '--%s' given twice", opt);
    if (!date_parse(value, NULL, NULL, NULL))
        return err_set(e, ERR_USAGE, "--%s: '%.40s' is not a real date (want " DATE_WANT ")", opt,
                       value);
    memcpy(dst, value, 11);
    return ERR_OK;
}

static enum err_code check_sync_dates(const char *date, struct etl_request *req, struct err *e)
{
    if (*date && (req->date_from[0] || req->date_to[0]))
        return err_set(e, ERR_USAGE, "--date cannot be combined with --from/--to");
    if (*date) {
        memcpy(req->date_from, date, 11);
        memcpy(req->date_to, date, 11);
        return ERR_OK;
    }
    if (!req->date_from[0] != !req->date_to[0])
        return err_set(e, ERR_USAGE, "--from and --to must be given together");
    if (strcmp(req->date_from, req->date_to) > 0)
        return err_set(e, ERR_USAGE, "--from %s is after --to %s", req->date_from, req->date_to);
    return ERR_OK;
}

/*
 * Walks a command's argv: global options are taken, --help stops, and each
 * other option goes to take_opt (which returns ERR_USAGE for unknown ones).
 */
typedef enum err_code (*opt_fn)(void *ctx, const char *name, size_t n, const char *value,
                                bool *used_value, struct err *e);

static enum err_code walk_options(int argc, char **argv, struct cli_globals *g, opt_fn take_opt,
                                  void *ctx, bool *help, struct err *e)
{
    enum err_code rc;
    *help = false;
    for (int i = 0; i < argc;) {
        bool taken;
        const char *arg = argv[i];
        size_t n;
        const char *value;
        int next;
        if (cli_is_help(arg)) {
            *help = true;
            return ERR_OK;
        }
        if ((rc = cli_take_global(g, argc, argv, &i, &taken, e)))
            return rc;
        if (taken)
            continue;
        if (strncmp(arg, "--", 2) != 0)
            return unexpected(arg, e);
        split_option(argc, argv, i, &n, &value, true, &next);
        bool used_value = true;
        if ((rc = take_opt(ctx, arg + 2, n, value, &used_value, e)))
            return rc;
        i = used_value || strchr(arg, '=') ? next : i + 1;
    }
    return ERR_OK;
}

static bool opt_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncmp(name, want, n) == 0;
}

struct sync_ctx {
    struct sync_args *a;
    char date[11];
};

static enum err_code take_sync_opt(void *ctx, const char *name, size_t n, const char *value,
                                   bool *used_value, struct err *e)
{
    struct sync_ctx *c = ctx;
    if (opt_is(name, n, "from"))
        return take_date("from", value, c->a->req.date_from, e);
    if (opt_is(name, n, "to"))
        return take_date("to", value, c->a->req.date_to, e);
    if (c->a->req.kind == ETL_DAILY && opt_is(name, n, "date"))
        return take_date("date", value, c->date, e);
    if (opt_is(name, n, "json") && !strchr(name, '=')) {
        c->a->json = true;
        *used_value = false;
        return ERR_OK;
    }
    return err_set(e, ERR_USAGE, "unknown option '--%.*s'", (int)(n < 60 ? n : 60), name);
}

enum err_code cli_parse_sync(enum etl_kind kind, int argc, char **argv, struct cli_globals *g,
                             struct sync_args *a, bool *help, struct err *e)
{
    struct sync_ctx c = {.a = a};
    memset(a, 0, sizeof(*a));
    a->req.kind = kind;
    a->req.origin = ETL_ORIGIN_CLI;
    enum err_code rc = walk_options(argc, argv, g, take_sync_opt, &c, help, e);
    if (rc || *help)
        return rc;
    return check_sync_dates(c.date, &a->req, e);
}

static enum err_code reject_opt(void *ctx, const char *name, size_t n, const char *value,
                                bool *used_value, struct err *e)
{
    (void)ctx, (void)value, (void)used_value;
    return err_set(e, ERR_USAGE, "unknown option '--%.*s'", (int)(n < 60 ? n : 60), name);
}

enum err_code cli_parse_plain(int argc, char **argv, struct cli_globals *g, bool *help,
                              struct err *e)
{
    return walk_options(argc, argv, g, reject_opt, NULL, help, e);
}

static enum err_code take_report_opt(void *ctx, const char *name, size_t n, const char *value,
                                     bool *used_value, struct err *e)
{
    (void)used_value;
    if (opt_is(name, n, "date"))
        return take_date("date", value, ctx, e);
    return err_set(e, ERR_USAGE, "unknown option '--%.*s'", (int)(n < 60 ? n : 60), name);
}

enum err_code cli_parse_report(int argc, char **argv, struct cli_globals *g, char date[11],
                               bool *help, struct err *e)
{
    date[0] = '\0';
    return walk_options(argc, argv, g, take_report_opt, date, help, e);
}

/*
 * bsale-sim: serves a generated store through the Bsale REST API (v1) for tests,
 * demos and benchmarks. Command line, start-up and signal handling only.
 */
#include "common.h"

#define LOG_MODULE "sim"
#include "log.h"

#include "server.h"
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum opt_id {
    O_PORT = 256,
    O_BIND,
    O_TOKEN,
    O_SEED,
    O_TODAY,
    O_OFFICES,
    O_USERS,
    O_CLIENTS,
    O_PTYPES,
    O_PRODUCTS,
    O_VPP,
    O_PLISTS,
    O_DAYS,
    O_DPD,
    O_LPD,
    O_OVER25,
    O_OVER50,
    O_PPD,
    O_VOIDED,
    O_ANON,
    O_EXPAND_STYLE,
    O_PAYMENTS_ORDER,
    O_HOOKS,
    O_LATENCY,
    O_LATENCY_PROFILE,
    O_RATE,
    O_RATE_STYLE,
    O_FAIL,
    O_TRUNC,
    O_EMPTY,
    O_RESET,
    O_SLOW,
    O_SLOW_MS,
    O_FAULT_SEED,
    O_SHORT_PAGE,
    O_COUNT_LIE,
    O_COUNT_LIE_PATH,
    O_EMPTY_DETAILS,
    O_STORM,
    O_STORM_AFTER,
    O_GARBAGE,
    O_GARBAGE_KIND,
    O_GONE,
    O_LOG_LEVEL,
    O_HELP,
};

static const struct option long_opts[] = {
    {"port", required_argument, NULL, O_PORT},
    {"bind", required_argument, NULL, O_BIND},
    {"token", required_argument, NULL, O_TOKEN},
    {"seed", required_argument, NULL, O_SEED},
    {"today", required_argument, NULL, O_TODAY},
    {"offices", required_argument, NULL, O_OFFICES},
    {"users", required_argument, NULL, O_USERS},
    {"clients", required_argument, NULL, O_CLIENTS},
    {"product-types", required_argument, NULL, O_PTYPES},
    {"products", required_argument, NULL, O_PRODUCTS},
    {"variants-per-product", required_argument, NULL, O_VPP},
    {"price-lists", required_argument, NULL, O_PLISTS},
    {"days", required_argument, NULL, O_DAYS},
    {"docs-per-day", required_argument, NULL, O_DPD},
    {"lines-per-doc", required_argument, NULL, O_LPD},
    {"share-over-25", required_argument, NULL, O_OVER25},
    {"share-over-50", required_argument, NULL, O_OVER50},
    {"payments-per-doc", required_argument, NULL, O_PPD},
    {"share-voided", required_argument, NULL, O_VOIDED},
    {"share-anonymous", required_argument, NULL, O_ANON},
    {"expand-style", required_argument, NULL, O_EXPAND_STYLE},
    {"payments-order", required_argument, NULL, O_PAYMENTS_ORDER},
    {"test-hooks", no_argument, NULL, O_HOOKS},
    {"latency-ms", required_argument, NULL, O_LATENCY},
    {"latency-profile", required_argument, NULL, O_LATENCY_PROFILE},
    {"rate-limit", required_argument, NULL, O_RATE},
    {"rate-limit-style", required_argument, NULL, O_RATE_STYLE},
    {"fail-rate", required_argument, NULL, O_FAIL},
    {"truncate-rate", required_argument, NULL, O_TRUNC},
    {"empty-rate", required_argument, NULL, O_EMPTY},
    {"reset-rate", required_argument, NULL, O_RESET},
    {"slow-rate", required_argument, NULL, O_SLOW},
    {"slow-ms", required_argument, NULL, O_SLOW_MS},
    {"fault-seed", required_argument, NULL, O_FAULT_SEED},
    {"short-page-rate", required_argument, NULL, O_SHORT_PAGE},
    {"count-lie", required_argument, NULL, O_COUNT_LIE},
    {"count-lie-path", required_argument, NULL, O_COUNT_LIE_PATH},
    {"empty-details-rate", required_argument, NULL, O_EMPTY_DETAILS},
    {"storm-seconds", required_argument, NULL, O_STORM},
    {"storm-start-after", required_argument, NULL, O_STORM_AFTER},
    {"garbage-rate", required_argument, NULL, O_GARBAGE},
    {"garbage-kind", required_argument, NULL, O_GARBAGE_KIND},
    {"gone-status", required_argument, NULL, O_GONE},
    {"log-level", required_argument, NULL, O_LOG_LEVEL},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void usage_hostile(FILE *f);

static void usage(FILE *f)
{
    fputs("usage: bsale-sim --token T [options]\n"
          "Serves a generated pet-supply store through the Bsale REST API (v1).\n"
          "The first line on stdout is the base URL, e.g. http://127.0.0.1:40123/v1\n"
          "\n"
          "Server:\n"
          "  --port N              TCP port; 0 picks a free one (default 0)\n"
          "  --bind ADDR           IPv4 address to listen on (default 127.0.0.1)\n"
          "  --token T             required access_token (or env BSALE_SIM_TOKEN)\n"
          "  --test-hooks          enable GET /__truth, GET /__stats, POST /__stats/reset,\n"
          "                        POST /__mutate (same access_token required)\n"
          "  --log-level L         error|warn|info|debug (default info, on stderr)\n"
          "\n"
          "Store (deterministic from the seed and these knobs):\n"
          "  --seed S              generator seed (default 1)\n"
          "  --today YYYY-MM-DD    last day of history (default: current UTC date)\n"
          "  --offices N           branches (default 3)\n"
          "  --users N             users/sellers (default 8)\n"
          "  --clients N           clients (default 200)\n"
          "  --product-types N     product types (default 12)\n"
          "  --products N          products (default 150)\n"
          "  --variants-per-product N  at most N variants per product, 1..N (default 2)\n"
          "  --price-lists N       price lists, one price per variant each (default 3)\n"
          "  --days N              days of history ending at --today (default 60)\n"
          "  --docs-per-day N      mean documents per day, +-30% (default 40)\n"
          "  --lines-per-doc N     mean lines of an ordinary document (default 3)\n"
          "  --share-over-25 X     share of documents with 26..50 lines (default 0.01)\n"
          "  --share-over-50 X     share of documents with 51..80 lines (default 0.004)\n"
          "  --payments-per-doc N  at most N payments per sale, 1..N (default 2)\n"
          "  --share-voided X      share of voided documents, state 1 (default 0.03)\n"
          "  --share-anonymous X   share of anonymous sales, no client (default 0.35)\n"
          "  --expand-style S      link (default): documents answer `payments` and\n"
          "                        `references` as {href} links even when expanded;\n"
          "                        embed: expanded ones are envelopes of <= 25 items\n"
          "  --payments-order O    unfiltered /payments.json order: id (default, ascending)\n"
          "                        or shuffled (a fixed seeded permutation)\n"
          "  Example, about 110k documents: --days 365 --docs-per-day 300\n"
          "\n"
          "Faults and realism (seeded; never applied to the /__ hooks):\n"
          "  --latency-ms N        added latency per request with jitter: catalog pages\n"
          "                        0.75-1.25 x N, documents/payments pages 1.25-1.75 x N\n"
          "  --latency-profile P   uniform (default: --latency-ms) or live: Bsale as measured,\n"
          "                        document pages with expand 2.5 s, other document and\n"
          "                        payment reads 0.5 s, catalog 0.4 s, each 0.8-1.2 x\n"
          "  --rate-limit R        at most R requests per second per token (rolling window)\n"
          "  --rate-limit-style S  over the limit: header (429 + Retry-After), body (429 +\n"
          "                        \"retry_after\" field), both (default), 500 (500 with\n"
          "                        {\"error\":\"The requested resource is not available\"})\n"
          "  --fail-rate X         share of 500/502/503 answers\n"
          "  --truncate-rate X     share of 200 answers whose body is cut mid-JSON\n"
          "  --empty-rate X        share of 200 answers with an empty body\n"
          "  --reset-rate X        share of connections dropped mid-response\n"
          "  --slow-rate X         share of answers delayed by --slow-ms\n"
          "  --slow-ms N           delay of a slow answer (default 30000)\n"
          "  --fault-seed S        seed of latency jitter and faults (default: --seed)\n"
          "\n",
          f);
    usage_hostile(f);
}

static void usage_hostile(FILE *f)
{
    fputs("A hostile Bsale (seeded by --fault-seed; a retry gets the same answer):\n"
          "  --short-page-rate X   share of non-final list pages cut to 1..n-1 items; the\n"
          "                        rest stay at their offsets and count stays true\n"
          "  --count-lie low|grow  low: list pages report count 3 (at most); grow: an\n"
          "                        endless list, count = offset + 2 x limit, items repeat\n"
          "  --count-lie-path P    lie only on request paths starting with P, e.g.\n"
          "                        /v1/documents.json (default: every list)\n"
          "  --empty-details-rate X  share of documents over 25 lines whose detail pages\n"
          "                        answer the true count with no items, always\n"
          "  --storm-seconds N     every request answers 429 (Retry-After: 1, body as in\n"
          "                        --rate-limit-style) for N seconds\n"
          "  --storm-start-after K   the storm begins at request K (default 0: the first)\n"
          "  --garbage-rate X      share of documents, lines and payments with garbage in\n"
          "                        one member; /__truth lists them under \"garbled\"\n"
          "  --garbage-kind K,..   true|nan|huge|string_date|bad_id|long_text|nul (default\n"
          "                        all); nan writes a raw NaN token: invalid JSON\n"
          "  --gone-status S       by-id read of a removed document: 404 (default) or 500\n"
          "  --help                this text\n",
          f);
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !*s || *end || *s == '-' || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !*s || *end || *s == '-')
        return false;
    *out = v;
    return true;
}

static bool parse_share(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !*s || *end || !(v >= 0.0 && v <= 1.0))
        return false;
    *out = v;
    return true;
}

static bool parse_date(const char *s, int64_t *out)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

struct cli {
    struct sim_knobs k;
    struct server_opts o;
    struct sim_hostile h;
    bool fault_seed_set;
    bool help;
    enum log_level level;
};

static bool parse_style(const char *s, enum rl_style *out)
{
    static const char *const names[] = {"header", "body", "both", "500"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum rl_style)i;
            return true;
        }
    return false;
}

static bool parse_lie(const char *s, enum sim_count_lie *out)
{
    if (strcmp(s, "low") == 0)
        *out = LIE_LOW;
    else if (strcmp(s, "grow") == 0)
        *out = LIE_GROW;
    else
        return false;
    return true;
}

/* One option of a hostile Bsale; false when its value is invalid. */
static bool apply_hostile(struct cli *c, int id, const char *v)
{
    struct sim_hostile *h = &c->h;
    uint32_t u;
    switch (id) {
    case O_SHORT_PAGE:
        return parse_share(v, &h->short_page_rate);
    case O_COUNT_LIE:
        return parse_lie(v, &h->count_lie);
    case O_COUNT_LIE_PATH:
        h->count_lie_path = v;
        return *v == '/';
    case O_EMPTY_DETAILS:
        return parse_share(v, &h->empty_details_rate);
    case O_STORM:
        return parse_u32(v, 86400, &c->o.storm_seconds);
    case O_STORM_AFTER:
        return parse_u64(v, &c->o.storm_after);
    case O_GARBAGE:
        return parse_share(v, &h->garbage_rate);
    case O_GARBAGE_KIND:
        return sim_garbage_parse(v, &h->garbage_kinds);
    case O_GONE:
        if (!parse_u32(v, 599, &u) || (u != 404 && u != 500))
            return false;
        h->gone_status = (int)u;
        return true;
    default:
        return false;
    }
}

/* One option of the generated store; false when its value is invalid. */
static bool apply_store(struct cli *c, int id, const char *v)
{
    struct sim_knobs *k = &c->k;
    switch (id) {
    case O_SEED:
        return parse_u64(v, &k->seed);
    case O_TODAY:
        return parse_date(v, &k->today);
    case O_OFFICES:
        return parse_u32(v, 1000, &k->offices) && k->offices > 0;
    case O_USERS:
        return parse_u32(v, 100000, &k->users) && k->users > 0;
    case O_CLIENTS:
        return parse_u32(v, 10000000, &k->clients);
    case O_PTYPES:
        return parse_u32(v, 10000, &k->product_types) && k->product_types > 0;
    case O_PRODUCTS:
        return parse_u32(v, 1000000, &k->products) && k->products > 0;
    case O_VPP:
        return parse_u32(v, 50, &k->variants_per_product) && k->variants_per_product > 0;
    case O_PLISTS:
        return parse_u32(v, 100, &k->price_lists);
    case O_DAYS:
        return parse_u32(v, 3660, &k->days) && k->days > 0;
    case O_DPD:
        return parse_u32(v, 100000, &k->docs_per_day);
    case O_LPD:
        return parse_u32(v, 25, &k->lines_per_doc) && k->lines_per_doc > 0;
    case O_OVER25:
        return parse_share(v, &k->share_over_25);
    case O_OVER50:
        return parse_share(v, &k->share_over_50);
    case O_PPD:
        return parse_u32(v, 10, &k->payments_per_doc);
    case O_VOIDED:
        return parse_share(v, &k->share_voided);
    case O_ANON:
        return parse_share(v, &k->share_anonymous) && k->share_anonymous <= 0.8;
    case O_EXPAND_STYLE:
        return sim_expand_style_parse(v, &k->expand_style);
    case O_PAYMENTS_ORDER:
        return sim_payments_order_parse(v, &k->payments_order);
    default:
        return apply_hostile(c, id, v);
    }
}

/* One option; false when its value is invalid. */
static bool apply_opt(struct cli *c, int id, const char *v)
{
    struct server_opts *o = &c->o;
    uint32_t u;
    switch (id) {
    case O_PORT:
        if (!parse_u32(v, 65535, &u))
            return false;
        o->port = (uint16_t)u;
        return true;
    case O_BIND:
        o->bind = v;
        return true;
    case O_TOKEN:
        o->token = v;
        return *v != '\0';
    case O_HOOKS:
        o->test_hooks = true;
        return true;
    case O_LATENCY:
        return parse_u32(v, 600000, &o->latency_ms);
    case O_LATENCY_PROFILE:
        o->live_latency = strcmp(v, "live") == 0;
        return o->live_latency || strcmp(v, "uniform") == 0;
    case O_RATE:
        return parse_u32(v, 100000, &o->rate_limit);
    case O_RATE_STYLE:
        return parse_style(v, &o->rl_style);
    case O_FAIL:
        return parse_share(v, &o->fail_rate);
    case O_TRUNC:
        return parse_share(v, &o->truncate_rate);
    case O_EMPTY:
        return parse_share(v, &o->empty_rate);
    case O_RESET:
        return parse_share(v, &o->reset_rate);
    case O_SLOW:
        return parse_share(v, &o->slow_rate);
    case O_SLOW_MS:
        return parse_u32(v, 3600000, &o->slow_ms);
    case O_FAULT_SEED:
        c->fault_seed_set = true;
        return parse_u64(v, &o->fault_seed);
    case O_LOG_LEVEL:
        return log_level_parse(v, &c->level);
    default:
        return apply_store(c, id, v);
    }
}

/* Fills c from argv; returns false after printing what is wrong. */
static bool parse_args(int argc, char **argv, struct cli *c)
{
    sim_knobs_default(&c->k);
    sim_hostile_default(&c->h);
    memset(&c->o, 0, sizeof c->o);
    c->o.bind = "127.0.0.1";
    c->o.rl_style = RL_BOTH;
    c->o.slow_ms = 30000;
    c->o.token = getenv("BSALE_SIM_TOKEN");
    c->level = LOG_INFO;
    int id;
    bool ok = true;
    opterr = 0;
    while ((id = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        if (id == O_HELP) {
            c->help = true;
        } else if (id == '?' || id == ':') {
            fprintf(stderr, "bsale-sim: unknown option or missing value: %s\n", argv[optind - 1]);
            ok = false;
        } else if (!apply_opt(c, id, optarg ? optarg : "")) {
            fprintf(stderr, "bsale-sim: invalid value for --%s: '%s'\n",
                    long_opts[id - O_PORT].name, optarg ? optarg : "");
            ok = false;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bsale-sim: unexpected argument '%s'\n", argv[optind]);
        ok = false;
    }
    if (c->help)
        return ok;
    if (!c->o.token || !*c->o.token) {
        fprintf(stderr, "bsale-sim: --token (or BSALE_SIM_TOKEN) is required\n");
        ok = false;
    }
    const struct server_opts *o = &c->o;
    if (o->fail_rate + o->truncate_rate + o->empty_rate + o->reset_rate + o->slow_rate > 1.0) {
        fprintf(stderr, "bsale-sim: the fault rates add up to more than 1\n");
        ok = false;
    }
    if (c->k.share_over_25 + c->k.share_over_50 > 1.0) {
        fprintf(stderr, "bsale-sim: --share-over-25 plus --share-over-50 exceed 1\n");
        ok = false;
    }
    if ((uint64_t)c->k.days * c->k.docs_per_day > 20000000ULL) {
        fprintf(stderr, "bsale-sim: more than 20 million documents requested\n");
        ok = false;
    }
    if (!c->fault_seed_set)
        c->o.fault_seed = c->k.seed;
    c->h.seed = c->o.fault_seed;
    return ok;
}

static double elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    struct err e = ERR_INIT;
    struct sim_store *st = NULL;
    struct sim_server *srv = NULL;
    int rc = 1;
    if (!parse_args(argc, argv, &c)) {
        fprintf(stderr, "Try 'bsale-sim --help'.\n");
        return 2;
    }
    if (c.help) {
        usage(stdout);
        return 0;
    }
    log_setup(c.level, LOG_FORMAT_TEXT);
    log_add_secret(c.o.token);

    /* Signals are taken by sigwait below; block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        fprintf(stderr, "bsale-sim: cannot set up signal handling\n");
        return 1;
    }

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = sim_store_new(&c.k);
    st->h = c.h;
    double gen_ms = elapsed_ms(&t0);
    /* Mutations may change the store once the server runs: log its size first. */
    log_info("store ready documents=%zu lines=%zu payments=%zu clients=%u variants=%u "
             "startup_ms=%.0f",
             st->n_docs, st->n_lines, st->n_pays, st->n_clients, st->n_variants, gen_ms);
    if (server_start(&c.o, st, &srv, &e) != ERR_OK) {
        fprintf(stderr, "bsale-sim: %s\n", e.msg);
        goto out;
    }
    printf("http://%s:%u/v1\n", c.o.bind, (unsigned)server_port(srv));
    fflush(stdout);
    log_info("listening port=%u", (unsigned)server_port(srv));

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0)
        ;
    log_info("stopping on signal %d", sig);
    rc = 0;
out:
    server_stop(srv);
    sim_store_free(st);
    return rc;
}

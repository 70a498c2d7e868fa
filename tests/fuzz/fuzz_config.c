/*
 * Fuzz target: setting values through config_load. The first line becomes
 * DATABASE_URL, the others command-line overrides. Secrets must never reach
 * messages or the dump.
 */
#include "common.h"

#include "buf.h"
#include "config.h"
#include "fuzz.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_TOKEN "fuzz-bsale-token-7f3a"
#define MAX_LINES 32

static bool input_has_token;

/* The token may appear only where the input itself put it (e.g. as another setting's value). */
static void check_no_token(const char *s)
{
    if (!input_has_token && strstr(s, FUZZ_TOKEN))
        abort();
}

static void check_dump(const struct config *cfg)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        abort();
    config_dump(cfg, f);
    fclose(f);
    check_no_token(out);
    /*
     * A password shows as "***" on the DATABASE_URL line (its text may still
     * occur elsewhere by coincidence, e.g. a password "LOG_LEVEL").
     */
    if (cfg->db.password && *cfg->db.password) {
        const char *line = strstr(out, "DATABASE_URL=");
        const char *end = line ? strchr(line, '\n') : NULL;
        const char *mask = line ? strstr(line, ":***@") : NULL;
        if (!line || !end || !mask || mask > end)
            abort();
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    if (!devnull && (devnull = fopen("/dev/null", "w")) != NULL)
        log_set_output(devnull);
    char *text = xstrndup((const char *)data, size);
    input_has_token = strstr(text, FUZZ_TOKEN) != NULL;
    char *lines[MAX_LINES] = {0};
    size_t n = 0;
    for (char *p = text; p && n < MAX_LINES;) {
        lines[n++] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    setenv("DATABASE_URL", lines[0], 1);
    setenv("BSALE_API_TOKEN", FUZZ_TOKEN, 1);
    struct config_opts opts = {.env_file = "/nonexistent/petl-fuzz.env",
                               .overrides = (const char *const *)lines + 1,
                               .n_overrides = n - 1};
    struct config cfg = {0};
    struct buf problems;
    struct err e = ERR_INIT;
    buf_init(&problems, 0);
    if (config_load(&cfg, &opts, &problems, &e) == ERR_OK) {
        check_dump(&cfg);
        config_release(&cfg);
    } else {
        if (e.code != ERR_CONFIG || !e.msg[0] || !problems.len)
            abort();
        check_no_token(e.msg);
        check_no_token(problems.data);
    }
    buf_release(&problems);
    free(text);
    return 0;
}

/* Fuzz target: DATABASE_URL parsing and redaction. The password must never survive redaction. */
#include "common.h"

#include "config.h"
#include "fuzz.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

static void check_parsed(const char *s, const struct db_url *u)
{
    if (u->kind == DB_KIND_SQLITE && (!u->path || !*u->path))
        abort();
    if (u->kind == DB_KIND_MYSQL && (!u->database || !*u->database || !u->charset ||
                                     (!u->host && !u->unix_socket) || u->port > 65535))
        abort();
    char *r = db_url_redacted(s);
    /* with a password, the redacted form carries the mask and is what the user info becomes */
    if (u->password && !strstr(r, ":***@"))
        abort();
    if (!u->password && strcmp(r, s) != 0)
        abort();
    free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        log_setup(LOG_ERROR, LOG_FORMAT_TEXT); /* unknown options warn; keep the run quiet */
        quiet = true;
    }
    char *s = xstrndup((const char *)data, size); /* stops at an embedded NUL, like getenv */
    struct db_url u = {0};
    struct err e = ERR_INIT;
    if (db_url_parse(s, &u, &e) == ERR_OK) {
        check_parsed(s, &u);
        db_url_release(&u);
    } else {
        if (u.scheme || u.password || u.kind != DB_KIND_NONE || !e.msg[0])
            abort();
        char *r = db_url_redacted(s);
        /* what does not parse is hidden beyond its scheme */
        if (strcmp(r, "***") != 0 && !strstr(r, "://***"))
            abort();
        free(r);
    }
    free(s);
    return 0;
}

/*
 * DATABASE_URL in SQLAlchemy's grammar (not RFC 3986): mysql+pymysql://u:p@/db?unix_socket=...
 * and sqlite:////abs.db are valid here. Errors never quote the password.
 */
#include "common.h"

#define LOG_MODULE "config"
#include "log.h"
#include "db_url.h"
#include "parse.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DB_URL_MAX 4096

static const char *const mysql_schemes[] = {
    "mysql",
    "mysql+pymysql",
    "mysql+mysqldb",
    "mysql+mysqlconnector",
    "mysql+mariadbconnector",
    "mysql+asyncmy",
    "mysql+aiomysql",
    "mariadb",
    "mariadb+mariadbconnector",
    "mariadb+pymysql",
    "mariadb+mysqldb",
};

/* Percent-decodes s[0..n) into a new string; NULL on a bad escape or an embedded NUL. */
static char *pct_decode(const char *s, size_t n, bool plus_is_space)
{
    char *out = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 1 < n ? hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[k++] = ' ';
        } else {
            out[k++] = c;
        }
    }
    out[k] = '\0';
    return out;
}

static enum err_code parse_sqlite(const char *rest, struct db_url *u, struct err *e)
{
    /* rest is what follows "sqlite://": "" (memory), "/rel.db", "//abs.db". */
    if (!*rest || strcmp(rest, "/") == 0 || strcmp(rest, "/:memory:") == 0) {
        u->path = xstrdup(":memory:");
        return ERR_OK;
    }
    if (rest[0] != '/')
        return err_set(e, ERR_CONFIG,
                       "DATABASE_URL: sqlite URLs look like sqlite:///relative.db or "
                       "sqlite:////absolute/path.db");
    const char *path = rest + 1;
    const char *q = strchr(path, '?');
    size_t n = q ? (size_t)(q - path) : strlen(path);
    u->path = pct_decode(path, n, false);
    if (!u->path || !*u->path || u->path[strlen(u->path) - 1] == '/')
        return err_set(e, ERR_CONFIG, "DATABASE_URL: invalid sqlite path");
    return ERR_OK;
}

static enum err_code apply_ssl_mode(struct db_url *u, const char *v, struct err *e)
{
    if (strcasecmp(v, "DISABLED") == 0 || strcasecmp(v, "PREFERRED") == 0) {
        u->ssl = false;
    } else if (strcasecmp(v, "REQUIRED") == 0) {
        u->ssl = true;
    } else if (strcasecmp(v, "VERIFY_CA") == 0 || strcasecmp(v, "VERIFY_IDENTITY") == 0) {
        u->ssl = true;
        u->ssl_verify = true;
    } else {
        return err_set(e, ERR_CONFIG, "DATABASE_URL: unknown ssl_mode '%s'", v);
    }
    return ERR_OK;
}

/* Options that are plain strings; any ssl_* file also turns TLS on. */
static const struct {
    const char *name;
    size_t offset;
} string_options[] = {
    {"unix_socket", offsetof(struct db_url, unix_socket)},
    {"charset", offsetof(struct db_url, charset)},
    {"ssl_ca", offsetof(struct db_url, ssl_ca)},
    {"ssl_cert", offsetof(struct db_url, ssl_cert)},
    {"ssl_key", offsetof(struct db_url, ssl_key)},
};

static enum err_code apply_option(struct db_url *u, const char *k, char *v, bool quiet,
                                  struct err *e)
{
    for (size_t i = 0; i < ARRAY_LEN(string_options); i++) {
        if (strcmp(k, string_options[i].name) == 0) {
            if (!*v) {
                free(v);
                return err_set(e, ERR_CONFIG, "DATABASE_URL: option '%s' is empty", k);
            }
            char **target = (char **)((char *)u + string_options[i].offset);
            free(*target);
            *target = v;
            if (strncmp(k, "ssl_", 4) == 0)
                u->ssl = true;
            return ERR_OK;
        }
    }
    enum err_code rc = ERR_OK;
    bool b;
    long n;
    if (strcmp(k, "ssl") == 0 || strcmp(k, "ssl_verify_cert") == 0) {
        if (!parse_yes_no(v, &b))
            rc = err_set(e, ERR_CONFIG, "DATABASE_URL: option '%s' must be true or false", k);
        else if (k[3] == '\0')
            u->ssl = b;
        else
            u->ssl_verify = b, u->ssl = u->ssl || b;
    } else if (strcmp(k, "ssl_mode") == 0) {
        rc = apply_ssl_mode(u, v, e);
    } else if (strcmp(k, "connect_timeout") == 0) {
        if (!parse_long(v, 1, 3600, &n))
            rc = err_set(e, ERR_CONFIG, "DATABASE_URL: connect_timeout must be 1..3600 seconds");
        else
            u->connect_timeout_s = (unsigned)n;
    } else if (!quiet) {
        log_warn("DATABASE_URL: ignoring unknown option '%.40s'", k);
    }
    free(v);
    return rc;
}

static enum err_code parse_query(const char *q, struct db_url *u, bool quiet, struct err *e)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        if (n > 0) {
            if (!eq)
                return err_set(e, ERR_CONFIG, "DATABASE_URL: query option without '=' value");
            char *k = pct_decode(q, (size_t)(eq - q), true);
            char *v = pct_decode(eq + 1, n - (size_t)(eq - q) - 1, true);
            enum err_code rc = ERR_OK;
            if (!k || !v) {
                free(v);
                rc = err_set(e, ERR_CONFIG, "DATABASE_URL: bad percent-encoding in options");
            } else {
                rc = apply_option(u, k, v, quiet, e);
            }
            free(k);
            if (rc)
                return rc;
        }
        q += n + (amp ? 1 : 0);
    }
    return ERR_OK;
}

static enum err_code parse_hostport(const char *s, size_t n, struct db_url *u, struct err *e)
{
    const char *end = s + n;
    const char *host_end;
    const char *port_start = NULL;
    if (n && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb)
            return err_set(e, ERR_CONFIG, "DATABASE_URL: unterminated IPv6 host");
        u->host = xstrndup(s + 1, (size_t)(rb - s - 1));
        host_end = rb + 1;
        if (host_end < end && *host_end == ':')
            port_start = host_end + 1;
        else if (host_end != end)
            return err_set(e, ERR_CONFIG, "DATABASE_URL: junk after IPv6 host");
    } else {
        const char *colon = memchr(s, ':', n);
        host_end = colon ? colon : end;
        if (host_end > s)
            u->host = pct_decode(s, (size_t)(host_end - s), false);
        if (colon)
            port_start = colon + 1;
    }
    if (port_start) {
        char tmp[16];
        size_t pn = (size_t)(end - port_start);
        long port;
        if (pn == 0 || pn >= sizeof(tmp))
            return err_set(e, ERR_CONFIG, "DATABASE_URL: port is not a number in 1..65535");
        memcpy(tmp, port_start, pn);
        tmp[pn] = '\0';
        /* not quoted: in "user:password/db" (no '@') the password lands here */
        if (!parse_long(tmp, 1, 65535, &port))
            return err_set(e, ERR_CONFIG, "DATABASE_URL: port is not a number in 1..65535");
        u->port = (unsigned)port;
    }
    return ERR_OK;
}

static enum err_code parse_userinfo(const char *s, size_t n, struct db_url *u, struct err *e)
{
    const char *colon = memchr(s, ':', n);
    size_t un = colon ? (size_t)(colon - s) : n;
    u->user = pct_decode(s, un, false);
    if (colon)
        u->password = pct_decode(colon + 1, n - un - 1, false);
    if (!u->user || (colon && !u->password))
        return err_set(e, ERR_CONFIG, "DATABASE_URL: bad percent-encoding in user or password");
    return ERR_OK;
}

/*
 * Where the user info ends: the last '@' still followed by a '/' (the database
 * path is mandatory), so raw '@', '/' and '?' in a password work as in
 * SQLAlchemy, while an '@' inside the path or query is not mistaken for one
 * (without any '/', the last '@').
 * NULL when there is no user info.
 */
static const char *userinfo_end(const char *rest)
{
    const char *at = NULL;
    const char *last_at = strrchr(rest, '@');
    for (const char *p = rest; *p; p++)
        if (*p == '@' && strchr(p + 1, '/'))
            at = p;
    if (!at)
        at = last_at; /* no database path: still split "user:pass@host" for the error */
    if (!at)
        return NULL;
    const char *colon = memchr(rest, ':', (size_t)(at - rest));
    const char *user_end = colon ? colon : at;
    for (const char *p = rest; p < user_end; p++)
        if (*p == '/' || *p == '?')
            return NULL;
    return at;
}

static enum err_code parse_database(const char *s, size_t n, struct db_url *u, struct err *e)
{
    u->database = pct_decode(s, n, false);
    if (!u->database)
        return err_set(e, ERR_CONFIG, "DATABASE_URL: bad percent-encoding in database name");
    if (strpbrk(u->database, "/\\."))
        return err_set(e, ERR_CONFIG,
                       "DATABASE_URL: database name must not contain '/', '\\' "
                       "or '.'");
    return ERR_OK;
}

static enum err_code parse_mysql(const char *rest, struct db_url *u, bool quiet, struct err *e)
{
    const char *at = userinfo_end(rest);
    const char *hp = rest;
    enum err_code rc;
    if (at) {
        if ((rc = parse_userinfo(rest, (size_t)(at - rest), u, e)))
            return rc;
        hp = at + 1;
    }
    size_t hp_len = strcspn(hp, "/?");
    if ((rc = parse_hostport(hp, hp_len, u, e)))
        return rc;
    const char *p = hp + hp_len;
    if (*p == '/') {
        size_t db_len = strcspn(p + 1, "?");
        if (db_len && (rc = parse_database(p + 1, db_len, u, e)))
            return rc;
        p += 1 + db_len;
    }
    if (*p == '?' && (rc = parse_query(p + 1, u, quiet, e)))
        return rc;
    if (!u->database || !*u->database)
        return err_set(e, ERR_CONFIG, "DATABASE_URL: missing database name (.../dbname)");
    if ((!u->host || !*u->host) && !u->unix_socket)
        return err_set(e, ERR_CONFIG, "DATABASE_URL: missing host (or ?unix_socket=)");
    if (!u->charset)
        u->charset = xstrdup("utf8mb4");
    return ERR_OK;
}

static enum err_code parse_url(const char *s, struct db_url *u, bool quiet, struct err *e)
{
    memset(u, 0, sizeof(*u));
    if (!s || !*s)
        return err_set(e, ERR_CONFIG, "DATABASE_URL is empty");
    if (strlen(s) > DB_URL_MAX)
        return err_set(e, ERR_CONFIG, "DATABASE_URL is longer than %d bytes", DB_URL_MAX);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return err_set(e, ERR_CONFIG,
                           "DATABASE_URL contains a space or control character (percent-encode "
                           "it, e.g. %%20)");
    const char *sep = strstr(s, "://");
    if (!sep || sep == s)
        return err_set(e, ERR_CONFIG,
                       "DATABASE_URL must look like scheme://..., e.g. "
                       "mysql+pymysql://user:pass@host/db or sqlite:///patitas.db");
    size_t sn = (size_t)(sep - s);
    u->scheme = xstrndup(s, sn);
    for (char *p = u->scheme; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+')) {
            db_url_release(u);
            return err_set(e, ERR_CONFIG, "DATABASE_URL has an invalid scheme");
        }
    }
    enum err_code rc;
    if (strcmp(u->scheme, "sqlite") == 0 || strcmp(u->scheme, "sqlite+pysqlite") == 0) {
        u->kind = DB_KIND_SQLITE;
        rc = parse_sqlite(sep + 3, u, e);
    } else {
        for (size_t i = 0; i < ARRAY_LEN(mysql_schemes); i++)
            if (strcmp(u->scheme, mysql_schemes[i]) == 0)
                u->kind = DB_KIND_MYSQL;
        if (u->kind == DB_KIND_MYSQL)
            rc = parse_mysql(sep + 3, u, quiet, e);
        else
            rc = err_set(e, ERR_CONFIG,
                         "DATABASE_URL: unsupported database scheme '%.40s' (use mysql+pymysql://, "
                         "mariadb:// or sqlite://)",
                         u->scheme);
    }
    if (rc)
        db_url_release(u);
    return rc;
}

void db_url_release(struct db_url *u)
{
    if (!u)
        return;
    free(u->scheme);
    free(u->user);
    if (u->password) {
        explicit_bzero(u->password, strlen(u->password));
        free(u->password);
    }
    free(u->host);
    free(u->database);
    free(u->unix_socket);
    free(u->charset);
    free(u->ssl_ca);
    free(u->ssl_cert);
    free(u->ssl_key);
    free(u->path);
    memset(u, 0, sizeof(*u));
}

enum err_code db_url_parse(const char *s, struct db_url *u, struct err *e)
{
    return parse_url(s, u, false, e);
}

char *db_url_redacted(const char *s)
{
    struct db_url u = {0};
    if (!s)
        return xstrdup("");
    /* Only a URL that parses has a known password span; hide everything otherwise. */
    if (parse_url(s, &u, true, NULL)) {
        const char *sep = strstr(s, "://");
        size_t sn = sep ? (size_t)(sep - s) : 0;
        if (!sep || sn > 40 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+") != sn)
            return xstrdup("***");
        return xasprintf("%.*s://***", (int)sn, s);
    }
    bool has_password = u.password != NULL;
    db_url_release(&u);
    const char *rest = strstr(s, "://") + 3;
    const char *at = has_password ? userinfo_end(rest) : NULL;
    const char *colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
    if (!colon)
        return xstrdup(s);
    return xasprintf("%.*s:***%s", (int)(colon - s), s, at);
}

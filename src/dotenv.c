/*
 * .env parser following python-dotenv's grammar, stricter where it is silent:
 * a line without '=' or with an unterminated quote is an error, not skipped.
 * Values are never quoted in errors: a .env holds secrets.
 */
#include "common.h"

#include "dotenv.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct reader {
    const char *p;
    const char *end;
    const char *name;
    unsigned line;
};

void dotenv_init(struct dotenv *d)
{
    d->v = NULL;
    d->n = 0;
}

void dotenv_release(struct dotenv *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].key);
        explicit_bzero(d->v[i].value, strlen(d->v[i].value));
        free(d->v[i].value);
    }
    free(d->v);
    dotenv_init(d);
}

const char *dotenv_get(const struct dotenv *d, const char *key)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->v[i].key, key) == 0)
            return d->v[i].value;
    return NULL;
}

static bool at_eol(const struct reader *r)
{
    return r->p >= r->end || *r->p == '\n' || *r->p == '\r';
}

/* Consumes one line ending (\n, \r\n or a lone \r) if present. */
static void skip_eol(struct reader *r)
{
    if (r->p < r->end && *r->p == '\r')
        r->p++;
    if (r->p < r->end && *r->p == '\n')
        r->p++;
    r->line++;
}

static void skip_blanks(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'))
        r->p++;
}

static void skip_to_eol(struct reader *r)
{
    while (!at_eol(r))
        r->p++;
}

static enum err_code syntax(const struct reader *r, unsigned line, enum err_code code,
                            const char *what, struct err *e)
{
    err_set(e, code, "%s:%u: %s", r->name, line, what);
    return code; /* not err_set's result: lets the analyzer see this is never ERR_OK */
}

/* Whole-file checks first, so later stages may treat the text as a C string per line. */
static enum err_code check_bytes(const struct reader *r, struct err *e)
{
    unsigned line = 1;
    size_t col = 0;
    for (const char *p = r->p; p < r->end; p++) {
        if (*p == '\0')
            return syntax(r, line, ERR_CONFIG, "NUL byte in file", e);
        if (*p == '\n' || (*p == '\r' && (p + 1 == r->end || p[1] != '\n'))) {
            line++;
            col = 0;
        } else if (++col > DOTENV_LINE_MAX) {
            return syntax(r, line, ERR_LIMIT, "line longer than 8192 bytes", e);
        }
    }
    return ERR_OK;
}

static bool key_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool key_char(char c)
{
    return key_start(c) || (c >= '0' && c <= '9');
}

static void skip_export(struct reader *r)
{
    static const char kw[] = "export";
    size_t n = sizeof(kw) - 1;
    if ((size_t)(r->end - r->p) > n && memcmp(r->p, kw, n) == 0 &&
        (r->p[n] == ' ' || r->p[n] == '\t')) {
        r->p += n;
        skip_blanks(r);
    }
}

static enum err_code read_key(struct reader *r, char **key, struct err *e)
{
    const char *start = r->p;
    if (r->p >= r->end || !key_start(*r->p))
        return syntax(r, r->line, ERR_CONFIG, "expected a variable name (letters, digits, '_')", e);
    while (r->p < r->end && key_char(*r->p))
        r->p++;
    if (r->p - start > 255)
        return syntax(r, r->line, ERR_LIMIT, "variable name longer than 255 bytes", e);
    *key = xstrndup(start, (size_t)(r->p - start));
    return ERR_OK;
}

/* Escapes python-dotenv decodes inside double quotes; anything else stays literal. */
static char unescape_double(char c)
{
    switch (c) {
    case 'n':
        return '\n';
    case 't':
        return '\t';
    case 'r':
        return '\r';
    case '"':
    case '\\':
    case '\'':
        return c;
    default:
        return 0;
    }
}

/* Single quotes are literal except for an escaped quote or backslash (python-dotenv). */
static char unescape_single(char c)
{
    if (c == '\'' || c == '\\')
        return c;
    return '\0';
}

static enum err_code read_quoted(struct reader *r, char **out, struct err *e)
{
    char q = *r->p++;
    unsigned open_line = r->line;
    char *v = xmalloc(DOTENV_LINE_MAX + 1);
    size_t n = 0;
    enum err_code rc = ERR_OK;
    for (;;) {
        if (r->p >= r->end) {
            rc = syntax(r, open_line, ERR_CONFIG,
                        q == '"' ? "unterminated double quote" : "unterminated single quote", e);
            goto out;
        }
        char c = *r->p;
        if (c == q) {
            r->p++;
            break;
        }
        if (c == '\n' || (c == '\r' && (r->p + 1 == r->end || r->p[1] != '\n')))
            r->line++;
        if (c == '\\' && r->p + 1 < r->end) {
            char x = unescape_single(r->p[1]);
            if (q == '"')
                x = unescape_double(r->p[1]);
            if (x) {
                c = x;
                r->p++;
            }
        }
        if (n == DOTENV_LINE_MAX) {
            rc = syntax(r, open_line, ERR_LIMIT, "value longer than 8192 bytes", e);
            goto out;
        }
        v[n++] = c;
        r->p++;
    }
    v[n] = '\0';
    skip_blanks(r);
    if (r->p < r->end && *r->p == '#')
        skip_to_eol(r);
    if (!at_eol(r))
        rc = syntax(r, r->line, ERR_CONFIG, "unexpected text after the closing quote", e);
out:
    if (rc) {
        explicit_bzero(v, n);
        free(v);
        return rc;
    }
    *out = v;
    return ERR_OK;
}

/* Unquoted: up to the line end, cut at a '#' that follows whitespace, trailing blanks trimmed. */
static void read_unquoted(struct reader *r, bool blank_before, char **out)
{
    const char *start = r->p;
    const char *stop = NULL;
    while (!at_eol(r)) {
        bool after_blank = r->p == start ? blank_before : (r->p[-1] == ' ' || r->p[-1] == '\t');
        if (*r->p == '#' && after_blank && !stop)
            stop = r->p;
        r->p++;
    }
    const char *end = stop ? stop : r->p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *out = xstrndup(start, (size_t)(end - start));
}

static enum err_code store(struct dotenv *d, char *key, char *value, unsigned line,
                           const struct reader *r, struct err *e)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->v[i].key, key) == 0) {
            explicit_bzero(d->v[i].value, strlen(d->v[i].value));
            free(d->v[i].value);
            free(key);
            d->v[i].value = value;
            d->v[i].line = line;
            return ERR_OK;
        }
    }
    if (d->n == DOTENV_ENTRIES_MAX) {
        free(key);
        free(value);
        return syntax(r, line, ERR_LIMIT, "more than 1024 variables", e);
    }
    d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
    d->v[d->n++] = (struct dotenv_entry){key, value, line};
    return ERR_OK;
}

static enum err_code parse_assignment(struct reader *r, struct dotenv *d, struct err *e)
{
    char *key = NULL;
    char *value = NULL;
    unsigned line = r->line;
    enum err_code rc;
    skip_export(r);
    if ((rc = read_key(r, &key, e)))
        return rc;
    if (!at_eol(r) && *r->p != '=' && *r->p != ' ' && *r->p != '\t') {
        free(key);
        return syntax(r, line, ERR_CONFIG, "invalid character in variable name", e);
    }
    skip_blanks(r);
    if (r->p >= r->end || *r->p != '=') {
        free(key);
        return syntax(r, line, ERR_CONFIG, "expected KEY=VALUE", e);
    }
    r->p++;
    const char *after_eq = r->p;
    skip_blanks(r);
    if (r->p < r->end && (*r->p == '"' || *r->p == '\''))
        rc = read_quoted(r, &value, e);
    else
        read_unquoted(r, r->p > after_eq, &value);
    if (!rc && !utf8_valid(value, strlen(value))) {
        rc = ERR_CONFIG;
        err_set(e, rc, "%s:%u: value of %s is not valid UTF-8", r->name, line, key);
    }
    if (rc) {
        free(key);
        if (value)
            explicit_bzero(value, strlen(value));
        free(value);
        return rc;
    }
    return store(d, key, value, line, r, e);
}

enum err_code dotenv_parse(const char *text, size_t len, const char *name, struct dotenv *d,
                           struct err *e)
{
    struct reader r = {text, text + len, name ? name : ".env", 1};
    enum err_code rc = ERR_OK;
    if (len > DOTENV_FILE_MAX)
        return err_set(e, ERR_LIMIT, "%s: file larger than %zu bytes", r.name, DOTENV_FILE_MAX);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r.p += 3;
    if ((rc = check_bytes(&r, e)))
        goto out;
    while (r.p < r.end) {
        skip_blanks(&r);
        if (r.p < r.end && *r.p == '#')
            skip_to_eol(&r);
        if (!at_eol(&r) && (rc = parse_assignment(&r, d, e)))
            goto out;
        skip_eol(&r);
    }
out:
    if (rc)
        dotenv_release(d);
    return rc;
}

static enum err_code read_file(const char *path, char **data, size_t *len, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        enum err_code code = errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
        err_set(e, code, "cannot open '%s': %s", path, strerror(errno));
        return code;
    }
    enum err_code rc = ERR_OK;
    char *buf = xmalloc(DOTENV_FILE_MAX + 1);
    size_t n = 0;
    for (;;) {
        ssize_t k = read(fd, buf + n, DOTENV_FILE_MAX + 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = ERR_IO;
            err_set(e, rc, "cannot read '%s': %s", path, strerror(errno));
            break;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > DOTENV_FILE_MAX) {
            rc = ERR_LIMIT;
            err_set(e, rc, "%s: file larger than %zu bytes", path, DOTENV_FILE_MAX);
            break;
        }
    }
    close(fd);
    if (rc) {
        explicit_bzero(buf, n);
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return ERR_OK;
}

enum err_code dotenv_load_file(const char *path, struct dotenv *d, struct err *e)
{
    char *data = NULL;
    size_t len = 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return err_set(e, ERR_IO, "cannot read '%s': is a directory", path);
    enum err_code rc = read_file(path, &data, &len, e);
    if (rc)
        return rc;
    rc = dotenv_parse(data, len, path, d, e);
    explicit_bzero(data, len);
    free(data);
    return rc;
}

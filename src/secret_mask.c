/* Secret masking in every encoding a secret travels in (see secret_mask.h). */
#include "common.h"

#include "secret_mask.h"
#include "parse.h"

#include <pthread.h>
#include <string.h>

#define B64_CORE_MIN 6   /* shorter base64 fragments would match ordinary text */
#define MATCH_BUDGET 256 /* bounds backtracking on secrets full of '%', '+' or '\' */

/* raw: matched through every text encoding; otherwise an exact (base64) string. */
struct secret {
    char *text;
    size_t len;
    bool raw;
};

static struct secret *secrets; /* grows: a secret left out would be a silent leak */
static size_t n_secrets, cap_secrets;
static pthread_mutex_t mask_lock = PTHREAD_MUTEX_INITIALIZER;

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *secret_base64(const unsigned char *data, size_t n)
{
    char *out = xmalloc((n + 2) / 3 * 4 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < n)
            v |= data[i + 2];
        out[k++] = b64_std[(v >> 18) & 63];
        out[k++] = b64_std[(v >> 12) & 63];
        out[k++] = i + 1 < n ? b64_std[(v >> 6) & 63] : '=';
        out[k++] = i + 2 < n ? b64_std[v & 63] : '=';
    }
    out[k] = '\0';
    return out;
}

/* Called with mask_lock held; takes ownership of text. */
static void add_locked(char *text, bool raw)
{
    for (size_t i = 0; i < n_secrets; i++) {
        if (secrets[i].raw == raw && strcmp(secrets[i].text, text) == 0) {
            free(text);
            return;
        }
    }
    if (n_secrets == cap_secrets) {
        cap_secrets = cap_secrets ? cap_secrets * 2 : 32;
        secrets = xrealloc(secrets, cap_secrets * sizeof(*secrets));
    }
    secrets[n_secrets++] = (struct secret){.text = text, .len = strlen(text), .raw = raw};
}

/* Adds text and, when it differs, its base64url spelling. */
static void add_b64_locked(char *text)
{
    char *url = xstrdup(text);
    for (char *p = url; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    add_locked(text, false);
    add_locked(url, false);
}

/*
 * The base64 characters that depend on s alone when s starts k bytes (0..2)
 * into the encoded data: what any base64 text containing s must contain.
 */
static void add_b64_cores_locked(const char *s, size_t n)
{
    for (size_t k = 0; k < 3; k++) {
        unsigned char *data = xcalloc(1, n + k);
        memcpy(data + k, s, n);
        char *enc = secret_base64(data, n + k);
        free(data);
        size_t first = (8 * k + 5) / 6, end = 8 * (k + n) / 6;
        if (end >= first + B64_CORE_MIN)
            add_b64_locked(xstrndup(enc + first, end - first));
        free(enc);
    }
}

void secret_mask_add(const char *s)
{
    if (!s || strlen(s) < SECRET_MASK_MIN_LEN)
        return;
    pthread_mutex_lock(&mask_lock);
    add_locked(xstrdup(s), true);
    add_b64_locked(secret_base64((const unsigned char *)s, strlen(s)));
    add_b64_cores_locked(s, strlen(s));
    pthread_mutex_unlock(&mask_lock);
}

void secret_mask_add_basic(const char *user, const char *pass)
{
    if (!pass || strlen(pass) < SECRET_MASK_MIN_LEN)
        return;
    char *pair = xasprintf("%s:%s", user ? user : "", pass);
    char *enc = secret_base64((const unsigned char *)pair, strlen(pair));
    free(pair);
    pthread_mutex_lock(&mask_lock);
    add_b64_locked(enc);
    pthread_mutex_unlock(&mask_lock);
}

void secret_mask_clear(void)
{
    pthread_mutex_lock(&mask_lock);
    for (size_t i = 0; i < n_secrets; i++)
        free(secrets[i].text);
    n_secrets = 0;
    pthread_mutex_unlock(&mask_lock);
}

static long hex_n(const char *p, size_t n)
{
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        int h = hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t utf8_put(unsigned long cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A JSON "\uXXXX" escape (a surrogate pair included) at p: bytes consumed, 0 if none. */
static size_t json_u_escape(const char *p, unsigned char *out, size_t *outn)
{
    if (p[0] != '\\' || p[1] != 'u')
        return 0;
    long cp = hex_n(p + 2, 4);
    if (cp < 0)
        return 0;
    size_t used = 6;
    if (cp >= 0xD800 && cp < 0xDC00 && p[6] == '\\' && p[7] == 'u') {
        long lo = hex_n(p + 8, 4);
        if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            used = 12;
        }
    }
    *outn = utf8_put((unsigned long)cp, out);
    return used;
}

/* One reading of the text at p: how much it takes and the bytes it stands for. */
struct unit {
    size_t used;
    unsigned char b[4];
    size_t n;
};

/* The percent and JSON readings of p (the literal one aside); returns how many. */
static size_t encoded_units(const char *p, struct unit *u)
{
    static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
    size_t k = 0;
    if (p[0] == '+')
        u[k++] = (struct unit){.used = 1, .b = {' '}, .n = 1};
    long v = p[0] == '%' ? hex_n(p + 1, 2) : -1;
    if (v >= 0)
        u[k++] = (struct unit){.used = 3, .b = {(unsigned char)v}, .n = 1};
    long inner = v == 0x25 ? hex_n(p + 3, 2) : -1; /* %25XX: encoded twice */
    if (inner >= 0)
        u[k++] = (struct unit){.used = 5, .b = {(unsigned char)inner}, .n = 1};
    const char *e = p[0] == '\\' && p[1] ? strchr(esc_in, p[1]) : NULL;
    if (e)
        u[k++] = (struct unit){.used = 2, .b = {(unsigned char)esc_out[e - esc_in]}, .n = 1};
    else if (p[0] == '\\' && (u[k].used = json_u_escape(p, u[k].b, &u[k].n)) > 0)
        k++;
    return k;
}

/* End of an encoded spelling of sec[0..n) starting at p, or NULL. */
static const char *match_at(const char *p, const unsigned char *sec, size_t n, int *budget)
{
    while (n > 0) {
        if (!*p)
            return NULL;
        struct unit u[4] = {{.used = 1, .b = {(unsigned char)*p}, .n = 1}};
        size_t nu = 1 + encoded_units(p, u + 1), fits[4], nf = 0;
        for (size_t i = 0; i < nu; i++)
            if (u[i].n <= n && memcmp(u[i].b, sec, u[i].n) == 0)
                fits[nf++] = i;
        if (nf == 0)
            return NULL;
        /* several readings fit (say "%2542" for "%42"): all but the last are tried aside */
        for (size_t k = 0; k + 1 < nf && --*budget > 0; k++) {
            const struct unit *t = &u[fits[k]];
            const char *end = match_at(p + t->used, sec + t->n, n - t->n, budget);
            if (end)
                return end;
        }
        const struct unit *t = &u[fits[nf - 1]];
        p += t->used, sec += t->n, n -= t->n;
    }
    return p;
}

static bool may_start(const struct secret *s, char c)
{
    return c == s->text[0] || (s->raw && (c == '%' || c == '+' || c == '\\'));
}

/* Length of s spelled at p (0 if not). */
static size_t span_of(const struct secret *s, const char *p)
{
    if (!may_start(s, *p))
        return 0;
    if (s->raw) {
        int budget = MATCH_BUDGET;
        const char *end = match_at(p, (const unsigned char *)s->text, s->len, &budget);
        return end ? (size_t)(end - p) : 0;
    }
    return strncmp(p, s->text, s->len) == 0 ? s->len : 0;
}

/* Length of the longest secret (registered, or extra) spelled at p (0 if none); lock held. */
static size_t secret_at(const char *p, const struct secret *extra)
{
    size_t best = extra ? span_of(extra, p) : 0;
    for (size_t i = 0; i < n_secrets; i++) {
        size_t len = span_of(&secrets[i], p);
        best = len > best ? len : best;
    }
    return best;
}

static size_t mask_locked(char *s, const struct secret *extra)
{
    static const char mask[] = SECRET_MASK_TEXT;
    size_t count = 0;
    for (char *p = s; (n_secrets || extra) && *p;) {
        size_t span = secret_at(p, extra);
        if (!span) {
            p++;
            continue;
        }
        size_t m = span < sizeof(mask) - 1 ? span : sizeof(mask) - 1;
        memcpy(p, mask, m);
        memmove(p + m, p + span, strlen(p + span) + 1);
        p += m;
        count++;
    }
    return count;
}

size_t secret_mask(char *s)
{
    return secret_mask_with(s, NULL);
}

size_t secret_mask_with(char *s, const char *secret)
{
    if (!s)
        return 0;
    struct secret extra = {.text = (char *)secret, .len = secret ? strlen(secret) : 0, .raw = true};
    pthread_mutex_lock(&mask_lock);
    size_t count = mask_locked(s, extra.len ? &extra : NULL);
    pthread_mutex_unlock(&mask_lock);
    return count;
}

char *secret_mask_dup(const char *s, size_t len)
{
    char *d = xstrndup(s, len);
    secret_mask(d);
    return d;
}

/* libcurl client for the HTTP tests. */
#include "common.h"

#include "buf.h"
#include "http_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct upload {
    const char *p;
    size_t left;
};

static size_t on_data(char *p, size_t size, size_t n, void *cls)
{
    struct err e = {0};
    return buf_append(cls, p, size * n, &e) == ERR_OK ? size * n : 0;
}

static size_t on_read(char *dst, size_t size, size_t n, void *cls)
{
    struct upload *u = cls;
    size_t k = size * n < u->left ? size * n : u->left;
    /* Small pieces so a chunked body really arrives in several chunks. */
    if (k > 256)
        k = 256;
    memcpy(dst, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

void http_request(const char *method, const char *url, const struct request_opts *o,
                  struct reply *r)
{
    static const struct request_opts none;
    struct buf body, headers;
    struct curl_slist *hl = NULL;
    struct upload up = {0};
    char auth[512];
    o = o ? o : &none;
    memset(r, 0, sizeof(*r));
    buf_init(&body, 0);
    buf_init(&headers, 0);
    CURL *c = curl_easy_init();
    if (!c)
        goto out;
    bool ok = curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_WRITEDATA, &body) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_HEADERDATA, &headers) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_USERAGENT, "petl-http-test/1") == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_s ? o->timeout_s : 30L) == CURLE_OK;
    ok = ok && curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    if (o->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
        hl = curl_slist_append(hl, auth);
    }
    for (const char *const *h = o->headers; h && *h; h++)
        hl = curl_slist_append(hl, *h);
    if (strcmp(method, "HEAD") == 0) {
        ok = ok && curl_easy_setopt(c, CURLOPT_NOBODY, 1L) == CURLE_OK;
    } else if (strcmp(method, "POST") == 0) {
        ok = ok && curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK;
        if (o->chunked) {
            up.p = o->body;
            up.left = o->body_len;
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
            ok = ok && curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read) == CURLE_OK;
            ok = ok && curl_easy_setopt(c, CURLOPT_READDATA, &up) == CURLE_OK;
        } else {
            ok = ok && curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body ? o->body : "") == CURLE_OK;
            ok = ok && curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                                        (curl_off_t)(o->body ? o->body_len : 0)) == CURLE_OK;
        }
    } else if (strcmp(method, "GET") != 0) {
        ok = ok && curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    }
    hl = curl_slist_append(hl, "Expect:");
    ok = ok && curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl) == CURLE_OK;
    if (ok && curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
    }
out:
    curl_slist_free_all(hl);
    if (c)
        curl_easy_cleanup(c);
    r->body = buf_detach(&body, &r->len);
    r->headers = buf_detach(&headers, NULL);
    r->json = json_loadb(r->body, r->len, 0, NULL);
}

void reply_release(struct reply *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

bool reply_header(const struct reply *r, const char *name, char *dst, size_t n)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(line + len - v);
            while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            snprintf(dst, n, "%.*s", (int)vl, v);
            return true;
        }
        line = end ? end + 1 : NULL;
    }
    return false;
}

const char *reply_detail(const struct reply *r)
{
    const char *d = json_string_value(json_object_get(r->json, "detail"));
    return d ? d : "";
}

/* Starts and stops bsale-sim for tests, and performs HTTP calls with libcurl. */
#include "sim_proc.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 20000

static bool read_line(int fd, char *out, size_t n)
{
    size_t len = 0;
    while (len + 1 < n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, START_TIMEOUT_MS);
        if (rc <= 0)
            return false;
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got <= 0)
            return false;
        if (c == '\n')
            break;
        out[len++] = c;
    }
    out[len] = '\0';
    return len > 0;
}

bool sim_proc_start(struct sim_proc *p, const char *bin, const char *const args[])
{
    int fds[2];
    memset(p, 0, sizeof *p);
    if (pipe(fds) != 0)
        return false;
    const char *argv[64] = {0};
    size_t n = 0;
    argv[n++] = bin;
    argv[n++] = "--port";
    argv[n++] = "0";
    for (size_t i = 0; args && args[i] && n + 1 < 64; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    p->pid = pid;
    bool ok = read_line(fds[0], p->base, sizeof p->base);
    close(fds[0]);
    size_t blen = strlen(p->base);
    if (!ok || blen < 4 || strcmp(p->base + blen - 3, "/v1") != 0) {
        sim_proc_stop(p);
        return false;
    }
    snprintf(p->root, sizeof p->root, "%.*s", (int)(blen - 3), p->base);
    return true;
}

int sim_proc_stop(struct sim_proc *p)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            p->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    return -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct http_result *r = userp;
    size_t n = size * nmemb;
    char *grown = realloc(r->body, r->len + n + 1);
    if (!grown)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct http_result *r = userp;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        while (*v == ' ')
            v++;
        size_t vl = strcspn(v, "\r\n");
        snprintf(r->retry_after, sizeof r->retry_after, "%.*s", (int)vl, v);
    }
    return n;
}

void http_call(const char *method, const char *url, const char *token, const char *body,
               long timeout_ms, struct http_result *r)
{
    memset(r, 0, sizeof *r);
    r->body = calloc(1, 1);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char hdr[256];
    if (!c || !r->body) {
        r->curl_code = CURLE_FAILED_INIT;
        if (c)
            curl_easy_cleanup(c);
        return;
    }
    if (token) {
        snprintf(hdr, sizeof hdr, "access_token: %s", token);
        h = curl_slist_append(h, hdr);
    }
    int rc = 0;
    rc |= curl_easy_setopt(c, CURLOPT_URL, url);
    rc |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    rc |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    rc |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    rc |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    rc |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    rc |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (strcmp(method, "HEAD") == 0)
        rc |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body)
        rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    else if (strcmp(method, "POST") == 0)
        rc |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    if (rc != CURLE_OK) {
        r->curl_code = CURLE_FAILED_INIT;
    } else {
        r->curl_code = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

void http_get(const char *url, const char *token, struct http_result *r)
{
    http_call("GET", url, token, NULL, 30000, r);
}

void http_result_free(struct http_result *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

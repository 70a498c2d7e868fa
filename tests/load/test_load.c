/*
 * Load on the real `patitas-etl serve`, loopback only, bounded in count and
 * time: slow clients trickling headers must not starve /health, and a burst
 * of concurrent keep-alive requests from one address sees no error.
 * usage: test_load PATITAS_ETL
 */
#include "common.h"

#include "http_client.h"
#include "serve_proc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define SLOW_CONNS 56 /* over the old per-address cap (48 of 64), under the total */
#define SLOW_TICKS 24
#define SLOW_TICK_MS 250 /* 6 s in all: three times the 2 s idle timeout set below */
#define PROBE_TIMEOUT_S 5
#define BURST_CONNS 64 /* what `wrk -c64` opens; HTTP_MAX_CONNECTIONS is 64 */
#define BURST_PER_CONN 50
#define BURST_DEADLINE_S 90

static const char *etl_bin;
static char tmpdir[256];

struct fx {
    struct proc srv;
    unsigned port;
};

static int setup(void **state)
{
    static char env_db[400];
    char *env[] = {env_db,
                   "BSALE_API_TOKEN=load-test-token",
                   "BSALE_API_URL=http://127.0.0.1:9/v1",
                   "HOST=127.0.0.1",
                   "PORT=0",
                   "HTTP_TIMEOUT_S=2",
                   "LOG_LEVEL=info",
                   NULL};
    snprintf(env_db, sizeof(env_db), "DATABASE_URL=sqlite:///%s/load.db", tmpdir);
    struct fx *f = xcalloc(1, sizeof(*f));
    if (!proc_start_serve(&f->srv, etl_bin, tmpdir, "serve", env)) {
        fprintf(stderr, "serve did not start; see %s\n", f->srv.err);
        free(f);
        return -1;
    }
    f->port = (unsigned)strtoul(strrchr(f->srv.base, ':') + 1, NULL, 10);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = proc_stop(&f->srv);
    free(f);
    proc_reap_all();
    return rc == 0 ? 0 : -1;
}

static int connect_local(unsigned port)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static bool probe_health(const struct fx *f)
{
    char url[128];
    struct request_opts o = {.timeout_s = PROBE_TIMEOUT_S};
    struct reply r;
    snprintf(url, sizeof(url), "%s/health", f->srv.base);
    http_request("GET", url, &o, &r);
    bool ok = r.status == 200 && r.json;
    if (!ok)
        fprintf(stderr, "probe: status %ld after %.2fs\n", r.status, r.seconds);
    reply_release(&r);
    return ok;
}

/* Slowloris: headers a byte at a time, each byte inside the idle timeout. */
static void test_slow_clients_do_not_starve_health(void **state)
{
    struct fx *f = *state;
    static const char head[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    static const char trickle[] = "X-Slow: abcdefghijklmnopqrstuvwxyz";
    int fds[SLOW_CONNS];
    for (size_t i = 0; i < SLOW_CONNS; i++) {
        fds[i] = connect_local(f->port);
        assert_true(fds[i] >= 0);
        assert_int_equal(send(fds[i], head, sizeof(head) - 1, MSG_NOSIGNAL),
                         (ssize_t)(sizeof(head) - 1));
    }
    int ok = 0;
    for (int tick = 0; tick < SLOW_TICKS; tick++) {
        for (size_t i = 0; i < SLOW_CONNS; i++)
            (void)!send(fds[i], &trickle[(size_t)tick % (sizeof(trickle) - 1)], 1, MSG_NOSIGNAL);
        ok += probe_health(f);
        usleep(SLOW_TICK_MS * 1000); /* the pace of the attack, not a synchronisation */
    }
    for (size_t i = 0; i < SLOW_CONNS; i++)
        close(fds[i]);
    assert_int_equal(ok, SLOW_TICKS);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    return size * n;
}

static CURL *burst_handle(const char *url, long *left)
{
    CURL *h = curl_easy_init();
    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_PRIVATE, left);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    return h;
}

struct burst {
    long ok, errors, connects;
};

/* Collects finished transfers; a handle with requests left goes again on its connection. */
static void burst_collect(CURLM *m, struct burst *b)
{
    CURLMsg *msg;
    int queued = 0;
    while ((msg = curl_multi_info_read(m, &queued))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *h = msg->easy_handle;
        long status = 0, connects = 0, *left = NULL;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&left);
        if (msg->data.result == CURLE_OK && status == 200)
            b->ok++;
        else if (b->errors++ < 5)
            fprintf(stderr, "burst: %s, status %ld\n", curl_easy_strerror(msg->data.result),
                    status);
        b->connects += connects;
        curl_multi_remove_handle(m, h);
        if (--*left > 0)
            curl_multi_add_handle(m, h);
    }
}

/* Many concurrent keep-alive clients from one address (a proxy, or wrk -c64). */
static void test_keepalive_burst_has_no_errors(void **state)
{
    struct fx *f = *state;
    char url[128];
    snprintf(url, sizeof(url), "%s/health", f->srv.base);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)BURST_CONNS);
    CURL *handles[BURST_CONNS];
    long left[BURST_CONNS];
    for (size_t i = 0; i < BURST_CONNS; i++) {
        left[i] = BURST_PER_CONN;
        handles[i] = burst_handle(url, &left[i]);
        curl_multi_add_handle(m, handles[i]);
    }
    struct burst b = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    time_t deadline = time(NULL) + BURST_DEADLINE_S;
    int running = 1;
    while ((running || b.ok + b.errors < (long)BURST_CONNS * BURST_PER_CONN) &&
           time(NULL) < deadline) {
        curl_multi_perform(m, &running);
        burst_collect(m, &b);
        curl_multi_poll(m, NULL, 0, 200, NULL);
    }
    for (size_t i = 0; i < BURST_CONNS; i++) {
        curl_multi_remove_handle(m, handles[i]);
        curl_easy_cleanup(handles[i]);
    }
    curl_multi_cleanup(m);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* for the record only: timing goals belong in bench/ */
    fprintf(stderr, "burst: %ld ok, %ld errors, %ld connections, %.0f req/s\n", b.ok, b.errors,
            b.connects, secs > 0 ? (double)b.ok / secs : 0.0);
    assert_int_equal(b.errors, 0);
    assert_int_equal(b.ok, (long)BURST_CONNS * BURST_PER_CONN);
    /* keep-alive held: connections were reused, not one per request */
    assert_true(b.connects <= 2 * BURST_CONNS);
    assert_true(probe_health(f));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_load PATITAS_ETL\n");
        return 2;
    }
    etl_bin = argv[1];
    snprintf(tmpdir, sizeof(tmpdir), "%s/petl-load-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir) || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slow_clients_do_not_starve_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keepalive_burst_has_no_errors, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("load", tests, NULL, NULL);
    curl_global_cleanup();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (!failed && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return failed ? 1 : 0;
}

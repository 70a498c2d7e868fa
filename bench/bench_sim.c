/*
 * Load benchmark of bsale-sim: start-up time of a ~110k-document store, pages/s of
 * 50-document pages without latency (cold sweep, then warm random pages), and the
 * overlap of 32 parallel clients under --latency-ms 300.
 * Usage: bench_sim [--sim PATH] [--seconds S] [--threads N]
 */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN "bench-token"

struct proc {
    pid_t pid;
    char base[128];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool spawn(struct proc *p, const char *bin, const char *const extra[])
{
    const char *argv[32] = {bin, "--port", "0", "--token", TOKEN, "--log-level", "warn"};
    size_t n = 7;
    for (size_t i = 0; extra[i] && n + 1 < 32; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    p->pid = fork();
    if (p->pid < 0)
        return false;
    if (p->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    while (len + 1 < sizeof p->base) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        char c;
        if (poll(&pfd, 1, 60000) <= 0 || read(fds[0], &c, 1) != 1 || c == '\n')
            break;
        p->base[len++] = c;
    }
    p->base[len] = '\0';
    close(fds[0]);
    return len > 0;
}

static void stop(struct proc *p)
{
    int status;
    kill(p->pid, SIGTERM);
    waitpid(p->pid, &status, 0);
}

struct sink {
    size_t bytes;
};

static size_t on_body(char *d, size_t s, size_t n, void *u)
{
    ((struct sink *)u)->bytes += s * n;
    return s * n;
}

static CURL *handle(struct curl_slist **h, struct sink *sink)
{
    CURL *c = curl_easy_init();
    *h = curl_slist_append(NULL, "access_token: " TOKEN);
    if (!c || curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_WRITEDATA, sink) != CURLE_OK ||
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK) {
        fprintf(stderr, "curl setup failed\n");
        exit(1);
    }
    return c;
}

static bool get(CURL *c, const char *url)
{
    long status = 0;
    if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK || curl_easy_perform(c) != CURLE_OK)
        return false;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return status == 200;
}

struct load {
    const char *base;
    long count;
    int thread, threads;
    bool sweep; /* every page once, split across threads; else random pages until deadline */
    double deadline;
    long pages, errors;
    size_t bytes;
};

static void *load_thread(void *arg)
{
    struct load *l = arg;
    struct sink sink = {0};
    struct curl_slist *h;
    CURL *c = handle(&h, &sink);
    char url[256];
    unsigned seed = (unsigned)l->thread * 7919u + 1;
    long pages_total = (l->count + 49) / 50;
    for (long k = l->thread;; k += l->threads) {
        long off;
        if (l->sweep) {
            if (k >= pages_total)
                break;
            off = k * 50;
        } else {
            if (now_s() >= l->deadline)
                break;
            off = (long)(rand_r(&seed) % (unsigned)(pages_total > 1 ? pages_total - 1 : 1)) * 50;
        }
        snprintf(url, sizeof url, "%s/documents.json?limit=50&offset=%ld", l->base, off);
        if (get(c, url))
            l->pages++;
        else
            l->errors++;
    }
    l->bytes = sink.bytes;
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return NULL;
}

static void run_load(const char *base, long count, int threads, bool sweep, double seconds,
                     const char *label)
{
    pthread_t th[64];
    struct load l[64] = {0};
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        l[i] = (struct load){.base = base,
                             .count = count,
                             .thread = i,
                             .threads = threads,
                             .sweep = sweep,
                             .deadline = t0 + seconds};
        pthread_create(&th[i], NULL, load_thread, &l[i]);
    }
    long pages = 0, errors = 0;
    size_t bytes = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        pages += l[i].pages;
        errors += l[i].errors;
        bytes += l[i].bytes;
    }
    double el = now_s() - t0;
    printf("%-34s %7ld pages in %5.2f s = %7.0f pages/s, %6.1f MB/s, %ld errors, %d clients\n",
           label, pages, el, pages / el, (double)bytes / el / 1e6, errors, threads);
}

struct lat_arg {
    const char *url;
    int n;
    long ok;
    double busy; /* summed request durations */
};

static void *latency_thread(void *arg)
{
    struct lat_arg *a = arg;
    struct sink sink = {0};
    struct curl_slist *h;
    CURL *c = handle(&h, &sink);
    for (int i = 0; i < a->n; i++) {
        double t = 0;
        a->ok += get(c, a->url);
        if (curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &t) == CURLE_OK)
            a->busy += t;
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return NULL;
}

static long fetch_count(const char *base)
{
    struct sink sink = {0};
    struct curl_slist *h;
    CURL *c = handle(&h, &sink);
    char url[256];
    snprintf(url, sizeof url, "%s/documents/count.json", base);
    /* The body is tiny; read it into a buffer instead of the sink. */
    FILE *mem;
    char *buf = NULL;
    size_t len = 0;
    mem = open_memstream(&buf, &len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
    bool ok = get(c, url);
    fclose(mem);
    long count = 0;
    if (ok && buf)
        sscanf(buf, "{\"count\":%ld}", &count);
    free(buf);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return count;
}

/* Default: the simulator of the same build tree, <build>/tools/bsale_sim/bsale-sim. */
static const char *default_sim(char *out, size_t n)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return "bsale-sim";
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, n, "%s/../tools/bsale_sim/bsale-sim", self);
    return out;
}

int main(int argc, char **argv)
{
    char sim_path[4200];
    const char *bin = default_sim(sim_path, sizeof sim_path);
    double seconds = 5;
    int threads = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--sim") == 0)
            bin = argv[i + 1];
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (int)strtol(argv[i + 1], NULL, 10);
    }
    if (threads < 1 || threads > 64 || seconds <= 0) {
        fprintf(stderr, "usage: bench_sim [--sim PATH] [--seconds S] [--threads 1..64]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);

    struct proc big = {0};
    const char *big_args[] = {"--seed", "7", "--days", "365", "--docs-per-day", "300", NULL};
    double t0 = now_s();
    if (!spawn(&big, bin, big_args)) {
        fprintf(stderr, "cannot start %s\n", bin);
        return 1;
    }
    double startup = now_s() - t0;
    long count = fetch_count(big.base);
    printf("start-up of a %ld-document store: %.3f s (until the URL line)\n", count, startup);
    run_load(big.base, count, threads, true, 0, "no latency, 50-doc pages, cold sweep");
    run_load(big.base, count, threads, false, seconds, "no latency, 50-doc pages, warm random");
    stop(&big);

    struct proc lat = {0};
    const char *lat_args[] = {"--latency-ms", "300", NULL};
    if (!spawn(&lat, bin, lat_args)) {
        fprintf(stderr, "cannot start %s\n", bin);
        return 1;
    }
    enum { CLIENTS = 32, EACH = 5 };
    char url[256];
    snprintf(url, sizeof url, "%s/offices.json", lat.base);
    pthread_t th[CLIENTS];
    struct lat_arg la[CLIENTS] = {0};
    t0 = now_s();
    for (int i = 0; i < CLIENTS; i++) {
        la[i] = (struct lat_arg){.url = url, .n = EACH};
        pthread_create(&th[i], NULL, latency_thread, &la[i]);
    }
    long ok = 0;
    double busy = 0;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        ok += la[i].ok;
        busy += la[i].busy;
    }
    double el = now_s() - t0;
    printf("latency 300 ms, %d parallel clients: %ld requests in %.2f s = %.1f per 0.3 s "
           "(ideal %d); mean request %.0f ms; requests overlapping on average %.1f\n",
           CLIENTS, ok, el, ok / (el / 0.3), CLIENTS, busy / (double)ok * 1e3, busy / el);
    stop(&lat);
    curl_global_cleanup();
    return 0;
}

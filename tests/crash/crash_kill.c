/*
 * Runs a command and SIGKILLs it once the simulator has received a given
 * number of /v1 requests: a crash at a reproducible point of a sync. The
 * counter (/__stats) is reset first; it is polled over one kept-alive
 * connection so the kill lands within about a millisecond of the point.
 *
 *   crash_kill STATS_URL AT[+MS] COMMAND [ARGS...]   (hook token: env BSALE_API_TOKEN)
 *
 * AT+MS kills MS milliseconds after the point, to reach what runs between
 * two requests or after the last one (the final writes and the run record).
 * The command's stdout goes to stderr. Prints "killed requests=R delay_ms=D",
 * or "exited status=S requests=R tail_ms=T" when the command ended first (T:
 * from the last request seen to its end). Exit status 0 when SIGKILL ended
 * the command, 3 when it ended on its own, 2 on any error of this tool.
 */
#include "common.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_PAUSE_NS 500000L /* between two polls: keeps the simulator mostly idle */
#define GIVE_UP_S 300         /* a command still running then is killed and reported */

/* Where to kill: once the counter reaches at, after delay_ms more. */
struct point {
    long long at;
    long delay_ms;
};

struct poller {
    CURL *curl;
    struct curl_slist *headers;
    char body[4096];
    size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct poller *pl = ctx;
    size_t take = size * n;
    if (take > sizeof(pl->body) - 1 - pl->len)
        take = sizeof(pl->body) - 1 - pl->len;
    memcpy(pl->body + pl->len, p, take);
    pl->len += take;
    pl->body[pl->len] = '\0';
    return size * n;
}

static bool poller_init(struct poller *pl, const char *token)
{
    char header[512];
    snprintf(header, sizeof(header), "access_token: %s", token);
    pl->headers = curl_slist_append(NULL, header);
    pl->curl = curl_easy_init();
    return pl->curl && pl->headers &&
           curl_easy_setopt(pl->curl, CURLOPT_HTTPHEADER, pl->headers) == CURLE_OK &&
           curl_easy_setopt(pl->curl, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
           curl_easy_setopt(pl->curl, CURLOPT_WRITEDATA, pl) == CURLE_OK &&
           curl_easy_setopt(pl->curl, CURLOPT_TIMEOUT, 10L) == CURLE_OK;
}

static void poller_release(struct poller *pl)
{
    curl_easy_cleanup(pl->curl);
    curl_slist_free_all(pl->headers);
}

/* GET (or POST when post) url; false on any transport or HTTP failure. */
static bool request(struct poller *pl, const char *url, bool post)
{
    pl->len = 0;
    pl->body[0] = '\0';
    long status = 0;
    if (curl_easy_setopt(pl->curl, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(pl->curl, post ? CURLOPT_POST : CURLOPT_HTTPGET, 1L) != CURLE_OK ||
        (post && curl_easy_setopt(pl->curl, CURLOPT_POSTFIELDS, "") != CURLE_OK) ||
        curl_easy_perform(pl->curl) != CURLE_OK)
        return false;
    curl_easy_getinfo(pl->curl, CURLINFO_RESPONSE_CODE, &status);
    return status == 200;
}

/* The simulator's /v1 request counter, or -1 when it cannot be read. */
static long long requests_seen(struct poller *pl, const char *stats_url)
{
    if (!request(pl, stats_url, false))
        return -1;
    const char *p = strstr(pl->body, "\"requests\":");
    return p ? strtoll(p + strlen("\"requests\":"), NULL, 10) : -1;
}

static pid_t spawn(char **argv)
{
    pid_t pid = fork();
    if (pid == 0) {
        dup2(STDERR_FILENO, STDOUT_FILENO); /* our stdout carries only the verdict */
        execvp(argv[0], argv);
        fprintf(stderr, "crash_kill: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

struct outcome {
    int status;     /* waitpid status */
    long long seen; /* the counter when the point was reached, or at the end */
    double idle_s;  /* how long the counter had not moved when the command ended */
    bool timed_out; /* killed for running past GIVE_UP_S */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void kill_after(pid_t pid, long delay_ms, struct outcome *o)
{
    struct timespec delay = {delay_ms / 1000, delay_ms % 1000 * 1000000L};
    nanosleep(&delay, NULL); /* a command ending meanwhile stays a zombie: no pid reuse */
    kill(pid, SIGKILL);
    waitpid(pid, &o->status, 0);
}

/* Polls until the point is reached (then kills) or the command ends. */
static struct outcome watch(struct poller *pl, const char *stats_url, struct point pt, pid_t pid)
{
    struct timespec pause = {0, POLL_PAUSE_NS};
    double start = now_s(), moved = start;
    struct outcome o = {0};
    for (;;) {
        if (waitpid(pid, &o.status, WNOHANG) == pid) {
            o.idle_s = now_s() - moved;
            return o;
        }
        long long n = pt.at > 0 ? requests_seen(pl, stats_url) : 0;
        if (n > o.seen) {
            o.seen = n;
            moved = now_s();
        }
        o.timed_out = now_s() - start > GIVE_UP_S;
        if (n >= pt.at || o.timed_out) {
            kill_after(pid, o.timed_out ? 0 : pt.delay_ms, &o);
            return o;
        }
        nanosleep(&pause, NULL);
    }
}

static struct point parse_point(const char *arg)
{
    char *end = NULL;
    struct point pt = {strtoll(arg, &end, 10), 0};
    if (end && *end == '+')
        pt.delay_ms = strtol(end + 1, NULL, 10);
    return pt;
}

/* Starts the command and reports where it ended; the exit status of main. */
static int crash_at(struct poller *pl, const char *stats_url, struct point pt, char **cmd)
{
    pid_t pid = spawn(cmd);
    if (pid < 0) {
        fprintf(stderr, "crash_kill: fork: %s\n", strerror(errno));
        return 2;
    }
    struct outcome o = watch(pl, stats_url, pt, pid);
    if (o.timed_out) {
        fprintf(stderr, "crash_kill: still running after %ds, killed\n", GIVE_UP_S);
        return 2;
    }
    if (WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGKILL) {
        printf("killed requests=%lld delay_ms=%ld\n", o.seen, pt.delay_ms);
        return 0;
    }
    printf("exited status=%d requests=%lld tail_ms=%.0f\n",
           WIFEXITED(o.status) ? WEXITSTATUS(o.status) : -1, requests_seen(pl, stats_url),
           o.idle_s * 1e3);
    return 3;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: crash_kill STATS_URL AT[+MS] COMMAND [ARGS...]\n");
        return 2;
    }
    const char *stats_url = argv[1], *token = getenv("BSALE_API_TOKEN");
    char reset_url[1024];
    snprintf(reset_url, sizeof(reset_url), "%s/reset", stats_url);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct poller pl = {0};
    int rc = 2;
    if (token && poller_init(&pl, token) && request(&pl, reset_url, true))
        rc = crash_at(&pl, stats_url, parse_point(argv[2]), argv + 3);
    else
        fprintf(stderr, "crash_kill: cannot reset %s\n", reset_url);
    poller_release(&pl);
    curl_global_cleanup();
    return rc;
}

/*
 * Single-flight lock across processes. Run as "lock_contention sqlite|mysql":
 * starts copies of itself that take the lock, and checks that the other
 * process gets ERR_BUSY until the holder releases it or dies.
 * Exit 0 pass, 1 fail, 77 skip (no TEST_MYSQL_URL).
 */
#include "common.h"

#include "config.h"
#include "db.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_BUSY 3

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* The URL of the database under test: backend + target (file path or database name). */
static enum err_code target_url(const char *backend, const char *target, struct db_url *u,
                                struct err *e)
{
    memset(u, 0, sizeof(*u));
    if (strcmp(backend, "sqlite") == 0) {
        u->kind = DB_KIND_SQLITE;
        u->path = xstrdup(target);
        return ERR_OK;
    }
    enum err_code rc = db_url_parse(getenv("TEST_MYSQL_URL"), u, e);
    if (rc)
        return rc;
    if (target) {
        free(u->database);
        u->database = xstrdup(target);
    }
    return ERR_OK;
}

static struct db *open_target(const char *backend, const char *target)
{
    struct db_url u = {0};
    struct err e = ERR_INIT;
    struct db *db = NULL;
    if (target_url(backend, target, &u, &e) || db_open(&u, &db, &e))
        fprintf(stderr, "open: %s\n", e.msg);
    db_url_release(&u);
    return db;
}

/*
 * Child: "hold" takes the lock, says "locked", unlocks on "release" and
 * exits at EOF; "try" exits CHILD_BUSY when the lock is held elsewhere.
 */
static int child_main(const char *mode, const char *backend, const char *target)
{
    struct err e = ERR_INIT;
    struct db *db = open_target(backend, target);
    if (!db)
        return 1;
    enum err_code rc = db_lock(db, &e);
    if (strcmp(mode, "try") == 0) {
        int code = rc == ERR_BUSY && strstr(e.msg, "another sync is running") ? CHILD_BUSY : rc;
        db_close(db);
        return code;
    }
    if (rc) {
        fprintf(stderr, "child lock: %s\n", e.msg);
        db_close(db);
        return 1;
    }
    printf("locked\n");
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof(line), stdin)) {
        if (strncmp(line, "release", 7) == 0) {
            db_unlock(db);
            printf("released\n");
            fflush(stdout);
        }
    }
    db_close(db);
    return 0;
}

struct child {
    pid_t pid;
    FILE *to, *from;
};

static bool spawn(struct child *c, const char *mode, const char *backend, const char *target)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return false;
    c->pid = fork();
    if (c->pid < 0)
        return false;
    if (c->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        execl("/proc/self/exe", "lock_contention", "child", mode, backend, target, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->to = fdopen(in[1], "w");
    c->from = fdopen(out[0], "r");
    return c->to && c->from;
}

static bool expect_line(struct child *c, const char *want)
{
    char line[64];
    if (!fgets(line, sizeof(line), c->from))
        return false;
    return strncmp(line, want, strlen(want)) == 0;
}

static int reap(struct child *c)
{
    int status = 0;
    if (c->to)
        fclose(c->to);
    if (c->from)
        fclose(c->from);
    c->to = c->from = NULL;
    if (waitpid(c->pid, &status, 0) != c->pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static enum err_code lock_with_retry(struct db *db, struct err *e)
{
    /* A killed client's session ends when the server notices the closed socket. */
    for (int i = 0; i < 50; i++) {
        err_clear(e);
        enum err_code rc = db_lock(db, e);
        if (rc != ERR_BUSY)
            return rc;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return ERR_BUSY;
}

static void run_checks(const char *backend, const char *target)
{
    struct err e = ERR_INIT;
    struct db *me = open_target(backend, target);
    CHECK(me != NULL, "parent cannot open the database");
    if (!me)
        return;

    /* 1. A holder in another process: we are refused, until it releases. */
    struct child a = {0};
    CHECK(spawn(&a, "hold", backend, target) && expect_line(&a, "locked"), "holder A did not lock");
    enum err_code rc = db_lock(me, &e);
    CHECK(rc == ERR_BUSY, "lock while A holds it: %s", err_str(rc));
    CHECK(strstr(e.msg, "another sync is running") != NULL, "busy message: %s", e.msg);
    fprintf(a.to, "release\n");
    fflush(a.to);
    CHECK(expect_line(&a, "released"), "A did not release");
    err_clear(&e);
    rc = db_lock(me, &e);
    CHECK(rc == ERR_OK, "lock after A released: %s", e.msg);

    /* 2. While we hold it, another process is refused with ERR_BUSY. */
    struct child t = {0};
    CHECK(spawn(&t, "try", backend, target), "spawn try");
    CHECK(reap(&t) == CHILD_BUSY, "second process was not told another sync is running");
    db_unlock(me);
    CHECK(reap(&a) == 0, "holder A exit");

    /* 3. A holder that dies (SIGKILL, no cleanup) leaves the lock free. */
    struct child b = {0};
    CHECK(spawn(&b, "hold", backend, target) && expect_line(&b, "locked"), "holder B did not lock");
    err_clear(&e);
    CHECK(db_lock(me, &e) == ERR_BUSY, "lock while B holds it");
    kill(b.pid, SIGKILL);
    CHECK(reap(&b) == 128 + SIGKILL, "B was not killed");
    rc = lock_with_retry(me, &e);
    CHECK(rc == ERR_OK, "lock after B died: %s", e.msg);
    db_unlock(me);
    db_close(me);
}

static int mysql_admin(const char *sql)
{
    struct db *db = open_target("mysql", NULL);
    struct err e = ERR_INIT;
    if (!db)
        return 1;
    enum err_code rc = db_query(db, sql, NULL, NULL, &e);
    if (rc)
        fprintf(stderr, "%s: %s\n", sql, e.msg);
    db_close(db);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    log_setup(LOG_WARN, LOG_FORMAT_TEXT);
    if (argc == 5 && strcmp(argv[1], "child") == 0)
        return child_main(argv[2], argv[3], argv[4]);
    const char *backend = argc > 1 ? argv[1] : "sqlite";
    char target[128], sql[200];
    if (strcmp(backend, "mysql") == 0) {
        const char *url = getenv("TEST_MYSQL_URL");
        if (!url || !*url) {
            const char *req = getenv("PETL_REQUIRE_MYSQL");
            fprintf(stderr, "TEST_MYSQL_URL not set\n");
            return req && strcmp(req, "1") == 0 ? 1 : 77;
        }
        snprintf(target, sizeof(target), "petl_lock_%ld", (long)getpid());
        snprintf(sql, sizeof(sql), "CREATE DATABASE %s", target);
        if (mysql_admin(sql))
            return 1;
        run_checks(backend, target);
        snprintf(sql, sizeof(sql), "DROP DATABASE %s", target);
        failures += mysql_admin(sql);
    } else {
        snprintf(target, sizeof(target), "/tmp/petl-lock-%ld.db", (long)getpid());
        run_checks(backend, target);
        char *lock = xasprintf("%s.lock", target);
        (void)unlink(target);
        (void)unlink(lock);
        free(lock);
        static const char *const extra[] = {"-wal", "-shm"};
        for (size_t i = 0; i < ARRAY_LEN(extra); i++) {
            char *p = xasprintf("%s%s", target, extra[i]);
            (void)unlink(p);
            free(p);
        }
    }
    printf("lock_contention %s: %s\n", backend, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

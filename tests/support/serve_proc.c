/* Child processes for the suites that drive the real binaries. */
#include "common.h"

#include "serve_proc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_CHILDREN 16
static pid_t children[MAX_CHILDREN];

static void forget(pid_t pid)
{
    for (size_t i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == pid)
            children[i] = 0;
}

bool proc_spawn(struct proc *p, const char *dir, const char *name, char *const argv[],
                char *const env[])
{
    snprintf(p->out, sizeof(p->out), "%s/%s.out", dir, name);
    snprintf(p->err, sizeof(p->err), "%s/%s.err", dir, name);
    unlink(p->out); /* so that no reader sees an earlier process's lines */
    unlink(p->err);
    p->pid = fork();
    if (p->pid < 0)
        return false;
    if (p->pid == 0) {
        int o = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(dir) != 0)
            _exit(126);
        for (size_t i = 0; env && env[i]; i++)
            putenv(env[i]);
        execv(argv[0], argv);
        _exit(127);
    }
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        if (!children[i]) {
            children[i] = p->pid;
            break;
        }
    }
    return true;
}

bool proc_wait_for(const char *file, const char *marker, char *dst, size_t n, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        FILE *f = fopen(file, "r");
        char line[4096];
        while (f && fgets(line, sizeof(line), f)) {
            const char *m = strstr(line, marker);
            if (m) {
                m += strlen(marker);
                size_t k = strcspn(m, " \r\n");
                snprintf(dst, n, "%.*s", (int)k, m);
                fclose(f);
                return true;
            }
        }
        if (f)
            fclose(f);
        usleep(20000);
    }
    return false;
}

bool proc_start_serve(struct proc *p, const char *etl_bin, const char *dir, const char *name,
                      char *const env[])
{
    char *argv[] = {(char *)etl_bin, "serve", NULL};
    char port[16];
    if (!proc_spawn(p, dir, name, argv, env) ||
        !proc_wait_for(p->err, "listening on http://127.0.0.1:", port, sizeof(port), 15000))
        return false;
    port[strspn(port, "0123456789")] = '\0'; /* a JSON log line goes on after the port */
    snprintf(p->base, sizeof(p->base), "http://127.0.0.1:%s", port);
    return true;
}

int proc_stop(struct proc *p)
{
    if (p->pid > 0)
        kill(p->pid, SIGTERM);
    return proc_wait(p);
}

int proc_wait(struct proc *p)
{
    int status = 0;
    if (p->pid <= 0)
        return -1;
    pid_t got = waitpid(p->pid, &status, 0);
    forget(p->pid);
    p->pid = 0;
    if (got <= 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void proc_reap_all(void)
{
    for (size_t i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0 && kill(children[i], SIGKILL) == 0)
            waitpid(children[i], NULL, 0);
        children[i] = 0;
    }
}

char *proc_slurp(const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return xstrdup("");
    char *data = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            data = xrealloc(data, cap);
        }
        memcpy(data + len, chunk, got);
        len += got;
    }
    fclose(f);
    if (!data)
        return xstrdup("");
    data[len] = '\0';
    return data;
}

/* Child processes for the suites that drive the real binaries: spawn, wait for a line, stop. */
#ifndef PETL_TEST_SERVE_PROC_H
#define PETL_TEST_SERVE_PROC_H

#include "common.h"

#include <sys/types.h>

struct proc {
    pid_t pid;
    char out[320]; /* stdout file */
    char err[320]; /* stderr file */
    char base[96]; /* http://127.0.0.1:PORT once serving */
};

/*
 * Starts argv (argv[0] a path) in dir with extra NAME=VALUE environment
 * (NULL-terminated), stdout and stderr to dir/name.out and dir/name.err.
 */
bool proc_spawn(struct proc *p, const char *dir, const char *name, char *const argv[],
                char *const env[]);
/* Waits for a line of file containing marker; copies what follows it (to a space) into dst. */
bool proc_wait_for(const char *file, const char *marker, char *dst, size_t n, int timeout_ms);
/* Starts `serve` and waits for its "listening on" line; fills p->base. */
bool proc_start_serve(struct proc *p, const char *etl_bin, const char *dir, const char *name,
                      char *const env[]);
/* SIGTERM, then the exit status (-1 if it ended by a signal or was not running). */
int proc_stop(struct proc *p);
/* Waits for the child to end by itself; its exit status (-1 if it ended by a signal). */
int proc_wait(struct proc *p);
/* SIGKILL for every child still running (after a failed assertion). */
void proc_reap_all(void);
/* The whole file (owned, "" when missing). */
char *proc_slurp(const char *file);

#endif

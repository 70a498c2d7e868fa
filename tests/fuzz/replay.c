/*
 * Runs a fuzz target without libFuzzer, so gcc builds test it too: every file
 * given (or every file in a given directory), then deterministic variants of
 * each: all prefixes of short inputs and seeded byte mutations.
 */
#include "common.h"

#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX (2 * 1024 * 1024)
#define MUTATIONS 300

static uint32_t rng_state = 2463534242u;

static uint32_t next_rand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void run_variants(const uint8_t *data, size_t n)
{
    static const uint8_t interesting[] = {0,   '\n', '\r', '"', '\'', '\\', '#',  '=',  ' ', '@',
                                          ':', '/',  '?',  '%', '[',  ']',  0x80, 0xC3, 0xFF};
    LLVMFuzzerTestOneInput(data, n);
    for (size_t k = 0; n <= 512 && k < n; k++)
        LLVMFuzzerTestOneInput(data, k);
    uint8_t *m = xmalloc(n + 1);
    for (int i = 0; i < MUTATIONS && n > 0; i++) {
        memcpy(m, data, n);
        int edits = 1 + (int)(next_rand() % 4);
        for (int j = 0; j < edits; j++) {
            size_t at = next_rand() % n;
            m[at] = next_rand() % 2 ? interesting[next_rand() % sizeof(interesting)]
                                    : (uint8_t)next_rand();
        }
        LLVMFuzzerTestOneInput(m, n);
    }
    free(m);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 1;
    }
    uint8_t *buf = xmalloc(REPLAY_MAX);
    size_t n = fread(buf, 1, REPLAY_MAX, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return 1;
    }
    run_variants(buf, n);
    free(buf);
    return 0;
}

static int run_path(const char *path, size_t *files)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return (*files)++, run_file(path);
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        return 1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *p = xasprintf("%s/%s", path, de->d_name);
        rc |= run_path(p, files);
        free(p);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    size_t files = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= run_path(argv[i], &files);
    if (files == 0) {
        fprintf(stderr, "replay: no input files\n");
        return 1;
    }
    printf("replay: %zu files, each with %d mutations\n", files, MUTATIONS);
    return rc;
}

/*
 * .env files as python-dotenv reads them: KEY=VALUE lines, `export `, comments,
 * quoting, no `$` expansion. Knows nothing of which keys mean what.
 * Errors name the file and line, never a value.
 */
#ifndef PETL_DOTENV_H
#define PETL_DOTENV_H

#include "common.h"
#include "err.h"

#define DOTENV_FILE_MAX ((size_t)1024 * 1024) /* bytes */
#define DOTENV_LINE_MAX 8192                  /* bytes per physical line and per value */
#define DOTENV_ENTRIES_MAX 1024

struct dotenv_entry {
    char *key;     /* owned */
    char *value;   /* owned; may be secret: never log */
    unsigned line; /* where the (last) assignment starts */
};

/* Entries in first-seen order; a repeated key keeps its slot with the last value. */
struct dotenv {
    struct dotenv_entry *v; /* owned */
    size_t n;
};

void dotenv_init(struct dotenv *d);
/* Frees every entry (values wiped first); accepts a zeroed struct. */
void dotenv_release(struct dotenv *d);

/*
 * Parses text[0..len) (need not be NUL-terminated) into d, which must be
 * initialised. name labels errors ("NAME:LINE: ..."). On error d is emptied.
 * ERR_CONFIG for syntax, ERR_LIMIT for caps.
 */
enum err_code dotenv_parse(const char *text, size_t len, const char *name, struct dotenv *d,
                           struct err *e) MUST_CHECK;

/* Reads and parses path. ERR_NOT_FOUND when it does not exist, ERR_IO on other errors. */
enum err_code dotenv_load_file(const char *path, struct dotenv *d, struct err *e) MUST_CHECK;

/* The value for key, or NULL. Borrowed from d. */
const char *dotenv_get(const struct dotenv *d, const char *key);

#endif

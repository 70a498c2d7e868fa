/*
 * Leveled logger: one line per event on stderr, text (key=value) or JSON
 * (Google Cloud Logging's severity/time/message). Registered secrets are
 * masked in every line, whatever the caller passed. Thread-safe.
 *
 * Each .c file defines LOG_MODULE before including this header.
 */
#ifndef PETL_LOG_H
#define PETL_LOG_H

#include "common.h"

#include <jansson.h>
#include <stdio.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };

#ifndef LOG_MODULE
#define LOG_MODULE "main"
#endif

void log_setup(enum log_level level, enum log_format format);
enum log_level log_get_level(void);
/* Redirects output (tests); NULL restores stderr. The stream is borrowed. */
void log_set_output(FILE *f);

/* Every later line has each occurrence of s (if at least 4 bytes) masked as "[REDACTED]". */
void log_add_secret(const char *s);
void log_clear_secrets(void);

/* Per-thread context printed on each line: the run id (0 = none). */
void log_set_run_id(long long run_id);

/*
 * Cloud Logging trace context. The project (GOOGLE_CLOUD_PROJECT) is process-wide;
 * the trace is per thread, set while a request is served (NULL/"" clears it). JSON
 * lines then carry logging.googleapis.com/trace (projects/P/traces/T) and spanId.
 */
void log_set_cloud_project(const char *project);
void log_set_trace(const char *trace_id, const char *span_id, bool sampled);

bool log_enabled(enum log_level level);

/* fields: an object whose members are appended (borrowed, may be NULL). */
void log_event(enum log_level level, const char *module, json_t *fields, const char *fmt, ...)
    PRINTF_FMT(4, 5);

#define log_at(lvl, ...)                                                                           \
    do {                                                                                           \
        if (log_enabled(lvl))                                                                      \
            log_event(lvl, LOG_MODULE, NULL, __VA_ARGS__);                                         \
    } while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

/* Parses "error|warn|info|debug" and "text|json"; return false on anything else. */
bool log_level_parse(const char *s, enum log_level *out);
bool log_format_parse(const char *s, enum log_format *out);
const char *log_level_name(enum log_level level);

#endif

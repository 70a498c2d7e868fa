/* Logger: formats, masks secrets, writes whole lines under one lock. */
#include "common.h"

#define LOG_MODULE "log"
#include "clock.h"
#include "log.h"

#include "buf.h"
#include "json_util.h"
#include "utf8.h"
#include "secret_mask.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static enum log_level cur_level = LOG_INFO;
static enum log_format cur_format = LOG_FORMAT_TEXT;
static FILE *out_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local long long thread_run_id;
/* Cloud Logging's trace context of the request this thread serves ("" = none). */
static char cloud_project[128];
static _Thread_local char thread_trace[64];
static _Thread_local char thread_span[24];
static _Thread_local bool thread_sampled;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const severity_names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

void log_setup(enum log_level level, enum log_format format)
{
    cur_level = level;
    cur_format = format;
}

enum log_level log_get_level(void)
{
    return cur_level;
}

void log_set_output(FILE *f)
{
    pthread_mutex_lock(&log_lock);
    out_stream = f;
    pthread_mutex_unlock(&log_lock);
}

void log_add_secret(const char *s)
{
    secret_mask_add(s);
}

void log_clear_secrets(void)
{
    secret_mask_clear();
}

void log_set_run_id(long long run_id)
{
    thread_run_id = run_id;
}

void log_set_cloud_project(const char *project)
{
    pthread_mutex_lock(&log_lock);
    snprintf(cloud_project, sizeof(cloud_project), "%s", project ? project : "");
    pthread_mutex_unlock(&log_lock);
}

void log_set_trace(const char *trace_id, const char *span_id, bool sampled)
{
    snprintf(thread_trace, sizeof(thread_trace), "%s", trace_id ? trace_id : "");
    snprintf(thread_span, sizeof(thread_span), "%s", span_id ? span_id : "");
    thread_sampled = sampled;
}

bool log_enabled(enum log_level level)
{
    return level <= cur_level;
}

bool log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < ARRAY_LEN(level_names); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = LOG_WARN;
        return true;
    }
    return false;
}

bool log_format_parse(const char *s, enum log_format *out)
{
    if (strcasecmp(s, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcasecmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return false;
    return true;
}

const char *log_level_name(enum log_level level)
{
    return (size_t)level < ARRAY_LEN(level_names) ? level_names[level] : "?";
}

static void format_time(char *dst, size_t n)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    size_t k = utc_format(tv.tv_sec, "%Y-%m-%dT%H:%M:%S", dst, n);
    snprintf(dst + k, n - k, ".%03ldZ", (long)(tv.tv_usec / 1000));
}

static void append_text_value(struct buf *b, json_t *v)
{
    struct err e = {0};
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        bool quote = strpbrk(s, " \t\"=") != NULL || !*s;
        if (quote) {
            char *d = json_dumps(v, JSON_ENCODE_ANY);
            buf_append_str(b, d ? d : "\"\"", &e);
            free(d);
        } else {
            buf_append_str(b, s, &e);
        }
        return;
    }
    char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));
    buf_append_str(b, d ? d : "null", &e);
    free(d);
}

static void render_text(struct buf *b, enum log_level level, const char *module, json_t *fields,
                        const char *msg)
{
    struct err e = {0};
    char ts[40];
    format_time(ts, sizeof(ts));
    buf_appendf(b, &e, "%s %-5s %s", ts, severity_names[level], module);
    if (thread_run_id)
        buf_appendf(b, &e, " run=%lld", thread_run_id);
    buf_appendf(b, &e, ": %s", msg);
    const char *key;
    json_t *v;
    json_object_foreach (fields, key, v) {
        buf_appendf(b, &e, " %s=", key);
        append_text_value(b, v);
    }
}

/*
 * Cloud Logging's special fields: the request's trace (only with a project, which
 * the field's format needs) and the run id as a label, so a run's lines filter together.
 */
static void add_cloud_fields(json_t *o)
{
    json_t *run = json_object_get(o, "run_id");
    if (json_is_integer(run)) {
        char id[24];
        snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(run));
        json_object_set_new(o, "logging.googleapis.com/labels", json_pack("{s:s}", "run_id", id));
    }
    char project[sizeof(cloud_project)];
    pthread_mutex_lock(&log_lock);
    memcpy(project, cloud_project, sizeof(project));
    pthread_mutex_unlock(&log_lock);
    if (!thread_trace[0] || !project[0])
        return;
    char trace[sizeof(project) + sizeof(thread_trace) + 32];
    snprintf(trace, sizeof(trace), "projects/%s/traces/%s", project, thread_trace);
    json_object_set_new(o, "logging.googleapis.com/trace", json_string(trace));
    if (thread_span[0])
        json_object_set_new(o, "logging.googleapis.com/spanId", json_string(thread_span));
    json_object_set_new(o, "logging.googleapis.com/trace_sampled", json_boolean(thread_sampled));
}

static void render_json(struct buf *b, enum log_level level, const char *module, json_t *fields,
                        const char *msg)
{
    char ts[40];
    format_time(ts, sizeof(ts));
    json_t *o = json_object();
    json_object_set_new(o, "severity", json_string(severity_names[level]));
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "message", json_string(msg));
    json_object_set_new(o, "module", json_string(module));
    if (thread_run_id)
        json_object_set_new(o, "run_id", json_integer(thread_run_id));
    if (fields)
        json_object_update(o, fields);
    add_cloud_fields(o);
    char *d = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(10));
    struct err e = {0};
    buf_append_str(b, d ? d : "{}", &e);
    free(d);
    json_decref(o);
}

/* Masks before truncating, so that a cut never leaves half a secret behind. */
static void PRINTF_FMT(3, 0) format_masked(char *dst, size_t n, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int len = vsnprintf(dst, n, fmt, ap);
    if (len >= 0 && (size_t)len >= n) {
        char *full = xmalloc((size_t)len + 1);
        vsnprintf(full, (size_t)len + 1, fmt, ap2);
        secret_mask(full);
        snprintf(dst, n, "%s", full);
        free(full);
    }
    va_end(ap2);
    secret_mask(dst);
}

void log_event(enum log_level level, const char *module, json_t *fields, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    format_masked(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Invalid UTF-8 would make jansson drop the message; keep the line instead. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    utf8_sanitize(msg);

    struct buf b;
    buf_init(&b, 0);
    if (cur_format == LOG_FORMAT_JSON)
        render_json(&b, level, module, fields, msg);
    else
        render_text(&b, level, module, fields, msg);

    pthread_mutex_lock(&log_lock);
    if (b.len)
        secret_mask(b.data); /* fields too, and secrets in the encodings rendering gave them */
    FILE *f = out_stream ? out_stream : stderr;
    fputs(b.data, f);
    fputc('\n', f);
    fflush(f);
    pthread_mutex_unlock(&log_lock);
    buf_release(&b);
}

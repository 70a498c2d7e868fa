/* Trace headers: traceparent (00-TRACE-SPAN-FLAGS) and X-Cloud-Trace-Context (TRACE/SPAN;o=1). */
#include "common.h"

#include "http_trace.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies n hex digits of s in lowercase into dst; false unless all n are hex and not all 0. */
static bool take_hex(const char *s, size_t n, char *dst)
{
    bool nonzero = false;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return false;
        dst[i] = (char)tolower((unsigned char)s[i]);
        nonzero = nonzero || s[i] != '0';
    }
    dst[n] = '\0';
    return nonzero;
}

static bool parse_traceparent(const char *s, struct http_trace *t)
{
    char version[3], flags[3];
    /* version "ff" is invalid; a newer version may append fields after the flags */
    if (strlen(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (s[55] && s[55] != '-'))
        return false;
    if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
        strncmp(s, "ff", 2) == 0)
        return false;
    memcpy(version, s, 2);
    version[2] = '\0';
    if (!take_hex(s + 3, 32, t->trace_id) || !take_hex(s + 36, 16, t->span_id))
        return false;
    if (!isxdigit((unsigned char)s[53]) || !isxdigit((unsigned char)s[54]))
        return false;
    memcpy(flags, s + 53, 2);
    flags[2] = '\0';
    t->sampled = (strtoul(flags, NULL, 16) & 1) != 0;
    return strcmp(version, "00") != 0 || s[55] == '\0';
}

/* TRACE_ID[/SPAN_ID][;o=0|1], the span a decimal 64-bit number. */
static bool parse_cloud(const char *s, struct http_trace *t)
{
    if (strlen(s) < 32 || !take_hex(s, 32, t->trace_id))
        return false;
    const char *p = s + 32;
    if (*p == '/') {
        char *end = NULL;
        errno = 0;
        unsigned long long span = isdigit((unsigned char)p[1]) ? strtoull(p + 1, &end, 10) : 0;
        if (!end || errno || (*end && *end != ';'))
            return false;
        if (span)
            snprintf(t->span_id, sizeof(t->span_id), "%016llx", span);
        p = end;
    }
    if (*p == ';') {
        if (strcmp(p, ";o=1") != 0 && strcmp(p, ";o=0") != 0)
            return false;
        t->sampled = p[3] == '1';
        p += 4;
    }
    return *p == '\0';
}

bool http_trace_parse(const char *traceparent, const char *cloud_trace, struct http_trace *t)
{
    memset(t, 0, sizeof(*t));
    if (traceparent && parse_traceparent(traceparent, t))
        return true;
    memset(t, 0, sizeof(*t));
    if (cloud_trace && parse_cloud(cloud_trace, t))
        return true;
    memset(t, 0, sizeof(*t));
    return false;
}

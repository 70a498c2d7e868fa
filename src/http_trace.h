/*
 * The trace context a request carries (W3C `traceparent` or Google's
 * `X-Cloud-Trace-Context`), parsed strictly so that only hex ids reach the logs.
 */
#ifndef PETL_HTTP_TRACE_H
#define PETL_HTTP_TRACE_H

#include "common.h"

struct http_trace {
    char trace_id[33]; /* 32 lowercase hex digits, "" when the request has none */
    char span_id[17];  /* 16 hex digits, "" when not given */
    bool sampled;
};

/*
 * Fills t from the headers' values (either may be NULL); traceparent wins when
 * both are valid. Returns false (t empty) when neither holds a valid trace id.
 */
bool http_trace_parse(const char *traceparent, const char *cloud_trace, struct http_trace *t);

#endif

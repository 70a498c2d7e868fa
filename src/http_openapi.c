/* OpenAPI 3.1 document of the HTTP API, built with jansson so it is always valid JSON. */
#include "common.h"

#include "catalog.h"
#include "http_openapi.h"

#include <stdarg.h>
#include <stdio.h>

static json_t *ref(const char *schema)
{
    char path[96];
    snprintf(path, sizeof(path), "#/components/schemas/%s", schema);
    return json_pack("{s:s}", "$ref", path);
}

/* A media type with its schema and example (both stolen). */
static json_t *media(const char *type, json_t *schema, json_t *example)
{
    return json_pack("{s:{s:o, s:o}}", type, "schema", schema, "example", example);
}

/* A JSON response whose body is the named schema, with an example body (stolen). */
static json_t *resp(const char *description, const char *schema, json_t *example)
{
    return json_pack("{s:s, s:o}", "description", description, "content",
                     media("application/json", ref(schema), example));
}

static json_t *detail(const char *text)
{
    return json_pack("{s:s}", "detail", text);
}

static json_t *resp_detail(const char *description, const char *example)
{
    return resp(description, "Detail", detail(example));
}

static json_t *text_response(const char *description, const char *type, const char *example)
{
    return json_pack("{s:s, s:o}", "description", description, "content",
                     media(type, json_pack("{s:s}", "type", "string"), json_string(example)));
}

static json_t *query_param(const char *name, const char *description, json_t *schema)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "in", "query", "required", 0,
                     "description", description, "schema", schema);
}

static json_t *date_schema(void)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "type", "string", "format", "date", "pattern",
                     "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "example", "2024-03-05");
}

static json_t *wait_param(void)
{
    return query_param("wait",
                       "true (default): answer when the run has finished, with its summary. "
                       "false: answer 202 at once with the run id.",
                       json_pack("{s:s, s:b}", "type", "boolean", "default", 1));
}

static json_t *idempotency_param(void)
{
    return json_pack(
        "{s:s, s:s, s:b, s:s, s:{s:s, s:s, s:i, s:s}}", "name", "Idempotency-Key", "in", "header",
        "required", 0, "description",
        "A retried request with the same key gets the first request's run: running, it joins it; "
        "finished, its outcome. Without it, Cloud Scheduler's job name and schedule time are "
        "the key.",
        "schema", "type", "string", "pattern", "^[A-Za-z0-9._:+/=@-]{1,200}$", "maxLength", 200,
        "example", "daily-2024-03-05");
}

/* The document's security is the bearer token; open routes say so with an empty list. */
static json_t *operation(const char *tag, const char *id, const char *summary,
                         const char *description, bool secured, json_t *params, json_t *responses)
{
    json_t *op = json_pack("{s:[s], s:s, s:s, s:s, s:o}", "tags", tag, "operationId", id, "summary",
                           summary, "description", description, "responses", responses);
    if (params)
        json_object_set_new(op, "parameters", params);
    /* Every route refuses a query holding a control character, before it is routed. */
    if (!json_object_get(responses, "422"))
        json_object_set_new(responses, "422",
                            resp_detail("A query parameter holds a control character.",
                                        "invalid query parameter 'x': control characters are not "
                                        "allowed"));
    if (!secured) {
        json_object_set_new(op, "security", json_array());
        return op;
    }
    json_object_set_new(json_object_get(op, "responses"), "401",
                        resp_detail("Missing or wrong bearer token (only when ETL_API_TOKEN is "
                                    "set).",
                                    "not authenticated"));
    return op;
}

static json_t *summary_example(const char *status, const char *error, const char *code)
{
    bool ok = !error;
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:i, s:{s:i, s:i, s:i}, s:i, "
                     "s:i, s:i, s:i, s:i, s:f, s:i, s:s?, s:s?}",
                     "id", 42, "type", "daily", "origin", "http", "status", status, "date_from",
                     "2024-03-05", "date_to", "2024-03-05", "started_at", "2024-03-06 04:00:02",
                     "finished_at", "2024-03-06 04:00:31", "rows_total", ok ? 1280 : 310, "rows",
                     "documentos_venta", ok ? 180 : 60, "detalles_venta", ok ? 960 : 250, "pagos",
                     ok ? 140 : 0, "documents", ok ? 180 : 60, "pages", ok ? 12 : 4, "requests",
                     ok ? 196 : 65, "retries", ok ? 0 : 3, "throttled", 0, "seconds",
                     ok ? 29.4 : 12.1, "incidents", 0, "error", error, "error_code", code);
}

static json_t *failure_example(const char *why, const char *code)
{
    char text[160];
    snprintf(text, sizeof(text), "sync failed: %s", why);
    return json_pack("{s:s, s:o}", "detail", text, "run", summary_example("failed", why, code));
}

static json_t *accepted_response(void)
{
    return json_pack("{s:s, s:{s:{s:s, s:{s:s}, s:s}}, s:o}", "description",
                     "Started (wait=false); poll the Location header.", "headers", "Location",
                     "description", "/etl/runs/{run_id} of the new run", "schema", "type", "string",
                     "example", "/etl/runs/42", "content",
                     media("application/json", ref("Accepted"),
                           json_pack("{s:i, s:s}", "run_id", 42, "status", "running")));
}

static json_t *see_other_response(void)
{
    return json_pack(
        "{s:s, s:{s:{s:s, s:{s:s}, s:s}}, s:o}", "description",
        "Started (wait=false) from the status page's form, an HTML form POST that accepts "
        "text/html: back to the page, which lists the new run.",
        "headers", "Location", "description", "The status page", "schema", "type", "string",
        "example", "/status", "content",
        media("application/json", ref("Accepted"),
              json_pack("{s:i, s:s}", "run_id", 42, "status", "running")));
}

static json_t *trigger_responses(void)
{
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "303", see_other_response(), "200",
        resp("The run finished successfully; its summary.", "RunSummary",
             summary_example("succeeded", NULL, NULL)),
        "202", accepted_response(), "409",
        resp("Another sync is running (in this or another process).", "Busy",
             json_pack("{s:s, s:i}", "detail", "another sync is running", "run_id", 41)),
        "422",
        resp_detail("Invalid query parameter; detail names it.",
                    "invalid query parameter 'date': expected a real calendar date YYYY-MM-DD"),
        "502",
        resp("The run failed on the Bsale side (API error, auth, network).", "RunFailure",
             failure_example("Bsale answered 503 for documents.json", "ERR_BSALE")),
        "503",
        resp("The run failed on the database side, was interrupted, or the service is "
             "shutting down.",
             "RunFailure", failure_example("interrupted", "ERR_INTERRUPTED")));
}

static json_t *path_full_sync(void)
{
    json_t *params = json_pack(
        "[o, o, o, o]",
        query_param("from", "First business date of documents to copy as well (needs 'to').",
                    date_schema()),
        query_param("to", "Last business date of documents to copy (needs 'from').", date_schema()),
        wait_param(), idempotency_param());
    return json_pack("{s:o}", "post",
                     operation("ETL", "runFullSync", "Run a full sync",
                               "Copies every master-data table from Bsale; with from/to also the "
                               "documents of that range (at most ETL_MAX_RANGE_DAYS days).",
                               true, params, trigger_responses()));
}

static json_t *path_daily_sync(void)
{
    json_t *params = json_pack(
        "[o, o, o, o, o]",
        query_param("date", "One business date (cannot be combined with from/to).", date_schema()),
        query_param("from", "Backfill: first business date (needs 'to').", date_schema()),
        query_param("to", "Backfill: last business date (needs 'from').", date_schema()),
        wait_param(), idempotency_param());
    return json_pack(
        "{s:o}", "post",
        operation("ETL", "runDailySync", "Run a daily sync",
                  "Copies the sales documents, their lines and payments. Without "
                  "parameters: today in ETL_TIMEZONE minus ETL_LOOKBACK_DAYS .. today.",
                  true, params, trigger_responses()));
}

static json_t *path_runs(void)
{
    json_t *params =
        json_pack("[o]", query_param("limit", "How many runs, latest first.",
                                     json_pack("{s:s, s:i, s:i, s:i}", "type", "integer", "minimum",
                                               1, "maximum", 500, "default", 50)));
    json_t *ok =
        json_pack("{s:s, s:o}", "description", "Runs, latest first.", "content",
                  media("application/json",
                        json_pack("{s:s, s:o}", "type", "array", "items", ref("RunSummary")),
                        json_pack("[o]", summary_example("succeeded", NULL, NULL))));
    char what[96];
    snprintf(what, sizeof(what), "Run history from the %s table.",
             catalog_by_role(CAT_ROLE_RUNS)->name);
    return json_pack(
        "{s:o}", "get",
        operation("ETL", "listRuns", "List runs", what, true, params,
                  json_pack("{s:o, s:o}", "200", ok, "422",
                            resp_detail("Invalid query parameter; detail names it.",
                                        "invalid query parameter 'limit': expected an integer "
                                        "from 1 to 500"))));
}

static json_t *path_run(void)
{
    json_t *params = json_pack("[{s:s, s:s, s:b, s:s, s:{s:s, s:i}}]", "name", "run_id", "in",
                               "path", "required", 1, "description", "The run's id.", "schema",
                               "type", "integer", "minimum", 1);
    return json_pack(
        "{s:o}", "get",
        operation("ETL", "getRun", "Get one run", "One run's summary.", true, params,
                  json_pack("{s:o, s:o, s:o}", "200",
                            resp("The run's summary.", "RunSummary",
                                 summary_example("succeeded", NULL, NULL)),
                            "404", resp_detail("No such run.", "run 7 not found"), "422",
                            resp_detail("run_id is not a positive integer.",
                                        "invalid path parameter 'run_id': expected a positive "
                                        "integer"))));
}

static json_t *path_status(const char *id)
{
    json_t *params = json_pack(
        "[o, o]",
        query_param("confirm",
                    "daily or full: the confirmation step of a trigger button, a page whose "
                    "form POSTs the trigger with wait=false.",
                    json_pack("{s:s, s:[s,s]}", "type", "string", "enum", "daily", "full")),
        query_param("lang",
                    "es or en; without it the page follows Accept-Language (Spanish by default).",
                    json_pack("{s:s, s:[s,s]}", "type", "string", "enum", "es", "en")));
    return json_pack(
        "{s:o}", "get",
        operation(
            "Monitoring", id, "Status page",
            "A self-contained HTML page (no scripts, no external resources): the current "
            "run, the last success per type, recent runs, open incidents, charts of rows "
            "and duration per run and of daily net sales, and buttons to trigger a sync.",
            true, params,
            json_pack("{s:o, s:o, s:o}", "200",
                      text_response("The page.", "text/html",
                                    "<!DOCTYPE html><html lang=\"es\">...</html>"),
                      "422",
                      resp_detail("Unknown query parameter or value.",
                                  "invalid query: the status page takes confirm=daily|full "
                                  "and lang=es|en"),
                      "503",
                      text_response("The page, saying why the database could not be read.",
                                    "text/html", "<!DOCTYPE html><html lang=\"es\">...</html>"))));
}

static json_t *open_get(const char *tag, const char *id, const char *summary,
                        const char *description, json_t *responses)
{
    return json_pack("{s:o}", "get",
                     operation(tag, id, summary, description, false, NULL, responses));
}

static json_t *paths(void)
{
    json_t *p = json_object();
    json_object_set_new(
        p, "/health",
        open_get("Monitoring", "health", "Liveness",
                 "Always 200 while the process serves; never touches the database.",
                 json_pack("{s:o}", "200",
                           resp("Alive.", "Health", json_pack("{s:s}", "status", "ok")))));
    json_object_set_new(
        p, "/health/ready",
        open_get("Monitoring", "ready", "Readiness",
                 "200 when the database is reachable and its schema current.",
                 json_pack("{s:o, s:o}", "200",
                           resp("Ready.", "Ready", json_pack("{s:s}", "status", "ready")), "503",
                           resp_detail("Not ready; detail says why.", "shutting down"))));
    json_object_set_new(p, "/etl/run-full-sync", path_full_sync());
    json_object_set_new(p, "/etl/run-daily-sync", path_daily_sync());
    json_object_set_new(p, "/etl/runs", path_runs());
    json_object_set_new(p, "/etl/runs/{run_id}", path_run());
    json_object_set_new(
        p, "/metrics",
        json_pack("{s:o}", "get",
                  operation("Monitoring", "metrics", "Prometheus metrics",
                            "Counters and gauges in the Prometheus text format 0.0.4.", true, NULL,
                            json_pack("{s:o}", "200",
                                      text_response("Metrics.", "text/plain; version=0.0.4",
                                                    "# TYPE patitas_etl_sync_running gauge\n"
                                                    "patitas_etl_sync_running 0\n")))));
    json_object_set_new(
        p, "/openapi.json",
        open_get("Documentation", "openapi", "This document", "The OpenAPI 3.1 description.",
                 json_pack("{s:{s:s, s:o}}", "200", "description", "OpenAPI document.", "content",
                           media("application/json", json_pack("{s:s}", "type", "object"),
                                 json_pack("{s:s}", "openapi", "3.1.0")))));
    json_object_set_new(p, "/docs",
                        open_get("Documentation", "docs", "Browsable API documentation",
                                 "A self-contained page that renders /openapi.json.",
                                 json_pack("{s:o}", "200",
                                           text_response("HTML page.", "text/html",
                                                         "<!doctype html><html lang='en'>..."
                                                         "</html>"))));
    json_object_set_new(p, "/", path_status("statusPage"));
    json_object_set_new(p, "/status", path_status("statusPageAlias"));
    return p;
}

static json_t *typed(const char *type)
{
    return json_pack("{s:s}", "type", type);
}

static json_t *nullable(const char *type, const char *description)
{
    return json_pack("{s:[s,s], s:s}", "type", type, "null", "description", description);
}

static json_t *progress_schema(void)
{
    return json_pack("{s:s, s:s, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}}", "type", "object",
                     "description",
                     "While running only: pages done / known so far, rows, requests, retries, "
                     "requests per second, seconds elapsed and estimated left (null: unknown).",
                     "properties", "pages", typed("integer"), "pages_total", typed("integer"),
                     "rows", typed("integer"), "requests", typed("integer"), "retries",
                     typed("integer"), "req_s", typed("number"), "elapsed_s", typed("number"),
                     "eta_s", nullable("number", "Seconds left, estimated from the page rate."));
}

static json_t *summary_schema(void)
{
    json_t *p = json_object();
    json_object_set_new(p, "id", typed("integer"));
    json_object_set_new(p, "type",
                        json_pack("{s:s, s:[s,s]}", "type", "string", "enum", "full", "daily"));
    json_object_set_new(p, "origin",
                        json_pack("{s:s, s:[s,s]}", "type", "string", "enum", "http", "cli"));
    json_object_set_new(
        p, "status",
        json_pack("{s:s, s:[s,s,s]}", "type", "string", "enum", "running", "succeeded", "failed"));
    json_object_set_new(p, "date_from", nullable("string", "First business date covered."));
    json_object_set_new(p, "date_to", nullable("string", "Last business date covered."));
    json_object_set_new(p, "started_at", nullable("string", "UTC start time."));
    json_object_set_new(p, "finished_at", nullable("string", "UTC end time; null while running."));
    json_object_set_new(p, "completed_through",
                        nullable("string", "Last document day committed (by windows)."));
    json_object_set_new(p, "resumed_from",
                        json_pack("{s:s, s:s}", "type", "integer", "description",
                                  "The interrupted run this one resumes, after its last day."));
    json_object_set_new(p, "rows_total", typed("integer"));
    json_object_set_new(p, "rows",
                        json_pack("{s:s, s:s, s:{s:s}}", "type", "object", "description",
                                  "Rows written per table.", "additionalProperties", "type",
                                  "integer"));
    json_object_set_new(p, "documents", typed("integer"));
    json_object_set_new(p, "pages", typed("integer"));
    json_object_set_new(p, "requests", typed("integer"));
    json_object_set_new(p, "retries", typed("integer"));
    json_object_set_new(p, "throttled", typed("integer"));
    json_object_set_new(p, "extra_pages",
                        json_pack("{s:s, s:s}", "type", "integer", "description",
                                  "Page requests past what counts called for: short pages, "
                                  "counts Bsale got wrong."));
    json_object_set_new(p, "seconds", typed("number"));
    json_object_set_new(p, "progress", progress_schema());
    json_object_set_new(p, "peak_rss_mb",
                        json_pack("{s:s, s:s}", "type", "number", "description",
                                  "The process's peak resident memory at the end of the run."));
    char incidents[128], what[96];
    snprintf(incidents, sizeof(incidents),
             "Records of this run stored doubtful or skipped (rows of %s); the run still succeeds.",
             catalog_by_role(CAT_ROLE_INCIDENTS)->name);
    snprintf(what, sizeof(what), "A run as recorded in %s, with per-table row counts.",
             catalog_by_role(CAT_ROLE_RUNS)->name);
    json_object_set_new(p, "incidents",
                        json_pack("{s:s, s:s}", "type", "integer", "description", incidents));
    json_object_set_new(p, "incidents_resolved",
                        json_pack("{s:s, s:s}", "type", "integer", "description",
                                  "Earlier runs' incidents this run resolved."));
    json_object_set_new(p, "error", nullable("string", "Why the run failed; null on success."));
    json_object_set_new(p, "error_code",
                        nullable("string", "The failure's code, e.g. ERR_BSALE or ERR_DB."));
    return json_pack("{s:s, s:s, s:o, s:[s,s,s], s:b}", "type", "object", "description", what,
                     "properties", p, "required", "id", "type", "status", "additionalProperties",
                     1);
}

static json_t *schemas(void)
{
    return json_pack(
        "{s:{s:s, s:{s:{s:s, s:s}}, s:[s]}, s:{s:s, s:{s:{s:s, s:s}}, s:[s]}, "
        "s:{s:s, s:{s:{s:s}}, s:[s]}, s:{s:s, s:{s:{s:s}, s:{s:[s,s]}}, s:[s,s]}, "
        "s:{s:s, s:{s:{s:s}, s:{s:s, s:s}}, s:[s,s]}, s:o, "
        "s:{s:s, s:{s:{s:s}, s:{s:[o, {s:s}]}}, s:[s]}}",
        "Health", "type", "object", "properties", "status", "type", "string", "const", "ok",
        "required", "status", "Ready", "type", "object", "properties", "status", "type", "string",
        "const", "ready", "required", "status", "Detail", "type", "object", "properties", "detail",
        "type", "string", "required", "detail", "Busy", "type", "object", "properties", "detail",
        "type", "string", "run_id", "type", "integer", "null", "required", "detail", "run_id",
        "Accepted", "type", "object", "properties", "run_id", "type", "integer", "status", "type",
        "string", "const", "running", "required", "run_id", "status", "RunSummary",
        summary_schema(), "RunFailure", "type", "object", "properties", "detail", "type", "string",
        "run", "oneOf", ref("RunSummary"), "type", "null", "required", "detail");
}

static json_t *tags(void)
{
    return json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "name", "ETL", "description",
                     "Triggers and run history.", "name", "Monitoring", "description",
                     "Health, readiness, metrics and the status page.", "name", "Documentation",
                     "description", "This description, as JSON and as a page.");
}

json_t *openapi_document(void)
{
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s}], s:[{s:[]}], s:o, s:o, "
        "s:{s:o, s:{s:{s:s, s:s, s:s}}}}",
        "openapi", "3.1.0", "info", "title", "imperio-patitas-etl", "version", PETL_VERSION,
        "description",
        "Copies the store's Bsale data into its SQL warehouse. Triggers wait for the run by "
        "default. When ETL_API_TOKEN is set, /etl/*, /metrics and the status page require "
        "'Authorization: Bearer <token>'. Errors are {\"detail\": \"...\"}.",
        "servers", "url", "/", "description",
        "The service that serves this document (HOST/PORT locally, the service URL on Cloud Run).",
        "security", "bearerAuth", "tags", tags(), "paths", paths(), "components", "schemas",
        schemas(), "securitySchemes", "bearerAuth", "type", "http", "scheme", "bearer",
        "description", "The value of ETL_API_TOKEN.");
    return doc;
}

/* Kept free of double quotes so the C literal stays readable; no external asset is loaded. */
static const char docs_html[] =
    "<!doctype html>\n"
    "<html lang='en'><head><meta charset='utf-8'>\n"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
    "<title>imperio-patitas-etl API</title>\n"
    "<style>\n"
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;"
    "color:#222}\n"
    "h1{font-size:1.6rem}.op{border:1px solid #ccc;border-radius:6px;margin:1rem 0;"
    "padding:.6rem 1rem}\n"
    ".m{display:inline-block;min-width:4.5rem;font-weight:bold;color:#fff;border-radius:4px;"
    "text-align:center;padding:.1rem .4rem;margin-right:.6rem}\n"
    ".get{background:#2f6fb3}.post{background:#2e8b57}code{background:#f3f3f3;padding:0 .2rem}\n"
    "table{border-collapse:collapse;margin:.4rem 0}td,th{border:1px solid #ddd;padding:.2rem "
    ".5rem;text-align:left;vertical-align:top}.lock{color:#a60}\n"
    ".resp td:nth-child(4){white-space:pre-wrap;font:.75rem monospace;max-width:28rem}\n"
    "</style></head><body>\n"
    "<h1 id='title'>API</h1><p id='desc'></p><div id='ops'>Loading /openapi.json ...</div>\n"
    "<script>\n"
    "function el(tag, cls, text){var e=document.createElement(tag);if(cls)e.className=cls;"
    "if(text!==undefined)e.textContent=text;return e;}\n"
    "function schemaText(s){if(!s)return '';if(s.$ref)return s.$ref.split('/').pop();"
    "if(s.type===undefined&&s.oneOf)return s.oneOf.map(schemaText).join(' | ');"
    "var t=[].concat(s.type).join(' | ');if(s.format)t+=' ('+s.format+')';"
    "if(s.minimum!==undefined)t+=' >= '+s.minimum;if(s.maximum!==undefined)t+=' <= '+s.maximum;"
    "if(s.default!==undefined)t+=', default '+s.default;return t;}\n"
    "function table(head, rows, cls){var t=el('table',cls);var h=el('tr');head.forEach(function(c){"
    "h.appendChild(el('th',null,c));});t.appendChild(h);rows.forEach(function(r){"
    "var tr=el('tr');r.forEach(function(c){tr.appendChild(el('td',null,c));});"
    "t.appendChild(tr);});return t;}\n"
    "function render(doc){document.getElementById('title').textContent=doc.info.title+' '+"
    "doc.info.version;document.getElementById('desc').textContent=doc.info.description;"
    "var ops=document.getElementById('ops');ops.textContent='';"
    "Object.keys(doc.paths).forEach(function(path){var item=doc.paths[path];"
    "Object.keys(item).forEach(function(method){var op=item[method];var d=el('div','op');"
    "var h=el('h3');h.appendChild(el('span','m '+method,method.toUpperCase()));"
    "h.appendChild(el('code',null,path));h.appendChild(document.createTextNode(' '+op.summary));"
    "var sec=op.security||doc.security||[];if(sec.some(function(s){return Object.keys(s).length;"
    "}))h.appendChild(el('span','lock',' (bearer token)'));d.appendChild(h);"
    "d.appendChild(el('p',null,op.description||''));"
    "if(op.parameters){d.appendChild(el('strong',null,'Parameters'));"
    "d.appendChild(table(['name','in','type','description'],op.parameters.map(function(p){"
    "return [p.name,p.in,schemaText(p.schema),p.description||''];})));}"
    "d.appendChild(el('strong',null,'Responses'));"
    "d.appendChild(table(['status','description','body','example'],Object.keys(op.responses)"
    ".map(function(code){var r=op.responses[code];var body='',ex='';if(r.content){"
    "var ct=Object.keys(r.content)[0];var m=r.content[ct];body=ct+' '+schemaText(m.schema);"
    "if(m.example!==undefined)ex=typeof m.example==='string'?m.example:"
    "JSON.stringify(m.example,null,1);}"
    "return [code,r.description,body,ex];}),'resp'));ops.appendChild(d);});});"
    "var sch=doc.components.schemas;ops.appendChild(el('h2',null,'Schemas'));"
    "Object.keys(sch).forEach(function(name){var s=sch[name];var d=el('div','op');"
    "d.appendChild(el('h3',null,name));var props=s.properties||{};"
    "d.appendChild(table(['field','type'],Object.keys(props).map(function(k){"
    "return [k,schemaText(props[k])];})));ops.appendChild(d);});}\n"
    "fetch('openapi.json').then(function(r){if(!r.ok)throw new Error('HTTP '+r.status);"
    "return r.json();}).then(render).catch(function(err){"
    "document.getElementById('ops').textContent='Cannot load /openapi.json: '+err.message;});\n"
    "</script></body></html>\n";

const char *openapi_docs_html(void)
{
    return docs_html;
}

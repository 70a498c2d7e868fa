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

static json_t *json_content(json_t *schema)
{
    return json_pack("{s:{s:o}}", "application/json", "schema", schema);
}

/* A response whose body is the named schema (NULL: no body). */
static json_t *resp(const char *description, const char *schema)
{
    json_t *r = json_pack("{s:s}", "description", description);
    if (schema)
        json_object_set_new(r, "content", json_content(ref(schema)));
    return r;
}

static json_t *query_param(const char *name, const char *description, json_t *schema)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "in", "query", "required", 0,
                     "description", description, "schema", schema);
}

static json_t *date_schema(void)
{
    return json_pack("{s:s, s:s, s:s}", "type", "string", "format", "date", "pattern",
                     "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
}

static json_t *wait_param(void)
{
    return query_param("wait",
                       "true (default): answer when the run has finished, with its summary. "
                       "false: answer 202 at once with the run id.",
                       json_pack("{s:s, s:b}", "type", "boolean", "default", 1));
}

static json_t *operation(const char *tag, const char *summary, const char *description,
                         bool secured, json_t *params, json_t *responses)
{
    json_t *op = json_pack("{s:[s], s:s, s:s, s:o}", "tags", tag, "summary", summary, "description",
                           description, "responses", responses);
    if (params)
        json_object_set_new(op, "parameters", params);
    if (secured) {
        json_object_set_new(op, "security", json_pack("[{s:[]}]", "bearerAuth"));
        json_object_set_new(
            json_object_get(op, "responses"), "401",
            resp("Missing or wrong bearer token (only when ETL_API_TOKEN is set).", "Detail"));
    }
    return op;
}

static json_t *trigger_responses(void)
{
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:o}", "200",
        resp("The run finished successfully; its summary.", "RunSummary"), "202",
        json_pack("{s:s, s:{s:{s:s}}, s:o}", "description",
                  "Started (wait=false); poll the Location header.", "headers", "Location",
                  "description", "/etl/runs/{run_id} of the new run", "content",
                  json_content(ref("Accepted"))),
        "409", resp("Another sync is running (in this or another process).", "Busy"), "422",
        resp("Invalid query parameter; detail names it.", "Detail"), "502",
        resp("The run failed on the Bsale side (API error, auth, network).", "RunFailure"), "503",
        resp("The run failed on the database side, was interrupted, or the service is "
             "shutting down.",
             "RunFailure"));
}

static json_t *path_full_sync(void)
{
    json_t *params = json_pack(
        "[o, o, o]",
        query_param("from", "First business date of documents to copy as well (needs 'to').",
                    date_schema()),
        query_param("to", "Last business date of documents to copy (needs 'from').", date_schema()),
        wait_param());
    return json_pack("{s:o}", "post",
                     operation("ETL", "Run a full sync",
                               "Copies every master-data table from Bsale; with from/to also the "
                               "documents of that range (at most ETL_MAX_RANGE_DAYS days).",
                               true, params, trigger_responses()));
}

static json_t *path_daily_sync(void)
{
    json_t *params = json_pack(
        "[o, o, o, o]",
        query_param("date", "One business date (cannot be combined with from/to).", date_schema()),
        query_param("from", "Backfill: first business date (needs 'to').", date_schema()),
        query_param("to", "Backfill: last business date (needs 'from').", date_schema()),
        wait_param());
    return json_pack(
        "{s:o}", "post",
        operation("ETL", "Run a daily sync",
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
    json_t *ok = json_pack(
        "{s:s, s:o}", "description", "Runs, latest first.", "content",
        json_content(json_pack("{s:s, s:o}", "type", "array", "items", ref("RunSummary"))));
    char what[96];
    snprintf(what, sizeof(what), "Run history from the %s table.",
             catalog_by_role(CAT_ROLE_RUNS)->name);
    return json_pack(
        "{s:o}", "get",
        operation("ETL", "List runs", what, true, params,
                  json_pack("{s:o, s:o}", "200", ok, "422",
                            resp("Invalid query parameter; detail names it.", "Detail"))));
}

static json_t *path_run(void)
{
    json_t *params = json_pack("[{s:s, s:s, s:b, s:s, s:{s:s, s:i}}]", "name", "run_id", "in",
                               "path", "required", 1, "description", "The run's id.", "schema",
                               "type", "integer", "minimum", 1);
    return json_pack(
        "{s:o}", "get",
        operation("ETL", "Get one run", "One run's summary.", true, params,
                  json_pack("{s:o, s:o, s:o}", "200", resp("The run's summary.", "RunSummary"),
                            "404", resp("No such run.", "Detail"), "422",
                            resp("run_id is not a positive integer.", "Detail"))));
}

static json_t *text_response(const char *description, const char *type)
{
    return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", description, "content", type,
                     "schema", "type", "string");
}

static json_t *paths(void)
{
    json_t *p = json_object();
    json_object_set_new(
        p, "/health",
        json_pack("{s:o}", "get",
                  operation("Monitoring", "Liveness",
                            "Always 200 while the process serves; never touches the database.",
                            false, NULL, json_pack("{s:o}", "200", resp("Alive.", "Health")))));
    json_object_set_new(
        p, "/health/ready",
        json_pack("{s:o}", "get",
                  operation("Monitoring", "Readiness",
                            "200 when the database is reachable and its schema current.", false,
                            NULL,
                            json_pack("{s:o, s:o}", "200", resp("Ready.", "Ready"), "503",
                                      resp("Not ready; detail says why.", "Detail")))));
    json_object_set_new(p, "/etl/run-full-sync", path_full_sync());
    json_object_set_new(p, "/etl/run-daily-sync", path_daily_sync());
    json_object_set_new(p, "/etl/runs", path_runs());
    json_object_set_new(p, "/etl/runs/{run_id}", path_run());
    json_object_set_new(
        p, "/metrics",
        json_pack("{s:o}", "get",
                  operation("Monitoring", "Prometheus metrics",
                            "Counters and gauges in the Prometheus text format 0.0.4.", true, NULL,
                            json_pack("{s:o}", "200",
                                      text_response("Metrics.", "text/plain; version=0.0.4")))));
    json_object_set_new(
        p, "/openapi.json",
        json_pack("{s:o}", "get",
                  operation("Documentation", "This document", "The OpenAPI 3.1 description.", false,
                            NULL,
                            json_pack("{s:{s:s, s:{s:{s:{s:s}}}}}", "200", "description",
                                      "OpenAPI document.", "content", "application/json", "schema",
                                      "type", "object"))));
    json_object_set_new(
        p, "/docs",
        json_pack("{s:o}", "get",
                  operation("Documentation", "Browsable API documentation",
                            "A self-contained page that renders /openapi.json.", false, NULL,
                            json_pack("{s:o}", "200", text_response("HTML page.", "text/html")))));
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

json_t *openapi_document(void)
{
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:o, s:{s:{s:s, s:s, s:s}}}}", "openapi", "3.1.0", "info",
        "title", "imperio-patitas-etl", "version", PETL_VERSION, "description",
        "Copies the store's Bsale data into its SQL warehouse. Triggers wait for the run by "
        "default. When ETL_API_TOKEN is set, /etl/* and /metrics require "
        "'Authorization: Bearer <token>'. Errors are {\"detail\": \"...\"}.",
        "paths", paths(), "components", "schemas", schemas(), "securitySchemes", "bearerAuth",
        "type", "http", "scheme", "bearer", "description", "The value of ETL_API_TOKEN.");
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
    "function table(head, rows){var t=el('table');var h=el('tr');head.forEach(function(c){"
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
    "if(op.security)h.appendChild(el('span','lock',' (bearer token)'));d.appendChild(h);"
    "d.appendChild(el('p',null,op.description||''));"
    "if(op.parameters){d.appendChild(el('strong',null,'Parameters'));"
    "d.appendChild(table(['name','in','type','description'],op.parameters.map(function(p){"
    "return [p.name,p.in,schemaText(p.schema),p.description||''];})));}"
    "d.appendChild(el('strong',null,'Responses'));"
    "d.appendChild(table(['status','description','body'],Object.keys(op.responses).map("
    "function(code){var r=op.responses[code];var body='';if(r.content){var ct=Object.keys("
    "r.content)[0];body=ct+' '+schemaText(r.content[ct].schema);}"
    "return [code,r.description,body];})));ops.appendChild(d);});});"
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

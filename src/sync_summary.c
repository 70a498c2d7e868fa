/*
 * The one JSON shape of a run, for the CLI, the HTTP API and the history: the
 * etl_ejecuciones record plus the detail JSON a run stores when it ends.
 */
#include "common.h"

#include "bsale_client.h"
#include "catalog.h"
#include "etl_plan.h"
#include "sync_summary.h"

#include <sys/resource.h>

static json_t *date_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *sync_summary_of_run(const struct db_run *rec)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(rec->id));
    json_object_set_new(o, "type", json_string(rec->tipo));
    json_object_set_new(o, "origin", json_string(rec->origen));
    json_object_set_new(o, "status", json_string(rec->estado));
    json_object_set_new(o, "date_from", date_or_null(rec->fecha_desde));
    json_object_set_new(o, "date_to", date_or_null(rec->fecha_hasta));
    json_object_set_new(o, "started_at", date_or_null(rec->inicio));
    json_object_set_new(o, "finished_at", date_or_null(rec->fin));
    json_object_set_new(o, "rows_total", json_integer(rec->registros));
    json_object_set_new(o, "requests", json_integer(rec->solicitudes));
    json_object_set_new(o, "retries", json_integer(rec->reintentos));
    json_object_set_new(o, "error", date_or_null(rec->error));
    json_object_set_new(o, "completed_through", date_or_null(rec->completado_hasta));
    if (rec->reanuda)
        json_object_set_new(o, "resumed_from", json_integer(rec->reanuda));
    json_t *extra = rec->detalle ? json_loads(rec->detalle, 0, NULL) : NULL;
    if (json_is_object(extra))
        json_object_update(o, extra);
    json_decref(extra);
    return o;
}

/* The reconcile's cost and findings (docs/reliability.md, Late changes converge). */
static json_t *reconcile_detail(const struct etl_plan_stats *ps)
{
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I}", "requests", (json_int_t)ps->reconcile_requests, "pages",
        (json_int_t)ps->reconcile_pages, "listed", (json_int_t)ps->reconcile_listed, "changed",
        (json_int_t)ps->reconcile_changed, "missing", (json_int_t)ps->reconcile_missing, "unlisted",
        (json_int_t)ps->reconcile_unlisted);
}

/* How payments were read (docs/reliability.md, Payments exactly once). */
static json_t *payments_detail(const struct etl_plan_stats *ps)
{
    return json_pack("{s:I, s:I, s:b, s:I, s:I}", "tail_requests",
                     (json_int_t)ps->payments_tail_requests, "whole_list_requests",
                     (json_int_t)ps->payments_whole_requests, "fallback", ps->payments_fallback,
                     "through_id", (json_int_t)ps->payments_through_id, "through_count",
                     (json_int_t)ps->payments_through_count);
}

/* Receptions, consumptions, returns and documents' taxes and sellers (docs/reliability.md). */
static json_t *extras_detail(const struct etl_plan_stats *ps)
{
    return json_pack("{s:I, s:I, s:I}", "movement_requests", (json_int_t)ps->moves_requests,
                     "extras_requests", (json_int_t)ps->extras_requests, "extras_unread_documents",
                     (json_int_t)ps->extras_unread);
}

char *sync_summary_detail(const struct etl_counters *c, const struct bsale_stats *st,
                          const struct etl_plan_stats *ps, double secs, enum err_code rc)
{
    size_t n;
    const struct cat_table *const *tables = catalog_tables(&n);
    json_t *rows = json_object();
    for (size_t i = 0; i < n && i < ETL_MAX_TABLES; i++)
        json_object_set_new(rows, tables[i]->name, json_integer(c->rows_by_table[i]));
    json_t *o = json_object();
    json_object_set_new(o, "rows", rows);
    json_object_set_new(o, "documents", json_integer(c->docs));
    /* A run with incidents still succeeds; these records are doubtful (etl_incidencias). */
    json_object_set_new(o, "incidents", json_integer(c->incidents));
    json_object_set_new(o, "incidents_resolved", json_integer(c->incidents_resolved));
    json_object_set_new(o, "pages", json_integer(st->pages));
    json_object_set_new(o, "throttled", json_integer(st->throttled));
    /* Requests past what counts called for: short pages, counts Bsale got wrong. */
    json_object_set_new(o, "extra_pages", json_integer(st->extra_pages));
    json_object_set_new(o, "reconcile", reconcile_detail(ps));
    json_object_set_new(o, "payments", payments_detail(ps));
    json_object_set_new(o, "movements", extras_detail(ps));
    json_object_set_new(o, "seconds", json_real((double)(long long)(secs * 1000) / 1000.0));
    json_object_set_new(o, "error_code", rc ? json_string(err_str(rc)) : json_null());
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) /* the process's peak, so memory growth shows */
        json_object_set_new(o, "peak_rss_mb", json_integer(ru.ru_maxrss / 1024));
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(o);
    return s;
}

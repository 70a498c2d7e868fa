/*
 * The status page's HTML: sections, tables, the two trigger forms and the SVG
 * charts. No script and no external resource, so it renders offline and with
 * JavaScript off; every value that came from the database is escaped.
 */
#include "common.h"

#include "clock.h"
#include "http_status_page.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum msg {
    M_TITLE,
    M_NOW,
    M_CURRENT,
    M_NONE_RUNNING,
    M_RUN,
    M_TYPE,
    M_DATES,
    M_STARTED,
    M_ELAPSED,
    M_ROWS,
    M_REQUESTS,
    M_RETRIES,
    M_LAST_SUCCESS,
    M_NEVER,

    M_RECENT,
    M_OUTCOME,
    M_DURATION,
    M_REASON,
    M_NO_RUNS,
    M_INCIDENTS,

    M_RESOURCE,
    M_RECORD,
    M_PROBLEM,
    M_CREATED,
    M_ACTIONS,
    M_DAILY,
    M_FULL,
    M_CONFIRM_Q_DAILY,
    M_CONFIRM_Q_FULL,
    M_CONFIRM_YES,
    M_CANCEL,
    M_DB_ERROR,
    M_WHEN,
    M_ACTIONS_NOTE,
    M_RUNNING,
    M_SUCCEEDED,
    M_FAILED,
    M_ALL_DATES,
    M_COUNT
};

static const char *const texts[M_COUNT][2] = {
    [M_TITLE] = {"Estado del ETL Imperio Patitas", "Imperio Patitas ETL status"},
    [M_NOW] = {"Generada", "Generated"},
    [M_CURRENT] = {"Sincronización en curso", "Current run"},
    [M_NONE_RUNNING] = {"No hay ninguna sincronización en curso.", "No sync is running."},
    [M_RUN] = {"Ejecución", "Run"},
    [M_TYPE] = {"Tipo", "Type"},
    [M_DATES] = {"Fechas", "Dates"},
    [M_STARTED] = {"Inicio", "Started"},
    [M_ELAPSED] = {"Transcurrido", "Elapsed"},
    [M_ROWS] = {"Filas", "Rows"},
    [M_REQUESTS] = {"Solicitudes", "Requests"},
    [M_RETRIES] = {"Reintentos", "Retries"},
    [M_LAST_SUCCESS] = {"Último éxito por tipo", "Last success per type"},
    [M_NEVER] = {"nunca", "never"},
    [M_RECENT] = {"Ejecuciones recientes", "Recent runs"},
    [M_OUTCOME] = {"Resultado", "Outcome"},
    [M_DURATION] = {"Duración", "Duration"},
    [M_REASON] = {"Motivo del error", "Error reason"},
    [M_NO_RUNS] = {"Aún no hay ejecuciones.", "No runs yet."},
    [M_INCIDENTS] = {"Incidencias abiertas", "Open incidents"},
    [M_RESOURCE] = {"Recurso", "Resource"},
    [M_RECORD] = {"Registro", "Record"},
    [M_PROBLEM] = {"Problema", "Problem"},
    [M_CREATED] = {"Creada", "Created"},
    [M_ACTIONS] = {"Acciones", "Actions"},
    [M_DAILY] = {"Sincronización diaria", "Daily sync"},
    [M_FULL] = {"Sincronización completa", "Full sync"},
    [M_CONFIRM_Q_DAILY] = {"¿Iniciar ahora una sincronización diaria?", "Start a daily sync now?"},
    [M_CONFIRM_Q_FULL] = {"¿Iniciar ahora una sincronización completa?", "Start a full sync now?"},
    [M_CONFIRM_YES] = {"Sí, iniciar", "Yes, start it"},
    [M_CANCEL] = {"Cancelar", "Cancel"},
    [M_DB_ERROR] = {"No se pudo leer la base de datos", "The database could not be read"},
    [M_WHEN] = {"Fin", "Ended"},
    [M_ACTIONS_NOTE] = {"Cada botón pide confirmación antes de iniciar la ejecución.",
                        "Each button asks for confirmation before the run starts."},
    [M_RUNNING] = {"en curso", "running"},
    [M_SUCCEEDED] = {"correcta", "succeeded"},
    [M_FAILED] = {"fallida", "failed"},
    [M_ALL_DATES] = {"por defecto", "default"},
};

#define T(m) texts[m][lang]

static const char page_css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2430;"
    "background:#f4f6f9}header{background:#23395d;color:#fff;padding:14px 24px}"
    "header h1{margin:0;font-size:21px}header p{margin:4px 0 0;opacity:.85;font-size:13px}"
    "header a{color:#fff}main{max-width:1100px;margin:0 auto;padding:12px 24px 40px}"
    "section{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:12px 16px;"
    "margin:14px 0}h2{font-size:17px;margin:2px 0 10px}table{border-collapse:collapse;"
    "width:100%;font-size:13.5px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid"
    " #eef1f5;vertical-align:top}th{color:#56627a;font-weight:600}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}.st{padding:1px 7px;border-radius:9px;font-size:12px}"
    ".st-succeeded{background:#dff3e4;color:#1d6b34}.st-failed{background:#fbe1e1;"
    "color:#9b1c1c}.st-running{background:#e3ecfb;color:#1d4f9b}.err{color:#9b1c1c}"
    ".banner{background:#fbe1e1;border-color:#f0b4b4}.grid{display:grid;grid-template-columns:"
    "repeat(auto-fit,minmax(150px,1fr));gap:8px}.kv b{display:block;font-size:12px;color:#56627a;"
    "font-weight:600}form{display:inline-block;margin:4px 8px 4px 0}button{font:inherit;"
    "padding:6px 14px;border-radius:6px;border:1px solid #23395d;background:#23395d;color:#fff;"
    "cursor:pointer}a.btn{margin-left:8px}svg{width:100%;height:auto;max-height:260px}"
    ".muted{color:#56627a;font-size:13px}";

/* Appends s with &, <, >, " and ' escaped. */
static void html_text(struct buf *b, const char *s)
{
    struct err e = ERR_INIT;
    for (const char *p = s ? s : ""; *p; p++) {
        size_t plain = strcspn(p, "&<>\"'");
        buf_append(b, p, plain, &e);
        p += plain;
        if (!*p)
            break;
        const char *rep = *p == '&'   ? "&amp;"
                          : *p == '<' ? "&lt;"
                          : *p == '>' ? "&gt;"
                          : *p == '"' ? "&quot;"
                                      : "&#39;";
        buf_append_str(b, rep, &e);
    }
}

/* Integers grouped by thousands: 1.234.567 (es) or 1,234,567 (en). */
static void fmt_int(long long v, enum status_lang lang, char *dst, size_t n)
{
    char digits[32];
    snprintf(digits, sizeof(digits), "%lld", v < 0 ? -v : v);
    size_t len = strlen(digits), k = 0;
    if (v < 0 && k + 1 < n)
        dst[k++] = '-';
    for (size_t i = 0; i < len && k + 2 < n; i++) {
        if (i && (len - i) % 3 == 0)
            dst[k++] = lang == STATUS_EN ? ',' : '.';
        dst[k++] = digits[i];
    }
    dst[k] = '\0';
}

/* "2 h 05 min", "3 min 04 s", "12 s". */
static void fmt_duration(long long secs, char *dst, size_t n)
{
    if (secs < 0)
        secs = 0;
    if (secs >= 86400)
        snprintf(dst, n, "%lld d %lld h", secs / 86400, secs % 86400 / 3600);
    else if (secs >= 3600)
        snprintf(dst, n, "%lld h %02lld min", secs / 3600, secs % 3600 / 60);
    else if (secs >= 60)
        snprintf(dst, n, "%lld min %02lld s", secs / 60, secs % 60);
    else
        snprintf(dst, n, "%lld s", secs);
}

/* A stored "YYYY-MM-DD HH:MM:SS" UTC timestamp as Unix time; -1 when it is not one. */
static long long stamp_unix(const char *s)
{
    struct tm tm = {0};
    if (!s || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

long long status_run_seconds(const struct db_run *r, time_t now)
{
    long long start = stamp_unix(r->inicio);
    long long end = r->fin[0] ? stamp_unix(r->fin) : (long long)now;
    return start < 0 || end < 0 ? -1 : end - start;
}

static const char *outcome_text(const char *estado, enum status_lang lang)
{
    if (strcmp(estado, "running") == 0)
        return T(M_RUNNING);
    if (strcmp(estado, "succeeded") == 0)
        return T(M_SUCCEEDED);
    if (strcmp(estado, "failed") == 0)
        return T(M_FAILED);
    return estado;
}

static void run_dates(struct buf *b, const struct db_run *r, enum status_lang lang)
{
    struct err e = ERR_INIT;
    if (!r->fecha_desde[0]) {
        html_text(b, T(M_ALL_DATES));
        return;
    }
    html_text(b, r->fecha_desde);
    if (strcmp(r->fecha_desde, r->fecha_hasta) != 0) {
        buf_append_str(b, " – ", &e);
        html_text(b, r->fecha_hasta);
    }
}

static void kv(struct buf *b, const char *key, const char *value)
{
    struct err e = ERR_INIT;
    buf_append_str(b, "<div class=\"kv\"><b>", &e);
    html_text(b, key);
    buf_append_str(b, "</b>", &e);
    html_text(b, value);
    buf_append_str(b, "</div>", &e);
}

static void section_current(struct buf *b, const struct status_data *d, enum status_lang lang)
{
    struct err e = ERR_INIT;
    buf_appendf(b, &e, "<section id=\"current\"><h2>%s</h2>", T(M_CURRENT));
    bool any = false;
    for (size_t i = 0; i < d->n_runs; i++) {
        const struct db_run *r = &d->runs[i];
        if (strcmp(r->estado, "running") != 0)
            continue;
        char id[24], elapsed[32], rows[32], reqs[32];
        snprintf(id, sizeof(id), "%lld", r->id);
        fmt_duration(status_run_seconds(r, d->now), elapsed, sizeof(elapsed));
        fmt_int(r->registros, lang, rows, sizeof(rows));
        fmt_int(r->solicitudes, lang, reqs, sizeof(reqs));
        buf_appendf(b, &e, "<div class=\"grid\" data-running-run=\"%lld\">", r->id);
        kv(b, T(M_RUN), id);
        kv(b, T(M_TYPE), r->tipo);
        buf_appendf(b, &e, "<div class=\"kv\"><b>%s</b>", T(M_DATES));
        run_dates(b, r, lang);
        buf_append_str(b, "</div>", &e);
        kv(b, T(M_STARTED), r->inicio);
        kv(b, T(M_ELAPSED), elapsed);
        kv(b, T(M_ROWS), rows);
        kv(b, T(M_REQUESTS), reqs);
        buf_append_str(b, "</div>", &e);
        any = true;
    }
    if (!any)
        buf_appendf(b, &e, "<p class=\"muted\">%s</p>", T(M_NONE_RUNNING));
    buf_append_str(b, "</section>", &e);
}

static void last_success_row(struct buf *b, const char *tipo, const struct status_last *l,
                             time_t now, enum status_lang lang)
{
    struct err e = ERR_INIT;
    buf_append_str(b, "<tr data-type=\"", &e);
    html_text(b, tipo);
    buf_append_str(b, "\"><td>", &e);
    html_text(b, tipo);
    buf_append_str(b, "</td><td>", &e);
    html_text(b, l ? l->fin : T(M_NEVER));
    buf_append_str(b, "</td><td>", &e);
    long long t = l ? stamp_unix(l->fin) : -1;
    if (t >= 0) {
        char ago[32], text[64];
        fmt_duration((long long)now - t, ago, sizeof(ago));
        snprintf(text, sizeof(text), lang == STATUS_EN ? "%s ago" : "hace %s", ago);
        html_text(b, text);
    }
    buf_append_str(b, "</td></tr>", &e);
}

/* daily and full always (possibly "never"), then any other type that has succeeded. */
static void section_last_success(struct buf *b, const struct status_data *d, enum status_lang lang)
{
    struct err e = ERR_INIT;
    static const char *const kinds[] = {"daily", "full"};
    buf_appendf(b, &e,
                "<section id=\"last-success\"><h2>%s</h2><table><tr><th>%s</th><th>%s</th>"
                "<th></th></tr>",
                T(M_LAST_SUCCESS), T(M_TYPE), T(M_WHEN));
    for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
        const struct status_last *l = NULL;
        for (size_t i = 0; i < d->n_last; i++)
            if (strcmp(d->last[i].tipo, kinds[k]) == 0)
                l = &d->last[i];
        last_success_row(b, kinds[k], l, d->now, lang);
    }
    for (size_t i = 0; i < d->n_last; i++)
        if (strcmp(d->last[i].tipo, "daily") != 0 && strcmp(d->last[i].tipo, "full") != 0)
            last_success_row(b, d->last[i].tipo, &d->last[i], d->now, lang);
    buf_append_str(b, "</table></section>", &e);
}

static void run_row(struct buf *b, const struct db_run *r, time_t now, enum status_lang lang)
{
    struct err e = ERR_INIT;
    char rows[32], reqs[32], retries[32], dur[32] = "";
    fmt_int(r->registros, lang, rows, sizeof(rows));
    fmt_int(r->solicitudes, lang, reqs, sizeof(reqs));
    fmt_int(r->reintentos, lang, retries, sizeof(retries));
    long long secs = status_run_seconds(r, now);
    if (secs >= 0)
        fmt_duration(secs, dur, sizeof(dur));
    buf_appendf(b, &e, "<tr data-run=\"%lld\"><td class=\"n\">%lld</td><td>", r->id, r->id);
    html_text(b, r->tipo);
    buf_append_str(b, "</td><td>", &e);
    run_dates(b, r, lang);
    buf_append_str(b, "</td><td><span class=\"st st-", &e);
    html_text(b, r->estado);
    buf_append_str(b, "\">", &e);
    html_text(b, outcome_text(r->estado, lang));
    buf_appendf(b, &e,
                "</span></td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"err\">",
                rows, reqs, retries, dur);
    html_text(b, r->error);
    buf_append_str(b, "</td></tr>", &e);
}

static void section_runs(struct buf *b, const struct status_data *d, enum status_lang lang)
{
    struct err e = ERR_INIT;
    buf_appendf(b, &e, "<section id=\"runs\"><h2>%s</h2>", T(M_RECENT));
    if (!d->n_runs) {
        buf_appendf(b, &e, "<p class=\"muted\">%s</p></section>", T(M_NO_RUNS));
        return;
    }
    buf_appendf(b, &e,
                "<table><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
                T(M_RUN), T(M_TYPE), T(M_DATES), T(M_OUTCOME), T(M_ROWS), T(M_REQUESTS),
                T(M_RETRIES), T(M_DURATION), T(M_REASON));
    for (size_t i = 0; i < d->n_runs; i++)
        run_row(b, &d->runs[i], d->now, lang);
    buf_append_str(b, "</table></section>", &e);
}

static void section_incidents(struct buf *b, const struct status_data *d, enum status_lang lang)
{
    struct err e = ERR_INIT;
    char count[32], note[128];
    fmt_int(d->open_incidents, lang, count, sizeof(count));
    snprintf(note, sizeof(note),
             lang == STATUS_EN ? "open; the latest %zu are shown."
                               : "abiertas; se muestran las %zu más recientes.",
             d->n_incidents);
    buf_appendf(b, &e,
                "<section id=\"incidents\"><h2>%s</h2><p><b data-open-incidents=\"%lld\">"
                "%s</b> %s</p>",
                T(M_INCIDENTS), d->open_incidents, count, note);
    if (!d->n_incidents) {
        buf_append_str(b, "</section>", &e);
        return;
    }
    buf_appendf(b, &e,
                "<table><tr><th>#</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
                "<th>%s</th></tr>",
                T(M_RUN), T(M_RESOURCE), T(M_RECORD), T(M_PROBLEM), T(M_CREATED));
    for (size_t i = 0; i < d->n_incidents; i++) {
        const struct status_incident *in = &d->incidents[i];
        const char *cells[] = {in->id,         in->run_id,   in->recurso,
                               in->id_recurso, in->problema, in->creado_en};
        buf_append_str(b, "<tr>", &e);
        for (size_t k = 0; k < ARRAY_LEN(cells); k++) {
            buf_append_str(b, "<td>", &e);
            html_text(b, cells[k]);
            buf_append_str(b, "</td>", &e);
        }
        buf_append_str(b, "</tr>", &e);
    }
    buf_append_str(b, "</table></section>", &e);
}

static void trigger_button(struct buf *b, const char *kind, const char *label)
{
    struct err e = ERR_INIT;
    buf_appendf(b, &e,
                "<form method=\"get\" action=\"/status\"><input type=\"hidden\" "
                "name=\"confirm\" value=\"%s\"><button type=\"submit\" data-trigger=\"%s\">%s"
                "…</button></form>",
                kind, kind, label);
}

static void section_actions(struct buf *b, enum status_lang lang)
{
    struct err e = ERR_INIT;
    buf_appendf(b, &e, "<section id=\"actions\"><h2>%s</h2>", T(M_ACTIONS));
    trigger_button(b, "daily", T(M_DAILY));
    trigger_button(b, "full", T(M_FULL));
    buf_appendf(b, &e, "<p class=\"muted\">%s</p></section>", T(M_ACTIONS_NOTE));
}

static void page_head(struct buf *b, enum status_lang lang, const char *title)
{
    struct err e = ERR_INIT;
    buf_appendf(
        b, &e,
        "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<link rel=\"icon\" href=\"data:,\"><title>%s</title><style>%s</style></head><body>",
        lang == STATUS_EN ? "en" : "es", title, page_css);
}

void status_page_render(const struct status_data *d, enum status_lang lang, struct buf *out)
{
    struct err e = ERR_INIT;
    char now[24] = "";
    utc_format(d->now, "%Y-%m-%d %H:%M:%S", now, sizeof(now));
    page_head(out, lang, T(M_TITLE));
    buf_appendf(out, &e,
                "<header><h1>%s</h1><p>%s %s UTC · <a href=\"/status?lang=%s\">%s</a>"
                "</p></header><main>",
                T(M_TITLE), T(M_NOW), now, lang == STATUS_EN ? "es" : "en",
                lang == STATUS_EN ? "Español" : "English");
    if (d->error[0]) {
        buf_appendf(out, &e, "<section class=\"banner\" id=\"db-error\"><b>%s:</b> ",
                    T(M_DB_ERROR));
        html_text(out, d->error);
        buf_append_str(out, "</section>", &e);
    }
    section_current(out, d, lang);
    section_last_success(out, d, lang);
    section_actions(out, lang);
    status_chart_runs(out, d, lang);
    status_chart_sales(out, d, lang);
    section_runs(out, d, lang);
    section_incidents(out, d, lang);
    buf_append_str(out, "</main></body></html>\n", &e);
}

void status_confirm_render(enum etl_kind kind, enum status_lang lang, struct buf *out)
{
    struct err e = ERR_INIT;
    bool daily = kind == ETL_DAILY;
    page_head(out, lang, T(daily ? M_DAILY : M_FULL));
    buf_appendf(out, &e,
                "<header><h1>%s</h1></header><main><section id=\"confirm\"><h2>%s</h2>"
                "<form method=\"post\" action=\"/etl/run-%s-sync?wait=false\">"
                "<button type=\"submit\" data-confirm=\"%s\">%s</button></form>"
                "<a class=\"btn\" href=\"/status\">%s</a></section></main></body></html>\n",
                T(M_TITLE), T(daily ? M_CONFIRM_Q_DAILY : M_CONFIRM_Q_FULL),
                daily ? "daily" : "full", daily ? "daily" : "full", T(M_CONFIRM_YES), T(M_CANCEL));
}

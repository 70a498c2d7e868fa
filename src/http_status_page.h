/*
 * The status page (GET / and /status): one self-contained HTML page, no
 * scripts, no external resources, charts as server-rendered SVG, in Spanish
 * or English. Loading reads the database (any instance's runs); rendering is
 * pure, so tests can feed it data.
 */
#ifndef PETL_HTTP_STATUS_PAGE_H
#define PETL_HTTP_STATUS_PAGE_H

#include "common.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "sync_request.h"

#include <time.h>

#define STATUS_RUNS_MAX 30      /* runs listed and charted */
#define STATUS_INCIDENTS_MAX 20 /* open incidents listed */
#define STATUS_DAYS 30          /* days of sales charted, today included */

enum status_lang { STATUS_ES = 0, STATUS_EN = 1 };

struct status_last {
    char tipo[16];
    char fin[20];
};

struct status_incident {
    char id[24], run_id[24], id_recurso[24], creado_en[20];
    char recurso[DB_INCIDENT_RESOURCE_MAX + 1];
    char problema[DB_INCIDENT_PROBLEM_MAX + 1];
};

struct status_day {
    char date[11];
    long long docs;
    double net; /* sales minus credit notes, voided documents out */
};

struct status_data {
    time_t now;
    char error[ERR_MSG_MAX]; /* why the database could not be read; "" when it was */
    struct db_run *runs;     /* newest first; owned */
    size_t n_runs;
    struct status_last last[8]; /* last success per type */
    size_t n_last;
    long long open_incidents;
    struct status_incident incidents[STATUS_INCIDENTS_MAX]; /* newest first */
    size_t n_incidents;
    struct status_day days[STATUS_DAYS]; /* oldest first, every day present */
};

/* Spanish unless Accept-Language ranks English higher (q values honoured). */
enum status_lang status_lang_from_header(const char *accept_language);

/*
 * Fills d from the database of cfg; today is in cfg->etl_timezone. A database
 * that cannot be read leaves d->error set (and the rest empty), never fails.
 * d must be zeroed; release with status_data_release.
 */
void status_data_load(const struct config *cfg, struct status_data *d);
void status_data_release(struct status_data *d);

/* The whole page into out; every database value is HTML-escaped. */
void status_page_render(const struct status_data *d, enum status_lang lang, struct buf *out);
/* The second step of a trigger button: a page with the POST form and a way back. */
void status_confirm_render(enum etl_kind kind, enum status_lang lang, struct buf *out);

/* Seconds a run took (or has taken so far, while running); -1 when unknown. */
long long status_run_seconds(const struct db_run *r, time_t now);
/* The page's two charts as <section>s with inline SVG (http_status_chart.c). */
void status_chart_runs(struct buf *b, const struct status_data *d, enum status_lang lang);
void status_chart_sales(struct buf *b, const struct status_data *d, enum status_lang lang);

#endif

/* What the status page shows, read from the warehouse: runs, last successes, incidents, sales. */
#include "common.h"

#include "date.h"
#include "db_report.h"
#include "http_status_page.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The q of one Accept-Language entry ("en-US;q=0.8"), 1 when absent. */
static double entry_q(const char *entry, size_t len)
{
    const char *q = NULL;
    for (size_t i = 0; i + 2 < len; i++)
        if (entry[i] == ';' && strncasecmp(entry + i + 1, "q=", 2) == 0)
            q = entry + i + 3;
    return q ? strtod(q, NULL) : 1.0;
}

enum status_lang status_lang_from_header(const char *h)
{
    double best[2] = {0, 0}; /* es, en */
    while (h && *h) {
        while (*h == ' ' || *h == ',')
            h++;
        size_t len = strcspn(h, ",");
        size_t tag = strcspn(h, "-;, ");
        int which = tag == 2 && strncasecmp(h, "es", 2) == 0   ? 0
                    : tag == 2 && strncasecmp(h, "en", 2) == 0 ? 1
                                                               : -1;
        double q = which >= 0 ? entry_q(h, len) : 0;
        if (which >= 0 && q > best[which])
            best[which] = q;
        h += len;
    }
    return best[1] > best[0] ? STATUS_EN : STATUS_ES;
}

static int take_last(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    struct status_data *d = ctx;
    if (ncols < 2 || !cells[0] || !cells[1] || d->n_last >= ARRAY_LEN(d->last))
        return 0;
    struct status_last *l = &d->last[d->n_last++];
    snprintf(l->tipo, sizeof(l->tipo), "%s", cells[0]);
    snprintf(l->fin, sizeof(l->fin), "%s", cells[1]);
    return 0;
}

static int take_incident(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    struct status_data *d = ctx;
    if (ncols < 6 || d->n_incidents >= STATUS_INCIDENTS_MAX)
        return 0;
    struct status_incident *i = &d->incidents[d->n_incidents++];
#define CELL(k) (cells[k] ? cells[k] : "")
    snprintf(i->id, sizeof(i->id), "%s", CELL(0));
    snprintf(i->run_id, sizeof(i->run_id), "%s", CELL(1));
    snprintf(i->recurso, sizeof(i->recurso), "%s", CELL(2));
    snprintf(i->id_recurso, sizeof(i->id_recurso), "%s", CELL(3));
    snprintf(i->problema, sizeof(i->problema), "%s", CELL(4));
    snprintf(i->creado_en, sizeof(i->creado_en), "%.19s", CELL(5));
#undef CELL
    return 0;
}

/* A day row lands on its slot of the window (days[] already holds every date). */
static int take_day(void *ctx, int ncols, const char *const *names, const char *const *cells)
{
    struct status_data *d = ctx;
    if (ncols < 3 || !cells[0])
        return 0;
    for (size_t i = 0; i < STATUS_DAYS; i++) {
        if (strncmp(d->days[i].date, cells[0], 10) != 0)
            continue;
        d->days[i].docs = cells[1] ? strtoll(cells[1], NULL, 10) : 0;
        d->days[i].net = cells[2] ? strtod(cells[2], NULL) : 0;
    }
    return 0;
}

static enum err_code fill_window(const struct config *cfg, struct status_data *d, struct err *e)
{
    char today[11] = "";
    enum err_code rc = date_today(cfg->etl_timezone, today, e);
    for (int i = 0; !rc && i < STATUS_DAYS; i++)
        rc = date_add(today, i - (STATUS_DAYS - 1), d->days[i].date, e);
    return rc;
}

static enum err_code load_all(struct db *db, struct status_data *d, struct err *e)
{
    char count[24] = "";
    enum err_code rc = db_run_list(db, STATUS_RUNS_MAX, &d->runs, &d->n_runs, e);
    if (!rc)
        rc = db_report_last_success(db, take_last, d, e);
    if (!rc)
        rc = db_report_open_incident_count(db, count, e);
    d->open_incidents = strtoll(count, NULL, 10);
    if (!rc)
        rc = db_report_latest_incidents(db, STATUS_INCIDENTS_MAX, take_incident, d, e);
    if (!rc)
        rc = db_report_daily_sales(db, d->days[0].date, d->days[STATUS_DAYS - 1].date, take_day, d,
                                   e);
    return rc;
}

void status_data_load(const struct config *cfg, struct status_data *d)
{
    struct err e = ERR_INIT;
    struct db *db = NULL;
    d->now = time(NULL);
    enum err_code rc = fill_window(cfg, d, &e);
    if (!rc)
        rc = db_open(&cfg->db, &db, &e);
    if (!rc)
        rc = load_all(db, d, &e);
    db_close(db);
    if (rc)
        snprintf(d->error, sizeof(d->error), "%s", e.msg[0] ? e.msg : err_str(rc));
}

void status_data_release(struct status_data *d)
{
    for (size_t i = 0; i < d->n_runs; i++)
        db_run_release(&d->runs[i]);
    free(d->runs);
    d->runs = NULL;
    d->n_runs = 0;
}

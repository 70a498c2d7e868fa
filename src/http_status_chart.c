/*
 * The status page's charts, drawn on the server as SVG: bars for one series,
 * a line with dots for the other, each on its own scale. Every point carries
 * its values in data-* attributes and a <title> tooltip, so the charts are
 * readable (and testable) without a script.
 */
#include "common.h"

#include "http_status_page.h"

#include <stdio.h>
#include <string.h>

#define CHART_W 640.0
#define CHART_H 200.0
#define PAD_L 8.0
#define PAD_R 8.0
#define PAD_T 22.0
#define PAD_B 22.0

struct chart {
    size_t n;
    double bar_min, bar_max; /* bar scale, 0 included */
    double line_max;         /* line scale from 0 */
};

static double plot_h(void)
{
    return CHART_H - PAD_T - PAD_B;
}

static double slot_w(const struct chart *c)
{
    return (CHART_W - PAD_L - PAD_R) / (double)(c->n ? c->n : 1);
}

static double bar_y(const struct chart *c, double v)
{
    double span = c->bar_max - c->bar_min;
    return PAD_T + plot_h() * (span > 0 ? (c->bar_max - v) / span : 1.0);
}

static double line_y(const struct chart *c, double v)
{
    return PAD_T + plot_h() * (c->line_max > 0 ? 1.0 - v / c->line_max : 1.0);
}

static void scale(struct chart *c, const double *bars, const double *line)
{
    c->bar_min = c->bar_max = c->line_max = 0;
    for (size_t i = 0; i < c->n; i++) {
        c->bar_min = bars[i] < c->bar_min ? bars[i] : c->bar_min;
        c->bar_max = bars[i] > c->bar_max ? bars[i] : c->bar_max;
        c->line_max = line[i] > c->line_max ? line[i] : c->line_max;
    }
}

static void chart_open(struct buf *b, const char *id, const char *title, size_t n)
{
    struct err e = ERR_INIT;
    buf_appendf(b, &e,
                "<section id=\"chart-%s\"><h2>%s</h2><svg data-chart=\"%s\" "
                "data-points=\"%zu\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\" "
                "xmlns=\"http://www.w3.org/2000/svg\">",
                id, title, id, n, CHART_W, CHART_H, title);
    buf_appendf(b, &e, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#c9d1de\"/>",
                PAD_L, CHART_H - PAD_B, CHART_W - PAD_R, CHART_H - PAD_B);
}

/* The polyline through the line series and the scale labels; closes the section. */
static void chart_close(struct buf *b, const struct chart *c, const double *line,
                        const char *bar_label, const char *line_label)
{
    struct err e = ERR_INIT;
    if (c->n) {
        buf_append_str(b, "<polyline fill=\"none\" stroke=\"#e07b24\" stroke-width=\"2\" points=\"",
                       &e);
        for (size_t i = 0; i < c->n; i++)
            buf_appendf(b, &e, "%s%.1f,%.1f", i ? " " : "", PAD_L + slot_w(c) * ((double)i + .5),
                        line_y(c, line[i]));
        buf_append_str(b, "\"/>", &e);
    }
    buf_appendf(b, &e,
                "<text x=\"%.0f\" y=\"14\" font-size=\"11\" fill=\"#3b6fb6\">%s max %.0f"
                "</text><text x=\"%.0f\" y=\"14\" font-size=\"11\" fill=\"#e07b24\" "
                "text-anchor=\"end\">%s max %.0f</text></svg></section>",
                PAD_L, bar_label, c->bar_max, CHART_W - PAD_R, line_label, c->line_max);
}

/* One bar from the zero line to v, and the dot of the line series; attrs go on both. */
static void point(struct buf *b, const struct chart *c, size_t i, double v, double lv,
                  const char *attrs, const char *tip)
{
    struct err e = ERR_INIT;
    double x = PAD_L + slot_w(c) * (double)i, w = slot_w(c) * 0.7;
    double y0 = bar_y(c, 0), y1 = bar_y(c, v);
    buf_appendf(b, &e,
                "<rect class=\"bar\" %s x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"%s\"><title>%s</title></rect>",
                attrs, x + slot_w(c) * 0.15, y1 < y0 ? y1 : y0, w, y1 < y0 ? y0 - y1 : y1 - y0,
                v < 0 ? "#c0392b" : "#3b6fb6", tip);
    buf_appendf(b, &e,
                "<circle class=\"dot\" %s cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                "fill=\"#e07b24\"><title>%s</title></circle>",
                attrs, x + slot_w(c) * 0.5, line_y(c, lv), tip);
}

void status_chart_runs(struct buf *b, const struct status_data *d, enum status_lang lang)
{
    struct chart c = {.n = d->n_runs};
    double rows[STATUS_RUNS_MAX] = {0}, secs[STATUS_RUNS_MAX] = {0};
    char title[160];
    snprintf(title, sizeof(title),
             lang == STATUS_EN ? "Rows (bars) and duration in s (line) per run, last %d"
                               : "Filas (barras) y duración en s (línea) por ejecución, últimas %d",
             STATUS_RUNS_MAX);
    if (c.n > STATUS_RUNS_MAX)
        c.n = STATUS_RUNS_MAX;
    for (size_t i = 0; i < c.n; i++) { /* oldest on the left */
        const struct db_run *r = &d->runs[c.n - 1 - i];
        rows[i] = (double)r->registros;
        long long t = status_run_seconds(r, d->now);
        secs[i] = t > 0 ? (double)t : 0;
    }
    scale(&c, rows, secs);
    chart_open(b, "runs", title, c.n);
    for (size_t i = 0; i < c.n; i++) {
        const struct db_run *r = &d->runs[c.n - 1 - i];
        char attrs[128], tip[160];
        snprintf(attrs, sizeof(attrs), "data-run=\"%lld\" data-rows=\"%lld\" data-seconds=\"%.0f\"",
                 r->id, r->registros, secs[i]);
        snprintf(tip, sizeof(tip), "#%lld: %lld %s, %.0f s", r->id, r->registros,
                 lang == STATUS_EN ? "rows" : "filas", secs[i]);
        point(b, &c, i, rows[i], secs[i], attrs, tip);
    }
    chart_close(b, &c, secs, lang == STATUS_EN ? "rows" : "filas", "s");
}

void status_chart_sales(struct buf *b, const struct status_data *d, enum status_lang lang)
{
    struct chart c = {.n = STATUS_DAYS};
    double net[STATUS_DAYS] = {0}, docs[STATUS_DAYS] = {0};
    char title[160];
    snprintf(title, sizeof(title),
             lang == STATUS_EN ? "Daily net sales (bars) and documents (line), last %d days"
                               : "Venta neta diaria (barras) y documentos (línea), últimos %d días",
             STATUS_DAYS);
    for (size_t i = 0; i < STATUS_DAYS; i++) {
        net[i] = d->days[i].net;
        docs[i] = (double)d->days[i].docs;
    }
    scale(&c, net, docs);
    chart_open(b, "sales", title, c.n);
    for (size_t i = 0; i < STATUS_DAYS; i++) {
        const struct status_day *day = &d->days[i];
        char attrs[128], tip[160];
        /* the dates are ours (date_add), never the database's text */
        snprintf(attrs, sizeof(attrs), "data-day=\"%.10s\" data-net=\"%.2f\" data-docs=\"%lld\"",
                 day->date, day->net, day->docs);
        snprintf(tip, sizeof(tip), "%.10s: %.0f %s, %lld %s", day->date, day->net,
                 lang == STATUS_EN ? "net sales" : "venta neta", day->docs,
                 lang == STATUS_EN ? "documents" : "documentos");
        point(b, &c, i, net[i], docs[i], attrs, tip);
    }
    chart_close(b, &c, docs, lang == STATUS_EN ? "net" : "neto",
                lang == STATUS_EN ? "documents" : "documentos");
}

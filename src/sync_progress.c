/*
 * Progress of a running sync: pages against the lists' announced totals, rows
 * written, request rate and an ETA from the page rate so far.
 */
#include "common.h"

#define LOG_MODULE "sync"
#include "sync_progress.h"

#include "bsale_client.h"
#include "clock.h"
#include "log.h"

#include <jansson.h>
#include <stdio.h>

#define PROGRESS_LOG_S 5.0
#define PROGRESS_BAR_S 0.25
#define BAR_WIDTH 20

static void draw_bar(const struct bsale_stats *st, long long rows, double secs, double eta,
                     bool final)
{
    int pct = st->pages_total ? (int)(100.0 * (double)st->pages / (double)st->pages_total) : 0;
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < pct * BAR_WIDTH / 100 ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %3d%% %lld/%lld pages  %lld rows  %.1f req/s  %lld retries  ETA %.0fs ",
            bar, pct, st->pages, st->pages_total, rows, (double)st->requests / secs, st->retries,
            eta);
    if (final)
        fputc('\n', stderr);
}

static void read_snap(struct sync_progress *p, struct bsale_client *client,
                      struct etl_counters *counters, double now, struct sync_progress_snap *s)
{
    struct bsale_stats st = {0};
    bsale_client_stats(client, &st);
    pthread_mutex_lock(&counters->mu);
    s->rows = counters->rows_total;
    pthread_mutex_unlock(&counters->mu);
    s->secs = now - p->started > 0.001 ? now - p->started : 0.001;
    s->pages = st.pages;
    s->pages_total = st.pages_total;
    s->requests = st.requests;
    s->retries = st.retries;
    s->req_s = (double)st.requests / s->secs;
    double page_rate = (double)st.pages / s->secs;
    long long left = st.pages_total > st.pages ? st.pages_total - st.pages : 0;
    s->eta_s = page_rate > 0 ? (double)left / page_rate : -1;
}

char *sync_progress_json(const struct sync_progress_snap *s)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "pages", (json_int_t)s->pages,
                          "pages_total", (json_int_t)s->pages_total, "rows", (json_int_t)s->rows,
                          "requests", (json_int_t)s->requests, "retries", (json_int_t)s->retries,
                          "req_s", (double)(long long)(s->req_s * 10) / 10, "elapsed_s",
                          (double)(long long)(s->secs * 10) / 10);
    json_object_set_new(o, "eta_s",
                        s->eta_s >= 0 ? json_real((double)(long long)s->eta_s) : json_null());
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

void sync_progress(struct sync_progress *p, struct bsale_client *client,
                   struct etl_counters *counters, bool final)
{
    double now = clock_monotonic();
    double every = p->bar ? PROGRESS_BAR_S : PROGRESS_LOG_S;
    bool persist_due = p->persist && !final &&
                       (p->last_persist <= 0 || now - p->last_persist >= SYNC_PROGRESS_PERSIST_S);
    bool report_due = final || now - p->last >= every;
    if (!report_due && !persist_due)
        return;
    struct sync_progress_snap s = {0};
    read_snap(p, client, counters, now, &s);
    if (persist_due) {
        p->last_persist = now;
        p->persist(p->persist_ctx, &s);
    }
    if (!report_due)
        return;
    p->last = now;
    double eta = s.eta_s > 0 ? s.eta_s : 0;
    if (p->bar) {
        struct bsale_stats st = {0};
        bsale_client_stats(client, &st);
        draw_bar(&st, s.rows, s.secs, eta, final);
        return;
    }
    log_info("progress pages=%lld/%lld rows=%lld rows_s=%.0f req_s=%.1f retries=%lld eta_s=%.0f",
             s.pages, s.pages_total, s.rows, (double)s.rows / s.secs, s.req_s, s.retries, eta);
}

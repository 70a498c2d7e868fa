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

void sync_progress(struct sync_progress *p, struct bsale_client *client,
                   struct etl_counters *counters, bool final)
{
    double now = clock_monotonic();
    double every = p->bar ? PROGRESS_BAR_S : PROGRESS_LOG_S;
    if (!final && now - p->last < every)
        return;
    p->last = now;
    struct bsale_stats st = {0};
    bsale_client_stats(client, &st);
    pthread_mutex_lock(&counters->mu);
    long long rows = counters->rows_total;
    pthread_mutex_unlock(&counters->mu);
    double secs = now - p->started > 0.001 ? now - p->started : 0.001;
    double page_rate = (double)st.pages / secs;
    long long left = st.pages_total > st.pages ? st.pages_total - st.pages : 0;
    double eta = page_rate > 0 ? (double)left / page_rate : 0;
    if (p->bar) {
        draw_bar(&st, rows, secs, eta, final);
        return;
    }
    log_info("progress pages=%lld/%lld rows=%lld rows_s=%.0f req_s=%.1f retries=%lld eta_s=%.0f",
             st.pages, st.pages_total, rows, (double)rows / secs, (double)st.requests / secs,
             st.retries, eta);
}

/*
 * A request (kind, optional dates) becomes a plan: which streams and which
 * document dates one run fetches. Daily without dates: today in ETL_TIMEZONE
 * minus the lookback; full without dates: master data (and ETL_HISTORY_FROM
 * onwards when set).
 */
#include "common.h"

#include "date.h"
#include "sync_plan_resolve.h"

#include <stdio.h>
#include <string.h>

enum err_code sync_plan_resolve(const struct config *cfg, const struct etl_request *req,
                                struct etl_plan *plan, struct err *e)
{
    memset(plan, 0, sizeof(*plan));
    int y, m, d;
    bool has_from = req->date_from[0] != '\0', has_to = req->date_to[0] != '\0';
    if (has_from != has_to)
        return err_set(e, ERR_INVALID, "a date range needs both from and to");
    if (has_from &&
        (!date_parse(req->date_from, &y, &m, &d) || !date_parse(req->date_to, &y, &m, &d)))
        return err_set(e, ERR_INVALID, "invalid date (want " DATE_WANT ")");
    if (has_from && date_days_between(req->date_from, req->date_to) < 1)
        return err_set(e, ERR_INVALID, "from %s is after to %s", req->date_from, req->date_to);
    char today[11];
    enum err_code rc = ERR_OK;
    if (!has_from && (req->kind == ETL_DAILY || (cfg->etl_history_from && *cfg->etl_history_from)))
        rc = date_today(cfg->etl_timezone, today, e);
    if (rc)
        return rc;
    if (has_from) {
        memcpy(plan->date_from, req->date_from, 11);
        memcpy(plan->date_to, req->date_to, 11);
    } else if (req->kind == ETL_DAILY) {
        memcpy(plan->date_to, today, 11);
        rc = date_add(today, -cfg->etl_lookback_days, plan->date_from, e);
    } else if (cfg->etl_history_from && *cfg->etl_history_from) {
        snprintf(plan->date_from, sizeof(plan->date_from), "%s", cfg->etl_history_from);
        memcpy(plan->date_to, today, 11);
    }
    /* Only a plain daily sync reconciles: explicit dates are exactly those days. */
    if (!rc && !has_from && req->kind == ETL_DAILY && cfg->etl_reconcile_days > 0) {
        rc = date_add(plan->date_from, -1, plan->reconcile_to, e);
        if (!rc)
            rc = date_add(plan->date_from, -cfg->etl_reconcile_days, plan->reconcile_from, e);
    }
    plan->master = req->kind == ETL_FULL;
    plan->documents = plan->date_from[0] != '\0';
    plan->fetch_missing_refs = req->kind == ETL_DAILY;
    /* A plain daily sync keeps stock, prices and costs fresh; explicit dates are only those days.
     */
    bool plain_daily = req->kind == ETL_DAILY && !has_from;
    plan->stock_prices = plain_daily && cfg->etl_daily_stock;
    plan->costs = plan->master || plain_daily;
    return rc;
}

/* What a trigger (CLI, HTTP) asks the sync engine for. */
#ifndef PETL_SYNC_REQUEST_H
#define PETL_SYNC_REQUEST_H

#include "common.h"

enum etl_kind { ETL_FULL = 0, ETL_DAILY = 1 };
enum etl_origin { ETL_ORIGIN_CLI = 0, ETL_ORIGIN_HTTP = 1 };

struct etl_request {
    enum etl_kind kind;
    enum etl_origin origin;
    /* Business dates "YYYY-MM-DD". Daily: "" = today (ETL_TIMEZONE) minus lookback .. today.
     * Full: "" = master data only (or ETL_HISTORY_FROM .. today), else also documents. */
    char date_from[11];
    char date_to[11];
    /* HTTP Idempotency-Key (db_run_key_valid), stored on the run; NULL = none. Borrowed for
     * etl_runner_start / etl_runner_join only. */
    const char *idempotency_key;
};

/* "full" | "daily", as stored in etl_ejecuciones.tipo and shown in /metrics. */
static inline const char *etl_kind_name(enum etl_kind k)
{
    return k == ETL_FULL ? "full" : "daily";
}

#endif

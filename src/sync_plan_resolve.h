/* From a sync request to the plan of one run. */
#ifndef PETL_SYNC_PLAN_RESOLVE_H
#define PETL_SYNC_PLAN_RESOLVE_H

#include "common.h"
#include "config.h"
#include "err.h"
#include "etl_plan.h"
#include "sync_request.h"

/* ERR_INVALID for a half range, an invalid date or from after to. */
enum err_code sync_plan_resolve(const struct config *cfg, const struct etl_request *req,
                                struct etl_plan *plan, struct err *e) MUST_CHECK;

#endif

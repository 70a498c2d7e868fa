/*
 * Lines a daily sync need not read again: a listed document whose header
 * equals the stored one and whose stored lines number its details count is
 * stored complete already (docs/reliability.md, Lines stored complete).
 */
#ifndef PETL_SYNC_LINES_H
#define PETL_SYNC_LINES_H

#include "common.h"
#include "err.h"
#include "etl_plan.h"
#include "id_set.h"

#include <jansson.h>

/* Adds to out the ids of docs (a documents page's items) whose cut lines are stored complete. */
enum err_code sync_lines_stored_complete(struct etl_run_ctx *run, json_t *docs, struct id_set *out,
                                         struct err *e) MUST_CHECK;

#endif

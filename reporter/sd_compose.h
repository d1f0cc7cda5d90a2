/*  sd_compose: renders a finished report and wraps it in a report.reply.  */
#ifndef SD_COMPOSE_H
#define SD_COMPOSE_H

#include "sd_outcome.h"
#include "sd_plan.h"
#include "sd_proto.h"

//  Renders the report of plan in every format of formats ("html", "json",
//  "csv"; none means html) from tables (plan->table_count table.normalized
//  messages, NULL for a table that never arrived) and outcome. Returns a new
//  report.reply (status "partial" when outcome->partial, else "complete"),
//  or NULL when out of memory or a format is unknown.
sd_msg *sd_compose_reply(const sd_plan *plan, sd_msg *const *tables, const sd_outcome *outcome,
                         const sd_strings *formats);

#endif

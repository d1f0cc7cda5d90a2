/*  sd_compose: renders a finished report and wraps it in a report.reply.

    The report's subject is the request's when it has one (the same the
    mail gets), else the reporter's own (sd_plan).
*/
#ifndef SD_COMPOSE_H
#define SD_COMPOSE_H

#include "sd_outcome.h"
#include "sd_plan.h"
#include "sd_proto.h"

//  Renders the report of plan in every format of request->formats ("html",
//  "json", "csv"; none means html) from tables (plan->table_count
//  table.normalized messages, NULL for a table that never arrived) and
//  outcome. Returns a new report.reply (status "partial" when
//  outcome->partial, else "complete"), or NULL when out of memory or a
//  format is unknown.
sd_msg *sd_compose_reply(const sd_plan *plan, sd_msg *const *tables, const sd_outcome *outcome,
                         const sd_report_request *request);

//  Returns the subject of the report: the request's when it is not empty,
//  else plan->subject. The string is borrowed from one of them.
const char *sd_compose_subject(const sd_plan *plan, const sd_report_request *request);

#endif

/*  sd_plan: turns a report.request into tables and fetch jobs.

    The plan resolves the sites ("all" is every configured site, in config
    order), computes the periods, names every table and builds one
    fetch.request per site for the report's service. Table ids are
    "<request_id>.<table name>" ("r42.summary"), so they are unique per
    request and spread over the aggregator shards; job ids are
    "<request_id>.<site>".

    Parts carry the deadline
        request deadline - reporter.render_margin_ms - reporter.table_margin_ms
    so that an aggregator publishes an incomplete table before the reporter
    renders (the reporter renders at the request deadline minus
    render_margin_ms).
*/
#ifndef SD_PLAN_H
#define SD_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "sd_catalog.h"
#include "sd_config.h"
#include "sd_period.h"
#include "sd_proto.h"

//  Why a request cannot be planned; code is SD_ERROR_BAD_REQUEST (a field
//  has a bad value) or SD_ERROR_NOT_FOUND (unknown report type or site).
typedef struct {
    int code;
    char field[64];                 //  the request field at fault, "sites[1]"
    char text[256];                 //  one line naming the value and what is accepted
} sd_plan_error;

typedef struct {
    const sd_table_def *def;
    char *table_id;                 //  "<request_id>.<name>"
    int64_t expected_parts;         //  sites x compared periods (current included)
} sd_plan_table;

typedef struct {
    char *request_id;
    const sd_report_def *report;
    sd_frequency frequency;
    sd_report_periods periods;
    char *subject;                  //  "Statsdash ga-core: Tue 01 Dec 2026"
    sd_strings sites;               //  resolved site names, without duplicates
    sd_plan_table *tables;
    size_t table_count;
    sd_msg **jobs;                  //  fetch.request messages, one per site, in site order
    size_t job_count;
    int64_t parts_deadline_ms;      //  deadline given to the parts
} sd_plan;

//  Plans request against config. reporter_id names the table topic the
//  aggregators publish to. Returns a new plan, or NULL with err filled
//  (err->code 500 when out of memory).
sd_plan *sd_plan_new(const sd_report_request *request, const sd_config *config,
                     const char *reporter_id, sd_plan_error *err);

//  Frees the plan and its messages; sets *plan to NULL. Safe on NULL.
void sd_plan_destroy(sd_plan **plan);

//  Returns the index of the table with the given id, or -1.
int sd_plan_find_table(const sd_plan *plan, const char *table_id);

//  Returns the index of the job with the given id, or -1.
int sd_plan_find_job(const sd_plan *plan, const char *job_id);

//  Checks the fields of a request that need no config: frequency, date,
//  formats and yearly_alignment. Returns 0, or -1 with err filled.
int sd_plan_check_request(const sd_report_request *request, sd_plan_error *err);

#endif

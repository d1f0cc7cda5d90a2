/*  sd_plan: turns a report.request into tables and fetch jobs.

    The plan resolves the sites ("all" is every configured site, in config
    order), computes the periods, picks the report's tables for the
    request's frequency and sites, and builds one fetch.request per site
    for the report's service. A table of network scope takes its parts
    from every configured site, so sites outside the request get a job of
    their own with only those queries. Table ids are
    "<request_id>.<attempt>.<table name>" ("r42.5f3a09c1.summary"), where
    attempt is 8 random hex digits drawn for each plan. A request that the
    broker hands to another reporter after the first one died thus gets new
    tables, and the aggregators do not drop their parts as late parts of
    the tables they already published. The ids are unique per attempt and
    spread over the aggregator shards; job ids are
    "<request_id>.<attempt>.<site>".

    Dependent tables (those with a parent) are planned in a second stage
    by sd_plan_dependents, once the parents of all of them have arrived:
    one more job per site with the queries of every dependent table, each
    filtered on its parent's rows, so that the worker can send them in one
    batch. Its id is "<request_id>.<attempt>.<site>.<table name>" when it
    holds one table and "<request_id>.<attempt>.<site>.dependents" when it
    holds several. A dependent table whose parent has no rows is marked
    empty and fetches nothing.

    Some tables have their own periods (sd_table_periods): top articles of
    a one-day report compare with the day before, month to date compares
    with the whole month a year earlier, and the monthly series cover 12 or
    36 months.

    Parts carry the deadline
        request deadline - reporter.render_margin_ms - reporter.table_margin_ms
    so that an aggregator publishes an incomplete table before the reporter
    renders (the reporter renders at the request deadline minus
    render_margin_ms).
*/
#ifndef SD_PLAN_H
#define SD_PLAN_H

#include <stdbool.h>
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
    char *table_id;                 //  "<request_id>.<attempt>.<name>"
    int64_t expected_parts;         //  sites x compared periods (current included)
    const sd_strings *sites;        //  the sites of its parts, borrowed from the plan
    int parent;                     //  index of the parent table, -1 when none
    bool planned;                   //  its queries are in fetch jobs
    bool parent_arrived;            //  dependent: parent_values is filled
    sd_strings parent_values;       //  dependent: the parent rows' key values
    bool empty;                     //  dependent, with nothing to fetch: the parent has
                                    //  no rows, or its networks map to no source
    sd_report_periods periods;      //  the dates of its current, previous and yearly periods
} sd_plan_table;

typedef struct {
    char *request_id;
    char attempt[9];                //  8 random hex digits, new for every plan
    char *id_prefix;                //  "<request_id>.<attempt>", the start of every id
    const sd_report_def *report;
    sd_frequency frequency;
    sd_report_periods periods;
    char *subject;                  //  "Statsdash ga-core: Tue 01 Dec 2026"
    sd_strings sites;               //  resolved site names, without duplicates
    sd_strings network_sites;       //  every configured site, in config order
    sd_strings first_site;          //  the first of sites alone (SD_SCOPE_FIRST_SITE)
    bool all_sites;                 //  sites covers every configured site
    const sd_config *config;        //  borrowed; must outlive the plan
    char *reporter_id;
    sd_plan_table *tables;
    size_t table_count;
    sd_msg **jobs;                  //  fetch.request messages: first stage one per site
                                    //  (requested sites first), then second-stage jobs
    size_t job_count;
    size_t job_capacity;            //  jobs the plan can hold, second stage included
    int64_t parts_deadline_ms;      //  deadline given to the parts
} sd_plan;

//  Plans request against config. reporter_id names the table topic the
//  aggregators publish to. The plan keeps config for the second stage, so
//  config must outlive it. Returns a new plan, or NULL with err filled
//  (err->code 500 when out of memory).
sd_plan *sd_plan_new(const sd_report_request *request, const sd_config *config,
                     const char *reporter_id, sd_plan_error *err);

//  Takes the rows of table `parent`, which has arrived as table, for the
//  tables that depend on it. Once the parents of every dependent table
//  are in, appends one fetch job per site to plan->jobs (the jobs from the
//  previous job_count on are new) and marks the dependent tables planned,
//  or empty when their parent's rows give nothing to filter on. Returns
//  the number of jobs appended (0 when no table depends on parent or a
//  parent is still missing), or -1 when out of memory.
int sd_plan_dependents(sd_plan *plan, size_t parent, const sd_table_normalized *table);

//  Returns a new table.normalized without rows or columns for table
//  `index`, standing for a dependent table with nothing to fetch; NULL
//  when out of memory.
sd_msg *sd_plan_empty_table(const sd_plan *plan, size_t index);

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

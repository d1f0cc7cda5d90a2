/*  sd_ga_job_internal: the state of a fetch job, shared by sd_ga_job.c
    (calls, pages, cache, finishing) and sd_ga_exchange.c (HTTP requests).
    Not part of the worker's interface.
*/
#ifndef SD_GA_JOB_INTERNAL_H
#define SD_GA_JOB_INTERNAL_H

#include "sd_cache.h"
#include "sd_fetch_job.h"
#include "sd_ga_job.h"
#include "sd_ga_merge.h"
#include "sd_ga_period_cache.h"
#include "sd_ga_query.h"
#include "sd_ga_response.h"
#include "sd_ga_rollup.h"

#include <stdbool.h>
#include <stdint.h>

#define SD_GA_ERROR_MAX 1024

//  GA4 batchRunReports takes at most 5 requests.
#define SD_GA_BATCH_MAX 5

typedef enum {
    SD_GA_CALL_QUEUED,              //  its next page waits for an exchange
    SD_GA_CALL_RUNNING,             //  in an exchange
    SD_GA_CALL_DONE,
} sd_ga_call_state;

typedef struct sd_ga_exchange sd_ga_exchange;

//  Per-feed state of a call.
typedef struct {
    bool needed[SD_GA_MAX_DATE_RANGES];     //  per dateRange: the feed's group uses its rows
    sd_ga_period_rows kept;         //  rows of the closed periods, cached when the call ends
} sd_ga_call_feed;

//  A call: one report of a request (see sd_ga_merge.h) for one property and
//  up to 4 of its periods, fetched page by page. Its periods are those that
//  the cache did not contain for every group the request feeds.
typedef struct {
    sd_ga_job *job;
    size_t request;                 //  index into the job's requests
    size_t property;                //  index into the site's properties
    size_t periods[SD_GA_MAX_DATE_RANGES];  //  indexes into the query's periods, ascending
    sd_period ranges[SD_GA_MAX_DATE_RANGES];    //  those periods (borrowed strings)
    size_t period_count;
    sd_ga_call_state state;
    int64_t offset;                 //  offset of the next page
    int64_t received;               //  rows received so far
    char *body;                     //  RunReportRequest of the next page
    sd_ga_call_feed *feeds;         //  one per feed of the request
} sd_ga_call;

//  What the calls of one query group produced.
typedef struct {
    sd_ga_rollup *rollup;
    char **errors;                  //  per period of the group's query: first error, or NULL
    char *identity;                 //  sd_ga_query_identity of the query, NULL when not cached
    sd_strings warnings;
} sd_ga_group_result;

struct sd_ga_job {
    sd_ga_context context;
    sd_fetch_job base;              //  the request, the finish timer and the reply
    const sd_fetch_request *request;    //  base.request
    const sd_config_site *site;
    char *job_error;                //  fails every part: unknown site, deadline passed
    sd_ga_group *groups;
    size_t group_count;
    sd_ga_group_result *results;
    sd_ga_request *requests;
    size_t request_count;
    sd_ga_call *calls;
    size_t call_count;
    size_t calls_left;
    sd_inflight *own_inflight;      //  the job's own counter when the context has none
    sd_ga_exchange *exchanges;      //  list of exchanges in flight
    int64_t started_ms;
    size_t cache_hits;              //  periods taken from the cache
    size_t http_requests;
    sd_ga_job_done_fn *done;
    void *arg;
};

//  Returns the GA4 property id of a call.
const char *sd_ga_call_property(const sd_ga_call *call);

//  Returns the query a call sends, which is its request's query.
const sd_query *sd_ga_call_query(const sd_ga_call *call);

//  Records error on every period that the call fetches for each group it
//  feeds, logs it and marks the call done.
void sd_ga_call_fail(sd_ga_call *call, const char *error);

//  Formats "site S property P: DETAIL" and fails the call with it.
void sd_ga_call_failf(sd_ga_call *call, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

//  Adds one page of the call (a report from the API, borrowed) to the
//  roll-up of every group its request feeds, then queues the next page or
//  ends the call. When the call ends, it stores the rows of its closed
//  periods in the cache. source names the origin of the report in errors
//  ("runReport response"). Fails the call on an invalid report.
void sd_ga_call_take_report(sd_ga_call *call, json_t *report, const char *source);

//  Stores the rows of each closed period of a call that has just ended
//  (row_count is the rowCount of its last page) in the cache, per group
//  it feeds. The key is the period alone when the call got every row of
//  its result, which totals always count as. The key also includes the
//  call's dateRanges when the query's limit cut the result. A call that
//  ended any other way stores nothing.
void sd_ga_call_store(sd_ga_call *call, int64_t row_count);

//  Takes period p of group g's query for a property from the cache into
//  the roll-up. Returns true when the period needs no request: a hit, or
//  a hit whose roll-up failed (then the period's part fails). Returns
//  false for an open period, a miss or an entry that does not parse.
bool sd_ga_job_take_cached(sd_ga_job *job, size_t g, size_t property, size_t p, int64_t now_ms);

//  Returns the rows a report of query should fetch in all, 0 for all there
//  are. The query's limit applies only to a site of one property. The top
//  rows of each property do not add up to the top rows of their sum, so a
//  roll-up needs every row, and the aggregator sorts and limits the table
//  anyway.
int64_t sd_ga_job_row_limit(const sd_ga_job *job, const sd_query *query);

//  Records the warnings of a page of a property as warnings of group g.
void sd_ga_job_add_warnings(sd_ga_job *job, size_t g, size_t property, const sd_ga_page *page);

//  Starts exchanges for a property's queued calls while it has a free
//  sd_inflight slot.
void sd_ga_job_pump(sd_ga_job *job, size_t property);

//  Returns the HTTP timeout of a request sent now.
int64_t sd_ga_job_timeout_ms(const sd_ga_job *job);

//  Starts an exchange for calls[0 .. count-1] (indexes into job->calls, all
//  of one property, queued): one runReport, or a batchRunReports of 2 to 5.
//  The exchange keeps the property's sd_inflight slot that the caller
//  took until it ends, and then pumps the property. On failure the calls
//  are failed.
void sd_ga_exchange_start(sd_ga_job *job, const size_t *calls, size_t count);

//  Cancels and frees every exchange of the job without callbacks.
void sd_ga_exchanges_cancel(sd_ga_job *job);

#endif

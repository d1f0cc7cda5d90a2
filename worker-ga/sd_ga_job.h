/*  sd_ga_job: one fetch.request served by the GA worker.

    The job groups the request's queries (see sd_ga_query). Every group
    needs, for every property of the site, the rows of every period of its
    query. The groups are fetched through requests (see sd_ga_merge): a
    request is a group's own query, or one report that feeds several
    groups (totals, traffic source queries). The query's limit caps the
    rows only for a site of one property. For a site of several properties
    every row is fetched, because the top rows of each do not add up to the
    top rows of the roll-up.

    Sparing quota: a period that ended more than 3 days ago (closed) is
    looked up in the response cache first, per property and query (see
    sd_ga_period_cache). The periods the cache does not hold for some group
    of a request go to GA4 as one report per chunk of at most 4 periods (a
    "call"), paged with offset until rowCount rows have arrived; when a
    call ends, the rows of each of
    its closed periods are stored in the cache on their own. So a first run
    sends every period of a query in one report, and a later run requests
    only the open periods. The first pages of a property's calls go in
    batchRunReports requests of up to 5 reports, and a lone first page goes
    as runReport. Further pages go as runReport. At most config
    ga.max_in_flight requests per property are in flight (a request waiting
    to be retried counts), over all the jobs that share the context's
    sd_inflight counter.

    Requests are retried through sd_retry (429, 500, 503, transport
    errors; backoff; never past the job's deadline). A 401 fetches a new
    access token and sends the request again, once. A 429 for an exhausted
    daily or hourly token quota blocks the property (sd_ga_quota) and fails
    its parts. Other errors, and bodies that are not the expected JSON,
    fail the parts of the periods they cover with the API's message, the
    property and the query.

    The rows of all properties are rolled up per period. When every call
    has ended, the job publishes one table.raw part per (table, period) and
    builds the fetch.reply; a part is failed (published empty, with the
    error) when any call that covers its period failed. GA4 metadata
    (sampling, thresholding, "(other)" row) becomes warnings on the parts.
*/
#ifndef SD_GA_JOB_H
#define SD_GA_JOB_H

#include <czmq.h>

#include "sd_cache.h"
#include "sd_config.h"
#include "sd_ga_quota.h"
#include "sd_inflight.h"
#include "sd_oauth.h"
#include "sd_part.h"
#include "sd_proto.h"
#include "sd_retry.h"

//  What a job uses; everything is borrowed and must outlive the job.
typedef struct {
    const sd_config *config;
    zloop_t *loop;
    sd_retry *retry;                //  sends (and retries) the API requests
    sd_oauth *oauth;
    sd_cache *cache;                //  NULL: no response cache
    sd_ga_quota *quota;
    sd_inflight *inflight;          //  per property over all jobs, NULL: one per job
    sd_part_bus bus;
} sd_ga_context;

typedef struct sd_ga_job sd_ga_job;

//  Called from the loop once every part is published. The callback takes
//  the reply with sd_ga_job_take_reply and may destroy the job.
typedef void(sd_ga_job_done_fn)(sd_ga_job *job, void *arg);

//  Creates a job for a decoded fetch.request message, taking ownership of
//  *request (set to NULL, even on failure). Returns NULL when out of
//  memory.
sd_ga_job *sd_ga_job_new(const sd_ga_context *context, sd_msg **request, sd_ga_job_done_fn *done,
                         void *arg);

//  Starts the job's requests. done is always called later from the loop,
//  never from inside this call. Returns 0, or -1 when the loop refuses a
//  timer (then done is never called).
int sd_ga_job_start(sd_ga_job *job);

//  Starts the queued requests of every property that has a free slot. The
//  worker calls it when another job releases a slot.
void sd_ga_job_pump_all(sd_ga_job *job);

//  Returns the encoded fetch.reply (the caller owns it), or NULL when the
//  job has not finished or the reply could not be encoded.
zmsg_t *sd_ga_job_take_reply(sd_ga_job *job);

//  Returns the request the job serves.
const sd_fetch_request *sd_ga_job_request(const sd_ga_job *job);

//  Cancels what is in flight (done is not called) and frees the job; *job
//  is set to NULL. Safe on NULL.
void sd_ga_job_destroy(sd_ga_job **job);

#endif

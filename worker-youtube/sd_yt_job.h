/*  sd_yt_job: one fetch.request served by the YouTube worker.

    The request's site is a channel name of youtube.channels; a channel
    rolls up one or more channel ids. For each query of api
    "youtube.reports", each period and each channel id, the job runs one
    reports.query call (content-owner mode: ids=contentOwner==OWNER with
    filters=channel==ID and youtube.owner_refresh_token_file; otherwise
    ids=channel==MINE with that id's own refresh token) and sums the ids' rows per period. For each
    query of api "youtube.videos" it looks the titles of the query's video
    ids up with videos.list, 50 ids per call, with the token of the
    channel's first id. For each query of api "youtube.channels" the job reads
    today's subscriber counts with channels.list (50 ids per call) and, per
    period and id, the subscribers gained and lost since the period ended
    (see sd_yt_query.h).

    Calls run in parallel on the shared sd_retry sender, which retries 429,
    500, 503 and transport errors with backoff until the job's deadline.
    At most youtube.max_in_flight calls per channel id are in flight at a
    time, counted over all the jobs of the worker (the shared sd_inflight
    counter). reports.query calls of
    queries without the video dimension ask for pages of youtube.page_size
    rows, and for the next page while a page comes back full. A 401 drops
    the access token and the call is sent once more with a new one.
    Responses (pages) of reports.query for periods that ended more than 3
    days ago (STATSDASH_NOW honoured) are cached when youtube.cache.path
    is set. When every call has ended, the job publishes one table.raw
    part per (query, period) and builds the fetch.reply. A part fails (it is published empty, with the error) when
    any call that feeds it failed, for example when a channel's refresh
    token was revoked.
*/
#ifndef SD_YT_JOB_H
#define SD_YT_JOB_H

#include <czmq.h>

#include "sd_cache.h"
#include "sd_config.h"
#include "sd_http.h"
#include "sd_inflight.h"
#include "sd_oauth_user.h"
#include "sd_part.h"
#include "sd_proto.h"
#include "sd_retry.h"

//  Returns the token source for calls about channel_id of the channel
//  channel_name, or NULL with error filled (for example when its refresh
//  token file cannot be read).
typedef sd_oauth_user *(sd_yt_source_fn)(void *arg, const char *channel_name,
                                         const char *channel_id, char *error,
                                         size_t error_size);

//  What a job uses; everything is borrowed and must outlive the job.
typedef struct {
    const sd_config *config;
    zloop_t *loop;
    sd_retry *retry;
    sd_cache *cache;                //  NULL when responses are not cached
    sd_inflight *inflight;          //  requests in flight per channel id
    sd_part_bus bus;
    sd_yt_source_fn *source;
    void *source_arg;
} sd_yt_context;

typedef struct sd_yt_job sd_yt_job;

//  Called from the loop once every part is published. The callback takes
//  the reply with sd_yt_job_take_reply and may destroy the job.
typedef void(sd_yt_job_done_fn)(sd_yt_job *job, void *arg);

//  Creates a job for a decoded fetch.request message, taking ownership of
//  *request (set to NULL, even on failure). Returns NULL when out of
//  memory.
sd_yt_job *sd_yt_job_new(const sd_yt_context *context, sd_msg **request,
                         sd_yt_job_done_fn *done, void *arg);

//  Starts the job's calls. done is always called later from the loop,
//  never from inside this call. Returns 0, or -1 when the loop refuses a
//  timer (then done is never called).
int sd_yt_job_start(sd_yt_job *job);

//  Starts the queued calls whose channel id has a free slot. The worker
//  calls it when another job releases a slot.
void sd_yt_job_pump(sd_yt_job *job);

//  Returns the encoded fetch.reply (the caller owns it), or NULL when the
//  job has not finished or the reply could not be encoded.
zmsg_t *sd_yt_job_take_reply(sd_yt_job *job);

//  Returns the request the job serves.
const sd_fetch_request *sd_yt_job_request(const sd_yt_job *job);

//  Cancels what is in flight (done is not called) and frees the job; *job
//  is set to NULL. Safe on NULL.
void sd_yt_job_destroy(sd_yt_job **job);

#endif

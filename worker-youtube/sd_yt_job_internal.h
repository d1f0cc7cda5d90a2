/*  sd_yt_job_internal: the parts of a YouTube job shared by sd_yt_job.c
    (setting up, finishing, publishing) and sd_yt_call.c (running one API
    call). Not for use outside the worker.
*/
#ifndef SD_YT_JOB_INTERNAL_H
#define SD_YT_JOB_INTERNAL_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "sd_fetch_job.h"
#include "sd_yt_job.h"
#include "sd_yt_rollup.h"

#define SD_YT_ERROR_MAX 1024

typedef enum {
    SD_YT_CALL_REPORT,              //  reports.query of (query, period, id)
    SD_YT_CALL_CHANGE,              //  subscribers gained and lost of (query, period, id) since the end
    SD_YT_CALL_CHANNELS,            //  channels.list statistics of up to 50 ids of a query
    SD_YT_CALL_VIDEOS,              //  videos.list snippet of up to 50 ids of a youtube.videos query
} sd_yt_call_kind;

typedef enum {
    SD_YT_CALL_QUEUED,
    SD_YT_CALL_RUNNING,             //  waiting for a token or the API
    SD_YT_CALL_DONE,
} sd_yt_call_state;

typedef struct {
    sd_yt_job *job;
    sd_yt_call_kind kind;
    size_t query;
    size_t period;                  //  REPORT, CHANGE
    size_t id;                      //  REPORT, CHANGE: index of the channel id; CHANNELS: first
    size_t id_count;                //  CHANNELS
    char *url;                      //  REPORT when paged: without startIndex and maxResults
    int64_t start_index;            //  REPORT when paged: first row of the page, else 0
    const char *slot_key;           //  channel id whose sd_inflight slot the call holds, or NULL
    sd_yt_call_state state;
    sd_oauth_user *source;          //  set while a token request waits
    bool waiting_token;
    int64_t retry_id;               //  sd_retry id while sent, else 0
    char *token;                    //  the access token sent (secret)
    bool reauthorized;              //  a 401 already got a new token
    char key[SD_CACHE_KEY_SIZE];    //  cache key, "" when not cached
} sd_yt_call;

//  What the calls of one query produced. A query that makes the same
//  calls as an earlier one of the job has no calls and no results of its
//  own: source names the earlier query, whose results it publishes.
typedef struct {
    size_t source;                  //  index of the query whose results these are
    sd_yt_rollup **rollups;         //  per period (youtube.reports)
    int64_t *changes;               //  per period x id: gained - lost after the period (youtube.channels)
    int64_t *counts;                //  per id: today's subscriber count, -1 until known
    sd_strings videos;              //  youtube.videos: the distinct ids, in request order
    zhashx_t *titles;               //  youtube.videos: video id -> title videos.list returned
    char **errors;                  //  per period: the first error, or NULL
    sd_strings warnings;
} sd_yt_result;

struct sd_yt_job {
    sd_yt_context context;
    sd_fetch_job base;              //  the request, the finish timer and the reply
    const sd_fetch_request *request;    //  base.request
    const sd_config_channel *channel;
    sd_yt_result *results;          //  per query
    sd_yt_call **calls;
    size_t call_count;
    size_t calls_left;              //  calls not yet done
    size_t running;
    char *job_error;                //  set when the job cannot run at all
    sd_yt_job_done_fn *done;
    void *arg;
    int64_t started_ms;
    size_t api_calls;
    size_t cache_hits;
};

//  Returns the channel id whose max_in_flight slots the call uses.
const char *sd_yt_call_slot_key(const sd_yt_call *call);

//  Starts a queued call, which has taken an sd_inflight slot of slot_key:
//  from the cache, or a token request then the API.
void sd_yt_call_start(sd_yt_call *call, const char *slot_key);

//  Records error for the periods the call feeds and ends the call.
void sd_yt_call_fail(sd_yt_call *call, const char *error);

//  Stops what the call waits for (token or HTTP) and frees it. Safe on NULL.
void sd_yt_call_destroy(sd_yt_call **call);

//  Called by sd_yt_call.c when a call ends: starts queued calls and
//  finishes the job when none is left.
void sd_yt_job_call_ended(sd_yt_job *job);

#endif

/*  sd_fetch_job: the life of a fetch job that every fetch worker (GA,
    YouTube) shares, embedded in the worker's own job.

    The base owns the decoded fetch.request. When the job's calls have
    ended, the job schedules its finish: a zero-delay timer builds an empty
    fetch.reply and calls the worker's finish callback, which publishes
    every part into the reply and then calls the job's done callback. The
    timer keeps publishing out of a call's callback chain, because the done
    callback may destroy the job.
*/
#ifndef SD_FETCH_JOB_H
#define SD_FETCH_JOB_H

#include <czmq.h>

#include "sd_proto.h"

//  Publishes the job's parts into reply and calls the job's done callback.
//  reply is NULL when it could not be built (logged); the callback must
//  still call done. job is the owner given to sd_fetch_job_init.
typedef void(sd_fetch_job_finish_fn)(void *job, sd_fetch_reply *reply);

typedef struct {
    zloop_t *loop;
    sd_msg *request_msg;            //  owned
    const sd_fetch_request *request;
    const char *site_key;           //  log key of request->site: "site", "channel"
    sd_msg *reply;                  //  the fetch.reply, NULL until the finish timer
    int finish_timer;               //  -1 when none is set
    sd_fetch_job_finish_fn *finish;
    void *job;
} sd_fetch_job;

//  Sets up base and takes *request (a fetch.request, set to NULL). job is
//  the owner passed to finish; site_key must be a static string.
void sd_fetch_job_init(sd_fetch_job *base, zloop_t *loop, sd_msg **request,
                       const char *site_key, sd_fetch_job_finish_fn *finish, void *job);

//  Sets the finish timer unless it is set already. Returns 0, or -1 when
//  the loop refuses a timer (logged; finish is never called then).
int sd_fetch_job_schedule_finish(sd_fetch_job *base);

//  Returns the number of failed parts of reply.
size_t sd_fetch_job_failed_parts(const sd_fetch_reply *reply);

//  Returns the encoded fetch.reply (the caller owns it), or NULL when the
//  job has not finished or the reply could not be encoded.
zmsg_t *sd_fetch_job_take_reply(const sd_fetch_job *base);

//  Ends the finish timer and frees the reply and the request.
void sd_fetch_job_clear(sd_fetch_job *base);

#endif

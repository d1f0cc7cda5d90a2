/*  sd_yt_availability: replies to availability.request for service
    "youtube": is a day's YouTube Analytics data complete for each
    requested channel?

    A channel is complete for day D when, for every channel id it rolls up,
    a reports.query of views by day for D (the probe) returns a row for D.
    The reply's detail for an incomplete channel names the channel ids
    without rows and the probes that failed (HTTP error, invalid body, a
    refresh token that cannot be used), so that the scheduler can send its
    request again later.
    Probes go through the job's sd_retry sender and token sources, take
    the channel id's max_in_flight slot like any call, and are never
    cached, because the day's data is still changing.
*/
#ifndef SD_YT_AVAILABILITY_H
#define SD_YT_AVAILABILITY_H

#include <czmq.h>

#include "sd_yt_job.h"

typedef struct sd_yt_availability sd_yt_availability;

//  Called from the loop once every probe has ended. The callback takes the
//  reply with sd_yt_availability_take_reply and may destroy the check.
typedef void(sd_yt_availability_done_fn)(sd_yt_availability *check, void *arg);

//  Creates a check for a decoded availability.request, taking ownership
//  of *request (set to NULL, even on failure). context->cache and
//  context->bus are not used. Returns NULL when out of memory.
sd_yt_availability *sd_yt_availability_new(const sd_yt_context *context, sd_msg **request,
                                           sd_yt_availability_done_fn *done, void *arg);

//  Starts the probes. done is always called later from the loop, never
//  from inside this call. Returns 0, or -1 when the loop refuses a timer
//  (then done is never called).
int sd_yt_availability_start(sd_yt_availability *check);

//  Starts the probes not yet started whose channel id has a free slot.
void sd_yt_availability_pump(sd_yt_availability *check);

//  Returns the encoded reply (the caller owns it): an availability.reply,
//  or an `error` message (code 400) when the request names another
//  service or an invalid date. Returns NULL before the end or when out of
//  memory.
zmsg_t *sd_yt_availability_take_reply(sd_yt_availability *check);

//  Cancels what is in flight (done is not called) and frees the check;
//  *check is set to NULL. Safe on NULL.
void sd_yt_availability_destroy(sd_yt_availability **check);

#endif

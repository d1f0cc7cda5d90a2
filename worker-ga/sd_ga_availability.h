/*  sd_ga_availability: replies to availability.request for service "ga":
    is a day's GA4 data complete for each requested site?

    A site is complete for day D when every property checked returns all 24
    hours of D from a runReport by dateHour (metric screenPageViews, empty
    rows kept). For a request of several sites only the properties with
    wait_for_data true are checked; for a request of one site, all of them
    (wait_for_data only excuses a property from multi-site checks). A site
    with nothing to check is complete. A property that fails (HTTP error,
    bad body, quota) makes its site incomplete, with the error in the
    detail, so the scheduler asks again later. The requests are retried
    like a fetch job's and are never cached (the day is still changing).
*/
#ifndef SD_GA_AVAILABILITY_H
#define SD_GA_AVAILABILITY_H

#include <czmq.h>

#include "sd_ga_job.h"

typedef struct sd_ga_availability sd_ga_availability;

//  Called from the loop once the request of every property has ended. The callback
//  takes the reply with sd_ga_availability_take_reply and may destroy the
//  check.
typedef void(sd_ga_availability_done_fn)(sd_ga_availability *check, void *arg);

//  Creates a check for a decoded availability.request, taking ownership of
//  *request (set to NULL, even on failure). context->cache is not used.
//  Returns NULL when out of memory.
sd_ga_availability *sd_ga_availability_new(const sd_ga_context *context, sd_msg **request,
                                           sd_ga_availability_done_fn *done, void *arg);

//  Starts the requests. done is always called later from the loop. Returns
//  0, or -1 when the loop refuses a timer (then done is never called).
int sd_ga_availability_start(sd_ga_availability *check);

//  Returns the encoded reply (the caller owns it): an availability.reply,
//  or an `error` message (code 400) when the request names another service
//  or an invalid date. Returns NULL before the end or when out of memory.
zmsg_t *sd_ga_availability_take_reply(sd_ga_availability *check);

//  Cancels what is in flight (done is not called) and frees the check;
//  *check is set to NULL. Safe on NULL.
void sd_ga_availability_destroy(sd_ga_availability **check);

#endif

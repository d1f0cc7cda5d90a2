/*  sd_availability: what the availability checks of every fetch worker
    (GA, YouTube) share: validating the availability.request and building
    its reply.

    A worker's check decides per site whether the day's data is complete
    and writes why not as the site's detail. A site is complete when its
    detail is empty. The check embeds an sd_availability_base, which owns
    the request and, when the probes have ended, builds the reply on a
    zero-delay timer, so never inside a probe's callback chain (the done
    callback may destroy the check).
*/
#ifndef SD_AVAILABILITY_H
#define SD_AVAILABILITY_H

#include <czmq.h>
#include <stddef.h>

#include "sd_period.h"
#include "sd_proto.h"

//  Size of the detail buffer that sd_availability_reply_encode passes.
#define SD_AVAILABILITY_DETAIL_MAX 2048

//  Writes the detail of site (an index into request->sites) into detail,
//  a buffer of size bytes that starts empty. Leaves it empty when the site
//  is complete.
typedef void(sd_availability_detail_fn)(const void *check, size_t site, char *detail,
                                        size_t size);

//  Checks that request is for service and that its date is a YYYY-MM-DD
//  calendar date (stored in *date). label names the worker in the error
//  ("GA"). Returns NULL when the request is valid, else a new error text
//  (free it), logged as a warning.
char *sd_availability_check_request(const sd_availability_request *request,
                                    const char *service, const char *label, sd_date *date);

//  Encodes the reply to request: an `error` message (code 400) with
//  request_error when it is not NULL, else an availability.reply with the
//  detail of every site from detail_fn(check, ...). Returns the one-frame
//  message (the caller owns it), or NULL when out of memory.
zmsg_t *sd_availability_reply_encode(const sd_availability_request *request,
                                     const char *request_error,
                                     sd_availability_detail_fn *detail_fn, const void *check);

//  Called by the finish timer after the reply is built: logs the result
//  and calls the check's done callback. check is the owner given to
//  sd_availability_base_init.
typedef void(sd_availability_finish_fn)(void *check);

typedef struct {
    zloop_t *loop;
    sd_msg *request_msg;            //  owned
    const sd_availability_request *request;
    char *request_error;            //  set when the request cannot be served at all
    char **site_errors;             //  per site: why it cannot be checked, or NULL
    int finish_timer;               //  -1 when none is set
    zmsg_t *reply;                  //  NULL until the finish timer
    sd_availability_detail_fn *detail;
    sd_availability_finish_fn *finish;
    void *check;
} sd_availability_base;

//  Sets up base and takes *request (an availability.request, set to NULL
//  even on failure). detail and finish get check. Returns 0, or -1 when
//  out of memory (then clear base).
int sd_availability_base_init(sd_availability_base *base, zloop_t *loop, sd_msg **request,
                              sd_availability_detail_fn *detail,
                              sd_availability_finish_fn *finish, void *check);

//  Sets the finish timer unless it is set already. Returns 0, or -1 when
//  the loop refuses a timer (logged; finish is never called then).
int sd_availability_schedule_finish(sd_availability_base *base);

//  Returns the encoded reply and clears it in base, so the caller owns it.
//  Returns NULL before the finish timer or when out of memory.
zmsg_t *sd_availability_take_reply(sd_availability_base *base);

//  Ends the finish timer and frees what base owns. Safe on a base that
//  init left half set up.
void sd_availability_base_clear(sd_availability_base *base);

#endif

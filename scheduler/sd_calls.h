/*  sd_calls: requests to MDP services on a zloop, matched to their replies.

    MDP replies name only the service, so each request carries an id in its
    body (request_id of report.request, id of availability.request) and the
    reply is matched by the id inside it (report.reply's request_id,
    availability.reply's id, error's id). Every call ends once, with the
    decoded reply or with NULL when no reply came within its timeout, unless
    the sd_calls object is destroyed first.
    Replies that match no call (late ones, after a timeout) are dropped.
*/
#ifndef SD_CALLS_H
#define SD_CALLS_H

#include <czmq.h>

#include "sd_config.h"
#include "sd_proto.h"

typedef struct sd_calls sd_calls;

//  Called once per call. reply is the decoded reply (the callback owns it
//  and destroys it with sd_msg_destroy), or NULL on timeout.
typedef void(sd_call_fn)(sd_msg *reply, void *arg);

//  Releases the arg of a call that never ended (see sd_calls_destroy).
typedef void(sd_call_free_fn)(void *arg);

//  Connects to the broker at endpoint and registers on loop. broker gives
//  the size limits. Returns NULL on failure.
sd_calls *sd_calls_new(zloop_t *loop, const char *endpoint, const sd_config_broker *broker);

//  Drops every call still waiting (their callbacks are not called, but
//  free_arg is) and closes the connection. Safe on NULL.
void sd_calls_destroy(sd_calls **self);

//  Encodes request, sends it to service and arms a timeout of timeout_ms.
//  id must be the id the reply will carry, unique among waiting calls.
//  free_arg (may be NULL) releases arg if the call is dropped unanswered.
//  Returns 0, or -1 (neither callback is called) when the request could not
//  be encoded or sent.
int sd_calls_send(sd_calls *self, const char *service, const char *id, const sd_msg *request,
                  int timeout_ms, sd_call_fn *callback, sd_call_free_fn *free_arg, void *arg);

//  Returns how many calls wait for a reply.
size_t sd_calls_waiting(sd_calls *self);

#endif

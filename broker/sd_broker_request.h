/*  sd_broker_request: client request records of the broker: deadlines,
    `error` replies, requeueing after a worker is lost and late replies.
    Not for use outside broker/.  */
#ifndef SD_BROKER_REQUEST_H
#define SD_BROKER_REQUEST_H

#include "sd_broker_internal.h"

//  Creates the record of a request and gives it the next sequence number.
//  Reads "deadline_ms" from the first body frame when it is a msgpack map.
//  Takes ownership of *client and *body (set to NULL). Returns NULL when
//  out of memory (both are then destroyed).
sd_broker_request *sd_broker_request_new(sd_broker *self, zframe_t **client, zmsg_t **body);

//  Frees the record and its frames. Safe on NULL.
void sd_broker_request_destroy(sd_broker_request **request_p);

//  Returns true when the request has a deadline at or before now_ms
//  (milliseconds since the Unix epoch).
bool sd_broker_request_expired(const sd_broker_request *request, int64_t now_ms);

//  Sends the client of request an `error` reply [empty]["MDPC01"][service]
//  [error body] with code and text; the error's id is the request id of
//  the request's body (see sd_mdp_body_id), or "". Logged when it cannot
//  be built.
void sd_broker_send_error(sd_broker *self, const sd_broker_request *request, const char *service,
                          int code, const char *text);

//  Replies 408 to a request whose deadline passed and frees it.
void sd_broker_request_expire(sd_broker *self, sd_broker_service *service,
                              sd_broker_request **request_p);

//  Puts the request of a worker that is being removed back at the front of
//  its service's queue, and remembers the worker's id so that its late
//  reply can be dropped. Does nothing for an idle worker.
void sd_broker_requeue(sd_broker *self, sd_broker_worker *worker);

//  Returns true when the worker with this hex id lost a request to the
//  queue, and deletes that record: the caller drops the worker's reply.
bool sd_broker_late_reply(sd_broker *self, const char *worker_id);

//  Replies 408 to every queued request whose deadline has passed, and
//  deletes late-reply records that are old enough.
void sd_broker_sweep(sd_broker *self);

#endif

/*  sd_mdwrk: an MDP/0.1 worker on a zloop.

    Registers a service with the broker, sends heartbeats, notices a dead
    broker (no traffic for liveness heartbeats) and reconnects with a new
    socket and READY, so a broker restart is survived. Requests are handed
    to a callback one at a time; the reply may be sent later from any loop
    callback (the worker stays responsive while it waits on HTTP).
*/
#ifndef SD_MDWRK_H
#define SD_MDWRK_H

#include <czmq.h>

#include "sd_config.h"

typedef struct sd_mdwrk sd_mdwrk;

typedef struct {
    const char *endpoint;           //  broker ROUTER, e.g. "tcp://127.0.0.1:5555"
    const char *service;
    int heartbeat_ms;               //  0: broker->heartbeat_ms, else 2500
    int liveness;                   //  0: broker->liveness, else 3
    int reconnect_ms;               //  wait before reconnecting, 0 for 2500
    const sd_config_broker *broker; //  optional: timing, CURVE keys and size limits
} sd_mdwrk_options;

//  Called for each request. The callback takes ownership of client (the
//  return address, to pass back to sd_mdwrk_reply) and body (the request
//  frames after the empty delimiter).
typedef void(sd_mdwrk_request_fn)(sd_mdwrk *worker, zframe_t *client, zmsg_t *body, void *arg);

//  Creates the worker and connects it (as a CURVE client when
//  options->broker has a curve section). Returns NULL when a key file
//  cannot be used, the socket cannot be created or the endpoint is invalid.
sd_mdwrk *sd_mdwrk_new(const sd_mdwrk_options *options);

//  Registers the socket and heartbeat timer on loop and sends READY.
//  Returns 0 or -1.
int sd_mdwrk_attach(sd_mdwrk *worker, zloop_t *loop, sd_mdwrk_request_fn *handler, void *arg);

//  Sends the reply to the request from client. Takes ownership of *client
//  and *body and sets both to NULL, even on failure. Returns 0 or -1.
int sd_mdwrk_reply(sd_mdwrk *worker, zframe_t **client, zmsg_t **body);

//  Sends DISCONNECT, closes the socket and frees the worker; *worker is set
//  to NULL. Safe on NULL.
void sd_mdwrk_destroy(sd_mdwrk **worker);

#endif

/*  sd_mdcli: an asynchronous MDP/0.1 client (DEALER socket) that survives
    a broker restart.

    Many requests may be outstanding at once. The client keeps a copy of
    each until its reply arrives, and resends all of them on a new socket
    when the broker is lost. The broker counts as lost when the connection
    closes (a broker restart), or when it stays silent for heartbeat_ms x
    liveness while requests are outstanding. During a silence longer than heartbeat_ms it
    sends an mmi.service probe, whose reply proves the broker alive, so a
    long request is not resent only because it is slow.

    Delivery is therefore at least once: a service may receive a request
    twice, and must tolerate that. MDP replies carry only the service name,
    so a reply is matched to its request by the request id in the msgpack
    bodies (sd_mdp_body_id: "job_id", "id" or "request_id"); bodies without
    an id are matched to the oldest outstanding request of the service. A
    reply that matches no outstanding request (the second answer to a
    resent request) is dropped, so callers see one reply per request.
*/
#ifndef SD_MDCLI_H
#define SD_MDCLI_H

#include <czmq.h>

#include "sd_config.h"

typedef struct sd_mdcli sd_mdcli;

//  Called for each reply. The callback takes ownership of body (the frames
//  after the service name).
typedef void(sd_mdcli_reply_fn)(sd_mdcli *client, const char *service, zmsg_t *body, void *arg);

//  Creates the client and connects to endpoint. broker may be NULL for
//  the defaults; otherwise it gives heartbeat_ms and liveness (how silence
//  is judged), max_message_bytes and the CURVE keys. Returns NULL on
//  failure (logged), for example a key file that cannot be used.
sd_mdcli *sd_mdcli_new(const char *endpoint, const sd_config_broker *broker);

//  Registers the socket and a check timer on loop; replies go to handler.
//  Returns 0 or -1.
int sd_mdcli_attach(sd_mdcli *client, zloop_t *loop, sd_mdcli_reply_fn *handler, void *arg);

//  Sends body to service and keeps a copy until the reply. Takes ownership
//  of *body and sets it to NULL, even on failure. Returns 0 or -1.
int sd_mdcli_send(sd_mdcli *client, const char *service, zmsg_t **body);

//  Sends body to service and waits up to timeout_ms for the reply,
//  resending it when the broker is lost meanwhile. Returns the reply body
//  (caller destroys it), or NULL on timeout or error. Takes ownership of
//  *body. Not for use on a client attached to a loop.
zmsg_t *sd_mdcli_request(sd_mdcli *client, const char *service, zmsg_t **body, int timeout_ms);

//  Returns how many requests wait for a reply (probes not counted).
size_t sd_mdcli_outstanding(sd_mdcli *client);

//  Returns how many times the client has built a new socket after losing
//  the broker.
unsigned sd_mdcli_reconnects(sd_mdcli *client);

void sd_mdcli_destroy(sd_mdcli **client);

#endif

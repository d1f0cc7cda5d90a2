/*  sd_mdcli: an asynchronous MDP/0.1 client (DEALER socket).

    Many requests may be outstanding at once; MDP replies carry only the
    service name, so callers match replies to requests by the ids inside
    the msgpack bodies. The blocking sd_mdcli_request serves the CLI.
*/
#ifndef SD_MDCLI_H
#define SD_MDCLI_H

#include <czmq.h>

#include "sd_config.h"

typedef struct sd_mdcli sd_mdcli;

//  Called for each reply. The callback takes ownership of body (the frames
//  after the service name).
typedef void(sd_mdcli_reply_fn)(sd_mdcli *client, const char *service, zmsg_t *body, void *arg);

//  Creates the client and connects to endpoint. broker may be NULL, or give
//  CURVE keys and size limits. Returns NULL on failure.
sd_mdcli *sd_mdcli_new(const char *endpoint, const sd_config_broker *broker);

//  Registers the socket on loop; replies go to handler. Returns 0 or -1.
int sd_mdcli_attach(sd_mdcli *client, zloop_t *loop, sd_mdcli_reply_fn *handler, void *arg);

//  Sends body to service. Takes ownership of *body and sets it to NULL,
//  even on failure. Returns 0 or -1.
int sd_mdcli_send(sd_mdcli *client, const char *service, zmsg_t **body);

//  Sends body to service and waits up to timeout_ms for the reply. Returns
//  the reply body (caller destroys it), or NULL on timeout or error. Takes
//  ownership of *body. Not for use on a client attached to a loop.
zmsg_t *sd_mdcli_request(sd_mdcli *client, const char *service, zmsg_t **body, int timeout_ms);

void sd_mdcli_destroy(sd_mdcli **client);

#endif

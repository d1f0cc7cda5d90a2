/*  sd_broker: the Majordomo (MDP/0.1, ZeroMQ RFC 7) broker and the table
    bus proxy, on one zloop.

    One ROUTER socket serves clients and workers. Workers register a
    service with READY; each service keeps its waiting workers in least
    recently used order and queues requests while none is free. Workers
    that stop heartbeating, idle or busy, are expired. The internal service
    "mmi.service" returns "200" when a service has live workers and "404"
    otherwise; other "mmi." names return "501".

    The table bus is an XSUB socket (publishers connect) and an XPUB socket
    (subscribers connect); messages flow XSUB to XPUB and subscriptions
    XPUB to XSUB.

    Nothing a peer sends may crash the broker: malformed frames from a
    client are logged and ignored, and a worker that breaks the protocol
    is sent DISCONNECT and forgotten.
*/
#ifndef SD_BROKER_H
#define SD_BROKER_H

#include <czmq.h>

#include "sd_config.h"

typedef struct sd_broker sd_broker;

//  Creates the broker and binds its three sockets to config's bind,
//  bus_publish_bind and bus_subscribe_bind (or their defaults when a field
//  is NULL). config may be NULL for every default, and is not kept.
//  Returns NULL when a socket cannot be created or bound (logged).
sd_broker *sd_broker_new(const sd_config_broker *config);

//  Registers the sockets and the heartbeat timer on loop. Returns 0 or -1.
int sd_broker_attach(sd_broker *self, zloop_t *loop);

//  Returns the endpoint the MDP ROUTER is bound to, with the real port
//  when the configured port was "*". The broker owns the string.
const char *sd_broker_endpoint(sd_broker *self);

//  Returns the bound endpoint of the bus XSUB socket (publishers connect).
const char *sd_broker_bus_publish_endpoint(sd_broker *self);

//  Returns the bound endpoint of the bus XPUB socket (subscribers connect).
const char *sd_broker_bus_subscribe_endpoint(sd_broker *self);

//  Returns how many workers are registered for service (0 when unknown).
size_t sd_broker_worker_count(sd_broker *self, const char *service);

//  Closes the sockets (removing them from the loop if attached) and frees
//  the broker; *self_p is set to NULL. Safe on NULL.
void sd_broker_destroy(sd_broker **self_p);

//  zactor body that runs a broker on a loop of its own, for tests and
//  embedding: zactor_new(sd_broker_actor, (sd_config_broker *)config).
//  After start the actor sends one message of three strings: the MDP, bus
//  publish and bus subscribe endpoints, all empty when the broker could
//  not start. It stops on "$TERM" (sent by zactor_destroy).
void sd_broker_actor(zsock_t *pipe, void *config);

#endif

/*  sd_broker: the Majordomo (MDP/0.1, ZeroMQ RFC 7) broker and the table
    bus proxy, on one zloop.

    One ROUTER socket serves clients and workers. Workers register a
    service with READY; each service keeps its waiting workers in least
    recently used order and queues requests while none is free, up to
    queue_limit (then an `error` reply with code 503). Workers that stop
    heartbeating, idle or busy, are expired; the request a removed worker
    held goes back to the front of its queue, and that worker's late reply
    is dropped. A queued request whose "deadline_ms" passes gets an `error`
    reply with code 408. The internal services are "mmi.service" ("200"
    when a service has live workers, "404" otherwise), "mmi.status" (a
    msgpack map of counts per service, see sd_broker_mmi.c); other "mmi."
    names return "501".

    With broker.curve in the config every socket is a CURVE server and a
    zauth ZAP handler accepts only the public keys of allowed_keys.

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
//  is NULL). config may be NULL for every default, and is not kept. Without
//  CURVE, binding an endpoint that sd_broker_endpoint_is_local rejects is
//  logged as a warning. With CURVE only one broker may exist per process
//  at a time (zauth owns the process's ZAP endpoint). Returns NULL when a
//  key file cannot be used or a socket cannot be created or bound (logged).
sd_broker *sd_broker_new(const sd_config_broker *config);

//  Registers the sockets and the heartbeat timer on loop. Returns 0 or -1.
int sd_broker_attach(sd_broker *self, zloop_t *loop);

//  Returns true when endpoint can only be reached from this host: ipc://,
//  inproc://, or tcp:// on a loopback address (127.0.0.0/8, ::1,
//  ::ffff:127.x.x.x) or "localhost". "*", other addresses, host names and
//  interface names return false.
bool sd_broker_endpoint_is_local(const char *endpoint);

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

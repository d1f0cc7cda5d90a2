/*  sd_broker_internal: the broker's state, shared by sd_broker.c (sockets,
    loop, frame checks), sd_broker_service.c (services, queues, dispatch)
    and sd_broker_worker.c (worker commands, expiry). Not for use outside
    broker/.
*/
#ifndef SD_BROKER_INTERNAL_H
#define SD_BROKER_INTERNAL_H

#include "sd_broker.h"

//  Maximum number of services at once. Requests and READY for further
//  names are dropped, so that clients inventing names cannot grow the
//  broker without bound.
#define SD_BROKER_SERVICES_MAX 1024

//  Maximum warnings about misbehaving peers written per second. The rest
//  are counted and reported in one line.
#define SD_BROKER_PEER_WARNINGS_PER_SECOND 20

//  How long the broker remembers that a worker's request was requeued, in
//  heartbeat intervals, so that a late reply from that worker is dropped
//  quietly instead of being treated as a protocol violation.
#define SD_BROKER_LATE_REPLY_HEARTBEATS 100

//  Characters of a routing id in hex with its terminator: libzmq routing
//  ids are 1 to 255 bytes.
#define SD_BROKER_ID_HEX_SIZE (2 * 255 + 1)

typedef struct sd_broker_worker sd_broker_worker;

//  One frame to send, by address and size; the caller keeps the data.
typedef struct {
    const void *data;
    size_t size;
} sd_broker_frame;

//  One client request, queued or held by a worker.
typedef struct {
    uint64_t seq;        //  broker-wide sequence number, in logs and late-reply records
    zframe_t *client;    //  the client's routing id
    zmsg_t *body;        //  the frames after the service name
    bool has_deadline;   //  the first body frame has an integer "deadline_ms"
    int64_t deadline_ms; //  absolute, milliseconds since the Unix epoch
} sd_broker_request;

typedef struct {
    char *name;        //  printable ASCII, checked by sd_mdp_service_valid
    zlist_t *requests; //  sd_broker_request, next to dispatch first
    zlist_t *waiting;  //  idle sd_broker_worker, least recently used first
    size_t workers;    //  live workers, idle or busy
    uint64_t served;   //  worker replies forwarded to clients
} sd_broker_service;

struct sd_broker_worker {
    char *id;           //  routing id in hex: the key in sd_broker.workers
    zframe_t *identity; //  routing id as received
    sd_broker_service *service;
    int64_t expiry;             //  zclock_mono() after which it counts as dead
    sd_broker_request *request; //  while busy, NULL while idle
};

//  A worker that was removed while it held a request, which went back to
//  the queue. Kept in sd_broker.requeued under the worker's hex id.
typedef struct {
    uint64_t seq;      //  the requeued request
    int64_t forget_at; //  zclock_mono() after which the record is dropped
} sd_broker_requeued;

struct sd_broker {
    zsock_t *router; //  MDP clients and workers
    zsock_t *xsub;   //  bus: publishers connect here
    zsock_t *xpub;   //  bus: subscribers connect here
    char *endpoint;  //  bound endpoints, real ports
    char *bus_publish_endpoint;
    char *bus_subscribe_endpoint;
    zloop_t *loop;       //  set by sd_broker_attach
    int heartbeat_timer; //  zloop timer id, -1 when none
    int heartbeat_ms;
    int liveness;
    size_t queue_limit;     //  queued requests per service
    zhash_t *services;      //  name -> sd_broker_service
    zhash_t *workers;       //  hex id -> sd_broker_worker
    zhash_t *requeued;      //  hex id -> sd_broker_requeued
    uint64_t next_seq;      //  sequence number of the next request
    zcert_t *curve_cert;    //  the broker's key pair, NULL without CURVE
    zactor_t *auth;         //  zauth ZAP handler, NULL without CURVE
    char *allowed_dir;      //  private folder of allowed public keys for zauth
    int64_t warning_second; //  zclock_mono() / 1000 of the current warning budget
    unsigned warnings_this_second;
    unsigned warnings_suppressed;
};

//  Returns true when a warning about a peer may be written now; false
//  counts it as suppressed.
bool sd_broker_peer_warning_allowed(sd_broker *self);

//  Sends one message on the ROUTER: the count frames of head, then the
//  frames of body (NULL for none). Body frames go out by reference
//  (ZFRAME_REUSE), so the caller keeps body, and a large frame is not
//  copied. Nothing is allocated for the envelope, which matters because
//  the broker sends two messages per request. Returns 0, or -1 with errno
//  (EHOSTUNREACH when the peer is gone, EAGAIN when its queue is full).
int sd_broker_send_frames(sd_broker *self, const sd_broker_frame *head, size_t count,
                          zmsg_t *body);

//  Writes the routing id in frame as upper-case hex into hex (at least
//  SD_BROKER_ID_HEX_SIZE bytes), the form that keys sd_broker.workers.
void sd_broker_id_hex(zframe_t *frame, char hex[SD_BROKER_ID_HEX_SIZE]);

//  Handles a client message; msg is [service][body...] and sender the
//  client's routing id. Takes ownership of both.
void sd_broker_client_message(sd_broker *self, zframe_t **sender, zmsg_t **msg);

//  Handles a worker message; msg is [command][...] after the MDPW01 header.
//  Takes ownership of both.
void sd_broker_worker_message(sd_broker *self, zframe_t **sender, zmsg_t **msg);

//  Returns true when sender is a registered worker.
bool sd_broker_worker_registered(sd_broker *self, zframe_t *sender);

//  Handles a worker message that does not follow MDP/0.1: sends the sender
//  DISCONNECT and deletes its record if it was registered. Returns true when sender
//  was a registered worker.
bool sd_broker_worker_violation(sd_broker *self, zframe_t *sender, const char *what);

//  Expires workers past their expiry and heartbeats the others.
void sd_broker_heartbeat(sd_broker *self);

//  Frees every service and worker record (on destroy).
void sd_broker_forget_all(sd_broker *self);

//  Loads the broker's key pair and starts the zauth ZAP handler that
//  accepts only the public keys in config->curve.allowed_keys. Returns 0,
//  or -1 (logged). Call before the sockets are bound.
int sd_broker_curve_start(sd_broker *self, const sd_config_broker *config);

//  Makes socket a CURVE server when CURVE is on. Returns 0 or -1.
int sd_broker_curve_apply(sd_broker *self, zsock_t *socket);

//  Stops zauth and removes the folder of allowed keys. Safe when CURVE was
//  never started.
void sd_broker_curve_stop(sd_broker *self);

#endif

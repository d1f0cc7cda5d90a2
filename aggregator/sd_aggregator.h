/*  sd_aggregator: the aggregator service on the table bus.

    Subscribes to "raw.<shard>." for the shard it serves (or every shard)
    and merges the table.raw parts of each (request_id, table_id) with
    sd_normalize. The table.normalized message goes out on
    "table.<reporter_id>." as two frames, topic then body, once every
    expected part is in or at the table's deadline (real clock), whichever
    comes first. A published table is then dropped from memory, but its key
    is kept for a while so that late parts are discarded instead of
    starting the table again. Malformed bus messages are logged and
    dropped.
*/
#ifndef SD_AGGREGATOR_H
#define SD_AGGREGATOR_H

#include <czmq.h>

#include <stdint.h>

#include "sd_config.h"

typedef struct _sd_aggregator sd_aggregator;

typedef struct {
    const char *bus_subscribe;      //  XPUB side of the bus, where parts arrive (connected)
    const char *bus_publish;        //  XSUB side of the bus, where tables go (connected)
    int shards;                     //  configured shard count; below 1 counts as 1
    int shard;                      //  the shard served, or -1 for every shard
    int64_t max_message_bytes;      //  ZMQ_MAXMSGSIZE and decoder limit; 0 for the default
    int64_t finished_ttl_ms;        //  how long published table keys are kept; 0 for 300000
    const sd_config_broker *broker; //  CURVE keys of the bus sockets, or NULL for plain sockets
} sd_aggregator_options;

//  Creates the sockets, subscribes and connects them. The options are
//  copied. Returns NULL, with an error logged, when an option is invalid or
//  a socket cannot be created or connected.
sd_aggregator *sd_aggregator_new(const sd_aggregator_options *options);

//  Registers the subscriber and the timers on loop. Returns 0 or -1.
int sd_aggregator_attach(sd_aggregator *self, zloop_t *loop);

//  Closes the sockets and drops the tables still open (without publishing
//  them), then frees the aggregator and sets *self_p to NULL. Safe on NULL.
void sd_aggregator_destroy(sd_aggregator **self_p);

//  Runs an aggregator in a zactor thread: zactor_new(sd_aggregator_actor,
//  &options) returns once it is subscribed, and zactor_destroy stops it.
//  options must stay valid until zactor_new returns.
void sd_aggregator_actor(zsock_t *pipe, void *options);

#endif

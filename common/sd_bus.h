/*  sd_bus: topics of the table bus (the broker's XSUB/XPUB proxy).

    Every bus message is two frames: the topic, then one msgpack body.
    Workers publish table.raw parts on "raw.<shard>." where shard is
    sd_bus_shard(table_id, shards); aggregators publish table.normalized on
    "table.<reporter-id>.". Topics end with '.' so that a subscription to
    "table.r1." never matches "table.r10.".

    Bus sockets connect to the broker's XSUB (publishers) or XPUB
    (subscribers) and take their CURVE keys and ZMQ_MAXMSGSIZE from the
    config's broker section, like the MDP sockets do.
*/
#ifndef SD_BUS_H
#define SD_BUS_H

#include <czmq.h>
#include <stddef.h>

#include "sd_config.h"

//  Returns the shard (0 .. shards-1) that owns a table: FNV-1a (32-bit) of
//  table_id modulo shards. shards below 1 count as 1.
unsigned sd_bus_shard(const char *table_id, int shards);

//  Writes "raw.<shard>." into buffer. Returns buffer.
const char *sd_bus_raw_topic(char *buffer, size_t size, unsigned shard);

//  Writes "table.<reporter_id>." into buffer. Returns buffer.
const char *sd_bus_table_topic(char *buffer, size_t size, const char *reporter_id);

//  Creates a socket of type (ZMQ_PUB or ZMQ_SUB, for example), makes it a
//  CURVE client of the broker when broker->curve is set, sets
//  ZMQ_MAXMSGSIZE to broker->max_message_bytes, then connects it to
//  endpoint. Options are set before connect because libzmq applies them
//  to a connection when it is made. broker may be NULL for a plain socket
//  without a size limit. Returns the socket, owned by the caller, or NULL
//  with one line in error (size bytes) naming the endpoint or key file and
//  what to do. A SUB socket has no subscription yet.
zsock_t *sd_bus_socket_new(int type, const char *endpoint, const sd_config_broker *broker,
                           char *error, size_t size);

#endif

/*  sd_bus: topics of the table bus (the broker's XSUB/XPUB proxy).

    Every bus message is two frames: the topic, then one msgpack body.
    Workers publish table.raw parts on "raw.<shard>." where shard is
    sd_bus_shard(table_id, shards); aggregators publish table.normalized on
    "table.<reporter-id>.". Topics end with '.' so that a subscription to
    "table.r1." never matches "table.r10.".
*/
#ifndef SD_BUS_H
#define SD_BUS_H

#include <stddef.h>

//  Returns the shard (0 .. shards-1) that owns a table: FNV-1a (32-bit) of
//  table_id modulo shards. shards below 1 count as 1.
unsigned sd_bus_shard(const char *table_id, int shards);

//  Writes "raw.<shard>." into buffer. Returns buffer.
const char *sd_bus_raw_topic(char *buffer, size_t size, unsigned shard);

//  Writes "table.<reporter_id>." into buffer. Returns buffer.
const char *sd_bus_table_topic(char *buffer, size_t size, const char *reporter_id);

#endif

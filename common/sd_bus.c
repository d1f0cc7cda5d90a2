/*  sd_bus: table bus topics and sharding.  */
#include "sd_bus.h"

#include <stdint.h>
#include <stdio.h>

unsigned sd_bus_shard(const char *table_id, int shards)
{
    uint32_t hash = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)table_id; p && *p; p++) {
        hash ^= *p;
        hash *= 16777619u;
    }
    return shards > 1 ? hash % (uint32_t)shards : 0;
}

const char *sd_bus_raw_topic(char *buffer, size_t size, unsigned shard)
{
    snprintf(buffer, size, "raw.%u.", shard);
    return buffer;
}

const char *sd_bus_table_topic(char *buffer, size_t size, const char *reporter_id)
{
    snprintf(buffer, size, "table.%s.", reporter_id);
    return buffer;
}

/*  sd_bus: table bus topics, sharding and sockets.  */
#include "sd_bus.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "sd_curve_config.h"
#include "sd_mdp.h"

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

//  Sets the broker's CURVE client keys and message size limit on socket.
//  Returns 0, or -1 with error filled.
static int s_apply_broker_options(zsock_t *socket, const char *endpoint,
                                  const sd_config_broker *broker, char *error, size_t size)
{
    char curve_error[512];
    if (sd_curve_config_apply_client(socket, broker, curve_error, sizeof curve_error) != 0) {
        snprintf(error, size, "bus socket for %s: broker.curve: %s", endpoint, curve_error);
        return -1;
    }
    if (sd_mdp_set_max_message_bytes(socket, broker->max_message_bytes) != 0) {
        snprintf(error, size, "bus socket for %s: cannot set broker.max_message_bytes %lld: %s",
                 endpoint, (long long)broker->max_message_bytes, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

zsock_t *sd_bus_socket_new(int type, const char *endpoint, const sd_config_broker *broker,
                           char *error, size_t size)
{
    if (!endpoint || !*endpoint) {
        snprintf(error, size, "the bus endpoint is missing: set broker.bus_publish and "
                 "broker.bus_subscribe");
        return NULL;
    }
    zsock_t *socket = zsock_new(type);
    if (!socket) {
        snprintf(error, size, "cannot create a bus socket for %s: %s", endpoint,
                 zmq_strerror(errno));
        return NULL;
    }
    if (broker && s_apply_broker_options(socket, endpoint, broker, error, size) != 0)
        zsock_destroy(&socket);
    else if (zsock_connect(socket, "%s", endpoint) != 0) {
        snprintf(error, size, "cannot connect the bus socket to \"%s\": %s; check the "
                 "endpoint in broker.bus_publish or broker.bus_subscribe", endpoint,
                 zmq_strerror(errno));
        zsock_destroy(&socket);
    }
    return socket;
}

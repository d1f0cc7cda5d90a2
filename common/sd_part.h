/*  sd_part: the messages any fetch worker sends for a job, built from a
    plain sd_table_data so that workers of every API share them.

    Each (table, period) of a job's site becomes one table.raw part,
    published on the table bus as two frames: the topic "raw.<shard>."
    (shard = sd_bus_shard(table_id, shards)) and the msgpack body. A part
    that failed is published too, with its columns, no rows and the error,
    so that the aggregator does not wait for it. The fetch.reply lists every
    part with its row count and the hex SHA-256 of its body ("" on error).
*/
#ifndef SD_PART_H
#define SD_PART_H

#include <czmq.h>

#include "sd_proto.h"

//  Where parts go: a PUB socket connected to the bus, and the number of
//  aggregator shards.
typedef struct {
    zsock_t *publisher;
    int shards;
} sd_part_bus;

//  Publishes the part of (query, query->periods[period]) for the request's
//  site with the columns and rows of *data, which the call takes (it is
//  cleared, also on failure). When error is not NULL the rows are dropped
//  and the part carries the error. Appends the part's status to reply.
//  Returns 0, or -1 when the part could not be encoded or sent (its
//  status, with the reason, is still appended when memory allows).
int sd_part_publish(const sd_part_bus *bus, const sd_fetch_request *request,
                    const sd_query *query, size_t period, sd_table_data *data,
                    const sd_strings *warnings, const char *error, sd_fetch_reply *reply);

//  Returns a new fetch.reply message for the request with no parts yet, or
//  NULL when out of memory.
sd_msg *sd_part_reply_new(const sd_fetch_request *request);

//  Encodes msg into a new one-frame zmsg, or returns NULL (logged).
zmsg_t *sd_part_encode(const sd_msg *msg);

//  Returns a new one-frame zmsg holding an `error` message that replies to id
//  ("" when unknown), or NULL when out of memory.
zmsg_t *sd_part_error_reply(const char *id, sd_error_code code, const char *text);

#endif

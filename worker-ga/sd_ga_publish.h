/*  sd_ga_publish: the messages a GA worker sends for a fetch job.

    Each (table, period) of the job's site becomes one table.raw part,
    published on the table bus as two frames: the topic "raw.<shard>."
    (shard = sd_bus_shard(table_id, shards)) and the msgpack body. A part
    that failed is published too, with its columns, no rows and the error,
    so that the aggregator does not wait for it. The fetch.reply then lists
    every part with its row count and the SHA-256 of its body.
*/
#ifndef SD_GA_PUBLISH_H
#define SD_GA_PUBLISH_H

#include <czmq.h>

#include "sd_ga_rollup.h"
#include "sd_proto.h"

//  Where parts go: the PUB socket connected to the bus, and the number of
//  aggregator shards.
typedef struct {
    zsock_t *publisher;
    int shards;
} sd_ga_bus;

//  Publishes the part of (query, query->periods[period]) for the request's
//  site. The rows are the roll-up's rows of that period, or none when error
//  is not NULL (or rollup is NULL). Appends the part's status to reply.
//  Returns 0, or -1 when the part could not be encoded or sent (its status,
//  with the reason, is still appended when memory allows).
int sd_ga_publish_part(const sd_ga_bus *bus, const sd_fetch_request *request,
                       const sd_query *query, size_t period, const sd_ga_rollup *rollup,
                       const sd_strings *warnings, const char *error, sd_fetch_reply *reply);

//  Returns a new fetch.reply message for the request with no parts yet, or
//  NULL when out of memory.
sd_msg *sd_ga_reply_new(const sd_fetch_request *request);

//  Encodes msg into a new one-frame zmsg, or returns NULL (logged).
zmsg_t *sd_ga_encode(const sd_msg *msg);

//  Returns a new one-frame zmsg containing an `error` message that replies
//  to the message id ("" when unknown), or NULL when out of memory.
zmsg_t *sd_ga_error_reply(const char *id, sd_error_code code, const char *text);

#endif

/*  sd_reply_fit: keeps a report.reply within the size limits its peer
    decodes with, so that a report with one huge output still reaches the
    client with its other outputs.

    An output whose body is longer than limits->max_string_bytes is left
    out; then, while the encoded reply is larger than
    limits->max_message_bytes, the largest output left is left out too.
    Each output left out adds a warning to the reply naming its format and
    size.
*/
#ifndef SD_REPLY_FIT_H
#define SD_REPLY_FIT_H

#include "sd_proto.h"

//  Fits reply (a report.reply) to limits. Returns the number of outputs
//  left out, or -1 when the reply cannot be encoded or out of memory.
int sd_reply_fit(sd_msg *reply, const sd_proto_limits *limits);

#endif

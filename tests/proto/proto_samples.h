/*  proto_samples: one message of each type with every field set, and a
    field-by-field comparison, shared by the proto tests and the
    cross-check tool. tests/proto/proto_crosscheck.py writes the same
    values out by hand; change both together.
*/
#ifndef PROTO_SAMPLES_H
#define PROTO_SAMPLES_H

#include "sd_proto.h"

#include <stdio.h>

//  Returns a new message of the given type with every field set (aborts
//  when out of memory).
sd_msg *proto_sample(sd_msg_type type);

//  Returns the warnings list of a table.raw, table.normalized or
//  fetch.reply message, or NULL for other types.
sd_strings *proto_sample_warnings(sd_msg *msg);

//  Compares every field of two messages (doubles with a relative tolerance
//  of 1e-9). Returns the number of differences and writes one line per
//  difference to log.
int proto_compare(const sd_msg *expected, const sd_msg *actual, FILE *log);

//  Decodes body with sd_table_raw_decode_rows and compares what the
//  callbacks receive with expected, the table.raw that sd_msg_decode made
//  of the same body (differences are written to log). Returns -1 when the
//  body is rejected (err filled), else the number of differences. A
//  successful decode counts as one difference when expected is NULL or of
//  another type.
int proto_check_rows(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                     const sd_msg *expected, sd_proto_error *err, FILE *log);

//  Encodes msg, aborting with the error when encoding fails. Free *data.
void proto_encode_or_die(const sd_msg *msg, uint8_t **data, size_t *size);

#endif

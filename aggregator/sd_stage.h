/*  sd_stage: the rows of one part after the row rules, kept until the
    part is known to be valid.

    A part arrives as a stream of rows (sd_table_raw_decode_rows), and a
    bad cell in its last row rejects the whole part, so its rows cannot be
    merged as they come. Each row is staged instead: the hash of its merge
    key, its key cells and its metric values. The key strings stay where
    they are (in the message body or the spec) unless the caller asks for
    a copy, as for a value the rules rewrote in a buffer they reuse. The
    room is kept from part to part, so a table of many parts touches the
    same memory again rather than new pages.
*/
#ifndef SD_STAGE_H
#define SD_STAGE_H

#include "sd_cell.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _sd_stage sd_stage;

//  Returns an empty stage for rows of key_count keys and value_count
//  metric values, or NULL when out of memory.
sd_stage *sd_stage_new(size_t key_count, size_t value_count);

void sd_stage_destroy(sd_stage **self_p);

//  Forgets every row and the copied strings, keeping the room for the next
//  part.
void sd_stage_clear(sd_stage *self);

//  Appends a row. keys (key_count cells) are stored as they are, except
//  that the string of each key k with copy[k] true is copied. values has
//  value_count numbers. Returns 0, or -1 when out of memory.
int sd_stage_push(sd_stage *self, uint64_t hash, const sd_value *keys, const bool *copy,
                  const sd_number *values);

//  Returns the number of rows staged.
size_t sd_stage_count(const sd_stage *self);

//  Return the hash, the key cells and the values of staged row `row`
//  (below sd_stage_count), valid until the next push or clear.
uint64_t sd_stage_hash(const sd_stage *self, size_t row);
const sd_value *sd_stage_keys(const sd_stage *self, size_t row);
const sd_number *sd_stage_values(const sd_stage *self, size_t row);

#endif

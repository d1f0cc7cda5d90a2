/*  sd_cell: arithmetic on metric values and helpers for table cells.

    An sd_number is a metric value that stays an int64 as long as every
    input is an integer and no sum or difference overflows. Otherwise it
    turns into a double. Non-finite results are replaced by 0, so no NaN or
    infinity reaches a table.
*/
#ifndef SD_CELL_H
#define SD_CELL_H

#include "sd_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    bool is_float;
    union {
        int64_t i;                  //  the value when !is_float
        double f;                   //  the value when is_float
    };
} sd_number;

sd_number sd_number_int(int64_t value);

//  Returns value, or 0.0 when value is NaN or infinite.
sd_number sd_number_float(double value);

//  Returns the value of a metric cell: INT and FLOAT as they are, anything
//  else as integer 0 (check with sd_cell_is_number first).
sd_number sd_number_from_cell(const sd_value *cell);

double sd_number_as_double(sd_number number);

bool sd_number_is_zero(sd_number number);

//  Returns a + b (and a - b): an integer when both are integers and the
//  result fits, else a double.
sd_number sd_number_add(sd_number a, sd_number b);
sd_number sd_number_subtract(sd_number a, sd_number b);

//  Returns <0, 0 or >0 as a is below, equal to or above b. Integers are
//  compared exactly.
int sd_number_compare(sd_number a, sd_number b);

//  Writes the number into a cell (INT or FLOAT), overwriting it.
void sd_number_to_cell(sd_number number, sd_value *cell);

//  Returns true for an INT cell, a finite FLOAT cell, or NIL (an absent
//  value that counts as 0).
bool sd_cell_is_number(const sd_value *cell);

//  Copies src into dst (NIL beforehand), duplicating a string. Returns 0,
//  or -1 when out of memory.
int sd_cell_copy(sd_value *dst, const sd_value *src);

//  Orders two cells: by kind first (NIL, BOOL, INT, FLOAT, STRING), then
//  by value, strings by their bytes. Returns <0, 0 or >0.
int sd_cell_compare(const sd_value *a, const sd_value *b);

//  Returns true when both cells have the same kind and the same bytes
//  (strings by length and bytes, doubles by their bits), the equality
//  that merges rows.
bool sd_cell_equal(const sd_value *a, const sd_value *b);

//  Returns a hash of the cell consistent with sd_cell_equal, mixed with
//  seed (chain cells by passing the previous hash).
uint64_t sd_cell_hash(const sd_value *cell, uint64_t seed);

//  Returns the bytes sd_cell_write_key writes for the cell.
size_t sd_cell_key_size(const sd_value *cell);

//  Writes the cell as part of a hash key: a kind byte, then its value
//  (strings prefixed by their length, so no two keys collide). Returns the
//  bytes written.
size_t sd_cell_write_key(const sd_value *cell, uint8_t *out);

#endif

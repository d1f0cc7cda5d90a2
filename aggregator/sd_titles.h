/*  sd_titles: the title chosen for each merged row by top_title.

    Candidates are (row, title) pairs seen in current-period raw rows, each
    with the sum of a metric over those raw rows. The chosen title of a row
    is its candidate with the largest sum, ties going to the lowest title
    in sd_cell_compare order, so the choice does not depend on the order
    the parts arrived in. Titles are compared as bytes.
*/
#ifndef SD_TITLES_H
#define SD_TITLES_H

#include "sd_compare.h"

#include <stddef.h>
#include <stdint.h>

typedef struct _sd_titles sd_titles;

//  Returns an empty set of candidates, or NULL when out of memory.
sd_titles *sd_titles_new(void);

void sd_titles_destroy(sd_titles **self_p);

//  Adds value to the sum of the candidate (row, title), creating it when
//  new. row_hash is the hash of the row's key, the same for every call on
//  one row. stored is the row's own title cell, which must outlive the
//  set: a title equal to it is summed per row without a copy, and any
//  other title is copied. Returns 0 or -1.
int sd_titles_add(sd_titles *self, size_t row, uint64_t row_hash, const sd_value *title,
                  sd_number value, const sd_value *stored);

//  Points key cell `key` of every row that has a candidate at its chosen
//  title, which the set owns or borrows: the rows must not free that cell
//  and must not be read after the set is destroyed. Rows from row_count on
//  are ignored. Returns 0, or -1 when out of memory.
int sd_titles_apply(const sd_titles *self, sd_merged_row *rows, size_t row_count, size_t key);

#endif

/*  sd_matrix: the share_matrix pivot (rule "share_matrix ROW COLUMN METRIC").

    Used for the YouTube traffic source table, whose raw rows are (channel,
    source type, watch time). After merging, the pivot turns the merged
    rows keyed by every spec key into rows keyed by every key except
    COLUMN (normally just ROW, the channel):

      - the key columns are spec.keys without COLUMN;
      - the spec's own derived metrics come first, computed from each
        row's sums over all its COLUMN values (so a "watch_time" scale of
        the metric is the channel's total, and sorting by it orders the
        channels by their total);
      - then one metric column "share_<value>" per distinct COLUMN value,
        unit "percent": the row's METRIC for that value divided by the
        row's METRIC over all values, times 100 (0 when the row's total is
        0). These columns are ordered by the value's METRIC summed over
        the current period of all rows, largest first, ties by value in
        byte order. A value that is not a string is named by its number,
        "true"/"false", or "(not set)" for NIL.

    Each share gets the usual previous_ and yearly_ columns, and the totals
    row carries the network-wide shares. A pivoted row is present in a
    period when any of its merged rows was.
*/
#ifndef SD_MATRIX_H
#define SD_MATRIX_H

#include "sd_compare.h"
#include "sd_proto.h"

#include <stddef.h>

//  The pivoted table, ready for sd_compare_build.
typedef struct {
    sd_table_spec spec;             //  owned; no rules
    char **key_units;               //  borrowed strings, one per spec key
    sd_merged_row *rows;            //  owned
    size_t row_count;
} sd_matrix;

//  Pivots rows (built with spec, key_units) on key column_key, sharing
//  out spec.sum[metric]. matrix must be zeroed beforehand, and borrows
//  key_units, which must outlive it. Returns 0, or -1 when out of memory
//  (matrix is then cleared).
int sd_matrix_build(const sd_table_spec *spec, char *const *key_units, const sd_merged_row *rows,
                    size_t row_count, size_t column_key, size_t metric, sd_matrix *matrix);

//  Frees what the matrix owns and zeroes it. Safe on a zeroed matrix.
void sd_matrix_clear(sd_matrix *matrix);

#endif

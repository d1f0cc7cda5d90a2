/*  sd_yt_rollup: sums YouTube Analytics result tables of one query and one
    period over the channel ids of a channel.

    The columnHeaders of each result table must be the query's dimensions
    and then its metrics, in order. Dimension values are strings and metric
    values JSON numbers. Rows with equal dimension values are one row whose
    metrics are summed. A metric stays an integer while every value is an
    integer.
*/
#ifndef SD_YT_ROLLUP_H
#define SD_YT_ROLLUP_H

#include <stddef.h>

#include "sd_proto.h"

typedef struct sd_yt_rollup sd_yt_rollup;

//  Creates an empty roll-up for the query's dimensions and metrics (the
//  query must outlive it). Returns NULL when out of memory.
sd_yt_rollup *sd_yt_rollup_new(const sd_query *query);

//  Adds the rows of one reports.query response body. Returns 0, or -1 with
//  error filled (not JSON, headers that do not match, a value of the wrong
//  type, integer overflow, out of memory).
int sd_yt_rollup_add(sd_yt_rollup *rollup, const char *body, size_t size, char *error,
                     size_t error_size);

//  Returns the number of rows in the body that sd_yt_rollup_add took last
//  (before merging), so that a caller can tell a full page.
size_t sd_yt_rollup_added(const sd_yt_rollup *rollup);

//  Returns the number of rows.
size_t sd_yt_rollup_rows(const sd_yt_rollup *rollup);

//  Fills table (zeroed) with the query's columns, in its order (dimensions,
//  kind dimension; metrics, kind metric, unit "minutes" for
//  estimatedMinutesWatched and "count" for the others) and the rows in
//  the order first seen. Returns 0, or -1 when out of memory.
int sd_yt_rollup_table(const sd_yt_rollup *rollup, sd_table_data *table);

void sd_yt_rollup_destroy(sd_yt_rollup **rollup);

#endif

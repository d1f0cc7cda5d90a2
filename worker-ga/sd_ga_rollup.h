/*  sd_ga_rollup: sums the rows of a query group over properties and pages.

    Rows are kept per period. Rows of one period with equal dimension
    values are one row whose metrics are summed, which rolls the properties
    of a site up into one table. A metric stays an integer while every page
    gives it as TYPE_INTEGER; once a page gives it as a decimal, the
    metric's sums become doubles in every period.
*/
#ifndef SD_GA_ROLLUP_H
#define SD_GA_ROLLUP_H

#include <stddef.h>

#include "sd_ga_response.h"
#include "sd_proto.h"

typedef struct sd_ga_rollup sd_ga_rollup;

//  Creates an empty roll-up for period_count periods of rows with the given
//  dimensions and metrics (copied). Returns NULL when out of memory.
sd_ga_rollup *sd_ga_rollup_new(size_t period_count, const sd_strings *dimensions,
                               const sd_strings *metrics);

//  Adds the rows of page. A page row of period index p (in the request's
//  dateRanges) belongs to roll-up period first_period + p. Returns 0, or -1
//  with error filled (out of memory, integer overflow, page shape or period
//  out of range).
int sd_ga_rollup_add(sd_ga_rollup *rollup, const sd_ga_page *page, size_t first_period,
                     char *error, size_t error_size);

//  Returns the number of rows of a period.
size_t sd_ga_rollup_rows(const sd_ga_rollup *rollup, size_t period);

//  Fills table (which must be zeroed) with the columns (the dimensions,
//  kind dimension, then the metrics, kind metric, unit "count" or
//  "seconds") and, unless columns_only, the rows of period in the order
//  they were first seen. Returns 0, or -1 when out of memory.
int sd_ga_rollup_table(const sd_ga_rollup *rollup, size_t period, bool columns_only,
                       sd_table_data *table);

void sd_ga_rollup_destroy(sd_ga_rollup **rollup);

#endif

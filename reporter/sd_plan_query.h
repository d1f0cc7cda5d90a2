/*  sd_plan_query: the sd_query of one planned table.

    Fills the query of a fetch job from the table's definition: the API
    request fields, the dimensionFilter (sd_filters), the aggregator spec
    with its rules, whose arguments may come from the config, and the
    table's periods.
*/
#ifndef SD_PLAN_QUERY_H
#define SD_PLAN_QUERY_H

#include <stdbool.h>

#include "sd_plan.h"
#include "sd_proto.h"

//  Fills query (zeroed beforehand) for table of plan. parent_values are
//  the parent rows' key values of a dependent table, else NULL. Sets
//  *empty when the query's filter matches nothing. Returns 0, or -1 when
//  out of memory (the query may be partly filled; the fetch.request that
//  owns it frees it).
int sd_plan_query_fill(sd_query *query, const sd_plan *plan, const sd_plan_table *table,
                       const sd_strings *parent_values, bool *empty);

#endif

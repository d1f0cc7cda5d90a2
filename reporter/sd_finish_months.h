/*  sd_finish_months: daily rows summed into calendar months, the
    SD_FINISH_MONTHS and SD_FINISH_TOP_NETWORK_MONTHS steps of sd_finish.

    The table must have a "date" key (YYYYMMDD) and at most one other key;
    a table of another shape is left as it is. Only the current period's
    figures are kept, and the totals are dropped.
*/
#ifndef SD_FINISH_MONTHS_H
#define SD_FINISH_MONTHS_H

#include <stdbool.h>
#include <stddef.h>

#include "sd_plan.h"
#include "sd_proto.h"

//  Rebuilds table `index` of plan as one row per (month, other key value)
//  over the months of its current period. With top, only the networks
//  that sd_finish.h names are kept. Returns 0, or -1 when out of memory.
int sd_finish_months(const sd_plan *plan, size_t index, sd_table_normalized *table, bool top);

#endif

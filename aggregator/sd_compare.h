/*  sd_compare: derived metrics and comparison columns of merged rows.

    Input: rows whose `sum` metrics were already added up per period.
    Output: the shared table format. Each derived metric M, in spec order,
    gets the columns M, previous_figure_M, previous_change_M and
    previous_percentage_M when spec.compare has "previous", then the same
    with yearly_ when it has "yearly". After all metrics come the bool
    columns previous_new and yearly_new (one per comparison), true when the
    row has no match in that period. change = current - figure, and
    percentage = change / figure * 100, or 0 when the figure is 0. A row
    without a match gets figure 0.
*/
#ifndef SD_COMPARE_H
#define SD_COMPARE_H

#include "sd_cell.h"
#include "sd_proto.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SD_COMPARE_CURRENT,
    SD_COMPARE_PREVIOUS,
    SD_COMPARE_YEARLY,
    SD_COMPARE_PERIOD_COUNT,
} sd_compare_period;

//  "current", "previous" and "yearly", indexed by sd_compare_period.
extern const char *const sd_compare_labels[SD_COMPARE_PERIOD_COUNT];

//  Returns the sd_compare_period of a period label, or -1.
int sd_compare_period_index(const char *label);

//  One distinct key with its summed metrics.
typedef struct {
    sd_value *keys;                 //  one cell per spec key
    sd_number *sums;                //  SD_COMPARE_PERIOD_COUNT x spec sum count, period-major
    bool present[SD_COMPARE_PERIOD_COUNT];  //  a part of that period had this key
} sd_merged_row;

//  Fills table (empty and zeroed beforehand) with the columns above and
//  one row per merged row present in the current period. Derived metrics
//  are computed per period from the sums; a derived entry's operands name
//  a sum metric or an earlier derived metric. Rows are sorted by spec.sort
//  (a key column or a derived metric), ties broken by the key columns in
//  ascending byte order, then cut to spec.limit (0 keeps all). *totals
//  receives one cell per column, computed the same way from the sums over
//  every row before the limit, and NIL for key columns. Free it with
//  sd_compare_totals_destroy. key_units gives each key column's unit, and
//  table_id only names the table in log lines about a bad spec. Returns 0,
//  or -1 when out of memory (table and *totals are then left empty).
int sd_compare_build(const sd_table_spec *spec, char *const *key_units,
                     const sd_merged_row *rows, size_t row_count, const char *table_id,
                     sd_table_data *table, sd_value **totals);

//  Frees totals of count cells and sets *totals_p to NULL. Safe on NULL.
void sd_compare_totals_destroy(sd_value **totals_p, size_t count);

#endif

/*  sd_view_matrix: the view of a share matrix table (aggregator rule
    "share_matrix ROW COLUMN METRIC"), as rows of ROW values by columns of
    COLUMN values.

    The aggregator turns the YouTube traffic source table into one row per
    channel with a "share_<source type>" column per source type: the
    percentage of the channel's watch time from that source. The HTML and
    text forms show these as a matrix: one line per channel (then the
    totals line, "Total"), one column per source type in the table's
    column order, each share with one decimal ("12.3%").
*/
#ifndef SD_VIEW_MATRIX_H
#define SD_VIEW_MATRIX_H

#include <jansson.h>
#include <stdbool.h>

#include "sd_document.h"

//  Returns true when the table's definition has a share_matrix rule.
bool sd_view_matrix_is(const sd_document_table *entry);

//  Sets "matrix" (true), "headers" and "rows" of view for a table that
//  arrived. Each row is {total, keys: [{text}], cells: [{label, figure}]}.
//  Returns 0, or -1 when the table has no share column or memory ran out
//  (view may then hold part of the fields).
int sd_view_matrix_rows(json_t *view, const sd_document_table *entry);

#endif

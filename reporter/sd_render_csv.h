/*  sd_render_csv: the CSV form of a report.

    One block per table, blocks separated by an empty line. A block starts
    with the header line "table,COLUMN,..." (the normalized table's
    columns), then one line per row and a last line "NAME totals" for the
    totals. Values are written plainly for spreadsheets: integers as
    integers, fractions with up to 15 significant digits, no thousands
    separators. Fields are quoted as RFC 4180 specifies, and lines end in CRLF.
    A table that never arrived is a block with only "table" and its name.

    A report type marked csv_single_table (ga-social-export) is written as
    its first table alone: a header of the column names, then the rows,
    with no "table" column and no totals. A null cell is an empty field.
*/
#ifndef SD_RENDER_CSV_H
#define SD_RENDER_CSV_H

#include <stddef.h>

#include "sd_document.h"

//  Returns the report as UTF-8 CSV text (caller frees) with its length in
//  *size (may be NULL), or NULL when out of memory.
char *sd_render_csv(const sd_document *document, size_t *size);

#endif

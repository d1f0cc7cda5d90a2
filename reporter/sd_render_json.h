/*  sd_render_json: the JSON form of a report.

    {"report", "subject", "frequency", "periods": {"current": [start, end],
    "previous": [...], "yearly": [...]}, "status", "missing": [...],
    "warnings": [...], "tables": {NAME: {"columns": [column names],
    "rows": [{column: value}], "totals": {column: value}}}}

    Rows and totals use the normalized tables' columns (the shared
    comparison format): integers stay JSON integers, fractions are JSON
    reals, and a total that is nil (a dimension column) is left out. A
    table that never arrived appears with empty columns, rows and totals.
*/
#ifndef SD_RENDER_JSON_H
#define SD_RENDER_JSON_H

#include <stddef.h>

#include "sd_document.h"

//  Returns the report as UTF-8 JSON text ending in a newline (caller frees)
//  with its length in *size (may be NULL), or NULL when out of memory.
char *sd_render_json(const sd_document *document, size_t *size);

#endif

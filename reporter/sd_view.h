/*  sd_view: the data the HTML and text templates are rendered from.

    A report's view is a jansson object built from an sd_document, with
    every number already formatted by sd_format (thousands separators,
    percentages to one decimal) and every text made valid UTF-8 (invalid
    bytes and NUL become U+FFFD), so templates only place strings. The
    shape, which docs/templates.md lists in full:

      report view   subject, report, status, partial, periods.{current,
                    previous, yearly}, missing[], warnings[], has_missing, has_warnings
                    (missing or warnings), has_warning_lines, quality (what GA4
                    said of sampling and thresholding) and has_quality,
                    tables[] (each a table view plus "html", the table's
                    rendered HTML, filled in by sd_render_html)
      table view    name, title, arrived, layout flags (overview, ranked,
                    series, matrix), headers[], chart (src, alt) when it has
                    one, and the rows of its layout

    Changes carry "color": green for a rise, red for a fall, grey for none.
*/
#ifndef SD_VIEW_H
#define SD_VIEW_H

#include <jansson.h>
#include <stdbool.h>

#include "sd_document.h"

//  The colors of changes, as CSS hex colors.
#define SD_VIEW_COLOR_UP "#1a7f37"
#define SD_VIEW_COLOR_DOWN "#cf222e"
#define SD_VIEW_COLOR_FLAT "#57606a"

//  Returns a new view of the report without its tables' views, or NULL
//  when out of memory.
json_t *sd_view_report(const sd_document *document);

//  Returns a new view of one table of document, or NULL when out of memory.
//  chart_src, when not NULL, is the image URL of the table's chart.
json_t *sd_view_table(const sd_document *document, const sd_document_table *entry,
                      const char *chart_src);

//  Returns true when the table is a series: its first key is a date
//  ("date" YYYYMMDD, or a month YYYY-MM after sd_finish). Series tables
//  are drawn as charts and shown with one row per date.
bool sd_view_is_series(const sd_document_table *entry);

//  Returns a JSON string of the len bytes at text with invalid UTF-8 and
//  NUL bytes replaced by U+FFFD, or NULL when out of memory.
json_t *sd_view_string(const char *text, size_t len);

//  Like sd_view_string, for a text value of a table: a value of more than
//  SD_FORMAT_TEXT_MAX_CHARS characters is cut there and ends with "…".
json_t *sd_view_value_string(const char *text, size_t len);

#endif

/*  sd_ga_response: strict parsing of one GA4 runReport response page.

    The response must echo the request: dimensionHeaders are the request's
    dimensions, followed by "dateRange" when the request had several
    dateRanges (GA4 then tags each row with the name of its range), and
    metricHeaders are the request's metrics in order. Metric values arrive
    as JSON strings and are parsed by their header's type: TYPE_INTEGER as
    a 64-bit integer, every other type as a double. Time types are turned
    into seconds (TYPE_MILLISECONDS / 1000, TYPE_MINUTES * 60, TYPE_HOURS *
    3600). Anything else (a value that does not parse, a missing field, a
    header that does not match, a body that is not JSON) is an error.
*/
#ifndef SD_GA_RESPONSE_H
#define SD_GA_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sd_proto.h"

//  Table warnings made from the response metadata. Each starts with the
//  short phrase the report shows, followed by its meaning.
#define SD_GA_WARNING_SAMPLED "data sampled: GA4 computed the figures from a sample of events"
#define SD_GA_WARNING_THRESHOLDED                                                               \
    "thresholded: GA4 withheld rows with few users to protect their privacy"
#define SD_GA_WARNING_OTHER_ROW                                                                 \
    "(other) row: GA4 grouped rows past its cardinality limit into \"(other)\""

//  The request's shape, which the response is checked against.
typedef struct {
    const sd_strings *dimensions;   //  the query's dimensions, without dateRange
    const sd_strings *metrics;
    const sd_period *periods;       //  the request's dateRanges, named by label
    size_t period_count;
} sd_ga_expect;

//  One parsed page. Cells are row-major.
typedef struct {
    int64_t row_count;              //  rowCount: rows of the whole result, all pages
    size_t rows;                    //  rows in this page
    size_t dimension_count;
    size_t metric_count;
    char **dimension_values;        //  rows x dimension_count, owned
    size_t *periods;                //  per row: index into expect->periods
    sd_value *metric_values;        //  rows x metric_count, SD_VALUE_INT or SD_VALUE_FLOAT
    bool *metric_integer;           //  per metric: parsed as TYPE_INTEGER
    bool *metric_seconds;           //  per metric: a time, in seconds
    sd_strings warnings;            //  SD_GA_WARNING_* texts from the metadata
} sd_ga_page;

//  Parses body into page (which the call initialises). Returns 0, or -1
//  with error filled with what is wrong ("row 3: metric sessions value
//  \"12a\" is not an integer") and page left empty.
int sd_ga_page_parse(const char *body, size_t size, const sd_ga_expect *expect, sd_ga_page *page,
                     char *error, size_t error_size);

//  Parses one report that is already JSON (an item of batchRunReports'
//  "reports", or a runReport body), as sd_ga_page_parse does. root is
//  borrowed.
int sd_ga_page_parse_json(json_t *root, const sd_ga_expect *expect, sd_ga_page *page,
                          char *error, size_t error_size);

//  Parses a batchRunReports response body and returns its "reports" array
//  (a new reference the caller releases), which must hold expected items.
//  Returns NULL with error filled when the body is not JSON or the array is
//  missing or of another size.
json_t *sd_ga_batch_parse(const char *body, size_t size, size_t expected, char *error,
                          size_t error_size);

//  Frees what page owns and leaves it empty. Safe on an empty page.
void sd_ga_page_clear(sd_ga_page *page);

//  Writes the text of a GA4 error response ("403 PERMISSION_DENIED: User
//  does not have ...") into buffer, from the body's error.code, status and
//  message. When the body has no such error, writes "HTTP STATUS" and what
//  the body is. Returns buffer.
const char *sd_ga_error_text(long status, const char *body, size_t size,
                             const char *content_type, char *buffer, size_t buffer_size);

#endif

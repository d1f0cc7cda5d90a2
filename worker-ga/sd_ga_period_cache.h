/*  sd_ga_period_cache: response cache entries of one period each.

    The GA worker caches the rows of every closed period (one that ended
    more than SD_CACHE_CLOSED_AFTER_DAYS days ago) of a property and a
    query on its own, so that a request that mixes open and closed periods
    still fills the cache, and a later job requests only the periods that
    are missing. An entry's value is a runReport response of that period
    alone (one dateRange, so no "dateRange" dimension): the rows of all of
    the request's pages for that period, the metric headers with their
    types and the metadata that becomes warnings. The job parses it with
    sd_ga_page_parse_json like a response from the API.

    Two kinds of key, both made with sd_cache_key:
    - sd_ga_period_key: the property, the query's identity (see
      sd_ga_query_identity) and the period's start and end. It is used when
      the request returned every row of its result, so the period's rows
      do not depend on the other dateRanges of the request.
    - sd_ga_period_key_in_request: the same plus every dateRange of the
      request and the period's position in it. It is used when the query's
      limit cut the result. GA4 applies the limit to the rows of all
      dateRanges together, so the rows a period got then depend on the
      other dateRanges.
*/
#ifndef SD_GA_PERIOD_CACHE_H
#define SD_GA_PERIOD_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "sd_cache.h"
#include "sd_ga_query.h"
#include "sd_ga_response.h"
#include "sd_proto.h"

//  Writes the key of a period fetched whole into key. Returns 0 or -1.
int sd_ga_period_key(const char *property, const char *identity, const sd_period *period,
                     char key[SD_CACHE_KEY_SIZE]);

//  Writes the key of the period at position index of ranges[0 ..
//  range_count-1] (the request's dateRanges, labels included) into key.
//  Returns 0 or -1.
int sd_ga_period_key_in_request(const char *property, const char *identity,
                                const sd_period *ranges, size_t range_count, size_t index,
                                char key[SD_CACHE_KEY_SIZE]);

//  Rows of some of a request's dateRanges, gathered over its pages.
typedef struct {
    size_t range_count;                         //  dateRanges of the request
    json_t *rows[SD_GA_MAX_DATE_RANGES];        //  per dateRange: the rows, NULL when not kept
    json_t *dimension_headers;                  //  without "dateRange"; NULL before a page
    json_t *metric_headers;
    json_t *metadata;                           //  the warning fields of every page, merged
} sd_ga_period_rows;

//  Prepares rows for a request of range_count dateRanges, keeping those
//  whose keep[i] is true. Returns 0, or -1 when out of memory (rows is
//  then cleared).
int sd_ga_period_rows_init(sd_ga_period_rows *rows, const bool *keep, size_t range_count);

//  Returns true when rows keeps at least one dateRange.
bool sd_ga_period_rows_keeps_any(const sd_ga_period_rows *rows);

//  Adds a page: report is the response (borrowed) and page what
//  sd_ga_page_parse_json made of it, so its rows and their dateRange
//  indexes are known to be valid. Returns 0, or -1 when out of memory.
int sd_ga_period_rows_add(sd_ga_period_rows *rows, json_t *report, const sd_ga_page *page);

//  Returns the cache value of dateRange index: the JSON text of a
//  runReport response of that period alone, which the caller frees. Returns
//  NULL when the range is not kept, no page arrived or memory runs out.
char *sd_ga_period_rows_report(const sd_ga_period_rows *rows, size_t index);

//  Releases what rows holds and leaves it empty. Safe on an empty value.
void sd_ga_period_rows_clear(sd_ga_period_rows *rows);

#endif

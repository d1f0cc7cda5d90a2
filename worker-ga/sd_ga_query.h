/*  sd_ga_query: the GA4 runReport requests of a fetch job.

    Queries of one job that ask for the same thing (api, metrics,
    dimensions, params_json, limit and periods) form one group and are
    fetched once. The group's rows feed the table of every query in it.
    One runReport request carries at most SD_GA_MAX_DATE_RANGES periods as
    dateRanges named by the period labels, so a query of more periods is
    split into several requests ("chunks").
*/
#ifndef SD_GA_QUERY_H
#define SD_GA_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "sd_proto.h"

//  The GA4 Data API v1beta accepts at most 4 dateRanges per request.
#define SD_GA_MAX_DATE_RANGES 4

//  The only api value this worker serves.
#define SD_GA_API_RUN_REPORT "ga4.runReport"

typedef struct {
    const sd_query *query;          //  the query whose request fields the group sends
    const sd_query **members;       //  every query fed by the group, query first
    size_t member_count;
} sd_ga_group;

//  Groups queries[0 .. count-1]. Returns 0 with *groups a new array of
//  *group_count groups (free with sd_ga_groups_free), or -1 when out of
//  memory. The groups borrow the queries.
int sd_ga_group_queries(const sd_query *queries, size_t count, sd_ga_group **groups,
                        size_t *group_count);

void sd_ga_groups_free(sd_ga_group **groups, size_t group_count);

//  Checks that the worker can run the query: api is SD_GA_API_RUN_REPORT,
//  at least one metric and one period, no "dateRange" dimension, period
//  labels unique and non-empty, params_json a JSON object that does not set the fields this worker
//  fills in. Returns 0, or -1 with error filled.
int sd_ga_query_check(const sd_query *query, char *error, size_t error_size);

//  Returns the number of requests (chunks of at most SD_GA_MAX_DATE_RANGES
//  periods) the query needs per property.
size_t sd_ga_chunk_count(const sd_query *query);

//  Builds the JSON body of one runReport request: the dateRanges of the
//  query's periods whose indexes are periods[0 .. period_count-1] (named
//  by the period labels, in that order), the query's dimensions and
//  metrics, the fields of params_json, offset and limit (limit 0 leaves
//  the API default) and returnPropertyQuota true. The text is compact JSON
//  with sorted keys, so equal requests give equal text. Returns a new
//  string the caller frees, or NULL with error filled.
char *sd_ga_request_body_of(const sd_query *query, const size_t *periods, size_t period_count,
                            int64_t offset, int64_t limit, char *error, size_t error_size);

//  Builds the body of the periods [first_period, first_period +
//  period_count) as sd_ga_request_body_of does; period_count is at most
//  SD_GA_MAX_DATE_RANGES.
char *sd_ga_request_body(const sd_query *query, size_t first_period, size_t period_count,
                         int64_t offset, int64_t limit, char *error, size_t error_size);

//  Builds the text that identifies what the query's requests ask for apart
//  from their dates and paging: the request body without dateRanges and
//  offset, with limit row_limit (left out when 0), in the same canonical
//  form. The response cache keys its entries with it. Returns a new string
//  the caller frees, or NULL when params_json is not an object or memory
//  runs out.
char *sd_ga_query_identity(const sd_query *query, int64_t row_limit);

#endif

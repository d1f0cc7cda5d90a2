/*  sd_ga_merge: serves several query groups of a job from one GA4 report.

    A job sends one report request per "request" (sd_ga_request), and each
    request feeds one or more query groups (sd_ga_feed). Most requests are
    a group's own query, fed as it comes. Two kinds of merge spare quota:

    - Traffic source queries. Some groups use only the session's traffic
      source dimensions (sessionSource, sessionMedium, sessionSourceMedium,
      sessionDefaultChannelGroup) as dimensions and filter fields, and have
      no row limit and the same api, periods and other request fields.
      Those groups are fetched as one report without a filter, with those
      of sessionSource, sessionMedium and sessionDefaultChannelGroup that
      the groups need. Each group's rows are made from it. The worker
      evaluates the group's dimensionFilter on every row (sd_ga_filter),
      builds sessionSourceMedium as "SOURCE / MEDIUM", and the roll-up
      sums rows with equal dimensions. These dimensions describe one
      traffic source, so the merged report has few more rows than the
      largest of them.
    - Totals. A group without dimensions whose periods and other request
      fields equal those of another request rides on it. That request
      includes the union of the metrics and metricAggregations TOTAL, and
      the group's rows are the response's "totals" rows, one per dateRange.

    A group is only merged when its rows come out exactly as its own
    request would return them from the API's rows. A group whose filter the
    worker cannot evaluate (regular expressions, case-insensitive matching
    of text that is not ASCII, metric filters) keeps its own request.
    NOTE: summing rows is exact for counts of events and sessions. GA4
    counts a user once per row, so totalUsers summed over finer rows can be
    larger than what the coarser query returns.
*/
#ifndef SD_GA_MERGE_H
#define SD_GA_MERGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sd_ga_query.h"
#include "sd_proto.h"

//  GA4 takes at most 9 dimensions and 10 metrics per request.
#define SD_GA_MAX_DIMENSIONS 9
#define SD_GA_MAX_METRICS 10

//  Feed dimension index meaning "SOURCE / MEDIUM", built from the request's
//  sessionSource and sessionMedium instead of read from one request dimension.
#define SD_GA_SOURCE_MEDIUM ((size_t)-1)

typedef enum {
    SD_GA_FEED_ROWS,                //  from the rows, filtered and projected
    SD_GA_FEED_TOTALS,              //  from the "totals" rows
} sd_ga_feed_kind;

//  How one query group's report is made from its request's report.
typedef struct {
    size_t group;                   //  index into the job's groups
    sd_ga_feed_kind kind;
    size_t *dimensions;             //  per group dimension: request dimension index, or
                                    //  SD_GA_SOURCE_MEDIUM
    size_t *metrics;                //  per group metric: request metric index
    json_t *filter;                 //  dimensionFilter the worker evaluates, or NULL
    size_t source;                  //  request indexes of sessionSource and sessionMedium,
    size_t medium;                  //  for SD_GA_SOURCE_MEDIUM
    bool direct;                    //  the group's report is the request's report unchanged
} sd_ga_feed;

typedef struct {
    sd_query query;                 //  query sent to GA4, owned except periods (borrowed)
    sd_ga_feed *feeds;
    size_t feed_count;
} sd_ga_request;

//  Plans the requests of groups[0 .. group_count-1], leaving out the groups
//  whose valid[g] is false. Returns 0 with *requests a new array of
//  *request_count requests (free with sd_ga_requests_free), or -1 when out
//  of memory.
int sd_ga_plan_requests(const sd_ga_group *groups, size_t group_count, const bool *valid,
                        sd_ga_request **requests, size_t *request_count);

void sd_ga_requests_free(sd_ga_request **requests, size_t request_count);

//  Builds the report of a feed (whose group's query is feed_query) from
//  one page of its request's report, which sd_ga_page_parse_json has
//  accepted for the request's query and ranges[0 .. range_count-1].
//  Rows of the dateRanges whose needed[i] is false are left out, and
//  totals are read from the first page only. Returns a new reference,
//  which is the report itself for a direct feed that needs every range.
//  Returns NULL with error filled when the report lacks the requested
//  totals, a totals row lacks a metric value, or memory runs out.
json_t *sd_ga_feed_report(const sd_ga_request *request, const sd_ga_feed *feed,
                          const sd_query *feed_query, json_t *report, const sd_period *ranges,
                          const bool *needed, size_t range_count, bool first_page, char *error,
                          size_t error_size);

#endif

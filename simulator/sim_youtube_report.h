/*  sim_youtube_report: one YouTube Analytics API v2 reports.query, run over
    the dataset's YouTube facts.

    The query string gives startDate and endDate (YYYY-MM-DD, both
    included), metrics (views, estimatedMinutesWatched, subscribersGained,
    subscribersLost, likes, dislikes, comments, shares), optional dimensions
    (day, channel, country, video, insightTrafficSourceType), filters
    ("channel==X;country==US,GB": dimension==value[,value...] joined by
    ';'), sort (dimensions or metrics of the query, '-' for descending),
    maxResults and startIndex (1-based). As in the real API, a query with
    the video dimension must sort by a metric in descending order first and
    set maxResults to at most 200. Rows sum the facts per combination of
    the dimensions; without a sort they come in ascending dimension order.
    Facts of "today" and later (STATSDASH_NOW's date) are not served.

    The response is {"kind": "youtubeAnalytics#resultTable", "columnHeaders":
    [{"name", "columnType": "DIMENSION" | "METRIC", "dataType": "STRING" |
    "INTEGER"}], "rows": [[...]]}, dimensions first in query order, metric
    values as JSON integers, and no "rows" key when no fact matches.
*/
#ifndef SIM_YOUTUBE_REPORT_H
#define SIM_YOUTUBE_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_http.h"
#include "sim_youtube_data.h"

//  Maximum rows a query with the video dimension may ask for.
#define SIM_YT_VIDEO_MAX_RESULTS 200

//  Which channels a query may see: the ids parameter picked them, and a
//  channel filter must stay inside them.
typedef struct {
    const int *channels;            //  channel indexes
    size_t channel_count;
    int32_t cutoff_day;             //  first day whose facts are not served
} sim_youtube_scope;

//  Runs the query of request within scope. Returns the result table, or
//  NULL with *status (400 or 403) and the client's message in error.
json_t *sim_youtube_report_run(const sim_youtube_data *data, const sim_http_request *request,
                               const sim_youtube_scope *scope, int *status, char *error,
                               size_t error_size);

#endif

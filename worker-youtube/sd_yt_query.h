/*  sd_yt_query: the queries a YouTube fetch job may carry, and the API URLs
    that run them.

    api "youtube.reports": YouTube Analytics reports.query. metrics are API
    metric names (views, estimatedMinutesWatched, ...). dimensions are API
    dimension names (day, country, video, insightTrafficSourceType).
    params_json may set "sort" (e.g. "-estimatedMinutesWatched") and
    "filters" (extra filters such as "country==US", joined after the
    worker's own channel filter). limit becomes maxResults when the query
    has the video dimension (the API requires it there, at most 200);
    otherwise every row is fetched, in pages of youtube.page_size rows
    (maxResults and the 1-based startIndex), because the top rows of each
    channel id do not add up to the top rows of their roll-up. A video
    belongs to one channel id, so per-id top videos do add up.
    Dimension values are taken as the API sends them: an
    insightTrafficSourceType that YouTube adds later is a row like any other.

    api "youtube.channels": the subscriber count at the end of each period
    (metric "subscriberCount", no dimensions): channels.list statistics
    give today's count, from which the subscribers gained minus lost
    between the period's end and yesterday are subtracted.

    api "youtube.videos": the titles of given videos, from videos.list (50
    ids per call). dimensions are "video" and "title", with no metrics, and
    params_json is {"ids": ["VIDEO_ID", ...]} with 1 to
    SD_YT_VIDEOS_MAX_IDS ids. Each period's part has one row per distinct
    id, in the order given, and the title SD_YT_MISSING_TITLE for an id
    that videos.list does not return. The periods only name the parts: the
    Data API has no dates.
*/
#ifndef SD_YT_QUERY_H
#define SD_YT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sd_proto.h"

#define SD_YT_API_REPORTS "youtube.reports"
#define SD_YT_API_CHANNELS "youtube.channels"
#define SD_YT_API_VIDEOS "youtube.videos"

//  The Data API lists at most 50 ids per channels.list or videos.list call.
#define SD_YT_LIST_MAX_IDS 50

//  maxResults that reports.query accepts with the video dimension.
#define SD_YT_VIDEO_MAX_RESULTS 200

//  Maximum number of ids in a youtube.videos query, which makes 20
//  videos.list calls of SD_YT_LIST_MAX_IDS ids. A report requests only
//  the titles of the videos it shows, far fewer than that.
#define SD_YT_VIDEOS_MAX_IDS 1000

//  Checks that the worker can run the query. Returns 0, or -1 with error
//  filled with what to change.
int sd_yt_query_check(const sd_query *query, char *error, size_t error_size);

//  Returns true when the query's api is SD_YT_API_CHANNELS.
bool sd_yt_query_is_channels(const sd_query *query);

//  Returns true when a and b make the same API calls: same api, metrics,
//  dimensions, params_json, limit and period dates. A job runs such
//  queries once and publishes the results for both (two tables of a
//  report may ask for the same rows).
bool sd_yt_query_same_calls(const sd_query *a, const sd_query *b);

//  Returns true when the query's api is SD_YT_API_VIDEOS.
bool sd_yt_query_is_videos(const sd_query *query);

//  Appends the distinct ids of a youtube.videos query's params_json to
//  ids, in their order. Returns 0, or -1 with error filled when
//  params_json has no valid "ids" or when out of memory.
int sd_yt_query_video_ids(const sd_query *query, sd_strings *ids, char *error,
                          size_t error_size);

//  Builds the reports.query URL of one period for channel_id: with
//  content_owner, ids=contentOwner==OWNER and filters=channel==ID; without,
//  ids=channel==MINE. When metrics_override is not NULL, the URL requests
//  those metrics with no dimensions, sort or maxResults (the subscriber
//  change calls). start and end are the dates. Returns a new string the
//  caller frees, or NULL.
char *sd_yt_reports_url(const char *api_base, const sd_query *query, const char *start,
                        const char *end, const char *channel_id, const char *content_owner,
                        const char *metrics_override);

//  Returns true when the reports.query calls of the query are paged: it
//  has no video dimension (queries by video ask for their limit at once).
bool sd_yt_query_paged(const sd_query *query);

//  Returns url (a reports.query URL) with startIndex and maxResults
//  appended, as a new string the caller frees, or NULL.
char *sd_yt_page_url(const char *url, int64_t start_index, int64_t max_results);

//  Builds the reports.query URL that counts the views of channel_id on
//  date by day (the data availability probe), as sd_yt_reports_url does.
//  Returns a new string, or NULL.
char *sd_yt_views_url(const char *api_base, const char *date, const char *channel_id,
                      const char *content_owner);

//  Builds a Data API list URL: {data_api_base}/{resource}?part=PART&id=A,B
//  with ids[0 .. count-1]. Returns a new string, or NULL.
char *sd_yt_list_url(const char *data_api_base, const char *resource, const char *part,
                     const char *const *ids, size_t count);

#endif

/*  sd_yt_data: parses the YouTube API bodies that are not result tables
    of reports.query. These are the channels.list and videos.list
    responses of the Data API, the one-row subscriber change table of
    reports.query, and Google error bodies.

    The parsers take a body of any bytes (not NUL-terminated) and return
    plain results that the caller owns, so that they can be fuzzed apart
    from the job that sends the calls. A body that is not what the API
    documents is rejected as a whole with an error text, and nothing is
    returned from it.
*/
#ifndef SD_YT_DATA_H
#define SD_YT_DATA_H

#include <stddef.h>
#include <stdint.h>

//  Title that a titles table contains for a video that videos.list did not
//  return (deleted, private, or an id that never existed).
#define SD_YT_MISSING_TITLE "Video not found"

//  One item of a channels.list statistics response.
typedef struct {
    char *id;                       //  channel id
    int64_t subscribers;            //  statistics.subscriberCount, at least 0
} sd_yt_channel_count;

//  One item of a videos.list snippet response.
typedef struct {
    char *id;                       //  video id
    char *title;                    //  snippet.title
} sd_yt_video_title;

//  Parses a channels.list body: an object whose "items" (optional) is an
//  array of objects with a string "id" and statistics.subscriberCount.
//  The count is a string of 1 to 18 decimal digits (as the Data API sends
//  it) or a JSON integer of at least 0.
//  Returns 0 with *items (NULL when there are none) and *count set, or -1
//  with error filled.
int sd_yt_data_channels(const char *body, size_t size, sd_yt_channel_count **items,
                        size_t *count, char *error, size_t error_size);

//  Parses a videos.list body: an object whose "items" (optional) is an
//  array of objects with a string "id" and a string snippet.title. Returns
//  0 with *items (NULL when there are none) and *count set, or -1 with
//  error filled.
int sd_yt_data_videos(const char *body, size_t size, sd_yt_video_title **items, size_t *count,
                      char *error, size_t error_size);

//  Parses the subscriber change table of reports.query (metrics
//  subscribersGained,subscribersLost with no dimension): an object with at
//  most one row of two integers, or no "rows" at all. Sets *change to
//  gained - lost, or 0 without a row. Returns 0, or -1 with error filled.
int sd_yt_data_change(const char *body, size_t size, int64_t *change, char *error,
                      size_t error_size);

//  Writes the message of a Google error body ({"error": {"message": ...}})
//  as "HTTP STATUS: MESSAGE" into buffer, or "HTTP STATUS" when the body
//  has no message. The message is cut at 400 bytes. Returns buffer.
const char *sd_yt_data_error(long status, const char *body, size_t size, char *buffer,
                             size_t buffer_size);

//  Frees the items of sd_yt_data_channels and sets *items to NULL.
void sd_yt_channel_counts_free(sd_yt_channel_count **items, size_t count);

//  Frees the items of sd_yt_data_videos and sets *items to NULL.
void sd_yt_video_titles_free(sd_yt_video_title **items, size_t count);

#endif

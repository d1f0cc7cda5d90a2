/*  sim_youtube_data: the dataset's YouTube files, held in memory.

    sim_youtube_data_load reads three files of a dataset folder (the layout
    of scripts/generate-dataset):
      youtube-facts.csv     one row per channel, date and combination of
                            country, video and insightTrafficSourceType,
                            with eight integer metrics
      youtube-channels.csv  channel id, display name and the statistics
                            channels.list returns (subscriberCount,
                            videoCount, viewCount)
      youtube-videos.csv    video id, its channel and its title
    Fact rows are sorted by channel and date. After loading, the data is
    read-only and safe to share across threads.
*/
#ifndef SIM_YOUTUBE_DATA_H
#define SIM_YOUTUBE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_strings.h"

//  Text columns of a fact row, as string ids in the data's pool.
typedef enum {
    SIM_YT_COUNTRY,
    SIM_YT_VIDEO,
    SIM_YT_TRAFFIC_SOURCE,
    SIM_YT_TEXT_COUNT
} sim_youtube_text;

//  Metrics of a fact row, in the order of the CSV columns.
typedef enum {
    SIM_YT_VIEWS,
    SIM_YT_MINUTES_WATCHED,
    SIM_YT_SUBSCRIBERS_GAINED,
    SIM_YT_SUBSCRIBERS_LOST,
    SIM_YT_LIKES,
    SIM_YT_DISLIKES,
    SIM_YT_COMMENTS,
    SIM_YT_SHARES,
    SIM_YT_METRIC_COUNT
} sim_youtube_metric;

typedef struct {
    int32_t day;                            //  day number (sim_clock)
    uint16_t channel;                       //  index into the channel list
    uint32_t text[SIM_YT_TEXT_COUNT];       //  string ids
    int64_t metrics[SIM_YT_METRIC_COUNT];
} sim_youtube_row;

typedef struct {
    char id[32];                            //  "UC..."
    char *name;                             //  display name; "" when unknown
    bool has_statistics;                    //  listed in youtube-channels.csv
    int64_t subscriber_count;
    int64_t video_count;
    int64_t view_count;
    size_t first;                           //  index of its first fact row
    size_t count;                           //  number of its fact rows
} sim_youtube_channel;

typedef struct {
    char id[16];                            //  11 characters
    int channel;                            //  index into the channel list
    char *title;
} sim_youtube_video;

typedef struct sim_youtube_data sim_youtube_data;

//  Loads the YouTube files of the dataset folder dir. Returns the data, or
//  NULL with a message naming the file and line in error.
sim_youtube_data *sim_youtube_data_load(const char *dir, char *error, size_t error_size);

void sim_youtube_data_destroy(sim_youtube_data **self_p);

//  Returns the pool that the rows' string ids refer to.
const sim_strings *sim_youtube_data_strings(const sim_youtube_data *self);

//  Returns the API name of a metric ("views", "estimatedMinutesWatched", ...).
const char *sim_youtube_metric_name(sim_youtube_metric metric);

//  Returns the index of a channel id, or -1 when the dataset has no such
//  channel.
int sim_youtube_data_channel(const sim_youtube_data *self, const char *channel_id);

size_t sim_youtube_data_channel_count(const sim_youtube_data *self);

//  Returns channel number index (below sim_youtube_data_channel_count).
const sim_youtube_channel *sim_youtube_data_channel_at(const sim_youtube_data *self,
                                                       size_t index);

size_t sim_youtube_data_row_count(const sim_youtube_data *self);

//  Returns the fact rows of one channel whose day lies in [first_day,
//  last_day], in date order, and sets *count. The data owns the rows.
const sim_youtube_row *sim_youtube_data_rows(const sim_youtube_data *self, int channel,
                                             int32_t first_day, int32_t last_day,
                                             size_t *count);

//  Returns the video with that id, or NULL.
const sim_youtube_video *sim_youtube_data_video(const sim_youtube_data *self, const char *id);

#endif

/*  sim_youtube_data: loads the YouTube facts, channels and videos.  */
#include "sim_youtube_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"
#include "sim_csv.h"

#define SIM_YT_COLUMNS_MAX 16

struct sim_youtube_data {
    sim_strings *strings;
    sim_youtube_row *rows;
    size_t row_count;
    size_t row_capacity;
    sim_youtube_channel *channels;
    size_t channel_count;
    sim_youtube_video *videos;              //  sorted by id after loading
    size_t video_count;
};

static const char *s_metric_names[SIM_YT_METRIC_COUNT] = {
    "views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost",
    "likes", "dislikes", "comments", "shares",
};

//  One file being read: its reader and where each wanted column sits.
typedef struct {
    sim_youtube_data *data;
    sim_csv *csv;
    const char *path;
    int positions[SIM_YT_COLUMNS_MAX];
    int field_count;
    char *error;
    size_t error_size;
} s_file;

typedef int (*s_row_reader)(s_file *file, const sim_csv_field *fields);

const char *sim_youtube_metric_name(sim_youtube_metric metric)
{
    return s_metric_names[metric];
}

const sim_strings *sim_youtube_data_strings(const sim_youtube_data *self)
{
    return self->strings;
}

void sim_youtube_data_destroy(sim_youtube_data **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_youtube_data *self = *self_p;
    for (size_t i = 0; i < self->channel_count; i++)
        free(self->channels[i].name);
    for (size_t i = 0; i < self->video_count; i++)
        free(self->videos[i].title);
    sim_strings_destroy(&self->strings);
    free(self->rows);
    free(self->channels);
    free(self->videos);
    free(self);
    *self_p = NULL;
}

static int s_fail(s_file *file, const char *message)
{
    snprintf(file->error, file->error_size, "%s line %zu: %s", file->path,
             sim_csv_line(file->csv), message);
    return -1;
}

//  Finds the position of each name of columns (count of them) in the header.
static int s_read_header(s_file *file, const char *const *columns, int count)
{
    sim_csv_field fields[SIM_CSV_MAX_FIELDS];
    int found = sim_csv_next(file->csv, fields);
    if (found <= 0)
        return s_fail(file, found == 0 ? "the file is empty; expected a header row"
                                       : sim_csv_error(file->csv));
    for (int column = 0; column < count; column++) {
        file->positions[column] = -1;
        for (int i = 0; i < found; i++)
            if (strcmp(fields[i].text, columns[column]) == 0)
                file->positions[column] = i;
        if (file->positions[column] < 0) {
            char message[128];
            snprintf(message, sizeof message, "the header has no column \"%s\"", columns[column]);
            return s_fail(file, message);
        }
    }
    file->field_count = found;
    return 0;
}

//  Parses a non-negative decimal integer that fills the whole field.
static int s_parse_count(const sim_csv_field *field, int64_t *value)
{
    if (field->length == 0 || field->length > 18)
        return -1;
    int64_t result = 0;
    for (size_t i = 0; i < field->length; i++) {
        if (field->text[i] < '0' || field->text[i] > '9')
            return -1;
        result = result * 10 + (field->text[i] - '0');
    }
    *value = result;
    return 0;
}

int sim_youtube_data_channel(const sim_youtube_data *self, const char *channel_id)
{
    for (size_t i = 0; i < self->channel_count; i++)
        if (strcmp(self->channels[i].id, channel_id) == 0)
            return (int)i;
    return -1;
}

//  Returns the index of a channel id, adding it when new, or -1 when the id
//  is empty or too long or memory runs out.
static int s_channel_index(sim_youtube_data *self, const sim_csv_field *field)
{
    int index = sim_youtube_data_channel(self, field->text);
    if (index >= 0)
        return index;
    if (field->length == 0 || field->length >= sizeof self->channels[0].id
        || self->channel_count >= UINT16_MAX)
        return -1;
    sim_youtube_channel *channels =
        realloc(self->channels, (self->channel_count + 1) * sizeof *channels);
    if (!channels)
        return -1;
    self->channels = channels;
    sim_youtube_channel *channel = &channels[self->channel_count];
    memset(channel, 0, sizeof *channel);
    memcpy(channel->id, field->text, field->length + 1);
    return (int)self->channel_count++;
}

//  Reads every record of an open file with read_row after checking its
//  field count.
static int s_read_records(s_file *file, s_row_reader read_row)
{
    sim_csv_field fields[SIM_CSV_MAX_FIELDS];
    int count;
    while ((count = sim_csv_next(file->csv, fields)) > 0) {
        if (count != file->field_count) {
            char message[128];
            snprintf(message, sizeof message, "the record has %d fields; the header has %d", count,
                     file->field_count);
            return s_fail(file, message);
        }
        if (read_row(file, fields) != 0)
            return -1;
    }
    return count < 0 ? s_fail(file, sim_csv_error(file->csv)) : 0;
}

//  Opens DIR/name, reads its header for columns and then every record.
static int s_read_file(sim_youtube_data *data, const char *dir, const char *name,
                       const char *const *columns, int column_count, s_row_reader read_row,
                       char *error, size_t error_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    s_file file = {.data = data, .path = path, .error = error, .error_size = error_size};
    file.csv = sim_csv_open(path, error, error_size);
    if (!file.csv)
        return -1;
    int rc = s_read_header(&file, columns, column_count);
    if (rc == 0)
        rc = s_read_records(&file, read_row);
    sim_csv_destroy(&file.csv);
    return rc;
}

//  -------------------------------------------------------------------------
//  youtube-channels.csv

enum { CHANNEL_ID, CHANNEL_NAME, CHANNEL_SUBSCRIBERS, CHANNEL_VIDEOS, CHANNEL_VIEWS,
       CHANNEL_COLUMNS };
static const char *const s_channel_columns[CHANNEL_COLUMNS] = {
    "channel", "name", "subscriberCount", "videoCount", "viewCount"};

static int s_read_channel(s_file *file, const sim_csv_field *fields)
{
    int index = s_channel_index(file->data, &fields[file->positions[CHANNEL_ID]]);
    if (index < 0)
        return s_fail(file, "channel is empty or longer than 31 bytes");
    sim_youtube_channel *channel = &file->data->channels[index];
    if (channel->has_statistics)
        return s_fail(file, "the channel is listed twice");
    if (s_parse_count(&fields[file->positions[CHANNEL_SUBSCRIBERS]], &channel->subscriber_count)
        || s_parse_count(&fields[file->positions[CHANNEL_VIDEOS]], &channel->video_count)
        || s_parse_count(&fields[file->positions[CHANNEL_VIEWS]], &channel->view_count))
        return s_fail(file, "subscriberCount, videoCount and viewCount must be non-negative "
                            "integers");
    channel->name = strdup(fields[file->positions[CHANNEL_NAME]].text);
    if (!channel->name)
        return s_fail(file, "out of memory");
    channel->has_statistics = true;
    return 0;
}

//  -------------------------------------------------------------------------
//  youtube-videos.csv

enum { VIDEO_ID, VIDEO_CHANNEL, VIDEO_TITLE, VIDEO_COLUMNS };
static const char *const s_video_columns[VIDEO_COLUMNS] = {"video", "channel", "title"};

static int s_read_video(s_file *file, const sim_csv_field *fields)
{
    sim_youtube_data *data = file->data;
    const sim_csv_field *id = &fields[file->positions[VIDEO_ID]];
    if (id->length == 0 || id->length >= sizeof data->videos[0].id)
        return s_fail(file, "video is empty or longer than 15 bytes");
    int channel = s_channel_index(data, &fields[file->positions[VIDEO_CHANNEL]]);
    if (channel < 0)
        return s_fail(file, "channel is empty or longer than 31 bytes");
    sim_youtube_video *videos = realloc(data->videos, (data->video_count + 1) * sizeof *videos);
    if (!videos)
        return s_fail(file, "out of memory");
    data->videos = videos;
    sim_youtube_video *video = &videos[data->video_count];
    memcpy(video->id, id->text, id->length + 1);
    video->channel = channel;
    video->title = strdup(fields[file->positions[VIDEO_TITLE]].text);
    if (!video->title)
        return s_fail(file, "out of memory");
    data->video_count++;
    return 0;
}

static int s_compare_videos(const void *a, const void *b)
{
    return strcmp(((const sim_youtube_video *)a)->id, ((const sim_youtube_video *)b)->id);
}

const sim_youtube_video *sim_youtube_data_video(const sim_youtube_data *self, const char *id)
{
    sim_youtube_video key;
    if (strlen(id) >= sizeof key.id)
        return NULL;
    snprintf(key.id, sizeof key.id, "%s", id);
    return bsearch(&key, self->videos, self->video_count, sizeof *self->videos, s_compare_videos);
}

//  -------------------------------------------------------------------------
//  youtube-facts.csv

enum { FACT_CHANNEL, FACT_DATE, FACT_COUNTRY, FACT_VIDEO, FACT_SOURCE, FACT_FIRST_METRIC,
       FACT_COLUMNS = FACT_FIRST_METRIC + SIM_YT_METRIC_COUNT };
static const char *const s_fact_columns[FACT_COLUMNS] = {
    "channel", "date", "country", "video", "insightTrafficSourceType",
    "views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost",
    "likes", "dislikes", "comments", "shares",
};

static sim_youtube_row *s_append_row(sim_youtube_data *self)
{
    if (self->row_count == self->row_capacity) {
        size_t capacity = self->row_capacity ? self->row_capacity * 2 : 4096;
        sim_youtube_row *rows = realloc(self->rows, capacity * sizeof *rows);
        if (!rows)
            return NULL;
        self->rows = rows;
        self->row_capacity = capacity;
    }
    sim_youtube_row *row = &self->rows[self->row_count++];
    memset(row, 0, sizeof *row);
    return row;
}

static int s_read_fact_texts(s_file *file, const sim_csv_field *fields, sim_youtube_row *row)
{
    static const int columns[SIM_YT_TEXT_COUNT] = {FACT_COUNTRY, FACT_VIDEO, FACT_SOURCE};
    for (int text = 0; text < SIM_YT_TEXT_COUNT; text++) {
        const sim_csv_field *field = &fields[file->positions[columns[text]]];
        int64_t id = sim_strings_intern(file->data->strings, field->text, field->length);
        if (id < 0)
            return s_fail(file, "out of memory");
        row->text[text] = (uint32_t)id;
    }
    return 0;
}

static int s_read_fact(s_file *file, const sim_csv_field *fields)
{
    sim_youtube_row *row = s_append_row(file->data);
    if (!row)
        return s_fail(file, "out of memory");
    int channel = s_channel_index(file->data, &fields[file->positions[FACT_CHANNEL]]);
    if (channel < 0)
        return s_fail(file, "channel is empty or longer than 31 bytes");
    row->channel = (uint16_t)channel;
    if (sim_clock_parse_iso_date(fields[file->positions[FACT_DATE]].text, &row->day) != 0)
        return s_fail(file, "date is not a valid YYYY-MM-DD date");
    if (s_read_fact_texts(file, fields, row) != 0)
        return -1;
    for (int metric = 0; metric < SIM_YT_METRIC_COUNT; metric++) {
        if (s_parse_count(&fields[file->positions[FACT_FIRST_METRIC + metric]],
                          &row->metrics[metric]) != 0) {
            char message[128];
            snprintf(message, sizeof message, "%s is not a non-negative integer",
                     s_metric_names[metric]);
            return s_fail(file, message);
        }
    }
    return 0;
}

static int s_compare_rows(const void *a, const void *b)
{
    const sim_youtube_row *left = a;
    const sim_youtube_row *right = b;
    if (left->channel != right->channel)
        return left->channel < right->channel ? -1 : 1;
    return left->day < right->day ? -1 : left->day > right->day;
}

//  Sorts the rows and records where each channel's rows start.
static void s_index(sim_youtube_data *self)
{
    qsort(self->rows, self->row_count, sizeof *self->rows, s_compare_rows);
    for (size_t i = 0; i < self->row_count; i++) {
        sim_youtube_channel *channel = &self->channels[self->rows[i].channel];
        if (channel->count == 0)
            channel->first = i;
        channel->count++;
    }
    qsort(self->videos, self->video_count, sizeof *self->videos, s_compare_videos);
}

//  Gives channels that only appear in facts or videos an empty name.
static int s_name_channels(sim_youtube_data *self)
{
    for (size_t i = 0; i < self->channel_count; i++)
        if (!self->channels[i].name && !(self->channels[i].name = strdup("")))
            return -1;
    return 0;
}

sim_youtube_data *sim_youtube_data_load(const char *dir, char *error, size_t error_size)
{
    sim_youtube_data *self = calloc(1, sizeof *self);
    if (!self || !(self->strings = sim_strings_new())) {
        snprintf(error, error_size, "out of memory loading %s", dir);
        sim_youtube_data_destroy(&self);
        return NULL;
    }
    if (s_read_file(self, dir, "youtube-channels.csv", s_channel_columns, CHANNEL_COLUMNS,
                    s_read_channel, error, error_size) != 0
        || s_read_file(self, dir, "youtube-videos.csv", s_video_columns, VIDEO_COLUMNS,
                       s_read_video, error, error_size) != 0
        || s_read_file(self, dir, "youtube-facts.csv", s_fact_columns, FACT_COLUMNS,
                       s_read_fact, error, error_size) != 0) {
        sim_youtube_data_destroy(&self);
        return NULL;
    }
    if (s_name_channels(self) != 0) {
        snprintf(error, error_size, "out of memory loading %s", dir);
        sim_youtube_data_destroy(&self);
        return NULL;
    }
    s_index(self);
    return self;
}

size_t sim_youtube_data_channel_count(const sim_youtube_data *self)
{
    return self->channel_count;
}

const sim_youtube_channel *sim_youtube_data_channel_at(const sim_youtube_data *self,
                                                       size_t index)
{
    return &self->channels[index];
}

size_t sim_youtube_data_row_count(const sim_youtube_data *self)
{
    return self->row_count;
}

//  Returns the first index in [low, high) whose day is at least day.
static size_t s_lower_bound(const sim_youtube_row *rows, size_t low, size_t high, int32_t day)
{
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (rows[middle].day < day)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

const sim_youtube_row *sim_youtube_data_rows(const sim_youtube_data *self, int channel,
                                             int32_t first_day, int32_t last_day,
                                             size_t *count)
{
    *count = 0;
    if (channel < 0 || (size_t)channel >= self->channel_count || first_day > last_day)
        return self->rows;
    const sim_youtube_channel *entry = &self->channels[channel];
    size_t end = entry->first + entry->count;
    size_t begin = s_lower_bound(self->rows, entry->first, end, first_day);
    size_t stop = s_lower_bound(self->rows, begin, end, last_day + 1);
    *count = stop - begin;
    return self->rows + begin;
}

/*  sd_yt_data: parsers of Data API, subscriber change and error bodies.  */
#include "sd_yt_data.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Loads body and returns its "items" array through *items (NULL when the
//  body has none). Returns the root, or NULL when the body is not a JSON
//  object or "items" is not an array.
static json_t *s_load_items(const char *body, size_t size, json_t **items)
{
    json_t *root = json_loadb(body, size, 0, NULL);
    *items = json_object_get(root, "items");
    if (json_is_object(root) && (!*items || json_is_array(*items)))
        return root;
    json_decref(root);
    return NULL;
}

//  Reads a subscriberCount: a string of 1 to 18 decimal digits or a JSON
//  integer, at least 0. Returns 0 or -1.
static int s_read_count(const json_t *value, int64_t *count)
{
    const char *text = json_string_value(value);
    if (!text) {
        *count = json_integer_value(value);
        return json_is_integer(value) && *count >= 0 ? 0 : -1;
    }
    size_t length = strlen(text);
    if (length == 0 || length > 18 || strspn(text, "0123456789") != length)
        return -1;
    errno = 0;
    long long parsed = strtoll(text, NULL, 10);
    *count = parsed;
    return errno == 0 ? 0 : -1;
}

int sd_yt_data_channels(const char *body, size_t size, sd_yt_channel_count **items_out,
                        size_t *count_out, char *error, size_t error_size)
{
    json_t *items;
    json_t *root = s_load_items(body, size, &items);
    size_t total = json_array_size(items);
    sd_yt_channel_count *list = calloc(total + 1, sizeof *list);
    size_t count = 0;
    int rc = root && list ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < total; i++) {
        json_t *item = json_array_get(items, i);
        const char *id = json_string_value(json_object_get(item, "id"));
        json_t *value = json_object_get(json_object_get(item, "statistics"), "subscriberCount");
        int64_t subscribers = 0;
        if (!id || s_read_count(value, &subscribers) != 0) {
            rc = -1;
            break;
        }
        list[count] = (sd_yt_channel_count){.id = strdup(id), .subscribers = subscribers};
        rc = list[count++].id ? 0 : -1;
    }
    json_decref(root);
    if (rc != 0) {
        snprintf(error, error_size, "%s", list ? "channels.list response is not a list of "
                 "items with an id and statistics.subscriberCount" : "out of memory");
        sd_yt_channel_counts_free(&list, count);
        count = 0;
    }
    *items_out = count > 0 ? list : NULL;
    *count_out = count;
    if (count == 0)
        free(list);
    return rc;
}

int sd_yt_data_videos(const char *body, size_t size, sd_yt_video_title **items_out,
                      size_t *count_out, char *error, size_t error_size)
{
    json_t *items;
    json_t *root = s_load_items(body, size, &items);
    size_t total = json_array_size(items);
    sd_yt_video_title *list = calloc(total + 1, sizeof *list);
    size_t count = 0;
    int rc = root && list ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < total; i++) {
        json_t *item = json_array_get(items, i);
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *title = json_string_value(json_object_get(json_object_get(item, "snippet"),
                                                              "title"));
        if (!id || !title) {
            rc = -1;
            break;
        }
        list[count] = (sd_yt_video_title){.id = strdup(id), .title = strdup(title)};
        rc = list[count].id && list[count].title ? 0 : -1;
        count++;
    }
    json_decref(root);
    if (rc != 0) {
        snprintf(error, error_size, "%s", list ? "videos.list response is not a list of items "
                 "with an id and snippet.title" : "out of memory");
        sd_yt_video_titles_free(&list, count);
        count = 0;
    }
    *items_out = count > 0 ? list : NULL;
    *count_out = count;
    if (count == 0)
        free(list);
    return rc;
}

int sd_yt_data_change(const char *body, size_t size, int64_t *change, char *error,
                      size_t error_size)
{
    json_t *root = json_loadb(body, size, 0, NULL);
    json_t *rows = json_object_get(root, "rows");
    json_t *row = json_array_get(rows, 0);
    int rc = 0;
    *change = 0;
    if (!json_is_object(root) || (rows && (!json_is_array(rows) || json_array_size(rows) > 1))) {
        snprintf(error, error_size, "the subscriber change response is not a result table of "
                 "at most one row");
        rc = -1;
    } else if (row) {
        json_t *gained = json_array_get(row, 0);
        json_t *lost = json_array_get(row, 1);
        json_int_t difference = 0;
        if (!json_is_integer(gained) || !json_is_integer(lost)) {
            snprintf(error, error_size, "subscribersGained and subscribersLost are not integers");
            rc = -1;
        } else if (__builtin_sub_overflow(json_integer_value(gained), json_integer_value(lost),
                                          &difference)) {
            snprintf(error, error_size, "subscribersGained - subscribersLost overflows");
            rc = -1;
        } else {
            *change = difference;
        }
    }
    json_decref(root);
    return rc;
}

const char *sd_yt_data_error(long status, const char *body, size_t size, char *buffer,
                             size_t buffer_size)
{
    json_t *root = body ? json_loadb(body, size, 0, NULL) : NULL;
    const char *message = json_string_value(json_object_get(json_object_get(root, "error"),
                                                            "message"));
    if (message)
        snprintf(buffer, buffer_size, "HTTP %ld: %.400s", status, message);
    else
        snprintf(buffer, buffer_size, "HTTP %ld", status);
    json_decref(root);
    return buffer;
}

void sd_yt_channel_counts_free(sd_yt_channel_count **items, size_t count)
{
    for (size_t i = 0; *items && i < count; i++)
        free((*items)[i].id);
    free(*items);
    *items = NULL;
}

void sd_yt_video_titles_free(sd_yt_video_title **items, size_t count)
{
    for (size_t i = 0; *items && i < count; i++) {
        free((*items)[i].id);
        free((*items)[i].title);
    }
    free(*items);
    *items = NULL;
}

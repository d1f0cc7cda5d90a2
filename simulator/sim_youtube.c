/*  sim_youtube: reports.query, channels.list and videos.list handlers.  */
#include "sim_youtube.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"
#include "sim_clock.h"
#include "sim_youtube_auth.h"
#include "sim_youtube_report.h"

#define SIM_YT_LIST_IDS_MAX 50
#define SIM_YT_QUOTA_API "youtube"

static const char *s_unauthenticated =
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential.";
static const char *const s_analytics_scopes[] = {
    SIM_YOUTUBE_SCOPE_ANALYTICS,
    "https://www.googleapis.com/auth/yt-analytics-monetary.readonly",
    NULL,
};
static const char *const s_data_scopes[] = {
    SIM_YOUTUBE_SCOPE_DATA,
    "https://www.googleapis.com/auth/youtube",
    NULL,
};

struct sim_youtube {
    const sim_youtube_data *data;
    sim_oauth *oauth;
    sim_stats *stats;
    char *content_owner;
};

sim_youtube *sim_youtube_new(const sim_youtube_data *data, sim_oauth *oauth, sim_stats *stats,
                             const char *content_owner)
{
    sim_youtube *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->data = data;
    self->oauth = oauth;
    self->stats = stats;
    self->content_owner = strdup(content_owner);
    if (!self->content_owner)
        sim_youtube_destroy(&self);
    return self;
}

void sim_youtube_destroy(sim_youtube **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->content_owner);
    free(*self_p);
    *self_p = NULL;
}

//  Checks the bearer token against scopes and copies its channel into
//  subject. Returns true when the call may go on (and charges its quota);
//  otherwise sets the 401 or 403 response.
static bool s_authorized(sim_youtube *self, const sim_http_request *request,
                         const char *const *scopes, char *subject, size_t subject_size,
                         sim_http_response *response)
{
    sim_auth_result auth = sim_oauth_check_subject(
        self->oauth, sim_http_header(request, "Authorization"), scopes, subject, subject_size);
    if (auth == SIM_AUTH_INVALID)
        sim_http_respond_google_error(response, 401, s_unauthenticated);
    else if (auth == SIM_AUTH_SCOPE)
        sim_http_respond_google_error(response, 403,
                                      "Request had insufficient authentication scopes.");
    else
        sim_stats_charge(self->stats, SIM_YT_QUOTA_API, 1);
    return auth == SIM_AUTH_OK;
}

static int32_t s_cutoff_day(void)
{
    time_t now = sim_clock_data_now();
    return (int32_t)(now >= 0 ? now / 86400 : (now - 86399) / 86400);
}

//  Copies the channel a request names into the stats key: the value of a
//  channel filter, else the token's channel.
static void s_stats_key(const sim_http_request *request, const char *subject,
                        sim_http_response *response)
{
    response->group = "channels";
    const char *filters = sim_http_query(request, "filters");
    const char *channel = filters ? strstr(filters, "channel==") : NULL;
    if (channel) {
        channel += strlen("channel==");
        size_t length = strcspn(channel, ";,");
        if (length >= sizeof response->key)
            length = sizeof response->key - 1;
        memcpy(response->key, channel, length);
        response->key[length] = '\0';
    } else {
        snprintf(response->key, sizeof response->key, "%s", subject);
    }
}

//  Fills channels from the ids parameter. Returns the count, or -1 with the
//  error response set.
static int s_scope_channels(sim_youtube *self, const char *ids, const char *subject,
                            int *channels, size_t capacity, sim_http_response *response)
{
    size_t total = sim_youtube_data_channel_count(self->data);
    if (!ids) {
        sim_http_respond_google_error(response, 400, "Required parameter: ids");
        return -1;
    }
    bool mine = strcmp(ids, "channel==MINE") == 0
             || (strncmp(ids, "channel==", 9) == 0 && *subject && strcmp(ids + 9, subject) == 0);
    bool owner = strncmp(ids, "contentOwner==", 14) == 0
              && strcmp(ids + 14, self->content_owner) == 0;
    if (!*subject || (!mine && !owner)) {
        sim_http_respond_google_error(response, 403, "Forbidden");
        return -1;
    }
    if (mine) {
        int channel = sim_youtube_data_channel(self->data, subject);
        if (channel < 0)
            return 0;
        channels[0] = channel;
        return 1;
    }
    size_t count = 0;
    for (size_t i = 0; i < total && count < capacity; i++)
        channels[count++] = (int)i;
    return (int)count;
}

static void s_handle_reports(void *context, const sim_http_request *request,
                             sim_http_response *response)
{
    sim_youtube *self = context;
    response->endpoint = "reports";
    char subject[32];
    if (strcmp(request->path, "/v2/reports") != 0) {
        sim_http_respond_google_error(response, 404, "Method not found.");
        return;
    }
    if (!s_authorized(self, request, s_analytics_scopes, subject, sizeof subject, response))
        return;
    s_stats_key(request, subject, response);

    int channels[1024];
    int count = s_scope_channels(self, sim_http_query(request, "ids"), subject, channels,
                                 sizeof channels / sizeof channels[0], response);
    if (count < 0)
        return;
    sim_youtube_scope scope = {channels, (size_t)count, s_cutoff_day()};
    int status = 400;
    char error[512];
    json_t *table = sim_youtube_report_run(self->data, request, &scope, &status, error,
                                           sizeof error);
    if (table)
        sim_http_respond_json(response, 200, table);
    else
        sim_http_respond_google_error(response, status, error);
    if (!table)
        sd_info("youtube report rejected status=%d channel=%s", status, response->key);
}

//  -------------------------------------------------------------------------
//  Data API lists

//  The parts a list call asked for.
typedef struct {
    bool snippet;
    bool statistics;
} s_parts;

//  Parses part=a,b. Returns 0, or -1 with the 400 set for an unknown or
//  missing part.
static int s_parse_parts(const sim_http_request *request, bool statistics_allowed,
                         s_parts *parts, sim_http_response *response)
{
    const char *text = sim_http_query(request, "part");
    *parts = (s_parts){false, false};
    if (!text || !*text) {
        sim_http_respond_google_error(response, 400, "No filter selected. Required parameter: "
                                                     "part");
        return -1;
    }
    while (*text) {
        size_t length = strcspn(text, ",");
        if (length == 7 && strncmp(text, "snippet", 7) == 0)
            parts->snippet = true;
        else if (length == 10 && strncmp(text, "statistics", 10) == 0 && statistics_allowed)
            parts->statistics = true;
        else if (!(length == 2 && strncmp(text, "id", 2) == 0)) {
            sim_http_respond_google_error(response, 400, "'part' specifies an unknown or "
                                                         "unsupported part.");
            return -1;
        }
        text += length;
        text += *text == ',';
    }
    return 0;
}

//  Copies the id list (or, for mine=true, the token's channel) into a new
//  string of comma-separated ids. Returns it, or NULL with the 400 set.
static char *s_list_ids(const sim_http_request *request, const char *subject,
                        sim_http_response *response)
{
    const char *ids = sim_http_query(request, "id");
    const char *mine = sim_http_query(request, "mine");
    if (!ids && mine && strcmp(mine, "true") == 0)
        ids = subject;
    if (!ids) {
        sim_http_respond_google_error(response, 400, "No filter selected. Expected one of: id, "
                                                     "mine");
        return NULL;
    }
    size_t count = 1;
    for (const char *at = ids; *at; at++)
        count += *at == ',';
    if (count > SIM_YT_LIST_IDS_MAX) {
        sim_http_respond_google_error(response, 400, "The request specifies more than 50 ids; "
                                                     "list at most 50 per call.");
        return NULL;
    }
    char *copy = strdup(ids);
    if (!copy)
        sim_http_respond_google_error(response, 500, "Internal error encountered.");
    return copy;
}

static json_t *s_count_text(int64_t value)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)value);
    return json_string(text);
}

static json_t *s_channel_item(const sim_youtube_channel *channel, const s_parts *parts)
{
    json_t *item = json_pack("{s:s, s:s, s:s}", "kind", "youtube#channel", "etag", "sim-etag",
                             "id", channel->id);
    if (item && parts->snippet)
        json_object_set_new(item, "snippet", json_pack("{s:s, s:s}", "title", channel->name,
                                                       "description", ""));
    if (item && parts->statistics)
        json_object_set_new(item, "statistics",
                            json_pack("{s:o, s:o, s:b, s:o}", "viewCount",
                                      s_count_text(channel->view_count), "subscriberCount",
                                      s_count_text(channel->subscriber_count),
                                      "hiddenSubscriberCount", 0, "videoCount",
                                      s_count_text(channel->video_count)));
    return item;
}

static json_t *s_video_item(const sim_youtube_data *data, const sim_youtube_video *video)
{
    const sim_youtube_channel *channel = sim_youtube_data_channel_at(data,
                                                                     (size_t)video->channel);
    return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "kind", "youtube#video", "etag",
                     "sim-etag", "id", video->id, "snippet", "channelId", channel->id, "title",
                     video->title, "channelTitle", channel->name);
}

//  Builds the items of the ids that exist, in the order given.
static json_t *s_list_items(sim_youtube *self, char *ids, bool channels, const s_parts *parts)
{
    json_t *items = json_array();
    char *save = NULL;
    for (char *id = strtok_r(ids, ",", &save); items && id; id = strtok_r(NULL, ",", &save)) {
        json_t *item = NULL;
        if (channels) {
            int index = sim_youtube_data_channel(self->data, id);
            const sim_youtube_channel *channel =
                index >= 0 ? sim_youtube_data_channel_at(self->data, (size_t)index) : NULL;
            if (channel && channel->has_statistics)
                item = s_channel_item(channel, parts);
        } else {
            const sim_youtube_video *video = sim_youtube_data_video(self->data, id);
            if (video)
                item = s_video_item(self->data, video);
        }
        if (item)
            json_array_append_new(items, item);
    }
    return items;
}

static void s_handle_list(sim_youtube *self, const sim_http_request *request, bool channels,
                          sim_http_response *response)
{
    char subject[32];
    s_parts parts;
    if (!s_authorized(self, request, s_data_scopes, subject, sizeof subject, response)
        || s_parse_parts(request, channels, &parts, response) != 0)
        return;
    char *ids = s_list_ids(request, subject, response);
    if (!ids)
        return;
    json_t *items = s_list_items(self, ids, channels, &parts);
    size_t count = json_array_size(items);
    sim_http_respond_json(response, 200, json_pack("{s:s, s:s, s:{s:i, s:i}, s:o}", "kind",
                                                   channels ? "youtube#channelListResponse"
                                                            : "youtube#videoListResponse",
                                                   "etag", "sim-etag", "pageInfo",
                                                   "totalResults", (int)count, "resultsPerPage",
                                                   (int)count, "items", items));
    free(ids);
}

static void s_handle_data_api(void *context, const sim_http_request *request,
                              sim_http_response *response)
{
    sim_youtube *self = context;
    if (strcmp(request->path, "/youtube/v3/channels") == 0) {
        response->endpoint = "channels.list";
        s_handle_list(self, request, true, response);
    } else if (strcmp(request->path, "/youtube/v3/videos") == 0) {
        response->endpoint = "videos.list";
        s_handle_list(self, request, false, response);
    } else {
        response->endpoint = "youtube";
        sim_http_respond_google_error(response, 404, "Method not found.");
    }
}

int sim_youtube_register(sim_youtube *self, sim_server *server)
{
    if (sim_server_route(server, "GET", "/v2/reports", SIM_ROUTE_DATA_API, s_handle_reports,
                         self)
        || sim_server_route(server, "GET", "/youtube/v3/", SIM_ROUTE_DATA_API,
                            s_handle_data_api, self))
        return -1;
    return 0;
}

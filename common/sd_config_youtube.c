/*  sd_config_youtube: the youtube section (API bases, OAuth client, the
    content owner and its refresh token, and the channels, each a roll-up
    of one or more channel ids).  */
#include "sd_config_reader.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

//  A YouTube channel id is "UC" followed by 22 characters of base64url.
static bool s_is_channel_id(const char *text, const void *context)
{
    (void)context;
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    return strlen(text) == 24 && strncmp(text, "UC", 2) == 0 && strspn(text, alphabet) == 24;
}

//  Reads one {"id", "refresh_token_file"} item. Without a content owner the
//  worker queries channel==MINE, which needs each channel's own token.
static void s_read_channel_id(sd_config_reader *reader, bool needs_token, json_t *item,
                              const char *key, sd_config_channel *channel)
{
    static const char *const known[] = {"id", "refresh_token_file", NULL};
    char found[128];
    char member[SD_CONFIG_KEY_MAX];
    if (!json_is_object(item)) {
        sd_config_fail(reader, key, "expected an object such as {\"id\": \"UC...\"}, found %s",
                       sd_config_describe(item, found, sizeof found));
        return;
    }
    sd_config_check_keys(reader, item, key, known);
    sd_config_channel_id id = {NULL, NULL};
    sd_config_read_text(reader, item, key, "refresh_token_file", &id.refresh_token_file);
    if (needs_token && !id.refresh_token_file) {
        sd_config_key(member, key, "refresh_token_file");
        sd_config_fail(reader, member,
                       "missing; without youtube.content_owner every channel id needs the"
                       " file of its refresh token (create it with \"statsdash auth youtube\")");
    }
    sd_config_key(member, key, "id");
    if (!json_object_get(item, "id"))
        sd_config_fail(reader, member,
                       "missing; give the channel id, e.g. \"UC\" and 22 more"
                       " characters");
    sd_config_read_matching(reader, item, key, "id", s_is_channel_id, NULL,
                            "a channel id: \"UC\" and 22 letters, digits, '-' or '_'", &id.id);
    if (id.id)
        channel->ids[channel->id_count++] = id;
    else
        free(id.refresh_token_file);
}

static void s_read_channel(sd_config_reader *reader, sd_config_youtube *youtube, bool needs_token,
                           const char *name, json_t *value)
{
    char key[SD_CONFIG_KEY_MAX];
    char found[128];
    sd_config_key(key, "youtube.channels", name);
    sd_config_check_name(reader, key, name, "channel");
    sd_config_channel *channel = &youtube->channels[youtube->channel_count];
    if (!(channel->name = sd_config_strdup(reader, key, name)))
        return;
    youtube->channel_count++;
    if (!json_is_array(value) || json_array_size(value) == 0) {
        sd_config_fail(reader, key,
                       "expected a non-empty array of channel ids such as"
                       " [{\"id\": \"UC...\"}], found %s",
                       sd_config_describe(value, found, sizeof found));
        return;
    }
    channel->ids = calloc(json_array_size(value), sizeof *channel->ids);
    if (!channel->ids) {
        sd_config_fail(reader, key, "out of memory while reading the channel");
        return;
    }
    for (size_t i = 0; i < json_array_size(value); i++) {
        char item_key[SD_CONFIG_KEY_MAX];
        sd_config_key_index(item_key, key, i);
        s_read_channel_id(reader, needs_token, json_array_get(value, i), item_key, channel);
    }
}

static void s_read_channels(sd_config_reader *reader, json_t *section, sd_config_youtube *youtube)
{
    json_t *channels = sd_config_get_object(reader, section, "youtube", "channels");
    if (!channels || json_object_size(channels) == 0)
        return;
    youtube->channels = calloc(json_object_size(channels), sizeof *youtube->channels);
    if (!youtube->channels) {
        sd_config_fail(reader, "youtube.channels", "out of memory while reading the channels");
        return;
    }
    //  An invalid content_owner is reported on its own: it still means the
    //  file does not use channel==MINE.
    bool needs_token = !json_object_get(section, "content_owner");
    const char *name;
    json_t *value;
    json_object_foreach(channels, name, value) {
        s_read_channel(reader, youtube, needs_token, name, value);
    }
}

//  Reads owner_refresh_token_file: required with content_owner (the calls
//  act for a user who manages the content owner), meaningless without.
static void s_read_owner_token(sd_config_reader *reader, json_t *section,
                               sd_config_youtube *youtube)
{
    const char *key = "youtube.owner_refresh_token_file";
    bool owner = json_object_get(section, "content_owner") != NULL;
    bool token = json_object_get(section, "owner_refresh_token_file") != NULL;
    sd_config_read_text(reader, section, "youtube", "owner_refresh_token_file",
                        &youtube->owner_refresh_token_file);
    if (owner && !token)
        sd_config_fail(reader, key,
                       "missing; with youtube.content_owner set, name the file of the refresh"
                       " token of a user who manages the content owner (create it with"
                       " \"statsdash auth youtube --owner\")");
    else if (!owner && token)
        sd_config_fail(reader, key,
                       "set without youtube.content_owner; set content_owner too, or remove"
                       " this key and give each channel id its refresh_token_file");
}

void sd_config_read_youtube(sd_config_reader *reader, json_t *section, sd_config *config)
{
    static const char *const known[] = {
        "analytics_api_base", "data_api_base", "token_uri",     "auth_uri",
        "client_secret_file", "content_owner", "owner_refresh_token_file",
        "cache",              "channels",      "max_in_flight", "page_size",
        "concurrent_jobs",    NULL};
    sd_config_youtube *youtube = &config->youtube;
    const char *key = "youtube";

    sd_config_check_keys(reader, section, key, known);
    sd_config_read_url(reader, section, key, "analytics_api_base", &youtube->analytics_api_base);
    sd_config_read_url(reader, section, key, "data_api_base", &youtube->data_api_base);
    sd_config_read_url(reader, section, key, "token_uri", &youtube->token_uri);
    sd_config_read_url(reader, section, key, "auth_uri", &youtube->auth_uri);
    sd_config_read_text(reader, section, key, "client_secret_file", &youtube->client_secret_file);
    sd_config_read_text(reader, section, key, "content_owner", &youtube->content_owner);
    s_read_owner_token(reader, section, youtube);
    sd_config_read_cache(reader, section, key, &youtube->cache);
    s_read_channels(reader, section, youtube);
    sd_config_read_int(reader, section, key, "max_in_flight", 1, INT_MAX,
                       "the number of API requests in flight per channel id",
                       &youtube->max_in_flight);
    //  NOTE: the API documents a maximum of 200 for reports by video only;
    //  the 100000 cap is ours, to keep one response a few megabytes.
    sd_config_read_int(reader, section, key, "page_size", 1, 100000,
                       "the rows asked for per reports.query page", &youtube->page_size);
    sd_config_read_int(reader, section, key, "concurrent_jobs", 1,
                       SD_CONFIG_CONCURRENT_JOBS_MAX,
                       "the jobs and availability checks one worker process runs at once",
                       &youtube->concurrent_jobs);
}

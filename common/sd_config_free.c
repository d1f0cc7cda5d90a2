/*  sd_config_free: releases a config and the arrays of its sections.  */
#include "sd_config.h"
#include "sd_config_reader.h"

#include <stdlib.h>

void sd_config_sites_free(sd_config_site *sites, size_t count)
{
    for (size_t i = 0; sites && i < count; i++) {
        for (size_t j = 0; j < sites[i].property_count; j++)
            free(sites[i].properties[j].property);
        free(sites[i].properties);
        free(sites[i].name);
    }
    free(sites);
}

void sd_config_social_sources_free(sd_config_social_source *sources, size_t count)
{
    for (size_t i = 0; sources && i < count; i++) {
        free(sources[i].source);
        free(sources[i].network);
    }
    free(sources);
}

void sd_config_channels_free(sd_config_channel *channels, size_t count)
{
    for (size_t i = 0; channels && i < count; i++) {
        for (size_t j = 0; j < channels[i].id_count; j++) {
            free(channels[i].ids[j].id);
            free(channels[i].ids[j].refresh_token_file);
        }
        free(channels[i].ids);
        free(channels[i].name);
    }
    free(channels);
}

void sd_config_reports_free(sd_config_report *reports, size_t count)
{
    for (size_t i = 0; reports && i < count; i++) {
        sd_config_report *report = &reports[i];
        free(report->id);
        free(report->report);
        sd_config_strings_clear(&report->sites);
        sd_config_strings_clear(&report->recipients);
        free(report->subject);
        free(report->frequency);
        free(report->yearly_alignment);
    }
    free(reports);
}

static void s_broker_free(sd_config_broker *broker)
{
    free(broker->endpoint);
    free(broker->bind);
    free(broker->bus_publish);
    free(broker->bus_publish_bind);
    free(broker->bus_subscribe);
    free(broker->bus_subscribe_bind);
    free(broker->curve.public_key_file);
    free(broker->curve.secret_key_file);
    free(broker->curve.server_public_key_file);
    sd_config_strings_clear(&broker->curve.allowed_keys);
}

static void s_ga_free(sd_config_ga *ga)
{
    free(ga->api_base);
    free(ga->token_uri);
    free(ga->key_file);
    free(ga->cache.path);
    sd_config_sites_free(ga->sites, ga->site_count);
    sd_config_strings_clear(&ga->article_path_blacklist);
    sd_config_strings_clear(&ga->source_blacklist);
    sd_config_strings_clear(&ga->countries);
    sd_config_social_sources_free(ga->social_sources, ga->social_source_count);
    free(ga->all_sites_name);
}

static void s_youtube_free(sd_config_youtube *youtube)
{
    free(youtube->analytics_api_base);
    free(youtube->data_api_base);
    free(youtube->token_uri);
    free(youtube->auth_uri);
    free(youtube->client_secret_file);
    free(youtube->content_owner);
    free(youtube->owner_refresh_token_file);
    free(youtube->cache.path);
    sd_config_channels_free(youtube->channels, youtube->channel_count);
}

static void s_others_free(sd_config *config)
{
    free(config->reporter.id);
    free(config->reporter.templates_dir);
    free(config->reporter.state_file);
    free(config->smtp.url);
    free(config->smtp.user);
    free(config->smtp.password_file);
    free(config->smtp.from);
    free(config->smtp.reply_to);
    sd_config_strings_clear(&config->smtp.error_recipients);
    free(config->scheduler.database);
    free(config->scheduler.lock_file);
    free(config->scheduler.timezone);
    sd_config_reports_free(config->schedule, config->schedule_count);
    free(config->log.level);
}

void sd_config_destroy(sd_config **config)
{
    if (!config || !*config)
        return;
    sd_config *self = *config;
    s_broker_free(&self->broker);
    s_ga_free(&self->ga);
    s_youtube_free(&self->youtube);
    s_others_free(self);
    free(self->path);
    free(self);
    *config = NULL;
}

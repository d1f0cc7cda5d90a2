/*  sd_config: loading, defaults and lookups. The sections are read in
    sd_config_sections.c, sd_config_ga.c, sd_config_youtube.c and
    sd_config_schedule.c.  */
#include "sd_config.h"
#include "sd_config_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const s_top_keys[] = {"broker", "aggregator", "ga",       "youtube", "reporter",
                                         "smtp",   "scheduler",  "schedule", "log",     NULL};

//  Article paths left out of top-article tables: POSIX extended regular
//  expressions matched against pagePath with its query string.
static const char *const s_article_path_blacklist[] = {
    "^/$", "^/page/[0-9]+/?$", "^/\\?", "^/forum", "^/login\\.php", "^/cookies\\.php", NULL};

static const char *const s_source_blacklist[] = {"google", "(direct)", NULL};

//  Country names as GA4 writes them.
static const char *const s_countries[] = {
    "United States", "United Kingdom", "Germany", "France", "Canada",
    "Australia",     "Italy",          "Spain",   "India",  "Brazil",
    "Japan",         "Netherlands",    "Poland",  "Sweden", NULL};

//  Session source, then the social network it belongs to.
static const char *const s_social_sources[][2] = {
    {"facebook.com", "Facebook"},
    {"m.facebook.com", "Facebook"},
    {"l.facebook.com", "Facebook"},
    {"lm.facebook.com", "Facebook"},
    {"t.co", "Twitter"},
    {"twitter.com", "Twitter"},
    {"x.com", "Twitter"},
    {"reddit.com", "reddit"},
    {"old.reddit.com", "reddit"},
    {"youtube.com", "YouTube"},
    {"m.youtube.com", "YouTube"},
    {"pinterest.com", "Pinterest"},
    {"instagram.com", "Instagram"},
    {"l.instagram.com", "Instagram"},
    {"linkedin.com", "LinkedIn"},
    {"lnkd.in", "LinkedIn"},
};

//  Sets *field to a copy of value. Returns false when out of memory.
static bool s_set(char **field, const char *value)
{
    *field = strdup(value);
    return *field != NULL;
}

static bool s_set_list(sd_config_strings *list, const char *const values[])
{
    for (size_t i = 0; values[i]; i++)
        if (sd_config_strings_append(list, values[i]) < 0)
            return false;
    return true;
}

static bool s_default_social_sources(sd_config_ga *ga)
{
    size_t count = sizeof s_social_sources / sizeof s_social_sources[0];
    ga->social_sources = calloc(count, sizeof *ga->social_sources);
    if (!ga->social_sources)
        return false;
    ga->social_source_count = count;
    bool ok = true;
    for (size_t i = 0; i < count && ok; i++)
        ok = s_set(&ga->social_sources[i].source, s_social_sources[i][0]) &&
             s_set(&ga->social_sources[i].network, s_social_sources[i][1]);
    return ok;
}

static bool s_default_broker(sd_config_broker *broker)
{
    broker->heartbeat_ms = 2500;
    broker->liveness = 3;
    broker->queue_limit = 1000;
    broker->max_message_bytes = 67108864;
    return s_set(&broker->endpoint, "tcp://127.0.0.1:5555") &&
           s_set(&broker->bus_publish, "tcp://127.0.0.1:5556") &&
           s_set(&broker->bus_subscribe, "tcp://127.0.0.1:5557");
}

static bool s_default_ga(sd_config_ga *ga)
{
    ga->cache.max_bytes = 268435456;
    ga->max_in_flight = 10;
    ga->page_size = 10000;
    ga->concurrent_jobs = SD_CONFIG_CONCURRENT_JOBS_DEFAULT;
    return s_set(&ga->api_base, "https://analyticsdata.googleapis.com") &&
           s_set(&ga->cache.path, "") && s_set(&ga->all_sites_name, "Network") &&
           s_set_list(&ga->article_path_blacklist, s_article_path_blacklist) &&
           s_set_list(&ga->source_blacklist, s_source_blacklist) &&
           s_set_list(&ga->countries, s_countries) && s_default_social_sources(ga);
}

static bool s_default_youtube(sd_config_youtube *youtube)
{
    youtube->cache.max_bytes = 268435456;
    youtube->max_in_flight = 10;
    youtube->page_size = 10000;
    youtube->concurrent_jobs = SD_CONFIG_CONCURRENT_JOBS_DEFAULT;
    return s_set(&youtube->analytics_api_base, "https://youtubeanalytics.googleapis.com") &&
           s_set(&youtube->data_api_base, "https://www.googleapis.com/youtube/v3") &&
           s_set(&youtube->token_uri, "https://oauth2.googleapis.com/token") &&
           s_set(&youtube->auth_uri, "https://accounts.google.com/o/oauth2/v2/auth") &&
           s_set(&youtube->cache.path, "");
}

static bool s_default_others(sd_config *config)
{
    config->aggregator.shards = 1;
    config->reporter.deadline_ms = 120000;
    config->reporter.render_margin_ms = 5000;
    config->reporter.table_margin_ms = 3000;
    config->scheduler.interval_s = 3600;
    return s_set(&config->reporter.templates_dir, "") && s_set(&config->reporter.state_file, "") &&
           s_set(&config->scheduler.database, "statsdash-scheduler.db") &&
           s_set(&config->scheduler.timezone, "UTC") && s_set(&config->log.level, "info");
}

//  Returns a config with the fixed defaults; the ones derived from other
//  keys (bind addresses, reporter id, lock file) are left NULL.
static sd_config *s_new_base(void)
{
    sd_config *config = calloc(1, sizeof *config);
    if (!config)
        return NULL;
    bool ok = s_default_broker(&config->broker) && s_default_ga(&config->ga) &&
              s_default_youtube(&config->youtube) && s_default_others(config);
    if (!ok)
        sd_config_destroy(&config);
    return config;
}

//  Returns "<host>-<pid>" with dots turned into dashes, because a reporter
//  id is one segment of a dot-separated topic.
static char *s_default_reporter_id(void)
{
    char host[256] = "localhost";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *p = host; *p; p++)
        if (*p == '.')
            *p = '-';
    char *id = NULL;
    if (asprintf(&id, "%s-%ld", host, (long)getpid()) < 0)
        return NULL;
    return id;
}

static bool s_derive(char **field, const char *from)
{
    return *field || s_set(field, from);
}

//  Fills the defaults that depend on other keys.
static bool s_apply_derived(sd_config *config)
{
    sd_config_broker *broker = &config->broker;
    bool ok = s_derive(&broker->bind, broker->endpoint) &&
              s_derive(&broker->bus_publish_bind, broker->bus_publish) &&
              s_derive(&broker->bus_subscribe_bind, broker->bus_subscribe);
    if (ok && !config->reporter.id)
        ok = (config->reporter.id = s_default_reporter_id()) != NULL;
    if (ok && !config->scheduler.lock_file)
        ok = asprintf(&config->scheduler.lock_file, "%s.lock", config->scheduler.database) >= 0;
    return ok;
}

sd_config *sd_config_new_default(void)
{
    sd_config *config = s_new_base();
    if (config && !s_apply_derived(config))
        sd_config_destroy(&config);
    return config;
}

//  Parses the file into a JSON object. Returns it, or NULL (reported).
static json_t *s_parse(sd_config_reader *reader)
{
    FILE *file = fopen(reader->path, "r");
    if (!file) {
        sd_config_fail(reader, "", "cannot open the file: %s; check the path given with -c",
                       strerror(errno));
        return NULL;
    }
    struct stat info;
    json_t *root = NULL;
    json_error_t jerr;
    if (fstat(fileno(file), &info) != 0 || !S_ISREG(info.st_mode))
        sd_config_fail(reader, "", "not a regular file; give the path of a JSON file");
    else if (!(root = json_loadf(file, JSON_REJECT_DUPLICATES, &jerr)))
        sd_config_fail(reader, "", "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                       jerr.text);
    fclose(file);
    if (root && !json_is_object(root)) {
        char found[64];
        sd_config_fail(reader, "", "expected a JSON object at the top level, found %s",
                       sd_config_describe(root, found, sizeof found));
        json_decref(root);
        root = NULL;
    }
    return root;
}

//  Reads every section of root into config, in the order the schedule
//  needs (sites and channels before the reports that name them).
static void s_read_sections(sd_config_reader *reader, json_t *root, sd_config *config)
{
    static void (*const readers[])(sd_config_reader *, json_t *, sd_config *) = {
        sd_config_read_broker,    sd_config_read_aggregator, sd_config_read_ga,
        sd_config_read_youtube,   sd_config_read_reporter,   sd_config_read_smtp,
        sd_config_read_scheduler, sd_config_read_log};
    static const char *const names[] = {"broker",   "aggregator", "ga",        "youtube",
                                        "reporter", "smtp",       "scheduler", "log"};

    sd_config_check_keys(reader, root, "", s_top_keys);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        json_t *section = sd_config_get_object(reader, root, "", names[i]);
        if (section)
            readers[i](reader, section, config);
    }
    json_t *schedule = json_object_get(root, "schedule");
    if (schedule)
        sd_config_read_schedule(reader, schedule, config);
}

//  Reads and validates the file into config. Returns the number of errors
//  reported, or -1 when the file cannot be read or parsed.
static int s_read_file(const char *path, sd_config *config,
                       void (*report)(const sd_config_error *err, void *arg), void *arg)
{
    sd_config_reader reader = {path, report, arg, 0};
    json_t *root = s_parse(&reader);
    if (!root)
        return -1;
    if (!s_set(&config->path, path))
        sd_config_fail(&reader, "", "out of memory while loading the configuration");
    else
        s_read_sections(&reader, root, config);
    json_decref(root);
    if (!s_apply_derived(config))
        sd_config_fail(&reader, "", "out of memory while loading the configuration");
    return reader.error_count;
}

static void s_fail_memory(const char *path, sd_config_error *err)
{
    snprintf(err->path, sizeof err->path, "%s", path);
    err->key[0] = '\0';
    snprintf(err->text, sizeof err->text, "out of memory while loading the configuration");
}

static void s_keep_first(const sd_config_error *err, void *arg)
{
    sd_config_error *first = arg;
    if (first->text[0] == '\0')
        *first = *err;
}

sd_config *sd_config_load(const char *path, sd_config_error *err)
{
    memset(err, 0, sizeof *err);
    sd_config *config = s_new_base();
    if (!config) {
        s_fail_memory(path, err);
        return NULL;
    }
    if (s_read_file(path, config, s_keep_first, err) != 0)
        sd_config_destroy(&config);
    return config;
}

int sd_config_check(const char *path, void (*report)(const sd_config_error *err, void *arg),
                    void *arg)
{
    sd_config *config = s_new_base();
    if (!config) {
        sd_config_error err;
        s_fail_memory(path, &err);
        if (report)
            report(&err, arg);
        return -1;
    }
    int count = s_read_file(path, config, report, arg);
    sd_config_destroy(&config);
    return count;
}

const char *sd_config_error_line(const sd_config_error *err, char *buffer, size_t size)
{
    if (err->key[0])
        snprintf(buffer, size, "%s: %s: %s", err->path, err->key, err->text);
    else
        snprintf(buffer, size, "%s: %s", err->path, err->text);
    return buffer;
}

const sd_config_site *sd_config_find_site(const sd_config *config, const char *name)
{
    for (size_t i = 0; i < config->ga.site_count; i++)
        if (strcmp(config->ga.sites[i].name, name) == 0)
            return &config->ga.sites[i];
    return NULL;
}

const sd_config_channel *sd_config_find_channel(const sd_config *config, const char *name)
{
    for (size_t i = 0; i < config->youtube.channel_count; i++)
        if (strcmp(config->youtube.channels[i].name, name) == 0)
            return &config->youtube.channels[i];
    return NULL;
}

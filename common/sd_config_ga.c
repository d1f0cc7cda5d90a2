/*  sd_config_ga: the ga section (Google Analytics sites and table settings)
    and the cache object it shares with the youtube section.  */
#include "sd_config_reader.h"

#include <limits.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void sd_config_read_cache(sd_config_reader *reader, json_t *object, const char *parent,
                          sd_config_cache *cache)
{
    static const char *const known[] = {"path", "max_bytes", NULL};
    json_t *section = sd_config_get_object(reader, object, parent, "cache");
    if (!section)
        return;
    char key[SD_CONFIG_KEY_MAX];
    sd_config_key(key, parent, "cache");
    sd_config_check_keys(reader, section, key, known);
    sd_config_read_string(reader, section, key, "path", &cache->path);
    sd_config_read_int64(reader, section, key, "max_bytes", 1, INT64_MAX,
                         "the cache prunes its oldest entries past this size, in bytes",
                         &cache->max_bytes);
}

int sd_config_check_name(sd_config_reader *reader, const char *key, const char *name,
                         const char *what)
{
    bool control = false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        control |= *p < 0x20 || *p == 0x7f;
    const char *problem = NULL;
    if (*name == '\0')
        problem = "is empty";
    else if (strcmp(name, "all") == 0)
        problem = "is \"all\", which selects every one in requests";
    else if (strchr(name, ','))
        problem = "contains a comma, which separates names in --sites";
    else if (control)
        problem = "contains a control character";
    if (!problem)
        return 0;
    sd_config_fail(reader, key, "the %s name %s; rename the %s", what, problem, what);
    return -1;
}

static bool s_is_digits(const char *text, const void *context)
{
    (void)context;
    return *text && strspn(text, "0123456789") == strlen(text);
}

//  Reports property when an earlier site already lists it, since its
//  figures would be counted twice.
static void s_check_duplicate(sd_config_reader *reader, const sd_config_ga *ga, const char *key,
                              const char *property)
{
    for (size_t i = 0; i < ga->site_count; i++) {
        for (size_t j = 0; j < ga->sites[i].property_count; j++) {
            if (strcmp(ga->sites[i].properties[j].property, property) != 0)
                continue;
            sd_config_fail(reader, key,
                           "property %s is already listed under site \"%s\";"
                           " list each property once",
                           property, ga->sites[i].name);
            return;
        }
    }
}

static void s_read_property(sd_config_reader *reader, const sd_config_ga *ga, json_t *item,
                            const char *key, sd_config_site *site)
{
    static const char *const known[] = {"property", "wait_for_data", NULL};
    char found[128];
    if (!json_is_object(item)) {
        sd_config_fail(reader, key,
                       "expected an object such as {\"property\": \"310000001\"},"
                       " found %s",
                       sd_config_describe(item, found, sizeof found));
        return;
    }
    sd_config_check_keys(reader, item, key, known);
    sd_config_property property = {NULL, true};
    sd_config_read_bool(reader, item, key, "wait_for_data", &property.wait_for_data);
    if (!json_object_get(item, "property")) {
        char member[SD_CONFIG_KEY_MAX];
        sd_config_key(member, key, "property");
        sd_config_fail(reader, member, "missing; give the GA4 property id, e.g. \"310000001\"");
        return;
    }
    sd_config_read_matching(reader, item, key, "property", s_is_digits, NULL,
                            "a GA4 property id of digits only, e.g. \"310000001\"",
                            &property.property);
    if (!property.property)
        return;
    s_check_duplicate(reader, ga, key, property.property);
    site->properties[site->property_count++] = property;
}

//  Reads one site into ga->sites[ga->site_count], keeping the valid
//  properties, so that the schedule can still name the site.
static void s_read_site(sd_config_reader *reader, sd_config_ga *ga, const char *name, json_t *value)
{
    char key[SD_CONFIG_KEY_MAX];
    char found[128];
    sd_config_key(key, "ga.sites", name);
    sd_config_check_name(reader, key, name, "site");
    sd_config_site *site = &ga->sites[ga->site_count];
    if (!(site->name = sd_config_strdup(reader, key, name)))
        return;
    ga->site_count++;
    if (!json_is_array(value) || json_array_size(value) == 0) {
        sd_config_fail(reader, key,
                       "expected a non-empty array of properties such as"
                       " [{\"property\": \"310000001\"}], found %s",
                       sd_config_describe(value, found, sizeof found));
        return;
    }
    site->properties = calloc(json_array_size(value), sizeof *site->properties);
    if (!site->properties) {
        sd_config_fail(reader, key, "out of memory while reading the site");
        return;
    }
    for (size_t i = 0; i < json_array_size(value); i++) {
        char item_key[SD_CONFIG_KEY_MAX];
        sd_config_key_index(item_key, key, i);
        s_read_property(reader, ga, json_array_get(value, i), item_key, site);
    }
}

static void s_read_sites(sd_config_reader *reader, json_t *section, sd_config_ga *ga)
{
    json_t *sites = sd_config_get_object(reader, section, "ga", "sites");
    if (!sites || json_object_size(sites) == 0)
        return;
    ga->sites = calloc(json_object_size(sites), sizeof *ga->sites);
    if (!ga->sites) {
        sd_config_fail(reader, "ga.sites", "out of memory while reading the sites");
        return;
    }
    //  jansson keeps the members of an object in file order.
    const char *name;
    json_t *value;
    json_object_foreach(sites, name, value) {
        s_read_site(reader, ga, name, value);
    }
}

//  Compiles every pattern of the array, so that a bad one is reported here
//  rather than when a report runs. Items that are not strings are reported
//  by sd_config_read_strings.
static void s_check_patterns(sd_config_reader *reader, json_t *section)
{
    json_t *patterns = json_object_get(section, "article_path_blacklist");
    for (size_t i = 0; i < json_array_size(patterns); i++) {
        json_t *item = json_array_get(patterns, i);
        regex_t regex;
        int status = json_is_string(item)
                         ? regcomp(&regex, json_string_value(item), REG_EXTENDED | REG_NOSUB)
                         : 0;
        if (status == 0) {
            if (json_is_string(item))
                regfree(&regex);
            continue;
        }
        char key[SD_CONFIG_KEY_MAX];
        char reason[128];
        regerror(status, &regex, reason, sizeof reason);
        sd_config_key_index(key, "ga.article_path_blacklist", i);
        sd_config_fail(reader, key,
                       "invalid POSIX extended regular expression (%s); fix the pattern", reason);
    }
}

static int s_read_social_source(sd_config_reader *reader, const char *source, json_t *network,
                                sd_config_social_source *out)
{
    char key[SD_CONFIG_KEY_MAX];
    char found[128];
    sd_config_key(key, "ga.social_sources", source);
    if (!json_is_string(network) || json_string_length(network) == 0) {
        sd_config_fail(reader, key,
                       "expected the network name as a non-empty string, such as"
                       " \"Facebook\", found %s",
                       sd_config_describe(network, found, sizeof found));
        return -1;
    }
    out->source = sd_config_strdup(reader, key, source);
    out->network = out->source ? sd_config_strdup(reader, key, json_string_value(network)) : NULL;
    if (out->network)
        return 0;
    free(out->source);
    out->source = NULL;
    return -1;
}

static void s_read_social_sources(sd_config_reader *reader, json_t *section, sd_config_ga *ga)
{
    json_t *map = sd_config_get_object(reader, section, "ga", "social_sources");
    if (!map)
        return;
    size_t size = json_object_size(map);
    sd_config_social_source *sources = calloc(size ? size : 1, sizeof *sources);
    if (!sources) {
        sd_config_fail(reader, "ga.social_sources", "out of memory while reading the map");
        return;
    }
    size_t count = 0;
    const char *source;
    json_t *network;
    json_object_foreach(map, source, network) {
        if (s_read_social_source(reader, source, network, &sources[count]) == 0)
            count++;
    }
    sd_config_social_sources_free(ga->social_sources, ga->social_source_count);
    ga->social_sources = sources;
    ga->social_source_count = count;
}

void sd_config_read_ga(sd_config_reader *reader, json_t *section, sd_config *config)
{
    static const char *const known[] = {"api_base",
                                        "token_uri",
                                        "key_file",
                                        "cache",
                                        "sites",
                                        "article_path_blacklist",
                                        "source_blacklist",
                                        "countries",
                                        "social_sources",
                                        "all_sites_name",
                                        "max_in_flight",
                                        "page_size",
                                        "concurrent_jobs",
                                        NULL};
    sd_config_ga *ga = &config->ga;

    sd_config_check_keys(reader, section, "ga", known);
    sd_config_read_url(reader, section, "ga", "api_base", &ga->api_base);
    sd_config_read_url(reader, section, "ga", "token_uri", &ga->token_uri);
    sd_config_read_text(reader, section, "ga", "key_file", &ga->key_file);
    sd_config_read_cache(reader, section, "ga", &ga->cache);
    s_read_sites(reader, section, ga);
    sd_config_read_strings(reader, section, "ga", "article_path_blacklist",
                           &ga->article_path_blacklist);
    s_check_patterns(reader, section);
    sd_config_read_strings(reader, section, "ga", "source_blacklist", &ga->source_blacklist);
    sd_config_read_strings(reader, section, "ga", "countries", &ga->countries);
    s_read_social_sources(reader, section, ga);
    sd_config_read_text(reader, section, "ga", "all_sites_name", &ga->all_sites_name);
    sd_config_read_int(reader, section, "ga", "max_in_flight", 1, INT_MAX,
                       "the number of API requests in flight per property", &ga->max_in_flight);
    sd_config_read_int(reader, section, "ga", "page_size", 1, 250000,
                       "the GA4 Data API returns at most 250000 rows per request", &ga->page_size);
    sd_config_read_int(reader, section, "ga", "concurrent_jobs", 1,
                       SD_CONFIG_CONCURRENT_JOBS_MAX,
                       "the jobs and availability checks one worker process runs at once",
                       &ga->concurrent_jobs);
}

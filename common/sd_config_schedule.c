/*  sd_config_schedule: the schedule array, one object per report the
    scheduler runs.  */
#include "sd_config_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const s_report_types[] = {"ga-core",          "ga-social", "ga-year-social",
                                             "ga-social-export", "youtube",   NULL};
static const char *const s_frequencies[] = {"DAILY", "WOW_DAILY", "WEEKLY", "MONTHLY", NULL};
static const char *const s_alignments[] = {"calendar", "weekday", NULL};
static const char *const s_weekdays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                         "friday", "saturday", "sunday"};

//  Returns the report's id for messages.
static const char *s_id(const sd_config_report *report)
{
    return report->id ? report->id : "(no id)";
}

//  Reports a required member that is missing from an item of the schedule.
static bool s_require(sd_config_reader *reader, json_t *item, const char *key, const char *name,
                      const char *expected)
{
    if (json_object_get(item, name))
        return true;
    char member[SD_CONFIG_KEY_MAX];
    sd_config_key(member, key, name);
    sd_config_fail(reader, member, "missing; give %s", expected);
    return false;
}

//  Reads weekday as 0..6 (0 = Monday) or a day name such as "monday".
static void s_read_weekday(sd_config_reader *reader, json_t *item, const char *key,
                           sd_config_report *report)
{
    json_t *value = json_object_get(item, "weekday");
    if (!value)
        return;
    if (json_is_integer(value) && json_integer_value(value) >= 0 &&
        json_integer_value(value) <= 6) {
        report->weekday = (int)json_integer_value(value);
        return;
    }
    for (int i = 0; json_is_string(value) && i < 7; i++) {
        if (strcasecmp(json_string_value(value), s_weekdays[i]) == 0) {
            report->weekday = i;
            return;
        }
    }
    char member[SD_CONFIG_KEY_MAX];
    char found[128];
    sd_config_key(member, key, "weekday");
    sd_config_fail(reader, member,
                   "expected an integer from 0 (Monday) to 6 (Sunday) or a day name such as"
                   " \"monday\", found %s (report \"%s\")",
                   sd_config_describe(value, found, sizeof found), s_id(report));
}

//  Rejects weekday and day on reports whose frequency does not use them,
//  since the scheduler would silently ignore them.
static void s_check_frequency_keys(sd_config_reader *reader, json_t *item, const char *key,
                                   const sd_config_report *report)
{
    char member[SD_CONFIG_KEY_MAX];
    if (json_object_get(item, "weekday") && strcmp(report->frequency, "WEEKLY") != 0) {
        sd_config_key(member, key, "weekday");
        sd_config_fail(reader, member,
                       "only WEEKLY reports take a weekday, and report \"%s\""
                       " is %s; remove the key",
                       s_id(report), report->frequency);
    }
    if (json_object_get(item, "day") && strcmp(report->frequency, "MONTHLY") != 0) {
        sd_config_key(member, key, "day");
        sd_config_fail(reader, member,
                       "only MONTHLY reports take a day, and report \"%s\""
                       " is %s; remove the key",
                       s_id(report), report->frequency);
    }
}

//  Checks that each site of the report is "all" (alone) or a configured
//  site (GA reports) or channel (youtube reports).
static void s_check_sites(sd_config_reader *reader, const sd_config *config, const char *key,
                          const sd_config_report *report)
{
    bool youtube = strcmp(report->report, "youtube") == 0;
    const char *kind = youtube ? "channel" : "site";
    const char *where = youtube ? "youtube.channels" : "ga.sites";
    for (size_t i = 0; i < report->sites.count; i++) {
        const char *name = report->sites.items[i];
        char member[SD_CONFIG_KEY_MAX];
        sd_config_key_index(member, key, i);
        bool all = strcmp(name, "all") == 0;
        bool known = youtube ? sd_config_find_channel(config, name) != NULL
                             : sd_config_find_site(config, name) != NULL;
        if (all && report->sites.count > 1)
            sd_config_fail(reader, member,
                           "\"all\" already selects every %s of report \"%s\";"
                           " remove the other names",
                           kind, s_id(report));
        else if (!all && !known)
            sd_config_fail(reader, member,
                           "unknown %s \"%.64s\" in report \"%s\"; use \"all\""
                           " or a name from %s",
                           kind, name, s_id(report), where);
    }
}

//  Reads "sites": the string "all" or an array of names. Returns 0 or -1.
static int s_read_sites(sd_config_reader *reader, json_t *item, const char *key,
                        sd_config_report *report)
{
    json_t *value = json_object_get(item, "sites");
    if (!value)
        return 0;
    if (json_is_string(value) && strcmp(json_string_value(value), "all") == 0) {
        sd_config_strings_clear(&report->sites);
        return sd_config_strings_append(&report->sites, "all");
    }
    char member[SD_CONFIG_KEY_MAX];
    char found[128];
    sd_config_key(member, key, "sites");
    if (!json_is_array(value) || json_array_size(value) == 0) {
        sd_config_fail(reader, member,
                       "expected \"all\" or a non-empty array of names,"
                       " found %s",
                       sd_config_describe(value, found, sizeof found));
        return -1;
    }
    return sd_config_read_strings(reader, item, key, "sites", &report->sites);
}

static void s_read_texts(sd_config_reader *reader, json_t *item, const char *key,
                         sd_config_report *report)
{
    s_require(reader, item, key, "id", "a unique report id, e.g. \"daily-core\"");
    s_require(reader, item, key, "report",
              "the report type: ga-core, ga-social, ga-year-social, ga-social-export or youtube");
    s_require(reader, item, key, "frequency", "DAILY, WOW_DAILY, WEEKLY or MONTHLY");
    sd_config_read_text(reader, item, key, "id", &report->id);
    sd_config_read_choice(reader, item, key, "report", s_report_types, &report->report);
    sd_config_read_choice(reader, item, key, "frequency", s_frequencies, &report->frequency);
    sd_config_read_string(reader, item, key, "subject", &report->subject);
    sd_config_read_choice(reader, item, key, "yearly_alignment", s_alignments,
                          &report->yearly_alignment);
    char member[SD_CONFIG_KEY_MAX];
    sd_config_key(member, key, "recipients");
    if (sd_config_read_strings(reader, item, key, "recipients", &report->recipients) == 0)
        sd_config_check_addresses(reader, member, &report->recipients);
}

static void s_read_day(sd_config_reader *reader, json_t *item, const char *key,
                       sd_config_report *report)
{
    char hint[160];
    snprintf(hint, sizeof hint,
             "monthly reports run on days 1-28 so that every month has the day (report \"%.64s\")",
             s_id(report));
    sd_config_read_int(reader, item, key, "day", 1, 28, hint, &report->day);
}

//  Reads one report, keeping its valid members. Returns 0, or -1 when out
//  of memory for its defaults.
static int s_read_report(sd_config_reader *reader, const sd_config *config, json_t *item,
                         const char *key, sd_config_report *report)
{
    static const char *const known[] = {
        "id",        "report",  "sites", "recipients",       "subject",
        "frequency", "weekday", "day",   "yearly_alignment", NULL};
    report->day = 1;
    if (!(report->yearly_alignment = sd_config_strdup(reader, key, "calendar")))
        return -1;
    if (sd_config_strings_append(&report->sites, "all") < 0) {
        sd_config_fail(reader, key, "out of memory while reading the report");
        return -1;
    }

    sd_config_check_keys(reader, item, key, known);
    s_read_texts(reader, item, key, report);
    s_read_weekday(reader, item, key, report);
    s_read_day(reader, item, key, report);
    char sites_key[SD_CONFIG_KEY_MAX];
    sd_config_key(sites_key, key, "sites");
    bool sites_valid = s_read_sites(reader, item, key, report) == 0;
    if (report->frequency)
        s_check_frequency_keys(reader, item, key, report);
    if (report->report && sites_valid)
        s_check_sites(reader, config, sites_key, report);
    return 0;
}

//  Reports a report id that an earlier report already uses: the scheduler
//  keys its record of last runs by id.
static void s_check_unique_id(sd_config_reader *reader, const sd_config *config, const char *key,
                              size_t index)
{
    const char *id = config->schedule[index].id;
    for (size_t i = 0; id && i < index; i++) {
        if (config->schedule[i].id && strcmp(config->schedule[i].id, id) == 0) {
            char member[SD_CONFIG_KEY_MAX];
            sd_config_key(member, key, "id");
            sd_config_fail(reader, member,
                           "report id \"%.64s\" is already used by an earlier"
                           " report; give each report its own id",
                           id);
            return;
        }
    }
}

void sd_config_read_schedule(sd_config_reader *reader, json_t *section, sd_config *config)
{
    char found[128];
    if (!json_is_array(section)) {
        sd_config_fail(reader, "schedule", "expected an array of report objects, found %s",
                       sd_config_describe(section, found, sizeof found));
        return;
    }
    size_t size = json_array_size(section);
    config->schedule = calloc(size ? size : 1, sizeof *config->schedule);
    if (!config->schedule) {
        sd_config_fail(reader, "schedule", "out of memory while reading the schedule");
        return;
    }
    for (size_t i = 0; i < size; i++) {
        char key[SD_CONFIG_KEY_MAX];
        json_t *item = json_array_get(section, i);
        sd_config_key_index(key, "schedule", i);
        if (!json_is_object(item)) {
            sd_config_fail(reader, key, "expected a report object, found %s",
                           sd_config_describe(item, found, sizeof found));
            continue;
        }
        size_t index = config->schedule_count++;
        if (s_read_report(reader, config, item, key, &config->schedule[index]) < 0)
            return;
        s_check_unique_id(reader, config, key, index);
    }
}

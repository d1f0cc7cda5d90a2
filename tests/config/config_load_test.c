/*  Tests of sd_config: values, defaults, and one clear error per bad file.  */
#include "sd_config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRORS_MAX 16

typedef struct {
    char dir[64];
    char path[128];
} fixture;

typedef struct {
    int count;
    sd_config_error errors[ERRORS_MAX];
} collected;

static int s_setup(void **state)
{
    fixture *self = calloc(1, sizeof *self);
    assert_non_null(self);
    snprintf(self->dir, sizeof self->dir, "/tmp/sd-config-test-XXXXXX");
    assert_non_null(mkdtemp(self->dir));
    snprintf(self->path, sizeof self->path, "%s/statsdash.json", self->dir);
    *state = self;
    return 0;
}

static int s_teardown(void **state)
{
    fixture *self = *state;
    unlink(self->path);
    rmdir(self->dir);
    free(self);
    return 0;
}

static const char *s_write(void **state, const char *text)
{
    fixture *self = *state;
    FILE *file = fopen(self->path, "w");
    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
    return self->path;
}

static void s_collect(const sd_config_error *err, void *arg)
{
    collected *errors = arg;
    if (errors->count < ERRORS_MAX)
        errors->errors[errors->count] = *err;
    errors->count++;
}

static const char s_full[] =
    "{\n"
    "  \"broker\": {\"endpoint\": \"tcp://10.0.0.1:6000\", \"bus_publish\": \"ipc:///tmp/pub\",\n"
    "             \"heartbeat_ms\": 1000, \"liveness\": 5, \"queue_limit\": 50,\n"
    "             \"max_message_bytes\": 1048576,\n"
    "             \"curve\": {\"public_key_file\": \"k.pub\", \"secret_key_file\": \"k.key\",\n"
    "                       \"allowed_keys\": [\"w1.pub\", \"w2.pub\"]}},\n"
    "  \"aggregator\": {\"shards\": 4},\n"
    "  \"ga\": {\"api_base\": \"http://127.0.0.1:8080\", \"key_file\": \"ga.json\",\n"
    "         \"cache\": {\"path\": \"ga.db\", \"max_bytes\": 1000},\n"
    "         \"sites\": {\"zeta\": [{\"property\": \"310000001\"},\n"
    "                              {\"property\": \"310000002\", \"wait_for_data\": false}],\n"
    "                   \"alpha\": [{\"property\": \"310000003\"}],\n"
    "                   \"mid\": [{\"property\": \"310000004\"}]},\n"
    "         \"source_blacklist\": [\"bing\"], \"countries\": [\"France\"],\n"
    "         \"social_sources\": {\"t.co\": \"Twitter\", \"vk.com\": \"VK\"},\n"
    "         \"all_sites_name\": \"All sites\", \"max_in_flight\": 3, \"page_size\": 250000,\n"
    "         \"concurrent_jobs\": 64},\n"
    "  \"youtube\": {\"content_owner\": \"owner1\", \"concurrent_jobs\": 1,\n"
    "              \"owner_refresh_token_file\": \"owner.token\", \"page_size\": 500,\n"
    "              \"channels\": {\"Second\": [{\"id\": \"UCaaaaaaaaaaaaaaaaaaaaa1\"},\n"
    "                                        {\"id\": \"UCaaaaaaaaaaaaaaaaaaaaa2\"}],\n"
    "                           \"First\": [{\"id\": \"UCbbbbbbbbbbbbbbbbbbbbb3\"}]}},\n"
    "  \"reporter\": {\"id\": \"rep-7\", \"deadline_ms\": 60000},\n"
    "  \"smtp\": {\"url\": \"smtps://mail.example.com:465\", \"from\": \"a@example.com\",\n"
    "           \"error_recipients\": [\"ops@example.com\"]},\n"
    "  \"scheduler\": {\"database\": \"runs.db\", \"interval_s\": 60,\n"
    "                \"timezone\": \"Europe/London\"},\n"
    "  \"schedule\": [\n"
    "    {\"id\": \"d\", \"report\": \"ga-core\", \"frequency\": \"DAILY\", \"sites\": \"all\"},\n"
    "    {\"id\": \"w\", \"report\": \"youtube\", \"frequency\": \"WEEKLY\",\n"
    "     \"weekday\": \"Sunday\", \"sites\": [\"First\"], \"recipients\": [\"x@example.com\"]},\n"
    "    {\"id\": \"m\", \"report\": \"ga-social\", \"frequency\": \"MONTHLY\", \"day\": 28,\n"
    "     \"sites\": [\"alpha\", \"zeta\"], \"yearly_alignment\": \"weekday\"}\n"
    "  ],\n"
    "  \"log\": {\"level\": \"WARNING\", \"syslog\": true}\n"
    "}\n";

static void test_full_config_broker(void **state)
{
    sd_config_error err;
    sd_config *config = sd_config_load(s_write(state, s_full), &err);
    assert_non_null(config);
    assert_string_equal(config->broker.endpoint, "tcp://10.0.0.1:6000");
    assert_string_equal(config->broker.bind, "tcp://10.0.0.1:6000");
    assert_string_equal(config->broker.bus_publish, "ipc:///tmp/pub");
    assert_string_equal(config->broker.bus_publish_bind, "ipc:///tmp/pub");
    assert_string_equal(config->broker.bus_subscribe, "tcp://127.0.0.1:5557");
    assert_int_equal(config->broker.heartbeat_ms, 1000);
    assert_int_equal(config->broker.liveness, 5);
    assert_int_equal(config->broker.queue_limit, 50);
    assert_int_equal(config->broker.max_message_bytes, 1048576);
    assert_true(config->broker.curve_enabled);
    assert_string_equal(config->broker.curve.secret_key_file, "k.key");
    assert_null(config->broker.curve.server_public_key_file);
    assert_int_equal(config->broker.curve.allowed_keys.count, 2);
    assert_string_equal(config->broker.curve.allowed_keys.items[1], "w2.pub");
    assert_int_equal(config->aggregator.shards, 4);
    sd_config_destroy(&config);
    assert_null(config);
}

static void test_full_config_ga(void **state)
{
    sd_config_error err;
    sd_config *config = sd_config_load(s_write(state, s_full), &err);
    assert_non_null(config);
    const sd_config_ga *ga = &config->ga;
    assert_string_equal(ga->api_base, "http://127.0.0.1:8080");
    assert_string_equal(ga->cache.path, "ga.db");
    assert_int_equal(ga->cache.max_bytes, 1000);
    assert_int_equal(ga->site_count, 3);
    assert_string_equal(ga->sites[0].name, "zeta");
    assert_string_equal(ga->sites[1].name, "alpha");
    assert_string_equal(ga->sites[2].name, "mid");
    assert_int_equal(ga->sites[0].property_count, 2);
    assert_string_equal(ga->sites[0].properties[1].property, "310000002");
    assert_true(ga->sites[0].properties[0].wait_for_data);
    assert_false(ga->sites[0].properties[1].wait_for_data);
    assert_int_equal(ga->source_blacklist.count, 1);
    assert_string_equal(ga->countries.items[0], "France");
    assert_int_equal(ga->social_source_count, 2);
    assert_string_equal(ga->social_sources[1].source, "vk.com");
    assert_string_equal(ga->social_sources[1].network, "VK");
    assert_string_equal(ga->all_sites_name, "All sites");
    assert_int_equal(ga->max_in_flight, 3);
    assert_int_equal(ga->page_size, 250000);
    assert_int_equal(ga->concurrent_jobs, 64);
    assert_ptr_equal(sd_config_find_site(config, "alpha"), &ga->sites[1]);
    assert_null(sd_config_find_site(config, "beta"));
    sd_config_destroy(&config);
}

static void test_full_config_youtube(void **state)
{
    sd_config_error err;
    sd_config *config = sd_config_load(s_write(state, s_full), &err);
    assert_non_null(config);
    const sd_config_youtube *youtube = &config->youtube;
    assert_string_equal(youtube->content_owner, "owner1");
    assert_string_equal(youtube->owner_refresh_token_file, "owner.token");
    assert_int_equal(youtube->page_size, 500);
    assert_int_equal(youtube->concurrent_jobs, 1);
    assert_int_equal(youtube->channel_count, 2);
    assert_string_equal(youtube->channels[0].name, "Second");
    assert_int_equal(youtube->channels[0].id_count, 2);
    assert_string_equal(youtube->channels[0].ids[1].id, "UCaaaaaaaaaaaaaaaaaaaaa2");
    assert_null(youtube->channels[0].ids[1].refresh_token_file);
    assert_ptr_equal(sd_config_find_channel(config, "First"), &youtube->channels[1]);
    assert_string_equal(youtube->token_uri, "https://oauth2.googleapis.com/token");
    sd_config_destroy(&config);
}

static void test_full_config_others(void **state)
{
    sd_config_error err;
    sd_config *config = sd_config_load(s_write(state, s_full), &err);
    assert_non_null(config);
    assert_string_equal(config->path, ((fixture *)*state)->path);
    assert_string_equal(config->reporter.id, "rep-7");
    assert_int_equal(config->reporter.deadline_ms, 60000);
    assert_int_equal(config->reporter.render_margin_ms, 5000);
    assert_string_equal(config->smtp.url, "smtps://mail.example.com:465");
    assert_false(config->smtp.starttls);
    assert_string_equal(config->smtp.error_recipients.items[0], "ops@example.com");
    assert_string_equal(config->scheduler.database, "runs.db");
    assert_string_equal(config->scheduler.lock_file, "runs.db.lock");
    assert_int_equal(config->scheduler.interval_s, 60);
    assert_string_equal(config->scheduler.timezone, "Europe/London");
    assert_string_equal(config->log.level, "warning");
    assert_true(config->log.syslog);
    sd_config_destroy(&config);
}

static void test_full_config_schedule(void **state)
{
    sd_config_error err;
    sd_config *config = sd_config_load(s_write(state, s_full), &err);
    assert_non_null(config);
    assert_int_equal(config->schedule_count, 3);
    const sd_config_report *daily = &config->schedule[0];
    assert_string_equal(daily->id, "d");
    assert_int_equal(daily->sites.count, 1);
    assert_string_equal(daily->sites.items[0], "all");
    assert_int_equal(daily->recipients.count, 0);
    assert_null(daily->subject);
    assert_string_equal(daily->yearly_alignment, "calendar");
    const sd_config_report *weekly = &config->schedule[1];
    assert_string_equal(weekly->report, "youtube");
    assert_int_equal(weekly->weekday, 6);
    assert_string_equal(weekly->recipients.items[0], "x@example.com");
    const sd_config_report *monthly = &config->schedule[2];
    assert_string_equal(monthly->frequency, "MONTHLY");
    assert_int_equal(monthly->day, 28);
    assert_int_equal(monthly->sites.count, 2);
    assert_string_equal(monthly->sites.items[1], "zeta");
    assert_string_equal(monthly->yearly_alignment, "weekday");
    sd_config_destroy(&config);
}

//  Checks the defaults documented in sd_config.h.
static void s_assert_defaults(const sd_config *config)
{
    assert_string_equal(config->broker.endpoint, "tcp://127.0.0.1:5555");
    assert_string_equal(config->broker.bind, "tcp://127.0.0.1:5555");
    assert_string_equal(config->broker.bus_subscribe_bind, "tcp://127.0.0.1:5557");
    assert_int_equal(config->broker.heartbeat_ms, 2500);
    assert_int_equal(config->broker.liveness, 3);
    assert_int_equal(config->broker.max_message_bytes, 67108864);
    assert_false(config->broker.curve_enabled);
    assert_int_equal(config->aggregator.shards, 1);
    assert_string_equal(config->ga.api_base, "https://analyticsdata.googleapis.com");
    assert_null(config->ga.token_uri);
    assert_int_equal(config->ga.site_count, 0);
    assert_int_equal(config->ga.page_size, 10000);
    assert_int_equal(config->ga.concurrent_jobs, 32);
    assert_int_equal(config->ga.cache.max_bytes, 268435456);
    assert_string_equal(config->ga.source_blacklist.items[0], "google");
    assert_string_equal(config->ga.source_blacklist.items[1], "(direct)");
    assert_true(config->ga.countries.count > 5);
    assert_true(config->ga.article_path_blacklist.count > 0);
    assert_string_equal(config->ga.all_sites_name, "Network");
    assert_null(config->youtube.content_owner);
    assert_int_equal(config->youtube.max_in_flight, 10);
    assert_int_equal(config->youtube.page_size, 10000);
    assert_int_equal(config->youtube.concurrent_jobs, 32);
    assert_null(config->youtube.owner_refresh_token_file);
    assert_int_equal(config->reporter.deadline_ms, 120000);
    assert_int_equal(config->reporter.table_margin_ms, 3000);
    assert_null(strchr(config->reporter.id, '.'));
    assert_string_equal(config->scheduler.lock_file, "statsdash-scheduler.db.lock");
    assert_string_equal(config->scheduler.timezone, "UTC");
    assert_int_equal(config->schedule_count, 0);
    assert_string_equal(config->log.level, "info");
    assert_false(config->log.syslog);
}

static const char *s_network_of(const sd_config *config, const char *source)
{
    for (size_t i = 0; i < config->ga.social_source_count; i++)
        if (strcmp(config->ga.social_sources[i].source, source) == 0)
            return config->ga.social_sources[i].network;
    return "";
}

static void test_defaults_empty_object(void **state)
{
    sd_config_error err;
    sd_config *config = sd_config_load(s_write(state, "{}"), &err);
    assert_non_null(config);
    s_assert_defaults(config);
    assert_string_equal(s_network_of(config, "lm.facebook.com"), "Facebook");
    assert_string_equal(s_network_of(config, "x.com"), "Twitter");
    assert_string_equal(s_network_of(config, "old.reddit.com"), "reddit");
    assert_string_equal(s_network_of(config, "lnkd.in"), "LinkedIn");
    sd_config_destroy(&config);
}

static void test_defaults_new_default(void **state)
{
    (void)state;
    sd_config *config = sd_config_new_default();
    assert_non_null(config);
    s_assert_defaults(config);
    sd_config_destroy(&config);
    sd_config_destroy(&config);
}

static void test_defaults_bind_follows_endpoint(void **state)
{
    sd_config_error err;
    sd_config *config =
        sd_config_load(s_write(state, "{\"broker\": {\"endpoint\": \"tcp://0.0.0.0:7000\","
                                      " \"bind\": \"tcp://*:7000\"}, \"ga\": {}}"),
                       &err);
    assert_non_null(config);
    assert_string_equal(config->broker.bind, "tcp://*:7000");
    assert_string_equal(config->broker.bus_publish_bind, "tcp://127.0.0.1:5556");
    assert_int_equal(config->ga.social_source_count, 16);
    sd_config_destroy(&config);
}

//  Checks that text gives exactly one error, at key, whose text contains
//  every string of parts, and that sd_config_load fails with that error.
static void s_assert_one_error(void **state, const char *text, const char *key,
                               const char *const parts[])
{
    const char *path = s_write(state, text);
    collected errors = {0};
    assert_int_equal(sd_config_check(path, s_collect, &errors), 1);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.errors[0].path, path);
    assert_string_equal(errors.errors[0].key, key);
    for (size_t i = 0; parts[i]; i++) {
        if (!strstr(errors.errors[0].text, parts[i]))
            fail_msg("\"%s\" not in \"%s\"", parts[i], errors.errors[0].text);
    }
    assert_null(strchr(errors.errors[0].text, '\n'));

    sd_config_error err;
    assert_null(sd_config_load(path, &err));
    assert_string_equal(err.key, key);
    assert_string_equal(err.text, errors.errors[0].text);
}

static void test_error_missing_file(void **state)
{
    fixture *self = *state;
    collected errors = {0};
    assert_int_equal(sd_config_check(self->path, s_collect, &errors), -1);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.errors[0].key, "");
    assert_non_null(strstr(errors.errors[0].text, "No such file"));

    sd_config_error err;
    char line[1400];
    assert_null(sd_config_load(self->path, &err));
    sd_config_error_line(&err, line, sizeof line);
    assert_int_equal(strncmp(line, self->path, strlen(self->path)), 0);
    assert_string_equal(line + strlen(self->path), ": cannot open the file: No such file or"
                                                   " directory; check the path given with -c");
}

static void test_error_invalid_json(void **state)
{
    const char *path = s_write(state, "{\n  \"broker\": {\n    \"liveness\": 3,\n  }\n}\n");
    collected errors = {0};
    assert_int_equal(sd_config_check(path, s_collect, &errors), -1);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.errors[0].key, "");
    assert_non_null(strstr(errors.errors[0].text, "line 4"));
    assert_non_null(strstr(errors.errors[0].text, "column"));
}

static void test_error_wrong_type(void **state)
{
    static const char *const parts[] = {"expected a positive integer", "found \"fast\"", NULL};
    s_assert_one_error(state, "{\"broker\": {\"heartbeat_ms\": \"fast\"}}", "broker.heartbeat_ms",
                       parts);
}

static void test_error_unknown_key(void **state)
{
    static const char *const parts[] = {"unknown key", "sites", "page_size", NULL};
    s_assert_one_error(state, "{\"ga\": {\"sitez\": {}}}", "ga.sitez", parts);
}

static void test_error_concurrent_jobs_range(void **state)
{
    static const char *const parts[] = {"expected an integer from 1 to 64", "found 0", NULL};
    s_assert_one_error(state, "{\"ga\": {\"concurrent_jobs\": 0}}", "ga.concurrent_jobs", parts);
    static const char *const above[] = {"expected an integer from 1 to 64", "found 65", NULL};
    s_assert_one_error(state, "{\"youtube\": {\"concurrent_jobs\": 65}}",
                       "youtube.concurrent_jobs", above);
}

static void test_error_monthly_day_31(void **state)
{
    static const char *const parts[] = {"1 to 28", "found 31", "\"monthly-core\"", NULL};
    s_assert_one_error(state,
                       "{\"schedule\": [{\"id\": \"monthly-core\", \"report\": \"ga-core\","
                       " \"frequency\": \"MONTHLY\", \"day\": 31}]}",
                       "schedule[0].day", parts);
}

static void test_error_unknown_schedule_site(void **state)
{
    static const char *const parts[] = {"unknown site \"retro\"", "\"daily\"", "ga.sites", NULL};
    s_assert_one_error(state,
                       "{\"ga\": {\"sites\": {\"retrotech\": [{\"property\": \"310000003\"}]}},"
                       " \"schedule\": [{\"id\": \"daily\", \"report\": \"ga-core\","
                       " \"frequency\": \"DAILY\", \"sites\": [\"retrotech\", \"retro\"]}]}",
                       "schedule[0].sites[1]", parts);
}

static void test_error_youtube_site_is_channel(void **state)
{
    static const char *const parts[] = {"unknown channel", "youtube.channels", NULL};
    s_assert_one_error(state,
                       "{\"ga\": {\"sites\": {\"retrotech\": [{\"property\": \"310000003\"}]}},"
                       " \"schedule\": [{\"id\": \"yt\", \"report\": \"youtube\","
                       " \"frequency\": \"DAILY\", \"sites\": [\"retrotech\"]}]}",
                       "schedule[0].sites[0]", parts);
}

static void test_error_owner_without_token(void **state)
{
    static const char *const parts[] = {"missing", "content_owner", "auth youtube", NULL};
    s_assert_one_error(state,
                       "{\"youtube\": {\"content_owner\": \"owner1\", \"channels\":"
                       " {\"c\": [{\"id\": \"UCbbbbbbbbbbbbbbbbbbbbb3\"}]}}}",
                       "youtube.owner_refresh_token_file", parts);
}

static void test_error_owner_token_without_owner(void **state)
{
    static const char *const parts[] = {"without youtube.content_owner", NULL};
    s_assert_one_error(state,
                       "{\"youtube\": {\"owner_refresh_token_file\": \"o.token\", \"channels\":"
                       " {\"c\": [{\"id\": \"UCbbbbbbbbbbbbbbbbbbbbb3\","
                       " \"refresh_token_file\": \"c.token\"}]}}}",
                       "youtube.owner_refresh_token_file", parts);
}

static void test_error_key_escaped(void **state)
{
    static const char *const parts[] = {"control character", NULL};
    s_assert_one_error(state, "{\"ga\": {\"sites\": {\"a\\nb\": [{\"property\": \"1\"}]}}}",
                       "ga.sites.a\\x0ab", parts);
}

static void test_check_several_errors(void **state)
{
    const char *path = s_write(
        state, "{\"broker\": {\"endpoint\": \"udp://x\", \"liveness\": 0},\n"
               " \"ga\": {\"page_size\": 0, \"sites\": {\"s\": [{\"property\": \"P1\"}]}},\n"
               " \"schedule\": [{\"id\": \"w\", \"report\": \"ga-core\", \"frequency\": \"WEEKLY\","
               " \"weekday\": 7}],\n"
               " \"log\": {\"level\": \"verbose\"}, \"extra\": 1}\n");
    static const char *const keys[] = {
        "extra",        "broker.endpoint", "broker.liveness",    "ga.sites.s[0].property",
        "ga.page_size", "log.level",       "schedule[0].weekday"};
    size_t expected = sizeof keys / sizeof keys[0];
    collected errors = {0};
    assert_int_equal(sd_config_check(path, s_collect, &errors), (int)expected);
    assert_int_equal(errors.count, (int)expected);
    for (size_t i = 0; i < expected; i++)
        assert_string_equal(errors.errors[i].key, keys[i]);
}

static void test_check_valid_file(void **state)
{
    collected errors = {0};
    assert_int_equal(sd_config_check(s_write(state, s_full), s_collect, &errors), 0);
    assert_int_equal(errors.count, 0);
}

static void test_error_line_format(void **state)
{
    (void)state;
    sd_config_error err = {"a.json", "log.level", "expected one of ..."};
    char line[64];
    assert_string_equal(sd_config_error_line(&err, line, sizeof line),
                        "a.json: log.level: expected one of ...");
    err.key[0] = '\0';
    assert_string_equal(sd_config_error_line(&err, line, sizeof line),
                        "a.json: expected one of ...");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_config_broker, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_config_ga, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_config_youtube, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_config_others, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_full_config_schedule, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_defaults_empty_object, s_setup, s_teardown),
        cmocka_unit_test(test_defaults_new_default),
        cmocka_unit_test_setup_teardown(test_defaults_bind_follows_endpoint, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_missing_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_invalid_json, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_wrong_type, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_unknown_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_concurrent_jobs_range, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_monthly_day_31, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_unknown_schedule_site, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_youtube_site_is_channel, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_owner_without_token, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_owner_token_without_owner, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_error_key_escaped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_check_several_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_check_valid_file, s_setup, s_teardown),
        cmocka_unit_test(test_error_line_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

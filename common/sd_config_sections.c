/*  sd_config_sections: the broker, aggregator, reporter, smtp, scheduler
    and log sections.  */
#include "sd_config_reader.h"
#include "sd_log.h"
#include "sd_timezone.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  Reports a required key that is missing from object.
static void s_require(sd_config_reader *reader, json_t *object, const char *parent,
                      const char *name, const char *reason)
{
    if (json_object_get(object, name))
        return;
    char key[SD_CONFIG_KEY_MAX];
    sd_config_key(key, parent, name);
    sd_config_fail(reader, key, "missing; %s", reason);
}

static void s_read_curve(sd_config_reader *reader, json_t *curve, sd_config_curve *out)
{
    static const char *const known[] = {"public_key_file", "secret_key_file",
                                        "server_public_key_file", "allowed_keys", NULL};
    const char *key = "broker.curve";
    const char *reason = "every process on a CURVE connection needs its own key pair;"
                         " create one with \"statsdash keygen DIR/NAME\"";

    sd_config_check_keys(reader, curve, key, known);
    s_require(reader, curve, key, "public_key_file", reason);
    s_require(reader, curve, key, "secret_key_file", reason);
    sd_config_read_text(reader, curve, key, "public_key_file", &out->public_key_file);
    sd_config_read_text(reader, curve, key, "secret_key_file", &out->secret_key_file);
    sd_config_read_text(reader, curve, key, "server_public_key_file", &out->server_public_key_file);
    sd_config_read_strings(reader, curve, key, "allowed_keys", &out->allowed_keys);
}

void sd_config_read_broker(sd_config_reader *reader, json_t *section, sd_config *config)
{
    static const char *const known[] = {"endpoint",          "bind",          "bus_publish",
                                        "bus_publish_bind",  "bus_subscribe", "bus_subscribe_bind",
                                        "heartbeat_ms",      "liveness",      "queue_limit",
                                        "max_message_bytes", "curve",         NULL};
    static const char *const endpoints[] = {"endpoint",      "bind",
                                            "bus_publish",   "bus_publish_bind",
                                            "bus_subscribe", "bus_subscribe_bind"};
    sd_config_broker *broker = &config->broker;
    char **fields[] = {&broker->endpoint,      &broker->bind,
                       &broker->bus_publish,   &broker->bus_publish_bind,
                       &broker->bus_subscribe, &broker->bus_subscribe_bind};

    sd_config_check_keys(reader, section, "broker", known);
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        sd_config_read_endpoint(reader, section, "broker", endpoints[i], fields[i]);
    sd_config_read_int(reader, section, "broker", "heartbeat_ms", 1, INT_MAX,
                       "peers send a heartbeat this often, in milliseconds", &broker->heartbeat_ms);
    sd_config_read_int(reader, section, "broker", "liveness", 1, INT_MAX,
                       "the number of heartbeats a peer may miss before it counts as dead",
                       &broker->liveness);
    sd_config_read_int(reader, section, "broker", "queue_limit", 1, INT_MAX,
                       "the number of requests queued per service", &broker->queue_limit);
    sd_config_read_int64(reader, section, "broker", "max_message_bytes", 1, INT64_MAX,
                         "the largest ZeroMQ message accepted, in bytes",
                         &broker->max_message_bytes);

    json_t *curve = sd_config_get_object(reader, section, "broker", "curve");
    if (curve) {
        broker->curve_enabled = true;
        s_read_curve(reader, curve, &broker->curve);
    }
}

void sd_config_read_aggregator(sd_config_reader *reader, json_t *section, sd_config *config)
{
    static const char *const known[] = {"shards", NULL};
    sd_config_check_keys(reader, section, "aggregator", known);
    sd_config_read_int(reader, section, "aggregator", "shards", 1, INT_MAX,
                       "raw table parts are spread over this many aggregator shards",
                       &config->aggregator.shards);
}

//  A reporter id is one segment of the topic "table.<id>.", so it may not
//  contain a dot.
static bool s_is_reporter_id(const char *text, const void *context)
{
    (void)context;
    size_t length = strlen(text);
    return length > 0 && length <= 64 &&
           strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
               length;
}

void sd_config_read_reporter(sd_config_reader *reader, json_t *section, sd_config *config)
{
    static const char *const known[] = {
        "id", "templates_dir", "deadline_ms", "render_margin_ms", "table_margin_ms", "state_file",
        NULL};
    sd_config_reporter *reporter = &config->reporter;
    const char *key = "reporter";

    sd_config_check_keys(reader, section, key, known);
    sd_config_read_matching(reader, section, key, "id", s_is_reporter_id, NULL,
                            "1 to 64 letters, digits, '-' or '_'"
                            " (the id is one segment of a dot-separated topic)",
                            &reporter->id);
    sd_config_read_string(reader, section, key, "templates_dir", &reporter->templates_dir);
    sd_config_read_string(reader, section, key, "state_file", &reporter->state_file);
    int result =
        sd_config_read_int(reader, section, key, "deadline_ms", 1, INT_MAX,
                           "the time a report may take, in milliseconds", &reporter->deadline_ms);
    result |= sd_config_read_int(reader, section, key, "render_margin_ms", 0, INT_MAX, NULL,
                                 &reporter->render_margin_ms);
    result |= sd_config_read_int(reader, section, key, "table_margin_ms", 0, INT_MAX, NULL,
                                 &reporter->table_margin_ms);

    int64_t margins = (int64_t)reporter->render_margin_ms + reporter->table_margin_ms;
    if (result == 0 && margins >= reporter->deadline_ms)
        sd_config_fail(reader, "reporter.deadline_ms",
                       "expected more than render_margin_ms + table_margin_ms (%lld), found %d;"
                       " raise the deadline or lower the margins",
                       (long long)margins, reporter->deadline_ms);
}

static bool s_is_smtp_url(const char *text, const void *context)
{
    (void)context;
    return (strncmp(text, "smtp://", 7) == 0 && text[7]) ||
           (strncmp(text, "smtps://", 8) == 0 && text[8]);
}

static bool s_is_address(const char *text, const void *context)
{
    (void)context;
    return sd_config_is_address(text);
}

void sd_config_read_smtp(sd_config_reader *reader, json_t *section, sd_config *config)
{
    static const char *const known[] = {
        "url", "starttls", "user", "password_file", "from", "reply_to", "error_recipients", NULL};
    static const char *const address = "an e-mail address such as statsdash@example.com";
    sd_config_smtp *smtp = &config->smtp;
    const char *key = "smtp";

    sd_config_check_keys(reader, section, key, known);
    sd_config_read_matching(reader, section, key, "url", s_is_smtp_url, NULL,
                            "a URL such as \"smtp://mail.example.com:25\" or"
                            " \"smtps://mail.example.com:465\"",
                            &smtp->url);
    sd_config_read_bool(reader, section, key, "starttls", &smtp->starttls);
    sd_config_read_text(reader, section, key, "user", &smtp->user);
    sd_config_read_text(reader, section, key, "password_file", &smtp->password_file);
    sd_config_read_matching(reader, section, key, "from", s_is_address, NULL, address, &smtp->from);
    sd_config_read_matching(reader, section, key, "reply_to", s_is_address, NULL, address,
                            &smtp->reply_to);
    if (sd_config_read_strings(reader, section, key, "error_recipients", &smtp->error_recipients) ==
        0)
        sd_config_check_addresses(reader, "smtp.error_recipients", &smtp->error_recipients);
}

//  Accepts what the scheduler accepts: the config check must not pass a
//  zone that sd_timezone_parse then rejects at start.
static bool s_is_timezone(const char *text, const void *context)
{
    (void)context;
    sd_timezone zone;
    char error[256];
    return sd_timezone_parse(text, &zone, error, sizeof error) == 0;
}

void sd_config_read_scheduler(sd_config_reader *reader, json_t *section, sd_config *config)
{
    static const char *const known[] = {"database", "lock_file", "interval_s", "timezone", NULL};
    sd_config_scheduler *scheduler = &config->scheduler;
    const char *key = "scheduler";

    sd_config_check_keys(reader, section, key, known);
    sd_config_read_text(reader, section, key, "database", &scheduler->database);
    sd_config_read_text(reader, section, key, "lock_file", &scheduler->lock_file);
    sd_config_read_int(reader, section, key, "interval_s", 1, INT_MAX,
                       "the scheduler checks for due reports this often, in seconds",
                       &scheduler->interval_s);
    sd_config_read_matching(reader, section, key, "timezone", s_is_timezone, NULL,
                            "\"UTC\", an offset within 14 hours such as \"+01:00\" or "
                            "\"-0500\", or a zone name of the tz database (TZDIR, default "
                            "/usr/share/zoneinfo) such as \"Europe/London\"",
                            &scheduler->timezone);
}

static bool s_is_log_level(const char *text, const void *context)
{
    (void)context;
    sd_log_level level;
    return sd_log_level_parse(text, &level) == 0;
}

void sd_config_read_log(sd_config_reader *reader, json_t *section, sd_config *config)
{
    static const char *const known[] = {"level", "syslog", NULL};
    sd_config_log *log = &config->log;

    sd_config_check_keys(reader, section, "log", known);
    sd_config_read_bool(reader, section, "log", "syslog", &log->syslog);
    if (sd_config_read_matching(reader, section, "log", "level", s_is_log_level, NULL,
                                "one of \"debug\", \"info\", \"warning\", \"error\"",
                                &log->level) != 0)
        return;

    //  Store the canonical lower-case name, since the parse ignores case.
    sd_log_level level;
    if (sd_log_level_parse(log->level, &level) == 0 &&
        strcmp(log->level, sd_log_level_name(level)) != 0) {
        char *name = sd_config_strdup(reader, "log.level", sd_log_level_name(level));
        if (name) {
            free(log->level);
            log->level = name;
        }
    }
}

/*  cli_request_checks: what `statsdash request` checks before it sends a
    report request, so that common mistakes get a direct error message
    instead of an error from the reporter or a long wait.  */
#include "cli_request.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"
#include "sd_timezone.h"

//  How long to wait before asking again while the broker replies that no
//  reporter is registered: a reporter that was just started may still be
//  on its way to the broker.
#define S_PROBE_RETRY_MS 250

static const char *s_name_at(bool youtube, const sd_config *config, size_t index)
{
    return youtube ? config->youtube.channels[index].name : config->ga.sites[index].name;
}

//  Returns the configured site or channel names as one comma-separated
//  text (caller frees), or NULL when out of memory.
static char *s_known_names(bool youtube, const sd_config *config)
{
    size_t count = youtube ? config->youtube.channel_count : config->ga.site_count;
    size_t size = 1;
    for (size_t i = 0; i < count; i++)
        size += strlen(s_name_at(youtube, config, i)) + 2;
    char *text = malloc(size);
    if (!text)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < count; i++)
        used += (size_t)snprintf(text + used, size - used, "%s%s", i ? ", " : "",
                                 s_name_at(youtube, config, i));
    text[used] = '\0';
    return text;
}

static void s_print_unknown(bool youtube, const char *name, const sd_config *config,
                            const char *config_path)
{
    const char *noun = youtube ? "channel" : "site";
    const char *section = youtube ? "youtube.channels" : "ga.sites";
    char *known = s_known_names(youtube, config);
    if (known && *known)
        fprintf(stderr, "statsdash request: unknown %s \"%s\"; %s in %s: %s\n", noun, name,
                section, config_path, known);
    else
        fprintf(stderr, "statsdash request: unknown %s \"%s\"; %s in %s is empty\n", noun, name,
                section, config_path);
    free(known);
}

int sd_cli_request_check_sites(const char *report, const char *sites, const sd_config *config,
                               const char *config_path)
{
    bool youtube = strcmp(report, "youtube") == 0;
    char *copy = strdup(sites);
    if (!copy) {
        fprintf(stderr, "statsdash request: out of memory\n");
        return -1;
    }
    int rc = 0;
    char *state = NULL;
    for (char *name = strtok_r(copy, ",", &state); name && rc == 0;
         name = strtok_r(NULL, ",", &state)) {
        if (strcmp(name, "all") == 0)
            continue;
        bool known = youtube ? sd_config_find_channel(config, name) != NULL
                             : sd_config_find_site(config, name) != NULL;
        if (!known) {
            s_print_unknown(youtube, name, config, config_path);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

void sd_cli_request_warn_open_period(sd_frequency frequency, sd_date date,
                                     const sd_config *config)
{
    //  The config check has accepted the zone already; UTC is the fallback
    //  sd_timezone_parse leaves in zone on failure.
    sd_timezone zone;
    char error[256];
    if (sd_timezone_parse(config->scheduler.timezone, &zone, error, sizeof error) != 0)
        sd_debug("%s; today is taken in UTC", error);
    sd_date today = sd_timezone_date(&zone, sd_now_ms());

    sd_report_periods periods;
    sd_report_periods_compute(frequency, date, false, &periods);
    if (sd_date_compare(periods.current.end, today) < 0)
        return;
    char end[11];
    sd_date_format(periods.current.end, end);
    fprintf(stderr, "statsdash request: warning: the period ends on %s, which is not over yet; "
                    "its data is incomplete\n", end);
}

//  Sends one mmi.service request for "report". Returns the reply code
//  ("200", "404", "501") in code, or -1 when no reply came in wait_ms.
static int s_ask_service(sd_mdcli *client, int wait_ms, char code[4])
{
    zmsg_t *body = zmsg_new();
    if (!body || zmsg_addstr(body, "report") != 0) {
        zmsg_destroy(&body);
        return -1;
    }
    zmsg_t *reply = sd_mdcli_request(client, "mmi.service", &body, wait_ms);
    if (!reply)
        return -1;
    zframe_t *frame = zmsg_first(reply);
    size_t length = frame ? zframe_size(frame) : 0;
    if (length > 3)
        length = 3;
    if (length > 0)
        memcpy(code, zframe_data(frame), length);
    code[length] = '\0';
    zmsg_destroy(&reply);
    return 0;
}

int sd_cli_request_probe(sd_mdcli *client, const sd_config *config, const char *config_path,
                         int timeout_ms)
{
    const char *endpoint = config->broker.endpoint;
    int64_t deadline = zclock_mono() + timeout_ms;
    char code[4] = "";
    int64_t left = timeout_ms;
    for (;;) {
        code[0] = '\0';
        if (s_ask_service(client, (int)left, code) != 0 || strcmp(code, "404") != 0)
            break;
        left = deadline - zclock_mono() - S_PROBE_RETRY_MS;
        if (left <= 0 || zsys_interrupted) {
            fprintf(stderr, "statsdash request: no statsdash-reporter is registered with the "
                            "broker at %s; start statsdash-reporter\n", endpoint);
            return -1;
        }
        zclock_sleep(S_PROBE_RETRY_MS);
    }
    if (code[0] == '\0') {
        fprintf(stderr, "statsdash request: no reply from the broker at %s within %d s; is "
                        "statsdash-broker running? check broker.endpoint in %s\n",
                endpoint, (timeout_ms + 999) / 1000, config_path);
        return -1;
    }
    if (strcmp(code, "200") != 0)
        sd_debug("the broker replied %s to mmi.service; sending the request anyway endpoint=%s",
                 code, endpoint);
    return 0;
}

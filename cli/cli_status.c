/*  cli_status: `statsdash status -c FILE` sends an mmi.service request
    for each Statsdash service and prints whether it has live workers.  */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sd_config.h"
#include "sd_log.h"
#include "sd_mdcli.h"

//  How long one mmi.service request may wait for the broker.
#define SD_STATUS_TIMEOUT_MS 3000

static const char s_usage[] =
    "Usage: statsdash status -c FILE\n"
    "\n"
    "Asks the broker named by the config's broker.endpoint whether the services\n"
    "ga, youtube and report have live workers, and prints one line per service.\n"
    "Exits 1 when the broker sends no reply within 3 seconds.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (JSON)\n"
    "  -h, --help          print this help and exit\n";

static const char *s_services[] = {"ga", "youtube", "report"};

//  Returns -1 to continue with *config_path set, or the exit status.
static int s_parse_options(int argc, char **argv, const char **config_path)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    optind = 1;
    while ((option = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (option == 'c')
            *config_path = optarg;
        else if (option == 'h') {
            fputs(s_usage, stdout);
            return 0;
        } else {
            fputs(s_usage, stderr);
            return 2;
        }
    }
    if (!*config_path || optind < argc) {
        fputs(s_usage, stderr);
        return 2;
    }
    return -1;
}

//  Sends an mmi.service request for service and copies the status code
//  ("200", "404", ...) into code. Returns 0, or -1 when no reply came in time.
static int s_ask(sd_mdcli *client, const char *service, char *code, size_t size)
{
    zmsg_t *request = zmsg_new();
    if (!request || zmsg_addstr(request, service) != 0) {
        zmsg_destroy(&request);
        return -1;
    }
    zmsg_t *reply = sd_mdcli_request(client, "mmi.service", &request, SD_STATUS_TIMEOUT_MS);
    zframe_t *frame = reply ? zmsg_first(reply) : NULL;
    if (!frame) {
        zmsg_destroy(&reply);
        return -1;
    }
    size_t length = zframe_size(frame) < size - 1 ? zframe_size(frame) : size - 1;
    memcpy(code, zframe_data(frame), length);
    code[length] = '\0';
    zmsg_destroy(&reply);
    return 0;
}

//  Queries every service, then prints the table. Returns 0, or 1 when a
//  request timed out (then nothing goes to stdout).
static int s_print_status(sd_mdcli *client, const char *endpoint)
{
    enum { SERVICE_COUNT = sizeof s_services / sizeof s_services[0] };
    char codes[SERVICE_COUNT][16];
    for (size_t i = 0; i < SERVICE_COUNT; i++) {
        if (s_ask(client, s_services[i], codes[i], sizeof codes[i]) != 0) {
            fprintf(stderr,
                    "statsdash: no reply from the broker at %s within %d ms; check that "
                    "statsdash-broker is running there\n",
                    endpoint, SD_STATUS_TIMEOUT_MS);
            return 1;
        }
    }
    printf("%-10s %s\n", "service", "live workers");
    for (size_t i = 0; i < SERVICE_COUNT; i++)
        printf("%-10s %s\n", s_services[i], strcmp(codes[i], "200") == 0 ? "yes" : "no");
    return 0;
}

int sd_cli_status(int argc, char **argv)
{
    const char *config_path = NULL;
    int status = s_parse_options(argc, argv, &config_path);
    if (status >= 0)
        return status;

    //  Only warnings go to stderr: stdout carries the table.
    sd_log_open("statsdash", SD_LOG_WARNING, false);
    sd_config_error error;
    sd_config *config = sd_config_load(config_path, &error);
    if (!config) {
        char line[1400];
        fprintf(stderr, "statsdash: %s\n", sd_config_error_line(&error, line, sizeof line));
        return 1;
    }
    sd_mdcli *client = sd_mdcli_new(config->broker.endpoint, &config->broker);
    if (client)
        status = s_print_status(client, config->broker.endpoint);
    else {
        fprintf(stderr, "statsdash: cannot connect to the broker at %s\n", config->broker.endpoint);
        status = 1;
    }
    sd_mdcli_destroy(&client);
    sd_config_destroy(&config);
    return status;
}

/*  statsdash-worker-ga: loads the config and serves GA4 fetch jobs until
    SIGTERM or SIGINT.  */
#include <getopt.h>
#include <stdio.h>

#include "sd_config.h"
#include "sd_ga_worker.h"
#include "sd_log.h"

static const char s_usage[] =
    "Usage: statsdash-worker-ga -c FILE\n"
    "\n"
    "Serves the MDP service \"ga\": runs the GA4 Data API queries of each fetch\n"
    "job for every property of the site, publishes the rolled-up tables on the\n"
    "table bus and replies to the job. Also checks whether a day's data is\n"
    "complete (availability.request). Reads the \"broker\", \"aggregator\" and\n"
    "\"ga\" sections of the config.\n"
    "\n"
    "Environment: STATSDASH_NOW (ISO 8601) sets \"now\" for the response cache and\n"
    "quota resets; STATSDASH_RETRY_BASE_MS sets the first retry backoff in\n"
    "milliseconds (default 1000), for tests.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (JSON)\n"
    "  -h, --help          print this help and exit\n"
    "  --version           print the version and exit\n";

//  Parses the options. Returns -1 to continue with *config_path set, or
//  the exit status when the program should stop now.
static int s_parse_options(int argc, char **argv, const char **config_path)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int option;
    while ((option = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (option == 'c')
            *config_path = optarg;
        else if (option == 'h') {
            fputs(s_usage, stdout);
            return 0;
        }
        else if (option == 'V') {
            printf("statsdash-worker-ga %s\n", STATSDASH_VERSION);
            return 0;
        }
        else {
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

static sd_config *s_load_config(const char *path)
{
    sd_config_error error;
    sd_config *config = sd_config_load(path, &error);
    if (!config) {
        char line[1400];
        sd_error("%s", sd_config_error_line(&error, line, sizeof line));
        return NULL;
    }
    sd_log_level level = SD_LOG_INFO;
    if (config->log.level && sd_log_level_parse(config->log.level, &level) != 0)
        level = SD_LOG_INFO;
    sd_log_open("statsdash-worker-ga", level, config->log.syslog);
    return config;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int status = s_parse_options(argc, argv, &config_path);
    if (status >= 0)
        return status;

    sd_log_open("statsdash-worker-ga", SD_LOG_INFO, false);
    sd_config *config = s_load_config(config_path);
    if (!config)
        return 1;

    //  zloop_start returns when SIGINT or SIGTERM arrives (CZMQ's handler).
    char error[1024];
    zloop_t *loop = zloop_new();
    sd_ga_worker *worker = loop ? sd_ga_worker_new(config, loop, error, sizeof error) : NULL;
    if (!worker) {
        sd_error("cannot start: %s", loop ? error : "cannot create the event loop");
        status = 1;
    }
    else {
        sd_info("started config=%s", config_path);
        zloop_start(loop);
        sd_info("stopping");
        status = 0;
    }
    sd_ga_worker_destroy(&worker);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

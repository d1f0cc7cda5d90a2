/*  statsdash-worker-youtube: loads the config and serves YouTube fetch jobs
    until SIGTERM or SIGINT.  */
#include <getopt.h>
#include <stdio.h>

#include "sd_config.h"
#include "sd_log.h"
#include "sd_yt_worker.h"

#define SD_YT_PROGRAM "statsdash-worker-youtube"

static const char s_usage[] =
    "Usage: " SD_YT_PROGRAM " -c FILE\n"
    "\n"
    "Serves the MDP service \"youtube\": runs the YouTube Analytics and Data API\n"
    "calls of each fetch job for every channel id of the channel, publishes the\n"
    "rolled-up tables on the table bus and replies to the job. Reads the\n"
    "\"broker\", \"aggregator\" and \"youtube\" sections of the config; refresh\n"
    "tokens come from `statsdash auth youtube`.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (JSON)\n"
    "  -h, --help          print this help and exit\n"
    "  --version           print the version and exit\n";

//  Returns -1 to go on with *config_path set, or the exit status when the
//  program should stop now.
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
        switch (option) {
        case 'c': *config_path = optarg; break;
        case 'h': fputs(s_usage, stdout); return 0;
        case 'V': printf(SD_YT_PROGRAM " %s\n", STATSDASH_VERSION); return 0;
        default: fputs(s_usage, stderr); return 2;
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
    sd_log_open(SD_YT_PROGRAM, level, config->log.syslog);
    return config;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int status = s_parse_options(argc, argv, &config_path);
    if (status >= 0)
        return status;

    sd_log_open(SD_YT_PROGRAM, SD_LOG_INFO, false);
    sd_config *config = s_load_config(config_path);
    if (!config)
        return 1;

    //  zloop_start returns when SIGINT or SIGTERM arrives (CZMQ's handler).
    char error[1024];
    zloop_t *loop = zloop_new();
    sd_yt_worker *worker = loop ? sd_yt_worker_new(config, loop, error, sizeof error) : NULL;
    if (!worker) {
        sd_error("cannot start: %s", loop ? error : "cannot create the event loop");
        status = 1;
    } else {
        sd_info("started config=%s", config_path);
        zloop_start(loop);
        sd_info("stopping");
        status = 0;
    }
    sd_yt_worker_destroy(&worker);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

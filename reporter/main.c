/*  statsdash-reporter: turns report requests into fetch jobs, waits for the
    normalized tables and replies with the rendered report.  */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <czmq.h>

#include "sd_config.h"
#include "sd_log.h"
#include "sd_reporter.h"

static const char s_usage[] =
    "Usage: statsdash-reporter -c FILE\n"
    "\n"
    "Serves the MDP service \"report\": plans each report, sends its fetch jobs,\n"
    "collects the normalized tables and replies with the rendered report.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (JSON)\n"
    "  -h, --help          print this help and exit\n"
    "      --version       print the version and exit\n";

//  Reads the options. Returns 0 to run, 1 to exit with status 0 (help or
//  version), -1 on a usage error (reported).
static int s_parse_args(int argc, char **argv, const char **config_path)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int option;
    while ((option = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (option == 'c') {
            *config_path = optarg;
        } else if (option == 'h') {
            fputs(s_usage, stdout);
            return 1;
        } else if (option == 'V') {
            printf("statsdash-reporter %s\n", STATSDASH_VERSION);
            return 1;
        } else {
            fputs(s_usage, stderr);
            return -1;
        }
    }
    if (!*config_path || optind < argc) {
        fprintf(stderr, "statsdash-reporter: %s; run with -c FILE\n",
                optind < argc ? "unexpected argument" : "missing the configuration file");
        return -1;
    }
    return 0;
}

static sd_config *s_load_config(const char *path)
{
    sd_config_error err;
    sd_config *config = sd_config_load(path, &err);
    if (!config) {
        char line[1400];
        fprintf(stderr, "statsdash-reporter: %s\n", sd_config_error_line(&err, line, sizeof line));
        return NULL;
    }
    sd_log_level level = SD_LOG_INFO;
    sd_log_level_parse(config->log.level, &level);
    sd_log_open("statsdash-reporter", level, config->log.syslog);
    return config;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int parsed = s_parse_args(argc, argv, &config_path);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    sd_log_open("statsdash-reporter", SD_LOG_INFO, false);
    sd_config *config = s_load_config(config_path);
    if (!config)
        return 1;

    //  CZMQ's own handler stops the loop on SIGINT and SIGTERM.
    int status = 1;
    zloop_t *loop = zloop_new();
    sd_reporter *reporter = loop ? sd_reporter_new(config) : NULL;
    if (reporter && sd_reporter_attach(reporter, loop) == 0) {
        sd_info("statsdash-reporter %s started reporter=%s", STATSDASH_VERSION,
                sd_reporter_id(reporter));
        zloop_start(loop);
        status = zsys_interrupted ? 0 : 1;
        sd_info("statsdash-reporter stopped reporter=%s", sd_reporter_id(reporter));
    } else {
        sd_error("statsdash-reporter could not start; see the errors above");
    }
    sd_reporter_destroy(&reporter);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

/*  statsdash-broker: loads the config, binds the broker and runs it until
    SIGTERM or SIGINT.  */
#include <getopt.h>
#include <stdio.h>

#include "sd_broker.h"
#include "sd_config.h"
#include "sd_log.h"

static const char s_usage[] = "Usage: statsdash-broker -c FILE\n"
                              "\n"
                              "Runs the Majordomo (MDP/0.1) broker and the table bus proxy on the\n"
                              "addresses of the config's \"broker\" section.\n"
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
        } else if (option == 'V') {
            printf("statsdash-broker %s\n", STATSDASH_VERSION);
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

static sd_config *s_load_config(const char *path)
{
    sd_config_error error;
    sd_config *config = sd_config_load(path, &error);
    if (!config) {
        char line[1400];
        fprintf(stderr, "statsdash-broker: %s\n", sd_config_error_line(&error, line, sizeof line));
        return NULL;
    }
    sd_log_level level = SD_LOG_INFO;
    if (config->log.level && sd_log_level_parse(config->log.level, &level) != 0)
        level = SD_LOG_INFO;
    sd_log_open("statsdash-broker", level, config->log.syslog);
    return config;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int status = s_parse_options(argc, argv, &config_path);
    if (status >= 0)
        return status;

    sd_log_open("statsdash-broker", SD_LOG_INFO, false);
    sd_config *config = s_load_config(config_path);
    sd_broker *broker = config ? sd_broker_new(&config->broker) : NULL;
    zloop_t *loop = broker ? zloop_new() : NULL;
    status = 1;

    //  zloop_start returns once CZMQ's handler has seen SIGINT or SIGTERM.
    if (loop && sd_broker_attach(broker, loop) == 0) {
        zloop_start(loop);
        if (zsys_interrupted) {
            sd_info("signal received, stopping");
            status = 0;
        } else
            sd_error("event loop failed, stopping");
    }
    sd_broker_destroy(&broker);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

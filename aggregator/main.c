/*  statsdash-aggregator: loads the config, subscribes to the raw parts of
    its shard (or of every shard) and runs until SIGTERM or SIGINT.  */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "sd_aggregator.h"
#include "sd_config.h"
#include "sd_log.h"

static const char s_usage[] =
    "Usage: statsdash-aggregator -c FILE [--shard K]\n"
    "\n"
    "Merges the raw table parts published on the table bus into normalized\n"
    "tables and publishes them for the reporters.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   configuration file (JSON)\n"
    "  --shard K           serve only shard K (0 to aggregator.shards - 1);\n"
    "                      without it, every shard is served\n"
    "  -h, --help          print this help and exit\n"
    "  --version           print the version and exit\n";

typedef struct {
    const char *config_path;
    int shard;                      //  -1: every shard
} s_arguments;

//  Parses a shard number: decimal digits only. Returns 0 or -1.
static int s_parse_shard(const char *text, int *shard)
{
    char *end = NULL;
    if (!text || text[0] < '0' || text[0] > '9')
        return -1;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > INT_MAX)
        return -1;
    *shard = (int)value;
    return 0;
}

//  Parses the options. Returns -1 to continue with arguments filled, or
//  the exit status when the program should stop now.
static int s_parse_options(int argc, char **argv, s_arguments *arguments)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"shard", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int option;
    while ((option = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (option == 'c')
            arguments->config_path = optarg;
        else if (option == 'S' && s_parse_shard(optarg, &arguments->shard) != 0) {
            fprintf(stderr, "statsdash-aggregator: invalid --shard \"%s\": expected a number "
                            "from 0 to aggregator.shards - 1\n",
                    optarg);
            return 2;
        }
        else if (option == 'h') {
            fputs(s_usage, stdout);
            return 0;
        }
        else if (option == 'V') {
            printf("statsdash-aggregator %s\n", STATSDASH_VERSION);
            return 0;
        }
        else if (option != 'S') {
            fputs(s_usage, stderr);
            return 2;
        }
    }
    if (!arguments->config_path || optind < argc) {
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
        fprintf(stderr, "statsdash-aggregator: %s\n",
                sd_config_error_line(&error, line, sizeof line));
        return NULL;
    }
    sd_log_level level = SD_LOG_INFO;
    if (config->log.level && sd_log_level_parse(config->log.level, &level) != 0)
        level = SD_LOG_INFO;
    sd_log_open("statsdash-aggregator", level, config->log.syslog);
    return config;
}

static sd_aggregator *s_create(const sd_config *config, int shard)
{
    sd_aggregator_options options = {
        .bus_subscribe = config->broker.bus_subscribe,
        .bus_publish = config->broker.bus_publish,
        .shards = config->aggregator.shards,
        .shard = shard,
        .max_message_bytes = config->broker.max_message_bytes,
        .broker = &config->broker,
    };
    return sd_aggregator_new(&options);
}

int main(int argc, char **argv)
{
    s_arguments arguments = {NULL, -1};
    int status = s_parse_options(argc, argv, &arguments);
    if (status >= 0)
        return status;

    sd_log_open("statsdash-aggregator", SD_LOG_INFO, false);
    sd_config *config = s_load_config(arguments.config_path);
    sd_aggregator *aggregator = config ? s_create(config, arguments.shard) : NULL;
    zloop_t *loop = aggregator ? zloop_new() : NULL;
    status = 1;

    //  zloop_start returns once CZMQ's handler has seen SIGINT or SIGTERM.
    if (loop && sd_aggregator_attach(aggregator, loop) == 0) {
        if (arguments.shard >= 0)
            sd_info("started shard=%d shards=%d", arguments.shard, config->aggregator.shards);
        else
            sd_info("started shard=all shards=%d", config->aggregator.shards);
        zloop_start(loop);
        if (zsys_interrupted) {
            sd_info("signal received, stopping");
            status = 0;
        }
        else
            sd_error("event loop failed, stopping");
    }
    sd_aggregator_destroy(&aggregator);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

/*  statsdash-aggregator: loads the config, subscribes to the raw parts of
    its shard (or of every shard) and runs until SIGTERM or SIGINT. Exit
    statuses are those of sd_service.h.  */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "sd_aggregator.h"
#include "sd_config.h"
#include "sd_log.h"
#include "sd_service.h"

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

enum { S_OPTION_SHARD = SD_SERVICE_OPTION_FIRST };

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

//  Handles --shard K; arg is the shard number to set.
static int s_handle_option(int option, const char *value, void *arg)
{
    if (option == S_OPTION_SHARD && s_parse_shard(value, arg) == 0)
        return 0;
    fprintf(stderr, "statsdash-aggregator: invalid --shard \"%s\": expected a number "
                    "from 0 to aggregator.shards - 1\n",
            value);
    return -1;
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
    static const struct option options[] = {
        {"shard", required_argument, NULL, S_OPTION_SHARD},
        {NULL, 0, NULL, 0},
    };
    int shard = -1;                 //  -1: every shard
    const sd_service service = {.name = "statsdash-aggregator", .help = s_usage,
                                .options = options, .handle_option = s_handle_option,
                                .arg = &shard};
    const char *config_path = NULL;
    int status = sd_service_parse_options(&service, argc, argv, &config_path);
    if (status != SD_SERVICE_CONTINUE)
        return status;
    sd_config *config = sd_service_start(service.name, config_path);
    if (!config)
        return SD_EXIT_USAGE;
    if (shard >= config->aggregator.shards) {
        sd_service_usage_error(service.name, "invalid --shard %d: %s sets aggregator.shards "
                               "to %d, so expected 0 to %d", shard, config_path,
                               config->aggregator.shards, config->aggregator.shards - 1);
        sd_config_destroy(&config);
        return SD_EXIT_USAGE;
    }

    sd_aggregator *aggregator = s_create(config, shard);
    zloop_t *loop = aggregator ? zloop_new() : NULL;
    status = SD_EXIT_FAILURE;
    if (loop && sd_aggregator_attach(aggregator, loop) == 0) {
        if (shard >= 0)
            sd_info("started shard=%d shards=%d", shard, config->aggregator.shards);
        else
            sd_info("started shard=all shards=%d", config->aggregator.shards);
        status = sd_service_run(loop);
        if (status == SD_EXIT_OK)
            sd_info("signal received, stopping");
        else
            sd_error("event loop failed, stopping");
    }
    sd_aggregator_destroy(&aggregator);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

/*  statsdash-broker: loads the config, binds the broker and runs it until
    SIGTERM or SIGINT. Exit statuses are those of sd_service.h.  */
#include "sd_broker.h"
#include "sd_config.h"
#include "sd_log.h"
#include "sd_service.h"

static const char s_usage[] = "Usage: statsdash-broker -c FILE\n"
                              "\n"
                              "Runs the Majordomo (MDP/0.1) broker and the table bus proxy on the\n"
                              "addresses of the config's \"broker\" section.\n"
                              "\n"
                              "Options:\n"
                              "  -c, --config FILE   configuration file (JSON)\n"
                              "  -h, --help          print this help and exit\n"
                              "  --version           print the version and exit\n";

int main(int argc, char **argv)
{
    const sd_service service = {.name = "statsdash-broker", .help = s_usage};
    const char *config_path = NULL;
    int status = sd_service_parse_options(&service, argc, argv, &config_path);
    if (status != SD_SERVICE_CONTINUE)
        return status;
    sd_config *config = sd_service_start(service.name, config_path);
    if (!config)
        return SD_EXIT_USAGE;

    sd_broker *broker = sd_broker_new(&config->broker);
    zloop_t *loop = broker ? zloop_new() : NULL;
    status = SD_EXIT_FAILURE;
    if (loop && sd_broker_attach(broker, loop) == 0) {
        status = sd_service_run(loop);
        if (status == SD_EXIT_OK)
            sd_info("signal received, stopping");
        else
            sd_error("event loop failed, stopping");
    }
    sd_broker_destroy(&broker);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

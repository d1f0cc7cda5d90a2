/*  statsdash-worker-ga: loads the config and serves GA4 fetch jobs until
    SIGTERM or SIGINT. Exit statuses are those of sd_service.h.  */
#include "sd_config.h"
#include "sd_ga_worker.h"
#include "sd_log.h"
#include "sd_service.h"

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

int main(int argc, char **argv)
{
    const sd_service service = {.name = "statsdash-worker-ga", .help = s_usage};
    const char *config_path = NULL;
    int status = sd_service_parse_options(&service, argc, argv, &config_path);
    if (status != SD_SERVICE_CONTINUE)
        return status;
    sd_config *config = sd_service_start(service.name, config_path);
    if (!config)
        return SD_EXIT_USAGE;

    char error[1024];
    zloop_t *loop = zloop_new();
    sd_ga_worker *worker = loop ? sd_ga_worker_new(config, loop, error, sizeof error) : NULL;
    if (!worker) {
        sd_error("cannot start: %s", loop ? error : "cannot create the event loop");
        status = SD_EXIT_FAILURE;
    }
    else {
        sd_info("started config=%s", config_path);
        status = sd_service_run(loop);
        sd_info("stopping");
    }
    sd_ga_worker_destroy(&worker);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

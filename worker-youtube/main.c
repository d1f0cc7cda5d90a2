/*  statsdash-worker-youtube: loads the config and serves YouTube fetch jobs
    until SIGTERM or SIGINT. Exit statuses are those of sd_service.h.  */
#include "sd_config.h"
#include "sd_log.h"
#include "sd_service.h"
#include "sd_token_files.h"
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

int main(int argc, char **argv)
{
    const sd_service service = {.name = SD_YT_PROGRAM, .help = s_usage};
    const char *config_path = NULL;
    int status = sd_service_parse_options(&service, argc, argv, &config_path);
    if (status != SD_SERVICE_CONTINUE)
        return status;
    sd_config *config = sd_service_start(service.name, config_path);
    if (!config)
        return SD_EXIT_USAGE;

    char error[1024];
    zloop_t *loop = zloop_new();
    sd_yt_worker *worker = NULL;
    if (loop && sd_token_files_check(config, error, sizeof error) == 0)
        worker = sd_yt_worker_new(config, loop, error, sizeof error);
    if (!worker) {
        sd_error("cannot start: %s", loop ? error : "cannot create the event loop");
        status = SD_EXIT_FAILURE;
    } else {
        sd_info("started config=%s", config_path);
        status = sd_service_run(loop);
        sd_info("stopping");
    }
    sd_yt_worker_destroy(&worker);
    zloop_destroy(&loop);
    sd_config_destroy(&config);
    sd_log_close();
    return status;
}

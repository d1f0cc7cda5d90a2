/*  statsdash-reporter: turns report requests into fetch jobs, waits for the
    normalized tables and replies with the rendered report. Exit statuses
    are those of sd_service.h.  */
#include "sd_config.h"
#include "sd_log.h"
#include "sd_reporter.h"
#include "sd_service.h"

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

int main(int argc, char **argv)
{
    const sd_service service = {.name = "statsdash-reporter", .help = s_usage};
    const char *config_path = NULL;
    int status = sd_service_parse_options(&service, argc, argv, &config_path);
    if (status != SD_SERVICE_CONTINUE)
        return status;
    sd_config *config = sd_service_start(service.name, config_path);
    if (!config)
        return SD_EXIT_USAGE;

    status = SD_EXIT_FAILURE;
    zloop_t *loop = zloop_new();
    sd_reporter *reporter = loop ? sd_reporter_new(config) : NULL;
    if (reporter && sd_reporter_attach(reporter, loop) == 0) {
        sd_info("statsdash-reporter %s started reporter=%s", STATSDASH_VERSION,
                sd_reporter_id(reporter));
        status = sd_service_run(loop);
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

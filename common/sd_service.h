/*  sd_service: the start-up and exit steps that every service main shares.

    A service main (statsdash-broker, -worker-ga, -worker-youtube,
    -aggregator, -reporter, -scheduler) does four things with this module:

      1. sd_service_parse_options reads -c/--config FILE, -h/--help and
         --version, and hands the service's own long options (such as the
         aggregator's --shard K) to a callback.
      2. sd_service_start catches SIGTERM and SIGINT, loads the config
         (printing its one-line error) and sets up logging from the
         config's "log" section.
      3. The main builds its service object on a zloop.
      4. sd_service_run runs the zloop until SIGTERM or SIGINT.

    Exit statuses, the same for every service:

      0  clean stop: SIGTERM or SIGINT, --help or --version;
      1  runtime failure, such as an address already in use, a lock file
         held by another scheduler or a report that could not be delivered
         (scheduler --once); a restart may fix it;
      2  usage or configuration error: a bad option or argument, or a
         config file that cannot be read or is invalid.

    A restart does not fix a status 2, so the systemd units set
    RestartPreventExitStatus=2.

    NOTE: a problem that the config loader cannot see and the service finds
    only while building its objects, such as an empty ga.key_file in the
    GA worker, still exits 1, because the constructors report it like any
    other start failure.
*/
#ifndef SD_SERVICE_H
#define SD_SERVICE_H

#include <getopt.h>

#include <czmq.h>

#include "sd_config.h"

#define SD_EXIT_OK 0
#define SD_EXIT_FAILURE 1
#define SD_EXIT_USAGE 2

//  Returned by sd_service_parse_options when the program goes on to run.
#define SD_SERVICE_CONTINUE (-1)

//  Lowest `val` of a service's own long option. Lower values are kept for
//  the common options and for the error cases of getopt_long.
#define SD_SERVICE_OPTION_FIRST 0x200

//  Maximum count of a service's own long options.
#define SD_SERVICE_OPTION_MAX 32

//  Handles one of the service's own options: option is its `val`, value its
//  argument (NULL for an option without one). Returns 0, or -1 after
//  printing one line that names the bad value; the program then exits 2.
typedef int(sd_service_option_fn)(int option, const char *value, void *arg);

typedef struct {
    const char *name;               //  executable name: prefix of messages, printed by --version
    const char *help;               //  whole --help text, printed to stdout
    //  Service's own long options, ended by an entry with a NULL name; NULL
    //  for none. Each `val` is SD_SERVICE_OPTION_FIRST or higher and `flag`
    //  is NULL.
    const struct option *options;
    sd_service_option_fn *handle_option;    //  required when options is not NULL
    void *arg;                      //  passed to handle_option
} sd_service;

//  Parses the command line with getopt_long. Returns SD_SERVICE_CONTINUE
//  with *config_path set to a string of argv, or SD_EXIT_OK after printing
//  the help or the version. Returns SD_EXIT_USAGE after printing one line
//  on stderr for an invalid option, a missing value, a missing -c FILE, an
//  argument left over or a value that handle_option rejected.
int sd_service_parse_options(const sd_service *service, int argc, char **argv,
                             const char **config_path);

//  Prints "NAME: MESSAGE. Run "NAME --help" for usage." as one line on
//  stderr. Returns SD_EXIT_USAGE, for a main to return.
int sd_service_usage_error(const char *name, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

//  Catches SIGTERM and SIGINT (CZMQ's handler sets zsys_interrupted), opens
//  the log on stderr at level info, loads and validates the config, then
//  sets the log level and syslog from its "log" section. Returns the
//  config, which the caller destroys. On an invalid config, prints one line
//  on stderr that names the file, the key and what is wrong, and returns
//  NULL, so the caller exits with SD_EXIT_USAGE.
sd_config *sd_service_start(const char *name, const char *config_path);

//  Runs the loop. Returns SD_EXIT_OK when SIGTERM or SIGINT stopped it,
//  or SD_EXIT_FAILURE when a handler ended it. Logs nothing, so that each
//  service logs its own stop line.
int sd_service_run(zloop_t *loop);

#endif

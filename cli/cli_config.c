/*  cli_config: `statsdash config check -c FILE` validates a configuration
    file and prints every error, one line each.  */
#include "cli.h"
#include "sd_config.h"

#include <getopt.h>
#include <stdio.h>

static const char s_usage[] =
    "Usage: statsdash config check -c FILE\n"
    "\n"
    "Validates every section of the configuration FILE, whatever process it is\n"
    "meant for. Prints \"FILE: configuration is valid\", or one line per error on\n"
    "stderr naming the file, the key and what is expected.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE   the configuration file to check\n"
    "  -h, --help          print this help and exit\n"
    "\n"
    "Exit status: 0 valid, 1 invalid or unreadable, 2 usage error.\n";

static void s_print_error(const sd_config_error *err, void *arg)
{
    (void)arg;
    char line[sizeof err->path + sizeof err->key + sizeof err->text + 8];
    fprintf(stderr, "%s\n", sd_config_error_line(err, line, sizeof line));
}

//  Reads the options into *path. Returns -1 to go on, else the exit status.
static int s_parse_options(int argc, char **argv, const char **path)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(argc, argv, ":c:h", options, NULL)) != -1) {
        if (option == 'c')
            *path = optarg;
        else if (option == 'h') {
            fputs(s_usage, stdout);
            return 0;
        } else {
            sd_cli_bad_option("config check", option, argv);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "statsdash config check: unexpected argument \"%s\"; run "
                        "\"statsdash config check --help\"\n", argv[optind]);
        return 2;
    }
    if (!*path) {
        sd_cli_missing_config("config check");
        return 2;
    }
    return -1;
}

int sd_cli_config_check(int argc, char **argv)
{
    const char *path = NULL;
    int status = s_parse_options(argc, argv, &path);
    if (status >= 0)
        return status;

    int errors = sd_config_check(path, s_print_error, NULL);
    if (errors != 0)
        return 1;
    printf("%s: configuration is valid\n", path);
    return 0;
}

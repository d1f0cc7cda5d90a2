/*  cli_options: the messages that every command prints for a bad option,
    so that they read alike.  */
#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void sd_cli_bad_option(const char *command, int result, char **argv)
{
    //  For an unknown option getopt_long sets optopt to the letter of a
    //  short one and to 0 for a long one. For a missing value optopt is the
    //  option's code, and the option is the last argument read.
    const char *argument = optind > 0 ? argv[optind - 1] : "";
    bool long_name = result == ':' ? strncmp(argument, "--", 2) == 0 : optopt == 0;
    char name[64];
    if (long_name)
        snprintf(name, sizeof name, "%.*s", (int)strcspn(argument, "="), argument);
    else
        snprintf(name, sizeof name, "-%c", optopt);
    if (result == ':')
        fprintf(stderr, "statsdash %s: option %s needs a value; run \"statsdash %s --help\"\n",
                command, name, command);
    else
        fprintf(stderr, "statsdash %s: unknown option %s; run \"statsdash %s --help\"\n", command,
                name, command);
}

void sd_cli_missing_config(const char *command)
{
    fprintf(stderr, "statsdash %s: missing option -c FILE; run \"statsdash %s --help\"\n", command,
            command);
}

/*  statsdash: the command-line tool. Picks the command and hands it the
    remaining arguments; the commands themselves are in cli_*.c.  */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char s_usage[] =
    "Usage: statsdash COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  request -c FILE --report TYPE --sites all|NAME,... --frequency F --date YYYY-MM-DD\n"
    "          [--format html|csv|json] [-o FILE] [--to ADDRESS,...] [--timeout SECONDS] [-v]\n"
    "                         request a report and write it to stdout or FILE\n"
    "  status -c FILE         show the broker's services and workers\n"
    "  config check -c FILE   validate a configuration file and list every error\n"
    "  auth youtube -c FILE [--channel NAME]\n"
    "                         obtain the refresh token of a channel==MINE channel\n"
    "  keygen DIR/NAME        write a new CURVE key pair under the name DIR/NAME\n"
    "\n"
    "Options:\n"
    "  -h, --help             print this help and exit\n"
    "  --version              print the version and exit\n"
    "\n"
    "Run \"statsdash COMMAND --help\" for the options of one command.\n"
    "\n"
    "Exit status:\n"
    "  request                0 complete report, 2 report delivered with missing data,\n"
    "                         1 error (no report), usage errors included\n"
    "  status                 0 table printed, 1 error, 2 usage error\n"
    "  config check           0 valid, 1 invalid or unreadable file, 2 usage error\n"
    "  auth youtube           0 token written, 1 error, 2 usage error\n"
    "  keygen                 0 key pair written, 1 error, 2 usage error\n"
    "  no or unknown command  2\n"
    "Each error prints one line on stderr that explains it.\n";

static int s_config(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0)
        return sd_cli_config_check(argc - 1, argv + 1);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: statsdash config check -c FILE\n"
               "Run \"statsdash config check --help\" for the details.\n");
        return 0;
    }
    fprintf(stderr, "statsdash: config needs a subcommand: statsdash config check -c FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(s_usage, stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "--version") == 0) {
        printf("statsdash %s\n", STATSDASH_VERSION);
        return 0;
    }
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
        fputs(s_usage, stdout);
        return 0;
    }
    if (strcmp(command, "config") == 0)
        return s_config(argc - 1, argv + 1);
    if (strcmp(command, "status") == 0)
        return sd_cli_status(argc - 1, argv + 1);
    if (strcmp(command, "request") == 0)
        return sd_cli_request(argc - 1, argv + 1);
    if (strcmp(command, "keygen") == 0)
        return sd_cli_keygen(argc - 1, argv + 1);
    if (strcmp(command, "auth") == 0)
        return sd_cli_auth(argc - 1, argv + 1);

    fprintf(stderr, "statsdash: unknown command \"%s\"; run \"statsdash --help\" for the list\n",
            command);
    return 2;
}

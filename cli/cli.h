/*  cli: the commands of the `statsdash` executable.

    statsdash.c only picks the command; each command lives in its own file
    (cli_config.c, cli_status.c, cli_request.c, cli_keygen.c, cli_auth.c).
    A command receives the arguments that follow "statsdash", so argv[0] is
    the command word ("status", "request", "keygen", "auth") and getopt can
    start at index 1. `statsdash config check` passes argv[0] = "check".
    Every command returns the process exit status: 0 success, 1 error (with
    one line on stderr explaining it), 2 usage error. `request` differs
    because scripts test its status: 0 complete report, 2 report delivered
    with missing data, 1 any error, usage errors included.

    Commands parse their options with getopt_long after setting opterr to 0
    and a leading ':' in the short options, so a bad option gets one line
    from sd_cli_bad_option and none from getopt.
*/
#ifndef SD_CLI_H
#define SD_CLI_H

//  Prints one line on stderr naming the option that getopt_long rejected:
//  result is its return value, ':' for a missing value or '?' for an
//  unknown option. command is the name after "statsdash", e.g. "request".
void sd_cli_bad_option(const char *command, int result, char **argv);

//  Prints one line on stderr saying that command lacks -c FILE.
void sd_cli_missing_config(const char *command);

//  statsdash config check -c FILE
int sd_cli_config_check(int argc, char **argv);

//  statsdash status -c FILE
int sd_cli_status(int argc, char **argv);

//  statsdash request -c FILE --report TYPE --sites all|NAME,... ...
int sd_cli_request(int argc, char **argv);

//  statsdash keygen DIR/NAME
int sd_cli_keygen(int argc, char **argv);

//  statsdash auth youtube -c FILE [--channel NAME]
int sd_cli_auth(int argc, char **argv);

#endif

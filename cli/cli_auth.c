/*  cli_auth: placeholder for `statsdash auth` until the command is written.  */
#include "cli.h"

#include <stdio.h>

int sd_cli_auth(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "statsdash: auth is not implemented yet\n");
    return 1;
}

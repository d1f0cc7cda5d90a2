/*  cli_keygen: placeholder for `statsdash keygen` until the command is written.  */
#include "cli.h"

#include <stdio.h>

int sd_cli_keygen(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "statsdash: keygen is not implemented yet\n");
    return 1;
}

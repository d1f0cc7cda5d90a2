/*  cli_loopback: the loopback HTTP listener that receives the OAuth
    redirect of `statsdash auth youtube` (RFC 8252 section 7.3).

    The listener binds 127.0.0.1 on a port the system picks. The browser is
    redirected to http://127.0.0.1:PORT/?code=...&state=... (or
    ?error=...). The listener replies to each request with a short HTML
    page. Requests whose state differs from the expected one, and requests
    without a code or an error (a favicon, say), get a 400 page and do not
    end the wait.
*/
#ifndef CLI_LOOPBACK_H
#define CLI_LOOPBACK_H

#include <stddef.h>

typedef struct cli_loopback cli_loopback;

//  Opens the listener. Returns it, or NULL with error filled.
cli_loopback *cli_loopback_open(char *error, size_t error_size);

//  Returns the port the listener is bound to.
unsigned cli_loopback_port(const cli_loopback *loopback);

//  Waits up to timeout_ms for the redirect that carries state. Returns 0
//  with *code a new string the caller frees, or -1 with error filled (time
//  out, interrupted, or the authorization server's error such as
//  access_denied).
int cli_loopback_wait(cli_loopback *loopback, const char *state, int timeout_ms, char **code,
                      char *error, size_t error_size);

void cli_loopback_close(cli_loopback **loopback);

#endif

/*  sim_oauth: Google's OAuth 2.0 token endpoint for service accounts, and
    the bearer tokens it issues.

    POST /token with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer
    and assertion=JWT returns {"access_token", "expires_in", "token_type":
    "Bearer"} when the JWT is signed with RS256 by the configured key, names
    an iss and a scope, has aud equal to this endpoint's URL, has exp in the
    future, and lasts at most an hour (exp - iat <= 3600) from an iat that is
    not in the future. Failures use Google's shapes: 400 {"error":
    "invalid_grant" | "invalid_request" | "invalid_scope" |
    "unsupported_grant_type", "error_description": "..."}. JWT times and
    token lifetimes follow the real clock, not STATSDASH_NOW. Thread-safe.
*/
#ifndef SIM_OAUTH_H
#define SIM_OAUTH_H

#include <stddef.h>

#include "sim_http.h"

#define SIM_OAUTH_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"

typedef enum {
    SIM_AUTH_OK,
    SIM_AUTH_INVALID,           //  no bearer token, or an unknown or expired one
    SIM_AUTH_SCOPE,             //  a valid token without any accepted scope
} sim_auth_result;

typedef struct sim_oauth sim_oauth;

//  Creates the endpoint. public_key_file is a PEM RSA public key that
//  assertions must be signed with, or NULL to skip signature checks.
//  Tokens last token_lifetime seconds. Returns NULL with a message in error.
sim_oauth *sim_oauth_new(const char *public_key_file, int token_lifetime, char *error,
                         size_t error_size);

void sim_oauth_destroy(sim_oauth **self_p);

//  Registers POST /token on server. Returns 0 or -1.
int sim_oauth_register(sim_oauth *self, sim_server *server);

//  Checks an Authorization header ("Bearer TOKEN", may be NULL) against
//  the issued tokens. The token must carry one of the scopes in the
//  NULL-terminated list accepted_scopes.
sim_auth_result sim_oauth_check(sim_oauth *self, const char *authorization,
                                const char *const *accepted_scopes);

#endif

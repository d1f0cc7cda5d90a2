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

    sim_youtube_auth serves the user grants (authorization_code,
    refresh_token) and plugs into /token with sim_oauth_set_user_grants. Its
    tokens are bound to a YouTube channel (the token's subject) and to the
    refresh token they came from (its grant). Revoking the refresh token
    revokes them too.
*/
#ifndef SIM_OAUTH_H
#define SIM_OAUTH_H

#include <stddef.h>

#include "sim_http.h"
#include "sim_stats.h"

#define SIM_OAUTH_JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"

typedef enum {
    SIM_AUTH_OK,
    SIM_AUTH_INVALID,           //  no bearer token, or an unknown or expired one
    SIM_AUTH_SCOPE,             //  a valid token without any accepted scope
} sim_auth_result;

typedef struct sim_oauth sim_oauth;

//  Serves a /token request whose grant_type is not the JWT bearer grant.
typedef void (*sim_oauth_grant_handler)(void *context, const char *grant_type,
                                        const sim_http_request *request,
                                        sim_http_response *response);

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

//  Returns the decoded value of field name in an
//  application/x-www-form-urlencoded body (a new string the caller frees),
//  or NULL when it is missing or malformed.
char *sim_oauth_form_value(const char *body, const char *name);

//  Issues an access token for scope into value (at least 72 bytes), bound
//  to subject and grant (each may be NULL for none). Returns 0, or -1 when
//  out of randomness or memory.
int sim_oauth_issue(sim_oauth *self, const char *scope, const char *subject,
                    const char *grant, char *value, size_t value_size);

//  Same as sim_oauth_check, and copies the token's subject ("" for a
//  service-account token) into subject when the token is valid.
sim_auth_result sim_oauth_check_subject(sim_oauth *self, const char *authorization,
                                        const char *const *accepted_scopes, char *subject,
                                        size_t subject_size);

//  Makes /token pass the authorization_code and refresh_token grants to
//  handler. context must outlive the server.
void sim_oauth_set_user_grants(sim_oauth *self, sim_oauth_grant_handler handler, void *context);

//  Copies the grant of a live access token into grant. Returns 0, or -1
//  when no such token exists.
int sim_oauth_token_grant(sim_oauth *self, const char *token, char *grant, size_t grant_size);

//  Makes the endpoint report the number of access tokens it stores under
//  "stored" in stats (which must outlive it), updated on every change.
void sim_oauth_set_stats(sim_oauth *self, sim_stats *stats);

//  Returns the lifetime of issued access tokens, in seconds.
int sim_oauth_token_lifetime(const sim_oauth *self);

//  Ends the life of every access token issued so far, as if each had
//  expired; refresh tokens stay valid.
void sim_oauth_expire_all(sim_oauth *self);

//  Revokes every access token issued under grant.
void sim_oauth_revoke_grant(sim_oauth *self, const char *grant);

#endif

/*  sd_oauth: access tokens for a Google service account (OAuth 2.0 JWT
    bearer grant, RFC 7523).

    A service account is loaded from its JSON key file. To get an access
    token, the client signs a JWT (RS256, OpenSSL EVP) naming the account,
    the scope and the token URI, and exchanges it at the token URI through
    sd_http. The token is cached until 60 s before it expires. A request
    made in the 5 minutes before that starts a refresh in the background,
    and the current token is still handed out meanwhile. After an API
    returns 401, the caller drops the token with sd_oauth_invalidate and
    requests a new one, once.

    Tokens, assertions and keys are never logged, and the error texts
    returned here never contain them.
*/
#ifndef SD_OAUTH_H
#define SD_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "sd_http.h"

#define SD_OAUTH_SCOPE_ANALYTICS_READONLY "https://www.googleapis.com/auth/analytics.readonly"

//  Lifetime asked for in the JWT (exp - iat), in seconds.
#define SD_OAUTH_ASSERTION_LIFETIME_S 3600

typedef struct sd_service_account sd_service_account;

//  Reads a service-account JSON key file (type "service_account",
//  client_email, private_key as PEM, private_key_id, token_uri). The file
//  must be a regular file that group and others cannot access (mode 0600 or
//  stricter). Returns the account, or NULL with error filled with one line
//  naming the file and what to do.
sd_service_account *sd_service_account_load(const char *path, char *error, size_t error_size);

//  Returns the account's client_email.
const char *sd_service_account_email(const sd_service_account *account);

//  Returns the key file's token_uri, or "" when the file has none.
const char *sd_service_account_token_uri(const sd_service_account *account);

//  Builds the signed JWT: header {alg RS256, typ JWT, kid private_key_id},
//  claims {iss client_email, scope, aud audience, iat now_s, exp now_s +
//  SD_OAUTH_ASSERTION_LIFETIME_S}, base64url without padding. Returns a new
//  string the caller frees, or NULL when signing fails.
char *sd_service_account_assertion(const sd_service_account *account, const char *scope,
                                   const char *audience, int64_t now_s);

void sd_service_account_destroy(sd_service_account **account);

typedef struct sd_oauth sd_oauth;

//  Receives the outcome of sd_oauth_request: a token (valid during the call
//  only), or NULL and an error text naming the token URI, the HTTP status
//  and the endpoint's error.
typedef void(sd_oauth_token_fn)(const char *token, const char *error, void *arg);

//  Creates a token source for account and scope. Takes ownership of
//  *account and sets it to NULL, even on failure. token_uri overrides the
//  key file's when not NULL or "". Returns NULL when neither gives a token
//  URI (error filled), or when out of memory. loop and http (on that loop)
//  must outlive the source.
sd_oauth *sd_oauth_new(zloop_t *loop, sd_http *http, sd_service_account **account,
                       const char *token_uri, const char *scope, char *error,
                       size_t error_size);

//  Returns the cached access token while it is valid, or NULL. Near the end
//  of its life, also starts a refresh in the background.
const char *sd_oauth_token(sd_oauth *oauth);

//  Asks for a token. fn is called later from the loop, never from inside
//  this call: with the cached token when one is valid, else when the token
//  exchange ends (one exchange serves every waiting caller). Returns 0, or
//  -1 when out of memory or when the exchange cannot be started.
int sd_oauth_request(sd_oauth *oauth, sd_oauth_token_fn *fn, void *arg);

//  Drops every waiting request whose arg is arg; their fn is not called.
void sd_oauth_cancel(sd_oauth *oauth, void *arg);

//  Forgets the cached token when it equals token (an API rejected it with
//  401), so the next request exchanges a new assertion.
void sd_oauth_invalidate(sd_oauth *oauth, const char *token);

//  Cancels the exchange in flight (waiting callbacks are not called) and
//  frees the source; *oauth is set to NULL. Safe on NULL.
void sd_oauth_destroy(sd_oauth **oauth);

#endif

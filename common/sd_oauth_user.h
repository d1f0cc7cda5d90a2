/*  sd_oauth_user: OAuth 2.0 for an installed application acting for a user,
    as the YouTube APIs need it (RFC 6749 authorization code and refresh
    token grants, with PKCE per RFC 7636).

    The OAuth client comes from Google's client secret JSON ({"installed":
    {"client_id", "client_secret", "auth_uri", "token_uri",
    "redirect_uris"}}). `statsdash auth youtube` exchanges an authorization
    code for a refresh token and stores it in a file. The YouTube worker
    then turns that refresh token into access tokens (sd_oauth_user_new).
    Access tokens are cached until 60 s before they expire. After an API
    answers 401 the caller drops the token with sd_oauth_user_invalidate
    and asks again, once. A refresh token that the token endpoint rejects
    with invalid_grant (expired or revoked) gives an error telling the user
    to run `statsdash auth youtube` again.

    Secret files (the client secret and the refresh tokens) are refused
    when group or others may access them. Tokens and secrets are never
    logged, and the error texts returned here never contain them.
*/
#ifndef SD_OAUTH_USER_H
#define SD_OAUTH_USER_H

#include <czmq.h>
#include <stddef.h>

#include "sd_http.h"
#include "sd_oauth.h"

#define SD_OAUTH_SCOPE_YOUTUBE_ANALYTICS "https://www.googleapis.com/auth/yt-analytics.readonly"
#define SD_OAUTH_SCOPE_YOUTUBE_READONLY "https://www.googleapis.com/auth/youtube.readonly"

typedef struct sd_oauth_client sd_oauth_client;

//  Reads a client secret JSON file of an installed application. The file
//  must be a regular file that group and others cannot access. Returns the
//  client, or NULL with error filled with one line naming the file and what
//  to do.
sd_oauth_client *sd_oauth_client_load(const char *path, char *error, size_t error_size);

const char *sd_oauth_client_id(const sd_oauth_client *client);

//  Returns the file's auth_uri or token_uri, or "" when it has none.
const char *sd_oauth_client_auth_uri(const sd_oauth_client *client);
const char *sd_oauth_client_token_uri(const sd_oauth_client *client);

void sd_oauth_client_destroy(sd_oauth_client **client);

//  Reads a refresh token file (the token on its first line). The file must
//  be a regular file that group and others cannot access. Returns a new
//  string the caller frees (with sd_oauth_secret_free), or NULL with error
//  filled.
char *sd_oauth_refresh_token_read(const char *path, char *error, size_t error_size);

//  Writes token and a newline to path with mode 0600, replacing the file
//  atomically (a temporary file renamed over it). Returns 0, or -1 with
//  error filled.
int sd_oauth_refresh_token_write(const char *path, const char *token, char *error,
                                 size_t error_size);

//  Overwrites and frees a secret string. Safe on NULL.
void sd_oauth_secret_free(char *secret);

//  Receives the outcome of sd_oauth_exchange_code: the refresh token
//  (valid during the call only), or NULL and an error text.
typedef void(sd_oauth_code_fn)(const char *refresh_token, const char *error, void *arg);

//  Exchanges an authorization code at token_uri (grant_type
//  authorization_code with client_id, client_secret, redirect_uri and the
//  PKCE code_verifier). fn is called once from the loop, never from inside
//  this call. http must stay alive until fn has been called. Returns 0, or
//  -1 when the request cannot be started (fn is then never called).
int sd_oauth_exchange_code(sd_http *http, const sd_oauth_client *client, const char *token_uri,
                           const char *code, const char *verifier, const char *redirect_uri,
                           sd_oauth_code_fn *fn, void *arg);

typedef struct sd_oauth_user sd_oauth_user;

//  Creates a token source that refreshes with the token stored in
//  refresh_token_file, for the channel named channel_name (used in error
//  texts). client (borrowed), loop and http (on that loop) must outlive the
//  source. token_uri overrides the client's when not NULL or "". Returns
//  NULL with error filled when the file cannot be read or no token URI is
//  known.
sd_oauth_user *sd_oauth_user_new(zloop_t *loop, sd_http *http, const sd_oauth_client *client,
                                 const char *token_uri, const char *refresh_token_file,
                                 const char *channel_name, char *error, size_t error_size);

//  Asks for an access token. fn (sd_oauth.h's callback type) is called
//  later from the loop, never from inside this call: with the cached token
//  when one is valid, else when the refresh ends (one refresh serves every
//  waiting caller). Returns 0, or -1 when out of memory or when the
//  refresh cannot be started.
int sd_oauth_user_request(sd_oauth_user *user, sd_oauth_token_fn *fn, void *arg);

//  Drops every waiting request whose arg is arg; their fn is not called.
void sd_oauth_user_cancel(sd_oauth_user *user, void *arg);

//  Forgets the cached token when it equals token (an API rejected it with
//  401), so the next request refreshes.
void sd_oauth_user_invalidate(sd_oauth_user *user, const char *token);

//  Cancels the refresh in flight (waiting callbacks are not called) and
//  frees the source; *user is set to NULL. Safe on NULL.
void sd_oauth_user_destroy(sd_oauth_user **user);

#endif

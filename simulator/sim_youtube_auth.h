/*  sim_youtube_auth: Google's OAuth 2.0 flow for installed applications, as
    the YouTube APIs use it.

    GET /o/oauth2/auth (and /o/oauth2/v2/auth) plays the consent screen of a
    user who owns one channel (--youtube-user-channel): with client_id,
    redirect_uri on a loopback address (http://127.0.0.1:PORT/...,
    http://[::1]:PORT/... or http://localhost:PORT/...), response_type=code,
    a scope that contains both YouTube read-only scopes, a PKCE
    code_challenge with code_challenge_method=S256, and an optional state, it
    redirects (302) to redirect_uri?code=CODE&scope=...&state=STATE. An unknown
    client or a redirect_uri that is not loopback gets a 400 page (Google
    does not redirect those); other bad requests redirect with error=...
    Codes are single-use and last 10 minutes.

    POST /token gains grant_type=authorization_code (client_id,
    client_secret, code, redirect_uri equal to the authorization's,
    code_verifier whose SHA-256 in base64url equals the challenge), which
    returns an access token and a refresh token bound to the user's
    channel, and grant_type=refresh_token (client_id, client_secret,
    refresh_token), which returns a new access token; an unknown or revoked
    refresh token gets 400 {"error": "invalid_grant", "error_description":
    "Token has been expired or revoked."}.

    POST /revoke?token=T (or token=T in a form body) revokes a refresh token
    and every access token issued from it, as Google's revoke endpoint does;
    an access token revokes the refresh token it came from.

    POST /sim/youtube/refresh-token with the form field channel=UC... is the
    simulator's own: it mints a refresh token for any channel of the dataset
    without the browser step, so tests can authorize several channels.
    POST /sim/youtube/expire-access-tokens, also the simulator's own, makes
    every access token issued so far invalid (the next API call gets 401),
    so tests can check that clients refresh and retry.

    Thread-safe.
*/
#ifndef SIM_YOUTUBE_AUTH_H
#define SIM_YOUTUBE_AUTH_H

#include "sim_http.h"
#include "sim_oauth.h"
#include "sim_youtube_data.h"

#define SIM_YOUTUBE_SCOPE_ANALYTICS "https://www.googleapis.com/auth/yt-analytics.readonly"
#define SIM_YOUTUBE_SCOPE_DATA "https://www.googleapis.com/auth/youtube.readonly"

typedef struct {
    const char *client_id;          //  the one OAuth client the simulator accepts
    const char *client_secret;
    const char *user_channel;       //  channel the "browser user" owns; NULL: none
} sim_youtube_auth_options;

typedef struct sim_youtube_auth sim_youtube_auth;

//  Creates the flow over oauth (which issues the access tokens) and data
//  (for the channel ids the mint endpoint accepts); both must outlive it.
//  The option strings are copied. Returns NULL when out of memory.
sim_youtube_auth *sim_youtube_auth_new(sim_oauth *oauth, const sim_youtube_data *data,
                                       const sim_youtube_auth_options *options);

void sim_youtube_auth_destroy(sim_youtube_auth **self_p);

//  Registers the routes above on server and the user grants on /token.
//  Returns 0 or -1.
int sim_youtube_auth_register(sim_youtube_auth *self, sim_server *server);

#endif

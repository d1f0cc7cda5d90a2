/*  sim_youtube_auth: authorization codes, PKCE, refresh tokens, revocation.  */
#include "sim_youtube_auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"
#include "sim_clock.h"

#define SIM_AUTH_CODE_LIFETIME 600
#define SIM_AUTH_CODES_MAX 1000
#define SIM_AUTH_REFRESH_TOKENS_MAX 10000
#define SIM_AUTH_VALUE_SIZE 72

static const char *s_revoked = "Token has been expired or revoked.";

typedef struct {
    char value[SIM_AUTH_VALUE_SIZE];
    time_t expires;
    char *redirect_uri;
    char *challenge;
    char *scope;
    char channel[32];
} s_code;

typedef struct {
    char value[SIM_AUTH_VALUE_SIZE];
    char *scope;
    char channel[32];
    bool revoked;
} s_refresh_token;

struct sim_youtube_auth {
    sim_oauth *oauth;
    const sim_youtube_data *data;
    char *client_id;
    char *client_secret;
    char *user_channel;             //  NULL: the consent screen denies access
    pthread_mutex_t lock;           //  guards codes and refresh_tokens
    s_code *codes;
    size_t code_count;
    s_refresh_token *refresh_tokens;
    size_t refresh_token_count;
};

static void s_code_clear(s_code *code)
{
    free(code->redirect_uri);
    free(code->challenge);
    free(code->scope);
    memset(code, 0, sizeof *code);
}

sim_youtube_auth *sim_youtube_auth_new(sim_oauth *oauth, const sim_youtube_data *data,
                                       const sim_youtube_auth_options *options)
{
    sim_youtube_auth *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self);
        return NULL;
    }
    self->oauth = oauth;
    self->data = data;
    self->client_id = strdup(options->client_id);
    self->client_secret = strdup(options->client_secret);
    self->user_channel = options->user_channel ? strdup(options->user_channel) : NULL;
    self->codes = calloc(SIM_AUTH_CODES_MAX, sizeof *self->codes);
    self->refresh_tokens = calloc(SIM_AUTH_REFRESH_TOKENS_MAX, sizeof *self->refresh_tokens);
    if (!self->client_id || !self->client_secret || !self->codes || !self->refresh_tokens
        || (options->user_channel && !self->user_channel))
        sim_youtube_auth_destroy(&self);
    return self;
}

void sim_youtube_auth_destroy(sim_youtube_auth **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_youtube_auth *self = *self_p;
    for (size_t i = 0; self->codes && i < self->code_count; i++)
        s_code_clear(&self->codes[i]);
    for (size_t i = 0; self->refresh_tokens && i < self->refresh_token_count; i++)
        free(self->refresh_tokens[i].scope);
    free(self->codes);
    free(self->refresh_tokens);
    free(self->client_id);
    free(self->client_secret);
    free(self->user_channel);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

//  Writes prefix and 24 random bytes in hex into value. Returns 0 or -1.
static int s_random_value(const char *prefix, char *value, size_t size)
{
    unsigned char random[24];
    if (RAND_bytes(random, sizeof random) != 1)
        return -1;
    int used = snprintf(value, size, "%s", prefix);
    for (size_t i = 0; i < sizeof random && (size_t)used + 3 < size; i++)
        used += snprintf(value + used, size - (size_t)used, "%02x", random[i]);
    return 0;
}

//  Appends text to buffer percent-encoded (RFC 3986 unreserved characters
//  stay as they are).
static void s_append_encoded(char *buffer, size_t size, const char *text)
{
    size_t used = strlen(buffer);
    for (const unsigned char *at = (const unsigned char *)text; *at && used + 4 < size; at++) {
        if ((*at >= 'A' && *at <= 'Z') || (*at >= 'a' && *at <= 'z') || (*at >= '0' && *at <= '9')
            || strchr("-._~", *at))
            buffer[used++] = (char)*at;
        else
            used += (size_t)snprintf(buffer + used, size - used, "%%%02X", *at);
    }
    buffer[used] = '\0';
}

//  Returns true when text is 43 to 128 PKCE characters (RFC 7636).
static bool s_is_pkce_text(const char *text)
{
    size_t length = strlen(text);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    return length >= 43 && length <= 128 && strspn(text, alphabet) == length;
}

//  Returns true when base64url(SHA-256(verifier)) equals challenge.
static bool s_verifier_matches(const char *verifier, const char *challenge)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    if (EVP_Digest(verifier, strlen(verifier), digest, &digest_size, EVP_sha256(), NULL) != 1)
        return false;
    char encoded[64];
    int length = EVP_EncodeBlock((unsigned char *)encoded, digest, (int)digest_size);
    while (length > 0 && encoded[length - 1] == '=')
        length--;
    encoded[length] = '\0';
    for (int i = 0; i < length; i++) {
        if (encoded[i] == '+')
            encoded[i] = '-';
        else if (encoded[i] == '/')
            encoded[i] = '_';
    }
    return strcmp(encoded, challenge) == 0;
}

//  Returns true when uri is http:// on a loopback host with a port, and
//  optionally a path, as Google requires for installed applications.
static bool s_is_loopback_redirect(const char *uri)
{
    static const char *const hosts[] = {"http://127.0.0.1:", "http://[::1]:", "http://localhost:"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t length = strlen(hosts[i]);
        if (strncmp(uri, hosts[i], length) != 0)
            continue;
        const char *port = uri + length;
        size_t digits = strspn(port, "0123456789");
        char after = port[digits];
        return digits >= 1 && digits <= 5 && (after == '\0' || after == '/')
            && !strpbrk(port, "#");
    }
    return false;
}

//  Returns true when the space-separated scopes contain scope.
static bool s_has_scope(const char *scopes, const char *scope)
{
    size_t length = strlen(scope);
    for (const char *at = scopes; (at = strstr(at, scope)) != NULL; at += length)
        if ((at == scopes || at[-1] == ' ') && (at[length] == '\0' || at[length] == ' '))
            return true;
    return false;
}

//  -------------------------------------------------------------------------
//  Authorization endpoint

static void s_respond_page(sim_http_response *response, int status, const char *message)
{
    char page[1024];
    snprintf(page, sizeof page, "<!DOCTYPE html><title>Error %d</title><p>%.900s</p>\n", status,
             message);
    free(response->body);
    response->body = strdup(page);
    response->status = status;
    response->content_type = "text/html; charset=utf-8";
}

//  Sets a 302 to redirect_uri with the given query (already encoded).
static void s_redirect(sim_http_response *response, const char *redirect_uri, const char *query)
{
    size_t size = strlen(redirect_uri) + strlen(query) + 2;
    free(response->location);
    response->location = malloc(size);
    if (!response->location) {
        s_respond_page(response, 500, "Internal error.");
        return;
    }
    snprintf(response->location, size, "%s%c%s", redirect_uri,
             strchr(redirect_uri, '?') ? '&' : '?', query);
    s_respond_page(response, 302, "Redirecting to the application.");
    response->status = 302;
}

static void s_redirect_error(sim_http_response *response, const char *redirect_uri,
                             const char *error, const char *description, const char *state)
{
    char query[2048];
    snprintf(query, sizeof query, "error=%s&error_description=", error);
    s_append_encoded(query, sizeof query, description);
    if (state) {
        strncat(query, "&state=", sizeof query - strlen(query) - 1);
        s_append_encoded(query, sizeof query, state);
    }
    s_redirect(response, redirect_uri, query);
    sd_info("authorization denied error=%s", error);
}

//  Returns the problem with an authorization request's parameters, or NULL
//  when they are complete and valid.
static const char *s_authorization_problem(const sim_http_request *request, const char **error)
{
    const char *response_type = sim_http_query(request, "response_type");
    const char *scope = sim_http_query(request, "scope");
    const char *challenge = sim_http_query(request, "code_challenge");
    const char *method = sim_http_query(request, "code_challenge_method");
    *error = "invalid_request";
    if (!response_type || strcmp(response_type, "code") != 0)
        return "response_type must be code.";
    if (!challenge || !s_is_pkce_text(challenge))
        return "code_challenge is missing or is not 43 to 128 characters of [A-Za-z0-9-._~].";
    if (!method || strcmp(method, "S256") != 0)
        return "code_challenge_method must be S256.";
    *error = "invalid_scope";
    if (!scope || !s_has_scope(scope, SIM_YOUTUBE_SCOPE_ANALYTICS)
        || !s_has_scope(scope, SIM_YOUTUBE_SCOPE_DATA))
        return "scope must contain " SIM_YOUTUBE_SCOPE_ANALYTICS " and "
               SIM_YOUTUBE_SCOPE_DATA ".";
    return NULL;
}

//  Drops the codes that expired unused. Called with the lock held.
static void s_prune_codes(sim_youtube_auth *self, time_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->code_count; i++) {
        if (self->codes[i].expires <= now)
            s_code_clear(&self->codes[i]);
        else
            self->codes[kept++] = self->codes[i];
    }
    self->code_count = kept;
}

//  Stores a new code for the request, after dropping expired codes and,
//  when the table is still full, the oldest one. Returns 0 or -1.
static int s_store_code(sim_youtube_auth *self, const sim_http_request *request, char *value,
                        size_t value_size)
{
    if (s_random_value("4/sim.", value, value_size) != 0)
        return -1;
    s_code code = {.expires = sim_clock_real_now() + SIM_AUTH_CODE_LIFETIME};
    snprintf(code.value, sizeof code.value, "%s", value);
    snprintf(code.channel, sizeof code.channel, "%s", self->user_channel);
    code.redirect_uri = strdup(sim_http_query(request, "redirect_uri"));
    code.challenge = strdup(sim_http_query(request, "code_challenge"));
    code.scope = strdup(sim_http_query(request, "scope"));
    if (!code.redirect_uri || !code.challenge || !code.scope) {
        s_code_clear(&code);
        return -1;
    }
    pthread_mutex_lock(&self->lock);
    s_prune_codes(self, sim_clock_real_now());
    if (self->code_count == SIM_AUTH_CODES_MAX) {
        s_code_clear(&self->codes[0]);
        memmove(self->codes, self->codes + 1, (self->code_count - 1) * sizeof *self->codes);
        self->code_count--;
    }
    self->codes[self->code_count++] = code;
    pthread_mutex_unlock(&self->lock);
    return 0;
}

static void s_grant_code(sim_youtube_auth *self, const sim_http_request *request,
                         sim_http_response *response)
{
    const char *redirect_uri = sim_http_query(request, "redirect_uri");
    const char *state = sim_http_query(request, "state");
    char code[SIM_AUTH_VALUE_SIZE];
    if (s_store_code(self, request, code, sizeof code) != 0) {
        s_redirect_error(response, redirect_uri, "server_error", "Internal error.", state);
        return;
    }
    char query[2048];
    snprintf(query, sizeof query, "code=");
    s_append_encoded(query, sizeof query, code);
    strncat(query, "&scope=", sizeof query - strlen(query) - 1);
    s_append_encoded(query, sizeof query, sim_http_query(request, "scope"));
    if (state) {
        strncat(query, "&state=", sizeof query - strlen(query) - 1);
        s_append_encoded(query, sizeof query, state);
    }
    s_redirect(response, redirect_uri, query);
    sd_info("authorization code issued channel=%s", self->user_channel);
}

static void s_handle_authorize(void *context, const sim_http_request *request,
                               sim_http_response *response)
{
    sim_youtube_auth *self = context;
    response->endpoint = "authorize";
    if (strcmp(request->path, "/o/oauth2/auth") != 0
        && strcmp(request->path, "/o/oauth2/v2/auth") != 0) {
        s_respond_page(response, 404, "Not found.");
        return;
    }
    const char *client_id = sim_http_query(request, "client_id");
    const char *redirect_uri = sim_http_query(request, "redirect_uri");
    const char *state = sim_http_query(request, "state");
    const char *error = NULL;
    const char *problem = NULL;
    if (!client_id || strcmp(client_id, self->client_id) != 0) {
        s_respond_page(response, 401, "Error 401: invalid_client. The OAuth client was not "
                                      "found.");
    } else if (!redirect_uri || !s_is_loopback_redirect(redirect_uri)) {
        s_respond_page(response, 400, "Error 400: redirect_uri_mismatch. An installed "
                       "application must redirect to http://127.0.0.1:PORT or "
                       "http://[::1]:PORT.");
    } else if ((problem = s_authorization_problem(request, &error)) != NULL) {
        s_redirect_error(response, redirect_uri, error, problem, state);
    } else if (!self->user_channel) {
        s_redirect_error(response, redirect_uri, "access_denied",
                         "The simulated user owns no channel (see --youtube-user-channel).",
                         state);
    } else {
        s_grant_code(self, request, response);
    }
}

//  -------------------------------------------------------------------------
//  Token grants

static void s_respond_oauth_error(sim_http_response *response, int status, const char *error,
                                  const char *description)
{
    sim_http_respond_json(response, status, json_pack("{s:s, s:s}", "error", error,
                                                      "error_description", description));
}

//  Checks client_id and client_secret of a form body. Returns true when
//  they name the simulator's client; otherwise sets the 401.
static bool s_client_valid(sim_youtube_auth *self, const sim_http_request *request,
                           sim_http_response *response)
{
    char *client_id = sim_oauth_form_value(request->body, "client_id");
    char *client_secret = sim_oauth_form_value(request->body, "client_secret");
    bool valid = false;
    if (!client_id || strcmp(client_id, self->client_id) != 0)
        s_respond_oauth_error(response, 401, "invalid_client", "The OAuth client was not found.");
    else if (!client_secret || strcmp(client_secret, self->client_secret) != 0)
        s_respond_oauth_error(response, 401, "invalid_client", "Unauthorized");
    else
        valid = true;
    free(client_id);
    free(client_secret);
    return valid;
}

//  Stores a new refresh token for channel and scope. Returns 0 or -1.
static int s_store_refresh_token(sim_youtube_auth *self, const char *channel, const char *scope,
                                 char *value, size_t value_size)
{
    if (s_random_value("1//sim.", value, value_size) != 0)
        return -1;
    s_refresh_token token = {.scope = strdup(scope)};
    if (!token.scope)
        return -1;
    snprintf(token.value, sizeof token.value, "%s", value);
    snprintf(token.channel, sizeof token.channel, "%s", channel);
    pthread_mutex_lock(&self->lock);
    int rc = -1;
    if (self->refresh_token_count < SIM_AUTH_REFRESH_TOKENS_MAX) {
        self->refresh_tokens[self->refresh_token_count++] = token;
        rc = 0;
    }
    pthread_mutex_unlock(&self->lock);
    if (rc != 0)
        free(token.scope);
    return rc;
}

//  Issues an access token under refresh token grant and sets the 200
//  response, with the refresh token too when include_refresh is true.
static void s_respond_tokens(sim_youtube_auth *self, const char *grant, const char *channel,
                             const char *scope, bool include_refresh,
                             sim_http_response *response)
{
    char access[SIM_AUTH_VALUE_SIZE];
    if (sim_oauth_issue(self->oauth, scope, channel, grant, access, sizeof access) != 0) {
        sim_http_respond_google_error(response, 500, "Internal error encountered.");
        return;
    }
    json_t *body = json_pack("{s:s, s:i, s:s, s:s}", "access_token", access, "expires_in",
                             sim_oauth_token_lifetime(self->oauth), "scope", scope,
                             "token_type", "Bearer");
    if (body && include_refresh)
        json_object_set_new(body, "refresh_token", json_string(grant));
    sim_http_respond_json(response, 200, body);
}

//  Finds a live code and, when verifier and redirect_uri match, consumes
//  it into *taken (the caller clears it). Returns the error description
//  for the client, or NULL on success.
static const char *s_take_code(sim_youtube_auth *self, const char *value, const char *verifier,
                               const char *redirect_uri, const char **error, s_code *taken)
{
    const char *problem = "Malformed auth code.";
    *error = "invalid_grant";
    time_t now = sim_clock_real_now();
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->code_count; i++) {
        s_code *code = &self->codes[i];
        if (strcmp(code->value, value) != 0 || code->expires <= now)
            continue;
        if (!redirect_uri || strcmp(redirect_uri, code->redirect_uri) != 0) {
            *error = "redirect_uri_mismatch";
            problem = "Bad Request";
        } else if (!verifier) {
            problem = "Missing code verifier.";
        } else if (!s_verifier_matches(verifier, code->challenge)) {
            problem = "Invalid code verifier.";
        } else {
            *taken = *code;
            memmove(code, code + 1, (self->code_count - i - 1) * sizeof *code);
            self->code_count--;
            problem = NULL;
        }
        break;
    }
    pthread_mutex_unlock(&self->lock);
    return problem;
}

static void s_grant_authorization_code(sim_youtube_auth *self, const sim_http_request *request,
                                       sim_http_response *response)
{
    char *value = sim_oauth_form_value(request->body, "code");
    char *verifier = sim_oauth_form_value(request->body, "code_verifier");
    char *redirect_uri = sim_oauth_form_value(request->body, "redirect_uri");
    s_code code = {0};
    const char *error = NULL;
    const char *problem = NULL;
    if (!value) {
        s_respond_oauth_error(response, 400, "invalid_request", "Missing required parameter: "
                                                                "code");
    } else if ((problem = s_take_code(self, value, verifier, redirect_uri, &error, &code))) {
        s_respond_oauth_error(response, 400, error, problem);
    } else {
        char refresh[SIM_AUTH_VALUE_SIZE];
        if (s_store_refresh_token(self, code.channel, code.scope, refresh, sizeof refresh) != 0)
            sim_http_respond_google_error(response, 500, "Internal error encountered.");
        else
            s_respond_tokens(self, refresh, code.channel, code.scope, true, response);
        sd_info("authorization code exchanged channel=%s", code.channel);
    }
    s_code_clear(&code);
    free(value);
    free(verifier);
    free(redirect_uri);
}

//  Copies a live refresh token's channel and scope. Returns 0, or -1 when
//  the token is unknown or revoked.
static int s_find_refresh_token(sim_youtube_auth *self, const char *value, char *channel,
                                size_t channel_size, char **scope)
{
    int rc = -1;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->refresh_token_count && rc != 0; i++) {
        const s_refresh_token *token = &self->refresh_tokens[i];
        if (token->revoked || strcmp(token->value, value) != 0)
            continue;
        snprintf(channel, channel_size, "%s", token->channel);
        *scope = strdup(token->scope);
        rc = *scope ? 0 : -1;
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

static void s_grant_refresh_token(sim_youtube_auth *self, const sim_http_request *request,
                                  sim_http_response *response)
{
    char *value = sim_oauth_form_value(request->body, "refresh_token");
    char channel[32];
    char *scope = NULL;
    if (!value)
        s_respond_oauth_error(response, 400, "invalid_request", "Missing required parameter: "
                                                                "refresh_token");
    else if (s_find_refresh_token(self, value, channel, sizeof channel, &scope) != 0)
        s_respond_oauth_error(response, 400, "invalid_grant", s_revoked);
    else
        s_respond_tokens(self, value, channel, scope, false, response);
    if (response->status == 400)
        sd_info("refresh token rejected status=400");
    free(scope);
    free(value);
}

static void s_handle_grant(void *context, const char *grant_type,
                           const sim_http_request *request, sim_http_response *response)
{
    sim_youtube_auth *self = context;
    if (!s_client_valid(self, request, response))
        return;
    if (strcmp(grant_type, "authorization_code") == 0)
        s_grant_authorization_code(self, request, response);
    else
        s_grant_refresh_token(self, request, response);
}

//  -------------------------------------------------------------------------
//  Revocation and the simulator's own mint endpoint

//  Marks the refresh token value revoked. Returns true when it was live.
static bool s_revoke_refresh_token(sim_youtube_auth *self, const char *value)
{
    bool found = false;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->refresh_token_count; i++) {
        s_refresh_token *token = &self->refresh_tokens[i];
        if (!token->revoked && strcmp(token->value, value) == 0) {
            token->revoked = true;
            found = true;
        }
    }
    pthread_mutex_unlock(&self->lock);
    return found;
}

static void s_handle_revoke(void *context, const sim_http_request *request,
                            sim_http_response *response)
{
    sim_youtube_auth *self = context;
    response->endpoint = "revoke";
    const char *query_token = sim_http_query(request, "token");
    char *token = query_token ? strdup(query_token)
                              : sim_oauth_form_value(request->body, "token");
    char grant[SIM_AUTH_VALUE_SIZE] = "";
    if (token && sim_oauth_token_grant(self->oauth, token, grant, sizeof grant) != 0)
        snprintf(grant, sizeof grant, "%s", token);
    if (!token || strcmp(request->path, "/revoke") != 0) {
        s_respond_oauth_error(response, 400, "invalid_request", "Missing required parameter: "
                                                                "token");
    } else if (!*grant || !s_revoke_refresh_token(self, grant)) {
        s_respond_oauth_error(response, 400, "invalid_token", "Token expired or revoked");
    } else {
        sim_oauth_revoke_grant(self->oauth, grant);
        sim_http_respond_json(response, 200, json_object());
        sd_info("refresh token revoked");
    }
    free(token);
}

static void s_handle_mint(void *context, const sim_http_request *request,
                          sim_http_response *response)
{
    sim_youtube_auth *self = context;
    response->endpoint = "mint";
    if (strcmp(request->path, "/sim/youtube/expire-access-tokens") == 0) {
        sim_oauth_expire_all(self->oauth);
        sim_http_respond_json(response, 200, json_object());
        sd_info("every access token expired on request");
        return;
    }
    char *channel = sim_oauth_form_value(request->body, "channel");
    char refresh[SIM_AUTH_VALUE_SIZE];
    const char *scope = SIM_YOUTUBE_SCOPE_ANALYTICS " " SIM_YOUTUBE_SCOPE_DATA;
    if (strcmp(request->path, "/sim/youtube/refresh-token") != 0)
        sim_http_respond_google_error(response, 404, "Not found.");
    else if (!channel || sim_youtube_data_channel(self->data, channel) < 0)
        sim_http_respond_google_error(response, 400, "channel must name a channel of the "
                                                     "dataset.");
    else if (s_store_refresh_token(self, channel, scope, refresh, sizeof refresh) != 0)
        sim_http_respond_google_error(response, 500, "Internal error encountered.");
    else
        sim_http_respond_json(response, 200, json_pack("{s:s, s:s, s:s}", "refresh_token",
                                                       refresh, "scope", scope, "channel",
                                                       channel));
    free(channel);
}

int sim_youtube_auth_register(sim_youtube_auth *self, sim_server *server)
{
    sim_oauth_set_user_grants(self->oauth, s_handle_grant, self);
    if (sim_server_route(server, "GET", "/o/oauth2/", SIM_ROUTE_API, s_handle_authorize, self)
        || sim_server_route(server, "POST", "/revoke", SIM_ROUTE_API, s_handle_revoke, self)
        || sim_server_route(server, "POST", "/sim/youtube/", SIM_ROUTE_PLAIN, s_handle_mint,
                            self))
        return -1;
    return 0;
}

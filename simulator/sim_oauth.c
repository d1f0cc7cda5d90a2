/*  sim_oauth: JWT-bearer token endpoint and bearer token checks.  */
#include "sim_oauth.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sd_log.h"
#include "sim_clock.h"
#include "sim_jwt.h"

//  Seconds an iat may lie in the future, for clocks that differ a little.
#define SIM_OAUTH_CLOCK_SKEW 60
//  Maximum lifetime Google accepts for an assertion (exp - iat).
#define SIM_OAUTH_MAX_ASSERTION_LIFETIME 3600
//  Issued tokens kept at most. Expired tokens are dropped before each new
//  one is stored, and past this count the oldest live token is dropped too.
#define SIM_OAUTH_TOKENS_MAX 10000

static const char *s_time_problem =
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
    "timeframe. Check your iat and exp values in the JWT claim.";

typedef struct {
    char value[72];             //  the access token
    time_t expires;             //  real-clock time after which it is rejected
    char *scope;                //  the granted space-separated scopes
    char subject[32];           //  the YouTube channel of a user token, "" otherwise
    char grant[72];             //  the refresh token it came from, "" otherwise
} s_token;

struct sim_oauth {
    EVP_PKEY *public_key;       //  NULL: signatures are not checked
    int token_lifetime;         //  seconds
    pthread_mutex_t lock;       //  guards tokens
    s_token *tokens;
    size_t token_count;
    sim_stats *stats;           //  NULL, or where token_count is reported
    sim_oauth_grant_handler user_grants;    //  authorization_code and refresh_token
    void *user_grants_context;
};

sim_oauth *sim_oauth_new(const char *public_key_file, int token_lifetime, char *error,
                         size_t error_size)
{
    sim_oauth *self = calloc(1, sizeof *self);
    if (!self || pthread_mutex_init(&self->lock, NULL) != 0) {
        snprintf(error, error_size, "out of memory");
        free(self);
        return NULL;
    }
    self->token_lifetime = token_lifetime;
    self->tokens = calloc(SIM_OAUTH_TOKENS_MAX, sizeof *self->tokens);
    if (!self->tokens) {
        snprintf(error, error_size, "out of memory");
        sim_oauth_destroy(&self);
        return NULL;
    }
    if (public_key_file) {
        self->public_key = sim_jwt_load_public_key(public_key_file, error, error_size);
        if (!self->public_key)
            sim_oauth_destroy(&self);
    }
    return self;
}

void sim_oauth_destroy(sim_oauth **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_oauth *self = *self_p;
    for (size_t i = 0; i < self->token_count; i++)
        free(self->tokens[i].scope);
    free(self->tokens);
    EVP_PKEY_free(self->public_key);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

static int s_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

//  Decodes application/x-www-form-urlencoded text ('+' is a space, %XX a
//  byte). Returns a new string or NULL when an escape is malformed.
static char *s_form_decode(const char *text, size_t length)
{
    char *out = malloc(length + 1);
    if (!out)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] == '+') {
            out[used++] = ' ';
        } else if (text[i] == '%') {
            int high = i + 2 < length ? s_hex_value(text[i + 1]) : -1;
            int low = i + 2 < length ? s_hex_value(text[i + 2]) : -1;
            if (high < 0 || low < 0) {
                free(out);
                return NULL;
            }
            out[used++] = (char)(high * 16 + low);
            i += 2;
        } else {
            out[used++] = text[i];
        }
    }
    out[used] = '\0';
    return out;
}

char *sim_oauth_form_value(const char *body, const char *name)
{
    size_t name_length = strlen(name);
    const char *pair = body;
    while (*pair) {
        size_t pair_length = strcspn(pair, "&");
        if (pair_length > name_length && strncmp(pair, name, name_length) == 0
            && pair[name_length] == '=')
            return s_form_decode(pair + name_length + 1, pair_length - name_length - 1);
        pair += pair_length;
        if (*pair == '&')
            pair++;
    }
    return NULL;
}

static void s_respond_oauth_error(sim_http_response *response, const char *error,
                                  const char *description)
{
    sim_http_respond_json(response, 400, json_pack("{s:s, s:s}", "error", error,
                                                   "error_description", description));
}

//  Reports token_count to stats. Called with the lock held.
static void s_report_stored(sim_oauth *self)
{
    if (self->stats)
        sim_stats_set_stored(self->stats, "access_tokens", self->token_count);
}

//  Drops expired tokens, then the oldest one when the table is still full,
//  so that one slot is free. Called with the lock held.
static void s_prune(sim_oauth *self, time_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->token_count; i++) {
        if (self->tokens[i].expires <= now) {
            free(self->tokens[i].scope);
            continue;
        }
        self->tokens[kept++] = self->tokens[i];
    }
    self->token_count = kept;
    if (self->token_count == SIM_OAUTH_TOKENS_MAX) {
        free(self->tokens[0].scope);
        memmove(self->tokens, self->tokens + 1, (self->token_count - 1) * sizeof *self->tokens);
        self->token_count--;
    }
}

int sim_oauth_issue(sim_oauth *self, const char *scope, const char *subject,
                    const char *grant, char *value, size_t value_size)
{
    unsigned char random[24];
    if (RAND_bytes(random, sizeof random) != 1)
        return -1;
    int used = snprintf(value, value_size, "ya29.sim.");
    for (size_t i = 0; i < sizeof random && (size_t)used + 3 < value_size; i++)
        used += snprintf(value + used, value_size - (size_t)used, "%02x", random[i]);
    char *scope_copy = strdup(scope);
    if (!scope_copy)
        return -1;

    time_t now = sim_clock_real_now();
    pthread_mutex_lock(&self->lock);
    s_prune(self, now);
    s_token *token = &self->tokens[self->token_count++];
    snprintf(token->value, sizeof token->value, "%s", value);
    token->expires = now + self->token_lifetime;
    token->scope = scope_copy;
    snprintf(token->subject, sizeof token->subject, "%s", subject ? subject : "");
    snprintf(token->grant, sizeof token->grant, "%s", grant ? grant : "");
    s_report_stored(self);
    pthread_mutex_unlock(&self->lock);
    return 0;
}

//  Returns true when aud names this endpoint: http://HOST:PORT/token with
//  the listening address or the request's Host header.
static bool s_audience_matches(const sim_http_request *request, const char *audience)
{
    char expected[320];
    snprintf(expected, sizeof expected, "http://127.0.0.1:%u/token", request->port);
    if (strcmp(audience, expected) == 0)
        return true;
    const char *host = sim_http_header(request, "Host");
    if (!host)
        return false;
    snprintf(expected, sizeof expected, "http://%.256s/token", host);
    return strcmp(audience, expected) == 0;
}

//  Checks iat and exp against the real clock. Returns true when valid.
static bool s_times_valid(json_t *claims)
{
    json_t *issued = json_object_get(claims, "iat");
    json_t *expires = json_object_get(claims, "exp");
    if (!json_is_number(issued) || !json_is_number(expires))
        return false;
    double iat = json_number_value(issued);
    double exp = json_number_value(expires);
    double now = (double)sim_clock_real_now();
    return exp > now && iat <= now + SIM_OAUTH_CLOCK_SKEW && exp > iat
        && exp - iat <= SIM_OAUTH_MAX_ASSERTION_LIFETIME;
}

//  Checks the claims of a verified assertion and issues a token. Sets the
//  response either way.
static void s_grant(sim_oauth *self, const sim_http_request *request, json_t *claims,
                    sim_http_response *response)
{
    const char *issuer = json_string_value(json_object_get(claims, "iss"));
    const char *scope = json_string_value(json_object_get(claims, "scope"));
    const char *audience = json_string_value(json_object_get(claims, "aud"));
    char description[512];

    if (!issuer || !*issuer) {
        s_respond_oauth_error(response, "invalid_grant", "Invalid JWT: the iss claim is missing; "
                              "set it to the service account's client_email.");
    } else if (!audience || !s_audience_matches(request, audience)) {
        snprintf(description, sizeof description,
                 "Invalid JWT audience: the aud claim must be http://127.0.0.1:%u/token, the "
                 "token_uri of this endpoint.", request->port);
        s_respond_oauth_error(response, "invalid_grant", description);
    } else if (!s_times_valid(claims)) {
        s_respond_oauth_error(response, "invalid_grant", s_time_problem);
    } else if (!scope || !*scope) {
        s_respond_oauth_error(response, "invalid_scope",
                              "Invalid OAuth scope or ID token audience provided.");
    } else {
        char token[72];
        if (sim_oauth_issue(self, scope, NULL, NULL, token, sizeof token) != 0) {
            sim_http_respond_google_error(response, 500, "Internal error encountered.");
            return;
        }
        sim_http_respond_json(response, 200,
                              json_pack("{s:s, s:i, s:s}", "access_token", token, "expires_in",
                                        self->token_lifetime, "token_type", "Bearer"));
        sd_info("token issued iss=%s", issuer);
    }
}

static void s_handle_assertion(sim_oauth *self, const sim_http_request *request,
                               sim_http_response *response)
{
    char *assertion = sim_oauth_form_value(request->body, "assertion");
    json_t *claims = NULL;
    sim_jwt_result result = assertion ? sim_jwt_decode(assertion, self->public_key, &claims)
                                      : SIM_JWT_MALFORMED;
    if (!assertion)
        s_respond_oauth_error(response, "invalid_request", "Missing required parameter: assertion");
    else if (result == SIM_JWT_MALFORMED)
        s_respond_oauth_error(response, "invalid_grant",
                              "Invalid JWT: the assertion is not a compact JWS "
                              "(three base64url parts holding JSON objects).");
    else if (result == SIM_JWT_BAD_ALGORITHM)
        s_respond_oauth_error(response, "invalid_grant",
                              "Invalid JWT: the header's alg must be RS256.");
    else if (result == SIM_JWT_BAD_SIGNATURE)
        s_respond_oauth_error(response, "invalid_grant", "Invalid JWT Signature.");
    else
        s_grant(self, request, claims, response);
    json_decref(claims);
    free(assertion);
}

static void s_handle_token(void *context, const sim_http_request *request,
                           sim_http_response *response)
{
    sim_oauth *self = context;
    response->endpoint = "token";
    if (strcmp(request->path, "/token") != 0) {
        sim_http_respond_google_error(response, 404, "Not found.");
        return;
    }
    char *grant_type = sim_oauth_form_value(request->body, "grant_type");
    if (!grant_type) {
        s_respond_oauth_error(response, "invalid_request", "Required parameter is missing: grant_type");
    } else if (self->user_grants && (strcmp(grant_type, "authorization_code") == 0
                                     || strcmp(grant_type, "refresh_token") == 0)) {
        self->user_grants(self->user_grants_context, grant_type, request, response);
    } else if (strcmp(grant_type, SIM_OAUTH_JWT_BEARER) != 0) {
        char description[256];
        snprintf(description, sizeof description, "Invalid grant_type: %.200s", grant_type);
        s_respond_oauth_error(response, "unsupported_grant_type", description);
    } else {
        s_handle_assertion(self, request, response);
    }
    if (response->status != 200)
        sd_warning("token request rejected status=%d", response->status);
    free(grant_type);
}

int sim_oauth_register(sim_oauth *self, sim_server *server)
{
    return sim_server_route(server, "POST", "/token", SIM_ROUTE_API, s_handle_token, self);
}

//  Returns true when the space-separated list scopes contains scope.
static bool s_has_scope(const char *scopes, const char *scope)
{
    size_t length = strlen(scope);
    for (const char *at = scopes; (at = strstr(at, scope)) != NULL; at += length) {
        bool starts = at == scopes || at[-1] == ' ';
        bool ends = at[length] == '\0' || at[length] == ' ';
        if (starts && ends)
            return true;
    }
    return false;
}

sim_auth_result sim_oauth_check(sim_oauth *self, const char *authorization,
                                const char *const *accepted_scopes)
{
    char subject[32];
    return sim_oauth_check_subject(self, authorization, accepted_scopes, subject,
                                   sizeof subject);
}

sim_auth_result sim_oauth_check_subject(sim_oauth *self, const char *authorization,
                                        const char *const *accepted_scopes, char *subject,
                                        size_t subject_size)
{
    snprintf(subject, subject_size, "%s", "");
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
        return SIM_AUTH_INVALID;
    const char *value = authorization + 7;
    time_t now = sim_clock_real_now();
    sim_auth_result result = SIM_AUTH_INVALID;

    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->token_count; i++) {
        const s_token *token = &self->tokens[i];
        if (strcmp(token->value, value) != 0 || token->expires <= now)
            continue;
        result = SIM_AUTH_SCOPE;
        snprintf(subject, subject_size, "%s", token->subject);
        for (size_t k = 0; accepted_scopes[k]; k++)
            if (s_has_scope(token->scope, accepted_scopes[k]))
                result = SIM_AUTH_OK;
        break;
    }
    pthread_mutex_unlock(&self->lock);
    return result;
}

void sim_oauth_set_user_grants(sim_oauth *self, sim_oauth_grant_handler handler, void *context)
{
    self->user_grants = handler;
    self->user_grants_context = context;
}

int sim_oauth_token_grant(sim_oauth *self, const char *token, char *grant, size_t grant_size)
{
    int rc = -1;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->token_count && rc != 0; i++) {
        if (strcmp(self->tokens[i].value, token) == 0) {
            snprintf(grant, grant_size, "%s", self->tokens[i].grant);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

void sim_oauth_revoke_grant(sim_oauth *self, const char *grant)
{
    if (!*grant)
        return;
    pthread_mutex_lock(&self->lock);
    size_t kept = 0;
    for (size_t i = 0; i < self->token_count; i++) {
        if (strcmp(self->tokens[i].grant, grant) == 0) {
            free(self->tokens[i].scope);
            continue;
        }
        self->tokens[kept++] = self->tokens[i];
    }
    self->token_count = kept;
    s_report_stored(self);
    pthread_mutex_unlock(&self->lock);
}

void sim_oauth_set_stats(sim_oauth *self, sim_stats *stats)
{
    pthread_mutex_lock(&self->lock);
    self->stats = stats;
    s_report_stored(self);
    pthread_mutex_unlock(&self->lock);
}

int sim_oauth_token_lifetime(const sim_oauth *self)
{
    return self->token_lifetime;
}

void sim_oauth_expire_all(sim_oauth *self)
{
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->token_count; i++)
        free(self->tokens[i].scope);
    self->token_count = 0;
    s_report_stored(self);
    pthread_mutex_unlock(&self->lock);
}

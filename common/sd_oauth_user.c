/*  sd_oauth_user: client secret and refresh token files, the authorization
    code exchange and the cached access token of a refresh token.  */
#include "sd_oauth_user.h"

#include "sd_log.h"
#include "sd_oauth_token.h"
#include "sd_period.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SD_SECRET_FILE_MAX_BYTES (64 * 1024)
#define SD_USER_TOKEN_MARGIN_MS 60000       //  stop using a token this long before it expires
#define SD_USER_TOKEN_TIMEOUT_MS 30000
#define SD_USER_ERROR_MAX 1024

struct sd_oauth_client {
    char *path;
    char *client_id;
    char *client_secret;
    char *auth_uri;                 //  "" when the file has none
    char *token_uri;                //  "" when the file has none
};

void sd_oauth_secret_free(char *secret)
{
    if (secret)
        OPENSSL_clear_free(secret, strlen(secret));
}

//  Reads a whole secret file after checking that it is a regular file of
//  at most SD_SECRET_FILE_MAX_BYTES that group and others cannot access.
//  what names the file in errors ("client secret file").
static char *s_read_secret(const char *path, const char *what, char *error, size_t error_size)
{
    char *data = NULL;
    struct stat info;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "cannot open %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        snprintf(error, error_size, "%s %s is not a regular file", what, path);
    } else if (info.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(error, error_size, "%s %s has mode %04o, which gives group or others access to "
                 "a secret; run chmod 600 %s", what, path, (unsigned)(info.st_mode & 07777), path);
    } else if (info.st_size <= 0 || info.st_size > SD_SECRET_FILE_MAX_BYTES) {
        snprintf(error, error_size, "%s %s is empty or larger than %d bytes", what, path,
                 SD_SECRET_FILE_MAX_BYTES);
    } else if (!(data = calloc(1, (size_t)info.st_size + 1))) {
        snprintf(error, error_size, "out of memory reading %s %s", what, path);
    } else if (read(fd, data, (size_t)info.st_size) != info.st_size) {
        snprintf(error, error_size, "cannot read %s %s", what, path);
        OPENSSL_clear_free(data, (size_t)info.st_size + 1);
        data = NULL;
    }
    close(fd);
    return data;
}

//  -------------------------------------------------------------------------
//  Client secret file

void sd_oauth_client_destroy(sd_oauth_client **client_p)
{
    sd_oauth_client *client = *client_p;
    if (!client)
        return;
    free(client->path);
    free(client->client_id);
    sd_oauth_secret_free(client->client_secret);
    free(client->auth_uri);
    free(client->token_uri);
    free(client);
    *client_p = NULL;
}

//  Copies the string field of object into *target; "" when optional and
//  missing. Returns 0, or -1 with error filled.
static int s_client_field(json_t *object, const char *field, bool required, const char *path,
                          char **target, char *error, size_t error_size)
{
    json_t *value = json_object_get(object, field);
    const char *text = json_is_string(value) ? json_string_value(value) : "";
    if (required && !*text) {
        snprintf(error, error_size, "client secret file %s: missing or empty string "
                 "installed.%s; download the OAuth client JSON of a \"Desktop app\" client "
                 "again", path, field);
        return -1;
    }
    *target = strdup(text);
    if (!*target) {
        snprintf(error, error_size, "out of memory reading %s", path);
        return -1;
    }
    return 0;
}

//  Fills client from the parsed file. Returns 0 or -1 with error filled.
static int s_client_parse(sd_oauth_client *client, json_t *root, char *error, size_t error_size)
{
    json_t *installed = json_object_get(root, "installed");
    if (!json_is_object(installed)) {
        snprintf(error, error_size, "client secret file %s has no \"installed\" object; create "
                 "an OAuth client of type \"Desktop app\" and download its JSON", client->path);
        return -1;
    }
    if (s_client_field(installed, "client_id", true, client->path, &client->client_id, error,
                       error_size) != 0
        || s_client_field(installed, "client_secret", true, client->path, &client->client_secret,
                          error, error_size) != 0
        || s_client_field(installed, "auth_uri", false, client->path, &client->auth_uri, error,
                          error_size) != 0
        || s_client_field(installed, "token_uri", false, client->path, &client->token_uri,
                          error, error_size) != 0)
        return -1;
    return 0;
}

sd_oauth_client *sd_oauth_client_load(const char *path, char *error, size_t error_size)
{
    char *text = s_read_secret(path, "client secret file", error, error_size);
    if (!text)
        return NULL;
    json_error_t json_error;
    json_t *root = json_loads(text, 0, &json_error);
    sd_oauth_secret_free(text);
    sd_oauth_client *client = calloc(1, sizeof *client);
    if (!root) {
        snprintf(error, error_size, "client secret file %s is not valid JSON (line %d: %s)", path,
                 json_error.line, json_error.text);
    } else if (!client || !(client->path = strdup(path))) {
        snprintf(error, error_size, "out of memory reading %s", path);
    } else if (s_client_parse(client, root, error, error_size) == 0) {
        json_decref(root);
        return client;
    }
    json_decref(root);
    sd_oauth_client_destroy(&client);
    return NULL;
}

const char *sd_oauth_client_id(const sd_oauth_client *client)
{
    return client->client_id;
}

const char *sd_oauth_client_auth_uri(const sd_oauth_client *client)
{
    return client->auth_uri;
}

const char *sd_oauth_client_token_uri(const sd_oauth_client *client)
{
    return client->token_uri;
}

//  -------------------------------------------------------------------------
//  Refresh token files

char *sd_oauth_refresh_token_read(const char *path, char *error, size_t error_size)
{
    char *text = s_read_secret(path, "refresh token file", error, error_size);
    if (!text)
        return NULL;
    text[strcspn(text, "\r\n")] = '\0';
    if (!*text || strspn(text, " \t") == strlen(text)) {
        snprintf(error, error_size, "refresh token file %s holds no token on its first line; "
                 "run statsdash auth youtube again", path);
        sd_oauth_secret_free(text);
        return NULL;
    }
    return text;
}

int sd_oauth_refresh_token_write(const char *path, const char *token, char *error,
                                 size_t error_size)
{
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(error, error_size, "cannot create %s: %s", temporary, strerror(errno));
        return -1;
    }
    size_t length = strlen(token);
    bool written = fchmod(fd, 0600) == 0 && write(fd, token, length) == (ssize_t)length
                && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    if (close(fd) != 0 || !written || rename(temporary, path) != 0) {
        snprintf(error, error_size, "cannot write refresh token file %s: %s", path,
                 strerror(errno));
        unlink(temporary);
        return -1;
    }
    return 0;
}

//  -------------------------------------------------------------------------
//  Token endpoint requests

//  Appends "&name=value" (value form-encoded) to the growing body. Returns
//  0 or -1 when out of memory; on failure the body is freed.
static int s_form_append(char **body, const char *name, const char *value)
{
    char *escaped = curl_easy_escape(NULL, value, 0);
    size_t used = *body ? strlen(*body) : 0;
    size_t size = used + strlen(name) + (escaped ? strlen(escaped) : 0) + 3;
    char *grown = escaped ? malloc(size) : NULL;
    if (grown)
        snprintf(grown, size, "%s%s%s=%s", *body ? *body : "", used ? "&" : "", name, escaped);
    if (escaped)
        OPENSSL_cleanse(escaped, strlen(escaped));
    curl_free(escaped);
    sd_oauth_secret_free(*body);
    *body = grown;
    return grown ? 0 : -1;
}

//  Sends a form POST to token_uri. Returns the sd_http id, or -1. The body
//  is freed here.
static int64_t s_post_form(sd_http *http, const char *token_uri, char **body,
                           sd_http_done_fn *done, void *arg)
{
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                             "Accept: application/json"};
    sd_http_request request = {
        .method = "POST",
        .url = token_uri,
        .headers = headers,
        .header_count = 2,
        .body = *body,
        .body_size = *body ? strlen(*body) : 0,
        .timeout_ms = SD_USER_TOKEN_TIMEOUT_MS,
    };
    int64_t id = *body ? sd_http_send(http, &request, done, arg) : -1;
    sd_oauth_secret_free(*body);
    *body = NULL;
    return id;
}

//  Writes why a token request failed into error: the transport error, or
//  the status and the endpoint's error and description.
static void s_token_error(const char *token_uri, const sd_http_response *response, char *error,
                          size_t size)
{
    if (response->error) {
        snprintf(error, size, "token request to %s failed: %s", token_uri, response->error);
        return;
    }
    sd_oauth_token_error reply;
    if (sd_oauth_token_error_parse(response->body, response->body_size, &reply) == 0)
        snprintf(error, size, "token request to %s failed: HTTP %ld %s: %s", token_uri,
                 response->status, reply.code, reply.description);
    else
        snprintf(error, size, "token request to %s failed: HTTP %ld with no OAuth error in the "
                 "body", token_uri, response->status);
}

//  Returns true when the token endpoint rejected the grant itself (the
//  refresh token or code is expired, revoked or unknown).
static bool s_is_invalid_grant(const sd_http_response *response)
{
    if (response->error || response->status != 400)
        return false;
    sd_oauth_token_error reply;
    return sd_oauth_token_error_parse(response->body, response->body_size, &reply) == 0 &&
           strcmp(reply.code, "invalid_grant") == 0;
}

//  Parses a 200 token response into grant. Returns 0, or -1 with error
//  filled.
static int s_token_body(const char *token_uri, const sd_http_response *response,
                        sd_oauth_token_grant *grant, char *error, size_t size)
{
    char reason[256];
    if (sd_oauth_token_parse(response->body, response->body_size, grant, reason,
                             sizeof reason) == 0)
        return 0;
    snprintf(error, size, "token request to %s returned HTTP 200 without a usable token: %s",
             token_uri, reason);
    return -1;
}

//  -------------------------------------------------------------------------
//  Authorization code exchange

typedef struct {
    sd_oauth_code_fn *fn;
    void *arg;
    char *token_uri;
} s_exchange;

static void s_on_code_exchanged(const sd_http_response *response, void *arg)
{
    s_exchange *exchange = arg;
    char error[SD_USER_ERROR_MAX];
    sd_oauth_token_grant grant = {0};
    bool parsed = false;
    if (response->error || response->status != 200)
        s_token_error(exchange->token_uri, response, error, sizeof error);
    else
        parsed = s_token_body(exchange->token_uri, response, &grant, error, sizeof error) == 0;
    if (parsed && !grant.refresh_token)
        snprintf(error, sizeof error, "token request to %s returned no refresh_token; revoke "
                 "the application's access in the Google account and authorize again",
                 exchange->token_uri);
    exchange->fn(grant.refresh_token, grant.refresh_token ? NULL : error, exchange->arg);
    sd_oauth_token_grant_clear(&grant);
    free(exchange->token_uri);
    free(exchange);
}

int sd_oauth_exchange_code(sd_http *http, const sd_oauth_client *client, const char *token_uri,
                           const char *code, const char *verifier, const char *redirect_uri,
                           sd_oauth_code_fn *fn, void *arg)
{
    s_exchange *exchange = calloc(1, sizeof *exchange);
    if (!exchange)
        return -1;
    *exchange = (s_exchange){fn, arg, strdup(token_uri)};
    char *body = NULL;
    if (!exchange->token_uri || s_form_append(&body, "grant_type", "authorization_code") != 0
        || s_form_append(&body, "code", code) != 0
        || s_form_append(&body, "client_id", client->client_id) != 0
        || s_form_append(&body, "client_secret", client->client_secret) != 0
        || s_form_append(&body, "redirect_uri", redirect_uri) != 0
        || s_form_append(&body, "code_verifier", verifier) != 0) {
        sd_oauth_secret_free(body);
        body = NULL;
    }
    if (s_post_form(http, token_uri, &body, s_on_code_exchanged, exchange) < 0) {
        free(exchange->token_uri);
        free(exchange);
        return -1;
    }
    return 0;
}

//  -------------------------------------------------------------------------
//  Token source of a refresh token

typedef struct {
    sd_oauth_token_fn *fn;
    void *arg;
} s_waiter;

struct sd_oauth_user {
    zloop_t *loop;
    sd_http *http;
    const sd_oauth_client *client;
    char *token_uri;
    char *refresh_token;
    char *file;                     //  the refresh token file, for errors
    char *channel_name;
    char *token;                    //  cached access token, NULL when none
    int64_t valid_until_ms;         //  sd_clock_ms time after which token is not used
    int64_t refresh_id;             //  sd_http id of the refresh in flight, 0 when none
    zlistx_t *waiters;              //  s_waiter items, oldest first
    int deliver_timer;              //  -1 when none is set
};

static void s_forget_token(sd_oauth_user *user)
{
    sd_oauth_secret_free(user->token);
    user->token = NULL;
    user->valid_until_ms = 0;
}

static bool s_token_valid(const sd_oauth_user *user)
{
    return user->token && sd_clock_ms() < user->valid_until_ms;
}

//  Calls and removes every waiter. A waiter is removed before its call, so
//  a callback may add or cancel others. Waiters added meanwhile are served
//  too, because the token or error is still current.
static void s_deliver(sd_oauth_user *user, const char *token, const char *error)
{
    s_waiter *waiter;
    while ((waiter = zlistx_detach(user->waiters, NULL)) != NULL) {
        s_waiter copy = *waiter;
        free(waiter);
        copy.fn(token, error, copy.arg);
    }
}

static void s_refresh_failed(sd_oauth_user *user, const sd_http_response *response)
{
    char error[SD_USER_ERROR_MAX];
    if (s_is_invalid_grant(response)) {
        char detail[SD_USER_ERROR_MAX / 2];
        s_token_error(user->token_uri, response, detail, sizeof detail);
        snprintf(error, sizeof error, "the refresh token in %s for channel \"%s\" is expired or "
                 "revoked (%s); run statsdash auth youtube -c CONFIG --channel \"%s\" again to "
                 "authorize the channel", user->file, user->channel_name, detail,
                 user->channel_name);
    } else {
        s_token_error(user->token_uri, response, error, sizeof error);
    }
    sd_error("youtube oauth: %s", error);
    s_deliver(user, NULL, error);
}

static void s_on_refreshed(const sd_http_response *response, void *arg)
{
    sd_oauth_user *user = arg;
    char error[SD_USER_ERROR_MAX];
    user->refresh_id = 0;
    if (response->error || response->status != 200) {
        s_refresh_failed(user, response);
        return;
    }
    //  A body without a usable token fails the waiters even when an
    //  expired token is still cached, so that it is not handed out again.
    sd_oauth_token_grant grant;
    if (s_token_body(user->token_uri, response, &grant, error, sizeof error) != 0) {
        sd_error("youtube oauth: %s channel=%s", error, user->channel_name);
        s_deliver(user, NULL, error);
        return;
    }
    s_forget_token(user);
    user->token = grant.access_token;
    grant.access_token = NULL;
    user->valid_until_ms = sd_clock_ms() + grant.expires_in_s * 1000 - SD_USER_TOKEN_MARGIN_MS;
    sd_oauth_token_grant_clear(&grant);
    sd_info("youtube oauth: access token obtained, expires in %" PRId64 " s channel=%s",
            (user->valid_until_ms - sd_clock_ms() + SD_USER_TOKEN_MARGIN_MS) / 1000,
            user->channel_name);
    //  A token of a very short life is still handed to those waiting now.
    s_deliver(user, user->token, NULL);
}

static int s_start_refresh(sd_oauth_user *user)
{
    if (user->refresh_id > 0)
        return 0;
    char *body = NULL;
    if (s_form_append(&body, "grant_type", "refresh_token") != 0
        || s_form_append(&body, "client_id", user->client->client_id) != 0
        || s_form_append(&body, "client_secret", user->client->client_secret) != 0
        || s_form_append(&body, "refresh_token", user->refresh_token) != 0)
        return -1;
    int64_t id = s_post_form(user->http, user->token_uri, &body, s_on_refreshed, user);
    if (id < 0) {
        sd_error("youtube oauth: cannot start the token request to %s channel=%s",
                 user->token_uri, user->channel_name);
        return -1;
    }
    user->refresh_id = id;
    return 0;
}

sd_oauth_user *sd_oauth_user_new(zloop_t *loop, sd_http *http, const sd_oauth_client *client,
                                 const char *token_uri, const char *refresh_token_file,
                                 const char *channel_name, char *error, size_t error_size)
{
    const char *uri = token_uri && *token_uri ? token_uri : client->token_uri;
    if (!*uri) {
        snprintf(error, error_size, "no token URI: client secret file %s has no token_uri and "
                 "the config sets none", client->path);
        return NULL;
    }
    sd_oauth_user *user = calloc(1, sizeof *user);
    if (!user) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    *user = (sd_oauth_user){.loop = loop, .http = http, .client = client, .deliver_timer = -1};
    user->refresh_token = sd_oauth_refresh_token_read(refresh_token_file, error, error_size);
    if (!user->refresh_token) {
        sd_oauth_user_destroy(&user);
        return NULL;
    }
    user->token_uri = strdup(uri);
    user->file = strdup(refresh_token_file);
    user->channel_name = strdup(channel_name);
    user->waiters = zlistx_new();
    if (!user->token_uri || !user->file || !user->channel_name || !user->waiters) {
        snprintf(error, error_size, "out of memory");
        sd_oauth_user_destroy(&user);
        return NULL;
    }
    zlistx_set_destructor(user->waiters, NULL);
    return user;
}

static int s_on_deliver_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_oauth_user *user = arg;
    user->deliver_timer = -1;
    if (s_token_valid(user))
        s_deliver(user, user->token, NULL);
    else if (zlistx_size(user->waiters) > 0 && s_start_refresh(user) != 0)
        s_deliver(user, NULL, "cannot start the token request");
    return 0;
}

int sd_oauth_user_request(sd_oauth_user *user, sd_oauth_token_fn *fn, void *arg)
{
    s_waiter *waiter = malloc(sizeof *waiter);
    if (!waiter)
        return -1;
    *waiter = (s_waiter){fn, arg};
    int rc = 0;
    if (!s_token_valid(user))
        rc = s_start_refresh(user);
    else if (user->deliver_timer < 0) {
        user->deliver_timer = zloop_timer(user->loop, 0, 1, s_on_deliver_timer, user);
        rc = user->deliver_timer < 0 ? -1 : 0;
    }
    if (rc == 0 && !zlistx_add_end(user->waiters, waiter))
        rc = -1;
    if (rc != 0)
        free(waiter);
    return rc;
}

void sd_oauth_user_cancel(sd_oauth_user *user, void *arg)
{
    //  Detaching the item at the cursor moves the cursor back one, so the
    //  loop goes on with the item after it.
    for (s_waiter *waiter = zlistx_first(user->waiters); waiter;
         waiter = zlistx_next(user->waiters)) {
        if (waiter->arg == arg)
            free(zlistx_detach_cur(user->waiters));
    }
}

void sd_oauth_user_invalidate(sd_oauth_user *user, const char *token)
{
    if (user->token && token && strcmp(user->token, token) == 0) {
        sd_info("youtube oauth: access token rejected by the API, a new one will be requested "
                "channel=%s", user->channel_name);
        s_forget_token(user);
    }
}

void sd_oauth_user_destroy(sd_oauth_user **user_p)
{
    sd_oauth_user *user = *user_p;
    if (!user)
        return;
    if (user->refresh_id > 0)
        sd_http_cancel(user->http, user->refresh_id);
    if (user->deliver_timer >= 0)
        zloop_timer_end(user->loop, user->deliver_timer);
    if (user->waiters) {
        for (s_waiter *waiter = zlistx_first(user->waiters); waiter;
             waiter = zlistx_next(user->waiters))
            free(waiter);
        zlistx_destroy(&user->waiters);
    }
    s_forget_token(user);
    sd_oauth_secret_free(user->refresh_token);
    free(user->token_uri);
    free(user->file);
    free(user->channel_name);
    free(user);
    *user_p = NULL;
}

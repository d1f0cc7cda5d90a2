/*  sd_oauth: service-account key files, RS256 JWT assertions and the
    cached access token.  */
#include "sd_oauth.h"

#include "sd_log.h"
#include "sd_oauth_token.h"
#include "sd_period.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SD_KEY_FILE_MAX_BYTES (1024 * 1024)
#define SD_TOKEN_MARGIN_MS 60000            //  stop using a token this long before it expires
#define SD_TOKEN_REFRESH_AHEAD_MS 300000    //  refresh in the background this long before that
#define SD_TOKEN_REQUEST_TIMEOUT_MS 30000
#define SD_TOKEN_ERROR_MAX 768

#define SD_JWT_GRANT_TYPE "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"

struct sd_service_account {
    char *path;
    char *client_email;
    char *private_key_id;           //  NULL when the file has none
    char *token_uri;                //  "" when the file has none
    EVP_PKEY *key;
};

//  -------------------------------------------------------------------------
//  Key file

//  Reads the whole file into a new NUL-terminated buffer after checking its
//  type, mode and size.
static char *s_read_key_file(const char *path, size_t *size, char *error, size_t error_size)
{
    char *data = NULL;
    struct stat info;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "cannot open key file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        snprintf(error, error_size, "key file %s is not a regular file", path);
        goto done;
    }
    if (info.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(error, error_size,
                 "key file %s has mode %04o, which gives group or others access to a "
                 "private key; run chmod 600 %s",
                 path, (unsigned)(info.st_mode & 07777), path);
        goto done;
    }
    if (info.st_size <= 0 || info.st_size > SD_KEY_FILE_MAX_BYTES) {
        snprintf(error, error_size, "key file %s is empty or larger than %d bytes", path,
                 SD_KEY_FILE_MAX_BYTES);
        goto done;
    }
    data = calloc(1, (size_t)info.st_size + 1);
    ssize_t got = data ? read(fd, data, (size_t)info.st_size) : -1;
    if (got != info.st_size) {
        snprintf(error, error_size, "cannot read key file %s", path);
        if (data)
            OPENSSL_clear_free(data, (size_t)info.st_size + 1);
        data = NULL;
        goto done;
    }
    *size = (size_t)got;
done:
    close(fd);
    return data;
}

//  Returns the string field, or NULL with error filled when it is missing.
static const char *s_key_string(json_t *root, const char *field, bool required, const char *path,
                                char *error, size_t error_size)
{
    json_t *value = json_object_get(root, field);
    if (json_is_string(value) && json_string_length(value) > 0)
        return json_string_value(value);
    if (required)
        snprintf(error, error_size,
                 "key file %s: missing or empty string field \"%s\"; download a new JSON key "
                 "of the service account",
                 path, field);
    return NULL;
}

//  Stops OpenSSL from prompting for a passphrase on the terminal.
static int s_no_passphrase(char *buffer, int size, int rwflag, void *arg)
{
    (void)buffer;
    (void)size;
    (void)rwflag;
    (void)arg;
    return 0;
}

static EVP_PKEY *s_parse_private_key(const char *pem, const char *path, char *error,
                                     size_t error_size)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, s_no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (key && !EVP_PKEY_is_a(key, "RSA")) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    if (!key)
        snprintf(error, error_size,
                 "key file %s: private_key is not an unencrypted PEM RSA private key", path);
    return key;
}

static int s_fill_account(sd_service_account *account, json_t *root, char *error,
                          size_t error_size)
{
    const char *path = account->path;
    const char *type = s_key_string(root, "type", true, path, error, error_size);
    if (!type)
        return -1;
    if (strcmp(type, "service_account") != 0) {
        snprintf(error, error_size,
                 "key file %s: type is \"%.64s\", expected \"service_account\"", path, type);
        return -1;
    }
    const char *email = s_key_string(root, "client_email", true, path, error, error_size);
    const char *pem = email ? s_key_string(root, "private_key", true, path, error, error_size)
                            : NULL;
    if (!pem)
        return -1;
    const char *key_id = s_key_string(root, "private_key_id", false, path, error, error_size);
    const char *token_uri = s_key_string(root, "token_uri", false, path, error, error_size);
    account->client_email = strdup(email);
    account->private_key_id = key_id ? strdup(key_id) : NULL;
    account->token_uri = strdup(token_uri ? token_uri : "");
    if (!account->client_email || (key_id && !account->private_key_id) || !account->token_uri) {
        snprintf(error, error_size, "key file %s: out of memory", path);
        return -1;
    }
    account->key = s_parse_private_key(pem, path, error, error_size);
    return account->key ? 0 : -1;
}

sd_service_account *sd_service_account_load(const char *path, char *error, size_t error_size)
{
    size_t size = 0;
    json_t *root = NULL;
    sd_service_account *account = calloc(1, sizeof *account);
    char *data = account ? s_read_key_file(path, &size, error, error_size) : NULL;
    if (!data)
        goto fail;
    account->path = strdup(path);
    json_error_t json_error;
    root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &json_error);
    if (!root || !json_is_object(root)) {
        snprintf(error, error_size, "key file %s is not a JSON object (line %d: %s)", path,
                 json_error.line, root ? "not an object" : json_error.text);
        goto fail;
    }
    if (!account->path || s_fill_account(account, root, error, error_size) != 0)
        goto fail;
    json_decref(root);
    OPENSSL_clear_free(data, size + 1);
    return account;
fail:
    json_decref(root);
    if (data)
        OPENSSL_clear_free(data, size + 1);
    sd_service_account_destroy(&account);
    return NULL;
}

const char *sd_service_account_email(const sd_service_account *account)
{
    return account->client_email;
}

const char *sd_service_account_token_uri(const sd_service_account *account)
{
    return account->token_uri;
}

void sd_service_account_destroy(sd_service_account **account_p)
{
    sd_service_account *account = *account_p;
    if (!account)
        return;
    EVP_PKEY_free(account->key);
    free(account->path);
    free(account->client_email);
    free(account->private_key_id);
    free(account->token_uri);
    free(account);
    *account_p = NULL;
}

//  -------------------------------------------------------------------------
//  JWT

//  Returns data as new base64url text without padding (RFC 7515), or NULL.
static char *s_base64url(const unsigned char *data, size_t size)
{
    char *text = malloc(4 * ((size + 2) / 3) + 1);
    if (!text)
        return NULL;
    int length = EVP_EncodeBlock((unsigned char *)text, data, (int)size);
    while (length > 0 && text[length - 1] == '=')
        length--;
    text[length] = '\0';
    for (char *p = text; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    return text;
}

static char *s_base64url_json(json_t *object)
{
    char *text = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *encoded = text ? s_base64url((const unsigned char *)text, strlen(text)) : NULL;
    free(text);
    return encoded;
}

//  Returns the RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of input,
//  base64url-encoded, or NULL.
static char *s_sign(EVP_PKEY *key, const char *input)
{
    char *encoded = NULL;
    unsigned char *signature = NULL;
    size_t signature_size = 0;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (!context || EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key) != 1)
        goto done;
    if (EVP_DigestSign(context, NULL, &signature_size, (const unsigned char *)input,
                       strlen(input)) != 1)
        goto done;
    signature = malloc(signature_size);
    if (!signature || EVP_DigestSign(context, signature, &signature_size,
                                     (const unsigned char *)input, strlen(input)) != 1)
        goto done;
    encoded = s_base64url(signature, signature_size);
done:
    free(signature);
    EVP_MD_CTX_free(context);
    return encoded;
}

static json_t *s_jwt_header(const sd_service_account *account)
{
    json_t *header = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    if (header && account->private_key_id &&
        json_object_set_new(header, "kid", json_string(account->private_key_id)) != 0) {
        json_decref(header);
        return NULL;
    }
    return header;
}

char *sd_service_account_assertion(const sd_service_account *account, const char *scope,
                                   const char *audience, int64_t now_s)
{
    char *assertion = NULL;
    char *header_text = NULL;
    char *claims_text = NULL;
    char *signature = NULL;
    json_t *header = s_jwt_header(account);
    json_t *claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", account->client_email,
                               "scope", scope, "aud", audience, "iat", (json_int_t)now_s, "exp",
                               (json_int_t)(now_s + SD_OAUTH_ASSERTION_LIFETIME_S));
    if (!header || !claims)
        goto done;
    header_text = s_base64url_json(header);
    claims_text = s_base64url_json(claims);
    if (!header_text || !claims_text)
        goto done;

    //  The signature covers "header.claims"; the token is "header.claims.signature".
    size_t size = strlen(header_text) + strlen(claims_text) + 2;
    char *input = malloc(size);
    if (!input)
        goto done;
    snprintf(input, size, "%s.%s", header_text, claims_text);
    signature = s_sign(account->key, input);
    if (signature) {
        size_t total = size + strlen(signature) + 1;
        assertion = malloc(total);
        if (assertion)
            snprintf(assertion, total, "%s.%s", input, signature);
    }
    free(input);
done:
    free(header_text);
    free(claims_text);
    free(signature);
    json_decref(header);
    json_decref(claims);
    return assertion;
}

//  -------------------------------------------------------------------------
//  Token source

typedef struct {
    sd_oauth_token_fn *fn;
    void *arg;
    uint64_t sequence;
} s_waiter;

struct sd_oauth {
    zloop_t *loop;
    sd_http *http;
    sd_service_account *account;
    char *token_uri;
    char *scope;
    char *token;                    //  NULL when none is cached
    int64_t valid_until_ms;         //  sd_clock_ms time after which token is not used
    int64_t exchange_id;            //  sd_http id of the exchange in flight, 0 when none
    s_waiter *waiters;
    size_t waiter_count;
    size_t waiter_capacity;
    uint64_t next_sequence;
    int deliver_timer;              //  -1 when none is set
};

static void s_forget_token(sd_oauth *oauth)
{
    if (oauth->token)
        OPENSSL_clear_free(oauth->token, strlen(oauth->token));
    oauth->token = NULL;
    oauth->valid_until_ms = 0;
}

static bool s_token_valid(const sd_oauth *oauth, int64_t now_ms)
{
    return oauth->token && now_ms < oauth->valid_until_ms;
}

//  Calls, one at a time, each waiter queued up to sequence `last`. A waiter
//  is removed before its call, so a callback may cancel or add others.
static void s_deliver(sd_oauth *oauth, uint64_t last, const char *token, const char *error)
{
    while (oauth->waiter_count > 0 && oauth->waiters[0].sequence <= last) {
        s_waiter waiter = oauth->waiters[0];
        oauth->waiter_count--;
        memmove(oauth->waiters, oauth->waiters + 1, oauth->waiter_count * sizeof *oauth->waiters);
        waiter.fn(token, error, waiter.arg);
    }
}

//  Fills error from a failed token response.
static void s_exchange_error(sd_oauth *oauth, const sd_http_response *response, char *error,
                             size_t size)
{
    const char *hint = "check that the key file is a current key of the service account and "
                       "that this host's clock is right";
    if (response->error) {
        snprintf(error, size, "token request to %s failed: %s", oauth->token_uri,
                 response->error);
        return;
    }
    sd_oauth_token_error reply;
    if (sd_oauth_token_error_parse(response->body, response->body_size, &reply) == 0)
        snprintf(error, size, "token request to %s failed: HTTP %ld %s: %s (key file %s, "
                 "account %s); %s",
                 oauth->token_uri, response->status, reply.code, reply.description,
                 oauth->account->path, oauth->account->client_email, hint);
    else
        snprintf(error, size, "token request to %s failed: HTTP %ld with no OAuth error in the "
                 "body (content type \"%.64s\")",
                 oauth->token_uri, response->status, response->content_type);
}

//  Stores the token of a 200 response. Returns 0, or -1 with error filled.
static int s_store_token(sd_oauth *oauth, const sd_http_response *response, char *error,
                         size_t size)
{
    sd_oauth_token_grant grant;
    char reason[256];
    if (sd_oauth_token_parse(response->body, response->body_size, &grant, reason,
                             sizeof reason) != 0) {
        snprintf(error, size, "token request to %s returned HTTP 200 without a usable token: %s",
                 oauth->token_uri, reason);
        return -1;
    }
    s_forget_token(oauth);
    oauth->token = grant.access_token;
    grant.access_token = NULL;
    int64_t lifetime_ms = grant.expires_in_s * 1000;
    oauth->valid_until_ms = sd_clock_ms() + lifetime_ms - SD_TOKEN_MARGIN_MS;
    sd_oauth_token_grant_clear(&grant);
    sd_info("oauth: access token obtained, expires in %" PRId64 " s account=%s",
            lifetime_ms / 1000, oauth->account->client_email);
    return 0;
}

static void s_on_exchange_done(const sd_http_response *response, void *arg)
{
    sd_oauth *oauth = arg;
    char error[SD_TOKEN_ERROR_MAX] = "";
    int rc = -1;
    oauth->exchange_id = 0;
    if (!response->error && response->status == 200)
        rc = s_store_token(oauth, response, error, sizeof error);
    else
        s_exchange_error(oauth, response, error, sizeof error);
    if (rc != 0)
        sd_error("oauth: %s", error);

    //  A token of a very short life is still handed to those waiting now.
    uint64_t last = oauth->next_sequence;
    if (rc == 0)
        s_deliver(oauth, last, oauth->token, NULL);
    else
        s_deliver(oauth, last, NULL, error);
}

//  Starts a token exchange unless one is in flight. Returns 0 or -1.
static int s_start_exchange(sd_oauth *oauth)
{
    if (oauth->exchange_id > 0)
        return 0;
    int64_t now_s = sd_clock_ms() / 1000;
    char *assertion = sd_service_account_assertion(oauth->account, oauth->scope,
                                                   oauth->token_uri, now_s);
    if (!assertion) {
        sd_error("oauth: cannot sign the JWT with the key of %s account=%s", oauth->account->path,
                 oauth->account->client_email);
        return -1;
    }
    size_t size = strlen(assertion) + sizeof "grant_type=" SD_JWT_GRANT_TYPE "&assertion=";
    char *body = malloc(size);
    if (body)
        snprintf(body, size, "grant_type=%s&assertion=%s", SD_JWT_GRANT_TYPE, assertion);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
                             "Accept: application/json"};
    sd_http_request request = {
        .method = "POST",
        .url = oauth->token_uri,
        .headers = headers,
        .header_count = 2,
        .body = body,
        .body_size = body ? strlen(body) : 0,
        .timeout_ms = SD_TOKEN_REQUEST_TIMEOUT_MS,
    };
    int64_t id = body ? sd_http_send(oauth->http, &request, s_on_exchange_done, oauth) : -1;
    OPENSSL_clear_free(assertion, strlen(assertion));
    if (body)
        OPENSSL_clear_free(body, strlen(body));
    if (id < 0) {
        sd_error("oauth: cannot start the token request to %s", oauth->token_uri);
        return -1;
    }
    oauth->exchange_id = id;
    return 0;
}

sd_oauth *sd_oauth_new(zloop_t *loop, sd_http *http, sd_service_account **account,
                       const char *token_uri, const char *scope, char *error,
                       size_t error_size)
{
    sd_oauth *oauth = calloc(1, sizeof *oauth);
    if (!oauth) {
        snprintf(error, error_size, "out of memory");
        sd_service_account_destroy(account);
        return NULL;
    }
    oauth->loop = loop;
    oauth->http = http;
    oauth->deliver_timer = -1;
    oauth->account = *account;
    *account = NULL;
    const char *uri = token_uri && *token_uri ? token_uri : oauth->account->token_uri;
    if (!*uri) {
        snprintf(error, error_size,
                 "no token URI: key file %s has no token_uri and the config sets none",
                 oauth->account->path);
        sd_oauth_destroy(&oauth);
        return NULL;
    }
    oauth->token_uri = strdup(uri);
    oauth->scope = strdup(scope);
    if (!oauth->token_uri || !oauth->scope) {
        snprintf(error, error_size, "out of memory");
        sd_oauth_destroy(&oauth);
    }
    return oauth;
}

const char *sd_oauth_token(sd_oauth *oauth)
{
    int64_t now_ms = sd_clock_ms();
    if (!s_token_valid(oauth, now_ms))
        return NULL;
    if (now_ms >= oauth->valid_until_ms - SD_TOKEN_REFRESH_AHEAD_MS && oauth->exchange_id == 0) {
        sd_debug("oauth: refreshing the access token before it expires account=%s",
                 oauth->account->client_email);
        s_start_exchange(oauth);
    }
    return oauth->token;
}

static int s_on_deliver_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_oauth *oauth = arg;
    oauth->deliver_timer = -1;
    if (s_token_valid(oauth, sd_clock_ms()))
        s_deliver(oauth, oauth->next_sequence, oauth->token, NULL);
    else if (oauth->waiter_count > 0 && s_start_exchange(oauth) != 0)
        s_deliver(oauth, oauth->next_sequence, NULL, "cannot start the token request");
    return 0;
}

int sd_oauth_request(sd_oauth *oauth, sd_oauth_token_fn *fn, void *arg)
{
    if (oauth->waiter_count == oauth->waiter_capacity) {
        size_t capacity = oauth->waiter_capacity ? oauth->waiter_capacity * 2 : 16;
        s_waiter *grown = realloc(oauth->waiters, capacity * sizeof *grown);
        if (!grown)
            return -1;
        oauth->waiters = grown;
        oauth->waiter_capacity = capacity;
    }
    if (!s_token_valid(oauth, sd_clock_ms())) {
        if (s_start_exchange(oauth) != 0)
            return -1;
    }
    else if (oauth->deliver_timer < 0) {
        oauth->deliver_timer = zloop_timer(oauth->loop, 0, 1, s_on_deliver_timer, oauth);
        if (oauth->deliver_timer < 0)
            return -1;
    }
    oauth->waiters[oauth->waiter_count++] =
        (s_waiter){.fn = fn, .arg = arg, .sequence = ++oauth->next_sequence};
    return 0;
}

void sd_oauth_cancel(sd_oauth *oauth, void *arg)
{
    size_t remaining = 0;
    for (size_t i = 0; i < oauth->waiter_count; i++) {
        if (oauth->waiters[i].arg != arg)
            oauth->waiters[remaining++] = oauth->waiters[i];
    }
    oauth->waiter_count = remaining;
}

void sd_oauth_invalidate(sd_oauth *oauth, const char *token)
{
    if (oauth->token && token && strcmp(oauth->token, token) == 0) {
        sd_info("oauth: access token rejected by the API, a new one will be requested "
                "account=%s",
                oauth->account->client_email);
        s_forget_token(oauth);
    }
}

void sd_oauth_destroy(sd_oauth **oauth_p)
{
    sd_oauth *oauth = *oauth_p;
    if (!oauth)
        return;
    if (oauth->exchange_id > 0)
        sd_http_cancel(oauth->http, oauth->exchange_id);
    if (oauth->deliver_timer >= 0)
        zloop_timer_end(oauth->loop, oauth->deliver_timer);
    s_forget_token(oauth);
    sd_service_account_destroy(&oauth->account);
    free(oauth->token_uri);
    free(oauth->scope);
    free(oauth->waiters);
    free(oauth);
    *oauth_p = NULL;
}

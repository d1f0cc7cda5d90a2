/*  Tests of sd_oauth: key file checks, the JWT (decoded here and its
    signature verified with the public key through OpenSSL, independently
    of the code under test), and the token exchange, cache, invalidation
    and error reporting against a local token endpoint.  */
#include "ga_test_server.h"
#include "ga_test_util.h"
#include "sd_oauth.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#define S_WAIT_MS 20000
#define S_EMAIL "reporter@statsdash-test.iam.gserviceaccount.com"

static EVP_PKEY *s_key;             //  one key for every test (generation is slow)
static char *s_dir;

//  -------------------------------------------------------------------------
//  JWT decoding, written independently of sd_oauth

//  Decodes base64url without padding. Returns a new buffer, or NULL.
static unsigned char *s_base64url_decode(const char *text, size_t length, size_t *size)
{
    size_t padded = (length + 3) / 4 * 4;
    char *standard = calloc(1, padded + 1);
    unsigned char *data = calloc(1, padded + 1);
    for (size_t i = 0; i < padded; i++) {
        char c = i < length ? text[i] : '=';
        if (c == '-')
            standard[i] = '+';
        else if (c == '_')
            standard[i] = '/';
        else
            standard[i] = c;
        assert_true(c != '+' && c != '/' && (i >= length || c != '='));
    }
    int decoded = EVP_DecodeBlock(data, (unsigned char *)standard, (int)padded);
    assert_true(decoded >= 0);
    *size = (size_t)decoded - (padded - length);    //  EVP_DecodeBlock counts padding bytes
    free(standard);
    return data;
}

static json_t *s_decode_part(const char *text, size_t length)
{
    size_t size = 0;
    unsigned char *data = s_base64url_decode(text, length, &size);
    json_t *object = json_loadb((const char *)data, size, 0, NULL);
    free(data);
    assert_true(json_is_object(object));
    return object;
}

static bool s_verify(EVP_PKEY *key, const char *signed_text, size_t signed_size,
                     const unsigned char *signature, size_t signature_size)
{
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    bool valid = EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) == 1 &&
                 EVP_DigestVerify(context, signature, signature_size,
                                  (const unsigned char *)signed_text, signed_size) == 1;
    EVP_MD_CTX_free(context);
    return valid;
}

//  Splits a JWT, checks its signature with key and returns its claims.
static json_t *s_check_jwt(const char *jwt, EVP_PKEY *key, json_t **header)
{
    const char *first = strchr(jwt, '.');
    assert_non_null(first);
    const char *second = strchr(first + 1, '.');
    assert_non_null(second);
    assert_null(strchr(second + 1, '.'));
    *header = s_decode_part(jwt, (size_t)(first - jwt));
    json_t *claims = s_decode_part(first + 1, (size_t)(second - first - 1));
    size_t signature_size = 0;
    unsigned char *signature = s_base64url_decode(second + 1, strlen(second + 1), &signature_size);
    assert_int_equal(signature_size, 256);
    assert_true(s_verify(key, jwt, (size_t)(second - jwt), signature, signature_size));

    //  A changed claim must not verify.
    char *forged = strdup(jwt);
    forged[first - jwt + 2] = forged[first - jwt + 2] == 'A' ? 'B' : 'A';
    assert_false(s_verify(key, forged, (size_t)(second - jwt), signature, signature_size));
    free(forged);
    free(signature);
    return claims;
}

//  -------------------------------------------------------------------------
//  Key files

static char *s_key_file(const char *name, const char *token_uri, int mode)
{
    char *path = zsys_sprintf("%s/%s", s_dir, name);
    assert_int_equal(ga_test_write_key_file(path, s_key, token_uri, mode), 0);
    return path;
}

static void test_key_file_loads(void **state)
{
    (void)state;
    char error[512] = "";
    char *path = s_key_file("good.json", "https://oauth2.example/token", 0600);
    sd_service_account *account = sd_service_account_load(path, error, sizeof error);
    assert_non_null(account);
    assert_string_equal(sd_service_account_email(account), S_EMAIL);
    assert_string_equal(sd_service_account_token_uri(account), "https://oauth2.example/token");
    sd_service_account_destroy(&account);
    assert_null(account);
    sd_service_account_destroy(&account);
    zstr_free(&path);
}

static void test_key_file_open_mode_rejected(void **state)
{
    (void)state;
    static const int modes[] = {0644, 0640, 0604, 0660, 0620};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char error[512] = "";
        char *path = s_key_file("open.json", NULL, modes[i]);
        assert_null(sd_service_account_load(path, error, sizeof error));
        assert_non_null(strstr(error, path));
        assert_non_null(strstr(error, "chmod 600"));
        zstr_free(&path);
    }
}

static void test_key_file_bad_content(void **state)
{
    (void)state;
    static const struct {
        const char *content;
        const char *expected;
    } cases[] = {
        {"not json", "not a JSON object"},
        {"[1, 2]", "not a JSON object"},
        {"{\"type\": \"authorized_user\"}", "expected \"service_account\""},
        {"{\"type\": \"service_account\", \"private_key\": \"x\"}", "\"client_email\""},
        {"{\"type\": \"service_account\", \"client_email\": \"a@b\"}", "\"private_key\""},
        {"{\"type\": \"service_account\", \"client_email\": \"a@b\", \"private_key\": "
         "\"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n\"}",
         "not an unencrypted PEM RSA private key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char error[512] = "";
        char *path = zsys_sprintf("%s/bad.json", s_dir);
        FILE *file = fopen(path, "w");
        fputs(cases[i].content, file);
        fclose(file);
        chmod(path, 0600);
        assert_null(sd_service_account_load(path, error, sizeof error));
        if (!strstr(error, cases[i].expected))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, error, cases[i].expected);
        assert_non_null(strstr(error, path));
        zstr_free(&path);
    }
    char error[512] = "";
    assert_null(sd_service_account_load("/nonexistent/key.json", error, sizeof error));
    assert_non_null(strstr(error, "/nonexistent/key.json"));
}

//  -------------------------------------------------------------------------
//  JWT

static void test_assertion_signature_and_claims(void **state)
{
    (void)state;
    char error[512] = "";
    char *path = s_key_file("jwt.json", "https://oauth2.example/token", 0600);
    sd_service_account *account = sd_service_account_load(path, error, sizeof error);
    assert_non_null(account);
    int64_t now_s = (int64_t)time(NULL);
    char *jwt = sd_service_account_assertion(account, SD_OAUTH_SCOPE_ANALYTICS_READONLY,
                                             "http://127.0.0.1:9/token", now_s);
    assert_non_null(jwt);
    assert_null(strchr(jwt, '='));

    json_t *header = NULL;
    json_t *claims = s_check_jwt(jwt, s_key, &header);
    assert_string_equal(json_string_value(json_object_get(header, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(header, "typ")), "JWT");
    assert_string_equal(json_string_value(json_object_get(header, "kid")), "0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(claims, "iss")), S_EMAIL);
    assert_string_equal(json_string_value(json_object_get(claims, "scope")),
                        "https://www.googleapis.com/auth/analytics.readonly");
    assert_string_equal(json_string_value(json_object_get(claims, "aud")),
                        "http://127.0.0.1:9/token");
    assert_int_equal(json_integer_value(json_object_get(claims, "iat")), now_s);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")), now_s + 3600);
    assert_int_equal(json_object_size(claims), 5);

    //  Another key must not verify the signature.
    EVP_PKEY *other = ga_test_rsa_key();
    const char *last = strrchr(jwt, '.');
    size_t signature_size = 0;
    unsigned char *signature = s_base64url_decode(last + 1, strlen(last + 1), &signature_size);
    assert_false(s_verify(other, jwt, (size_t)(last - jwt), signature, signature_size));
    free(signature);
    EVP_PKEY_free(other);

    json_decref(header);
    json_decref(claims);
    free(jwt);
    sd_service_account_destroy(&account);
    zstr_free(&path);
}

//  -------------------------------------------------------------------------
//  Token exchange

typedef struct {
    int tokens_issued;
    int expires_in;
    bool fail;                      //  answer invalid_grant
    bool bad_assertion;             //  the last assertion did not verify
    char last_body[4096];
} s_endpoint;

static s_endpoint s_token_endpoint;

static void s_token_route(const char *method, const char *url, const char *authorization,
                          const char *body, size_t body_size, ga_test_reply *reply, void *arg)
{
    (void)authorization;
    (void)body_size;
    s_endpoint *endpoint = arg;
    snprintf(endpoint->last_body, sizeof endpoint->last_body, "%s", body);
    const char *prefix =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    if (strcmp(method, "POST") != 0 || strcmp(url, "/token") != 0 ||
        strncmp(body, prefix, strlen(prefix)) != 0) {
        reply->status = 400;
        reply->body = strdup("{\"error\": \"unsupported_grant_type\"}");
        return;
    }
    const char *jwt = body + strlen(prefix);
    const char *last = strrchr(jwt, '.');
    size_t signature_size = 0;
    unsigned char *signature =
        last ? s_base64url_decode(last + 1, strlen(last + 1), &signature_size) : NULL;
    endpoint->bad_assertion =
        !signature || !s_verify(s_key, jwt, (size_t)(last - jwt), signature, signature_size);
    free(signature);
    if (endpoint->fail || endpoint->bad_assertion) {
        reply->status = 400;
        reply->body = strdup("{\"error\": \"invalid_grant\", \"error_description\": "
                             "\"Invalid JWT Signature.\"}");
        return;
    }
    endpoint->tokens_issued++;
    reply->body = zsys_sprintf("{\"access_token\": \"ya29.token-%d\", \"expires_in\": %d, "
                               "\"token_type\": \"Bearer\"}",
                               endpoint->tokens_issued, endpoint->expires_in);
}

typedef struct {
    int calls;
    int expected;
    char token[64];
    char error[1024];
} s_outcome;

static void s_on_token(const char *token, const char *error, void *arg)
{
    s_outcome *outcome = arg;
    outcome->calls++;
    snprintf(outcome->token, sizeof outcome->token, "%s", token ? token : "");
    snprintf(outcome->error, sizeof outcome->error, "%s", error ? error : "");
}

static bool s_outcomes_done(void *arg)
{
    s_outcome *outcome = arg;
    return outcome->calls >= outcome->expected;
}

typedef struct {
    zloop_t *loop;
    sd_http *http;
    ga_test_server *server;
    sd_oauth *oauth;
} s_fixture;

static int s_setup_exchange(void **state)
{
    memset(&s_token_endpoint, 0, sizeof s_token_endpoint);
    s_token_endpoint.expires_in = 3600;
    s_fixture *fixture = calloc(1, sizeof *fixture);
    fixture->loop = zloop_new();
    fixture->http = sd_http_new(fixture->loop, NULL);
    fixture->server = ga_test_server_start(s_token_route, &s_token_endpoint);
    assert_non_null(fixture->server);
    char *token_uri = zsys_sprintf("%s/token", ga_test_server_url(fixture->server));
    char *path = s_key_file("exchange.json", token_uri, 0600);
    char error[512] = "";
    sd_service_account *account = sd_service_account_load(path, error, sizeof error);
    assert_non_null(account);
    fixture->oauth = sd_oauth_new(fixture->loop, fixture->http, &account, NULL,
                                  SD_OAUTH_SCOPE_ANALYTICS_READONLY, error, sizeof error);
    assert_non_null(fixture->oauth);
    assert_null(account);
    zstr_free(&token_uri);
    zstr_free(&path);
    *state = fixture;
    return 0;
}

static int s_teardown_exchange(void **state)
{
    s_fixture *fixture = *state;
    sd_oauth_destroy(&fixture->oauth);
    sd_http_destroy(&fixture->http);
    ga_test_server_stop(&fixture->server);
    zloop_destroy(&fixture->loop);
    free(fixture);
    return 0;
}

static void s_request_and_wait(s_fixture *fixture, s_outcome *outcome)
{
    outcome->expected = outcome->calls + 1;
    assert_int_equal(sd_oauth_request(fixture->oauth, s_on_token, outcome), 0);
    assert_int_equal(outcome->calls, outcome->expected - 1);      //  never called at once
    assert_int_equal(ga_test_run_until(fixture->loop, s_outcomes_done, outcome, S_WAIT_MS), 0);
}

static void test_exchange_and_cache(void **state)
{
    s_fixture *fixture = *state;
    s_outcome outcome = {0};
    assert_null(sd_oauth_token(fixture->oauth));
    s_request_and_wait(fixture, &outcome);
    assert_false(s_token_endpoint.bad_assertion);
    assert_string_equal(outcome.token, "ya29.token-1");
    assert_string_equal(outcome.error, "");
    assert_string_equal(sd_oauth_token(fixture->oauth), "ya29.token-1");

    //  A second request is served from the cache.
    s_request_and_wait(fixture, &outcome);
    assert_string_equal(outcome.token, "ya29.token-1");
    assert_int_equal(ga_test_server_requests(fixture->server), 1);

    //  After a 401 the caller drops the token and a new one is fetched.
    sd_oauth_invalidate(fixture->oauth, "ya29.some-other-token");
    assert_string_equal(sd_oauth_token(fixture->oauth), "ya29.token-1");
    sd_oauth_invalidate(fixture->oauth, "ya29.token-1");
    assert_null(sd_oauth_token(fixture->oauth));
    s_request_and_wait(fixture, &outcome);
    assert_string_equal(outcome.token, "ya29.token-2");
    assert_int_equal(ga_test_server_requests(fixture->server), 2);
}

static void test_one_exchange_serves_all_waiters(void **state)
{
    s_fixture *fixture = *state;
    s_outcome outcomes[3] = {{0}};
    s_outcome cancelled = {0};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sd_oauth_request(fixture->oauth, s_on_token, &outcomes[i]), 0);
    assert_int_equal(sd_oauth_request(fixture->oauth, s_on_token, &cancelled), 0);
    sd_oauth_cancel(fixture->oauth, &cancelled);
    outcomes[2].expected = 1;
    assert_int_equal(ga_test_run_until(fixture->loop, s_outcomes_done, &outcomes[2], S_WAIT_MS),
                     0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(outcomes[i].calls, 1);
        assert_string_equal(outcomes[i].token, "ya29.token-1");
    }
    assert_int_equal(cancelled.calls, 0);
    assert_int_equal(ga_test_server_requests(fixture->server), 1);
}

static void test_short_lived_token_not_cached(void **state)
{
    s_fixture *fixture = *state;
    s_token_endpoint.expires_in = 30;       //  below the 60 s safety margin
    s_outcome outcome = {0};
    s_request_and_wait(fixture, &outcome);
    assert_string_equal(outcome.token, "ya29.token-1");
    assert_null(sd_oauth_token(fixture->oauth));
    s_request_and_wait(fixture, &outcome);
    assert_string_equal(outcome.token, "ya29.token-2");
}

static void test_exchange_error_reported(void **state)
{
    s_fixture *fixture = *state;
    s_token_endpoint.fail = true;
    s_outcome outcome = {0};
    s_request_and_wait(fixture, &outcome);
    assert_string_equal(outcome.token, "");
    assert_non_null(strstr(outcome.error, "invalid_grant"));
    assert_non_null(strstr(outcome.error, "Invalid JWT Signature."));
    assert_non_null(strstr(outcome.error, "HTTP 400"));
    assert_non_null(strstr(outcome.error, "clock"));
    assert_non_null(strstr(outcome.error, "exchange.json"));
    assert_null(strstr(outcome.error, "eyJ"));  //  no part of the assertion
    assert_null(sd_oauth_token(fixture->oauth));
}

static void test_unreachable_endpoint(void **state)
{
    (void)state;
    zloop_t *loop = zloop_new();
    sd_http *http = sd_http_new(loop, NULL);
    char error[512] = "";
    char *path = s_key_file("unreachable.json", "http://127.0.0.1:1/token", 0600);
    sd_service_account *account = sd_service_account_load(path, error, sizeof error);
    sd_oauth *oauth = sd_oauth_new(loop, http, &account, NULL, SD_OAUTH_SCOPE_ANALYTICS_READONLY,
                                   error, sizeof error);
    assert_non_null(oauth);
    s_outcome outcome = {.expected = 1};
    assert_int_equal(sd_oauth_request(oauth, s_on_token, &outcome), 0);
    assert_int_equal(ga_test_run_until(loop, s_outcomes_done, &outcome, S_WAIT_MS), 0);
    assert_non_null(strstr(outcome.error, "http://127.0.0.1:1/token"));
    sd_oauth_destroy(&oauth);
    sd_http_destroy(&http);
    zloop_destroy(&loop);
    zstr_free(&path);
}

static void test_missing_token_uri(void **state)
{
    (void)state;
    char error[512] = "";
    char *path = s_key_file("no-uri.json", NULL, 0600);
    sd_service_account *account = sd_service_account_load(path, error, sizeof error);
    assert_non_null(account);
    assert_string_equal(sd_service_account_token_uri(account), "");
    assert_null(sd_oauth_new(NULL, NULL, &account, "", SD_OAUTH_SCOPE_ANALYTICS_READONLY, error,
                             sizeof error));
    assert_null(account);
    assert_non_null(strstr(error, "token_uri"));
    zstr_free(&path);
}

static int s_setup_group(void **state)
{
    (void)state;
    s_key = ga_test_rsa_key();
    s_dir = ga_test_temp_dir();
    return s_key && s_dir ? 0 : -1;
}

static int s_teardown_group(void **state)
{
    (void)state;
    EVP_PKEY_free(s_key);
    ga_test_remove_dir(s_dir);
    free(s_dir);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest jwt_tests[] = {
        cmocka_unit_test(test_key_file_loads),
        cmocka_unit_test(test_key_file_open_mode_rejected),
        cmocka_unit_test(test_key_file_bad_content),
        cmocka_unit_test(test_assertion_signature_and_claims),
        cmocka_unit_test(test_missing_token_uri),
    };
    const struct CMUnitTest exchange_tests[] = {
        cmocka_unit_test_setup_teardown(test_exchange_and_cache, s_setup_exchange,
                                        s_teardown_exchange),
        cmocka_unit_test_setup_teardown(test_one_exchange_serves_all_waiters, s_setup_exchange,
                                        s_teardown_exchange),
        cmocka_unit_test_setup_teardown(test_short_lived_token_not_cached, s_setup_exchange,
                                        s_teardown_exchange),
        cmocka_unit_test_setup_teardown(test_exchange_error_reported, s_setup_exchange,
                                        s_teardown_exchange),
        cmocka_unit_test(test_unreachable_endpoint),
    };
    if (argc > 1 && strcmp(argv[1], "jwt") == 0)
        return cmocka_run_group_tests(jwt_tests, s_setup_group, s_teardown_group);
    if (argc > 1 && strcmp(argv[1], "exchange") == 0)
        return cmocka_run_group_tests(exchange_tests, s_setup_group, s_teardown_group);
    fprintf(stderr, "usage: %s jwt|exchange\n", argv[0]);
    return 2;
}

/*  fuzz_oauth_token: the token endpoint's response parsers,
    sd_oauth_token_parse and sd_oauth_token_error_parse.

    The input is the response body, passed in a buffer of exactly its size
    so that reads past it are caught. The harness reads the body with
    jansson on its own and checks the parsers against it:
    - sd_oauth_token_parse succeeds exactly when the body is an object with
      a non-empty b64token access_token, a positive integer expires_in and
      no string token_type other than "Bearer". A parsed grant carries the
      same tokens and the lifetime, cut to SD_OAUTH_TOKEN_LIFETIME_MAX_S.
    - A failure leaves the grant zeroed and gives one of the error texts the
      parser gives for reference bodies that contain no token, so no failure
      text can carry the body's token.
    - sd_oauth_token_error_parse copies "error" and "error_description"
      with control characters replaced and cut at a character boundary, as
      valid UTF-8.
*/
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_util.h"
#include "sd_oauth_token.h"
#include "sd_utf8.h"

#define S_ERROR_SIZE 256
#define S_REFERENCE_COUNT 6

//  Error texts of bodies that contain no token, one per reason to fail.
static char s_reference_errors[S_REFERENCE_COUNT][S_ERROR_SIZE];

static void s_collect_reference_errors(void)
{
    static bool collected = false;
    static const char *bodies[S_REFERENCE_COUNT] = {
        "",
        "{}",
        "{\"access_token\": \"a b\"}",
        "{\"access_token\": \"a\"}",
        "{\"access_token\": \"a\", \"expires_in\": 1, \"token_type\": \"mac\"}",
        "[]",
    };
    if (collected)
        return;
    for (size_t i = 0; i < S_REFERENCE_COUNT; i++) {
        sd_oauth_token_grant grant;
        if (sd_oauth_token_parse(bodies[i], strlen(bodies[i]), &grant, s_reference_errors[i],
                                 S_ERROR_SIZE) == 0)
            fuzz_fail("reference body %zu parsed", i);
    }
    collected = true;
}

static bool s_is_reference_error(const char *error)
{
    for (size_t i = 0; i < S_REFERENCE_COUNT; i++) {
        if (strcmp(error, s_reference_errors[i]) == 0)
            return true;
    }
    return false;
}

//  Returns true when the JSON string is an RFC 6750 b64token.
static bool s_expect_b64token(json_t *token)
{
    static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789-._~+/";
    const char *text = json_string_value(token);
    size_t length = json_string_length(token);
    size_t head = strspn(text, allowed);
    size_t tail = strspn(text + head, "=");
    return head > 0 && head + tail == length;
}

//  Returns true when the parsed body should give a grant.
static bool s_expect_grant(json_t *root)
{
    json_t *token = json_object_get(root, "access_token");
    json_t *expires = json_object_get(root, "expires_in");
    json_t *type = json_object_get(root, "token_type");
    return json_is_object(root) && json_is_string(token) && s_expect_b64token(token) &&
           json_is_integer(expires) && json_integer_value(expires) > 0 &&
           (!json_is_string(type) || strcasecmp(json_string_value(type), "Bearer") == 0);
}

static void s_check_string(const char *name, const char *parsed, json_t *value)
{
    const char *expected = json_string_value(value);
    if (expected && *expected == '\0')
        expected = NULL;
    if (!expected != !parsed)
        fuzz_fail("%s is %s, the body's %s", name, parsed ? "set" : "NULL",
                  expected ? "set" : "missing or empty");
    if (expected && strcmp(parsed, expected) != 0)
        fuzz_fail("%s differs from the body's", name);
}

static void s_check_grant(const sd_oauth_token_grant *grant, json_t *root)
{
    s_check_string("access_token", grant->access_token, json_object_get(root, "access_token"));
    s_check_string("refresh_token", grant->refresh_token,
                   json_object_get(root, "refresh_token"));
    json_int_t lifetime = json_integer_value(json_object_get(root, "expires_in"));
    int64_t expected = lifetime > SD_OAUTH_TOKEN_LIFETIME_MAX_S ? SD_OAUTH_TOKEN_LIFETIME_MAX_S
                                                                : (int64_t)lifetime;
    if (grant->expires_in_s != expected)
        fuzz_fail("expires_in_s is %lld, expected %lld", (long long)grant->expires_in_s,
                  (long long)expected);
}

static void s_check_failure(const sd_oauth_token_grant *grant, const char *error)
{
    if (grant->access_token || grant->refresh_token || grant->expires_in_s != 0)
        fuzz_fail("failed parse left the grant filled");
    if (strnlen(error, S_ERROR_SIZE) == S_ERROR_SIZE)
        fuzz_fail("error text is not NUL-terminated");
    if (error[0] == '\0')
        fuzz_fail("failed parse gave no error text");
    if (!s_is_reference_error(error))
        fuzz_fail("error text \"%s\" is not one of the reference texts", error);
}

//  Checks that field is the JSON string value with ASCII control characters
//  as spaces, cut to at most max bytes at a character boundary.
static void s_check_error_field(const char *name, const char *field, size_t max, json_t *value)
{
    const char *expected = json_string_value(value);
    size_t expected_length = expected ? json_string_length(value) : 0;
    size_t length = strnlen(field, max + 1);
    if (length > max)
        fuzz_fail("%s is longer than %zu bytes or not NUL-terminated", name, max);
    if (!sd_utf8_valid(field, length, false, NULL))
        fuzz_fail("%s is not valid UTF-8", name);
    if (length > expected_length || (expected_length <= max && length != expected_length) ||
        (expected_length > max && length + 3 < max))
        fuzz_fail("%s has %zu bytes of the body's %zu", name, length, expected_length);
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)expected[i];
        char want = byte < 0x20 || byte == 0x7F ? ' ' : (char)byte;
        if (field[i] != want)
            fuzz_fail("%s differs from the body's at byte %zu", name, i);
    }
}

static void s_check_error_parse(const char *body, size_t size, json_t *root)
{
    sd_oauth_token_error reply;
    int rc = sd_oauth_token_error_parse(body, size, &reply);
    json_t *code = json_object_get(root, "error");
    if ((rc == 0) != json_is_string(code))
        fuzz_fail("sd_oauth_token_error_parse returned %d for an \"error\" of JSON type %d", rc,
                  code ? (int)json_typeof(code) : -1);
    json_t *description = rc == 0 ? json_object_get(root, "error_description") : NULL;
    s_check_error_field("code", reply.code, SD_OAUTH_ERROR_CODE_MAX, rc == 0 ? code : NULL);
    s_check_error_field("description", reply.description, SD_OAUTH_ERROR_DESCRIPTION_MAX,
                        json_is_string(description) ? description : NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_collect_reference_errors();
    char *body = malloc(size ? size : 1);
    if (!body)
        fuzz_fail("out of memory");
    memcpy(body, data, size);
    json_t *root = json_loadb(body, size, 0, NULL);

    sd_oauth_token_grant grant;
    char error[S_ERROR_SIZE] = "";
    int rc = sd_oauth_token_parse(body, size, &grant, error, sizeof error);
    bool expected = s_expect_grant(root);
    if ((rc == 0) != expected)
        fuzz_fail("sd_oauth_token_parse returned %d, the body %s a grant", rc,
                  expected ? "contains" : "does not contain");
    if (rc == 0)
        s_check_grant(&grant, root);
    else
        s_check_failure(&grant, error);
    sd_oauth_token_grant_clear(&grant);
    if (grant.access_token || grant.refresh_token || grant.expires_in_s != 0)
        fuzz_fail("sd_oauth_token_grant_clear left the grant filled");

    s_check_error_parse(body, size, root);
    json_decref(root);
    free(body);
    return 0;
}

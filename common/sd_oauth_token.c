/*  sd_oauth_token: the JSON responses of an OAuth 2.0 token endpoint.  */
#include "sd_oauth_token.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool s_is_b64token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("-._~+/", c));
}

//  Returns true when text is an RFC 6750 b64token: one or more of
//  ALPHA DIGIT "-" "." "_" "~" "+" "/", then any number of "=". Any other
//  byte, a CR or LF above all, would break the Authorization header.
static bool s_is_b64token(const char *text, size_t length)
{
    size_t i = 0;
    while (i < length && s_is_b64token_char(text[i]))
        i++;
    if (i == 0)
        return false;
    while (i < length && text[i] == '=')
        i++;
    return i == length;
}

//  Checks the fields of a token response. Returns 0, or -1 with error
//  filled.
static int s_check_grant(json_t *root, char *error, size_t error_size)
{
    json_t *token = json_object_get(root, "access_token");
    json_t *expires = json_object_get(root, "expires_in");
    const char *type = json_string_value(json_object_get(root, "token_type"));

    if (!json_is_object(root))
        snprintf(error, error_size, "the body is not a JSON object");
    else if (!json_is_string(token) || json_string_length(token) == 0)
        snprintf(error, error_size, "access_token is missing or not a non-empty string");
    else if (!s_is_b64token(json_string_value(token), json_string_length(token)))
        snprintf(error, error_size, "access_token has characters that a Bearer token cannot "
                 "have (RFC 6750 allows letters, digits, -._~+/ and trailing =)");
    else if (!json_is_integer(expires) || json_integer_value(expires) <= 0)
        snprintf(error, error_size, "expires_in is missing or not a positive integer");
    else if (type && strcasecmp(type, "Bearer") != 0)
        snprintf(error, error_size, "token_type is not Bearer");
    else
        return 0;
    return -1;
}

int sd_oauth_token_parse(const char *body, size_t size, sd_oauth_token_grant *grant,
                         char *error, size_t error_size)
{
    *grant = (sd_oauth_token_grant){0};
    json_t *root = json_loadb(body, size, 0, NULL);
    if (s_check_grant(root, error, error_size) != 0) {
        json_decref(root);
        return -1;
    }

    json_int_t lifetime = json_integer_value(json_object_get(root, "expires_in"));
    const char *refresh = json_string_value(json_object_get(root, "refresh_token"));
    grant->access_token = strdup(json_string_value(json_object_get(root, "access_token")));
    grant->expires_in_s = lifetime < SD_OAUTH_TOKEN_LIFETIME_MAX_S ? (int64_t)lifetime
                                                                   : SD_OAUTH_TOKEN_LIFETIME_MAX_S;
    bool has_refresh = refresh && *refresh;
    if (has_refresh)
        grant->refresh_token = strdup(refresh);
    json_decref(root);
    if (!grant->access_token || (has_refresh && !grant->refresh_token)) {
        sd_oauth_token_grant_clear(grant);
        snprintf(error, error_size, "out of memory storing the access token");
        return -1;
    }
    return 0;
}

void sd_oauth_token_grant_clear(sd_oauth_token_grant *grant)
{
    if (grant->access_token)
        OPENSSL_clear_free(grant->access_token, strlen(grant->access_token));
    if (grant->refresh_token)
        OPENSSL_clear_free(grant->refresh_token, strlen(grant->refresh_token));
    *grant = (sd_oauth_token_grant){0};
}

//  Copies the JSON string value into target (target_size bytes with the
//  terminator), cut at a UTF-8 character boundary, with each ASCII control
//  character replaced by a space. jansson only returns valid UTF-8, so a
//  cut that avoids continuation bytes keeps the copy valid.
static void s_copy_line(char *target, size_t target_size, json_t *value)
{
    const char *text = json_string_value(value);
    size_t length = text ? json_string_length(value) : 0;
    if (length >= target_size) {
        length = target_size - 1;
        while (length > 0 && ((unsigned char)text[length] & 0xC0) == 0x80)
            length--;
    }
    for (size_t i = 0; i < length; i++) {
        unsigned char byte = (unsigned char)text[i];
        target[i] = byte < 0x20 || byte == 0x7F ? ' ' : (char)byte;
    }
    target[length] = '\0';
}

int sd_oauth_token_error_parse(const char *body, size_t size, sd_oauth_token_error *error)
{
    json_t *root = json_loadb(body, size, 0, NULL);
    json_t *code = json_object_get(root, "error");
    int rc = json_is_string(code) ? 0 : -1;

    s_copy_line(error->code, sizeof error->code, rc == 0 ? code : NULL);
    s_copy_line(error->description, sizeof error->description,
                rc == 0 ? json_object_get(root, "error_description") : NULL);
    json_decref(root);
    return rc;
}

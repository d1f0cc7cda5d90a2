/*  sd_oauth_token: the JSON responses of an OAuth 2.0 token endpoint
    (RFC 6749 section 5.1 for a token, section 5.2 for an error), shared by
    the service-account source (sd_oauth) and the user source
    (sd_oauth_user).

    The parsers do not receive the token URI or the account, so callers
    add those to their error texts. The error texts and error fields filled here never contain
    an access or refresh token.
*/
#ifndef SD_OAUTH_TOKEN_H
#define SD_OAUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

//  Maximum access token lifetime taken from expires_in, in seconds. A
//  longer one is cut to this, so that a token is refreshed at least once a
//  day and the expiry time in milliseconds cannot overflow.
#define SD_OAUTH_TOKEN_LIFETIME_MAX_S 86400

//  A successful token response.
typedef struct {
    char *access_token;             //  non-empty, RFC 6750 b64token characters only
    int64_t expires_in_s;           //  1 to SD_OAUTH_TOKEN_LIFETIME_MAX_S
    char *refresh_token;            //  NULL when the response has no non-empty string
} sd_oauth_token_grant;

//  Parses the body of a 200 token response. It must be a JSON object with
//  a non-empty string access_token that fits an Authorization: Bearer
//  header, a positive integer expires_in, and a token_type of "Bearer"
//  (any case) when token_type is a string. Returns 0 with grant filled
//  (release it with sd_oauth_token_grant_clear), or -1 with grant zeroed
//  and error filled with what is wrong.
int sd_oauth_token_parse(const char *body, size_t size, sd_oauth_token_grant *grant,
                         char *error, size_t error_size);

//  Wipes and frees the tokens of grant and zeroes it. Safe on a zeroed
//  grant.
void sd_oauth_token_grant_clear(sd_oauth_token_grant *grant);

//  Maximum lengths of the "error" and "error_description" copies, in bytes.
#define SD_OAUTH_ERROR_CODE_MAX 64
#define SD_OAUTH_ERROR_DESCRIPTION_MAX 200

//  An error response, ready to be put in a one-line error text: each field
//  is valid UTF-8, cut at a character boundary to its maximum, with every
//  control character replaced by a space.
typedef struct {
    char code[SD_OAUTH_ERROR_CODE_MAX + 1];                 //  "error", such as "invalid_grant"
    char description[SD_OAUTH_ERROR_DESCRIPTION_MAX + 1];   //  "error_description", or ""
} sd_oauth_token_error;

//  Reads the error of a failed token response. Returns 0 when the body is
//  a JSON object whose "error" is a string (which may be empty), or -1
//  with both fields "" otherwise.
int sd_oauth_token_error_parse(const char *body, size_t size, sd_oauth_token_error *error);

#endif

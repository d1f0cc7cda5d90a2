/*  Tests of sd_oauth_token: token and error responses of a token
    endpoint, with bodies written by hand after Google's responses and the
    cases that the fuzz target fuzz_oauth_token checks.  */
#include "sd_oauth_token.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static int s_parse(const char *body, sd_oauth_token_grant *grant, char *error, size_t size)
{
    return sd_oauth_token_parse(body, strlen(body), grant, error, size);
}

static void test_google_token_parsed(void **state)
{
    (void)state;
    sd_oauth_token_grant grant;
    char error[256] = "";
    const char *body = "{\"access_token\": \"ya29.c.b0Aaek-_~+/x==\", \"expires_in\": 3599, "
                       "\"token_type\": \"Bearer\"}";
    assert_int_equal(s_parse(body, &grant, error, sizeof error), 0);
    assert_string_equal(grant.access_token, "ya29.c.b0Aaek-_~+/x==");
    assert_int_equal(grant.expires_in_s, 3599);
    assert_null(grant.refresh_token);
    sd_oauth_token_grant_clear(&grant);
    assert_null(grant.access_token);
    assert_int_equal(grant.expires_in_s, 0);
}

static void test_refresh_token_parsed(void **state)
{
    (void)state;
    sd_oauth_token_grant grant;
    char error[256] = "";
    const char *body = "{\"access_token\": \"ya29.a\", \"expires_in\": 60, \"token_type\": "
                       "\"bearer\", \"refresh_token\": \"1//0g-refresh\", \"scope\": \"s\"}";
    assert_int_equal(s_parse(body, &grant, error, sizeof error), 0);
    assert_string_equal(grant.refresh_token, "1//0g-refresh");
    assert_int_equal(grant.expires_in_s, 60);
    sd_oauth_token_grant_clear(&grant);

    //  An empty or non-string refresh_token counts as none.
    body = "{\"access_token\": \"a\", \"expires_in\": 1, \"refresh_token\": \"\"}";
    assert_int_equal(s_parse(body, &grant, error, sizeof error), 0);
    assert_null(grant.refresh_token);
    sd_oauth_token_grant_clear(&grant);
    body = "{\"access_token\": \"a\", \"expires_in\": 1, \"refresh_token\": 7}";
    assert_int_equal(s_parse(body, &grant, error, sizeof error), 0);
    assert_null(grant.refresh_token);
    sd_oauth_token_grant_clear(&grant);
}

static void test_huge_lifetime_cut(void **state)
{
    (void)state;
    sd_oauth_token_grant grant;
    char error[256] = "";
    //  9223372036854775807 s would overflow int64 once turned into ms.
    const char *body = "{\"access_token\": \"a\", \"expires_in\": 9223372036854775807}";
    assert_int_equal(s_parse(body, &grant, error, sizeof error), 0);
    assert_int_equal(grant.expires_in_s, 86400);
    sd_oauth_token_grant_clear(&grant);
    body = "{\"access_token\": \"a\", \"expires_in\": 86401}";
    assert_int_equal(s_parse(body, &grant, error, sizeof error), 0);
    assert_int_equal(grant.expires_in_s, 86400);
    sd_oauth_token_grant_clear(&grant);
}

static void test_bad_token_bodies_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *expected;
    } cases[] = {
        {"", "not a JSON object"},
        {"{\"access_token\": \"a\", \"expires_in\": 1", "not a JSON object"},
        {"[\"access_token\"]", "not a JSON object"},
        {"{\"expires_in\": 3599}", "access_token is missing"},
        {"{\"access_token\": \"\", \"expires_in\": 3599}", "access_token is missing"},
        {"{\"access_token\": 12, \"expires_in\": 3599}", "access_token is missing"},
        {"{\"access_token\": \"a\"}", "expires_in is missing"},
        {"{\"access_token\": \"a\", \"expires_in\": 0}", "expires_in is missing"},
        {"{\"access_token\": \"a\", \"expires_in\": -5}", "expires_in is missing"},
        {"{\"access_token\": \"a\", \"expires_in\": \"3599\"}", "expires_in is missing"},
        {"{\"access_token\": \"a\", \"expires_in\": 3599.0}", "expires_in is missing"},
        {"{\"access_token\": \"a\", \"expires_in\": 99999999999999999999}", "not a JSON object"},
        {"{\"access_token\": \"a\", \"expires_in\": 1, \"token_type\": \"MAC\"}",
         "token_type is not Bearer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sd_oauth_token_grant grant;
        char error[256] = "";
        if (s_parse(cases[i].body, &grant, error, sizeof error) != -1)
            fail_msg("case %zu parsed", i);
        if (!strstr(error, cases[i].expected))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, error, cases[i].expected);
        assert_null(grant.access_token);
    }
}

//  A token that cannot go into "Authorization: Bearer" as it is, such as
//  one with CR LF that would add a header, is rejected without being
//  repeated in the error.
static void test_non_b64token_rejected(void **state)
{
    (void)state;
    static const char *tokens[] = {
        "secret\\r\\nX-Injected: 1", "sec ret", "=secret", "sec=ret", "s\\u00e9cret", "s\\tcret",
    };
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"access_token\": \"%s\", \"expires_in\": 3599}",
                 tokens[i]);
        sd_oauth_token_grant grant;
        char error[256] = "";
        if (s_parse(body, &grant, error, sizeof error) != -1)
            fail_msg("token %zu parsed", i);
        assert_non_null(strstr(error, "RFC 6750"));
        assert_null(strstr(error, "cret"));
    }
}

static void test_error_response_read(void **state)
{
    (void)state;
    sd_oauth_token_error reply;
    const char *body = "{\"error\": \"invalid_grant\", \"error_description\": "
                       "\"Token has been expired or revoked.\"}";
    assert_int_equal(sd_oauth_token_error_parse(body, strlen(body), &reply), 0);
    assert_string_equal(reply.code, "invalid_grant");
    assert_string_equal(reply.description, "Token has been expired or revoked.");

    body = "{\"error\": \"invalid_scope\"}";
    assert_int_equal(sd_oauth_token_error_parse(body, strlen(body), &reply), 0);
    assert_string_equal(reply.code, "invalid_scope");
    assert_string_equal(reply.description, "");
}

static void test_error_response_without_code(void **state)
{
    (void)state;
    static const char *bodies[] = {
        "<html>502 Bad Gateway</html>",
        "{\"error\": {\"code\": 400, \"message\": \"x\"}, \"error_description\": \"d\"}",
        "{\"error_description\": \"d\"}",
        "",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        sd_oauth_token_error reply;
        if (sd_oauth_token_error_parse(bodies[i], strlen(bodies[i]), &reply) != -1)
            fail_msg("body %zu has a code", i);
        assert_string_equal(reply.code, "");
        assert_string_equal(reply.description, "");
    }
}

//  The fields go into one-line error texts and from there into messages
//  that must be valid UTF-8, so a cut never splits a character.
static void test_error_fields_cut_and_cleaned(void **state)
{
    (void)state;
    char body[2048];
    int used = snprintf(body, sizeof body, "{\"error\": \"bad\\nline\\u0007\", "
                                           "\"error_description\": \"x");
    for (int i = 0; i < 150; i++)
        used += snprintf(body + used, sizeof body - (size_t)used, "\u00e9");
    snprintf(body + used, sizeof body - (size_t)used, "\"}");

    sd_oauth_token_error reply;
    assert_int_equal(sd_oauth_token_error_parse(body, strlen(body), &reply), 0);
    assert_string_equal(reply.code, "bad line ");

    //  "x" then 99 two-byte characters fill 199 of the 200 bytes; the
    //  100th does not fit whole, so it is left out.
    assert_int_equal(strlen(reply.description), 199);
    assert_int_equal(reply.description[0], 'x');
    assert_memory_equal(reply.description + 197, "\u00e9", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_google_token_parsed),
        cmocka_unit_test(test_refresh_token_parsed),
        cmocka_unit_test(test_huge_lifetime_cut),
        cmocka_unit_test(test_bad_token_bodies_rejected),
        cmocka_unit_test(test_non_b64token_rejected),
        cmocka_unit_test(test_error_response_read),
        cmocka_unit_test(test_error_response_without_code),
        cmocka_unit_test(test_error_fields_cut_and_cleaned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

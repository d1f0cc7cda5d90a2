/*  Tests of sd_http against a local libmicrohttpd server: status, body,
    headers, request bodies, the response size bound, timeouts, refused
    connections, cancelling, many requests at once, and Retry-After parsing.  */
#include "ga_test_server.h"
#include "ga_test_util.h"
#include "sd_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define S_WAIT_MS 20000

//  What the server saw of the last request, and what the client received.
typedef struct {
    char method[16];
    char url[256];
    char body[256];
    int done;                       //  completion callbacks so far
    int expected;                   //  completion callbacks to wait for
    long status;
    char *error;
    char *body_received;
    size_t body_size;
    char retry_after[64];
    char content_type[64];
} s_state;

static s_state s_last;

static void s_route(const char *method, const char *url, const char *authorization,
                    const char *body, size_t body_size, ga_test_reply *reply, void *arg)
{
    (void)authorization;
    (void)arg;
    (void)body_size;
    snprintf(s_last.method, sizeof s_last.method, "%s", method);
    snprintf(s_last.url, sizeof s_last.url, "%s", url);
    snprintf(s_last.body, sizeof s_last.body, "%s", body);
    if (strcmp(url, "/ok") == 0)
        reply->body = strdup("{\"hello\": \"world\"}");
    else if (strcmp(url, "/echo") == 0)
        reply->body = strdup(body);
    else if (strcmp(url, "/busy") == 0) {
        reply->status = 429;
        reply->retry_after = "7";
        reply->body = strdup("{\"error\": {\"code\": 429}}");
    }
    else if (strcmp(url, "/large") == 0) {
        reply->body = strdup("0123456789abcdef");
        reply->repeat = 4096;           //  64 KiB
    }
    else if (strcmp(url, "/slow") == 0) {
        reply->delay_ms = 3000;
        reply->body = strdup("late");
    }
    else {
        reply->status = 404;
        reply->content_type = "text/html";
        reply->body = strdup("<html>not found</html>");
    }
}

static void s_on_done(const sd_http_response *response, void *arg)
{
    s_state *state = arg;
    state->done++;
    state->status = response->status;
    free(state->error);
    state->error = response->error ? strdup(response->error) : NULL;
    free(state->body_received);
    state->body_received = malloc(response->body_size + 1);
    memcpy(state->body_received, response->body, response->body_size + 1);
    state->body_size = response->body_size;
    snprintf(state->retry_after, sizeof state->retry_after, "%s", response->retry_after);
    snprintf(state->content_type, sizeof state->content_type, "%s", response->content_type);
}

static bool s_all_done(void *arg)
{
    s_state *state = arg;
    return state->done >= state->expected;
}

typedef struct {
    zloop_t *loop;
    sd_http *http;
    ga_test_server *server;
    s_state state;
} s_fixture;

static int s_setup(void **state)
{
    s_fixture *fixture = calloc(1, sizeof *fixture);
    fixture->loop = zloop_new();
    fixture->http = sd_http_new(fixture->loop, NULL);
    fixture->server = ga_test_server_start(s_route, NULL);
    assert_non_null(fixture->http);
    assert_non_null(fixture->server);
    memset(&s_last, 0, sizeof s_last);
    *state = fixture;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *fixture = *state;
    sd_http_destroy(&fixture->http);
    ga_test_server_stop(&fixture->server);
    zloop_destroy(&fixture->loop);
    free(fixture->state.error);
    free(fixture->state.body_received);
    free(fixture);
    return 0;
}

static char *s_url(s_fixture *fixture, const char *path)
{
    return zsys_sprintf("%s%s", ga_test_server_url(fixture->server), path);
}

//  Sends one request and runs the loop until its callback ran.
static void s_send_and_wait(s_fixture *fixture, const sd_http_request *request)
{
    fixture->state.expected = fixture->state.done + 1;
    assert_true(sd_http_send(fixture->http, request, s_on_done, &fixture->state) > 0);
    assert_int_equal(fixture->state.done, fixture->state.expected - 1);
    assert_int_equal(ga_test_run_until(fixture->loop, s_all_done, &fixture->state, S_WAIT_MS), 0);
    assert_int_equal(fixture->state.done, fixture->state.expected);
}

static void test_get_ok(void **state)
{
    s_fixture *fixture = *state;
    char *url = s_url(fixture, "/ok");
    sd_http_request request = {.url = url};
    s_send_and_wait(fixture, &request);
    assert_null(fixture->state.error);
    assert_int_equal(fixture->state.status, 200);
    assert_string_equal(fixture->state.body_received, "{\"hello\": \"world\"}");
    assert_string_equal(fixture->state.content_type, "application/json");
    assert_string_equal(fixture->state.retry_after, "");
    assert_string_equal(s_last.method, "GET");
    assert_int_equal(sd_http_pending(fixture->http), 0);
    zstr_free(&url);
}

static void test_post_body_and_headers(void **state)
{
    s_fixture *fixture = *state;
    char *url = s_url(fixture, "/echo");
    const char *headers[] = {"Content-Type: application/json"};
    const char *body = "{\"dateRanges\": []}";
    sd_http_request request = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .header_count = 1,
        .body = body,
        .body_size = strlen(body),
    };
    s_send_and_wait(fixture, &request);
    assert_int_equal(fixture->state.status, 200);
    assert_string_equal(s_last.method, "POST");
    assert_string_equal(s_last.body, body);
    assert_string_equal(fixture->state.body_received, body);
    zstr_free(&url);
}

static void test_error_status_and_retry_after(void **state)
{
    s_fixture *fixture = *state;
    char *url = s_url(fixture, "/busy");
    sd_http_request request = {.url = url};
    s_send_and_wait(fixture, &request);
    assert_null(fixture->state.error);
    assert_int_equal(fixture->state.status, 429);
    assert_string_equal(fixture->state.retry_after, "7");
    zstr_free(&url);

    url = s_url(fixture, "/missing");
    request.url = url;
    s_send_and_wait(fixture, &request);
    assert_int_equal(fixture->state.status, 404);
    assert_string_equal(fixture->state.content_type, "text/html");
    zstr_free(&url);
}

static void test_response_too_large(void **state)
{
    s_fixture *fixture = *state;
    sd_http_destroy(&fixture->http);
    sd_http_options options = {.max_response_bytes = 1000};
    fixture->http = sd_http_new(fixture->loop, &options);
    char *url = s_url(fixture, "/large");
    sd_http_request request = {.url = url};
    s_send_and_wait(fixture, &request);
    assert_non_null(fixture->state.error);
    assert_non_null(strstr(fixture->state.error, "larger than 1000 bytes"));
    assert_int_equal(fixture->state.status, 0);
    zstr_free(&url);
}

static void test_timeout(void **state)
{
    s_fixture *fixture = *state;
    char *url = s_url(fixture, "/slow");
    sd_http_request request = {.url = url, .timeout_ms = 300};
    s_send_and_wait(fixture, &request);
    assert_non_null(fixture->state.error);
    assert_int_equal(fixture->state.status, 0);
    zstr_free(&url);
}

static void test_connection_refused(void **state)
{
    s_fixture *fixture = *state;
    //  Listening on port 1 needs root, so nothing listens there on a test host.
    sd_http_request request = {.url = "http://127.0.0.1:1/none", .timeout_ms = 5000};
    s_send_and_wait(fixture, &request);
    assert_non_null(fixture->state.error);
    assert_int_equal(fixture->state.status, 0);
}

static void test_rejects_other_schemes(void **state)
{
    s_fixture *fixture = *state;
    sd_http_request request = {.url = "file:///etc/passwd"};
    assert_int_equal(sd_http_send(fixture->http, &request, s_on_done, &fixture->state), -1);
    request.url = NULL;
    assert_int_equal(sd_http_send(fixture->http, &request, s_on_done, &fixture->state), -1);
    assert_int_equal(sd_http_pending(fixture->http), 0);
}

static void test_cancel(void **state)
{
    s_fixture *fixture = *state;
    char *slow = s_url(fixture, "/slow");
    char *ok = s_url(fixture, "/ok");
    sd_http_request slow_request = {.url = slow};
    sd_http_request ok_request = {.url = ok};
    int64_t id = sd_http_send(fixture->http, &slow_request, s_on_done, &fixture->state);
    assert_true(id > 0);
    assert_int_equal(sd_http_cancel(fixture->http, id), 0);
    assert_int_equal(sd_http_cancel(fixture->http, id), -1);
    s_send_and_wait(fixture, &ok_request);
    assert_int_equal(fixture->state.done, 1);
    assert_int_equal(fixture->state.status, 200);
    zstr_free(&slow);
    zstr_free(&ok);
}

static void test_many_in_parallel(void **state)
{
    s_fixture *fixture = *state;
    char *url = s_url(fixture, "/ok");
    sd_http_request request = {.url = url};
    fixture->state.expected = 25;
    for (int i = 0; i < 25; i++)
        assert_true(sd_http_send(fixture->http, &request, s_on_done, &fixture->state) > 0);
    assert_int_equal(sd_http_pending(fixture->http), 25);
    assert_int_equal(ga_test_run_until(fixture->loop, s_all_done, &fixture->state, S_WAIT_MS), 0);
    assert_int_equal(fixture->state.done, 25);
    assert_int_equal(sd_http_pending(fixture->http), 0);
    assert_int_equal(ga_test_server_requests(fixture->server), 25);
    zstr_free(&url);
}

static void test_destroy_with_requests_in_flight(void **state)
{
    s_fixture *fixture = *state;
    char *url = s_url(fixture, "/slow");
    sd_http_request request = {.url = url};
    assert_true(sd_http_send(fixture->http, &request, s_on_done, &fixture->state) > 0);
    sd_http_destroy(&fixture->http);
    assert_null(fixture->http);
    assert_int_equal(fixture->state.done, 0);
    zstr_free(&url);
}

static void test_retry_after_values(void **state)
{
    (void)state;
    int64_t now_ms = (int64_t)1445412480 * 1000;    //  Wed, 21 Oct 2015 07:28:00 GMT
    assert_int_equal(sd_http_retry_after_ms("120", now_ms), 120000);
    assert_int_equal(sd_http_retry_after_ms("0", now_ms), 0);
    assert_int_equal(sd_http_retry_after_ms("Wed, 21 Oct 2015 07:28:30 GMT", now_ms), 30000);
    assert_int_equal(sd_http_retry_after_ms("Wed, 21 Oct 2015 07:27:00 GMT", now_ms), 0);
    assert_int_equal(sd_http_retry_after_ms("", now_ms), -1);
    assert_int_equal(sd_http_retry_after_ms(NULL, now_ms), -1);
    assert_int_equal(sd_http_retry_after_ms("soon", now_ms), -1);
    assert_int_equal(sd_http_retry_after_ms("-5", now_ms), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_ok, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_post_body_and_headers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_error_status_and_retry_after, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_response_too_large, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rejects_other_schemes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cancel, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_many_in_parallel, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_with_requests_in_flight, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_retry_after_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

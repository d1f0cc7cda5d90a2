/*  Tests of sd_ga_job in-process against a fake token endpoint and GA4 API
    (a libmicrohttpd server in the test): roll-up over properties, paging,
    one retry after a 401, error parts for bad responses, the limit of
    requests in flight per property, a passed deadline and a query the
    worker cannot run. Parts are read from an XPUB socket standing in for
    the table bus.
*/
#include "ga_test_server.h"
#include "ga_test_util.h"
#include "sd_config.h"
#include "sd_ga_job.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define S_WAIT_MS 30000
#define S_MAX_IN_FLIGHT 2
#define S_PAGE_SIZE 4

static const char *const s_countries[] = {"France", "Spain", "Italy", "Japan", "Chile"};
static const char *const s_labels[] = {"current", "previous", "yearly"};

//  -------------------------------------------------------------------------
//  Fake GA4 API and token endpoint

typedef struct {
    pthread_mutex_t lock;
    int tokens_issued;
    bool reject_first_token;        //  return 401 to requests carrying token 1
    int api_requests;
    int in_flight;                  //  requests of property 3001 being served
    int max_in_flight;
    int delay_ms;                   //  for property 3001
    int64_t last_limit;
} s_fake;

static s_fake s_api = {.lock = PTHREAD_MUTEX_INITIALIZER};

//  Number of countries a property has rows for.
static size_t s_country_count(int property)
{
    return property == 1002 ? 3 : 5;
}

//  The metric m (0..3) of a property, range and country (-1: no dimension).
static int64_t s_metric(int property, size_t range, int country, size_t m)
{
    return (int64_t)(property % 100) * 100000 + (int64_t)range * 10000 + (country + 1) * 100 +
           (int64_t)m;
}

static size_t s_range_index(const char *label)
{
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s_labels[i], label) == 0)
            return i;
    }
    return 0;
}

static json_t *s_row(int property, const char *range, bool tagged, int country)
{
    size_t index = s_range_index(range);
    json_t *dimensions = json_array();
    if (country >= 0)
        json_array_append_new(dimensions, json_pack("{s:s}", "value", s_countries[country]));
    if (tagged)
        json_array_append_new(dimensions, json_pack("{s:s}", "value", range));
    json_t *metrics = json_array();
    for (size_t m = 0; m < 4; m++) {
        char text[64];
        int64_t value = s_metric(property, index, country, m);
        if (m == 3)
            snprintf(text, sizeof text, "%lld.5", (long long)value);
        else
            snprintf(text, sizeof text, "%lld", (long long)value);
        json_array_append_new(metrics, json_pack("{s:s}", "value", text));
    }
    return json_pack("{s:o, s:o}", "dimensionValues", dimensions, "metricValues", metrics);
}

static json_t *s_headers(bool country, bool tagged)
{
    json_t *dimensions = json_array();
    if (country)
        json_array_append_new(dimensions, json_pack("{s:s}", "name", "country"));
    if (tagged)
        json_array_append_new(dimensions, json_pack("{s:s}", "name", "dateRange"));
    return dimensions;
}

//  Serves a runReport request like GA4: rows of every range, then offset
//  and limit applied to the whole list.
static char *s_report(int property, json_t *request)
{
    json_t *ranges = json_object_get(request, "dateRanges");
    bool country = json_array_size(json_object_get(request, "dimensions")) > 0;
    bool tagged = json_array_size(ranges) > 1;
    json_t *all = json_array();
    for (size_t r = 0; r < json_array_size(ranges); r++) {
        const char *name = json_string_value(json_object_get(json_array_get(ranges, r), "name"));
        size_t countries = country ? s_country_count(property) : 1;
        for (size_t c = 0; c < countries; c++)
            json_array_append_new(all, s_row(property, name, tagged, country ? (int)c : -1));
    }
    size_t offset = (size_t)json_integer_value(json_object_get(request, "offset"));
    size_t limit = (size_t)json_integer_value(json_object_get(request, "limit"));
    json_t *rows = json_array();
    for (size_t i = offset; i < json_array_size(all) && (limit == 0 || i < offset + limit); i++)
        json_array_append(rows, json_array_get(all, i));
    json_t *metrics = json_pack(
        "[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "name", "screenPageViews", "type",
        "TYPE_INTEGER", "name", "totalUsers", "type", "TYPE_INTEGER", "name", "sessions", "type",
        "TYPE_INTEGER", "name", "userEngagementDuration", "type", "TYPE_SECONDS");
    json_t *response = json_pack("{s:o, s:o, s:o, s:I}", "dimensionHeaders",
                                 s_headers(country, tagged), "metricHeaders", metrics, "rows",
                                 rows, "rowCount", (json_int_t)json_array_size(all));
    char *text = json_dumps(response, 0);
    json_decref(response);
    json_decref(all);
    return text;
}

static void s_error_reply(ga_test_reply *reply, int status, const char *name, const char *text)
{
    reply->status = status;
    reply->body = zsys_sprintf("{\"error\": {\"code\": %d, \"message\": \"%s\", \"status\": \"%s\"}}",
                               status, text, name);
}

//  Replies of the properties that misbehave.
static bool s_broken_property(int property, ga_test_reply *reply)
{
    if (property == 2001) {
        reply->status = 502;
        reply->content_type = "text/html";
        reply->body = strdup("<html><body>502 Bad Gateway</body></html>");
    }
    else if (property == 2002)
        reply->body = strdup("{\"dimensionHeaders\": [], \"rows\": [{\"metricVal");
    else if (property == 2003)
        reply->body = strdup(
            "{\"dimensionHeaders\": [{\"name\": \"dateRange\"}],"
            " \"metricHeaders\": [{\"name\": \"screenPageViews\", \"type\": \"TYPE_INTEGER\"},"
            " {\"name\": \"totalUsers\", \"type\": \"TYPE_INTEGER\"}, {\"name\": \"sessions\","
            " \"type\": \"TYPE_INTEGER\"}, {\"name\": \"userEngagementDuration\", \"type\":"
            " \"TYPE_SECONDS\"}], \"rows\": [{\"dimensionValues\": [{\"value\": \"current\"}],"
            " \"metricValues\": [{\"value\": \"12,5\"},"
            " {\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1\"}]}], \"rowCount\": 1}");
    else
        return false;
    return true;
}

static void s_api_route(int property, const char *authorization, const char *body,
                        ga_test_reply *reply)
{
    pthread_mutex_lock(&s_api.lock);
    s_api.api_requests++;
    bool reject = s_api.reject_first_token && authorization &&
                  strcmp(authorization, "Bearer token-1") == 0;
    bool known = authorization && strncmp(authorization, "Bearer token-", 13) == 0;
    bool slow = property == 3001;
    if (slow && ++s_api.in_flight > s_api.max_in_flight)
        s_api.max_in_flight = s_api.in_flight;
    int delay_ms = s_api.delay_ms;
    pthread_mutex_unlock(&s_api.lock);

    if (slow && delay_ms > 0) {
        struct timespec delay = {0, (long)delay_ms * 1000000L};
        nanosleep(&delay, NULL);
    }
    json_t *request = json_loads(body, 0, NULL);
    if (reject || !known)
        s_error_reply(reply, 401, "UNAUTHENTICATED", "Request had invalid credentials.");
    else if (!s_broken_property(property, reply))
        reply->body = s_report(property, request);

    pthread_mutex_lock(&s_api.lock);
    s_api.last_limit = json_integer_value(json_object_get(request, "limit"));
    if (slow)
        s_api.in_flight--;
    pthread_mutex_unlock(&s_api.lock);
    json_decref(request);
}

static void s_route(const char *method, const char *url, const char *authorization,
                    const char *body, size_t body_size, ga_test_reply *reply, void *arg)
{
    (void)body_size;
    (void)arg;
    int property = 0;
    if (strcmp(method, "POST") == 0 && strcmp(url, "/token") == 0) {
        pthread_mutex_lock(&s_api.lock);
        int token = ++s_api.tokens_issued;
        pthread_mutex_unlock(&s_api.lock);
        reply->body = zsys_sprintf("{\"access_token\": \"token-%d\", \"expires_in\": 3600,"
                                   " \"token_type\": \"Bearer\"}",
                                   token);
    }
    else if (sscanf(url, "/v1beta/properties/%d:runReport", &property) == 1)
        s_api_route(property, authorization, body, reply);
    else
        s_error_reply(reply, 404, "NOT_FOUND", "no such path");
}

//  -------------------------------------------------------------------------
//  Fixture: loop, HTTP client, OAuth, bus and config

typedef struct {
    char *dir;
    ga_test_server *server;
    zloop_t *loop;
    sd_http *http;
    sd_oauth *oauth;
    sd_config *config;
    zsock_t *publisher;
    zsock_t *subscriber;
    EVP_PKEY *key;
} s_fixture;

static sd_config *s_load_config(s_fixture *fixture)
{
    char *path = zsys_sprintf("%s/statsdash.json", fixture->dir);
    char *text = zsys_sprintf(
        "{\"aggregator\": {\"shards\": 2}, \"ga\": {\"api_base\": \"%s\", \"max_in_flight\": %d,"
        " \"page_size\": %d, \"sites\": {\"two.example\": [{\"property\": \"1001\"},"
        " {\"property\": \"1002\"}], \"one.example\": [{\"property\": \"1004\"}],"
        " \"slow.example\": [{\"property\": \"3001\"}],"
        " \"html.example\": [{\"property\": \"1003\"}, {\"property\": \"2001\"}],"
        " \"truncated.example\": [{\"property\": \"2002\"}],"
        " \"number.example\": [{\"property\": \"2003\"}]}}}",
        ga_test_server_url(fixture->server), S_MAX_IN_FLIGHT, S_PAGE_SIZE);
    FILE *file = fopen(path, "w");
    fputs(text, file);
    fclose(file);
    sd_config_error error;
    sd_config *config = sd_config_load(path, &error);
    if (!config) {
        char line[1400];
        fail_msg("%s", sd_config_error_line(&error, line, sizeof line));
    }
    zstr_free(&path);
    zstr_free(&text);
    return config;
}

static int s_setup(void **state)
{
    pthread_mutex_lock(&s_api.lock);
    s_api.tokens_issued = 0;
    s_api.reject_first_token = false;
    s_api.api_requests = 0;
    s_api.in_flight = s_api.max_in_flight = 0;
    s_api.delay_ms = 0;
    pthread_mutex_unlock(&s_api.lock);

    s_fixture *fixture = calloc(1, sizeof *fixture);
    fixture->dir = ga_test_temp_dir();
    fixture->server = ga_test_server_start(s_route, NULL);
    fixture->loop = zloop_new();
    fixture->http = sd_http_new(fixture->loop, NULL);
    fixture->key = ga_test_rsa_key();
    assert_non_null(fixture->server);
    char *token_uri = zsys_sprintf("%s/token", ga_test_server_url(fixture->server));
    char *key_path = zsys_sprintf("%s/key.json", fixture->dir);
    assert_int_equal(ga_test_write_key_file(key_path, fixture->key, token_uri, 0600), 0);
    char error[512];
    sd_service_account *account = sd_service_account_load(key_path, error, sizeof error);
    fixture->oauth = sd_oauth_new(fixture->loop, fixture->http, &account, NULL,
                                  SD_OAUTH_SCOPE_ANALYTICS_READONLY, error, sizeof error);
    assert_non_null(fixture->oauth);
    fixture->config = s_load_config(fixture);

    //  An XPUB shows when the subscription has arrived, so no part is lost.
    fixture->publisher = zsock_new_xpub("inproc://worker-ga-job-test");
    fixture->subscriber = zsock_new_sub(">inproc://worker-ga-job-test", "raw.");
    char *subscription = zstr_recv(fixture->publisher);
    assert_non_null(subscription);
    zstr_free(&subscription);
    zstr_free(&token_uri);
    zstr_free(&key_path);
    *state = fixture;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *fixture = *state;
    sd_oauth_destroy(&fixture->oauth);
    sd_http_destroy(&fixture->http);
    zloop_destroy(&fixture->loop);
    ga_test_server_stop(&fixture->server);
    zsock_destroy(&fixture->subscriber);
    zsock_destroy(&fixture->publisher);
    sd_config_destroy(&fixture->config);
    EVP_PKEY_free(fixture->key);
    ga_test_remove_dir(fixture->dir);
    free(fixture->dir);
    free(fixture);
    return 0;
}

//  -------------------------------------------------------------------------
//  Running a job

typedef struct {
    const char *id;
    const char *api;
    bool country;
    const char *params;
    int64_t limit;
} s_query_spec;

static sd_msg *s_request(const char *site, const s_query_spec *specs, size_t count,
                         int64_t deadline_ms)
{
    sd_msg *msg = sd_msg_new(SD_MSG_FETCH_REQUEST);
    sd_fetch_request *request = &msg->as.fetch_request;
    request->job_id = strdup("job-1");
    request->request_id = strdup("request-1");
    request->reporter_id = strdup("r1");
    request->service = strdup("ga");
    request->site = strdup(site);
    request->deadline_ms = deadline_ms;
    request->queries = calloc(count, sizeof(sd_query));
    request->query_count = count;
    static const char *const starts[] = {"2026-11-01", "2026-10-01", "2025-11-01"};
    static const char *const ends[] = {"2026-11-30", "2026-10-31", "2025-11-30"};
    for (size_t i = 0; i < count; i++) {
        sd_query *query = &request->queries[i];
        query->id = strdup(specs[i].id);
        query->table_id = strdup(specs[i].id);
        query->expected_parts = 3;
        query->api = strdup(specs[i].api ? specs[i].api : "ga4.runReport");
        query->params_json = strdup(specs[i].params ? specs[i].params : "{}");
        query->limit = specs[i].limit;
        const char *metrics[] = {"screenPageViews", "totalUsers", "sessions",
                                 "userEngagementDuration"};
        for (size_t m = 0; m < 4; m++)
            sd_strings_push(&query->metrics, metrics[m]);
        if (specs[i].country)
            sd_strings_push(&query->dimensions, "country");
        query->period_count = 3;
        query->periods = calloc(3, sizeof(sd_period));
        for (size_t p = 0; p < 3; p++) {
            query->periods[p].label = strdup(s_labels[p]);
            query->periods[p].start = strdup(starts[p]);
            query->periods[p].end = strdup(ends[p]);
        }
    }
    return msg;
}

typedef struct {
    bool done;
    sd_msg *reply;
} s_outcome;

static void s_on_done(sd_ga_job *job, void *arg)
{
    s_outcome *outcome = arg;
    zmsg_t *body = sd_ga_job_take_reply(job);
    assert_non_null(body);
    zframe_t *frame = zmsg_first(body);
    sd_proto_error error;
    outcome->reply = sd_msg_decode(zframe_data(frame), zframe_size(frame), NULL, &error);
    zmsg_destroy(&body);
    outcome->done = true;
}

static bool s_is_done(void *arg)
{
    return ((s_outcome *)arg)->done;
}

//  Runs a job to its end. Returns the fetch.reply; parts[] receives the
//  published parts (count in *part_count).
static sd_msg *s_run_job(s_fixture *fixture, sd_msg *request, sd_msg **parts, size_t max_parts,
                         size_t *part_count)
{
    sd_ga_context context = {
        .config = fixture->config,
        .loop = fixture->loop,
        .http = fixture->http,
        .oauth = fixture->oauth,
        .bus = {.publisher = fixture->publisher, .shards = 2},
    };
    s_outcome outcome = {0};
    sd_ga_job *job = sd_ga_job_new(&context, &request, s_on_done, &outcome);
    assert_non_null(job);
    assert_int_equal(sd_ga_job_start(job), 0);
    assert_false(outcome.done);
    assert_int_equal(ga_test_run_until(fixture->loop, s_is_done, &outcome, S_WAIT_MS), 0);
    sd_ga_job_destroy(&job);
    assert_non_null(outcome.reply);

    *part_count = 0;
    zmsg_t *message;
    zsock_set_rcvtimeo(fixture->subscriber, 0);
    while ((message = zmsg_recv(fixture->subscriber))) {
        assert_int_equal(zmsg_size(message), 2);
        zframe_t *body = zmsg_last(message);
        sd_proto_error error;
        sd_msg *part = sd_msg_decode(zframe_data(body), zframe_size(body), NULL, &error);
        assert_non_null(part);
        assert_true(*part_count < max_parts);
        parts[(*part_count)++] = part;
        zmsg_destroy(&message);
    }
    return outcome.reply;
}

static const sd_table_raw *s_part(sd_msg **parts, size_t count, const char *table,
                                  const char *label)
{
    for (size_t i = 0; i < count; i++) {
        const sd_table_raw *raw = &parts[i]->as.table_raw;
        if (strcmp(raw->table_id, table) == 0 && strcmp(raw->period.label, label) == 0)
            return raw;
    }
    fail_msg("no part %s %s", table, label);
    return NULL;
}

static void s_free_parts(sd_msg **parts, size_t count)
{
    for (size_t i = 0; i < count; i++)
        sd_msg_destroy(&parts[i]);
}

static int s_find_country(const char *name)
{
    for (int c = 0; c < 5; c++) {
        if (strcmp(s_countries[c], name) == 0)
            return c;
    }
    fail_msg("unexpected country %s", name);
    return -1;
}

//  Checks a part's rows: the sums over properties of s_metric.
static void s_check_sums(const sd_table_raw *raw, const int *properties, size_t property_count,
                         bool country)
{
    size_t range = s_range_index(raw->period.label);
    size_t first = country ? 1 : 0;
    assert_null(raw->error);
    assert_int_equal(raw->data.row_count, country ? 5 : 1);
    for (size_t r = 0; r < raw->data.row_count; r++) {
        const sd_value *cells = &raw->data.cells[r * raw->data.column_count];
        int c = country ? s_find_country(cells[0].as.s.ptr) : -1;
        for (size_t m = 0; m < 4; m++) {
            int64_t expected = 0;
            for (size_t p = 0; p < property_count; p++) {
                if (c < (int)s_country_count(properties[p]))
                    expected += s_metric(properties[p], range, c, m);
            }
            int contributing = 0;
            for (size_t p = 0; p < property_count; p++)
                contributing += c < (int)s_country_count(properties[p]);
            if (m < 3) {
                assert_int_equal(cells[first + m].kind, SD_VALUE_INT);
                assert_int_equal(cells[first + m].as.i, expected);
            }
            else {
                assert_int_equal(cells[first + m].kind, SD_VALUE_FLOAT);
                double sum = (double)expected + 0.5 * contributing;
                assert_true(fabs(cells[first + m].as.f - sum) <= 1e-9 * sum);
            }
        }
    }
}

//  -------------------------------------------------------------------------
//  Tests

static void test_job_rolls_up_and_pages(void **state)
{
    s_fixture *fixture = *state;
    const s_query_spec specs[] = {{"summary", NULL, false, NULL, 0},
                                  {"site_summary", NULL, false, NULL, 0},
                                  {"country", NULL, true, NULL, 3}};
    sd_msg *parts[16];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("two.example", specs, 3, 0), parts, 16, &count);
    assert_int_equal(reply->type, SD_MSG_FETCH_REPLY);
    assert_int_equal(reply->as.fetch_reply.part_count, 9);
    assert_int_equal(count, 9);
    static const int properties[] = {1001, 1002};
    for (size_t p = 0; p < 3; p++) {
        s_check_sums(s_part(parts, count, "summary", s_labels[p]), properties, 2, false);
        s_check_sums(s_part(parts, count, "site_summary", s_labels[p]), properties, 2, false);
        s_check_sums(s_part(parts, count, "country", s_labels[p]), properties, 2, true);
    }

    //  summary and site_summary share one request per property. country has
    //  15 + 9 rows over 4-row pages, so it takes 4 + 3 requests, because the
    //  limit of 3 does not apply to a site of two properties.
    assert_int_equal(s_api.api_requests, 2 + 7);
    assert_int_equal(s_api.tokens_issued, 1);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

static void test_job_limit_on_single_property(void **state)
{
    s_fixture *fixture = *state;
    const s_query_spec specs[] = {{"country", NULL, true, NULL, 3}};
    sd_msg *parts[4];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("one.example", specs, 1, 0), parts, 4, &count);
    assert_int_equal(count, 3);
    assert_int_equal(s_api.api_requests, 1);
    assert_int_equal(s_api.last_limit, 3);
    size_t rows = 0;
    for (size_t i = 0; i < count; i++)
        rows += parts[i]->as.table_raw.data.row_count;
    assert_int_equal(rows, 3);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

static void test_job_retries_once_after_401(void **state)
{
    s_fixture *fixture = *state;
    s_api.reject_first_token = true;
    const s_query_spec specs[] = {{"summary", NULL, false, NULL, 0}};
    sd_msg *parts[4];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("one.example", specs, 1, 0), parts, 4, &count);
    assert_int_equal(count, 3);
    static const int properties[] = {1004};
    for (size_t p = 0; p < 3; p++)
        s_check_sums(s_part(parts, count, "summary", s_labels[p]), properties, 1, false);
    assert_int_equal(s_api.tokens_issued, 2);
    assert_int_equal(s_api.api_requests, 2);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

//  Runs a summary job for site and checks that every part failed with an
//  error containing each of the given texts.
static void s_expect_failed_parts(s_fixture *fixture, const char *site, const char *const *texts,
                                  size_t text_count)
{
    const s_query_spec specs[] = {{"summary", NULL, false, NULL, 0}};
    sd_msg *parts[4];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request(site, specs, 1, 0), parts, 4, &count);
    assert_int_equal(count, 3);
    const sd_fetch_reply *fetch = &reply->as.fetch_reply;
    assert_int_equal(fetch->part_count, 3);
    for (size_t i = 0; i < count; i++) {
        const sd_table_raw *raw = &parts[i]->as.table_raw;
        assert_non_null(raw->error);
        for (size_t t = 0; t < text_count; t++) {
            if (!strstr(raw->error, texts[t]))
                fail_msg("error \"%s\" does not contain \"%s\"", raw->error, texts[t]);
        }
        assert_int_equal(raw->data.row_count, 0);
        assert_int_equal(raw->data.column_count, 4);
        assert_non_null(fetch->parts[i].error);
        assert_string_equal(fetch->parts[i].digest, "");
        assert_int_equal(fetch->parts[i].rows, 0);
    }
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

static void test_job_bad_answers_fail_parts(void **state)
{
    s_fixture *fixture = *state;
    const char *html[] = {"site html.example property 2001", "HTTP 502", "text/html"};
    s_expect_failed_parts(fixture, "html.example", html, 3);
    const char *truncated[] = {"property 2002", "query summary", "not a JSON object"};
    s_expect_failed_parts(fixture, "truncated.example", truncated, 3);
    const char *number[] = {"property 2003", "query summary", "\"12,5\"", "screenPageViews"};
    s_expect_failed_parts(fixture, "number.example", number, 4);
}

static void test_job_deadline_passed(void **state)
{
    s_fixture *fixture = *state;
    const s_query_spec specs[] = {{"summary", NULL, false, NULL, 0}};
    int64_t past = (int64_t)time(NULL) * 1000 - 1000;
    sd_msg *parts[4];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("one.example", specs, 1, past), parts, 4, &count);
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; i++)
        assert_non_null(strstr(parts[i]->as.table_raw.error, "deadline passed"));
    assert_int_equal(s_api.api_requests, 0);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

static void test_job_rejects_other_api(void **state)
{
    s_fixture *fixture = *state;
    const s_query_spec specs[] = {{"summary", NULL, false, NULL, 0},
                                  {"videos", "youtube.reports", false, NULL, 0}};
    sd_msg *parts[8];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("one.example", specs, 2, 0), parts, 8, &count);
    assert_int_equal(count, 6);
    for (size_t p = 0; p < 3; p++) {
        assert_null(s_part(parts, count, "summary", s_labels[p])->error);
        const char *error = s_part(parts, count, "videos", s_labels[p])->error;
        assert_non_null(error);
        assert_non_null(strstr(error, "youtube.reports"));
    }
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

static void test_job_limits_requests_per_property(void **state)
{
    s_fixture *fixture = *state;
    s_api.delay_ms = 50;
    s_query_spec specs[6];
    char params[6][64];
    for (size_t i = 0; i < 6; i++) {
        //  Different params make six requests instead of one.
        snprintf(params[i], sizeof params[i], "{\"currencyCode\": \"C%zu\"}", i);
        specs[i] = (s_query_spec){"q", NULL, false, params[i], 0};
    }
    const char *ids[] = {"q0", "q1", "q2", "q3", "q4", "q5"};
    for (size_t i = 0; i < 6; i++)
        specs[i].id = ids[i];
    sd_msg *parts[24];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("slow.example", specs, 6, 0), parts, 24, &count);
    assert_int_equal(count, 18);
    for (size_t i = 0; i < count; i++)
        assert_null(parts[i]->as.table_raw.error);
    assert_int_equal(s_api.api_requests, 6);
    assert_true(s_api.max_in_flight >= 1);
    assert_true(s_api.max_in_flight <= S_MAX_IN_FLIGHT);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_job_rolls_up_and_pages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_limit_on_single_property, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_retries_once_after_401, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_bad_answers_fail_parts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_deadline_passed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_rejects_other_api, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_limits_requests_per_property, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

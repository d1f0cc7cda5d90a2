/*  Tests of sd_ga_job in-process against a fake token endpoint and GA4 API
    (a libmicrohttpd server in the test). They cover roll-up over
    properties, paging, batches of up to 5 reports, one retry after a 401,
    retries of 503, a permanent 403, a spent quota, error parts for bad
    responses, the limit of requests in flight per property, the response
    cache, metadata warnings, a passed deadline and a query the worker
    cannot run. Parts are read from an XPUB socket standing in for the
    table bus. sd_cache pruning and sd_retry delays are tested here too.
*/
#include "ga_test_server.h"
#include "ga_test_util.h"
#include "sd_cache.h"
#include "sd_config.h"
#include "sd_ga_job.h"
#include "sd_period.h"
#include "sd_retry.h"

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
#define S_REPORTS_MAX 64

static const char *const s_countries[] = {"France", "Spain", "Italy", "Japan", "Chile"};
static const char *const s_labels[] = {"current", "previous", "yearly"};

//  -------------------------------------------------------------------------
//  Fake GA4 API and token endpoint

typedef struct {
    pthread_mutex_t lock;
    int tokens_issued;
    bool reject_first_token;        //  return 401 to requests carrying token 1
    int api_requests;
    int batch_requests;
    int largest_batch;
    int fail_first;                 //  fail the first N API requests with fail_status
    int fail_status;                //  503, 429 (quota spent) or 403
    int in_flight;                  //  requests of property 3001 being served
    int max_in_flight;
    int delay_ms;                   //  for property 3001
    int64_t last_limit;
    int reports;                    //  reports asked for, one per runReport or batch item
    char report_ranges[S_REPORTS_MAX][64];  //  per report: its dateRange names, comma-separated
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

//  Records the dateRange names of a report the worker asked for.
static void s_record_ranges(json_t *ranges)
{
    pthread_mutex_lock(&s_api.lock);
    if (s_api.reports < S_REPORTS_MAX) {
        char *names = s_api.report_ranges[s_api.reports];
        names[0] = '\0';
        for (size_t r = 0; r < json_array_size(ranges); r++) {
            const char *name =
                json_string_value(json_object_get(json_array_get(ranges, r), "name"));
            size_t used = strlen(names);
            snprintf(names + used, 64 - used, "%s%s", r > 0 ? "," : "", name ? name : "?");
        }
    }
    s_api.reports++;
    pthread_mutex_unlock(&s_api.lock);
}

//  Returns the "totals" of metricAggregations TOTAL: per range the metrics
//  of the report without dimensions, so that they differ from the sums of
//  the country rows and show where a total came from.
static json_t *s_totals(int property, json_t *ranges, bool country, bool tagged)
{
    json_t *totals = json_array();
    for (size_t r = 0; r < json_array_size(ranges); r++) {
        const char *name = json_string_value(json_object_get(json_array_get(ranges, r), "name"));
        json_t *row = s_row(property, name, tagged, -1);
        if (country)
            json_array_insert_new(json_object_get(row, "dimensionValues"), 0,
                                  json_pack("{s:s}", "value", "RESERVED_TOTAL"));
        json_array_append_new(totals, row);
    }
    return totals;
}

static bool s_wants_totals(json_t *request)
{
    json_t *aggregations = json_object_get(request, "metricAggregations");
    for (size_t i = 0; i < json_array_size(aggregations); i++) {
        if (strcmp(json_string_value(json_array_get(aggregations, i)), "TOTAL") == 0)
            return true;
    }
    return false;
}

//  Serves a runReport request like GA4: rows of every range, then offset
//  and limit applied to the whole list, and totals when requested.
static char *s_report(int property, json_t *request)
{
    json_t *ranges = json_object_get(request, "dateRanges");
    s_record_ranges(ranges);
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
    if (s_wants_totals(request))
        json_object_set_new(response, "totals", s_totals(property, ranges, country, tagged));
    //  Property 1005 reports sampled and thresholded data.
    if (property == 1005)
        json_object_set_new(response, "metadata",
                            json_pack("{s:b, s:[{s:s, s:s}]}", "subjectToThresholding", 1,
                                      "samplingMetadatas", "samplesReadCount", "100",
                                      "samplingSpaceSize", "1000"));
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

//  Sets an injected failure for request number `number` (from 1). Returns
//  true when the request fails.
static bool s_injected_failure(int number, int property, ga_test_reply *reply)
{
    if (number > s_api.fail_first)
        return false;
    if (s_api.fail_status == 503)
        s_error_reply(reply, 503, "UNAVAILABLE", "The service is currently unavailable.");
    else if (s_api.fail_status == 403)
        s_error_reply(reply, 403, "PERMISSION_DENIED",
                      "User does not have sufficient permissions for this property.");
    else {
        char text[256];
        snprintf(text, sizeof text, "Exhausted property tokens per day quota for property %d.",
                 property);
        s_error_reply(reply, 429, "RESOURCE_EXHAUSTED", text);
    }
    return true;
}

//  Serves {"requests": [...]} with {"reports": [...]}.
static char *s_batch(int property, json_t *request)
{
    json_t *reports = json_array();
    json_t *requests = json_object_get(request, "requests");
    for (size_t i = 0; i < json_array_size(requests); i++) {
        char *text = s_report(property, json_array_get(requests, i));
        json_array_append_new(reports, json_loads(text, 0, NULL));
        free(text);
    }
    pthread_mutex_lock(&s_api.lock);
    s_api.batch_requests++;
    if ((int)json_array_size(requests) > s_api.largest_batch)
        s_api.largest_batch = (int)json_array_size(requests);
    pthread_mutex_unlock(&s_api.lock);
    json_t *response = json_pack("{s:o}", "reports", reports);
    char *text = json_dumps(response, 0);
    json_decref(response);
    return text;
}

static void s_api_route(int property, bool batch, const char *authorization, const char *body,
                        ga_test_reply *reply)
{
    pthread_mutex_lock(&s_api.lock);
    int number = ++s_api.api_requests;
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
    else if (s_injected_failure(number, property, reply))
        ;
    else if (!s_broken_property(property, reply))
        reply->body = batch ? s_batch(property, request) : s_report(property, request);

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
    else if (sscanf(url, "/v1beta/properties/%d:", &property) == 1 && strstr(url, ":runReport"))
        s_api_route(property, false, authorization, body, reply);
    else if (sscanf(url, "/v1beta/properties/%d:", &property) == 1 &&
             strstr(url, ":batchRunReports"))
        s_api_route(property, true, authorization, body, reply);
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
    sd_retry *retry;
    sd_ga_quota *quota;
    sd_cache *cache;                //  NULL unless a test opens one
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
        " \"meta.example\": [{\"property\": \"1005\"}],"
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
    s_api.batch_requests = 0;
    s_api.largest_batch = 0;
    s_api.fail_first = 0;
    s_api.fail_status = 0;
    s_api.in_flight = s_api.max_in_flight = 0;
    s_api.delay_ms = 0;
    s_api.reports = 0;
    pthread_mutex_unlock(&s_api.lock);

    s_fixture *fixture = calloc(1, sizeof *fixture);
    fixture->dir = ga_test_temp_dir();
    fixture->server = ga_test_server_start(s_route, NULL);
    fixture->loop = zloop_new();
    fixture->http = sd_http_new(fixture->loop, NULL);
    fixture->retry = sd_retry_new(fixture->loop, fixture->http, NULL);
    fixture->quota = sd_ga_quota_new();
    assert_non_null(fixture->retry);
    assert_non_null(fixture->quota);
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
    sd_retry_destroy(&fixture->retry);
    sd_http_destroy(&fixture->http);
    sd_ga_quota_destroy(&fixture->quota);
    sd_cache_close(&fixture->cache);
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
        .retry = fixture->retry,
        .oauth = fixture->oauth,
        .cache = fixture->cache,
        .quota = fixture->quota,
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

    //  summary and site_summary share one query, and its rows are the totals
    //  of the country report, so each property takes one report. country
    //  has 15 + 9 rows over 4-row pages, so it takes 4 + 3 requests, because
    //  the limit of 3 does not apply to a site of two properties.
    assert_int_equal(s_api.batch_requests, 0);
    assert_int_equal(s_api.api_requests, 4 + 3);
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
    enum { QUERIES = 11 };
    s_query_spec specs[QUERIES];
    char params[QUERIES][64];
    char ids[QUERIES][8];
    for (size_t i = 0; i < QUERIES; i++) {
        //  Different params make eleven reports instead of one.
        snprintf(params[i], sizeof params[i], "{\"currencyCode\": \"C%zu\"}", i);
        snprintf(ids[i], sizeof ids[i], "q%zu", i);
        specs[i] = (s_query_spec){ids[i], NULL, false, params[i], 0};
    }
    sd_msg *parts[3 * QUERIES];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("slow.example", specs, QUERIES, 0), parts,
                              3 * QUERIES, &count);
    assert_int_equal(count, 3 * QUERIES);
    for (size_t i = 0; i < count; i++)
        assert_null(parts[i]->as.table_raw.error);

    //  Eleven reports of one property: two batches of 5 and a runReport,
    //  at most 2 of them in flight.
    assert_int_equal(s_api.api_requests, 3);
    assert_int_equal(s_api.batch_requests, 2);
    assert_int_equal(s_api.largest_batch, 5);
    assert_true(s_api.max_in_flight >= 1);
    assert_true(s_api.max_in_flight <= S_MAX_IN_FLIGHT);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

static void test_job_retries_503(void **state)
{
    s_fixture *fixture = *state;
    s_api.fail_first = 2;
    s_api.fail_status = 503;
    const s_query_spec specs[] = {{"summary", NULL, false, NULL, 0}};
    sd_msg *parts[4];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("one.example", specs, 1, 0), parts, 4, &count);
    assert_int_equal(count, 3);
    static const int properties[] = {1004};
    for (size_t p = 0; p < 3; p++)
        s_check_sums(s_part(parts, count, "summary", s_labels[p]), properties, 1, false);
    assert_int_equal(s_api.api_requests, 3);
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

static void test_job_403_fails_at_once(void **state)
{
    s_fixture *fixture = *state;
    s_api.fail_first = 1000;
    s_api.fail_status = 403;
    const char *texts[] = {"site one.example property 1004", "query summary",
                           "403 PERMISSION_DENIED: User does not have sufficient permissions"};
    s_expect_failed_parts(fixture, "one.example", texts, 3);
    assert_int_equal(s_api.api_requests, 1);
}

static void test_job_spent_quota_stops_calls(void **state)
{
    s_fixture *fixture = *state;
    s_api.fail_first = 1000;
    s_api.fail_status = 429;
    const char *texts[] = {"property 1004", "RESOURCE_EXHAUSTED",
                           "Exhausted property tokens per day", "no calls to it before"};
    s_expect_failed_parts(fixture, "one.example", texts, 4);
    assert_int_equal(s_api.api_requests, 1);

    //  A second job does not call the property at all.
    s_expect_failed_parts(fixture, "one.example", texts, 4);
    assert_int_equal(s_api.api_requests, 1);
}

static void test_job_metadata_becomes_warnings(void **state)
{
    s_fixture *fixture = *state;
    const s_query_spec specs[] = {{"summary", NULL, false, NULL, 0}};
    sd_msg *parts[4];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, s_request("meta.example", specs, 1, 0), parts, 4, &count);
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; i++) {
        const sd_table_raw *raw = &parts[i]->as.table_raw;
        assert_null(raw->error);
        assert_int_equal(raw->warnings.count, 2);
        bool sampled = false;
        bool thresholded = false;
        for (size_t w = 0; w < raw->warnings.count; w++) {
            sampled |= strstr(raw->warnings.items[w], "property 1005: data sampled") != NULL;
            thresholded |= strstr(raw->warnings.items[w], "property 1005: thresholded") != NULL;
        }
        assert_true(sampled);
        assert_true(thresholded);
    }
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
}

//  Runs a job of summary and country for site and returns the API requests
//  it made. current_end replaces the end of the current period when not
//  NULL. country_limit is the limit of the country query.
static int s_run_site_job(s_fixture *fixture, const char *site, const char *current_end,
                          int64_t country_limit)
{
    const s_query_spec specs[] = {{"summary", NULL, false, NULL, 0},
                                  {"country", NULL, true, NULL, country_limit}};
    sd_msg *request = s_request(site, specs, 2, 0);
    for (size_t q = 0; current_end && q < 2; q++) {
        sd_period *current = &request->as.fetch_request.queries[q].periods[0];
        free(current->end);
        current->end = strdup(current_end);
    }
    int before = s_api.api_requests;
    sd_msg *parts[8];
    size_t count = 0;
    sd_msg *reply = s_run_job(fixture, request, parts, 8, &count);
    assert_int_equal(count, 6);
    for (size_t i = 0; i < count; i++)
        assert_null(parts[i]->as.table_raw.error);
    if (strcmp(site, "two.example") == 0) {
        //  The fake API's figures depend on the period label, not its dates.
        static const int properties[] = {1001, 1002};
        for (size_t p = 0; p < 3; p++) {
            s_check_sums(s_part(parts, count, "summary", s_labels[p]), properties, 2, false);
            s_check_sums(s_part(parts, count, "country", s_labels[p]), properties, 2, true);
        }
    }
    else {
        //  The limit of 3 applies to the rows of all periods together, and
        //  the fake API lists the current period's rows first.
        assert_int_equal(s_part(parts, count, "country", "current")->data.row_count, 3);
        assert_int_equal(s_part(parts, count, "country", "previous")->data.row_count, 0);
    }
    s_free_parts(parts, count);
    sd_msg_destroy(&reply);
    return s_api.api_requests - before;
}

static int s_run_cached_job(s_fixture *fixture, const char *current_end)
{
    return s_run_site_job(fixture, "two.example", current_end, 0);
}

//  Checks that reports [first, s_api.reports) each asked for the
//  dateRanges named in ranges.
static void s_expect_report_ranges(int first, const char *ranges)
{
    assert_true(s_api.reports > first);
    assert_true(s_api.reports <= S_REPORTS_MAX);
    for (int i = first; i < s_api.reports; i++)
        assert_string_equal(s_api.report_ranges[i], ranges);
}

static void test_job_cache_serves_closed_periods(void **state)
{
    s_fixture *fixture = *state;
    char *path = zsys_sprintf("%s/cache.sqlite", fixture->dir);
    fixture->cache = sd_cache_open(path, 1 << 24);
    assert_true(sd_cache_usable(fixture->cache));

    //  STATSDASH_NOW is 2026-12-10: November 2026 ended 9 days before.
    //  country takes several 4-row pages, and its periods are split across
    //  them; each period is stored whole once the last page is in.
    int first = s_run_cached_job(fixture, NULL);
    assert_true(first > 0);
    assert_int_equal(s_run_cached_job(fixture, NULL), 0);
    assert_int_equal(sd_cache_count(fixture->cache, NULL), 2 * 2 * 3);

    //  The entries outlive the process: a cache opened again serves them.
    sd_cache_close(&fixture->cache);
    fixture->cache = sd_cache_open(path, 1 << 24);
    assert_int_equal(s_run_cached_job(fixture, NULL), 0);
    zstr_free(&path);
}

static void test_job_cache_requests_open_periods(void **state)
{
    s_fixture *fixture = *state;
    char *path = zsys_sprintf("%s/cache.sqlite", fixture->dir);
    fixture->cache = sd_cache_open(path, 1 << 24);
    assert_true(sd_cache_usable(fixture->cache));

    //  The current period ends 2 days before "now", so it is open; the
    //  first run still asks for all three periods in one report each.
    int reports = s_api.reports;
    assert_true(s_run_cached_job(fixture, "2026-12-08") > 0);
    s_expect_report_ranges(reports, "current,previous,yearly");
    assert_int_equal(sd_cache_count(fixture->cache, NULL), 2 * 2 * 2);

    //  Later runs ask only for the open period: one country report per
    //  property, which brings summary's totals too, and a second page of
    //  country for 1001 (5 rows).
    for (int run = 0; run < 2; run++) {
        reports = s_api.reports;
        int batches = s_api.batch_requests;
        assert_int_equal(s_run_cached_job(fixture, "2026-12-08"), 3);
        assert_int_equal(s_api.reports - reports, 2 + 1);
        assert_int_equal(s_api.batch_requests - batches, 0);
        s_expect_report_ranges(reports, "current");
    }
    zstr_free(&path);
}

static void test_job_cache_keeps_limited_periods(void **state)
{
    s_fixture *fixture = *state;
    char *path = zsys_sprintf("%s/cache.sqlite", fixture->dir);
    fixture->cache = sd_cache_open(path, 1 << 24);
    assert_true(sd_cache_usable(fixture->cache));

    //  one.example has one property, so country's limit of 3 cuts its 15
    //  rows. The cut periods are kept with the request they came from.
    int reports = s_api.reports;
    assert_int_equal(s_run_site_job(fixture, "one.example", NULL, 3), 1);
    s_expect_report_ranges(reports, "current,previous,yearly");
    assert_int_equal(s_run_site_job(fixture, "one.example", NULL, 3), 0);

    //  A new current period changes country's request, so its cut periods
    //  are requested again with it. summary's totals cover every row, so
    //  its closed periods stay cached whatever the other periods are, and
    //  it takes only the current period's totals from country's report.
    reports = s_api.reports;
    assert_int_equal(s_run_site_job(fixture, "one.example", "2026-12-08", 3), 1);
    assert_int_equal(s_api.reports - reports, 1);
    assert_string_equal(s_api.report_ranges[reports], "current,previous,yearly");

    //  Then only the open period is requested. s_run_site_job checks that
    //  the limit still cut country's current period to 3 rows.
    reports = s_api.reports;
    assert_int_equal(s_run_site_job(fixture, "one.example", "2026-12-08", 3), 1);
    s_expect_report_ranges(reports, "current");
    assert_int_equal(s_api.reports - reports, 1);
    zstr_free(&path);
}

static void test_job_corrupt_cache_bypassed(void **state)
{
    s_fixture *fixture = *state;
    char *path = zsys_sprintf("%s/corrupt.sqlite", fixture->dir);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    for (int i = 0; i < 512; i++)
        fputs("this is not an SQLite database. ", file);
    fclose(file);
    fixture->cache = sd_cache_open(path, 1 << 24);
    assert_non_null(fixture->cache);
    assert_false(sd_cache_usable(fixture->cache));
    int first = s_run_cached_job(fixture, NULL);
    assert_true(first > 0);
    assert_int_equal(s_run_cached_job(fixture, NULL), first);
    zstr_free(&path);
}

static void test_cache_prunes_oldest(void **state)
{
    s_fixture *fixture = *state;
    char *path = zsys_sprintf("%s/small.sqlite", fixture->dir);
    char value[1000];
    memset(value, 'x', sizeof value);
    char keys[5][SD_CACHE_KEY_SIZE];

    //  Each entry takes 64 + 1000 bytes, so 3 fit in 3500 and 2 are pruned.
    sd_cache *cache = sd_cache_open(path, 3500);
    assert_true(sd_cache_usable(cache));
    for (int i = 0; i < 5; i++) {
        char request[16];
        snprintf(request, sizeof request, "request %d", i);
        assert_int_equal(sd_cache_key("test", request, strlen(request), keys[i]), 0);
        assert_int_equal(sd_cache_put(cache, keys[i], value, sizeof value), 0);
        zclock_sleep(2);
    }
    int64_t bytes = 0;
    assert_int_equal(sd_cache_count(cache, &bytes), 3);
    assert_int_equal(bytes, 3 * (64 + 1000));
    for (int i = 0; i < 5; i++) {
        char *found = NULL;
        size_t size = 0;
        int hit = sd_cache_get(cache, keys[i], &found, &size);
        assert_int_equal(hit, i >= 2 ? 1 : 0);
        if (hit) {
            assert_int_equal(size, sizeof value);
            assert_memory_equal(found, value, sizeof value);
        }
        free(found);
    }

    //  A value larger than the whole cache is not stored.
    char big[4000];
    memset(big, 'y', sizeof big);
    assert_int_equal(sd_cache_put(cache, keys[0], big, sizeof big), -1);
    assert_int_equal(sd_cache_count(cache, NULL), 3);
    sd_cache_close(&cache);
    assert_null(cache);
    zstr_free(&path);
    (void)fixture;
}

static void test_cache_period_closed(void **state)
{
    (void)state;
    int64_t now_ms = 0;
    assert_int_equal(sd_time_parse("2026-12-10T00:00:00Z", &now_ms), 0);
    assert_true(sd_cache_period_closed("2026-11-30", now_ms));
    assert_true(sd_cache_period_closed("2026-12-05", now_ms));
    //  2026-12-06 ended at 2026-12-07T00:00, exactly 3 days before.
    assert_false(sd_cache_period_closed("2026-12-06", now_ms));
    assert_false(sd_cache_period_closed("2026-12-09", now_ms));
    assert_false(sd_cache_period_closed("not a date", now_ms));
}

static void test_retry_delay(void **state)
{
    (void)state;
    sd_retry_policy policy = {.max_tries = 5, .base_ms = 1000, .max_delay_ms = 60000};
    assert_int_equal(sd_retry_delay_ms(&policy, 2, 0, -1), 1000);
    assert_int_equal(sd_retry_delay_ms(&policy, 3, 0, -1), 2000);
    assert_int_equal(sd_retry_delay_ms(&policy, 5, 250, -1), 8250);
    //  A longer Retry-After replaces the backoff, and the cap still applies.
    assert_int_equal(sd_retry_delay_ms(&policy, 2, 10, 30000), 30000);
    assert_int_equal(sd_retry_delay_ms(&policy, 2, 10, 500), 1010);
    assert_int_equal(sd_retry_delay_ms(&policy, 2, 0, 900000), 60000);

    sd_http_response response = {.status = 429, .body = "", .content_type = "",
                                 .retry_after = ""};
    assert_true(sd_retry_transient(&response));
    response.status = 503;
    assert_true(sd_retry_transient(&response));
    response.status = 500;
    assert_true(sd_retry_transient(&response));
    response.status = 403;
    assert_false(sd_retry_transient(&response));
    response.status = 502;
    assert_false(sd_retry_transient(&response));
    response.status = 0;
    response.error = "Connection refused";
    assert_true(sd_retry_transient(&response));
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
        cmocka_unit_test_setup_teardown(test_job_retries_503, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_403_fails_at_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_spent_quota_stops_calls, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_job_metadata_becomes_warnings, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_job_cache_serves_closed_periods, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_job_cache_requests_open_periods, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_job_cache_keeps_limited_periods, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_job_corrupt_cache_bypassed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cache_prunes_oldest, s_setup, s_teardown),
        cmocka_unit_test(test_cache_period_closed),
        cmocka_unit_test(test_retry_delay),
    };
    //  Closed periods and fast retries: "now" is 2026-12-10 and the retry
    //  backoff starts at 10 ms instead of 1 s.
    setenv("STATSDASH_NOW", "2026-12-10T00:00:00Z", 1);
    setenv(SD_RETRY_BASE_ENV, "10", 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*  sim_ga4: GA4 Data API v1beta request handling.  */
#include "sim_ga4.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_log.h"
#include "sim_clock.h"
#include "sim_ga4_query.h"
#include "sim_ga4_report.h"

#define SIM_GA4_PREFIX "/v1beta/properties/"
#define SIM_GA4_BATCH_MAX 5

//  Quota limits of a standard GA4 property, per the Data API quota docs.
#define SIM_GA4_TOKENS_PER_DAY 200000
#define SIM_GA4_TOKENS_PER_HOUR 40000
#define SIM_GA4_TOKENS_PER_PROJECT_HOUR 14000

static const char *s_unauthenticated =
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.";
static const char *s_no_permission =
    "User does not have sufficient permissions for this property. To learn more about "
    "Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/"
    "property-id.";
static const char *const s_scopes[] = {
    "https://www.googleapis.com/auth/analytics.readonly",
    "https://www.googleapis.com/auth/analytics",
    NULL,
};

struct sim_ga4 {
    const sim_dataset *dataset;
    sim_oauth *oauth;
    pthread_mutex_t lock;           //  guards tokens_used
    int64_t *tokens_used;           //  quota tokens per property index
};

//  One request's place: which property and which method it names.
typedef struct {
    char property_id[32];
    int property;                   //  dataset index, -1 when unknown
    const char *method;             //  "runReport", "batchRunReports", ...
} s_target;

sim_ga4 *sim_ga4_new(const sim_dataset *dataset, sim_oauth *oauth)
{
    sim_ga4 *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dataset = dataset;
    self->oauth = oauth;
    self->tokens_used = calloc(sim_dataset_ga4_property_count(dataset) + 1,
                               sizeof *self->tokens_used);
    if (!self->tokens_used || pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self->tokens_used);
        free(self);
        return NULL;
    }
    return self;
}

void sim_ga4_destroy(sim_ga4 **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    free((*self_p)->tokens_used);
    free(*self_p);
    *self_p = NULL;
}

//  Charges one quota token and returns the propertyQuota object. The
//  simulator charges every report the same; the real API charges by cost.
static json_t *s_charge_quota(sim_ga4 *self, int property)
{
    pthread_mutex_lock(&self->lock);
    int64_t used = ++self->tokens_used[property];
    pthread_mutex_unlock(&self->lock);

    int64_t limits[] = {SIM_GA4_TOKENS_PER_DAY, SIM_GA4_TOKENS_PER_HOUR,
                        SIM_GA4_TOKENS_PER_PROJECT_HOUR};
    int64_t remaining[3];
    for (size_t i = 0; i < 3; i++)
        remaining[i] = limits[i] > used ? limits[i] - used : 0;
    return json_pack("{s:{s:i, s:I}, s:{s:i, s:I}, s:{s:i, s:i}, s:{s:i, s:i}, s:{s:i, s:i}, "
                     "s:{s:i, s:I}}",
                     "tokensPerDay", "consumed", 1, "remaining", (json_int_t)remaining[0],
                     "tokensPerHour", "consumed", 1, "remaining", (json_int_t)remaining[1],
                     "concurrentRequests", "consumed", 0, "remaining", 10,
                     "serverErrorsPerProjectPerHour", "consumed", 0, "remaining", 10,
                     "potentiallyThresholdedRequestsPerHour", "consumed", 0, "remaining", 120,
                     "tokensPerProjectPerHour", "consumed", 1, "remaining",
                     (json_int_t)remaining[2]);
}

static sim_ga4_cutoff s_cutoff(void)
{
    time_t now = sim_clock_data_now();
    sim_ga4_cutoff cutoff;
    cutoff.day = (int32_t)(now >= 0 ? now / 86400 : (now - 86399) / 86400);
    cutoff.hour = (int)((now - (time_t)cutoff.day * 86400) / 3600);
    return cutoff;
}

//  Runs one RunReportRequest. Returns the report, or NULL with the client's
//  message in error.
static json_t *s_run_one(sim_ga4 *self, int property, json_t *request, char *error,
                         size_t error_size)
{
    sim_ga4_cutoff cutoff = s_cutoff();
    sim_ga4_query query;
    json_t *report = NULL;
    if (sim_ga4_query_parse(request, sim_dataset_strings(self->dataset), cutoff.day, &query,
                            error, error_size) == 0) {
        report = sim_ga4_report_run(self->dataset, property, &query, cutoff);
        if (!report)
            snprintf(error, error_size, "Internal error encountered.");
        else if (query.return_property_quota)
            json_object_set_new(report, "propertyQuota", s_charge_quota(self, property));
        else
            json_decref(s_charge_quota(self, property));
    }
    sim_ga4_query_clear(&query);
    return report;
}

static void s_run_report(sim_ga4 *self, int property, json_t *body, sim_http_response *response)
{
    char error[1024];
    json_t *report = s_run_one(self, property, body, error, sizeof error);
    if (report)
        sim_http_respond_json(response, 200, report);
    else
        sim_http_respond_google_error(response, 400, error);
}

static void s_batch_run_reports(sim_ga4 *self, int property, json_t *body,
                                sim_http_response *response)
{
    json_t *requests = json_object_get(body, "requests");
    char error[1024];
    if (!json_is_object(body) || json_object_size(body) != 1 || !json_is_array(requests)
        || json_array_size(requests) == 0 || json_array_size(requests) > SIM_GA4_BATCH_MAX) {
        snprintf(error, sizeof error, "A batchRunReports body must be {\"requests\": [...]} with "
                 "1 to %d RunReportRequests.", SIM_GA4_BATCH_MAX);
        sim_http_respond_google_error(response, 400, error);
        return;
    }
    json_t *reports = json_array();
    size_t index;
    json_t *request;
    json_array_foreach(requests, index, request) {
        json_t *report = s_run_one(self, property, request, error, sizeof error);
        if (!report) {
            char message[1200];
            snprintf(message, sizeof message, "requests[%zu]: %s", index, error);
            sim_http_respond_google_error(response, 400, message);
            json_decref(reports);
            return;
        }
        json_array_append_new(reports, report);
    }
    sim_http_respond_json(response, 200, json_pack("{s:o, s:s}", "reports", reports, "kind",
                                                   "analyticsData#batchRunReports"));
}

//  Splits "/v1beta/properties/{id}:{method}". Returns 0, or -1 when the
//  path has no method or an id that is not digits.
static int s_parse_target(const sim_ga4 *self, const char *path, s_target *target)
{
    const char *rest = path + strlen(SIM_GA4_PREFIX);
    const char *colon = strchr(rest, ':');
    size_t length = colon ? (size_t)(colon - rest) : 0;
    if (!colon || length == 0 || length >= sizeof target->property_id
        || strspn(rest, "0123456789") != length)
        return -1;
    memcpy(target->property_id, rest, length);
    target->property_id[length] = '\0';
    target->property = sim_dataset_ga4_property(self->dataset, target->property_id);
    target->method = colon + 1;
    return 0;
}

//  Checks the bearer token. Returns true when the request may go on;
//  otherwise sets the 401 or 403 response.
static bool s_authorized(sim_ga4 *self, const sim_http_request *request,
                         sim_http_response *response)
{
    sim_auth_result auth =
        sim_oauth_check(self->oauth, sim_http_header(request, "Authorization"), s_scopes);
    if (auth == SIM_AUTH_INVALID)
        sim_http_respond_google_error(response, 401, s_unauthenticated);
    else if (auth == SIM_AUTH_SCOPE)
        sim_http_respond_google_error(response, 403,
                                      "Request had insufficient authentication scopes.");
    return auth == SIM_AUTH_OK;
}

static void s_handle(void *context, const sim_http_request *request, sim_http_response *response)
{
    sim_ga4 *self = context;
    s_target target;
    response->endpoint = "ga4";
    if (s_parse_target(self, request->path, &target) != 0) {
        sim_http_respond_google_error(response, 404, "Method not found.");
        return;
    }
    bool run = strcmp(target.method, "runReport") == 0;
    bool batch = strcmp(target.method, "batchRunReports") == 0;
    if (run)
        response->endpoint = "runReport";
    else if (batch)
        response->endpoint = "batchRunReports";
    response->group = "properties";
    snprintf(response->key, sizeof response->key, "%s", target.property_id);

    json_error_t json_error;
    json_t *body = NULL;
    if (!run && !batch) {
        sim_http_respond_google_error(response, 404, "Method not found.");
    } else if (!s_authorized(self, request, response)) {
        sd_info("ga4 request unauthorized property=%s status=%d", target.property_id,
                response->status);
    } else if (target.property < 0) {
        sim_http_respond_google_error(response, 403, s_no_permission);
    } else if (!(body = json_loadb(request->body, request->body_size, 0, &json_error))) {
        char message[300];
        snprintf(message, sizeof message, "Invalid JSON payload received. %s at line %d column %d.",
                 json_error.text, json_error.line, json_error.column);
        sim_http_respond_google_error(response, 400, message);
    } else if (run) {
        s_run_report(self, target.property, body, response);
    } else {
        s_batch_run_reports(self, target.property, body, response);
    }
    if (response->status == 400)
        sd_info("ga4 request rejected property=%s status=400", target.property_id);
    json_decref(body);
}

int sim_ga4_register(sim_ga4 *self, sim_server *server)
{
    return sim_server_route(server, "POST", SIM_GA4_PREFIX, SIM_ROUTE_DATA_API, s_handle, self);
}

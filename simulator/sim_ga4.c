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

//  Default quota limits of a standard GA4 property, in tokens, per the
//  Data API's quota documentation.
#define SIM_GA4_TOKENS_PER_DAY 200000
#define SIM_GA4_TOKENS_PER_HOUR 40000
#define SIM_GA4_TOKENS_PER_PROJECT_HOUR 14000
//  The simulator charges 1 token per report plus 1 per this many rows
//  returned.
#define SIM_GA4_ROWS_PER_TOKEN 10000
#define SIM_GA4_METADATA_RULES_MAX 16

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

//  Tokens a property used in the current day and hour of the data clock.
typedef struct {
    int64_t day;                    //  day number of day_used
    int64_t day_used;
    int64_t hour;                   //  hours since the epoch of hour_used
    int64_t hour_used;
} s_usage;

//  A --ga-metadata rule: a metadata field set on a property's reports.
typedef struct {
    sim_ga4_metadata field;
    char property[32];              //  "all" for every property
} s_metadata_rule;

struct sim_ga4 {
    const sim_dataset *dataset;
    sim_oauth *oauth;
    int64_t tokens_per_day;
    int64_t tokens_per_hour;
    pthread_mutex_t lock;           //  guards usage
    s_usage *usage;                 //  per property index
    s_metadata_rule metadata[SIM_GA4_METADATA_RULES_MAX];
    size_t metadata_count;
};

//  One request's place: which property and which method it names.
typedef struct {
    char property_id[32];
    int property;                   //  dataset index, -1 when unknown
    const char *method;             //  "runReport", "batchRunReports", ...
} s_target;

sim_ga4 *sim_ga4_new(const sim_dataset *dataset, sim_oauth *oauth, int64_t tokens_per_day,
                     int64_t tokens_per_hour)
{
    sim_ga4 *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dataset = dataset;
    self->oauth = oauth;
    self->tokens_per_day = tokens_per_day > 0 ? tokens_per_day : SIM_GA4_TOKENS_PER_DAY;
    self->tokens_per_hour = tokens_per_hour > 0 ? tokens_per_hour : SIM_GA4_TOKENS_PER_HOUR;
    self->usage = calloc(sim_dataset_ga4_property_count(dataset) + 1, sizeof *self->usage);
    if (!self->usage || pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self->usage);
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
    free((*self_p)->usage);
    free(*self_p);
    *self_p = NULL;
}

int sim_ga4_add_metadata(sim_ga4 *self, const char *rule, char *error, size_t error_size)
{
    static const char *const names[] = {"sampled", "thresholded", "other-row"};
    const char *colon = strchr(rule, ':');
    size_t length = colon ? (size_t)(colon - rule) : 0;
    const char *property = colon ? colon + 1 : "";
    int field = -1;
    for (int i = 0; i < 3 && colon; i++)
        if (strlen(names[i]) == length && strncmp(rule, names[i], length) == 0)
            field = i;
    bool valid_property = strcmp(property, "all") == 0 ||
                          (*property && strspn(property, "0123456789") == strlen(property) &&
                           strlen(property) < 32);
    if (field < 0 || !valid_property) {
        snprintf(error, error_size, "invalid --ga-metadata \"%s\": expected FIELD:PROPERTY with "
                 "FIELD sampled, thresholded or other-row and PROPERTY an id or \"all\"", rule);
        return -1;
    }
    if (self->metadata_count == SIM_GA4_METADATA_RULES_MAX) {
        snprintf(error, error_size, "too many --ga-metadata rules: at most %d",
                 SIM_GA4_METADATA_RULES_MAX);
        return -1;
    }
    s_metadata_rule *entry = &self->metadata[self->metadata_count++];
    entry->field = (sim_ga4_metadata)field;
    snprintf(entry->property, sizeof entry->property, "%s", property);
    return 0;
}

//  Moves a property's counters to the current day and hour of the data
//  clock. Called with the lock held.
static s_usage *s_usage_now(sim_ga4 *self, int property)
{
    time_t now = sim_clock_data_now();
    int64_t hour = now >= 0 ? now / 3600 : (now - 3599) / 3600;
    int64_t day = hour >= 0 ? hour / 24 : (hour - 23) / 24;
    s_usage *usage = &self->usage[property];
    if (usage->day != day) {
        usage->day = day;
        usage->day_used = 0;
    }
    if (usage->hour != hour) {
        usage->hour = hour;
        usage->hour_used = 0;
    }
    return usage;
}

bool sim_ga4_quota_exhausted(sim_ga4 *self, int property, const char *property_id, char *message,
                             size_t size)
{
    pthread_mutex_lock(&self->lock);
    s_usage *usage = s_usage_now(self, property);
    bool day = usage->day_used >= self->tokens_per_day;
    bool hour = !day && usage->hour_used >= self->tokens_per_hour;
    pthread_mutex_unlock(&self->lock);
    if (day)
        snprintf(message, size, "Exhausted property tokens per day quota (tokensPerDay, %lld "
                 "tokens) for property %s. The quota resets at midnight in the property's time "
                 "zone.", (long long)self->tokens_per_day, property_id);
    else if (hour)
        snprintf(message, size, "Exhausted property tokens per hour quota (tokensPerHour, %lld "
                 "tokens) for property %s. These tokens return within the hour.",
                 (long long)self->tokens_per_hour, property_id);
    return day || hour;
}

//  Charges one report and returns the propertyQuota object. The real API
//  charges by the request's complexity (date span, dimensions, filters);
//  the simulator charges 1 token plus 1 per SIM_GA4_ROWS_PER_TOKEN rows
//  returned, so that tests can predict and exhaust the quota.
static json_t *s_charge_quota(sim_ga4 *self, int property, size_t rows)
{
    int64_t cost = 1 + (int64_t)(rows / SIM_GA4_ROWS_PER_TOKEN);
    pthread_mutex_lock(&self->lock);
    s_usage *usage = s_usage_now(self, property);
    usage->day_used += cost;
    usage->hour_used += cost;
    int64_t day_left = self->tokens_per_day - usage->day_used;
    int64_t hour_left = self->tokens_per_hour - usage->hour_used;
    int64_t project_left = SIM_GA4_TOKENS_PER_PROJECT_HOUR - usage->hour_used;
    pthread_mutex_unlock(&self->lock);

    return json_pack("{s:{s:I, s:I}, s:{s:I, s:I}, s:{s:i, s:i}, s:{s:i, s:i}, s:{s:i, s:i}, "
                     "s:{s:I, s:I}}",
                     "tokensPerDay", "consumed", (json_int_t)cost, "remaining",
                     (json_int_t)(day_left > 0 ? day_left : 0),
                     "tokensPerHour", "consumed", (json_int_t)cost, "remaining",
                     (json_int_t)(hour_left > 0 ? hour_left : 0),
                     "concurrentRequests", "consumed", 0, "remaining", 10,
                     "serverErrorsPerProjectPerHour", "consumed", 0, "remaining", 10,
                     "potentiallyThresholdedRequestsPerHour", "consumed", 0, "remaining", 120,
                     "tokensPerProjectPerHour", "consumed", (json_int_t)cost, "remaining",
                     (json_int_t)(project_left > 0 ? project_left : 0));
}

//  Sets the metadata fields that --ga-metadata rules ask for on a report.
static void s_add_metadata(const sim_ga4 *self, const char *property_id, const sim_ga4_query *query,
                           json_t *report)
{
    json_t *metadata = json_object_get(report, "metadata");
    for (size_t i = 0; i < self->metadata_count && metadata; i++) {
        const s_metadata_rule *rule = &self->metadata[i];
        if (strcmp(rule->property, "all") != 0 && strcmp(rule->property, property_id) != 0)
            continue;
        if (rule->field == SIM_GA4_METADATA_THRESHOLDED)
            json_object_set_new(metadata, "subjectToThresholding", json_true());
        else if (rule->field == SIM_GA4_METADATA_OTHER_ROW)
            json_object_set_new(metadata, "dataLossFromOtherRow", json_true());
        else {
            //  One entry per date range, as GA4 sends: events read and in the space.
            json_t *list = json_array();
            for (size_t r = 0; r < query->range_count; r++)
                json_array_append_new(list, json_pack("{s:s, s:s}", "samplesReadCount",
                                                      "500000", "samplingSpaceSize",
                                                      "10000000"));
            json_object_set_new(metadata, "samplingMetadatas", list);
        }
    }
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
static json_t *s_run_one(sim_ga4 *self, int property, const char *property_id, json_t *request,
                         char *error, size_t error_size)
{
    sim_ga4_cutoff cutoff = s_cutoff();
    sim_ga4_query query;
    json_t *report = NULL;
    if (sim_ga4_query_parse(request, sim_dataset_strings(self->dataset), cutoff.day, &query,
                            error, error_size) == 0) {
        report = sim_ga4_report_run(self->dataset, property, &query, cutoff);
        if (!report) {
            snprintf(error, error_size, "Internal error encountered.");
            sim_ga4_query_clear(&query);
            return NULL;
        }
        s_add_metadata(self, property_id, &query, report);
        json_t *quota = s_charge_quota(self, property,
                                       json_array_size(json_object_get(report, "rows")));
        if (query.return_property_quota)
            json_object_set_new(report, "propertyQuota", quota);
        else
            json_decref(quota);
    }
    sim_ga4_query_clear(&query);
    return report;
}

static void s_run_report(sim_ga4 *self, const s_target *target, json_t *body,
                         sim_http_response *response)
{
    char error[1024];
    json_t *report = s_run_one(self, target->property, target->property_id, body, error,
                               sizeof error);
    if (report)
        sim_http_respond_json(response, 200, report);
    else
        sim_http_respond_google_error(response, 400, error);
}

static void s_batch_run_reports(sim_ga4 *self, const s_target *target, json_t *body,
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
        json_t *report = s_run_one(self, target->property, target->property_id, request, error,
                                   sizeof error);
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
    char message[512];
    if (!run && !batch) {
        sim_http_respond_google_error(response, 404, "Method not found.");
    } else if (!s_authorized(self, request, response)) {
        sd_info("ga4 request unauthorized property=%s status=%d", target.property_id,
                response->status);
    } else if (target.property < 0) {
        sim_http_respond_google_error(response, 403, s_no_permission);
    } else if (!(body = json_loadb(request->body, request->body_size, 0, &json_error))) {
        snprintf(message, sizeof message, "Invalid JSON payload received. %s at line %d column %d.",
                 json_error.text, json_error.line, json_error.column);
        sim_http_respond_google_error(response, 400, message);
    } else if (sim_ga4_quota_exhausted(self, target.property, target.property_id, message,
                                       sizeof message)) {
        sim_http_respond_google_error(response, 429, message);
        sd_info("ga4 quota exhausted property=%s", target.property_id);
    } else if (run) {
        s_run_report(self, &target, body, response);
    } else {
        s_batch_run_reports(self, &target, body, response);
    }
    if (response->status == 400)
        sd_info("ga4 request rejected property=%s status=400", target.property_id);
    json_decref(body);
}

int sim_ga4_register(sim_ga4 *self, sim_server *server)
{
    return sim_server_route(server, "POST", SIM_GA4_PREFIX, SIM_ROUTE_DATA_API, s_handle, self);
}

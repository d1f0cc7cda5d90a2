/*  fuzz_ga_merge: the GA worker's derivation of each query group's report
    from one merged runReport response (sd_ga_feed_report).

    The first input byte picks the case: one to three dateRanges (byte % 3),
    one of six sets of query groups (byte / 3 % 6) that sd_ga_plan_requests
    turns into requests, the dateRanges no feed needs (byte / 18 % 8, bit i
    for range i) and whether the body is the first page (byte < 144). The
    groups are a country query with a totals query sharing its request, and
    traffic source queries with an inList blacklist, an EXACT "Organic
    Social" filter and an orGroup of ENDS_WITH and case-sensitive CONTAINS.
    The rest is the response body, read with jansson as the worker reads it.

    Every request whose page sd_ga_page_parse_json accepts (the worker's
    precondition) goes through sd_ga_feed_report for each of its feeds, and
    each derived report through sd_ga_page_parse_json with the group's
    query. Checks:
    - a rows feed always gives a report that parses. Its rows are, in
      order, the response rows of a needed range that pass the group's
      filter and have a non-zero metric. The harness evaluates the filter
      with its own code. Each row keeps the range and metric values of its
      response row, with the group's dimensions ("SOURCE / MEDIUM" for
      sessionSourceMedium);
    - a totals feed fails when the first page has rows but no "totals",
      and may fail on invalid totals rows. Its derived report has at most one row per totals row, none
      after the first page, and only needed ranges;
    - every failure has an error text, and none is an out-of-memory text,
      because under the fuzzer an allocation failure aborts instead.
*/
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_util.h"
#include "sd_ga_merge.h"
#include "sd_ga_response.h"

#define S_QUERY_COUNT 6
#define S_RANGE_MAX 3

typedef enum { S_FILTER_NONE, S_FILTER_BLACKLIST, S_FILTER_SOCIAL, S_FILTER_ORGANIC_OR_MAIL } s_filter;

static char *s_country[] = {"country"};
static char *s_source[] = {"sessionSource"};
static char *s_medium[] = {"sessionMedium"};
static char *s_channel[] = {"sessionDefaultChannelGroup"};
static char *s_source_medium[] = {"sessionSourceMedium"};
static char *s_country_metrics[] = {"sessions", "totalUsers"};
static char *s_totals_metrics[] = {"sessions", "screenPageViews"};
static char *s_source_metrics[] = {"sessions"};
static char *s_channel_metrics[] = {"engagedSessions", "sessions"};
static char *s_source_medium_metrics[] = {"screenPageViews", "sessions"};
static char *s_medium_metrics[] = {"userEngagementDuration", "sessions"};

static const char s_blacklist[] =
    "{\"dimensionFilter\":{\"notExpression\":{\"filter\":{\"fieldName\":\"sessionSource\","
    "\"inListFilter\":{\"values\":[\"(direct)\",\"spam.example\"]}}}}}";
static const char s_social[] =
    "{\"dimensionFilter\":{\"filter\":{\"fieldName\":\"sessionDefaultChannelGroup\","
    "\"stringFilter\":{\"matchType\":\"EXACT\",\"value\":\"Organic Social\"}}}}";
static const char s_organic_or_mail[] =
    "{\"dimensionFilter\":{\"orGroup\":{\"expressions\":["
    "{\"filter\":{\"fieldName\":\"sessionSourceMedium\",\"stringFilter\":"
    "{\"matchType\":\"ENDS_WITH\",\"value\":\"/ organic\"}}},"
    "{\"filter\":{\"fieldName\":\"sessionMedium\",\"stringFilter\":"
    "{\"matchType\":\"CONTAINS\",\"value\":\"mail\",\"caseSensitive\":true}}}]}}}";

static sd_period s_periods[] = {
    {"current", "2026-11-01", "2026-11-30"},
    {"previous", "2026-10-01", "2026-10-31"},
    {"yearly", "2025-11-01", "2025-11-30"},
};

//  The query groups; s_filters[i] is the filter of s_queries[i].
static sd_query s_queries[S_QUERY_COUNT] = {
    {.id = "country", .metrics = {s_country_metrics, 2}, .dimensions = {s_country, 1}},
    {.id = "totals", .metrics = {s_totals_metrics, 2}},
    {.id = "source", .metrics = {s_source_metrics, 1}, .dimensions = {s_source, 1}},
    {.id = "channel", .metrics = {s_channel_metrics, 2}, .dimensions = {s_channel, 1}},
    {.id = "source_medium", .metrics = {s_source_medium_metrics, 2},
     .dimensions = {s_source_medium, 1}},
    {.id = "medium", .metrics = {s_medium_metrics, 2}, .dimensions = {s_medium, 1}},
};
static const char *s_params[S_QUERY_COUNT] = {"{}", "{}", s_blacklist, s_social, "{}",
                                              s_organic_or_mail};
static const s_filter s_filters[S_QUERY_COUNT] = {S_FILTER_NONE,      S_FILTER_NONE,
                                                  S_FILTER_BLACKLIST, S_FILTER_SOCIAL,
                                                  S_FILTER_NONE,      S_FILTER_ORGANIC_OR_MAIL};

//  Sets of groups (indexes into s_queries, -1 ends a set).
static const int s_sets[6][S_QUERY_COUNT + 1] = {
    {0, 1, -1},                     //  totals sharing the country request
    {2, 3, 4, 5, -1},               //  one merged traffic request
    {2, 3, 1, -1},                  //  totals sharing a merged traffic request
    {4, 5, 0, 1, -1},               //  traffic, country and totals
    {3, 1, -1},                     //  one filtered traffic query alone
    {0, 1, 2, 3, 4, 5, -1},
};

typedef struct {
    sd_query queries[S_QUERY_COUNT];
    sd_ga_group groups[S_QUERY_COUNT];
    const sd_query *members[S_QUERY_COUNT];
    int spec[S_QUERY_COUNT];        //  per group: index into s_queries
    size_t group_count;
    size_t range_count;
    bool needed[S_RANGE_MAX];
    bool first_page;
    sd_ga_request *requests;
    size_t request_count;
} s_case;

static void s_case_init(s_case *c, uint8_t shape)
{
    memset(c, 0, sizeof *c);
    c->range_count = 1 + shape % 3;
    for (size_t i = 0; i < S_RANGE_MAX; i++)
        c->needed[i] = ((shape / 18 % 8) & (1u << i)) == 0;
    c->first_page = shape < 144;
    const int *set = s_sets[shape / 3 % 6];
    bool valid[S_QUERY_COUNT];
    for (size_t g = 0; set[g] >= 0; g++) {
        c->spec[g] = set[g];
        c->queries[g] = s_queries[set[g]];
        c->queries[g].table_id = c->queries[g].id;
        c->queries[g].api = SD_GA_API_RUN_REPORT;
        c->queries[g].params_json = (char *)s_params[set[g]];
        c->queries[g].periods = s_periods;
        c->queries[g].period_count = c->range_count;
        c->members[g] = &c->queries[g];
        c->groups[g] = (sd_ga_group){&c->queries[g], &c->members[g], 1};
        valid[g] = true;
        c->group_count++;
    }
    if (sd_ga_plan_requests(c->groups, c->group_count, valid, &c->requests, &c->request_count) !=
        0)
        fuzz_fail("planning the requests failed");
}

static size_t s_index(const sd_strings *strings, const char *name)
{
    for (size_t i = 0; i < strings->count; i++) {
        if (strcmp(strings->items[i], name) == 0)
            return i;
    }
    return SIZE_MAX;
}

//  Returns the value of dimension name in row r of the request's page, as
//  a new string. A request without sessionSourceMedium gives it as its two
//  parts joined by " / ".
static char *s_dimension_text(const sd_ga_request *request, const sd_ga_page *page, size_t r,
                              const char *name)
{
    const sd_strings *dimensions = &request->query.dimensions;
    size_t i = s_index(dimensions, name);
    char **row = &page->dimension_values[r * page->dimension_count];
    if (i != SIZE_MAX)
        return strdup(row[i]);
    size_t source = s_index(dimensions, "sessionSource");
    size_t medium = s_index(dimensions, "sessionMedium");
    if (strcmp(name, "sessionSourceMedium") != 0 || source == SIZE_MAX || medium == SIZE_MAX)
        fuzz_fail("request lacks dimension %s", name);
    size_t size = strlen(row[source]) + strlen(row[medium]) + 4;
    char *text = malloc(size);
    if (!text)
        fuzz_fail("out of memory");
    snprintf(text, size, "%s / %s", row[source], row[medium]);
    return text;
}

static bool s_ends_with_ascii_case(const char *text, const char *suffix)
{
    size_t length = strlen(text);
    size_t suffix_length = strlen(suffix);
    return length >= suffix_length && strcasecmp(text + length - suffix_length, suffix) == 0;
}

//  Returns true when row r passes the filter, as GA4 defines it: text
//  filters ignore ASCII case unless caseSensitive is true.
static bool s_row_passes(s_filter filter, const sd_ga_request *request, const sd_ga_page *page,
                         size_t r)
{
    char *text = NULL;
    bool passes = true;
    switch (filter) {
    case S_FILTER_NONE:
        break;
    case S_FILTER_BLACKLIST:
        text = s_dimension_text(request, page, r, "sessionSource");
        passes = strcasecmp(text, "(direct)") != 0 && strcasecmp(text, "spam.example") != 0;
        break;
    case S_FILTER_SOCIAL:
        text = s_dimension_text(request, page, r, "sessionDefaultChannelGroup");
        passes = strcasecmp(text, "Organic Social") == 0;
        break;
    case S_FILTER_ORGANIC_OR_MAIL:
        text = s_dimension_text(request, page, r, "sessionSourceMedium");
        passes = s_ends_with_ascii_case(text, "/ organic");
        free(text);
        text = s_dimension_text(request, page, r, "sessionMedium");
        passes = passes || strstr(text, "mail") != NULL;
        break;
    }
    free(text);
    return passes;
}

static const sd_value *s_metric(const sd_ga_request *request, const sd_ga_page *page, size_t r,
                                const char *name)
{
    size_t m = s_index(&request->query.metrics, name);
    if (m == SIZE_MAX)
        fuzz_fail("request lacks metric %s", name);
    return &page->metric_values[r * page->metric_count + m];
}

static bool s_value_zero(const sd_value *value)
{
    return value->kind == SD_VALUE_INT ? value->as.i == 0 : value->as.f == 0.0;
}

static bool s_metrics_zero(const sd_query *query, const sd_ga_request *request,
                           const sd_ga_page *page, size_t r)
{
    for (size_t m = 0; m < query->metrics.count; m++) {
        if (!s_value_zero(s_metric(request, page, r, query->metrics.items[m])))
            return false;
    }
    return true;
}

static void s_compare_row(const sd_query *query, const sd_ga_request *request,
                          const sd_ga_page *source, size_t r, const sd_ga_page *derived, size_t k)
{
    if (derived->periods[k] != source->periods[r])
        fuzz_fail("derived row %zu has range %zu, response row %zu range %zu", k,
                  derived->periods[k], r, source->periods[r]);
    for (size_t d = 0; d < query->dimensions.count; d++) {
        char *expected = s_dimension_text(request, source, r, query->dimensions.items[d]);
        const char *actual = derived->dimension_values[k * derived->dimension_count + d];
        if (strcmp(expected, actual) != 0)
            fuzz_fail("derived row %zu %s is \"%.80s\", expected \"%.80s\"", k,
                      query->dimensions.items[d], actual, expected);
        free(expected);
    }
    for (size_t m = 0; m < query->metrics.count; m++) {
        const sd_value *expected = s_metric(request, source, r, query->metrics.items[m]);
        const sd_value *actual = &derived->metric_values[k * derived->metric_count + m];
        bool equal = expected->kind == actual->kind &&
                     (expected->kind == SD_VALUE_INT ? expected->as.i == actual->as.i
                                                     : expected->as.f == actual->as.f);
        if (!equal)
            fuzz_fail("derived row %zu metric %s differs from response row %zu", k,
                      query->metrics.items[m], r);
    }
}

static bool s_all_needed(const s_case *c)
{
    for (size_t i = 0; i < c->range_count; i++) {
        if (!c->needed[i])
            return false;
    }
    return true;
}

//  Compares a rows feed's derived page with the rows worked out here from
//  the request's page.
static void s_check_rows(const s_case *c, const sd_ga_request *request, const sd_ga_feed *feed,
                         const sd_ga_page *source, const sd_ga_page *derived)
{
    const sd_query *query = c->groups[feed->group].query;
    //  A group on its own request had its filter applied by the API.
    s_filter filter = feed->filter ? s_filters[c->spec[feed->group]] : S_FILTER_NONE;
    //  A direct feed gets the response itself, all-zero rows included.
    bool keep_zero = feed->direct && s_all_needed(c);
    size_t k = 0;
    for (size_t r = 0; r < source->rows; r++) {
        if (!c->needed[source->periods[r]] || !s_row_passes(filter, request, source, r))
            continue;
        if (!keep_zero && s_metrics_zero(query, request, source, r))
            continue;
        if (k >= derived->rows)
            fuzz_fail("query %s: derived report has %zu rows, expected more", query->id,
                      derived->rows);
        s_compare_row(query, request, source, r, derived, k);
        k++;
    }
    if (k != derived->rows)
        fuzz_fail("query %s: derived report has %zu rows, expected %zu", query->id,
                  derived->rows, k);
}

static void s_check_totals(const s_case *c, json_t *report, const sd_ga_page *derived)
{
    size_t totals = json_array_size(json_object_get(report, "totals"));
    if (derived->rows > totals || (!c->first_page && derived->rows > 0))
        fuzz_fail("totals feed has %zu rows from %zu totals rows (first page: %d)", derived->rows,
                  totals, (int)c->first_page);
    for (size_t k = 0; k < derived->rows; k++) {
        if (!c->needed[derived->periods[k]])
            fuzz_fail("totals row %zu has range %zu, which is not needed", k, derived->periods[k]);
    }
}

static void s_check_error(const char *what, const char *error)
{
    if (error[0] == '\0')
        fuzz_fail("%s failed without an error text", what);
    //  Allocation failure texts start with "out of memory", while other
    //  texts may quote input that contains those words.
    if (strncmp(error, "out of memory", strlen("out of memory")) == 0)
        fuzz_fail("%s failed with \"%s\", but no allocation failed", what, error);
}

static void s_check_feed(const s_case *c, const sd_ga_request *request, const sd_ga_feed *feed,
                         json_t *report, const sd_ga_page *source)
{
    const sd_query *query = c->groups[feed->group].query;
    bool totals = feed->kind == SD_GA_FEED_TOTALS;
    char error[256] = "";
    json_t *derived = sd_ga_feed_report(request, feed, query, report, s_periods, c->needed,
                                        c->range_count, c->first_page, error, sizeof error);
    bool must_fail = totals && c->first_page && !json_object_get(report, "totals") &&
                     json_array_size(json_object_get(report, "rows")) > 0;
    if (!derived) {
        s_check_error("sd_ga_feed_report", error);
        if (!totals)
            fuzz_fail("query %s: sd_ga_feed_report failed: %s", query->id, error);
        return;
    }
    if (must_fail)
        fuzz_fail("query %s: report without totals was accepted", query->id);

    sd_ga_expect expect = {&query->dimensions, &query->metrics, s_periods, c->range_count};
    sd_ga_page page;
    error[0] = '\0';
    if (sd_ga_page_parse_json(derived, &expect, &page, error, sizeof error) == 0) {
        if (page.dimension_count != query->dimensions.count ||
            page.metric_count != query->metrics.count)
            fuzz_fail("query %s: derived page has %zu dimensions and %zu metrics", query->id,
                      page.dimension_count, page.metric_count);
        for (size_t k = 0; k < page.rows; k++) {
            if (page.periods[k] >= c->range_count)
                fuzz_fail("derived row %zu has range %zu of %zu", k, page.periods[k],
                          c->range_count);
        }
        if (totals)
            s_check_totals(c, report, &page);
        else
            s_check_rows(c, request, feed, source, &page);
    } else {
        s_check_error("parsing a derived report", error);
        if (!totals)
            fuzz_fail("query %s: derived report of accepted rows is invalid: %s", query->id,
                      error);
    }
    sd_ga_page_clear(&page);
    json_decref(derived);
}

static void s_check_request(const s_case *c, const sd_ga_request *request, json_t *report)
{
    sd_ga_expect expect = {&request->query.dimensions, &request->query.metrics, s_periods,
                           c->range_count};
    sd_ga_page page;
    char error[256] = "";
    //  The worker derives feeds only from a page it accepted for the request.
    if (sd_ga_page_parse_json(report, &expect, &page, error, sizeof error) == 0) {
        for (size_t f = 0; f < request->feed_count; f++)
            s_check_feed(c, request, &request->feeds[f], report, &page);
    }
    sd_ga_page_clear(&page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    s_case c;
    s_case_init(&c, data[0]);
    json_t *report = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
    for (size_t r = 0; json_is_object(report) && r < c.request_count; r++)
        s_check_request(&c, &c.requests[r], report);
    json_decref(report);
    sd_ga_requests_free(&c.requests, c.request_count);
    return 0;
}

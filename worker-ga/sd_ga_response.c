/*  sd_ga_response: GA4 runReport response pages and error bodies.  */
#include "sd_ga_response.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  How a metric type's values are read.
typedef struct {
    const char *type;
    bool integer;
    bool seconds;
    double scale;                   //  multiplies the value to get seconds
} s_metric_type;

static const s_metric_type s_metric_types[] = {
    {"TYPE_INTEGER", true, false, 1},     {"TYPE_FLOAT", false, false, 1},
    {"TYPE_SECONDS", false, true, 1},     {"TYPE_MILLISECONDS", false, true, 0.001},
    {"TYPE_MINUTES", false, true, 60},    {"TYPE_HOURS", false, true, 3600},
    {"TYPE_STANDARD", false, false, 1},   {"TYPE_CURRENCY", false, false, 1},
    {"TYPE_FEET", false, false, 1},       {"TYPE_MILES", false, false, 1},
    {"TYPE_METERS", false, false, 1},     {"TYPE_KILOMETERS", false, false, 1},
};

static const s_metric_type *s_find_metric_type(const char *type)
{
    for (size_t i = 0; type && i < sizeof s_metric_types / sizeof s_metric_types[0]; i++) {
        if (strcmp(s_metric_types[i].type, type) == 0)
            return &s_metric_types[i];
    }
    return NULL;
}

//  Parses a whole string as a 64-bit integer ("-12", "340"). Returns 0 or -1.
static int s_parse_integer(const char *text, int64_t *value)
{
    if (!*text || (*text != '-' && (*text < '0' || *text > '9')))
        return -1;
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *value = parsed;
    return 0;
}

//  Parses a whole string as a finite double ("12.5", "1e3"). Returns 0 or -1.
static int s_parse_double(const char *text, double *value)
{
    if (!*text || (*text != '-' && *text != '.' && (*text < '0' || *text > '9')))
        return -1;
    char *end = NULL;
    errno = 0;
    double parsed = strtod(text, &end);
    if (errno != 0 || *end != '\0' || !isfinite(parsed))
        return -1;
    *value = parsed;
    return 0;
}

//  -------------------------------------------------------------------------
//  Headers

static int s_check_dimension_headers(json_t *root, const sd_ga_expect *expect, char *error,
                                     size_t error_size)
{
    json_t *headers = json_object_get(root, "dimensionHeaders");
    bool tagged = expect->period_count > 1;
    size_t expected = expect->dimensions->count + (tagged ? 1 : 0);
    size_t count = json_is_array(headers) ? json_array_size(headers) : 0;
    if ((headers && !json_is_array(headers)) || count != expected) {
        snprintf(error, error_size, "dimensionHeaders has %zu entries, expected %zu%s", count,
                 expected, tagged ? " (the dimensions, then dateRange)" : "");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const char *name = json_string_value(json_object_get(json_array_get(headers, i), "name"));
        const char *want = i < expect->dimensions->count ? expect->dimensions->items[i]
                                                          : "dateRange";
        if (!name || strcmp(name, want) != 0) {
            snprintf(error, error_size, "dimensionHeaders[%zu] is \"%.64s\", expected \"%s\"", i,
                     name ? name : "(missing)", want);
            return -1;
        }
    }
    return 0;
}

static int s_read_metric_headers(json_t *root, const sd_ga_expect *expect, sd_ga_page *page,
                                 double *scales, char *error, size_t error_size)
{
    json_t *headers = json_object_get(root, "metricHeaders");
    size_t count = json_is_array(headers) ? json_array_size(headers) : 0;
    if (count != expect->metrics->count) {
        snprintf(error, error_size, "metricHeaders has %zu entries, expected %zu", count,
                 expect->metrics->count);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *header = json_array_get(headers, i);
        const char *name = json_string_value(json_object_get(header, "name"));
        const char *type = json_string_value(json_object_get(header, "type"));
        const s_metric_type *kind = s_find_metric_type(type);
        if (!name || strcmp(name, expect->metrics->items[i]) != 0) {
            snprintf(error, error_size, "metricHeaders[%zu] is \"%.64s\", expected \"%s\"", i,
                     name ? name : "(missing)", expect->metrics->items[i]);
            return -1;
        }
        if (!kind) {
            snprintf(error, error_size, "metric %s has unknown type \"%.64s\"", name,
                     type ? type : "(missing)");
            return -1;
        }
        page->metric_integer[i] = kind->integer;
        page->metric_seconds[i] = kind->seconds;
        scales[i] = kind->scale;
    }
    return 0;
}

//  -------------------------------------------------------------------------
//  Rows

static int s_read_period(json_t *value, const sd_ga_expect *expect, size_t row, size_t *period,
                         char *error, size_t error_size)
{
    const char *name = json_string_value(value);
    for (size_t i = 0; name && i < expect->period_count; i++) {
        if (strcmp(expect->periods[i].label, name) == 0) {
            *period = i;
            return 0;
        }
    }
    snprintf(error, error_size, "row %zu: dateRange \"%.64s\" is not one of the request's", row,
             name ? name : "(missing)");
    return -1;
}

static int s_read_dimensions(json_t *row_json, const sd_ga_expect *expect, sd_ga_page *page,
                             size_t row, char *error, size_t error_size)
{
    json_t *values = json_object_get(row_json, "dimensionValues");
    size_t expected = page->dimension_count + (expect->period_count > 1 ? 1 : 0);
    size_t count = json_is_array(values) ? json_array_size(values) : 0;
    if ((values && !json_is_array(values)) || count != expected) {
        snprintf(error, error_size, "row %zu has %zu dimension values, expected %zu", row, count,
                 expected);
        return -1;
    }
    for (size_t i = 0; i < page->dimension_count; i++) {
        json_t *value = json_object_get(json_array_get(values, i), "value");
        if (!json_is_string(value)) {
            snprintf(error, error_size, "row %zu: dimension %s has no string value", row,
                     expect->dimensions->items[i]);
            return -1;
        }
        char **cell = &page->dimension_values[row * page->dimension_count + i];
        *cell = strdup(json_string_value(value));
        if (!*cell) {
            snprintf(error, error_size, "out of memory");
            return -1;
        }
    }
    page->periods[row] = 0;
    if (expect->period_count < 2)
        return 0;
    json_t *tag = json_object_get(json_array_get(values, page->dimension_count), "value");
    return s_read_period(tag, expect, row, &page->periods[row], error, error_size);
}

static int s_read_metrics(json_t *row_json, const sd_ga_expect *expect, sd_ga_page *page,
                          const double *scales, size_t row, char *error, size_t error_size)
{
    json_t *values = json_object_get(row_json, "metricValues");
    size_t count = json_is_array(values) ? json_array_size(values) : 0;
    if (count != page->metric_count) {
        snprintf(error, error_size, "row %zu has %zu metric values, expected %zu", row, count,
                 page->metric_count);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *value = json_object_get(json_array_get(values, i), "value");
        const char *text = json_string_value(value);
        sd_value *cell = &page->metric_values[row * page->metric_count + i];
        int rc = -1;
        if (text && page->metric_integer[i]) {
            cell->kind = SD_VALUE_INT;
            rc = s_parse_integer(text, &cell->as.i);
        }
        else if (text) {
            cell->kind = SD_VALUE_FLOAT;
            rc = s_parse_double(text, &cell->as.f);
            cell->as.f *= scales[i];
        }
        if (rc != 0) {
            snprintf(error, error_size, "row %zu: metric %s value %s%.40s%s is not %s", row,
                     expect->metrics->items[i], text ? "\"" : "", text ? text : "(not a string)",
                     text ? "\"" : "", page->metric_integer[i] ? "an integer" : "a decimal number");
            return -1;
        }
    }
    return 0;
}

static int s_read_rows(json_t *root, const sd_ga_expect *expect, sd_ga_page *page,
                       const double *scales, char *error, size_t error_size)
{
    json_t *rows = json_object_get(root, "rows");
    if (rows && !json_is_array(rows)) {
        snprintf(error, error_size, "rows is not an array");
        return -1;
    }
    page->rows = json_array_size(rows);
    size_t cells = page->rows ? page->rows : 1;
    page->dimension_values = calloc(cells * (page->dimension_count + 1), sizeof(char *));
    page->periods = calloc(cells, sizeof *page->periods);
    page->metric_values = calloc(cells * page->metric_count, sizeof *page->metric_values);
    if (!page->dimension_values || !page->periods || !page->metric_values) {
        snprintf(error, error_size, "out of memory for %zu rows", page->rows);
        return -1;
    }
    for (size_t row = 0; row < page->rows; row++) {
        json_t *row_json = json_array_get(rows, row);
        if (s_read_dimensions(row_json, expect, page, row, error, error_size) != 0 ||
            s_read_metrics(row_json, expect, page, scales, row, error, error_size) != 0)
            return -1;
    }
    return 0;
}

//  -------------------------------------------------------------------------
//  Page

static int s_read_row_count(json_t *root, sd_ga_page *page, char *error, size_t error_size)
{
    json_t *value = json_object_get(root, "rowCount");
    int64_t count = (int64_t)page->rows;
    if (json_is_integer(value))
        count = json_integer_value(value);
    else if (json_is_string(value) && s_parse_integer(json_string_value(value), &count) != 0)
        count = -1;
    else if (value && !json_is_string(value))
        count = -1;
    if (count < (int64_t)page->rows) {
        snprintf(error, error_size, "rowCount is not an integer of at least the %zu rows given",
                 page->rows);
        return -1;
    }
    page->row_count = count;
    return 0;
}

static int s_read_warnings(json_t *root, sd_ga_page *page)
{
    json_t *metadata = json_object_get(root, "metadata");
    int rc = 0;
    if (json_array_size(json_object_get(metadata, "samplingMetadatas")) > 0)
        rc |= sd_strings_push(&page->warnings, SD_GA_WARNING_SAMPLED);
    if (json_is_true(json_object_get(metadata, "subjectToThresholding")))
        rc |= sd_strings_push(&page->warnings, SD_GA_WARNING_THRESHOLDED);
    if (json_is_true(json_object_get(metadata, "dataLossFromOtherRow")))
        rc |= sd_strings_push(&page->warnings, SD_GA_WARNING_OTHER_ROW);
    return rc == 0 ? 0 : -1;
}

static int s_allocate_headers(sd_ga_page *page, const sd_ga_expect *expect)
{
    page->dimension_count = expect->dimensions->count;
    page->metric_count = expect->metrics->count;
    page->metric_integer = calloc(page->metric_count + 1, sizeof *page->metric_integer);
    page->metric_seconds = calloc(page->metric_count + 1, sizeof *page->metric_seconds);
    return page->metric_integer && page->metric_seconds ? 0 : -1;
}

int sd_ga_page_parse_json(json_t *root, const sd_ga_expect *expect, sd_ga_page *page,
                          char *error, size_t error_size)
{
    memset(page, 0, sizeof *page);
    double *scales = NULL;
    if (!json_is_object(root)) {
        snprintf(error, error_size, "the report is not a JSON object");
        goto fail;
    }
    scales = calloc(expect->metrics->count + 1, sizeof *scales);
    if (!scales || s_allocate_headers(page, expect) != 0) {
        snprintf(error, error_size, "out of memory");
        goto fail;
    }
    if (s_check_dimension_headers(root, expect, error, error_size) != 0 ||
        s_read_metric_headers(root, expect, page, scales, error, error_size) != 0 ||
        s_read_rows(root, expect, page, scales, error, error_size) != 0 ||
        s_read_row_count(root, page, error, error_size) != 0)
        goto fail;
    if (s_read_warnings(root, page) != 0) {
        snprintf(error, error_size, "out of memory");
        goto fail;
    }
    free(scales);
    return 0;
fail:
    free(scales);
    sd_ga_page_clear(page);
    return -1;
}

int sd_ga_page_parse(const char *body, size_t size, const sd_ga_expect *expect, sd_ga_page *page,
                     char *error, size_t error_size)
{
    json_error_t json_error;
    json_t *root = json_loadb(body, size, JSON_REJECT_DUPLICATES, &json_error);
    if (!json_is_object(root)) {
        memset(page, 0, sizeof *page);
        snprintf(error, error_size, "response body is not a JSON object (%s at byte %d)",
                 root ? "another JSON type" : json_error.text, root ? 0 : json_error.position);
        json_decref(root);
        return -1;
    }
    int rc = sd_ga_page_parse_json(root, expect, page, error, error_size);
    json_decref(root);
    return rc;
}

json_t *sd_ga_batch_parse(const char *body, size_t size, size_t expected, char *error,
                          size_t error_size)
{
    json_error_t json_error;
    json_t *root = json_loadb(body, size, JSON_REJECT_DUPLICATES, &json_error);
    if (!json_is_object(root)) {
        snprintf(error, error_size, "response body is not a JSON object (%s at byte %d)",
                 root ? "another JSON type" : json_error.text, root ? 0 : json_error.position);
        json_decref(root);
        return NULL;
    }
    json_t *reports = json_object_get(root, "reports");
    if (!json_is_array(reports) || json_array_size(reports) != expected) {
        snprintf(error, error_size, "\"reports\" is %s, expected an array of %zu reports",
                 !reports ? "missing" : json_is_array(reports) ? "an array of another size"
                                                               : "not an array",
                 expected);
        json_decref(root);
        return NULL;
    }
    json_incref(reports);
    json_decref(root);
    return reports;
}

void sd_ga_page_clear(sd_ga_page *page)
{
    if (page->dimension_values) {
        for (size_t i = 0; i < page->rows * page->dimension_count; i++)
            free(page->dimension_values[i]);
    }
    free(page->dimension_values);
    free(page->periods);
    free(page->metric_values);
    free(page->metric_integer);
    free(page->metric_seconds);
    sd_strings_clear(&page->warnings);
    memset(page, 0, sizeof *page);
}

//  -------------------------------------------------------------------------
//  Error bodies

const char *sd_ga_error_text(long status, const char *body, size_t size,
                             const char *content_type, char *buffer, size_t buffer_size)
{
    json_t *root = json_loadb(body, size, 0, NULL);
    json_t *error = json_object_get(root, "error");
    const char *message = json_string_value(json_object_get(error, "message"));
    const char *code_name = json_string_value(json_object_get(error, "status"));
    if (message)
        snprintf(buffer, buffer_size, "%ld %s%s%.400s", status, code_name ? code_name : "",
                 code_name ? ": " : "", message);
    else if (size == 0)
        snprintf(buffer, buffer_size, "HTTP %ld with an empty body", status);
    else
        snprintf(buffer, buffer_size, "HTTP %ld with a body that is not a GA4 error (%zu bytes, "
                 "content type \"%.64s\")",
                 status, size, content_type && *content_type ? content_type : "none");
    json_decref(root);
    return buffer;
}

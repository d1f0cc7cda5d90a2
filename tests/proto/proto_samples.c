/*  proto_samples: sample messages and their comparison.  */
#include "proto_samples.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void *s_check(void *pointer)
{
    if (!pointer) {
        fprintf(stderr, "proto_samples: out of memory\n");
        abort();
    }
    return pointer;
}

static char *s_dup(const char *text)
{
    return s_check(strdup(text));
}

static void *s_alloc(size_t count, size_t size)
{
    return s_check(calloc(count, size));
}

static void s_list(sd_strings *strings, const char *const *items)
{
    for (; *items; items++)
        s_check(sd_strings_push(strings, *items) == 0 ? strings : NULL);
}

static void s_period(sd_period *period, const char *label, const char *start, const char *end)
{
    period->label = s_dup(label);
    period->start = s_dup(start);
    period->end = s_dup(end);
}

static void s_derived(sd_derived *derived, const char *name, const char *op, const char *a,
                      const char *b, double scale, const char *unit)
{
    derived->name = s_dup(name);
    derived->op = s_dup(op);
    derived->a = s_dup(a);
    derived->b = s_dup(b);
    derived->scale = scale;
    derived->unit = s_dup(unit);
}

//  The spec of the "summary" table.
static void s_full_spec(sd_table_spec *spec)
{
    s_list(&spec->keys, (const char *const[]){"site", NULL});
    s_list(&spec->sum, (const char *const[]){"screenPageViews", "sessions", NULL});
    spec->derived_count = 2;
    spec->derived = s_alloc(2, sizeof(sd_derived));
    s_derived(&spec->derived[0], "pageviews", "scale", "screenPageViews", "", 1.0, "count");
    s_derived(&spec->derived[1], "avg_session_time", "ratio", "userEngagementDuration", "sessions",
              1.0 / 60.0, "minutes");
    spec->sort_count = 1;
    spec->sort = s_alloc(1, sizeof(sd_sort_key));
    spec->sort[0].column = s_dup("pageviews");
    spec->sort[0].descending = true;
    spec->limit = 20;
    s_list(&spec->compare, (const char *const[]){"previous", "yearly", NULL});
    spec->rule_count = 1;
    spec->rules = s_alloc(1, sizeof(sd_rule));
    spec->rules[0].name = s_dup("rest_of_world");
    s_list(&spec->rules[0].args, (const char *const[]){"United Kingdom", "Côte d'Ivoire", NULL});
}

static void s_report_request(sd_report_request *request)
{
    request->request_id = s_dup("req-1");
    request->report = s_dup("ga-core");
    s_list(&request->sites, (const char *const[]){"site-a", "Site Ü", NULL});
    request->frequency = s_dup("WEEKLY");
    request->date = s_dup("2024-02-29");
    s_list(&request->formats, (const char *const[]){"html", "csv", NULL});
    s_list(&request->recipients, (const char *const[]){"ops@example.org", NULL});
    request->deadline_ms = 1767225600123;
    request->delivery_id = s_dup("dlv-7");
    request->yearly_alignment = s_dup("weekday");
    request->subject = s_dup("Wochenbericht über ga-core");
    s_list(&request->warnings,
           (const char *const[]){"sent 2 days late: site-a has no data for hours 14-23", NULL});
}

static void s_report_reply(sd_report_reply *reply)
{
    static const uint8_t html[] = {'<', 'p', '>', 0x00, 0xff, '<', '/', 'p', '>'};

    reply->request_id = s_dup("req-1");
    reply->status = s_dup("partial");
    reply->subject = s_dup("Weekly report \u2014 Mon 23 Nov 2026");
    reply->output_count = 2;
    reply->outputs = s_alloc(2, sizeof(sd_output));
    reply->outputs[0].format = s_dup("html");
    reply->outputs[0].content_type = s_dup("text/html; charset=utf-8");
    reply->outputs[0].body = s_alloc(1, sizeof(html));
    memcpy(reply->outputs[0].body, html, sizeof(html));
    reply->outputs[0].body_size = sizeof(html);
    reply->outputs[1].format = s_dup("csv");
    reply->outputs[1].content_type = s_dup("text/csv");
    s_list(&reply->missing, (const char *const[]){"site-b", NULL});
    s_list(&reply->warnings, (const char *const[]){"site-b: no data", NULL});
    reply->delivered = true;
}

static void s_fetch_request(sd_fetch_request *request)
{
    request->job_id = s_dup("job-9");
    request->request_id = s_dup("req-1");
    request->reporter_id = s_dup("r1");
    request->service = s_dup("ga");
    request->site = s_dup("site-a");
    request->deadline_ms = 1767225600123;
    request->query_count = 2;
    request->queries = s_alloc(2, sizeof(sd_query));

    sd_query *query = &request->queries[0];
    query->id = s_dup("q1");
    query->table_id = s_dup("summary");
    query->expected_parts = 6;
    s_full_spec(&query->spec);
    query->api = s_dup("ga4.runReport");
    s_list(&query->metrics, (const char *const[]){"screenPageViews", "sessions", NULL});
    s_list(&query->dimensions, (const char *const[]){"pagePath", NULL});
    query->params_json = s_dup("{\"keepEmptyRows\":true}");
    query->limit = 10000;
    query->period_count = 2;
    query->periods = s_alloc(2, sizeof(sd_period));
    s_period(&query->periods[0], "current", "2024-02-23", "2024-02-29");
    s_period(&query->periods[1], "previous", "2024-02-16", "2024-02-22");

    query = &request->queries[1];
    query->id = s_dup("q2");
    query->table_id = s_dup("devices");
    query->expected_parts = 3;
    query->api = s_dup("ga4.runReport");
    s_list(&query->metrics, (const char *const[]){"totalUsers", NULL});
    query->params_json = s_dup("{}");
    query->period_count = 1;
    query->periods = s_alloc(1, sizeof(sd_period));
    s_period(&query->periods[0], "yearly", "2023-02-23", "2023-03-01");
}

static void s_fetch_reply(sd_fetch_reply *reply)
{
    reply->job_id = s_dup("job-9");
    reply->request_id = s_dup("req-1");
    reply->site = s_dup("site-a");
    reply->part_count = 2;
    reply->parts = s_alloc(2, sizeof(sd_part_status));
    reply->parts[0].table_id = s_dup("summary");
    reply->parts[0].part_id = s_dup("site-a/current");
    reply->parts[0].rows = 3;
    reply->parts[0].digest =
        s_dup("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    reply->parts[1].table_id = s_dup("devices");
    reply->parts[1].part_id = s_dup("site-a/yearly");
    reply->parts[1].rows = 0;
    reply->parts[1].digest = s_dup("");
    reply->parts[1].error = s_dup("HTTP 403: permission denied");
    s_list(&reply->warnings, (const char *const[]){"thresholding applied", NULL});
}

static void s_set_string(sd_value *value, const char *text, size_t len)
{
    s_check(sd_value_set_string(value, text, len) == 0 ? value : NULL);
}

static void s_table_raw(sd_table_raw *table)
{
    const sd_column columns[] = {
        {"pagePath", SD_COLUMN_DIMENSION, ""},
        {"screenPageViews", SD_COLUMN_METRIC, "count"},
        {"userEngagementDuration", SD_COLUMN_METRIC, "seconds"},
        {"isNew", SD_COLUMN_DIMENSION, ""},
    };

    table->request_id = s_dup("req-1");
    table->reporter_id = s_dup("r1");
    table->job_id = s_dup("job-9");
    table->table_id = s_dup("summary");
    table->part_id = s_dup("site-a/current");
    table->site = s_dup("site-a");
    s_period(&table->period, "current", "2024-02-23", "2024-02-29");
    table->expected_parts = 6;
    table->deadline_ms = 1767225600000;
    s_full_spec(&table->spec);
    s_check(sd_table_data_init(&table->data, columns, 4, 1) == 0 ? table : NULL);

    sd_value *row = s_check(sd_table_data_append_row(&table->data));
    s_set_string(&row[0], "/news/a\0b", 9);
    row[1] = (sd_value){.kind = SD_VALUE_INT, .as.i = 1234};
    row[2] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = 56.5};
    row[3] = (sd_value){.kind = SD_VALUE_BOOL, .as.b = true};
    row = s_check(sd_table_data_append_row(&table->data));
    s_set_string(&row[0], "/\u00e9t\u00e9/\U0001F3AE", strlen("/\u00e9t\u00e9/\U0001F3AE"));
    row[1] = (sd_value){.kind = SD_VALUE_INT, .as.i = -9007199254740993};
    row[2] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = 0.1};
    row = s_check(sd_table_data_append_row(&table->data));
    s_set_string(&row[0], "", 0);
    row[1] = (sd_value){.kind = SD_VALUE_INT, .as.i = INT64_MAX};
    row[2] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = -1.5e300};
    row[3] = (sd_value){.kind = SD_VALUE_BOOL, .as.b = false};

    s_list(&table->warnings, (const char *const[]){"sampling: 50%", NULL});
    table->error = s_dup("partial data");
}

static void s_table_normalized(sd_table_normalized *table)
{
    const sd_column columns[] = {
        {"site", SD_COLUMN_DIMENSION, ""},
        {"pageviews", SD_COLUMN_METRIC, "count"},
        {"previous_figure_pageviews", SD_COLUMN_METRIC, "count"},
        {"previous_percentage_pageviews", SD_COLUMN_METRIC, "percent"},
    };
    const struct {
        const char *site;
        int64_t pageviews;
        int64_t previous;
        double percentage;
    } rows[] = {{"site-a", 1200, 1000, 20.0}, {"site-b", 0, 0, 0.0}};

    table->request_id = s_dup("req-1");
    table->reporter_id = s_dup("r1");
    table->table_id = s_dup("summary");
    table->period_count = 3;
    table->periods = s_alloc(3, sizeof(sd_period));
    s_period(&table->periods[0], "current", "2024-02-23", "2024-02-29");
    s_period(&table->periods[1], "previous", "2024-02-16", "2024-02-22");
    s_period(&table->periods[2], "yearly", "2023-02-23", "2023-03-01");
    s_check(sd_table_data_init(&table->data, columns, 4, 0) == 0 ? table : NULL);
    for (size_t r = 0; r < 2; r++) {
        sd_value *row = s_check(sd_table_data_append_row(&table->data));
        s_set_string(&row[0], rows[r].site, strlen(rows[r].site));
        row[1] = (sd_value){.kind = SD_VALUE_INT, .as.i = rows[r].pageviews};
        row[2] = (sd_value){.kind = SD_VALUE_INT, .as.i = rows[r].previous};
        row[3] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = rows[r].percentage};
    }
    table->totals = s_alloc(4, sizeof(sd_value));
    table->totals[1] = (sd_value){.kind = SD_VALUE_INT, .as.i = 1200};
    table->totals[2] = (sd_value){.kind = SD_VALUE_INT, .as.i = 1000};
    table->totals[3] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = 20.0};
    table->missing_count = 1;
    table->missing = s_alloc(1, sizeof(sd_missing_part));
    table->missing[0].site = s_dup("site-c");
    table->missing[0].period = s_dup("yearly");
    table->missing[0].error = s_dup("HTTP 500");
    s_list(&table->warnings, (const char *const[]){"site-c has no yearly data", NULL});
}

static void s_availability_request(sd_availability_request *request)
{
    request->id = s_dup("avail-3");
    request->service = s_dup("youtube");
    s_list(&request->sites, (const char *const[]){"channel-1", "channel-2", NULL});
    request->date = s_dup("2024-03-01");
    request->deadline_ms = 1767225600000;
}

static void s_availability_reply(sd_availability_reply *reply)
{
    reply->id = s_dup("avail-3");
    reply->date = s_dup("2024-03-01");
    reply->site_count = 2;
    reply->sites = s_alloc(2, sizeof(sd_site_availability));
    reply->sites[0].site = s_dup("channel-1");
    reply->sites[0].complete = true;
    reply->sites[0].detail = s_dup("");
    reply->sites[1].site = s_dup("channel-2");
    reply->sites[1].detail = s_dup("no rows for UCabc");
}

static void s_error(sd_error_msg *error)
{
    error->id = s_dup("req-1");
    error->code = SD_ERROR_UNAVAILABLE;
    error->text = s_dup("no worker for service \"ga\"");
}

sd_msg *proto_sample(sd_msg_type type)
{
    sd_msg *msg = s_check(sd_msg_new(type));

    switch (type) {
    case SD_MSG_REPORT_REQUEST:
        s_report_request(&msg->as.report_request);
        break;
    case SD_MSG_REPORT_REPLY:
        s_report_reply(&msg->as.report_reply);
        break;
    case SD_MSG_FETCH_REQUEST:
        s_fetch_request(&msg->as.fetch_request);
        break;
    case SD_MSG_FETCH_REPLY:
        s_fetch_reply(&msg->as.fetch_reply);
        break;
    case SD_MSG_TABLE_RAW:
        s_table_raw(&msg->as.table_raw);
        break;
    case SD_MSG_TABLE_NORMALIZED:
        s_table_normalized(&msg->as.table_normalized);
        break;
    case SD_MSG_AVAILABILITY_REQUEST:
        s_availability_request(&msg->as.availability_request);
        break;
    case SD_MSG_AVAILABILITY_REPLY:
        s_availability_reply(&msg->as.availability_reply);
        break;
    case SD_MSG_ERROR:
        s_error(&msg->as.error);
        break;
    }
    return msg;
}

sd_strings *proto_sample_warnings(sd_msg *msg)
{
    switch (msg->type) {
    case SD_MSG_FETCH_REPLY:
        return &msg->as.fetch_reply.warnings;
    case SD_MSG_TABLE_RAW:
        return &msg->as.table_raw.warnings;
    case SD_MSG_TABLE_NORMALIZED:
        return &msg->as.table_normalized.warnings;
    default:
        return NULL;
    }
}

void proto_encode_or_die(const sd_msg *msg, uint8_t **data, size_t *size)
{
    sd_proto_error err;

    if (sd_msg_encode(msg, data, size, &err) != 0) {
        fprintf(stderr, "proto_samples: encoding failed: %s: %s\n", err.field, err.text);
        abort();
    }
}

/*  Comparison. Each helper compares one field, named by a path built with
    s_at, and counts what differs.  */

typedef struct {
    FILE *log;
    int differences;
    char path[256];
} s_compare;

static void s_differ(s_compare *self, const char *field, const char *description)
{
    self->differences++;
    if (self->log)
        fprintf(self->log, "%s%s%s: %s\n", self->path, *self->path ? "." : "", field, description);
}

//  Appends ".name" or "[index]" (name NULL) to the path; returns the old length.
static size_t s_at(s_compare *self, const char *name, size_t index)
{
    size_t length = strlen(self->path);
    size_t room = sizeof(self->path) - length;

    if (name)
        snprintf(self->path + length, room, "%s%s", length ? "." : "", name);
    else
        snprintf(self->path + length, room, "[%zu]", index);
    return length;
}

static void s_back(s_compare *self, size_t length)
{
    self->path[length] = '\0';
}

static void s_text(s_compare *self, const char *field, const char *expected, const char *actual)
{
    char description[512];

    if (!expected && !actual)
        return;
    if (expected && actual && strcmp(expected, actual) == 0)
        return;
    snprintf(description, sizeof(description), "expected \"%.200s\", got \"%.200s\"",
             expected ? expected : "(NULL)", actual ? actual : "(NULL)");
    s_differ(self, field, description);
}

static void s_int(s_compare *self, const char *field, int64_t expected, int64_t actual)
{
    char description[128];

    if (expected == actual)
        return;
    snprintf(description, sizeof(description), "expected %lld, got %lld", (long long)expected,
             (long long)actual);
    s_differ(self, field, description);
}

static bool s_close(double expected, double actual)
{
    if (expected == actual)
        return true;
    return fabs(expected - actual) <= 1e-9 * fmax(fabs(expected), fabs(actual));
}

static void s_double(s_compare *self, const char *field, double expected, double actual)
{
    char description[128];

    if (s_close(expected, actual))
        return;
    snprintf(description, sizeof(description), "expected %.17g, got %.17g", expected, actual);
    s_differ(self, field, description);
}

static void s_strings(s_compare *self, const char *field, const sd_strings *expected,
                      const sd_strings *actual)
{
    size_t mark = s_at(self, field, 0);

    s_int(self, "count", (int64_t)expected->count, (int64_t)actual->count);
    for (size_t i = 0; i < expected->count && i < actual->count; i++) {
        size_t item = s_at(self, NULL, i);
        s_text(self, "text", expected->items[i], actual->items[i]);
        s_back(self, item);
    }
    s_back(self, mark);
}

static void s_period_cmp(s_compare *self, const char *field, const sd_period *expected,
                         const sd_period *actual)
{
    size_t mark = s_at(self, field, 0);

    s_text(self, "label", expected->label, actual->label);
    s_text(self, "start", expected->start, actual->start);
    s_text(self, "end", expected->end, actual->end);
    s_back(self, mark);
}

static void s_periods(s_compare *self, const char *field, const sd_period *expected,
                      size_t expected_count, const sd_period *actual, size_t actual_count)
{
    size_t mark = s_at(self, field, 0);

    s_int(self, "count", (int64_t)expected_count, (int64_t)actual_count);
    for (size_t i = 0; i < expected_count && i < actual_count; i++) {
        size_t item = s_at(self, NULL, i);
        s_period_cmp(self, "period", &expected[i], &actual[i]);
        s_back(self, item);
    }
    s_back(self, mark);
}

static void s_value(s_compare *self, const char *field, const sd_value *expected,
                    const sd_value *actual)
{
    if (expected->kind != actual->kind) {
        s_int(self, field, expected->kind, actual->kind);
        return;
    }
    switch (expected->kind) {
    case SD_VALUE_NIL:
        break;
    case SD_VALUE_BOOL:
        s_int(self, field, expected->as.b, actual->as.b);
        break;
    case SD_VALUE_INT:
        s_int(self, field, expected->as.i, actual->as.i);
        break;
    case SD_VALUE_FLOAT:
        s_double(self, field, expected->as.f, actual->as.f);
        break;
    case SD_VALUE_STRING:
        s_int(self, "length", (int64_t)expected->as.s.len, (int64_t)actual->as.s.len);
        if (expected->as.s.len == actual->as.s.len &&
            memcmp(expected->as.s.ptr, actual->as.s.ptr, expected->as.s.len + 1) != 0)
            s_differ(self, field, "string bytes differ");
        break;
    }
}

static void s_table_data(s_compare *self, const sd_table_data *expected,
                         const sd_table_data *actual)
{
    s_int(self, "column_count", (int64_t)expected->column_count, (int64_t)actual->column_count);
    s_int(self, "row_count", (int64_t)expected->row_count, (int64_t)actual->row_count);
    if (expected->column_count != actual->column_count || expected->row_count != actual->row_count)
        return;
    for (size_t c = 0; c < expected->column_count; c++) {
        size_t mark = s_at(self, "columns", 0);
        size_t item = s_at(self, NULL, c);
        s_text(self, "name", expected->columns[c].name, actual->columns[c].name);
        s_int(self, "kind", expected->columns[c].kind, actual->columns[c].kind);
        s_text(self, "unit", expected->columns[c].unit, actual->columns[c].unit);
        s_back(self, item);
        s_back(self, mark);
    }
    for (size_t i = 0; i < expected->row_count * expected->column_count; i++) {
        size_t mark = s_at(self, "cells", 0);
        size_t item = s_at(self, NULL, i);
        s_value(self, "value", &expected->cells[i], &actual->cells[i]);
        s_back(self, item);
        s_back(self, mark);
    }
}

static void s_spec(s_compare *self, const sd_table_spec *expected, const sd_table_spec *actual)
{
    size_t mark = s_at(self, "spec", 0);

    s_strings(self, "keys", &expected->keys, &actual->keys);
    s_strings(self, "sum", &expected->sum, &actual->sum);
    s_int(self, "derived_count", (int64_t)expected->derived_count, (int64_t)actual->derived_count);
    for (size_t i = 0; i < expected->derived_count && i < actual->derived_count; i++) {
        const sd_derived *e = &expected->derived[i], *a = &actual->derived[i];
        size_t item = s_at(self, "derived", 0);
        s_at(self, NULL, i);
        s_text(self, "name", e->name, a->name);
        s_text(self, "op", e->op, a->op);
        s_text(self, "a", e->a, a->a);
        s_text(self, "b", e->b, a->b);
        s_double(self, "scale", e->scale, a->scale);
        s_text(self, "unit", e->unit, a->unit);
        s_back(self, item);
    }
    s_int(self, "sort_count", (int64_t)expected->sort_count, (int64_t)actual->sort_count);
    for (size_t i = 0; i < expected->sort_count && i < actual->sort_count; i++) {
        size_t item = s_at(self, "sort", 0);
        s_at(self, NULL, i);
        s_text(self, "column", expected->sort[i].column, actual->sort[i].column);
        s_int(self, "descending", expected->sort[i].descending, actual->sort[i].descending);
        s_back(self, item);
    }
    s_int(self, "limit", expected->limit, actual->limit);
    s_strings(self, "compare", &expected->compare, &actual->compare);
    s_int(self, "rule_count", (int64_t)expected->rule_count, (int64_t)actual->rule_count);
    for (size_t i = 0; i < expected->rule_count && i < actual->rule_count; i++) {
        size_t item = s_at(self, "rules", 0);
        s_at(self, NULL, i);
        s_text(self, "name", expected->rules[i].name, actual->rules[i].name);
        s_strings(self, "args", &expected->rules[i].args, &actual->rules[i].args);
        s_back(self, item);
    }
    s_back(self, mark);
}

static void s_cmp_report_request(s_compare *self, const sd_report_request *e,
                                 const sd_report_request *a)
{
    s_text(self, "request_id", e->request_id, a->request_id);
    s_text(self, "report", e->report, a->report);
    s_strings(self, "sites", &e->sites, &a->sites);
    s_text(self, "frequency", e->frequency, a->frequency);
    s_text(self, "date", e->date, a->date);
    s_strings(self, "formats", &e->formats, &a->formats);
    s_strings(self, "recipients", &e->recipients, &a->recipients);
    s_int(self, "deadline_ms", e->deadline_ms, a->deadline_ms);
    s_text(self, "delivery_id", e->delivery_id, a->delivery_id);
    s_text(self, "yearly_alignment", e->yearly_alignment, a->yearly_alignment);
    s_text(self, "subject", e->subject, a->subject);
    s_strings(self, "warnings", &e->warnings, &a->warnings);
}

static void s_cmp_report_reply(s_compare *self, const sd_report_reply *e, const sd_report_reply *a)
{
    s_text(self, "request_id", e->request_id, a->request_id);
    s_text(self, "status", e->status, a->status);
    s_text(self, "subject", e->subject, a->subject);
    s_int(self, "output_count", (int64_t)e->output_count, (int64_t)a->output_count);
    for (size_t i = 0; i < e->output_count && i < a->output_count; i++) {
        const sd_output *eo = &e->outputs[i], *ao = &a->outputs[i];
        size_t item = s_at(self, "outputs", 0);
        s_at(self, NULL, i);
        s_text(self, "format", eo->format, ao->format);
        s_text(self, "content_type", eo->content_type, ao->content_type);
        s_int(self, "body_size", (int64_t)eo->body_size, (int64_t)ao->body_size);
        if (eo->body_size == ao->body_size && eo->body_size > 0 &&
            memcmp(eo->body, ao->body, eo->body_size) != 0)
            s_differ(self, "body", "bytes differ");
        s_back(self, item);
    }
    s_strings(self, "missing", &e->missing, &a->missing);
    s_strings(self, "warnings", &e->warnings, &a->warnings);
    s_int(self, "delivered", e->delivered, a->delivered);
}

static void s_cmp_query(s_compare *self, const sd_query *e, const sd_query *a)
{
    s_text(self, "id", e->id, a->id);
    s_text(self, "table_id", e->table_id, a->table_id);
    s_int(self, "expected_parts", e->expected_parts, a->expected_parts);
    s_spec(self, &e->spec, &a->spec);
    s_text(self, "api", e->api, a->api);
    s_strings(self, "metrics", &e->metrics, &a->metrics);
    s_strings(self, "dimensions", &e->dimensions, &a->dimensions);
    s_text(self, "params_json", e->params_json, a->params_json);
    s_int(self, "limit", e->limit, a->limit);
    s_periods(self, "periods", e->periods, e->period_count, a->periods, a->period_count);
}

static void s_cmp_fetch_request(s_compare *self, const sd_fetch_request *e,
                                const sd_fetch_request *a)
{
    s_text(self, "job_id", e->job_id, a->job_id);
    s_text(self, "request_id", e->request_id, a->request_id);
    s_text(self, "reporter_id", e->reporter_id, a->reporter_id);
    s_text(self, "service", e->service, a->service);
    s_text(self, "site", e->site, a->site);
    s_int(self, "deadline_ms", e->deadline_ms, a->deadline_ms);
    s_int(self, "query_count", (int64_t)e->query_count, (int64_t)a->query_count);
    for (size_t i = 0; i < e->query_count && i < a->query_count; i++) {
        size_t item = s_at(self, "queries", 0);
        s_at(self, NULL, i);
        s_cmp_query(self, &e->queries[i], &a->queries[i]);
        s_back(self, item);
    }
}

static void s_cmp_fetch_reply(s_compare *self, const sd_fetch_reply *e, const sd_fetch_reply *a)
{
    s_text(self, "job_id", e->job_id, a->job_id);
    s_text(self, "request_id", e->request_id, a->request_id);
    s_text(self, "site", e->site, a->site);
    s_int(self, "part_count", (int64_t)e->part_count, (int64_t)a->part_count);
    for (size_t i = 0; i < e->part_count && i < a->part_count; i++) {
        const sd_part_status *ep = &e->parts[i], *ap = &a->parts[i];
        size_t item = s_at(self, "parts", 0);
        s_at(self, NULL, i);
        s_text(self, "table_id", ep->table_id, ap->table_id);
        s_text(self, "part_id", ep->part_id, ap->part_id);
        s_int(self, "rows", ep->rows, ap->rows);
        s_text(self, "digest", ep->digest, ap->digest);
        s_text(self, "error", ep->error, ap->error);
        s_back(self, item);
    }
    s_strings(self, "warnings", &e->warnings, &a->warnings);
}

static void s_cmp_table_raw(s_compare *self, const sd_table_raw *e, const sd_table_raw *a)
{
    s_text(self, "request_id", e->request_id, a->request_id);
    s_text(self, "reporter_id", e->reporter_id, a->reporter_id);
    s_text(self, "job_id", e->job_id, a->job_id);
    s_text(self, "table_id", e->table_id, a->table_id);
    s_text(self, "part_id", e->part_id, a->part_id);
    s_text(self, "site", e->site, a->site);
    s_period_cmp(self, "period", &e->period, &a->period);
    s_int(self, "expected_parts", e->expected_parts, a->expected_parts);
    s_int(self, "deadline_ms", e->deadline_ms, a->deadline_ms);
    s_spec(self, &e->spec, &a->spec);
    s_table_data(self, &e->data, &a->data);
    s_strings(self, "warnings", &e->warnings, &a->warnings);
    s_text(self, "error", e->error, a->error);
}

static void s_cmp_table_normalized(s_compare *self, const sd_table_normalized *e,
                                   const sd_table_normalized *a)
{
    s_text(self, "request_id", e->request_id, a->request_id);
    s_text(self, "reporter_id", e->reporter_id, a->reporter_id);
    s_text(self, "table_id", e->table_id, a->table_id);
    s_periods(self, "periods", e->periods, e->period_count, a->periods, a->period_count);
    s_table_data(self, &e->data, &a->data);
    for (size_t i = 0; i < e->data.column_count && i < a->data.column_count; i++) {
        size_t item = s_at(self, "totals", 0);
        s_at(self, NULL, i);
        s_value(self, "value", &e->totals[i], &a->totals[i]);
        s_back(self, item);
    }
    s_int(self, "missing_count", (int64_t)e->missing_count, (int64_t)a->missing_count);
    for (size_t i = 0; i < e->missing_count && i < a->missing_count; i++) {
        size_t item = s_at(self, "missing", 0);
        s_at(self, NULL, i);
        s_text(self, "site", e->missing[i].site, a->missing[i].site);
        s_text(self, "period", e->missing[i].period, a->missing[i].period);
        s_text(self, "error", e->missing[i].error, a->missing[i].error);
        s_back(self, item);
    }
    s_strings(self, "warnings", &e->warnings, &a->warnings);
}

static void s_cmp_availability_request(s_compare *self, const sd_availability_request *e,
                                       const sd_availability_request *a)
{
    s_text(self, "id", e->id, a->id);
    s_text(self, "service", e->service, a->service);
    s_strings(self, "sites", &e->sites, &a->sites);
    s_text(self, "date", e->date, a->date);
    s_int(self, "deadline_ms", e->deadline_ms, a->deadline_ms);
}

static void s_cmp_availability_reply(s_compare *self, const sd_availability_reply *e,
                                     const sd_availability_reply *a)
{
    s_text(self, "id", e->id, a->id);
    s_text(self, "date", e->date, a->date);
    s_int(self, "site_count", (int64_t)e->site_count, (int64_t)a->site_count);
    for (size_t i = 0; i < e->site_count && i < a->site_count; i++) {
        size_t item = s_at(self, "sites", 0);
        s_at(self, NULL, i);
        s_text(self, "site", e->sites[i].site, a->sites[i].site);
        s_int(self, "complete", e->sites[i].complete, a->sites[i].complete);
        s_text(self, "detail", e->sites[i].detail, a->sites[i].detail);
        s_back(self, item);
    }
}

static void s_cmp_error(s_compare *self, const sd_error_msg *e, const sd_error_msg *a)
{
    s_text(self, "id", e->id, a->id);
    s_int(self, "code", e->code, a->code);
    s_text(self, "text", e->text, a->text);
}

int proto_compare(const sd_msg *expected, const sd_msg *actual, FILE *log)
{
    s_compare self = {.log = log};

    s_int(&self, "type", expected->type, actual->type);
    s_int(&self, "version", expected->version, actual->version);
    if (expected->type != actual->type)
        return self.differences;

    switch (expected->type) {
    case SD_MSG_REPORT_REQUEST:
        s_cmp_report_request(&self, &expected->as.report_request, &actual->as.report_request);
        break;
    case SD_MSG_REPORT_REPLY:
        s_cmp_report_reply(&self, &expected->as.report_reply, &actual->as.report_reply);
        break;
    case SD_MSG_FETCH_REQUEST:
        s_cmp_fetch_request(&self, &expected->as.fetch_request, &actual->as.fetch_request);
        break;
    case SD_MSG_FETCH_REPLY:
        s_cmp_fetch_reply(&self, &expected->as.fetch_reply, &actual->as.fetch_reply);
        break;
    case SD_MSG_TABLE_RAW:
        s_cmp_table_raw(&self, &expected->as.table_raw, &actual->as.table_raw);
        break;
    case SD_MSG_TABLE_NORMALIZED:
        s_cmp_table_normalized(&self, &expected->as.table_normalized, &actual->as.table_normalized);
        break;
    case SD_MSG_AVAILABILITY_REQUEST:
        s_cmp_availability_request(&self, &expected->as.availability_request,
                                   &actual->as.availability_request);
        break;
    case SD_MSG_AVAILABILITY_REPLY:
        s_cmp_availability_reply(&self, &expected->as.availability_reply,
                                 &actual->as.availability_reply);
        break;
    case SD_MSG_ERROR:
        s_cmp_error(&self, &expected->as.error, &actual->as.error);
        break;
    }
    return self.differences;
}

//  ---------------------------------------------------------------------
//  Checking sd_table_raw_decode_rows against sd_msg_decode

typedef struct {
    const sd_msg *expected;
    FILE *log;
    int differences;
    sd_table_data rows;             //  copies of the rows received
} s_rows_check;

//  Compares every field but the rows, which arrive next.
static int s_check_header(void *arg, const sd_table_raw *part, size_t row_count)
{
    s_rows_check *check = arg;
    const sd_msg *expected = check->expected;
    if (!expected || expected->type != SD_MSG_TABLE_RAW) {
        check->differences++;
        return sd_table_data_init(&check->rows, part->data.columns, part->data.column_count, 0);
    }
    sd_msg actual = *expected;
    actual.as.table_raw = *part;
    actual.as.table_raw.data = expected->as.table_raw.data;
    check->differences += proto_compare(expected, &actual, check->log);
    if (row_count != expected->as.table_raw.data.row_count || part->data.row_count != 0) {
        fprintf(check->log, "header announces %zu rows, expected %zu\n", row_count,
                expected->as.table_raw.data.row_count);
        check->differences++;
    }
    return sd_table_data_init(&check->rows, part->data.columns, part->data.column_count,
                              row_count);
}

static int s_collect_row(void *arg, const sd_value *cells, size_t column_count)
{
    s_rows_check *check = arg;
    if (column_count != check->rows.column_count)
        check->differences++;
    sd_value *row = sd_table_data_append_row(&check->rows);
    for (size_t c = 0; row && c < column_count && c < check->rows.column_count; c++) {
        if (cells[c].kind != SD_VALUE_STRING)
            row[c] = cells[c];
        else if (sd_value_set_string(&row[c], cells[c].as.s.ptr, cells[c].as.s.len) != 0)
            return -1;
    }
    return row ? 0 : -1;
}

int proto_check_rows(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                     const sd_msg *expected, sd_proto_error *err, FILE *log)
{
    s_rows_check check = {.expected = expected, .log = log};
    int rc = sd_table_raw_decode_rows(data, size, limits, s_check_header, s_collect_row, &check,
                                      err);
    if (rc == 0 && expected && expected->type == SD_MSG_TABLE_RAW) {
        sd_msg actual = *expected;
        actual.as.table_raw.data = check.rows;
        check.differences += proto_compare(expected, &actual, log);
    }
    sd_table_data_clear(&check.rows);
    return rc == 0 ? check.differences : -1;
}

/*  sd_proto_types: message construction, destruction and type names.  */
#include "sd_proto_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const s_type_names[] = {
    [SD_MSG_REPORT_REQUEST] = "report.request",
    [SD_MSG_REPORT_REPLY] = "report.reply",
    [SD_MSG_FETCH_REQUEST] = "fetch.request",
    [SD_MSG_FETCH_REPLY] = "fetch.reply",
    [SD_MSG_TABLE_RAW] = "table.raw",
    [SD_MSG_TABLE_NORMALIZED] = "table.normalized",
    [SD_MSG_AVAILABILITY_REQUEST] = "availability.request",
    [SD_MSG_AVAILABILITY_REPLY] = "availability.reply",
    [SD_MSG_ERROR] = "error",
};

#define S_TYPE_LAST SD_MSG_ERROR

void sd_proto_limits_default(sd_proto_limits *limits)
{
    limits->max_message_bytes = (size_t)64 * 1024 * 1024;
    limits->max_string_bytes = (size_t)1024 * 1024;
    limits->max_array_items = 65536;
    limits->max_rows = 4000000;
    limits->max_columns = 256;
}

const char *sd_msg_type_name(sd_msg_type type)
{
    if (type < SD_MSG_REPORT_REQUEST || type > S_TYPE_LAST)
        return NULL;
    return s_type_names[type];
}

int sd_msg_type_parse(const char *name, size_t len, sd_msg_type *type)
{
    for (int i = SD_MSG_REPORT_REQUEST; i <= S_TYPE_LAST; i++) {
        if (strlen(s_type_names[i]) == len && memcmp(s_type_names[i], name, len) == 0) {
            *type = (sd_msg_type)i;
            return 0;
        }
    }
    return -1;
}

sd_msg *sd_msg_new(sd_msg_type type)
{
    if (!sd_msg_type_name(type))
        return NULL;

    sd_msg *msg = calloc(1, sizeof(*msg));
    if (msg) {
        msg->type = type;
        msg->version = SD_PROTO_VERSION;
    }
    return msg;
}

static void s_free_string(char **text)
{
    free(*text);
    *text = NULL;
}

static void s_period_clear(sd_period *period)
{
    s_free_string(&period->label);
    s_free_string(&period->start);
    s_free_string(&period->end);
}

static void s_periods_free(sd_period **periods, size_t *count)
{
    for (size_t i = 0; *periods && i < *count; i++)
        s_period_clear(&(*periods)[i]);
    free(*periods);
    *periods = NULL;
    *count = 0;
}

static void s_report_request_clear(sd_report_request *request)
{
    s_free_string(&request->request_id);
    s_free_string(&request->report);
    sd_strings_clear(&request->sites);
    s_free_string(&request->frequency);
    s_free_string(&request->date);
    sd_strings_clear(&request->formats);
    sd_strings_clear(&request->recipients);
    s_free_string(&request->delivery_id);
    s_free_string(&request->yearly_alignment);
    s_free_string(&request->subject);
    sd_strings_clear(&request->warnings);
}

static void s_report_reply_clear(sd_report_reply *reply)
{
    s_free_string(&reply->request_id);
    s_free_string(&reply->status);
    s_free_string(&reply->subject);
    for (size_t i = 0; reply->outputs && i < reply->output_count; i++) {
        s_free_string(&reply->outputs[i].format);
        s_free_string(&reply->outputs[i].content_type);
        free(reply->outputs[i].body);
    }
    free(reply->outputs);
    sd_strings_clear(&reply->missing);
    sd_strings_clear(&reply->warnings);
}

static void s_query_clear(sd_query *query)
{
    s_free_string(&query->id);
    s_free_string(&query->table_id);
    sd_table_spec_clear(&query->spec);
    s_free_string(&query->api);
    sd_strings_clear(&query->metrics);
    sd_strings_clear(&query->dimensions);
    s_free_string(&query->params_json);
    s_periods_free(&query->periods, &query->period_count);
}

static void s_fetch_request_clear(sd_fetch_request *request)
{
    s_free_string(&request->job_id);
    s_free_string(&request->request_id);
    s_free_string(&request->reporter_id);
    s_free_string(&request->service);
    s_free_string(&request->site);
    for (size_t i = 0; request->queries && i < request->query_count; i++)
        s_query_clear(&request->queries[i]);
    free(request->queries);
}

static void s_fetch_reply_clear(sd_fetch_reply *reply)
{
    s_free_string(&reply->job_id);
    s_free_string(&reply->request_id);
    s_free_string(&reply->site);
    for (size_t i = 0; reply->parts && i < reply->part_count; i++) {
        s_free_string(&reply->parts[i].table_id);
        s_free_string(&reply->parts[i].part_id);
        s_free_string(&reply->parts[i].digest);
        s_free_string(&reply->parts[i].error);
    }
    free(reply->parts);
    sd_strings_clear(&reply->warnings);
}

static void s_table_raw_clear(sd_table_raw *table)
{
    s_free_string(&table->request_id);
    s_free_string(&table->reporter_id);
    s_free_string(&table->job_id);
    s_free_string(&table->table_id);
    s_free_string(&table->part_id);
    s_free_string(&table->site);
    s_period_clear(&table->period);
    sd_table_spec_clear(&table->spec);
    sd_table_data_clear(&table->data);
    sd_strings_clear(&table->warnings);
    s_free_string(&table->error);
}

static void s_table_normalized_clear(sd_table_normalized *table)
{
    s_free_string(&table->request_id);
    s_free_string(&table->reporter_id);
    s_free_string(&table->table_id);
    s_periods_free(&table->periods, &table->period_count);
    //  totals has one value per column, so it goes before the columns do.
    for (size_t i = 0; table->totals && i < table->data.column_count; i++)
        sd_value_clear(&table->totals[i]);
    free(table->totals);
    sd_table_data_clear(&table->data);
    for (size_t i = 0; table->missing && i < table->missing_count; i++) {
        s_free_string(&table->missing[i].site);
        s_free_string(&table->missing[i].period);
        s_free_string(&table->missing[i].error);
    }
    free(table->missing);
    sd_strings_clear(&table->warnings);
}

static void s_availability_request_clear(sd_availability_request *request)
{
    s_free_string(&request->id);
    s_free_string(&request->service);
    sd_strings_clear(&request->sites);
    s_free_string(&request->date);
}

static void s_availability_reply_clear(sd_availability_reply *reply)
{
    s_free_string(&reply->id);
    s_free_string(&reply->date);
    for (size_t i = 0; reply->sites && i < reply->site_count; i++) {
        s_free_string(&reply->sites[i].site);
        s_free_string(&reply->sites[i].detail);
    }
    free(reply->sites);
}

static void s_error_clear(sd_error_msg *error)
{
    s_free_string(&error->id);
    s_free_string(&error->text);
}

void sd_msg_destroy(sd_msg **msg)
{
    if (!msg || !*msg)
        return;

    sd_msg *self = *msg;
    switch (self->type) {
    case SD_MSG_REPORT_REQUEST:
        s_report_request_clear(&self->as.report_request);
        break;
    case SD_MSG_REPORT_REPLY:
        s_report_reply_clear(&self->as.report_reply);
        break;
    case SD_MSG_FETCH_REQUEST:
        s_fetch_request_clear(&self->as.fetch_request);
        break;
    case SD_MSG_FETCH_REPLY:
        s_fetch_reply_clear(&self->as.fetch_reply);
        break;
    case SD_MSG_TABLE_RAW:
        s_table_raw_clear(&self->as.table_raw);
        break;
    case SD_MSG_TABLE_NORMALIZED:
        s_table_normalized_clear(&self->as.table_normalized);
        break;
    case SD_MSG_AVAILABILITY_REQUEST:
        s_availability_request_clear(&self->as.availability_request);
        break;
    case SD_MSG_AVAILABILITY_REPLY:
        s_availability_reply_clear(&self->as.availability_reply);
        break;
    case SD_MSG_ERROR:
        s_error_clear(&self->as.error);
        break;
    }
    free(self);
    *msg = NULL;
}

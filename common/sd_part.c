/*  sd_part: table.raw parts on the bus, fetch.reply and error replies.  */
#include "sd_part.h"

#include "sd_bus.h"
#include "sd_log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_PART_REASON_MAX 512

static char *s_copy(const char *text)
{
    return strdup(text ? text : "");
}

//  Returns "site/label", a new string, or NULL.
static char *s_part_id(const sd_fetch_request *request, const sd_period *period)
{
    size_t size = strlen(request->site) + strlen(period->label) + 2;
    char *id = malloc(size);
    if (id)
        snprintf(id, size, "%s/%s", request->site, period->label);
    return id;
}

static int s_fill_header(sd_table_raw *raw, const sd_fetch_request *request,
                         const sd_query *query, const sd_period *period,
                         const sd_strings *warnings)
{
    raw->part_id = s_part_id(request, period);
    raw->request_id = s_copy(request->request_id);
    raw->reporter_id = s_copy(request->reporter_id);
    raw->job_id = s_copy(request->job_id);
    raw->table_id = s_copy(query->table_id);
    raw->site = s_copy(request->site);
    raw->period.label = s_copy(period->label);
    raw->period.start = s_copy(period->start);
    raw->period.end = s_copy(period->end);
    raw->expected_parts = query->expected_parts;
    raw->deadline_ms = request->deadline_ms;
    if (!raw->part_id || !raw->request_id || !raw->reporter_id || !raw->job_id
        || !raw->table_id || !raw->site || !raw->period.label || !raw->period.start
        || !raw->period.end)
        return -1;
    for (size_t i = 0; warnings && i < warnings->count; i++)
        if (sd_strings_push(&raw->warnings, warnings->items[i]) != 0)
            return -1;
    return sd_table_spec_copy(&raw->spec, &query->spec);
}

//  Builds the part message around data (taken) and encodes it. With an
//  error, only data's columns are kept. Returns 0 with *body (free()) and
//  *size, or -1 with reason filled.
static int s_encode(const sd_fetch_request *request, const sd_query *query, size_t period,
                    sd_table_data *data, const sd_strings *warnings, const char *error,
                    uint8_t **body, size_t *size, int64_t *rows, char *reason,
                    size_t reason_size)
{
    sd_proto_error proto_error;
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_RAW);
    int rc = -1;
    snprintf(reason, reason_size, "out of memory building the part");
    if (!msg) {
        sd_table_data_clear(data);
        return -1;
    }
    sd_table_raw *raw = &msg->as.table_raw;
    if (error) {
        int init = sd_table_data_init(&raw->data, data->columns, data->column_count, 0);
        sd_table_data_clear(data);
        if (init != 0 || !(raw->error = strdup(error)))
            goto done;
    } else {
        raw->data = *data;
        memset(data, 0, sizeof *data);
    }
    if (s_fill_header(raw, request, query, &query->periods[period], warnings) != 0)
        goto done;
    if (sd_msg_encode(msg, body, size, &proto_error) != 0) {
        snprintf(reason, reason_size, "part could not be encoded: %s: %s", proto_error.field,
                 proto_error.text);
        //  Keep the columns for the failed part the caller publishes instead.
        sd_table_data_init(data, raw->data.columns, raw->data.column_count, 0);
        goto done;
    }
    *rows = (int64_t)raw->data.row_count;
    rc = 0;
done:
    sd_msg_destroy(&msg);
    return rc;
}

//  Writes the hex SHA-256 of body (65 bytes with the terminator).
static int s_digest_hex(const uint8_t *body, size_t size, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(body, size, digest, &length, EVP_sha256(), NULL) != 1 || length != 32)
        return -1;
    for (unsigned int i = 0; i < length; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

static int s_send(const sd_part_bus *bus, const char *table_id, const uint8_t *body, size_t size)
{
    char topic[64];
    sd_bus_raw_topic(topic, sizeof topic, sd_bus_shard(table_id, bus->shards));
    zmsg_t *msg = zmsg_new();
    if (!msg || zmsg_addstr(msg, topic) != 0 || zmsg_addmem(msg, body, size) != 0) {
        zmsg_destroy(&msg);
        return -1;
    }
    return zmsg_send(&msg, bus->publisher);
}

static int s_append_status(sd_fetch_reply *reply, const sd_fetch_request *request,
                           const sd_query *query, size_t period, int64_t rows,
                           const char *digest, const char *error)
{
    sd_part_status *parts = realloc(reply->parts, (reply->part_count + 1) * sizeof *parts);
    if (!parts)
        return -1;
    reply->parts = parts;
    sd_part_status *status = &parts[reply->part_count++];
    memset(status, 0, sizeof *status);
    status->part_id = s_part_id(request, &query->periods[period]);
    status->table_id = s_copy(query->table_id);
    status->rows = rows;
    status->digest = s_copy(digest);
    status->error = error ? strdup(error) : NULL;
    return status->part_id && status->table_id && status->digest && (!error || status->error)
               ? 0
               : -1;
}

int sd_part_publish(const sd_part_bus *bus, const sd_fetch_request *request,
                    const sd_query *query, size_t period, sd_table_data *data,
                    const sd_strings *warnings, const char *error, sd_fetch_reply *reply)
{
    char reason[SD_PART_REASON_MAX];
    char fallback[SD_PART_REASON_MAX];
    uint8_t *body = NULL;
    size_t size = 0;
    int64_t rows = 0;
    char digest[65] = "";
    int rc = s_encode(request, query, period, data, warnings, error, &body, &size, &rows, reason,
                      sizeof reason);

    //  A part that cannot be encoded is published as a failed part instead.
    if (rc != 0 && !error) {
        sd_warning("%s table=%s period=%s request=%s job=%s site=%s", reason, query->table_id,
                   query->periods[period].label, request->request_id, request->job_id,
                   request->site);
        snprintf(fallback, sizeof fallback, "%s", reason);
        error = fallback;
        rc = s_encode(request, query, period, data, warnings, error, &body, &size, &rows, reason,
                      sizeof reason);
    }
    sd_table_data_clear(data);
    if (rc == 0 && !error && s_digest_hex(body, size, digest) != 0)
        rc = -1;
    if (rc == 0 && s_send(bus, query->table_id, body, size) != 0) {
        snprintf(reason, sizeof reason, "part could not be sent on the bus");
        rc = -1;
    }
    free(body);
    if (rc != 0) {
        sd_error("%s table=%s request=%s job=%s site=%s", reason, query->table_id,
                 request->request_id, request->job_id, request->site);
        error = reason;
        digest[0] = '\0';
    }
    if (s_append_status(reply, request, query, period, error ? 0 : rows, digest, error) != 0)
        return -1;
    return rc;
}

sd_msg *sd_part_reply_new(const sd_fetch_request *request)
{
    sd_msg *msg = sd_msg_new(SD_MSG_FETCH_REPLY);
    if (!msg)
        return NULL;
    sd_fetch_reply *reply = &msg->as.fetch_reply;
    reply->job_id = s_copy(request->job_id);
    reply->request_id = s_copy(request->request_id);
    reply->site = s_copy(request->site);
    if (!reply->job_id || !reply->request_id || !reply->site)
        sd_msg_destroy(&msg);
    return msg;
}

zmsg_t *sd_part_encode(const sd_msg *msg)
{
    sd_proto_error error;
    uint8_t *data = NULL;
    size_t size = 0;
    if (sd_msg_encode(msg, &data, &size, &error) != 0) {
        sd_error("cannot encode %s: %s: %s", sd_msg_type_name(msg->type), error.field,
                 error.text);
        return NULL;
    }
    zmsg_t *body = zmsg_new();
    if (body && zmsg_addmem(body, data, size) != 0)
        zmsg_destroy(&body);
    free(data);
    return body;
}

zmsg_t *sd_part_error_reply(const char *id, sd_error_code code, const char *text)
{
    sd_msg *msg = sd_msg_new(SD_MSG_ERROR);
    if (!msg)
        return NULL;
    msg->as.error.id = s_copy(id);
    msg->as.error.code = code;
    msg->as.error.text = s_copy(text);
    zmsg_t *body = msg->as.error.id && msg->as.error.text ? sd_part_encode(msg) : NULL;
    sd_msg_destroy(&msg);
    return body;
}

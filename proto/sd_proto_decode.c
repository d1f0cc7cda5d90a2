/*  sd_proto_decode: msgpack bodies to messages.

    A body passes four stages. First sd_proto_scan walks its headers
    without allocating (structure, limits, trailing bytes), and notes where
    the rows of a table are. Then msgpack-c builds an object tree of the
    body without those rows. The readers below check each field against
    the schema and copy it into the message. Last, sd_decode_rows reads the
    rows from the body itself, into the message (sd_msg_decode) or into the
    caller's callbacks (sd_table_raw_decode_rows). Keys the schema does not
    name are ignored, so a newer peer's additive field does not break this
    decoder.
*/
#include "sd_proto_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

//  Reads the array field key into items and count, one item at a time
//  with decode_one(decoder, object, item).
#define S_ITEMS_FIELD(decoder, map, key, required, items, count, decode_one)                       \
    do {                                                                                           \
        const msgpack_object *array_;                                                              \
        size_t mark_ = sd_proto_path_key(&(decoder)->path, key, strlen(key));                      \
        (items) =                                                                                  \
            sd_decode_items(decoder, map, key, required, sizeof(*(items)), &(count), &array_);     \
        for (size_t i_ = 0; i_ < (count) && !(decoder)->failed; i_++) {                            \
            size_t item_ = sd_proto_path_index(&(decoder)->path, i_);                              \
            decode_one(decoder, &array_->via.array.ptr[i_], &(items)[i_]);                         \
            sd_proto_path_restore(&(decoder)->path, item_);                                        \
        }                                                                                          \
        sd_proto_path_restore(&(decoder)->path, mark_);                                            \
    } while (0)

//  `warnings` became required in version 2.
static bool s_warnings_required(const sd_decoder *decoder)
{
    return decoder->version >= 2;
}

static void s_period(sd_decoder *decoder, const msgpack_object *object, sd_period *period)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_enum_field(decoder, object, "label", sd_proto_period_labels, NULL, &period->label);
    sd_decode_date_field(decoder, object, "start", &period->start);
    sd_decode_date_field(decoder, object, "end", &period->end);
    if (decoder->failed || strcmp(period->end, period->start) >= 0)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, "end", 3);
    sd_decode_fail(decoder, "is %s, before the start %s", period->end, period->start);
    sd_proto_path_restore(&decoder->path, mark);
}

static void s_period_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                           sd_period *period)
{
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));
    const msgpack_object *value = sd_decode_find(decoder, map, key, true);
    if (value)
        s_period(decoder, value, period);
    sd_proto_path_restore(&decoder->path, mark);
}

static void s_derived(sd_decoder *decoder, const msgpack_object *object, sd_derived *derived)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "name", NULL, &derived->name);
    sd_decode_string_field(decoder, object, "op", NULL, &derived->op);
    sd_decode_string_field(decoder, object, "a", NULL, &derived->a);
    sd_decode_string_field(decoder, object, "b", "", &derived->b);
    sd_decode_double_field(decoder, object, "scale", true, &derived->scale);
    sd_decode_string_field(decoder, object, "unit", "", &derived->unit);
}

static void s_sort_key(sd_decoder *decoder, const msgpack_object *object, sd_sort_key *key)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "column", NULL, &key->column);
    sd_decode_bool_field(decoder, object, "descending", false, &key->descending);
}

static void s_rule(sd_decoder *decoder, const msgpack_object *object, sd_rule *rule)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "name", NULL, &rule->name);
    sd_decode_strings_field(decoder, object, "args", false, &rule->args);
}

static void s_spec(sd_decoder *decoder, const msgpack_object *object, sd_table_spec *spec)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_strings_field(decoder, object, "keys", true, &spec->keys);
    sd_decode_strings_field(decoder, object, "sum", true, &spec->sum);
    S_ITEMS_FIELD(decoder, object, "derived", true, spec->derived, spec->derived_count, s_derived);
    S_ITEMS_FIELD(decoder, object, "sort", false, spec->sort, spec->sort_count, s_sort_key);
    sd_decode_int_field(decoder, object, "limit", false, &spec->limit);
    sd_decode_strings_field(decoder, object, "compare", false, &spec->compare);
    S_ITEMS_FIELD(decoder, object, "rules", false, spec->rules, spec->rule_count, s_rule);
}

static void s_spec_field(sd_decoder *decoder, const msgpack_object *map, sd_table_spec *spec)
{
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, "spec", 4);
    const msgpack_object *value = sd_decode_find(decoder, map, "spec", true);
    if (value)
        s_spec(decoder, value, spec);
    sd_proto_path_restore(&decoder->path, mark);
}

static void s_report_request(sd_decoder *decoder, const msgpack_object *map,
                             sd_report_request *request)
{
    sd_decode_string_field(decoder, map, "request_id", NULL, &request->request_id);
    sd_decode_string_field(decoder, map, "report", NULL, &request->report);
    sd_decode_strings_field(decoder, map, "sites", true, &request->sites);
    sd_decode_enum_field(decoder, map, "frequency", sd_proto_frequencies, NULL,
                         &request->frequency);
    sd_decode_date_field(decoder, map, "date", &request->date);
    sd_decode_strings_field(decoder, map, "formats", true, &request->formats);
    sd_decode_strings_field(decoder, map, "recipients", false, &request->recipients);
    sd_decode_int_field(decoder, map, "deadline_ms", true, &request->deadline_ms);
    sd_decode_string_field(decoder, map, "delivery_id", "", &request->delivery_id);
    sd_decode_enum_field(decoder, map, "yearly_alignment", sd_proto_yearly_alignments, "calendar",
                         &request->yearly_alignment);
    sd_decode_string_field(decoder, map, "subject", "", &request->subject);
    sd_decode_strings_field(decoder, map, "warnings", false, &request->warnings);
}

static void s_output(sd_decoder *decoder, const msgpack_object *object, sd_output *output)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "format", NULL, &output->format);
    sd_decode_string_field(decoder, object, "content_type", NULL, &output->content_type);
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, "body", 4);
    const msgpack_object *body = sd_decode_find(decoder, object, "body", true);
    if (body && body->type != MSGPACK_OBJECT_BIN)
        sd_decode_fail(decoder, "must be binary (msgpack bin)");
    else if (body && body->via.bin.size > decoder->limits->max_string_bytes)
        sd_decode_fail(decoder, "is %" PRIu32 " bytes long, over the limit of %zu",
                       body->via.bin.size, decoder->limits->max_string_bytes);
    else if (body && body->via.bin.size > 0) {
        output->body = malloc(body->via.bin.size);
        if (!output->body)
            sd_decode_fail(decoder, "out of memory for %" PRIu32 " bytes", body->via.bin.size);
        else {
            memcpy(output->body, body->via.bin.ptr, body->via.bin.size);
            output->body_size = body->via.bin.size;
        }
    }
    sd_proto_path_restore(&decoder->path, mark);
}

static void s_report_reply(sd_decoder *decoder, const msgpack_object *map, sd_report_reply *reply)
{
    sd_decode_string_field(decoder, map, "request_id", NULL, &reply->request_id);
    sd_decode_enum_field(decoder, map, "status", sd_proto_report_statuses, NULL, &reply->status);
    sd_decode_string_field(decoder, map, "subject", NULL, &reply->subject);
    S_ITEMS_FIELD(decoder, map, "outputs", true, reply->outputs, reply->output_count, s_output);
    sd_decode_strings_field(decoder, map, "missing", true, &reply->missing);
    sd_decode_strings_field(decoder, map, "warnings", true, &reply->warnings);
    sd_decode_bool_field(decoder, map, "delivered", true, &reply->delivered);
}

static void s_query(sd_decoder *decoder, const msgpack_object *object, sd_query *query)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "id", NULL, &query->id);
    sd_decode_string_field(decoder, object, "table_id", NULL, &query->table_id);
    sd_decode_int_field(decoder, object, "expected_parts", true, &query->expected_parts);
    s_spec_field(decoder, object, &query->spec);
    sd_decode_string_field(decoder, object, "api", NULL, &query->api);
    sd_decode_strings_field(decoder, object, "metrics", true, &query->metrics);
    sd_decode_strings_field(decoder, object, "dimensions", true, &query->dimensions);
    sd_decode_string_field(decoder, object, "params_json", "{}", &query->params_json);
    sd_decode_int_field(decoder, object, "limit", false, &query->limit);
    S_ITEMS_FIELD(decoder, object, "periods", true, query->periods, query->period_count, s_period);
}

static void s_fetch_request(sd_decoder *decoder, const msgpack_object *map,
                            sd_fetch_request *request)
{
    sd_decode_string_field(decoder, map, "job_id", NULL, &request->job_id);
    sd_decode_string_field(decoder, map, "request_id", NULL, &request->request_id);
    sd_decode_string_field(decoder, map, "reporter_id", NULL, &request->reporter_id);
    sd_decode_string_field(decoder, map, "service", NULL, &request->service);
    sd_decode_string_field(decoder, map, "site", NULL, &request->site);
    sd_decode_int_field(decoder, map, "deadline_ms", true, &request->deadline_ms);
    S_ITEMS_FIELD(decoder, map, "queries", true, request->queries, request->query_count, s_query);
}

static void s_part_status(sd_decoder *decoder, const msgpack_object *object, sd_part_status *part)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "table_id", NULL, &part->table_id);
    sd_decode_string_field(decoder, object, "part_id", NULL, &part->part_id);
    sd_decode_int_field(decoder, object, "rows", true, &part->rows);
    sd_decode_string_field(decoder, object, "digest", "", &part->digest);
    sd_decode_nullable_field(decoder, object, "error", &part->error);
}

static void s_fetch_reply(sd_decoder *decoder, const msgpack_object *map, sd_fetch_reply *reply)
{
    sd_decode_string_field(decoder, map, "job_id", NULL, &reply->job_id);
    sd_decode_string_field(decoder, map, "request_id", NULL, &reply->request_id);
    sd_decode_string_field(decoder, map, "site", NULL, &reply->site);
    S_ITEMS_FIELD(decoder, map, "parts", true, reply->parts, reply->part_count, s_part_status);
    sd_decode_strings_field(decoder, map, "warnings", s_warnings_required(decoder),
                            &reply->warnings);
}

static void s_table_raw(sd_decoder *decoder, const msgpack_object *map, sd_table_raw *table)
{
    sd_decode_string_field(decoder, map, "request_id", NULL, &table->request_id);
    sd_decode_string_field(decoder, map, "reporter_id", NULL, &table->reporter_id);
    sd_decode_string_field(decoder, map, "job_id", NULL, &table->job_id);
    sd_decode_string_field(decoder, map, "table_id", NULL, &table->table_id);
    sd_decode_string_field(decoder, map, "part_id", NULL, &table->part_id);
    sd_decode_string_field(decoder, map, "site", NULL, &table->site);
    s_period_field(decoder, map, "period", &table->period);
    sd_decode_int_field(decoder, map, "expected_parts", true, &table->expected_parts);
    sd_decode_int_field(decoder, map, "deadline_ms", true, &table->deadline_ms);
    s_spec_field(decoder, map, &table->spec);
    sd_decode_table_data(decoder, map, &table->data);
    sd_decode_strings_field(decoder, map, "warnings", s_warnings_required(decoder),
                            &table->warnings);
    sd_decode_nullable_field(decoder, map, "error", &table->error);
}

static void s_missing_part(sd_decoder *decoder, const msgpack_object *object, sd_missing_part *part)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "site", NULL, &part->site);
    sd_decode_enum_field(decoder, object, "period", sd_proto_period_labels, NULL, &part->period);
    sd_decode_string_field(decoder, object, "error", "", &part->error);
}

static void s_table_normalized(sd_decoder *decoder, const msgpack_object *map,
                               sd_table_normalized *table)
{
    sd_decode_string_field(decoder, map, "request_id", NULL, &table->request_id);
    sd_decode_string_field(decoder, map, "reporter_id", NULL, &table->reporter_id);
    sd_decode_string_field(decoder, map, "table_id", NULL, &table->table_id);
    S_ITEMS_FIELD(decoder, map, "periods", true, table->periods, table->period_count, s_period);
    sd_decode_table_data(decoder, map, &table->data);
    sd_decode_totals(decoder, map, table->data.column_count, &table->totals);
    S_ITEMS_FIELD(decoder, map, "missing", true, table->missing, table->missing_count,
                  s_missing_part);
    sd_decode_strings_field(decoder, map, "warnings", s_warnings_required(decoder),
                            &table->warnings);
}

static void s_availability_request(sd_decoder *decoder, const msgpack_object *map,
                                   sd_availability_request *request)
{
    sd_decode_string_field(decoder, map, "id", NULL, &request->id);
    sd_decode_string_field(decoder, map, "service", NULL, &request->service);
    sd_decode_strings_field(decoder, map, "sites", true, &request->sites);
    sd_decode_date_field(decoder, map, "date", &request->date);
    sd_decode_int_field(decoder, map, "deadline_ms", true, &request->deadline_ms);
}

static void s_site_availability(sd_decoder *decoder, const msgpack_object *object,
                                sd_site_availability *site)
{
    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "site", NULL, &site->site);
    sd_decode_bool_field(decoder, object, "complete", true, &site->complete);
    sd_decode_string_field(decoder, object, "detail", "", &site->detail);
}

static void s_availability_reply(sd_decoder *decoder, const msgpack_object *map,
                                 sd_availability_reply *reply)
{
    sd_decode_string_field(decoder, map, "id", NULL, &reply->id);
    sd_decode_date_field(decoder, map, "date", &reply->date);
    S_ITEMS_FIELD(decoder, map, "sites", true, reply->sites, reply->site_count,
                  s_site_availability);
}

static void s_error(sd_decoder *decoder, const msgpack_object *map, sd_error_msg *error)
{
    sd_decode_string_field(decoder, map, "id", "", &error->id);
    sd_decode_int_field(decoder, map, "code", true, &error->code);
    sd_decode_string_field(decoder, map, "text", NULL, &error->text);
}

static void s_body(sd_decoder *decoder, const msgpack_object *map, sd_msg *msg)
{
    switch (msg->type) {
    case SD_MSG_REPORT_REQUEST:
        s_report_request(decoder, map, &msg->as.report_request);
        break;
    case SD_MSG_REPORT_REPLY:
        s_report_reply(decoder, map, &msg->as.report_reply);
        break;
    case SD_MSG_FETCH_REQUEST:
        s_fetch_request(decoder, map, &msg->as.fetch_request);
        break;
    case SD_MSG_FETCH_REPLY:
        s_fetch_reply(decoder, map, &msg->as.fetch_reply);
        break;
    case SD_MSG_TABLE_RAW:
        s_table_raw(decoder, map, &msg->as.table_raw);
        break;
    case SD_MSG_TABLE_NORMALIZED:
        s_table_normalized(decoder, map, &msg->as.table_normalized);
        break;
    case SD_MSG_AVAILABILITY_REQUEST:
        s_availability_request(decoder, map, &msg->as.availability_request);
        break;
    case SD_MSG_AVAILABILITY_REPLY:
        s_availability_reply(decoder, map, &msg->as.availability_reply);
        break;
    case SD_MSG_ERROR:
        s_error(decoder, map, &msg->as.error);
        break;
    }
}

//  Reads "v" and "type" and returns an empty message of that type.
static sd_msg *s_envelope(sd_decoder *decoder, const msgpack_object *map)
{
    int64_t version = 0;
    char *name = NULL;
    sd_msg_type type = SD_MSG_ERROR;

    sd_decode_int_field(decoder, map, "v", true, &version);
    if (!decoder->failed && version != SD_PROTO_VERSION && version != SD_PROTO_VERSION_PREVIOUS) {
        size_t mark = sd_proto_path_key(&decoder->path, "v", 1);
        sd_decode_fail(decoder, "is %" PRId64 "; this decoder accepts versions %d and %d", version,
                       SD_PROTO_VERSION_PREVIOUS, SD_PROTO_VERSION);
        sd_proto_path_restore(&decoder->path, mark);
    }
    sd_decode_string_field(decoder, map, "type", NULL, &name);
    if (!decoder->failed && sd_msg_type_parse(name, strlen(name), &type) != 0) {
        size_t mark = sd_proto_path_key(&decoder->path, "type", 4);
        sd_decode_fail(decoder, "is \"%.60s\", not a known message type", name);
        sd_proto_path_restore(&decoder->path, mark);
    }
    free(name);
    if (decoder->failed)
        return NULL;

    sd_msg *msg = sd_msg_new(type);
    if (!msg) {
        sd_decode_fail(decoder, "out of memory for the message");
        return NULL;
    }
    msg->version = (int)version;
    decoder->version = (int)version;
    return msg;
}

//  Copies the body with its rows array replaced by an empty one, so that
//  msgpack-c builds no object per cell. Returns the copy (its size in
//  *copy_size), or NULL when out of memory.
static uint8_t *s_without_rows(const uint8_t *data, size_t size, const sd_proto_rows_span *rows,
                               size_t *copy_size)
{
    size_t before = (size_t)(rows->header - data);
    size_t after = size - (size_t)(rows->end - data);
    uint8_t *copy = malloc(before + 1 + after);

    if (!copy)
        return NULL;
    memcpy(copy, data, before);
    copy[before] = 0x90;
    if (after > 0)
        memcpy(copy + before + 1, rows->end, after);
    *copy_size = before + 1 + after;
    return copy;
}

//  Runs msgpack-c over a body that sd_proto_scan accepted, its rows left
//  out, then reads the message out of the object tree. The rows are read
//  afterwards, by sd_decode_rows.
static sd_msg *s_decode_tree(sd_decoder *decoder, const uint8_t *data, size_t size)
{
    msgpack_unpacked unpacked;
    size_t offset = 0;
    sd_msg *msg = NULL;
    uint8_t *copy = NULL;

    if (decoder->rows.header) {
        copy = s_without_rows(data, size, &decoder->rows, &size);
        if (!copy) {
            sd_decode_fail(decoder, "out of memory while parsing the body");
            return NULL;
        }
        data = copy;
    }
    msgpack_unpacked_init(&unpacked);
    msgpack_unpack_return rc = msgpack_unpack_next(&unpacked, (const char *)data, size, &offset);
    if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
        sd_decode_fail(decoder, "out of memory while parsing the body");
    else if (rc != MSGPACK_UNPACK_SUCCESS || offset != size)
        sd_decode_fail(decoder, "body is not valid msgpack");
    else if (sd_decode_map(decoder, &unpacked.data))
        msg = s_envelope(decoder, &unpacked.data);

    if (msg)
        s_body(decoder, &unpacked.data, msg);
    if (decoder->failed)
        sd_msg_destroy(&msg);
    msgpack_unpacked_destroy(&unpacked);
    free(copy);
    return msg;
}

//  Checks the size of the body and scans it. Returns 0 or -1.
static int s_begin(sd_decoder *decoder, const uint8_t *data, size_t size,
                   const sd_proto_limits *limits, sd_proto_limits *defaults)
{
    if (!limits) {
        sd_proto_limits_default(defaults);
        limits = defaults;
    }
    decoder->limits = limits;
    if (size > limits->max_message_bytes) {
        sd_proto_fail(decoder->err, NULL, "body is %zu bytes, over the limit of %zu", size,
                      limits->max_message_bytes);
        return -1;
    }
    return sd_proto_scan_rows(data, size, limits, &decoder->rows, decoder->err);
}

//  Returns the table of a message type that has rows, or NULL.
static sd_table_data *s_table_of(sd_msg *msg)
{
    if (msg->type == SD_MSG_TABLE_RAW)
        return &msg->as.table_raw.data;
    if (msg->type == SD_MSG_TABLE_NORMALIZED)
        return &msg->as.table_normalized.data;
    return NULL;
}

//  Reserves every row of the table at once when the bytes of the rows
//  could hold them all; a row takes at least one byte more than its
//  cells. Otherwise rows are added one by one, so that a body cannot make
//  the decoder reserve more than its size allows. Returns 0 or -1.
static int s_reserve_rows(sd_decoder *decoder, sd_table_data *data)
{
    size_t rows = decoder->table_rows;
    size_t width = decoder->table_width;
    size_t bytes = (size_t)(decoder->rows.end - decoder->rows.items);

    if (rows == 0 || width == 0 || width + 1 > bytes / rows)
        return 0;
    data->cells = calloc(rows * width, sizeof(*data->cells));
    if (!data->cells) {
        sd_decode_fail(decoder, "out of memory for %zu rows", rows);
        return -1;
    }
    data->row_capacity = rows;
    return 0;
}

//  Appends one row to the message's table, with its own copy of each
//  string.
static int s_append_row(void *arg, sd_decoder *decoder, const sd_value *cells, size_t width)
{
    sd_table_data *data = arg;

    if (width == 0) {
        data->row_count++;
        return 0;
    }
    sd_value *row = sd_table_data_append_row(data);
    if (!row) {
        sd_decode_fail(decoder, "out of memory for %zu rows", data->row_count + 1);
        return -1;
    }
    for (size_t c = 0; c < width; c++) {
        if (cells[c].kind != SD_VALUE_STRING)
            row[c] = cells[c];
        else if (sd_value_set_string(&row[c], cells[c].as.s.ptr, cells[c].as.s.len) != 0) {
            sd_decode_fail(decoder, "out of memory for a string of %zu bytes", cells[c].as.s.len);
            return -1;
        }
    }
    return 0;
}

sd_msg *sd_msg_decode(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                      sd_proto_error *err)
{
    sd_proto_limits defaults;
    sd_decoder decoder = {.err = err};

    if (s_begin(&decoder, data, size, limits, &defaults) != 0)
        return NULL;
    sd_msg *msg = s_decode_tree(&decoder, data, size);
    sd_table_data *table = msg ? s_table_of(msg) : NULL;
    if (table && s_reserve_rows(&decoder, table) == 0)
        sd_decode_rows(&decoder, s_append_row, table);
    if (decoder.failed)
        sd_msg_destroy(&msg);
    return msg;
}

typedef struct {
    sd_table_row_fn *on_row;
    void *arg;
} s_row_sink;

static int s_forward_row(void *arg, sd_decoder *decoder, const sd_value *cells, size_t width)
{
    (void)decoder;
    const s_row_sink *sink = arg;
    return sink->on_row(sink->arg, cells, width);
}

static int s_ignore_row(void *arg, sd_decoder *decoder, const sd_value *cells, size_t width)
{
    (void)arg;
    (void)decoder;
    (void)cells;
    (void)width;
    return 0;
}

int sd_table_raw_decode_rows(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                             sd_table_raw_header_fn *on_header, sd_table_row_fn *on_row,
                             void *arg, sd_proto_error *err)
{
    sd_proto_limits defaults;
    sd_decoder decoder = {.err = err};
    s_row_sink sink = {on_row, arg};

    if (s_begin(&decoder, data, size, limits, &defaults) != 0)
        return -1;
    sd_msg *msg = s_decode_tree(&decoder, data, size);
    if (msg && msg->type != SD_MSG_TABLE_RAW) {
        //  A body of another type fails as sd_msg_decode fails it, and on
        //  "type" only when it is valid.
        sd_decode_rows(&decoder, s_ignore_row, NULL);
        size_t mark = sd_proto_path_key(&decoder.path, "type", 4);
        sd_decode_fail(&decoder, "is %s; expected table.raw", sd_msg_type_name(msg->type));
        sd_proto_path_restore(&decoder.path, mark);
    }
    if (!decoder.failed && on_header(arg, &msg->as.table_raw, decoder.table_rows) != 0)
        sd_decode_fail(&decoder, "the header callback stopped the decoding before the rows");
    sd_decode_rows(&decoder, s_forward_row, &sink);
    sd_msg_destroy(&msg);
    return decoder.failed ? -1 : 0;
}

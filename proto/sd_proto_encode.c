/*  sd_proto_encode: messages to msgpack bodies, with msgpack-c's packer.

    The encoder checks what the decoder checks (required fields, UTF-8,
    enumerations, dates, row width) so that a body it writes always decodes,
    except for the size limits, which belong to the receiver. The helpers
    below stop doing anything once one has failed; the first error is the
    one reported.
*/
#include "sd_proto_internal.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    sd_proto_error *err;
    sd_proto_path path;
    int version;
    bool failed;
} s_encoder;

static void s_fail(s_encoder *self, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void s_fail(s_encoder *self, const char *format, ...)
{
    va_list args;

    if (self->failed)
        return;
    self->failed = true;
    va_start(args, format);
    sd_proto_vfail(self->err, &self->path, format, args);
    va_end(args);
}

//  Takes the result of a msgpack_pack_* call: they fail only when the
//  buffer cannot grow.
static void s_packed(s_encoder *self, int rc)
{
    if (rc != 0)
        s_fail(self, "out of memory while encoding");
}

static void s_map(s_encoder *self, size_t entries)
{
    if (!self->failed)
        s_packed(self, msgpack_pack_map(&self->packer, (uint32_t)entries));
}

static void s_array(s_encoder *self, size_t items)
{
    if (self->failed)
        return;
    if (items > UINT32_MAX)
        s_fail(self, "has %zu items, more than msgpack can encode", items);
    else
        s_packed(self, msgpack_pack_array(&self->packer, (uint32_t)items));
}

static void s_raw_text(s_encoder *self, const char *text, size_t len)
{
    if (self->failed)
        return;
    if (len > UINT32_MAX) {
        s_fail(self, "is %zu bytes long, more than msgpack can encode", len);
        return;
    }
    s_packed(self, msgpack_pack_str(&self->packer, len));
    if (!self->failed && len > 0)
        s_packed(self, msgpack_pack_str_body(&self->packer, text, len));
}

//  Packs a string value after checking it (strict UTF-8, no NUL).
static void s_text(s_encoder *self, const char *text)
{
    if (self->failed)
        return;
    if (!text) {
        s_fail(self, "is required but NULL");
        return;
    }
    size_t len = strlen(text);
    if (sd_proto_check_text(text, len, false, self->err, &self->path) != 0)
        self->failed = true;
    s_raw_text(self, text, len);
}

//  Packs the key and makes it the last part of the path until s_leave.
static size_t s_enter(s_encoder *self, const char *key)
{
    s_raw_text(self, key, strlen(key));
    return sd_proto_path_key(&self->path, key, strlen(key));
}

static void s_leave(s_encoder *self, size_t mark)
{
    sd_proto_path_restore(&self->path, mark);
}

//  Writes a string field; a NULL value is replaced by fallback, and is an
//  error when fallback is NULL too.
static void s_string_field(s_encoder *self, const char *key, const char *value,
                           const char *fallback)
{
    size_t mark = s_enter(self, key);
    s_text(self, value ? value : fallback);
    s_leave(self, mark);
}

static void s_enum_field(s_encoder *self, const char *key, const char *value,
                         const char *const *allowed)
{
    size_t mark = s_enter(self, key);
    if (!self->failed && value && !sd_proto_enum_valid(allowed, value, strlen(value))) {
        char names[96];
        sd_proto_enum_describe(allowed, names, sizeof(names));
        s_fail(self, "is \"%.40s\"; expected %s", value, names);
    }
    s_text(self, value);
    s_leave(self, mark);
}

static void s_date_field(s_encoder *self, const char *key, const char *value)
{
    size_t mark = s_enter(self, key);
    if (!self->failed && value && !sd_proto_date_valid(value, strlen(value)))
        s_fail(self, "is \"%.40s\", not a calendar date written YYYY-MM-DD", value);
    s_text(self, value);
    s_leave(self, mark);
}

static void s_int_field(s_encoder *self, const char *key, int64_t value)
{
    s_raw_text(self, key, strlen(key));
    if (!self->failed)
        s_packed(self, msgpack_pack_int64(&self->packer, value));
}

static void s_bool_field(s_encoder *self, const char *key, bool value)
{
    s_raw_text(self, key, strlen(key));
    if (!self->failed)
        s_packed(self,
                 value ? msgpack_pack_true(&self->packer) : msgpack_pack_false(&self->packer));
}

static void s_double_field(s_encoder *self, const char *key, double value)
{
    s_raw_text(self, key, strlen(key));
    if (!self->failed)
        s_packed(self, msgpack_pack_double(&self->packer, value));
}

static void s_strings_field(s_encoder *self, const char *key, const sd_strings *strings)
{
    size_t mark = s_enter(self, key);
    if (strings->count > 0 && !strings->items)
        s_fail(self, "has %zu items but no item array", strings->count);
    s_array(self, strings->count);
    for (size_t i = 0; i < strings->count && !self->failed; i++) {
        size_t item = sd_proto_path_index(&self->path, i);
        s_text(self, strings->items[i]);
        s_leave(self, item);
    }
    s_leave(self, mark);
}

//  Writes `warnings`, which version 1 bodies may leave out when empty.
//  Returns the number of map entries written, for the caller's count.
static size_t s_warnings_entries(const s_encoder *self, const sd_strings *warnings)
{
    return self->version == SD_PROTO_VERSION_PREVIOUS && warnings->count == 0 ? 0 : 1;
}

static void s_warnings_field(s_encoder *self, const sd_strings *warnings)
{
    if (s_warnings_entries(self, warnings) > 0)
        s_strings_field(self, "warnings", warnings);
}

//  Checks that an array of structs is present when its count is above 0.
static void s_array_of(s_encoder *self, const void *items, size_t count)
{
    if (count > 0 && !items)
        s_fail(self, "has %zu items but no item array", count);
    s_array(self, count);
}

static void s_period(s_encoder *self, const sd_period *period)
{
    s_map(self, 3);
    s_enum_field(self, "label", period->label, sd_proto_period_labels);
    s_date_field(self, "start", period->start);
    s_date_field(self, "end", period->end);
    if (!self->failed && strcmp(period->end, period->start) < 0) {
        size_t mark = sd_proto_path_key(&self->path, "end", 3);
        s_fail(self, "is %s, before the start %s", period->end, period->start);
        s_leave(self, mark);
    }
}

static void s_period_field(s_encoder *self, const char *key, const sd_period *period)
{
    size_t mark = s_enter(self, key);
    s_period(self, period);
    s_leave(self, mark);
}

static void s_periods_field(s_encoder *self, const char *key, const sd_period *periods,
                            size_t count)
{
    size_t mark = s_enter(self, key);
    s_array_of(self, periods, count);
    for (size_t i = 0; i < count && !self->failed; i++) {
        size_t item = sd_proto_path_index(&self->path, i);
        s_period(self, &periods[i]);
        s_leave(self, item);
    }
    s_leave(self, mark);
}

static void s_derived(s_encoder *self, const sd_derived *derived)
{
    s_map(self, 6);
    s_string_field(self, "name", derived->name, NULL);
    s_string_field(self, "op", derived->op, NULL);
    s_string_field(self, "a", derived->a, NULL);
    s_string_field(self, "b", derived->b, "");
    s_double_field(self, "scale", derived->scale);
    s_string_field(self, "unit", derived->unit, "");
}

static void s_sort_key(s_encoder *self, const sd_sort_key *key)
{
    s_map(self, 2);
    s_string_field(self, "column", key->column, NULL);
    s_bool_field(self, "descending", key->descending);
}

static void s_rule(s_encoder *self, const sd_rule *rule)
{
    s_map(self, 2);
    s_string_field(self, "name", rule->name, NULL);
    s_strings_field(self, "args", &rule->args);
}

//  Writes an array of structs under key, one item at a time with write.
#define S_ITEMS_FIELD(self, key, items, count, write)                                              \
    do {                                                                                           \
        size_t mark_ = s_enter(self, key);                                                         \
        s_array_of(self, items, count);                                                            \
        for (size_t i_ = 0; i_ < (count) && !(self)->failed; i_++) {                               \
            size_t item_ = sd_proto_path_index(&(self)->path, i_);                                 \
            write(self, &(items)[i_]);                                                             \
            s_leave(self, item_);                                                                  \
        }                                                                                          \
        s_leave(self, mark_);                                                                      \
    } while (0)

static void s_spec_field(s_encoder *self, const char *key, const sd_table_spec *spec)
{
    size_t mark = s_enter(self, key);
    s_map(self, 7);
    s_strings_field(self, "keys", &spec->keys);
    s_strings_field(self, "sum", &spec->sum);
    S_ITEMS_FIELD(self, "derived", spec->derived, spec->derived_count, s_derived);
    S_ITEMS_FIELD(self, "sort", spec->sort, spec->sort_count, s_sort_key);
    s_int_field(self, "limit", spec->limit);
    s_strings_field(self, "compare", &spec->compare);
    S_ITEMS_FIELD(self, "rules", spec->rules, spec->rule_count, s_rule);
    s_leave(self, mark);
}

static void s_column(s_encoder *self, const sd_column *column)
{
    s_map(self, 3);
    s_string_field(self, "name", column->name, NULL);
    size_t mark = s_enter(self, "kind");
    if (column->kind == SD_COLUMN_DIMENSION || column->kind == SD_COLUMN_METRIC)
        s_text(self, sd_proto_column_kinds[column->kind == SD_COLUMN_METRIC]);
    else
        s_fail(self, "is %d, not a column kind", (int)column->kind);
    s_leave(self, mark);
    s_string_field(self, "unit", column->unit, "");
}

static void s_value(s_encoder *self, const sd_value *value)
{
    msgpack_packer *packer = &self->packer;

    switch (value->kind) {
    case SD_VALUE_NIL:
        s_packed(self, msgpack_pack_nil(packer));
        break;
    case SD_VALUE_BOOL:
        s_packed(self, value->as.b ? msgpack_pack_true(packer) : msgpack_pack_false(packer));
        break;
    case SD_VALUE_INT:
        s_packed(self, msgpack_pack_int64(packer, value->as.i));
        break;
    case SD_VALUE_FLOAT:
        s_packed(self, msgpack_pack_double(packer, value->as.f));
        break;
    case SD_VALUE_STRING:
        if (!value->as.s.ptr && value->as.s.len > 0)
            s_fail(self, "is a string of %zu bytes without data", value->as.s.len);
        else if (sd_proto_check_text(value->as.s.ptr, value->as.s.len, true, self->err,
                                     &self->path) != 0)
            self->failed = true;
        s_raw_text(self, value->as.s.ptr, value->as.s.len);
        break;
    default:
        s_fail(self, "has the unknown value kind %d", (int)value->kind);
    }
}

static void s_rows_field(s_encoder *self, const sd_table_data *data)
{
    size_t mark = s_enter(self, "rows");
    size_t width = data->column_count;

    if (data->row_count > 0 && width > 0 && !data->cells)
        s_fail(self, "has %zu rows but no cells", data->row_count);
    s_array(self, data->row_count);
    for (size_t r = 0; r < data->row_count && !self->failed; r++) {
        s_array(self, width);
        const sd_value *row = data->cells + r * width;
        for (size_t c = 0; c < width && !self->failed; c++) {
            s_value(self, &row[c]);
            if (self->failed) {
                //  The path of a cell is built only when it is needed.
                sd_proto_path_index(&self->path, r);
                sd_proto_path_index(&self->path, c);
                if (self->err)
                    snprintf(self->err->field, sizeof(self->err->field), "%s", self->path.text);
            }
        }
    }
    s_leave(self, mark);
}

//  Writes the "columns" and "rows" entries of a table message.
static void s_table_data_fields(s_encoder *self, const sd_table_data *data)
{
    S_ITEMS_FIELD(self, "columns", data->columns, data->column_count, s_column);
    s_rows_field(self, data);
}

static void s_totals_field(s_encoder *self, const sd_value *totals, size_t count)
{
    static const sd_value nil = {.kind = SD_VALUE_NIL};
    size_t mark = s_enter(self, "totals");

    s_array(self, count);
    for (size_t i = 0; i < count && !self->failed; i++) {
        size_t item = sd_proto_path_index(&self->path, i);
        s_value(self, totals ? &totals[i] : &nil);
        s_leave(self, item);
    }
    s_leave(self, mark);
}

static void s_envelope(s_encoder *self, sd_msg_type type, size_t fields)
{
    s_map(self, fields + 2);
    s_int_field(self, "v", self->version);
    s_raw_text(self, "type", 4);
    s_raw_text(self, sd_msg_type_name(type), strlen(sd_msg_type_name(type)));
}

static void s_report_request(s_encoder *self, const sd_report_request *request)
{
    //  warnings is left out when empty, so that a request without any has
    //  the bytes it had before the field existed.
    bool with_warnings = request->warnings.count > 0;
    s_envelope(self, SD_MSG_REPORT_REQUEST, with_warnings ? 12 : 11);
    s_string_field(self, "request_id", request->request_id, NULL);
    s_string_field(self, "report", request->report, NULL);
    s_strings_field(self, "sites", &request->sites);
    s_enum_field(self, "frequency", request->frequency, sd_proto_frequencies);
    s_date_field(self, "date", request->date);
    s_strings_field(self, "formats", &request->formats);
    s_strings_field(self, "recipients", &request->recipients);
    s_int_field(self, "deadline_ms", request->deadline_ms);
    s_string_field(self, "delivery_id", request->delivery_id, "");
    s_enum_field(self, "yearly_alignment",
                 request->yearly_alignment ? request->yearly_alignment : "calendar",
                 sd_proto_yearly_alignments);
    if (with_warnings)
        s_strings_field(self, "warnings", &request->warnings);
    s_string_field(self, "subject", request->subject, "");
}

static void s_output(s_encoder *self, const sd_output *output)
{
    s_map(self, 3);
    s_string_field(self, "format", output->format, NULL);
    s_string_field(self, "content_type", output->content_type, NULL);
    size_t mark = s_enter(self, "body");
    if (output->body_size > UINT32_MAX || (output->body_size > 0 && !output->body))
        s_fail(self, "has %zu bytes that cannot be encoded", output->body_size);
    if (!self->failed)
        s_packed(self, msgpack_pack_bin(&self->packer, output->body_size));
    if (!self->failed && output->body_size > 0)
        s_packed(self, msgpack_pack_bin_body(&self->packer, output->body, output->body_size));
    s_leave(self, mark);
}

static void s_report_reply(s_encoder *self, const sd_report_reply *reply)
{
    s_envelope(self, SD_MSG_REPORT_REPLY, 7);
    s_string_field(self, "request_id", reply->request_id, NULL);
    s_enum_field(self, "status", reply->status, sd_proto_report_statuses);
    s_string_field(self, "subject", reply->subject, NULL);
    S_ITEMS_FIELD(self, "outputs", reply->outputs, reply->output_count, s_output);
    s_strings_field(self, "missing", &reply->missing);
    s_strings_field(self, "warnings", &reply->warnings);
    s_bool_field(self, "delivered", reply->delivered);
}

static void s_query(s_encoder *self, const sd_query *query)
{
    s_map(self, 10);
    s_string_field(self, "id", query->id, NULL);
    s_string_field(self, "table_id", query->table_id, NULL);
    s_int_field(self, "expected_parts", query->expected_parts);
    s_spec_field(self, "spec", &query->spec);
    s_string_field(self, "api", query->api, NULL);
    s_strings_field(self, "metrics", &query->metrics);
    s_strings_field(self, "dimensions", &query->dimensions);
    s_string_field(self, "params_json", query->params_json, "{}");
    s_int_field(self, "limit", query->limit);
    s_periods_field(self, "periods", query->periods, query->period_count);
}

static void s_fetch_request(s_encoder *self, const sd_fetch_request *request)
{
    s_envelope(self, SD_MSG_FETCH_REQUEST, 7);
    s_string_field(self, "job_id", request->job_id, NULL);
    s_string_field(self, "request_id", request->request_id, NULL);
    s_string_field(self, "reporter_id", request->reporter_id, NULL);
    s_string_field(self, "service", request->service, NULL);
    s_string_field(self, "site", request->site, NULL);
    s_int_field(self, "deadline_ms", request->deadline_ms);
    S_ITEMS_FIELD(self, "queries", request->queries, request->query_count, s_query);
}

static void s_part_status(s_encoder *self, const sd_part_status *part)
{
    s_map(self, part->error ? 5 : 4);
    s_string_field(self, "table_id", part->table_id, NULL);
    s_string_field(self, "part_id", part->part_id, NULL);
    s_int_field(self, "rows", part->rows);
    s_string_field(self, "digest", part->digest, "");
    if (part->error)
        s_string_field(self, "error", part->error, NULL);
}

static void s_fetch_reply(s_encoder *self, const sd_fetch_reply *reply)
{
    s_envelope(self, SD_MSG_FETCH_REPLY, 4 + s_warnings_entries(self, &reply->warnings));
    s_string_field(self, "job_id", reply->job_id, NULL);
    s_string_field(self, "request_id", reply->request_id, NULL);
    s_string_field(self, "site", reply->site, NULL);
    S_ITEMS_FIELD(self, "parts", reply->parts, reply->part_count, s_part_status);
    s_warnings_field(self, &reply->warnings);
}

static void s_table_raw(s_encoder *self, const sd_table_raw *table)
{
    size_t optional = s_warnings_entries(self, &table->warnings) + (table->error ? 1 : 0);

    s_envelope(self, SD_MSG_TABLE_RAW, 12 + optional);
    s_string_field(self, "request_id", table->request_id, NULL);
    s_string_field(self, "reporter_id", table->reporter_id, NULL);
    s_string_field(self, "job_id", table->job_id, NULL);
    s_string_field(self, "table_id", table->table_id, NULL);
    s_string_field(self, "part_id", table->part_id, NULL);
    s_string_field(self, "site", table->site, NULL);
    s_period_field(self, "period", &table->period);
    s_int_field(self, "expected_parts", table->expected_parts);
    s_int_field(self, "deadline_ms", table->deadline_ms);
    s_spec_field(self, "spec", &table->spec);
    s_table_data_fields(self, &table->data);
    s_warnings_field(self, &table->warnings);
    if (table->error)
        s_string_field(self, "error", table->error, NULL);
}

static void s_missing_part(s_encoder *self, const sd_missing_part *part)
{
    s_map(self, 3);
    s_string_field(self, "site", part->site, NULL);
    s_enum_field(self, "period", part->period, sd_proto_period_labels);
    s_string_field(self, "error", part->error, "");
}

static void s_table_normalized(s_encoder *self, const sd_table_normalized *table)
{
    s_envelope(self, SD_MSG_TABLE_NORMALIZED, 8 + s_warnings_entries(self, &table->warnings));
    s_string_field(self, "request_id", table->request_id, NULL);
    s_string_field(self, "reporter_id", table->reporter_id, NULL);
    s_string_field(self, "table_id", table->table_id, NULL);
    s_periods_field(self, "periods", table->periods, table->period_count);
    s_table_data_fields(self, &table->data);
    s_totals_field(self, table->totals, table->data.column_count);
    S_ITEMS_FIELD(self, "missing", table->missing, table->missing_count, s_missing_part);
    s_warnings_field(self, &table->warnings);
}

static void s_availability_request(s_encoder *self, const sd_availability_request *request)
{
    s_envelope(self, SD_MSG_AVAILABILITY_REQUEST, 5);
    s_string_field(self, "id", request->id, NULL);
    s_string_field(self, "service", request->service, NULL);
    s_strings_field(self, "sites", &request->sites);
    s_date_field(self, "date", request->date);
    s_int_field(self, "deadline_ms", request->deadline_ms);
}

static void s_site_availability(s_encoder *self, const sd_site_availability *site)
{
    s_map(self, 3);
    s_string_field(self, "site", site->site, NULL);
    s_bool_field(self, "complete", site->complete);
    s_string_field(self, "detail", site->detail, "");
}

static void s_availability_reply(s_encoder *self, const sd_availability_reply *reply)
{
    s_envelope(self, SD_MSG_AVAILABILITY_REPLY, 3);
    s_string_field(self, "id", reply->id, NULL);
    s_date_field(self, "date", reply->date);
    S_ITEMS_FIELD(self, "sites", reply->sites, reply->site_count, s_site_availability);
}

static void s_error(s_encoder *self, const sd_error_msg *error)
{
    s_envelope(self, SD_MSG_ERROR, 3);
    s_string_field(self, "id", error->id, "");
    s_int_field(self, "code", error->code);
    s_string_field(self, "text", error->text, NULL);
}

static void s_message(s_encoder *self, const sd_msg *msg)
{
    switch (msg->type) {
    case SD_MSG_REPORT_REQUEST:
        s_report_request(self, &msg->as.report_request);
        break;
    case SD_MSG_REPORT_REPLY:
        s_report_reply(self, &msg->as.report_reply);
        break;
    case SD_MSG_FETCH_REQUEST:
        s_fetch_request(self, &msg->as.fetch_request);
        break;
    case SD_MSG_FETCH_REPLY:
        s_fetch_reply(self, &msg->as.fetch_reply);
        break;
    case SD_MSG_TABLE_RAW:
        s_table_raw(self, &msg->as.table_raw);
        break;
    case SD_MSG_TABLE_NORMALIZED:
        s_table_normalized(self, &msg->as.table_normalized);
        break;
    case SD_MSG_AVAILABILITY_REQUEST:
        s_availability_request(self, &msg->as.availability_request);
        break;
    case SD_MSG_AVAILABILITY_REPLY:
        s_availability_reply(self, &msg->as.availability_reply);
        break;
    case SD_MSG_ERROR:
        s_error(self, &msg->as.error);
        break;
    }
}

int sd_msg_encode(const sd_msg *msg, uint8_t **data, size_t *size, sd_proto_error *err)
{
    s_encoder self = {.err = err};

    *data = NULL;
    *size = 0;
    if (!msg || !sd_msg_type_name(msg->type)) {
        sd_proto_path_key(&self.path, "type", 4);
        sd_proto_fail(err, &self.path, "is not a known message type");
        return -1;
    }
    if (msg->version != SD_PROTO_VERSION && msg->version != SD_PROTO_VERSION_PREVIOUS) {
        sd_proto_path_key(&self.path, "v", 1);
        sd_proto_fail(err, &self.path, "is %d; only versions %d and %d can be encoded",
                      msg->version, SD_PROTO_VERSION_PREVIOUS, SD_PROTO_VERSION);
        return -1;
    }

    self.version = msg->version;
    msgpack_sbuffer_init(&self.buffer);
    msgpack_packer_init(&self.packer, &self.buffer, msgpack_sbuffer_write);
    s_message(&self, msg);
    if (self.failed) {
        msgpack_sbuffer_destroy(&self.buffer);
        return -1;
    }
    *size = self.buffer.size;
    *data = (uint8_t *)msgpack_sbuffer_release(&self.buffer);
    return 0;
}

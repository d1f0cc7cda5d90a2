/*  proto round trip: every message type encodes and decodes back to the
    same fields, at version 2 and at version 1 without `warnings`. The
    helpers, peeks and encode-side checks behave as sd_proto.h documents.
*/
#include "proto_samples.h"

#include <msgpack.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const sd_msg_type s_all_types[] = {
    SD_MSG_REPORT_REQUEST,       SD_MSG_REPORT_REPLY,       SD_MSG_FETCH_REQUEST,
    SD_MSG_FETCH_REPLY,          SD_MSG_TABLE_RAW,          SD_MSG_TABLE_NORMALIZED,
    SD_MSG_AVAILABILITY_REQUEST, SD_MSG_AVAILABILITY_REPLY, SD_MSG_ERROR,
};

#define TYPE_COUNT (sizeof(s_all_types) / sizeof(s_all_types[0]))

//  Encodes and decodes msg, and checks that every field came back.
static sd_msg *s_round_trip(const sd_msg *msg, uint8_t **data, size_t *size)
{
    sd_proto_error err = {{0}, {0}};

    proto_encode_or_die(msg, data, size);
    sd_msg *decoded = sd_msg_decode(*data, *size, NULL, &err);
    if (!decoded)
        fail_msg("%s did not decode: %s: %s", sd_msg_type_name(msg->type), err.field, err.text);
    assert_int_equal(proto_compare(msg, decoded, stderr), 0);
    return decoded;
}

//  Returns true when the top-level map of the body has key.
static bool s_body_has_key(const uint8_t *data, size_t size, const char *key)
{
    msgpack_unpacked unpacked;
    size_t offset = 0;
    bool found = false;

    msgpack_unpacked_init(&unpacked);
    assert_int_equal(msgpack_unpack_next(&unpacked, (const char *)data, size, &offset),
                     MSGPACK_UNPACK_SUCCESS);
    const msgpack_object_map *map = &unpacked.data.via.map;
    for (uint32_t i = 0; i < map->size; i++) {
        const msgpack_object_str *name = &map->ptr[i].key.via.str;
        if (name->size == strlen(key) && memcmp(name->ptr, key, name->size) == 0)
            found = true;
    }
    msgpack_unpacked_destroy(&unpacked);
    return found;
}

static void test_every_type_version_2(void **state)
{
    (void)state;
    for (size_t i = 0; i < TYPE_COUNT; i++) {
        uint8_t *data;
        size_t size;
        sd_msg *msg = proto_sample(s_all_types[i]);
        sd_msg *decoded = s_round_trip(msg, &data, &size);

        assert_int_equal(decoded->version, 2);
        assert_int_equal(decoded->type, s_all_types[i]);
        if (proto_sample_warnings(msg))
            assert_true(s_body_has_key(data, size, "warnings"));
        free(data);
        sd_msg_destroy(&decoded);
        sd_msg_destroy(&msg);
        assert_null(msg);
    }
}

//  Version 1 senders leave `warnings` out when there are none.
static void test_version_1_without_warnings(void **state)
{
    (void)state;
    for (size_t i = 0; i < TYPE_COUNT; i++) {
        uint8_t *data;
        size_t size;
        sd_msg *msg = proto_sample(s_all_types[i]);
        sd_strings *warnings = proto_sample_warnings(msg);

        msg->version = 1;
        if (warnings)
            sd_strings_clear(warnings);
        sd_msg *decoded = s_round_trip(msg, &data, &size);
        assert_int_equal(decoded->version, 1);
        if (warnings) {
            assert_false(s_body_has_key(data, size, "warnings"));
            assert_int_equal(proto_sample_warnings(decoded)->count, 0);
        }
        free(data);
        sd_msg_destroy(&decoded);
        sd_msg_destroy(&msg);
    }
}

static void test_version_1_with_warnings(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    sd_msg *msg = proto_sample(SD_MSG_TABLE_RAW);

    msg->version = 1;
    sd_msg *decoded = s_round_trip(msg, &data, &size);
    assert_int_equal(decoded->as.table_raw.warnings.count, 1);
    free(data);
    sd_msg_destroy(&decoded);
    sd_msg_destroy(&msg);
}

//  Optional fields left NULL encode as their documented defaults.
static void test_optional_fields_defaults(void **state)
{
    (void)state;
    sd_proto_error err;
    uint8_t *data;
    size_t size;
    sd_msg *msg = proto_sample(SD_MSG_REPORT_REQUEST);
    sd_report_request *request = &msg->as.report_request;

    sd_strings_clear(&request->recipients);
    free(request->delivery_id);
    request->delivery_id = NULL;
    free(request->yearly_alignment);
    request->yearly_alignment = NULL;
    free(request->subject);
    request->subject = NULL;
    sd_strings_clear(&request->warnings);
    proto_encode_or_die(msg, &data, &size);

    //  A request without warnings leaves the key out, as encoders before
    //  the field did.
    static const char key[] = "\xa8warnings";
    assert_null(memmem(data, size, key, sizeof key - 1));

    sd_msg *decoded = sd_msg_decode(data, size, NULL, &err);
    assert_non_null(decoded);
    assert_string_equal(decoded->as.report_request.delivery_id, "");
    assert_string_equal(decoded->as.report_request.yearly_alignment, "calendar");
    assert_string_equal(decoded->as.report_request.subject, "");
    assert_int_equal(decoded->as.report_request.recipients.count, 0);
    assert_int_equal(decoded->as.report_request.warnings.count, 0);
    free(data);
    sd_msg_destroy(&decoded);
    sd_msg_destroy(&msg);
}

//  A part that succeeded carries no error; NULL survives the round trip.
static void test_null_error_fields(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    sd_msg *msg = proto_sample(SD_MSG_TABLE_RAW);

    free(msg->as.table_raw.error);
    msg->as.table_raw.error = NULL;
    sd_msg *decoded = s_round_trip(msg, &data, &size);
    assert_null(decoded->as.table_raw.error);
    assert_false(s_body_has_key(data, size, "error"));
    free(data);
    sd_msg_destroy(&decoded);
    sd_msg_destroy(&msg);

    msg = proto_sample(SD_MSG_FETCH_REPLY);
    decoded = s_round_trip(msg, &data, &size);
    assert_null(decoded->as.fetch_reply.parts[0].error);
    assert_string_equal(decoded->as.fetch_reply.parts[1].error, "HTTP 403: permission denied");
    free(data);
    sd_msg_destroy(&decoded);
    sd_msg_destroy(&msg);
}

//  A field a newer peer added is skipped, whatever its shape.
static void test_unknown_keys_ignored(void **state)
{
    (void)state;
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    sd_proto_error err;

    msgpack_sbuffer_init(&buffer);
    msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map(&packer, 5);
    msgpack_pack_str_with_body(&packer, "future", 6);
    msgpack_pack_map(&packer, 1);
    msgpack_pack_str_with_body(&packer, "x", 1);
    msgpack_pack_array(&packer, 2);
    msgpack_pack_nil(&packer);
    msgpack_pack_double(&packer, 1.5);
    msgpack_pack_str_with_body(&packer, "v", 1);
    msgpack_pack_int(&packer, 2);
    msgpack_pack_str_with_body(&packer, "type", 4);
    msgpack_pack_str_with_body(&packer, "error", 5);
    msgpack_pack_str_with_body(&packer, "code", 4);
    msgpack_pack_int(&packer, 404);
    msgpack_pack_str_with_body(&packer, "text", 4);
    msgpack_pack_str_with_body(&packer, "no such report", 14);

    sd_msg *msg = sd_msg_decode((const uint8_t *)buffer.data, buffer.size, NULL, &err);
    assert_non_null(msg);
    assert_int_equal(msg->type, SD_MSG_ERROR);
    assert_int_equal(msg->as.error.code, 404);
    assert_string_equal(msg->as.error.id, "");
    assert_string_equal(msg->as.error.text, "no such report");
    sd_msg_destroy(&msg);
    msgpack_sbuffer_destroy(&buffer);
}

static void test_peek_type_and_int(void **state)
{
    (void)state;
    for (size_t i = 0; i < TYPE_COUNT; i++) {
        uint8_t *data;
        size_t size;
        sd_msg_type type = 0;
        int64_t deadline = 0;
        sd_msg *msg = proto_sample(s_all_types[i]);

        proto_encode_or_die(msg, &data, &size);
        assert_int_equal(sd_msg_peek_type(data, size, &type), 0);
        assert_int_equal(type, s_all_types[i]);
        if (msg->type == SD_MSG_FETCH_REQUEST) {
            assert_int_equal(sd_msg_peek_int(data, size, "deadline_ms", &deadline), 0);
            assert_int_equal(deadline, 1767225600123);
        }
        assert_int_equal(sd_msg_peek_int(data, size, "v", &deadline), 0);
        assert_int_equal(deadline, 2);
        assert_int_equal(sd_msg_peek_int(data, size, "no_such_key", &deadline), -1);
        assert_int_equal(sd_msg_peek_int(data, size, "type", &deadline), -1);

        //  Every shorter prefix is rejected or read without going past its end.
        for (size_t cut = 0; cut < size; cut++) {
            uint8_t *prefix = malloc(cut ? cut : 1);
            memcpy(prefix, data, cut);
            sd_msg_peek_type(prefix, cut, &type);
            sd_msg_peek_int(prefix, cut, "deadline_ms", &deadline);
            free(prefix);
        }
        free(data);
        sd_msg_destroy(&msg);
    }
}

static void test_peek_rejects_non_map(void **state)
{
    (void)state;
    const uint8_t array[] = {0x92, 0x01, 0x02};
    const uint8_t negative[] = {0x81, 0xa1, 'd', 0xd0, 0x85};
    sd_msg_type type;
    int64_t value = 0;

    assert_int_equal(sd_msg_peek_type(array, sizeof(array), &type), -1);
    assert_int_equal(sd_msg_peek_type(NULL, 0, &type), -1);
    assert_int_equal(sd_msg_peek_int(negative, sizeof(negative), "d", &value), 0);
    assert_int_equal(value, -123);
}

static void test_type_names(void **state)
{
    (void)state;
    sd_msg_type type;

    assert_string_equal(sd_msg_type_name(SD_MSG_FETCH_REQUEST), "fetch.request");
    assert_string_equal(sd_msg_type_name(SD_MSG_TABLE_NORMALIZED), "table.normalized");
    assert_null(sd_msg_type_name(0));
    assert_null(sd_msg_type_name(SD_MSG_ERROR + 1));
    assert_int_equal(sd_msg_type_parse("availability.reply", 18, &type), 0);
    assert_int_equal(type, SD_MSG_AVAILABILITY_REPLY);
    assert_int_equal(sd_msg_type_parse("error.", 6, &type), -1);
    assert_null(sd_msg_new(0));
}

static void test_table_helpers(void **state)
{
    (void)state;
    const sd_column columns[] = {{"site", SD_COLUMN_DIMENSION, ""},
                                 {"users", SD_COLUMN_METRIC, "count"}};
    sd_table_data table;

    assert_int_equal(sd_table_data_init(&table, columns, 2, 0), 0);
    assert_int_equal(sd_table_data_column(&table, "users"), 1);
    assert_int_equal(sd_table_data_column(&table, "sessions"), -1);
    for (int64_t r = 0; r < 1000; r++) {
        sd_value *row = sd_table_data_append_row(&table);
        assert_non_null(row);
        assert_int_equal(row[0].kind, SD_VALUE_NIL);
        assert_int_equal(row[1].kind, SD_VALUE_NIL);
        assert_int_equal(sd_value_set_string(&row[0], "a\0b", 3), 0);
        row[1] = (sd_value){.kind = SD_VALUE_INT, .as.i = r};
    }
    assert_int_equal(table.row_count, 1000);
    assert_true(table.row_capacity >= 1000);
    assert_int_equal(table.cells[999 * 2 + 1].as.i, 999);
    assert_int_equal(table.cells[5 * 2].as.s.len, 3);
    assert_memory_equal(table.cells[5 * 2].as.s.ptr, "a\0b", 4);

    //  Setting a string over a string frees the first one.
    assert_int_equal(sd_value_set_string(&table.cells[0], "xyz", 3), 0);
    assert_string_equal(table.cells[0].as.s.ptr, "xyz");
    sd_value_clear(&table.cells[0]);
    assert_int_equal(table.cells[0].kind, SD_VALUE_NIL);

    sd_table_data_clear(&table);
    assert_null(table.cells);
    assert_int_equal(table.row_count, 0);
    sd_table_data_clear(&table);
}

static void test_spec_copy(void **state)
{
    (void)state;
    sd_msg *original = proto_sample(SD_MSG_TABLE_RAW);
    sd_msg *copy = proto_sample(SD_MSG_TABLE_RAW);

    sd_table_spec_clear(&copy->as.table_raw.spec);
    assert_int_equal(sd_table_spec_copy(&copy->as.table_raw.spec, &original->as.table_raw.spec), 0);
    assert_int_equal(proto_compare(original, copy, stderr), 0);
    sd_table_spec_clear(&original->as.table_raw.spec);
    assert_int_equal(copy->as.table_raw.spec.rule_count, 1);
    assert_string_equal(copy->as.table_raw.spec.rules[0].args.items[1], "C\u00f4te d'Ivoire");
    sd_msg_destroy(&original);
    sd_msg_destroy(&copy);
}

static void test_strings_helpers(void **state)
{
    (void)state;
    sd_strings strings = {0};

    for (int i = 0; i < 100; i++)
        assert_int_equal(sd_strings_push(&strings, i % 2 ? "odd" : "even"), 0);
    assert_int_equal(strings.count, 100);
    assert_string_equal(strings.items[99], "odd");
    sd_strings_clear(&strings);
    assert_null(strings.items);
    assert_int_equal(strings.count, 0);
    sd_strings_clear(&strings);
}

static void test_destroy_null_and_partial(void **state)
{
    (void)state;
    sd_msg *msg = NULL;

    sd_msg_destroy(&msg);
    sd_msg_destroy(NULL);
    for (size_t i = 0; i < TYPE_COUNT; i++) {
        msg = sd_msg_new(s_all_types[i]);
        assert_non_null(msg);
        assert_int_equal(msg->version, SD_PROTO_VERSION);
        sd_msg_destroy(&msg);
    }
}

//  Each encode failure names the field, as a decode failure would.
static void s_expect_encode_error(sd_msg *msg, const char *field, const char *text)
{
    sd_proto_error err = {{0}, {0}};
    uint8_t *data = (uint8_t *)"unchanged";
    size_t size = 1;

    assert_int_equal(sd_msg_encode(msg, &data, &size, &err), -1);
    assert_null(data);
    assert_int_equal(size, 0);
    assert_string_equal(err.field, field);
    if (!strstr(err.text, text))
        fail_msg("error text \"%s\" lacks \"%s\"", err.text, text);
    sd_msg_destroy(&msg);
}

static void test_encode_rejects_invalid(void **state)
{
    (void)state;
    sd_msg *msg = proto_sample(SD_MSG_REPORT_REQUEST);
    free(msg->as.report_request.request_id);
    msg->as.report_request.request_id = NULL;
    s_expect_encode_error(msg, "request_id", "required");

    msg = proto_sample(SD_MSG_REPORT_REQUEST);
    msg->as.report_request.frequency[0] = 'X';
    s_expect_encode_error(msg, "frequency", "expected DAILY, WOW_DAILY, WEEKLY or MONTHLY");

    msg = proto_sample(SD_MSG_REPORT_REQUEST);
    strcpy(msg->as.report_request.date, "2023-02-29");
    s_expect_encode_error(msg, "date", "not a calendar date");

    msg = proto_sample(SD_MSG_FETCH_REQUEST);
    strcpy(msg->as.fetch_request.queries[1].periods[0].end, "2023-02-01");
    s_expect_encode_error(msg, "queries[1].periods[0].end", "before the start");

    msg = proto_sample(SD_MSG_TABLE_RAW);
    sd_value_set_string(&msg->as.table_raw.data.cells[2 * 4], "\xed\xa0\x80", 3);
    s_expect_encode_error(msg, "rows[2][0]", "not valid UTF-8");

    msg = proto_sample(SD_MSG_REPORT_REPLY);
    free(msg->as.report_reply.missing.items[0]);
    msg->as.report_reply.missing.items[0] = strdup("bad \xc0\xaf");
    s_expect_encode_error(msg, "missing[0]", "not valid UTF-8 at byte 4");

    msg = proto_sample(SD_MSG_TABLE_RAW);
    msg->as.table_raw.data.columns[3].kind = 7;
    s_expect_encode_error(msg, "columns[3].kind", "not a column kind");

    msg = proto_sample(SD_MSG_ERROR);
    msg->version = 3;
    s_expect_encode_error(msg, "v", "only versions 1 and 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_version_2),
        cmocka_unit_test(test_version_1_without_warnings),
        cmocka_unit_test(test_version_1_with_warnings),
        cmocka_unit_test(test_optional_fields_defaults),
        cmocka_unit_test(test_null_error_fields),
        cmocka_unit_test(test_unknown_keys_ignored),
        cmocka_unit_test(test_peek_type_and_int),
        cmocka_unit_test(test_peek_rejects_non_map),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_table_helpers),
        cmocka_unit_test(test_spec_copy),
        cmocka_unit_test(test_strings_helpers),
        cmocka_unit_test(test_destroy_null_and_partial),
        cmocka_unit_test(test_encode_rejects_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

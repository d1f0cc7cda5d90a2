/*  proto malformed input: a table of bodies the decoder must reject, each
    with the field and the words the error must name. Every body also goes
    through sd_table_raw_decode_rows, which must give the same outcome.

    Most cases start from a valid body written as JSON, change one value
    (by a path such as "queries.1.periods.0.start") and convert the result
    to msgpack. JSON lacks some msgpack values, so an object with a single
    "$bytes" (str of raw hex bytes), "$bin" (bin of hex bytes) or "$uint"
    (uint64 from decimal text) key stands for them.
*/
#include "proto_samples.h"

#include <jansson.h>
#include <msgpack.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PERIOD "{\"label\":\"current\",\"start\":\"2024-03-01\",\"end\":\"2024-03-01\"}"

static const char *const s_report_request =
    "{\"v\":2,\"type\":\"report.request\",\"request_id\":\"req-1\",\"report\":\"ga-core\","
    "\"sites\":[\"site-a\",\"site-b\"],\"frequency\":\"DAILY\",\"date\":\"2024-03-01\","
    "\"formats\":[\"html\"],\"recipients\":[],\"deadline_ms\":1767225600000}";

#define QUERY                                                                                      \
    "{\"id\":\"q1\",\"table_id\":\"t\",\"expected_parts\":2,"                                      \
    "\"spec\":{\"keys\":[\"site\"],\"sum\":[\"sessions\"],\"derived\":[]},"                        \
    "\"api\":\"ga4.runReport\",\"metrics\":[\"sessions\"],\"dimensions\":[],"                      \
    "\"periods\":[" PERIOD "]}"

static const char *const s_fetch_request =
    "{\"v\":2,\"type\":\"fetch.request\",\"job_id\":\"j\",\"request_id\":\"r\","
    "\"reporter_id\":\"r1\",\"service\":\"ga\",\"site\":\"a\",\"deadline_ms\":1,"
    "\"queries\":[" QUERY "," QUERY "]}";

static const char *const s_table_raw =
    "{\"v\":2,\"type\":\"table.raw\",\"request_id\":\"r\",\"reporter_id\":\"r1\",\"job_id\":\"j\","
    "\"table_id\":\"t\",\"part_id\":\"a/current\",\"site\":\"a\",\"period\":" PERIOD ","
    "\"expected_parts\":1,\"deadline_ms\":1,\"spec\":{\"keys\":[\"site\"],\"sum\":[\"sessions\"],"
    "\"derived\":[{\"name\":\"sessions\",\"op\":\"scale\",\"a\":\"sessions\",\"scale\":1}]},"
    "\"columns\":[{\"name\":\"pagePath\",\"kind\":\"dimension\"},"
    "{\"name\":\"sessions\",\"kind\":\"metric\",\"unit\":\"count\"},"
    "{\"name\":\"ratio\",\"kind\":\"metric\",\"unit\":\"ratio\"}],"
    "\"rows\":[[\"/a\",1,0.5],[\"/b\",2,null]],\"warnings\":[]}";

static const char *const s_table_normalized =
    "{\"v\":2,\"type\":\"table.normalized\",\"request_id\":\"r\",\"reporter_id\":\"r1\","
    "\"table_id\":\"t\",\"periods\":[" PERIOD "],"
    "\"columns\":[{\"name\":\"site\",\"kind\":\"dimension\"},"
    "{\"name\":\"users\",\"kind\":\"metric\",\"unit\":\"count\"},"
    "{\"name\":\"share\",\"kind\":\"metric\",\"unit\":\"percent\"}],"
    "\"rows\":[[\"a\",3,100.0]],\"totals\":[null,3,100.0],\"missing\":[],\"warnings\":[]}";

static const char *const s_fetch_reply =
    "{\"v\":2,\"type\":\"fetch.reply\",\"job_id\":\"j\",\"request_id\":\"r\",\"site\":\"a\","
    "\"parts\":[{\"table_id\":\"t\",\"part_id\":\"a/current\",\"rows\":2,\"digest\":\"\"}],"
    "\"warnings\":[]}";

static const char *const s_report_reply =
    "{\"v\":2,\"type\":\"report.reply\",\"request_id\":\"r\",\"status\":\"complete\","
    "\"subject\":\"s\",\"outputs\":[{\"format\":\"csv\",\"content_type\":\"text/csv\","
    "\"body\":{\"$bin\":\"610a\"}}],\"missing\":[],\"warnings\":[],\"delivered\":false}";

static const char *const s_availability_reply =
    "{\"v\":2,\"type\":\"availability.reply\",\"id\":\"x\",\"date\":\"2024-03-01\","
    "\"sites\":[{\"site\":\"a\",\"complete\":true}]}";

static const char *const s_error =
    "{\"v\":2,\"type\":\"error\",\"id\":\"x\",\"code\":503,\"text\":\"busy\"}";

//  Limits a case runs under; DEFAULT is sd_proto_limits_default.
typedef enum {
    DEFAULT,
    STRING_16,
    ITEMS_12,
    ROWS_1,
    COLUMNS_2,
    BODY_64,
} limits_kind;

typedef struct {
    const char *name;
    const char *const *base;
    const char *path;  //  NULL leaves the base as it is
    const char *value; //  JSON text; NULL deletes the field
    limits_kind limits;
    const char *field; //  expected error field; NULL when the body must decode
    const char *text;  //  a part of the expected error text
} malformed_case;

static const malformed_case s_cases[] = {
    //  Bases decode as they are, and version 1 may leave warnings out.
    {"report.request base", &s_report_request, NULL, NULL, DEFAULT, NULL, NULL},
    {"fetch.request base", &s_fetch_request, NULL, NULL, DEFAULT, NULL, NULL},
    {"table.raw base", &s_table_raw, NULL, NULL, DEFAULT, NULL, NULL},
    {"table.normalized base", &s_table_normalized, NULL, NULL, DEFAULT, NULL, NULL},
    {"fetch.reply base", &s_fetch_reply, NULL, NULL, DEFAULT, NULL, NULL},
    {"report.reply base", &s_report_reply, NULL, NULL, DEFAULT, NULL, NULL},
    {"availability.reply base", &s_availability_reply, NULL, NULL, DEFAULT, NULL, NULL},
    {"error base", &s_error, NULL, NULL, DEFAULT, NULL, NULL},
    {"NUL inside a cell", &s_table_raw, "rows.0.0", "\"a\\u0000b\"", DEFAULT, NULL, NULL},

    //  Envelope.
    {"version missing", &s_error, "v", NULL, DEFAULT, "v", "is missing"},
    {"version 3", &s_error, "v", "3", DEFAULT, "v", "accepts versions 1 and 2"},
    {"version 0", &s_error, "v", "0", DEFAULT, "v", "accepts versions 1 and 2"},
    {"version as text", &s_error, "v", "\"2\"", DEFAULT, "v", "must be an integer"},
    {"type missing", &s_error, "type", NULL, DEFAULT, "type", "is missing"},
    {"type unknown", &s_error, "type", "\"report.cancel\"", DEFAULT, "type",
     "not a known message type"},
    {"type not a string", &s_error, "type", "7", DEFAULT, "type", "must be a string"},

    //  Missing required fields and wrong types.
    {"request_id missing", &s_report_request, "request_id", NULL, DEFAULT, "request_id",
     "is missing"},
    {"deadline as text", &s_report_request, "deadline_ms", "\"soon\"", DEFAULT, "deadline_ms",
     "must be an integer"},
    {"deadline past int64", &s_report_request, "deadline_ms",
     "{\"$uint\":\"18446744073709551615\"}", DEFAULT, "deadline_ms", "past the int64 range"},
    {"site not a string", &s_report_request, "sites.1", "5", DEFAULT, "sites[1]",
     "must be a string"},
    {"sites not an array", &s_report_request, "sites", "\"all\"", DEFAULT, "sites",
     "must be an array"},
    {"report.request version 1", &s_report_request, "v", "1", DEFAULT, NULL, NULL},
    {"request warnings listed", &s_report_request, "warnings", "[\"sent late\"]", DEFAULT, NULL,
     NULL},
    {"request warnings not an array", &s_report_request, "warnings", "\"sent late\"", DEFAULT,
     "warnings", "must be an array"},
    {"request warning not a string", &s_report_request, "warnings", "[\"sent late\", 5]",
     DEFAULT, "warnings[1]", "must be a string"},
    {"code as float", &s_error, "code", "503.0", DEFAULT, "code", "must be an integer"},
    {"text as nil", &s_error, "text", "null", DEFAULT, "text", "must be a string"},
    {"query not a map", &s_fetch_request, "queries.1", "[]", DEFAULT, "queries[1]",
     "must be a map"},
    {"spec keys missing", &s_table_raw, "spec.keys", NULL, DEFAULT, "spec.keys", "is missing"},
    {"derived scale as text", &s_table_raw, "spec.derived.0.scale", "\"1\"", DEFAULT,
     "spec.derived[0].scale", "must be a number"},
    {"complete as text", &s_availability_reply, "sites.0.complete", "\"yes\"", DEFAULT,
     "sites[0].complete", "must be a boolean"},
    {"body as text", &s_report_reply, "outputs.0.body", "\"a\"", DEFAULT, "outputs[0].body",
     "must be binary"},
    {"part rows missing", &s_fetch_reply, "parts.0.rows", NULL, DEFAULT, "parts[0].rows",
     "is missing"},
    {"v2 table.raw without warnings", &s_table_raw, "warnings", NULL, DEFAULT, "warnings",
     "is missing"},
    {"v2 table.normalized without warnings", &s_table_normalized, "warnings", NULL, DEFAULT,
     "warnings", "is missing"},
    {"v2 fetch.reply without warnings", &s_fetch_reply, "warnings", NULL, DEFAULT, "warnings",
     "is missing"},

    //  Enumerations and dates.
    {"frequency unknown", &s_report_request, "frequency", "\"HOURLY\"", DEFAULT, "frequency",
     "expected DAILY, WOW_DAILY, WEEKLY or MONTHLY"},
    {"alignment unknown", &s_report_request, "yearly_alignment", "\"lunar\"", DEFAULT,
     "yearly_alignment", "expected calendar or weekday"},
    {"status unknown", &s_report_reply, "status", "\"done\"", DEFAULT, "status",
     "expected complete, partial or already_sent"},
    {"column kind unknown", &s_table_raw, "columns.2.kind", "\"measure\"", DEFAULT,
     "columns[2].kind", "expected dimension or metric"},
    {"period label unknown", &s_fetch_request, "queries.0.periods.0.label", "\"last\"", DEFAULT,
     "queries[0].periods[0].label", "expected current, previous or yearly"},
    {"date 29 February 2023", &s_report_request, "date", "\"2023-02-29\"", DEFAULT, "date",
     "not a calendar date"},
    {"date month 13", &s_fetch_request, "queries.1.periods.0.start", "\"2024-13-01\"", DEFAULT,
     "queries[1].periods[0].start", "not a calendar date"},
    {"date without padding", &s_availability_reply, "date", "\"2024-3-01\"", DEFAULT, "date",
     "not a calendar date"},
    {"date with time", &s_table_raw, "period.end", "\"2024-03-01T00:00\"", DEFAULT, "period.end",
     "not a calendar date"},
    {"period ends before start", &s_table_raw, "period.start", "\"2024-03-02\"", DEFAULT,
     "period.end", "before the start"},

    //  Tables.
    {"row too short", &s_table_raw, "rows.1", "[\"/b\",2]", DEFAULT, "rows[1]",
     "has 2 cells but the table has 3 columns"},
    {"row too long", &s_table_normalized, "rows.0", "[\"a\",3,1.0,4]", DEFAULT, "rows[0]",
     "has 4 cells but the table has 3 columns"},
    {"row not an array", &s_table_raw, "rows.0", "{}", DEFAULT, "rows[0]", "must be an array"},
    {"cell is an array", &s_table_raw, "rows.1.2", "[1]", DEFAULT, "rows[1][2]",
     "must be nil, a boolean, an integer, a float or a string"},
    {"cell past int64", &s_table_raw, "rows.0.1", "{\"$uint\":\"9223372036854775808\"}", DEFAULT,
     "rows[0][1]", "past the int64 range"},
    {"totals too short", &s_table_normalized, "totals", "[null,3]", DEFAULT, "totals",
     "has 2 values but the table has 3 columns"},
    {"total is a map", &s_table_normalized, "totals.2", "{}", DEFAULT, "totals[2]", "must be nil"},
    {"columns missing", &s_table_raw, "columns", NULL, DEFAULT, "columns", "is missing"},

    //  Strict UTF-8 and NUL.
    {"overlong slash", &s_report_request, "report", "{\"$bytes\":\"c0af\"}", DEFAULT, "report",
     "not valid UTF-8 at byte 0"},
    {"overlong three bytes", &s_report_request, "report", "{\"$bytes\":\"61e080af\"}", DEFAULT,
     "report", "not valid UTF-8 at byte 1"},
    {"surrogate", &s_report_request, "sites.0", "{\"$bytes\":\"eda080\"}", DEFAULT, "sites[0]",
     "not valid UTF-8 at byte 0"},
    {"past U+10FFFF", &s_error, "text", "{\"$bytes\":\"f4908080\"}", DEFAULT, "text",
     "not valid UTF-8"},
    {"truncated sequence", &s_error, "text", "{\"$bytes\":\"6162e282\"}", DEFAULT, "text",
     "not valid UTF-8 at byte 2"},
    {"lone continuation byte", &s_error, "id", "{\"$bytes\":\"80\"}", DEFAULT, "id",
     "not valid UTF-8"},
    {"surrogate in a cell", &s_table_raw, "rows.1.0", "{\"$bytes\":\"2fedb080\"}", DEFAULT,
     "rows[1][0]", "not valid UTF-8 at byte 1"},
    {"NUL outside a cell", &s_error, "text", "\"a\\u0000b\"", DEFAULT, "text",
     "NUL byte at byte 1"},
    {"NUL in a column name", &s_table_raw, "columns.0.name", "\"a\\u0000\"", DEFAULT,
     "columns[0].name", "NUL byte"},

    //  Limits.
    {"string over the limit", &s_report_request, "report", "\"abcdefghijklmnopq\"", STRING_16,
     "report", "17 bytes long, over the limit of 16"},
    {"cell over the limit", &s_table_raw, "rows.0.0", "\"abcdefghijklmnopq\"", STRING_16,
     "rows[0][0]", "over the limit of 16"},
    {"array over the limit", &s_report_request, "sites",
     "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\"]", ITEMS_12,
     "sites", "has 13 items, over the limit of 12"},
    {"rows over the limit", &s_table_raw, NULL, NULL, ROWS_1, "rows",
     "has 2 items, over the limit of 1"},
    {"columns over the limit", &s_table_raw, NULL, NULL, COLUMNS_2, "columns",
     "has 3 items, over the limit of 2"},
    {"body over the limit", &s_report_request, NULL, NULL, BODY_64, "", "over the limit of 64"},
};

static void s_limits(limits_kind kind, sd_proto_limits *limits)
{
    sd_proto_limits_default(limits);
    if (kind == STRING_16)
        limits->max_string_bytes = 16;
    else if (kind == ITEMS_12)
        limits->max_array_items = 12;
    else if (kind == ROWS_1)
        limits->max_rows = 1;
    else if (kind == COLUMNS_2)
        limits->max_columns = 2;
    else if (kind == BODY_64)
        limits->max_message_bytes = 64;
}

static size_t s_unhex(const char *hex, char *out)
{
    size_t len = strlen(hex) / 2;
    for (size_t i = 0; i < len; i++) {
        unsigned byte;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
        out[i] = (char)byte;
    }
    return len;
}

static void s_pack_json(msgpack_packer *packer, json_t *json);

//  Packs the {"$bytes"|"$bin"|"$uint": text} stand-ins; returns false for
//  an ordinary object.
static bool s_pack_special(msgpack_packer *packer, json_t *object)
{
    char bytes[256];
    const char *key;
    json_t *value;

    if (json_object_size(object) != 1)
        return false;
    json_object_foreach(object, key, value)
    {
        const char *text = json_string_value(value);
        if (strcmp(key, "$bytes") == 0) {
            msgpack_pack_str_with_body(packer, bytes, s_unhex(text, bytes));
            return true;
        }
        if (strcmp(key, "$bin") == 0) {
            msgpack_pack_bin_with_body(packer, bytes, s_unhex(text, bytes));
            return true;
        }
        if (strcmp(key, "$uint") == 0) {
            msgpack_pack_uint64(packer, strtoull(text, NULL, 10));
            return true;
        }
    }
    return false;
}

static void s_pack_json(msgpack_packer *packer, json_t *json)
{
    const char *key;
    json_t *value;
    size_t index;

    switch (json_typeof(json)) {
    case JSON_OBJECT:
        if (s_pack_special(packer, json))
            break;
        msgpack_pack_map(packer, json_object_size(json));
        json_object_foreach(json, key, value)
        {
            msgpack_pack_str_with_body(packer, key, strlen(key));
            s_pack_json(packer, value);
        }
        break;
    case JSON_ARRAY:
        msgpack_pack_array(packer, json_array_size(json));
        json_array_foreach(json, index, value) s_pack_json(packer, value);
        break;
    case JSON_STRING:
        msgpack_pack_str_with_body(packer, json_string_value(json), json_string_length(json));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(packer, json_integer_value(json));
        break;
    case JSON_REAL:
        msgpack_pack_double(packer, json_real_value(json));
        break;
    case JSON_TRUE:
        msgpack_pack_true(packer);
        break;
    case JSON_FALSE:
        msgpack_pack_false(packer);
        break;
    case JSON_NULL:
        msgpack_pack_nil(packer);
        break;
    }
}

//  Replaces (or, with value NULL, deletes) the value at a dotted path.
static void s_patch(json_t *root, const char *path, const char *value)
{
    char buffer[128];
    json_t *parent = root;
    char *segment, *next, *saved;

    snprintf(buffer, sizeof(buffer), "%s", path);
    segment = strtok_r(buffer, ".", &saved);
    while ((next = strtok_r(NULL, ".", &saved)) != NULL) {
        parent = json_is_array(parent) ? json_array_get(parent, strtoul(segment, NULL, 10))
                                       : json_object_get(parent, segment);
        assert_non_null(parent);
        segment = next;
    }

    json_t *replacement = NULL;
    if (value) {
        json_error_t error;
        replacement = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &error);
        if (!replacement)
            fail_msg("patch value %s: %s", value, error.text);
    }
    if (json_is_array(parent) && replacement)
        assert_int_equal(json_array_set_new(parent, strtoul(segment, NULL, 10), replacement), 0);
    else if (json_is_array(parent))
        assert_int_equal(json_array_remove(parent, strtoul(segment, NULL, 10)), 0);
    else if (replacement)
        assert_int_equal(json_object_set_new(parent, segment, replacement), 0);
    else
        assert_int_equal(json_object_del(parent, segment), 0);
}

static void s_build(const malformed_case *test, msgpack_sbuffer *buffer)
{
    json_error_t error;
    msgpack_packer packer;
    json_t *root = json_loads(*test->base, 0, &error);

    if (!root)
        fail_msg("%s: base does not parse: %s", test->name, error.text);
    if (test->path)
        s_patch(root, test->path, test->value);
    msgpack_sbuffer_init(buffer);
    msgpack_packer_init(&packer, buffer, msgpack_sbuffer_write);
    s_pack_json(&packer, root);
    json_decref(root);
}

//  Decodes the body with sd_table_raw_decode_rows too: it must reject
//  what sd_msg_decode rejects with the same error, accept a table.raw with
//  the same fields and rows, and reject any other type on "type".
static void s_expect_rows(const char *name, const uint8_t *data, size_t size,
                          const sd_proto_limits *limits, const sd_msg *decoded,
                          const sd_proto_error *decode_err)
{
    sd_proto_error err = {{0}, {0}};
    int rc = proto_check_rows(data, size, limits, decoded, &err, stderr);

    if (decoded && decoded->type == SD_MSG_TABLE_RAW) {
        if (rc != 0)
            fail_msg("%s: the row reader gave %d: %s: %s", name, rc, err.field, err.text);
    } else if (decoded) {
        if (rc != -1 || strcmp(err.field, "type") != 0 || !strstr(err.text, "expected table.raw"))
            fail_msg("%s: the row reader did not reject the type: %s: %s", name, err.field,
                     err.text);
    } else if (rc != -1 || strcmp(err.field, decode_err->field) != 0 ||
               strcmp(err.text, decode_err->text) != 0) {
        fail_msg("%s: the row reader gave \"%s: %s\", sd_msg_decode \"%s: %s\"", name, err.field,
                 err.text, decode_err->field, decode_err->text);
    }
}

//  Decodes the body and checks the outcome against field and text, with
//  both decoding entry points.
static void s_expect(const char *name, const uint8_t *data, size_t size,
                     const sd_proto_limits *limits, const char *field, const char *text)
{
    sd_proto_error err = {{0}, {0}};
    sd_msg *msg = sd_msg_decode(data, size, limits, &err);

    s_expect_rows(name, data, size, limits, msg, &err);
    if (!field) {
        if (!msg)
            fail_msg("%s: rejected: %s: %s", name, err.field, err.text);
        sd_msg_destroy(&msg);
        return;
    }
    if (msg) {
        sd_msg_destroy(&msg);
        fail_msg("%s: decoded, expected an error on \"%s\"", name, field);
    }
    if (strcmp(err.field, field) != 0)
        fail_msg("%s: error on \"%s\" (%s), expected \"%s\"", name, err.field, err.text, field);
    if (!strstr(err.text, text))
        fail_msg("%s: error text \"%s\" lacks \"%s\"", name, err.text, text);
}

static void test_case_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        const malformed_case *test = &s_cases[i];
        msgpack_sbuffer buffer;
        sd_proto_limits limits;

        s_build(test, &buffer);
        s_limits(test->limits, &limits);
        s_expect(test->name, (const uint8_t *)buffer.data, buffer.size, &limits, test->field,
                 test->text);
        msgpack_sbuffer_destroy(&buffer);
    }
}

static void test_version_1_warnings_optional(void **state)
{
    (void)state;
    const char *const *bases[] = {&s_table_raw, &s_table_normalized, &s_fetch_reply};

    for (size_t i = 0; i < 3; i++) {
        malformed_case test = {"v1", bases[i], "warnings", NULL, DEFAULT, NULL, NULL};
        msgpack_sbuffer buffer;
        json_error_t error;
        msgpack_packer packer;
        json_t *root = json_loads(*test.base, 0, &error);

        s_patch(root, "warnings", NULL);
        s_patch(root, "v", "1");
        msgpack_sbuffer_init(&buffer);
        msgpack_packer_init(&packer, &buffer, msgpack_sbuffer_write);
        s_pack_json(&packer, root);
        json_decref(root);

        sd_proto_error err;
        sd_msg *msg = sd_msg_decode((const uint8_t *)buffer.data, buffer.size, NULL, &err);
        assert_non_null(msg);
        assert_int_equal(msg->version, 1);
        sd_msg_destroy(&msg);
        msgpack_sbuffer_destroy(&buffer);
    }
}

//  Bodies written byte by byte: what JSON cannot describe.
typedef struct {
    const char *name;
    const uint8_t *data;
    size_t size;
    const char *field;
    const char *text;
} raw_case;

#define RAW(name, field, text, ...)                                                                \
    {                                                                                              \
        name, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), field, text  \
    }

static const raw_case s_raw_cases[] = {
    RAW("top level is an array", "", "not a msgpack map", 0x92, 0x01, 0x02),
    RAW("top level is a string", "", "not a msgpack map", 0xa1, 'v'),
    RAW("value missing", "v", "truncated", 0x81, 0xa1, 'v'),
    RAW("key cut short", "", "truncated", 0x81, 0xa4, 't', 'y'),
    RAW("int64 cut short", "v", "truncated", 0x81, 0xa1, 'v', 0xd3, 0x00, 0x00),
    RAW("string declared past the end", "type", "declares 5 bytes but 2 remain", 0x81, 0xa4, 't',
        'y', 'p', 'e', 0xd9, 0x05, 'e', 'r'),
    RAW("byte 0xc1", "v", "0xc1", 0x81, 0xa1, 'v', 0xc1),
    RAW("trailing byte", "", "1 extra byte after the message map", 0x80, 0xc0),
    RAW("trailing map", "", "2 extra bytes", 0x80, 0x81, 0xc0),
    RAW("duplicate key", "v", "appears twice", 0x83, 0xa1, 'v', 0x02, 0xa4, 't', 'y', 'p', 'e',
        0xa5, 'e', 'r', 'r', 'o', 'r', 0xa1, 'v', 0x02),
    RAW("key is an integer", "", "key that is not a string", 0x81, 0x01, 0x02),
    RAW("deep nesting", "x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]", "deeper than 16 levels",
        0x81, 0xa1, 'x', 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
        0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0xc0),
    //  A str32 header declaring 2 GiB, in 8 bytes.
    RAW("huge string header", "v", "over the limit", 0x81, 0xa1, 'v', 0xdb, 0x7f, 0xff, 0xff, 0xff),
    //  array32 and map32 headers declaring 2^32 - 1 items, in 10 bytes.
    RAW("huge array header", "r", "4294967295 items, over the limit", 0x81, 0xa1, 'r', 0xdd, 0xff,
        0xff, 0xff, 0xff, 0xc0, 0xc0),
    RAW("huge map header", "", "4294967295 items, over the limit", 0xdf, 0xff, 0xff, 0xff, 0xff,
        0xa1, 'v', 0x02, 0xc0, 0xc0),
    RAW("huge rows header", "rows", "4294967295 items, over the limit of 4000000", 0x81, 0xa4, 'r',
        'o', 'w', 's', 0xdd, 0xff, 0xff, 0xff, 0xff),
};

static void test_raw_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_raw_cases) / sizeof(s_raw_cases[0]); i++) {
        const raw_case *test = &s_raw_cases[i];
        s_expect(test->name, test->data, test->size, NULL, test->field, test->text);
    }
}

static void test_empty_body(void **state)
{
    (void)state;
    const uint8_t nothing[1] = {0};

    s_expect("empty body", nothing, 0, NULL, "", "body is empty");
    s_expect("NULL body", NULL, 0, NULL, "", "body is empty");
}

//  Every prefix of every valid body is rejected as truncated, never read past.
static void test_truncated_bodies(void **state)
{
    (void)state;
    for (int type = SD_MSG_REPORT_REQUEST; type <= SD_MSG_ERROR; type++) {
        uint8_t *data;
        size_t size;
        sd_msg *msg = proto_sample((sd_msg_type)type);

        proto_encode_or_die(msg, &data, &size);
        for (size_t cut = 0; cut < size; cut++) {
            sd_proto_error err;
            uint8_t *prefix = malloc(cut ? cut : 1);
            memcpy(prefix, data, cut);
            sd_msg *decoded = sd_msg_decode(prefix, cut, NULL, &err);
            assert_null(decoded);
            s_expect_rows("truncated body", prefix, cut, NULL, NULL, &err);
            if (cut > 0 && !strstr(err.text, "truncated"))
                fail_msg("%s cut at %zu: \"%s\"", sd_msg_type_name(type), cut, err.text);
            free(prefix);
        }
        free(data);
        sd_msg_destroy(&msg);
    }
}

//  The last field of the encoded report.request is subject, 27 bytes of
//  UTF-8 in the sample.
static void test_truncated_names_field(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    sd_msg *msg = proto_sample(SD_MSG_REPORT_REQUEST);

    proto_encode_or_die(msg, &data, &size);
    s_expect("truncated report.request", data, size - 3, NULL, "subject",
             "declares 27 bytes but 24 remain");
    free(data);
    sd_msg_destroy(&msg);
}

/*  With limits that allow any count, only the bytes left bound what a
    header may declare. Under AddressSanitizer a malloc hook also records
    the largest block requested while decoding, to show that no large
    reservation is made.  */

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_MALLOC_HOOK 1
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static size_t s_largest_block;
static bool s_recording;

static void s_on_malloc(const volatile void *pointer, size_t size)
{
    (void)pointer;
    if (s_recording && size > s_largest_block)
        s_largest_block = size;
}

static void s_on_free(const volatile void *pointer)
{
    (void)pointer;
}
#endif

static void test_declared_counts_bounded_by_body(void **state)
{
    (void)state;
    sd_proto_limits limits;
    const raw_case cases[] = {
        RAW("array of 2^32 - 1 in 10 bytes", "r", "declares 4294967295 items but 2 bytes remain",
            0x81, 0xa1, 'r', 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0),
        RAW("map of 2^32 - 1 in 10 bytes", "", "declares 4294967295 items but 5 bytes remain", 0xdf,
            0xff, 0xff, 0xff, 0xff, 0xa1, 'v', 0x02, 0xc0, 0xc0),
        RAW("nested array of 2^16 - 1", "r[0]", "declares 65535 items but 1 byte remains", 0x81,
            0xa1, 'r', 0x91, 0xdc, 0xff, 0xff, 0xc0),
        RAW("string of 2 GiB in 10 bytes", "v", "declares 2147483647 bytes but 2 remain", 0x81,
            0xa1, 'v', 0xdb, 0x7f, 0xff, 0xff, 0xff, 'a', 'b'),
    };

    limits.max_message_bytes = SIZE_MAX;
    limits.max_string_bytes = SIZE_MAX;
    limits.max_array_items = SIZE_MAX;
    limits.max_rows = SIZE_MAX;
    limits.max_columns = SIZE_MAX;
#ifdef HAVE_MALLOC_HOOK
    __sanitizer_install_malloc_and_free_hooks(s_on_malloc, s_on_free);
    s_largest_block = 0;
    s_recording = true;
#endif
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        s_expect(cases[i].name, cases[i].data, cases[i].size, &limits, cases[i].field,
                 cases[i].text);
#ifdef HAVE_MALLOC_HOOK
    s_recording = false;
    if (s_largest_block > 64 * 1024)
        fail_msg("decoding reserved a block of %zu bytes", s_largest_block);

    //  The hook does see the decoder's allocations.
    uint8_t *data;
    size_t size;
    sd_proto_error err;
    sd_msg *sample = proto_sample(SD_MSG_ERROR);
    proto_encode_or_die(sample, &data, &size);
    s_recording = true;
    sd_msg *decoded = sd_msg_decode(data, size, &limits, &err);
    s_recording = false;
    assert_non_null(decoded);
    assert_true(s_largest_block > 0);
    sd_msg_destroy(&decoded);
    sd_msg_destroy(&sample);
    free(data);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_table),
        cmocka_unit_test(test_version_1_warnings_optional),
        cmocka_unit_test(test_raw_cases),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_truncated_bodies),
        cmocka_unit_test(test_truncated_names_field),
        cmocka_unit_test(test_declared_counts_bounded_by_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

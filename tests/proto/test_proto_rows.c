/*  proto row reader: sd_table_raw_decode_rows hands a table.raw part to
    its callbacks with the same fields and rows as sd_msg_decode, stops
    when a callback returns -1, and rejects other message types. The
    malformed and mutated bodies of the other proto tests go through it
    as well.
*/
#include "proto_samples.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  What the callbacks of one decode saw, and when they stop.
typedef struct {
    size_t headers;
    size_t rows;
    size_t announced;               //  row_count passed to the header callback
    int stop_header;                //  the header callback returns this
    size_t stop_at_row;             //  the row callback returns -1 at this row
    const uint8_t *body;
    size_t body_size;
    bool strings_in_body;           //  every string cell pointed into the body
} counts;

static int s_on_header(void *arg, const sd_table_raw *part, size_t row_count)
{
    counts *seen = arg;
    seen->headers++;
    seen->announced = row_count;
    assert_int_equal(part->data.row_count, 0);
    assert_null(part->data.cells);
    return seen->stop_header;
}

static int s_on_row(void *arg, const sd_value *cells, size_t column_count)
{
    counts *seen = arg;
    for (size_t c = 0; c < column_count; c++) {
        const uint8_t *text = (const uint8_t *)cells[c].as.s.ptr;
        if (cells[c].kind == SD_VALUE_STRING &&
            (text < seen->body || text + cells[c].as.s.len > seen->body + seen->body_size))
            seen->strings_in_body = false;
    }
    if (seen->rows == seen->stop_at_row)
        return -1;
    seen->rows++;
    return 0;
}

static void s_sample_body(sd_msg_type type, uint8_t **data, size_t *size)
{
    sd_msg *msg = proto_sample(type);
    proto_encode_or_die(msg, data, size);
    sd_msg_destroy(&msg);
}

static int s_decode(const uint8_t *data, size_t size, counts *seen, sd_proto_error *err)
{
    seen->body = data;
    seen->body_size = size;
    seen->strings_in_body = true;
    return sd_table_raw_decode_rows(data, size, NULL, s_on_header, s_on_row, seen, err);
}

//  The sample part, with strings holding NUL bytes and non-ASCII text,
//  integers at the int64 ends, floats and bools, comes out as from
//  sd_msg_decode, and its strings are read in place.
static void test_rows_same_as_message(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    sd_proto_error err;
    s_sample_body(SD_MSG_TABLE_RAW, &data, &size);

    sd_msg *decoded = sd_msg_decode(data, size, NULL, &err);
    assert_non_null(decoded);
    assert_int_equal(proto_check_rows(data, size, NULL, decoded, &err, stderr), 0);

    counts seen = {.stop_at_row = SIZE_MAX};
    assert_int_equal(s_decode(data, size, &seen, &err), 0);
    assert_int_equal(seen.headers, 1);
    assert_int_equal(seen.announced, 3);
    assert_int_equal(seen.rows, 3);
    assert_true(seen.strings_in_body);
    sd_msg_destroy(&decoded);
    free(data);
}

static void test_header_callback_stops(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    sd_proto_error err;
    s_sample_body(SD_MSG_TABLE_RAW, &data, &size);

    counts seen = {.stop_header = -1, .stop_at_row = SIZE_MAX};
    assert_int_equal(s_decode(data, size, &seen, &err), -1);
    assert_int_equal(seen.headers, 1);
    assert_int_equal(seen.rows, 0);
    assert_non_null(strstr(err.text, "stopped the decoding before the rows"));
    free(data);
}

static void test_row_callback_stops(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    sd_proto_error err;
    s_sample_body(SD_MSG_TABLE_RAW, &data, &size);

    counts seen = {.stop_at_row = 1};
    assert_int_equal(s_decode(data, size, &seen, &err), -1);
    assert_int_equal(seen.rows, 1);
    assert_string_equal(err.field, "rows[1]");
    assert_non_null(strstr(err.text, "rejected by the row callback"));
    free(data);
}

//  Every other type is rejected on "type", before any callback runs.
static void test_other_types_rejected(void **state)
{
    (void)state;
    for (int type = SD_MSG_REPORT_REQUEST; type <= SD_MSG_ERROR; type++) {
        if (type == SD_MSG_TABLE_RAW)
            continue;
        uint8_t *data;
        size_t size;
        sd_proto_error err;
        s_sample_body((sd_msg_type)type, &data, &size);

        counts seen = {.stop_at_row = SIZE_MAX};
        assert_int_equal(s_decode(data, size, &seen, &err), -1);
        assert_int_equal(seen.headers, 0);
        assert_string_equal(err.field, "type");
        assert_non_null(strstr(err.text, "expected table.raw"));
        free(data);
    }
}

//  A part without rows gets its header and nothing else.
static void test_part_without_rows(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    sd_proto_error err;
    sd_msg *msg = proto_sample(SD_MSG_TABLE_RAW);
    sd_table_data_clear(&msg->as.table_raw.data);
    proto_encode_or_die(msg, &data, &size);

    counts seen = {.stop_at_row = SIZE_MAX};
    assert_int_equal(s_decode(data, size, &seen, &err), 0);
    assert_int_equal(seen.headers, 1);
    assert_int_equal(seen.announced, 0);
    assert_int_equal(seen.rows, 0);
    sd_msg_destroy(&msg);
    free(data);
}

//  A bad cell in the last row fails the decode after the rows before it
//  were handed over: the error names the cell.
static void test_bad_cell_after_good_rows(void **state)
{
    (void)state;
    uint8_t *data;
    size_t size;
    sd_proto_error err;
    sd_msg *msg = proto_sample(SD_MSG_TABLE_RAW);
    sd_table_data *table = &msg->as.table_raw.data;
    sd_value *cell = &table->cells[2 * table->column_count];
    assert_int_equal(sd_value_set_string(cell, "/x#$%", 5), 0);
    proto_encode_or_die(msg, &data, &size);
    //  The encoder refuses bad UTF-8, so the surrogate goes in afterwards.
    uint8_t *text = memmem(data, size, "/x#$%", 5);
    assert_non_null(text);
    memcpy(text + 2, "\xed\xa0\x80", 3);

    counts seen = {.stop_at_row = SIZE_MAX};
    assert_int_equal(s_decode(data, size, &seen, &err), -1);
    assert_int_equal(seen.rows, 2);
    assert_string_equal(err.field, "rows[2][0]");
    assert_non_null(strstr(err.text, "not valid UTF-8 at byte 2"));
    sd_msg_destroy(&msg);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_same_as_message),
        cmocka_unit_test(test_header_callback_stops),
        cmocka_unit_test(test_row_callback_stops),
        cmocka_unit_test(test_other_types_rejected),
        cmocka_unit_test(test_part_without_rows),
        cmocka_unit_test(test_bad_cell_after_good_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

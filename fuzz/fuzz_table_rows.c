/*  fuzz_table_rows: the row-by-row table.raw decoder,
    sd_table_raw_decode_rows, that feeds the aggregator's merge.

    The input is a msgpack body, passed in a buffer of exactly its size so
    that reads past it are caught. It is decoded with the default limits
    and again with tight ones, each time with sd_msg_decode as the
    reference. The decoder must succeed exactly when sd_msg_decode returns
    a table.raw. On success the header callback runs once, before any row,
    with the reference's columns and row count, and the row callback receives
    exactly that many rows, each with one cell per column and the
    reference's values. A string cell must lie inside the body, also when
    the decoding fails later. A body that
    decodes is then decoded again with the header callback stopping, and
    again with the row callback stopping at a row picked by the last input
    byte. Both must fail with an error text after the expected calls.
*/
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_proto.h"

typedef struct {
    const uint8_t *body;
    size_t size;
    const sd_table_data *reference;     //  rows sd_msg_decode gave, NULL when it failed
    bool stop_at_header;
    size_t stop_at_row;                 //  SIZE_MAX: never stop
    size_t header_calls;
    size_t announced_rows;
    size_t column_count;
    size_t rows_seen;
} s_sink;

static int s_on_header(void *arg, const sd_table_raw *part, size_t row_count)
{
    s_sink *sink = arg;
    if (++sink->header_calls > 1)
        fuzz_fail("header callback ran twice");
    if (part->data.row_count != 0)
        fuzz_fail("header carries %zu rows", part->data.row_count);
    if (part->data.column_count > 0 && !part->data.columns)
        fuzz_fail("header has %zu columns and no column array", part->data.column_count);

    //  A body whose rows are invalid reaches the header callback although
    //  sd_msg_decode rejects it, so there is no reference then.
    if (sink->reference && (row_count != sink->reference->row_count ||
                            part->data.column_count != sink->reference->column_count))
        fuzz_fail("header announces %zu rows of %zu columns, sd_msg_decode gave %zu of %zu",
                  row_count, part->data.column_count, sink->reference->row_count,
                  sink->reference->column_count);
    sink->announced_rows = row_count;
    sink->column_count = part->data.column_count;
    return sink->stop_at_header ? -1 : 0;
}

static bool s_same_value(const sd_value *a, const sd_value *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case SD_VALUE_NIL:
        return true;
    case SD_VALUE_BOOL:
        return a->as.b == b->as.b;
    case SD_VALUE_INT:
        return a->as.i == b->as.i;
    case SD_VALUE_FLOAT:
        return memcmp(&a->as.f, &b->as.f, sizeof a->as.f) == 0;
    case SD_VALUE_STRING:
        return a->as.s.len == b->as.s.len && memcmp(a->as.s.ptr, b->as.s.ptr, a->as.s.len) == 0;
    }
    return false;
}

static void s_check_cell(const s_sink *sink, const sd_value *cell, size_t row, size_t column)
{
    if (cell->kind == SD_VALUE_STRING) {
        const uint8_t *start = (const uint8_t *)cell->as.s.ptr;
        if (start < sink->body || start > sink->body + sink->size ||
            cell->as.s.len > (size_t)(sink->body + sink->size - start))
            fuzz_fail("row %zu column %zu: string of %zu bytes is not inside the body", row,
                      column, cell->as.s.len);
    }
    if (!sink->reference)
        return;
    const sd_value *expected = &sink->reference->cells[row * sink->column_count + column];
    if (!s_same_value(cell, expected))
        fuzz_fail("row %zu column %zu differs from sd_msg_decode's (kinds %d and %d)", row, column,
                  (int)cell->kind, (int)expected->kind);
}

static int s_on_row(void *arg, const sd_value *cells, size_t column_count)
{
    s_sink *sink = arg;
    if (sink->header_calls != 1 || sink->stop_at_header)
        fuzz_fail("row callback ran without a header call that accepted the part");
    if (column_count != sink->column_count)
        fuzz_fail("row %zu has %zu cells, the header %zu columns", sink->rows_seen, column_count,
                  sink->column_count);
    if (sink->rows_seen >= sink->announced_rows)
        fuzz_fail("row callback ran for row %zu of %zu", sink->rows_seen, sink->announced_rows);
    for (size_t c = 0; c < column_count; c++)
        s_check_cell(sink, &cells[c], sink->rows_seen, c);
    return sink->rows_seen++ == sink->stop_at_row ? -1 : 0;
}

//  Decodes the body with the sink's stop settings. Returns the decoder's
//  result after checking that a failure carries an error text.
static int s_decode(s_sink *sink, const sd_proto_limits *limits)
{
    sd_proto_error err = {0};
    sink->header_calls = 0;
    sink->rows_seen = 0;
    int rc = sd_table_raw_decode_rows(sink->body, sink->size, limits, s_on_header, s_on_row,
                                      sink, &err);
    if (rc != 0 && err.text[0] == '\0')
        fuzz_fail("sd_table_raw_decode_rows failed without an error text");
    return rc;
}

//  Decodes a body that decodes in full again, stopping at the header, then
//  at one row, and checks that both fail after the expected calls.
static void s_check_stops(s_sink *sink, const sd_proto_limits *limits)
{
    sink->stop_at_header = true;
    if (s_decode(sink, limits) == 0 || sink->rows_seen != 0)
        fuzz_fail("decoding went on after the header callback stopped it");
    sink->stop_at_header = false;
    if (sink->announced_rows == 0)
        return;
    sink->stop_at_row = sink->body[sink->size - 1] % sink->announced_rows;
    if (s_decode(sink, limits) == 0 || sink->rows_seen != sink->stop_at_row + 1)
        fuzz_fail("decoding went on after the row callback stopped it at row %zu of %zu",
                  sink->stop_at_row, sink->announced_rows);
    sink->stop_at_row = SIZE_MAX;
}

static void s_check(const uint8_t *body, size_t size, const sd_proto_limits *limits)
{
    sd_proto_error err = {0};
    sd_msg *msg = sd_msg_decode(body, size, limits, &err);
    bool is_table_raw = msg && msg->type == SD_MSG_TABLE_RAW;
    s_sink sink = {
        .body = body,
        .size = size,
        .reference = is_table_raw ? &msg->as.table_raw.data : NULL,
        .stop_at_row = SIZE_MAX,
    };

    int rc = s_decode(&sink, limits);
    if ((rc == 0) != is_table_raw)
        fuzz_fail("sd_table_raw_decode_rows returned %d, sd_msg_decode %s", rc,
                  is_table_raw ? "a table.raw" : "no table.raw");
    if (rc == 0 && (sink.header_calls != 1 || sink.rows_seen != sink.announced_rows))
        fuzz_fail("decoding succeeded after %zu header calls and %zu of %zu rows",
                  sink.header_calls, sink.rows_seen, sink.announced_rows);
    if (rc == 0)
        s_check_stops(&sink, limits);
    sd_msg_destroy(&msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sd_proto_limits tight = {
        .max_message_bytes = 2048,
        .max_string_bytes = 16,
        .max_array_items = 4,
        .max_rows = 8,
        .max_columns = 4,
    };
    if (size == 0)
        return 0;
    uint8_t *body = malloc(size);
    if (!body)
        fuzz_fail("out of memory");
    memcpy(body, data, size);
    s_check(body, size, NULL);
    s_check(body, size, &tight);
    free(body);
    return 0;
}

/*  sd_proto_rows: the rows of a table, read straight from the body.

    A table.raw part carries up to millions of cells, and an object per
    cell from msgpack-c, then a copy per string, would cost more than the
    merge that uses them. So the decoder leaves the rows out of what
    msgpack-c parses (sd_proto_decode.c) and reads them here with the
    scan's header reader. The scan has already checked their structure,
    limits and lengths. This file checks each row's width and each cell's
    type, range and UTF-8, with the same rules and error texts as any
    other value.
*/
#include "sd_proto_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double s_float(const sd_proto_header *value)
{
    if (value->float_width == 4) {
        uint32_t bits = (uint32_t)value->u;
        float narrow;
        memcpy(&narrow, &bits, sizeof(narrow));
        return narrow;
    }
    double wide;
    memcpy(&wide, &value->u, sizeof(wide));
    return wide;
}

int sd_decode_cell(sd_decoder *decoder, const sd_proto_header *value, sd_value *out)
{
    switch (value->kind) {
    case SD_PROTO_NIL:
        out->kind = SD_VALUE_NIL;
        return 0;
    case SD_PROTO_BOOL:
        out->kind = SD_VALUE_BOOL;
        out->as.b = value->u != 0;
        return 0;
    case SD_PROTO_UINT:
        if (value->u > INT64_MAX) {
            sd_decode_fail(decoder, "is %" PRIu64 ", past the int64 range", value->u);
            return -1;
        }
        out->kind = SD_VALUE_INT;
        out->as.i = (int64_t)value->u;
        return 0;
    case SD_PROTO_INT:
        out->kind = SD_VALUE_INT;
        out->as.i = value->i;
        return 0;
    case SD_PROTO_FLOAT:
        out->kind = SD_VALUE_FLOAT;
        out->as.f = s_float(value);
        return 0;
    case SD_PROTO_STR:
        if (sd_decode_check_text(decoder, (const char *)value->payload, value->count, true) != 0)
            return -1;
        out->kind = SD_VALUE_STRING;
        out->as.s.ptr = (char *)value->payload;
        out->as.s.len = value->count;
        return 0;
    default:
        sd_decode_fail(decoder, "must be nil, a boolean, an integer, a float or a string");
        return -1;
    }
}

void sd_decode_name_cell(sd_decoder *decoder, size_t row, size_t column)
{
    size_t mark = decoder->path.len;

    if (row != SIZE_MAX)
        sd_proto_path_index(&decoder->path, row);
    sd_proto_path_index(&decoder->path, column);
    if (decoder->err)
        snprintf(decoder->err->field, sizeof(decoder->err->field), "%s", decoder->path.text);
    sd_proto_path_restore(&decoder->path, mark);
}

//  Fails the decoder with a message about row r.
static void s_row_fail(sd_decoder *decoder, size_t r, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void s_row_fail(sd_decoder *decoder, size_t r, const char *format, ...)
{
    size_t mark = sd_proto_path_index(&decoder->path, r);
    va_list args;

    if (!decoder->failed) {
        decoder->failed = true;
        va_start(args, format);
        sd_proto_vfail(decoder->err, &decoder->path, format, args);
        va_end(args);
    }
    sd_proto_path_restore(&decoder->path, mark);
}

//  Reads the forms of most cells and rows (fixarray, fixstr, str 8,
//  positive fixint, uint 8 and uint 16) without a call. Returns true when
//  the header at the reader was one of them. The caller checks the payload.
static bool s_next_common(sd_proto_reader *reader, sd_proto_header *value)
{
    const uint8_t *p = reader->p;
    if (reader->end - p < 3)
        return false;
    uint8_t byte = p[0];
    size_t size = 1;
    value->kind = SD_PROTO_STR;
    if (byte >= 0xa0 && byte <= 0xbf)
        value->count = byte & 0x1f;
    else if (byte == 0xd9) {
        value->count = p[1];
        size = 2;
    }
    else if (byte >= 0x90 && byte <= 0x9f) {
        value->kind = SD_PROTO_ARRAY;
        value->count = byte & 0x0f;
    }
    else if (byte <= 0x7f || byte == 0xcc || byte == 0xcd) {
        value->kind = SD_PROTO_UINT;
        if (byte <= 0x7f) {
            size = 1;
            value->u = byte;
        } else if (byte == 0xcc) {
            size = 2;
            value->u = p[1];
        } else {
            size = 3;
            value->u = (uint64_t)(p[1] << 8 | p[2]);
        }
        value->count = 0;
    }
    else
        return false;
    value->payload = p + size;
    reader->p = p + size;
    return true;
}

//  Reads the header of one value, with its payload when it has one.
//  Returns 0, or -1 when the body ends first (the scan rules that out).
static int s_next(sd_proto_reader *reader, sd_proto_header *value)
{
    if (!s_next_common(reader, value) &&
        sd_proto_read_header(reader, value) != SD_PROTO_READ_OK)
        return -1;
    bool payload = value->kind == SD_PROTO_STR || value->kind == SD_PROTO_BIN ||
                   value->kind == SD_PROTO_EXT;
    if (payload && value->count > (uint64_t)(reader->end - reader->p))
        return -1;
    if (payload)
        reader->p += value->count;
    return 0;
}

//  Reads row r into cells. Returns 0, or -1 with the decoder failed.
static int s_row(sd_decoder *decoder, sd_proto_reader *reader, size_t r, sd_value *cells)
{
    sd_proto_header value;
    size_t width = decoder->table_width;

    if (s_next(reader, &value) != 0) {
        s_row_fail(decoder, r, "is truncated: the body ends inside this value");
        return -1;
    }
    if (value.kind != SD_PROTO_ARRAY) {
        s_row_fail(decoder, r, "must be an array");
        return -1;
    }
    if (value.count != width) {
        s_row_fail(decoder, r, "has %" PRIu64 " cells but the table has %zu columns",
                   value.count, width);
        return -1;
    }
    for (size_t c = 0; c < width; c++) {
        if (s_next(reader, &value) != 0) {
            s_row_fail(decoder, r, "is truncated: the body ends inside this value");
            return -1;
        }
        if (sd_decode_cell(decoder, &value, &cells[c]) != 0) {
            sd_decode_name_cell(decoder, r, c);
            return -1;
        }
    }
    return 0;
}

void sd_decode_rows(sd_decoder *decoder, sd_decode_row_fn *on_row, void *arg)
{
    size_t width = decoder->table_width;

    if (decoder->failed || decoder->table_rows == 0)
        return;
    sd_value *cells = calloc(width > 0 ? width : 1, sizeof(*cells));
    if (!cells) {
        sd_decode_fail(decoder, "out of memory for a row of %zu cells", width);
        return;
    }

    sd_proto_reader reader = {decoder->rows.items, decoder->rows.end};
    size_t mark = sd_proto_path_key(&decoder->path, "rows", 4);
    for (size_t r = 0; r < decoder->table_rows; r++) {
        if (s_row(decoder, &reader, r, cells) != 0)
            break;
        if (on_row(arg, decoder, cells, width) != 0) {
            s_row_fail(decoder, r, "was rejected by the row callback, which stopped the decoding");
            break;
        }
    }
    sd_proto_path_restore(&decoder->path, mark);
    free(cells);
}

/*  sd_proto_scan: a walk over msgpack headers that allocates nothing.

    The decoder calls sd_proto_scan before it hands a body to msgpack-c, and
    sd_msg_peek_type and sd_msg_peek_int use the same reader to look at one
    top-level field without decoding the rest. The decoder also reads the
    rows of a table with it (sd_proto_rows.c).
*/
#include "sd_proto_internal.h"

#include <inttypes.h>
#include <string.h>

//  Formats 0xc0 to 0xdf. width is the size of the length field, or of the
//  value itself for numbers; fixed is the payload size of the fixext forms.
typedef struct {
    sd_proto_kind kind;
    uint8_t width;
    uint8_t fixed;
} s_format;

static const s_format s_formats[32] = {
    [0x00] = {SD_PROTO_NIL, 0, 0}, [0x01] = {SD_PROTO_INVALID, 0, 0},
    [0x02] = {SD_PROTO_BOOL, 0, 0}, [0x03] = {SD_PROTO_BOOL, 0, 0},
    [0x04] = {SD_PROTO_BIN, 1, 0}, [0x05] = {SD_PROTO_BIN, 2, 0},
    [0x06] = {SD_PROTO_BIN, 4, 0}, [0x07] = {SD_PROTO_EXT, 1, 0},
    [0x08] = {SD_PROTO_EXT, 2, 0}, [0x09] = {SD_PROTO_EXT, 4, 0},
    [0x0a] = {SD_PROTO_FLOAT, 4, 0}, [0x0b] = {SD_PROTO_FLOAT, 8, 0},
    [0x0c] = {SD_PROTO_UINT, 1, 0}, [0x0d] = {SD_PROTO_UINT, 2, 0},
    [0x0e] = {SD_PROTO_UINT, 4, 0}, [0x0f] = {SD_PROTO_UINT, 8, 0},
    [0x10] = {SD_PROTO_INT, 1, 0}, [0x11] = {SD_PROTO_INT, 2, 0},
    [0x12] = {SD_PROTO_INT, 4, 0}, [0x13] = {SD_PROTO_INT, 8, 0},
    [0x14] = {SD_PROTO_EXT, 0, 1}, [0x15] = {SD_PROTO_EXT, 0, 2},
    [0x16] = {SD_PROTO_EXT, 0, 4}, [0x17] = {SD_PROTO_EXT, 0, 8},
    [0x18] = {SD_PROTO_EXT, 0, 16}, [0x19] = {SD_PROTO_STR, 1, 0},
    [0x1a] = {SD_PROTO_STR, 2, 0}, [0x1b] = {SD_PROTO_STR, 4, 0},
    [0x1c] = {SD_PROTO_ARRAY, 2, 0}, [0x1d] = {SD_PROTO_ARRAY, 4, 0},
    [0x1e] = {SD_PROTO_MAP, 2, 0}, [0x1f] = {SD_PROTO_MAP, 4, 0},
};

static size_t s_left(const sd_proto_reader *reader)
{
    return (size_t)(reader->end - reader->p);
}

static uint64_t s_big_endian(const uint8_t *bytes, size_t width)
{
    uint64_t value = 0;

    for (size_t i = 0; i < width; i++)
        value = value << 8 | bytes[i];
    return value;
}

static int64_t s_sign_extend(uint64_t value, size_t width)
{
    switch (width) {
    case 1:
        return (int8_t)value;
    case 2:
        return (int16_t)value;
    case 4:
        return (int32_t)value;
    default:
        return (int64_t)value;
    }
}

//  Reads the header at the reader's position, leaving the reader on the
//  payload of a str, bin or ext (header->count bytes, not checked yet).
static sd_proto_read_result s_read_header(sd_proto_reader *reader, sd_proto_header *header)
{
    *header = (sd_proto_header){.kind = SD_PROTO_INVALID};
    if (s_left(reader) == 0)
        return SD_PROTO_READ_TRUNCATED;

    uint8_t byte = *reader->p++;
    if (byte <= 0x7f || byte >= 0xe0) {
        header->kind = byte <= 0x7f ? SD_PROTO_UINT : SD_PROTO_INT;
        header->u = byte;
        header->i = (int8_t)byte;
        return SD_PROTO_READ_OK;
    }
    if (byte <= 0xbf) {
        //  fixmap, fixarray and fixstr keep their length in the low bits.
        if (byte <= 0x8f)
            header->kind = SD_PROTO_MAP;
        else if (byte <= 0x9f)
            header->kind = SD_PROTO_ARRAY;
        else
            header->kind = SD_PROTO_STR;
        header->count = header->kind == SD_PROTO_STR ? byte & 0x1f : byte & 0x0f;
        header->payload = reader->p;
        return SD_PROTO_READ_OK;
    }

    const s_format *format = &s_formats[byte - 0xc0];
    if (format->kind == SD_PROTO_INVALID)
        return SD_PROTO_READ_BAD_BYTE;
    size_t extra = format->width + (format->kind == SD_PROTO_EXT ? 1 : 0);
    if (s_left(reader) < extra)
        return SD_PROTO_READ_TRUNCATED;

    uint64_t value = s_big_endian(reader->p, format->width);
    reader->p += extra;
    header->kind = format->kind;
    header->u = format->kind == SD_PROTO_BOOL ? byte == 0xc3 : value;
    header->i = s_sign_extend(value, format->width);
    header->count = format->fixed ? format->fixed : value;
    header->payload = reader->p;
    if (format->kind == SD_PROTO_FLOAT) {
        header->count = 0;
        header->float_width = format->width;
    }
    return SD_PROTO_READ_OK;
}

sd_proto_read_result sd_proto_read_header(sd_proto_reader *reader, sd_proto_header *header)
{
    return s_read_header(reader, header);
}

static bool s_has_payload(sd_proto_kind kind)
{
    return kind == SD_PROTO_STR || kind == SD_PROTO_BIN || kind == SD_PROTO_EXT;
}

//  Skips what follows a header that was just read: the payload, or every
//  item of a container. Returns 0, or -1 when the body ends first. The
//  pending count never exceeds the bytes left, so it cannot overflow.
static int s_skip_rest(sd_proto_reader *reader, const sd_proto_header *first)
{
    sd_proto_header header = *first;
    uint64_t pending = 0;

    while (true) {
        if (s_has_payload(header.kind)) {
            if (header.count > s_left(reader))
                return -1;
            reader->p += header.count;
        } else if (header.kind == SD_PROTO_ARRAY || header.kind == SD_PROTO_MAP) {
            pending += header.kind == SD_PROTO_MAP ? header.count * 2 : header.count;
        }
        if (pending == 0)
            return 0;
        if (pending > s_left(reader) || s_read_header(reader, &header) != SD_PROTO_READ_OK)
            return -1;
        pending--;
    }
}

//  Finds key at the top level of the body and reads the header of its
//  value. Returns 0, or -1 when the body is not a map or lacks the key.
static int s_find_top_level(const uint8_t *data, size_t size, const char *key,
                            sd_proto_reader *reader, sd_proto_header *value)
{
    sd_proto_header header;
    size_t key_len = strlen(key);

    reader->p = data;
    reader->end = data + size;
    if (!data || s_read_header(reader, &header) != SD_PROTO_READ_OK || header.kind != SD_PROTO_MAP)
        return -1;

    for (uint64_t entries = header.count; entries > 0; entries--) {
        sd_proto_header name;
        if (s_read_header(reader, &name) != SD_PROTO_READ_OK)
            return -1;
        bool match = name.kind == SD_PROTO_STR && name.count == key_len &&
                     s_left(reader) >= key_len && memcmp(reader->p, key, key_len) == 0;
        if (s_skip_rest(reader, &name) != 0 || s_read_header(reader, value) != SD_PROTO_READ_OK)
            return -1;
        if (match)
            return 0;
        if (s_skip_rest(reader, value) != 0)
            return -1;
    }
    return -1;
}

int sd_msg_peek_type(const uint8_t *data, size_t size, sd_msg_type *type)
{
    sd_proto_reader reader;
    sd_proto_header value;

    if (s_find_top_level(data, size, "type", &reader, &value) != 0 || value.kind != SD_PROTO_STR ||
        value.count > s_left(&reader))
        return -1;
    return sd_msg_type_parse((const char *)value.payload, value.count, type);
}

int sd_msg_peek_string(const uint8_t *data, size_t size, const char *key, const char **text,
                       size_t *len)
{
    sd_proto_reader reader;
    sd_proto_header value;

    if (s_find_top_level(data, size, key, &reader, &value) != 0 || value.kind != SD_PROTO_STR ||
        value.count > s_left(&reader))
        return -1;
    *text = (const char *)value.payload;
    *len = (size_t)value.count;
    return 0;
}

int sd_msg_peek_int(const uint8_t *data, size_t size, const char *key, int64_t *value)
{
    sd_proto_reader reader;
    sd_proto_header header;

    if (s_find_top_level(data, size, key, &reader, &header) != 0)
        return -1;
    if (header.kind == SD_PROTO_UINT && header.u <= INT64_MAX)
        *value = (int64_t)header.u;
    else if (header.kind == SD_PROTO_INT)
        *value = header.i;
    else
        return -1;
    return 0;
}

//  One open container of the scan. steps counts the values it contains
//  (two per map entry), and index is the value being read.
typedef struct {
    bool is_map;
    uint64_t steps;
    uint64_t index;
    const uint8_t *key; //  last map key read, NULL when it was not a string
    size_t key_len;
    bool is_rows;       //  the array rows->header points at
} s_frame;

typedef struct {
    sd_proto_reader reader;
    const sd_proto_limits *limits;
    sd_proto_error *err;
    s_frame stack[SD_PROTO_MAX_DEPTH];
    size_t depth;
    sd_proto_rows_span *rows;
    const uint8_t *value_start; //  first byte of the header being read
} s_scanner;

//  Builds the path of the value at the scanner's position.
static void s_scan_path(const s_scanner *scanner, sd_proto_path *path)
{
    path->len = 0;
    path->text[0] = '\0';
    for (size_t level = 0; level < scanner->depth; level++) {
        const s_frame *frame = &scanner->stack[level];
        if (!frame->is_map)
            sd_proto_path_index(path, frame->index);
        else if (frame->index % 2 == 1 && frame->key)
            sd_proto_path_key(path, (const char *)frame->key, frame->key_len);
        else if (frame->index % 2 == 1)
            sd_proto_path_key(path, "(key)", 5);
    }
}

static int s_scan_fail(const s_scanner *scanner, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int s_scan_fail(const s_scanner *scanner, const char *format, ...)
{
    sd_proto_path path;
    va_list args;

    s_scan_path(scanner, &path);
    va_start(args, format);
    sd_proto_vfail(scanner->err, &path, format, args);
    va_end(args);
    return -1;
}

//  True when the parent of the value being read is the top-level map and
//  the value sits under key.
static bool s_under_top_key(const s_scanner *scanner, size_t depth, const char *key)
{
    const s_frame *top = &scanner->stack[0];
    size_t key_len = strlen(key);

    return scanner->depth == depth && top->key && top->key_len == key_len &&
           memcmp(top->key, key, key_len) == 0;
}

//  The item limit for an array at the scanner's position. Tables get their
//  own limits: "rows" is limited by max_rows, and "columns", "totals" and
//  each row by max_columns.
static size_t s_array_limit(const s_scanner *scanner)
{
    const sd_proto_limits *limits = scanner->limits;

    if (s_under_top_key(scanner, 1, "rows"))
        return limits->max_rows;
    if (s_under_top_key(scanner, 1, "columns") || s_under_top_key(scanner, 1, "totals") ||
        s_under_top_key(scanner, 2, "rows"))
        return limits->max_columns;
    return limits->max_array_items;
}

static int s_scan_container(s_scanner *scanner, const sd_proto_header *header)
{
    bool is_map = header->kind == SD_PROTO_MAP;
    size_t limit = is_map ? scanner->limits->max_array_items : s_array_limit(scanner);
    uint64_t steps = is_map ? header->count * 2 : header->count;

    if (header->count > limit)
        return s_scan_fail(scanner, "has %" PRIu64 " items, over the limit of %zu", header->count,
                           limit);
    if (steps > s_left(&scanner->reader))
        return s_scan_fail(scanner, "is truncated: declares %" PRIu64 " items but %zu %s",
                           header->count, s_left(&scanner->reader),
                           s_left(&scanner->reader) == 1 ? "byte remains" : "bytes remain");
    if (steps == 0)
        return 0;
    if (scanner->depth == SD_PROTO_MAX_DEPTH)
        return s_scan_fail(scanner, "nests containers deeper than %d levels", SD_PROTO_MAX_DEPTH);

    //  The first non-empty top-level "rows" array is the one the decoder reads.
    bool is_rows = !is_map && !scanner->rows->header && s_under_top_key(scanner, 1, "rows");
    s_frame *frame = &scanner->stack[scanner->depth++];
    memset(frame, 0, sizeof(*frame));
    frame->is_map = is_map;
    frame->steps = steps;
    if (is_rows) {
        frame->is_rows = true;
        scanner->rows->header = scanner->value_start;
        scanner->rows->items = scanner->reader.p;
        scanner->rows->count = (size_t)header->count;
    }
    return 0;
}

static int s_scan_payload(s_scanner *scanner, const sd_proto_header *header)
{
    if (header->kind != SD_PROTO_EXT && header->count > scanner->limits->max_string_bytes)
        return s_scan_fail(scanner, "is %" PRIu64 " bytes long, over the limit of %zu",
                           header->count, scanner->limits->max_string_bytes);
    if (header->count > s_left(&scanner->reader))
        return s_scan_fail(scanner, "is truncated: declares %" PRIu64 " bytes but %zu %s",
                           header->count, s_left(&scanner->reader),
                           s_left(&scanner->reader) == 1 ? "remains" : "remain");

    //  Remember a map key, so that paths name the field that follows it.
    if (scanner->depth > 0) {
        s_frame *frame = &scanner->stack[scanner->depth - 1];
        if (frame->is_map && frame->index % 2 == 0 && header->kind == SD_PROTO_STR) {
            frame->key = header->payload;
            frame->key_len = header->count;
        }
    }
    scanner->reader.p += header->count;
    return 0;
}

//  Marks the value at the top of the stack as read, closing every container
//  that this completes.
static void s_scan_advance(s_scanner *scanner)
{
    while (scanner->depth > 0) {
        s_frame *frame = &scanner->stack[scanner->depth - 1];
        frame->index++;
        if (frame->index < frame->steps)
            return;
        if (frame->is_rows)
            scanner->rows->end = scanner->reader.p;
        scanner->depth--;
    }
}

//  Steps over the scalar forms that fill the arrays of a table (fixint,
//  nil, bool, fixstr, str 8, uint 8 to 32, float 64) when they sit in an
//  array and pass every check. Returns true when it did; anything else,
//  errors included, is left to the general path.
static bool s_scan_scalar(s_scanner *scanner)
{
    const uint8_t *p = scanner->reader.p;
    size_t left = s_left(&scanner->reader);
    if (scanner->stack[scanner->depth - 1].is_map || left < 2)
        return false;

    uint8_t byte = p[0];
    size_t text = 0;
    size_t size;
    if (byte <= 0x7f || byte >= 0xe0 || byte == 0xc0 || byte == 0xc2 || byte == 0xc3)
        size = 1;
    else if (byte >= 0xa0 && byte <= 0xbf)
        size = 1 + (text = byte & 0x1f);
    else if (byte == 0xd9)
        size = 2 + (text = p[1]);
    else if (byte == 0xcc || byte == 0xcd || byte == 0xce)
        size = 1 + ((size_t)1 << (byte - 0xcc));
    else if (byte == 0xcb)
        size = 9;
    else
        return false;
    if (size > left || text > scanner->limits->max_string_bytes)
        return false;
    scanner->reader.p += size;
    s_scan_advance(scanner);
    return true;
}

//  Reads one header and what belongs to it directly. Returns 0 or -1.
static int s_scan_value(s_scanner *scanner)
{
    sd_proto_header header;

    if (scanner->depth > 0 && s_scan_scalar(scanner))
        return 0;
    if (scanner->depth > 0) {
        s_frame *frame = &scanner->stack[scanner->depth - 1];
        if (frame->is_map && frame->index % 2 == 0)
            frame->key = NULL;
    }

    scanner->value_start = scanner->reader.p;
    sd_proto_read_result result = s_read_header(&scanner->reader, &header);
    if (result == SD_PROTO_READ_TRUNCATED)
        return s_scan_fail(scanner, "is truncated: the body ends inside this value");
    if (result == SD_PROTO_READ_BAD_BYTE)
        return s_scan_fail(scanner, "contains the byte 0xc1, which msgpack never uses");

    if (header.kind == SD_PROTO_ARRAY || header.kind == SD_PROTO_MAP) {
        size_t depth = scanner->depth;
        if (s_scan_container(scanner, &header) != 0)
            return -1;
        if (scanner->depth > depth)
            return 0;
    } else if (s_has_payload(header.kind) && s_scan_payload(scanner, &header) != 0) {
        return -1;
    }
    s_scan_advance(scanner);
    return 0;
}

int sd_proto_scan(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                  sd_proto_error *err)
{
    sd_proto_rows_span rows;

    return sd_proto_scan_rows(data, size, limits, &rows, err);
}

int sd_proto_scan_rows(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                       sd_proto_rows_span *rows, sd_proto_error *err)
{
    s_scanner scanner = {
        .reader = {data, data + size}, .limits = limits, .err = err, .rows = rows};

    memset(rows, 0, sizeof(*rows));

    if (size == 0 || !data) {
        sd_proto_fail(err, NULL, "body is empty");
        return -1;
    }
    if ((data[0] & 0xf0) != 0x80 && data[0] != 0xde && data[0] != 0xdf) {
        sd_proto_fail(err, NULL, "body is not a msgpack map");
        return -1;
    }

    do {
        if (s_scan_value(&scanner) != 0)
            return -1;
    } while (scanner.depth > 0);

    if (s_left(&scanner.reader) > 0) {
        size_t extra = s_left(&scanner.reader);
        sd_proto_fail(err, NULL, "body has %zu extra byte%s after the message map", extra,
                      extra == 1 ? "" : "s");
        return -1;
    }
    return 0;
}

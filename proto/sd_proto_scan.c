/*  sd_proto_scan: a walk over msgpack headers that allocates nothing.

    The decoder calls sd_proto_scan before it hands a body to msgpack-c, and
    sd_msg_peek_type and sd_msg_peek_int use the same reader to look at one
    top-level field without decoding the rest.
*/
#include "sd_proto_internal.h"

#include <inttypes.h>
#include <string.h>

typedef enum {
    S_INVALID = 0,
    S_NIL,
    S_BOOL,
    S_UINT,
    S_INT,
    S_FLOAT,
    S_STR,
    S_BIN,
    S_EXT,
    S_ARRAY,
    S_MAP,
} s_kind;

//  One msgpack header. count is the payload length for str, bin and ext,
//  the item count for arrays and the entry count for maps.
typedef struct {
    s_kind kind;
    uint64_t count;
    const uint8_t *payload;
    uint64_t u;
    int64_t i;
} s_header;

typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} s_reader;

//  Formats 0xc0 to 0xdf. width is the size of the length field, or of the
//  value itself for numbers; fixed is the payload size of the fixext forms.
typedef struct {
    s_kind kind;
    uint8_t width;
    uint8_t fixed;
} s_format;

static const s_format s_formats[32] = {
    [0x00] = {S_NIL, 0, 0},  [0x01] = {S_INVALID, 0, 0}, [0x02] = {S_BOOL, 0, 0},
    [0x03] = {S_BOOL, 0, 0}, [0x04] = {S_BIN, 1, 0},     [0x05] = {S_BIN, 2, 0},
    [0x06] = {S_BIN, 4, 0},  [0x07] = {S_EXT, 1, 0},     [0x08] = {S_EXT, 2, 0},
    [0x09] = {S_EXT, 4, 0},  [0x0a] = {S_FLOAT, 4, 0},   [0x0b] = {S_FLOAT, 8, 0},
    [0x0c] = {S_UINT, 1, 0}, [0x0d] = {S_UINT, 2, 0},    [0x0e] = {S_UINT, 4, 0},
    [0x0f] = {S_UINT, 8, 0}, [0x10] = {S_INT, 1, 0},     [0x11] = {S_INT, 2, 0},
    [0x12] = {S_INT, 4, 0},  [0x13] = {S_INT, 8, 0},     [0x14] = {S_EXT, 0, 1},
    [0x15] = {S_EXT, 0, 2},  [0x16] = {S_EXT, 0, 4},     [0x17] = {S_EXT, 0, 8},
    [0x18] = {S_EXT, 0, 16}, [0x19] = {S_STR, 1, 0},     [0x1a] = {S_STR, 2, 0},
    [0x1b] = {S_STR, 4, 0},  [0x1c] = {S_ARRAY, 2, 0},   [0x1d] = {S_ARRAY, 4, 0},
    [0x1e] = {S_MAP, 2, 0},  [0x1f] = {S_MAP, 4, 0},
};

typedef enum {
    S_READ_OK = 0,
    S_READ_TRUNCATED,
    S_READ_BAD_BYTE,
} s_read_result;

static size_t s_left(const s_reader *reader)
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
static s_read_result s_read_header(s_reader *reader, s_header *header)
{
    memset(header, 0, sizeof(*header));
    if (s_left(reader) == 0)
        return S_READ_TRUNCATED;

    uint8_t byte = *reader->p++;
    if (byte <= 0x7f || byte >= 0xe0) {
        header->kind = byte <= 0x7f ? S_UINT : S_INT;
        header->u = byte;
        header->i = (int8_t)byte;
        return S_READ_OK;
    }
    if (byte <= 0xbf) {
        //  fixmap, fixarray and fixstr keep their length in the low bits.
        if (byte <= 0x8f)
            header->kind = S_MAP;
        else if (byte <= 0x9f)
            header->kind = S_ARRAY;
        else
            header->kind = S_STR;
        header->count = header->kind == S_STR ? byte & 0x1f : byte & 0x0f;
        header->payload = reader->p;
        return S_READ_OK;
    }

    const s_format *format = &s_formats[byte - 0xc0];
    if (format->kind == S_INVALID)
        return S_READ_BAD_BYTE;
    size_t extra = format->width + (format->kind == S_EXT ? 1 : 0);
    if (s_left(reader) < extra)
        return S_READ_TRUNCATED;

    uint64_t value = s_big_endian(reader->p, format->width);
    reader->p += extra;
    header->kind = format->kind;
    header->u = format->kind == S_BOOL ? byte == 0xc3 : value;
    header->i = s_sign_extend(value, format->width);
    header->count = format->fixed ? format->fixed : value;
    header->payload = reader->p;
    if (format->kind == S_FLOAT)
        header->count = 0;
    return S_READ_OK;
}

static bool s_has_payload(s_kind kind)
{
    return kind == S_STR || kind == S_BIN || kind == S_EXT;
}

//  Skips what follows a header that was just read: the payload, or every
//  item of a container. Returns 0, or -1 when the body ends first. The
//  pending count never exceeds the bytes left, so it cannot overflow.
static int s_skip_rest(s_reader *reader, const s_header *first)
{
    s_header header = *first;
    uint64_t pending = 0;

    while (true) {
        if (s_has_payload(header.kind)) {
            if (header.count > s_left(reader))
                return -1;
            reader->p += header.count;
        } else if (header.kind == S_ARRAY || header.kind == S_MAP) {
            pending += header.kind == S_MAP ? header.count * 2 : header.count;
        }
        if (pending == 0)
            return 0;
        if (pending > s_left(reader) || s_read_header(reader, &header) != S_READ_OK)
            return -1;
        pending--;
    }
}

//  Finds key at the top level of the body and reads the header of its
//  value. Returns 0, or -1 when the body is not a map or lacks the key.
static int s_find_top_level(const uint8_t *data, size_t size, const char *key, s_reader *reader,
                            s_header *value)
{
    s_header header;
    size_t key_len = strlen(key);

    reader->p = data;
    reader->end = data + size;
    if (!data || s_read_header(reader, &header) != S_READ_OK || header.kind != S_MAP)
        return -1;

    for (uint64_t entries = header.count; entries > 0; entries--) {
        s_header name;
        if (s_read_header(reader, &name) != S_READ_OK)
            return -1;
        bool match = name.kind == S_STR && name.count == key_len && s_left(reader) >= key_len &&
                     memcmp(reader->p, key, key_len) == 0;
        if (s_skip_rest(reader, &name) != 0 || s_read_header(reader, value) != S_READ_OK)
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
    s_reader reader;
    s_header value;

    if (s_find_top_level(data, size, "type", &reader, &value) != 0 || value.kind != S_STR ||
        value.count > s_left(&reader))
        return -1;
    return sd_msg_type_parse((const char *)value.payload, value.count, type);
}

int sd_msg_peek_int(const uint8_t *data, size_t size, const char *key, int64_t *value)
{
    s_reader reader;
    s_header header;

    if (s_find_top_level(data, size, key, &reader, &header) != 0)
        return -1;
    if (header.kind == S_UINT && header.u <= INT64_MAX)
        *value = (int64_t)header.u;
    else if (header.kind == S_INT)
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
} s_frame;

typedef struct {
    s_reader reader;
    const sd_proto_limits *limits;
    sd_proto_error *err;
    s_frame stack[SD_PROTO_MAX_DEPTH];
    size_t depth;
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

static int s_scan_container(s_scanner *scanner, const s_header *header)
{
    bool is_map = header->kind == S_MAP;
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

    s_frame *frame = &scanner->stack[scanner->depth++];
    memset(frame, 0, sizeof(*frame));
    frame->is_map = is_map;
    frame->steps = steps;
    return 0;
}

static int s_scan_payload(s_scanner *scanner, const s_header *header)
{
    if (header->kind != S_EXT && header->count > scanner->limits->max_string_bytes)
        return s_scan_fail(scanner, "is %" PRIu64 " bytes long, over the limit of %zu",
                           header->count, scanner->limits->max_string_bytes);
    if (header->count > s_left(&scanner->reader))
        return s_scan_fail(scanner, "is truncated: declares %" PRIu64 " bytes but %zu %s",
                           header->count, s_left(&scanner->reader),
                           s_left(&scanner->reader) == 1 ? "remains" : "remain");

    //  Remember a map key, so that paths name the field that follows it.
    if (scanner->depth > 0) {
        s_frame *frame = &scanner->stack[scanner->depth - 1];
        if (frame->is_map && frame->index % 2 == 0 && header->kind == S_STR) {
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
        scanner->depth--;
    }
}

//  Reads one header and what belongs to it directly. Returns 0 or -1.
static int s_scan_value(s_scanner *scanner)
{
    s_header header;

    if (scanner->depth > 0) {
        s_frame *frame = &scanner->stack[scanner->depth - 1];
        if (frame->is_map && frame->index % 2 == 0)
            frame->key = NULL;
    }

    s_read_result result = s_read_header(&scanner->reader, &header);
    if (result == S_READ_TRUNCATED)
        return s_scan_fail(scanner, "is truncated: the body ends inside this value");
    if (result == S_READ_BAD_BYTE)
        return s_scan_fail(scanner, "contains the byte 0xc1, which msgpack never uses");

    if (header.kind == S_ARRAY || header.kind == S_MAP) {
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
    s_scanner scanner = {.reader = {data, data + size}, .limits = limits, .err = err};

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

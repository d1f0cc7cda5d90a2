/*  sd_proto_internal: pieces the encoder, the decoder and the scanner of
    sd_proto share. Not part of the library's contract: only the sources in
    proto/ include this header.
*/
#ifndef SD_PROTO_INTERNAL_H
#define SD_PROTO_INTERNAL_H

#include "sd_proto.h"

#include <msgpack.h>
#include <stdarg.h>

//  Containers nest at most this deep. The deepest field of any message
//  (fetch.request's queries[i].spec.rules[j].args[k]) sits at depth 7, and
//  msgpack-c's own parser stops at 32.
#define SD_PROTO_MAX_DEPTH 16

//  Path of the field being read or written, as error messages show it:
//  "queries[1].periods[0].start". Text past the buffer is cut off.
typedef struct {
    char text[sizeof(((sd_proto_error *)0)->field)];
    size_t len;
} sd_proto_path;

//  Each append returns the previous length, which sd_proto_path_restore
//  takes to undo it.
size_t sd_proto_path_key(sd_proto_path *path, const char *key, size_t key_len);
size_t sd_proto_path_index(sd_proto_path *path, size_t index);
void sd_proto_path_restore(sd_proto_path *path, size_t len);

//  Fills err (when not NULL) with the path (NULL for the whole body) and
//  the formatted text.
void sd_proto_fail(sd_proto_error *err, const sd_proto_path *path, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void sd_proto_vfail(sd_proto_error *err, const sd_proto_path *path, const char *format,
                    va_list args) __attribute__((format(printf, 3, 0)));

//  Allowed values of the enumerated string fields, each list ending in NULL.
extern const char *const sd_proto_frequencies[];
extern const char *const sd_proto_period_labels[];
extern const char *const sd_proto_column_kinds[];
extern const char *const sd_proto_report_statuses[];
extern const char *const sd_proto_yearly_alignments[];

//  Returns true when the len bytes at text equal one of the allowed values.
bool sd_proto_enum_valid(const char *const *allowed, const char *text, size_t len);
//  Writes "A, B or C" into buffer.
void sd_proto_enum_describe(const char *const *allowed, char *buffer, size_t size);

//  Returns true when the len bytes at text are "YYYY-MM-DD" and name a real
//  day of the Gregorian calendar, year 0001 to 9999.
bool sd_proto_date_valid(const char *text, size_t len);

//  Checks one string value: strict UTF-8, NUL bytes only when allow_nul.
//  Returns 0, or -1 with err filled (naming path).
int sd_proto_check_text(const char *text, size_t len, bool allow_nul, sd_proto_error *err,
                        const sd_proto_path *path);

//  The kinds of msgpack value the byte reader tells apart.
typedef enum {
    SD_PROTO_INVALID = 0,
    SD_PROTO_NIL,
    SD_PROTO_BOOL,
    SD_PROTO_UINT,
    SD_PROTO_INT,
    SD_PROTO_FLOAT,
    SD_PROTO_STR,
    SD_PROTO_BIN,
    SD_PROTO_EXT,
    SD_PROTO_ARRAY,
    SD_PROTO_MAP,
} sd_proto_kind;

//  One msgpack header. count is the payload length for str, bin and ext,
//  the item count for arrays and the entry count for maps. u holds an
//  unsigned integer, a bool (0 or 1) or the bits of a float (width 4 or 8
//  bytes, in float_width); i holds a signed integer.
typedef struct {
    sd_proto_kind kind;
    uint64_t count;
    const uint8_t *payload;
    uint64_t u;
    int64_t i;
    uint8_t float_width;
} sd_proto_header;

//  The bytes left to read: from p up to end.
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} sd_proto_reader;

typedef enum {
    SD_PROTO_READ_OK = 0,
    SD_PROTO_READ_TRUNCATED,
    SD_PROTO_READ_BAD_BYTE,
} sd_proto_read_result;

//  Reads the header at the reader's position, leaving the reader on the
//  payload of a str, bin or ext (header->count bytes, not checked yet).
sd_proto_read_result sd_proto_read_header(sd_proto_reader *reader, sd_proto_header *header);

//  Where sd_proto_scan found the first top-level "rows" entry whose value
//  is a non-empty array. The decoder hands every other byte of the body to
//  msgpack-c and reads the rows itself, so that no object is built per cell.
typedef struct {
    const uint8_t *header;          //  first byte of the array header; NULL when not found
    const uint8_t *items;           //  first byte of the first row
    const uint8_t *end;             //  first byte after the last row
    size_t count;                   //  rows the array declares
} sd_proto_rows_span;

//  Walks the whole body once without allocating, before msgpack-c parses it.
//  Rejects malformed or truncated msgpack, a body that is not one map, bytes
//  after the map, nesting past SD_PROTO_MAX_DEPTH and strings past the
//  limits. It also rejects any array or map that declares more items than
//  the limits allow or than the bytes left could hold. msgpack-c reserves memory for a declared
//  count before reading the items, so this check is what bounds the memory
//  a hostile body can make the decoder reserve. Returns 0 or -1.
int sd_proto_scan(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                  sd_proto_error *err);
//  The same walk, which also fills rows (never NULL).
int sd_proto_scan_rows(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                       sd_proto_rows_span *rows, sd_proto_error *err);

//  The state of one decode. Helpers do nothing once one has failed, so a
//  decoder of a struct is a plain list of calls. The first error is the one
//  reported.
typedef struct {
    const sd_proto_limits *limits;
    sd_proto_error *err;
    sd_proto_path path;
    int version;
    bool failed;
    sd_proto_rows_span rows;        //  from the scan
    size_t table_width;             //  columns of the table, once its columns are read
    size_t table_rows;              //  rows sd_decode_rows reads, 0 when none
} sd_decoder;

void sd_decode_fail(sd_decoder *decoder, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

//  Returns true when object is a map whose keys are all strings, failing
//  otherwise. Every struct decoder calls it first.
bool sd_decode_map(sd_decoder *decoder, const msgpack_object *object);

//  Finds key in map; the path must already name the field. Returns the
//  value, or NULL when the key is absent (an error when required) or
//  appears twice (always an error).
const msgpack_object *sd_decode_find(sd_decoder *decoder, const msgpack_object *map,
                                     const char *key, bool required);

//  Copies a string value into *out (new, NUL-terminated). Returns 0 or -1.
int sd_decode_string(sd_decoder *decoder, const msgpack_object *object, char **out);

//  Field readers: each looks key up in map and stores the value in *out.
//  A string field with a NULL fallback is required; otherwise an absent
//  field gets a copy of the fallback.
void sd_decode_string_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                            const char *fallback, char **out);
//  An optional string that stays NULL when absent or nil.
void sd_decode_nullable_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                              char **out);
void sd_decode_enum_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                          const char *const *allowed, const char *fallback, char **out);
void sd_decode_date_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                          char **out);
void sd_decode_int_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                         bool required, int64_t *out);
void sd_decode_bool_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                          bool required, bool *out);
//  Accepts a float or an integer.
void sd_decode_double_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                            bool required, double *out);
//  An absent optional list stays empty.
void sd_decode_strings_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                             bool required, sd_strings *out);

//  Finds the array field key (the path must already name it), checks it
//  against max_array_items and returns count zeroed items of item_size, or
//  NULL when the field is absent, empty or invalid. *array receives the
//  msgpack array.
void *sd_decode_items(sd_decoder *decoder, const msgpack_object *map, const char *key,
                      bool required, size_t item_size, size_t *count, const msgpack_object **array);

//  Checks a string value: its length against the limit, then strict UTF-8
//  (NUL bytes only when allow_nul). Returns 0, or -1 with the decoder
//  failed.
int sd_decode_check_text(sd_decoder *decoder, const char *text, size_t len, bool allow_nul);

//  Reads the "columns" entry of a table message and checks that "rows" is
//  an array. The rows are read afterwards by sd_decode_rows.
void sd_decode_table_data(sd_decoder *decoder, const msgpack_object *map, sd_table_data *data);

//  Turns one value into a cell: nil, bool, an integer in the int64 range,
//  a float, or a string (NUL bytes allowed) that out borrows from the body,
//  not NUL-terminated. Returns 0, or -1 with the decoder failed; the
//  caller then names the cell with sd_decode_name_cell.
int sd_decode_cell(sd_decoder *decoder, const sd_proto_header *value, sd_value *out);

//  Rewrites the error's field to name the cell (row, column) under the
//  current path; row is SIZE_MAX for a cell of totals.
void sd_decode_name_cell(sd_decoder *decoder, size_t row, size_t column);

//  Receives one row from sd_decode_rows: width cells whose strings are
//  borrowed from the body and not NUL-terminated. Returns 0, or -1 to stop
//  (after failing the decoder with its own reason, if it has one).
typedef int(sd_decode_row_fn)(void *arg, sd_decoder *decoder, const sd_value *cells,
                              size_t width);

//  Reads the rows the scan found (decoder->table_rows of them) straight
//  from the body, checking that each is an array as wide as the table and
//  that each cell is valid, and hands each row to on_row in order. Rows
//  before a bad one have been handed over when this fails.
void sd_decode_rows(sd_decoder *decoder, sd_decode_row_fn *on_row, void *arg);
//  Reads "totals": one cell per column.
void sd_decode_totals(sd_decoder *decoder, const msgpack_object *map, size_t column_count,
                      sd_value **totals);

#endif

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

//  Walks the whole body once without allocating, before msgpack-c parses it.
//  Rejects malformed or truncated msgpack, a body that is not one map, bytes
//  after the map, nesting past SD_PROTO_MAX_DEPTH and strings past the
//  limits. It also rejects any array or map that declares more items than
//  the limits allow or than the bytes left could hold. msgpack-c reserves memory for a declared
//  count before reading the items, so this check is what bounds the memory
//  a hostile body can make the decoder reserve. Returns 0 or -1.
int sd_proto_scan(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                  sd_proto_error *err);

//  The state of one decode. Helpers do nothing once one has failed, so a
//  decoder of a struct is a plain list of calls. The first error is the one
//  reported.
typedef struct {
    const sd_proto_limits *limits;
    sd_proto_error *err;
    sd_proto_path path;
    int version;
    bool failed;
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

//  Reads the "columns" and "rows" entries of a table message.
void sd_decode_table_data(sd_decoder *decoder, const msgpack_object *map, sd_table_data *data);
//  Reads "totals": one cell per column.
void sd_decode_totals(sd_decoder *decoder, const msgpack_object *map, size_t column_count,
                      sd_value **totals);

#endif

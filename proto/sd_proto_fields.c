/*  sd_proto_fields: the decoder's readers of single fields, lists, table
    columns and totals, working on the object tree msgpack-c built. The
    rows of a table are read from the body itself (sd_proto_rows.c).
*/
#include "sd_proto_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void sd_decode_fail(sd_decoder *decoder, const char *format, ...)
{
    va_list args;

    if (decoder->failed)
        return;
    decoder->failed = true;
    va_start(args, format);
    sd_proto_vfail(decoder->err, &decoder->path, format, args);
    va_end(args);
}

bool sd_decode_map(sd_decoder *decoder, const msgpack_object *object)
{
    if (decoder->failed)
        return false;
    if (object->type != MSGPACK_OBJECT_MAP) {
        sd_decode_fail(decoder, "must be a map");
        return false;
    }
    for (uint32_t i = 0; i < object->via.map.size; i++) {
        if (object->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR) {
            sd_decode_fail(decoder, "has a key that is not a string");
            return false;
        }
    }
    return true;
}

const msgpack_object *sd_decode_find(sd_decoder *decoder, const msgpack_object *map,
                                     const char *key, bool required)
{
    const msgpack_object *found = NULL;
    size_t key_len = strlen(key);

    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_str *name = &map->via.map.ptr[i].key.via.str;
        if (name->size != key_len || memcmp(name->ptr, key, key_len) != 0)
            continue;
        if (found) {
            sd_decode_fail(decoder, "appears twice in the map");
            return NULL;
        }
        found = &map->via.map.ptr[i].val;
    }
    if (!found && required)
        sd_decode_fail(decoder, "is missing");
    return found;
}

int sd_decode_check_text(sd_decoder *decoder, const char *text, size_t len, bool allow_nul)
{
    if (len > decoder->limits->max_string_bytes) {
        sd_decode_fail(decoder, "is %zu bytes long, over the limit of %zu", len,
                       decoder->limits->max_string_bytes);
        return -1;
    }
    if (sd_proto_check_text(text, len, allow_nul, decoder->err, &decoder->path) != 0) {
        decoder->failed = true;
        return -1;
    }
    return 0;
}

//  Checks a str object's length and encoding.
static int s_check_str(sd_decoder *decoder, const msgpack_object *object)
{
    if (object->type != MSGPACK_OBJECT_STR) {
        sd_decode_fail(decoder, "must be a string");
        return -1;
    }
    return sd_decode_check_text(decoder, object->via.str.ptr, object->via.str.size, false);
}

static char *s_copy(sd_decoder *decoder, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy) {
        sd_decode_fail(decoder, "out of memory for %zu bytes", len);
        return NULL;
    }
    if (len > 0)
        memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

int sd_decode_string(sd_decoder *decoder, const msgpack_object *object, char **out)
{
    if (decoder->failed || s_check_str(decoder, object) != 0)
        return -1;
    *out = s_copy(decoder, object->via.str.ptr, object->via.str.size);
    return *out ? 0 : -1;
}

void sd_decode_string_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                            const char *fallback, char **out)
{
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));
    const msgpack_object *value = sd_decode_find(decoder, map, key, fallback == NULL);
    if (value)
        sd_decode_string(decoder, value, out);
    else if (!decoder->failed)
        *out = s_copy(decoder, fallback, strlen(fallback));
    sd_proto_path_restore(&decoder->path, mark);
}

void sd_decode_nullable_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                              char **out)
{
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));
    const msgpack_object *value = sd_decode_find(decoder, map, key, false);
    if (value && value->type != MSGPACK_OBJECT_NIL)
        sd_decode_string(decoder, value, out);
    sd_proto_path_restore(&decoder->path, mark);
}

void sd_decode_enum_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                          const char *const *allowed, const char *fallback, char **out)
{
    sd_decode_string_field(decoder, map, key, fallback, out);
    if (decoder->failed || sd_proto_enum_valid(allowed, *out, strlen(*out)))
        return;

    char names[96];
    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));
    sd_proto_enum_describe(allowed, names, sizeof(names));
    sd_decode_fail(decoder, "is \"%.40s\"; expected %s", *out, names);
    sd_proto_path_restore(&decoder->path, mark);
}

void sd_decode_date_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                          char **out)
{
    sd_decode_string_field(decoder, map, key, NULL, out);
    if (decoder->failed || sd_proto_date_valid(*out, strlen(*out)))
        return;

    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));
    sd_decode_fail(decoder, "is \"%.40s\", not a calendar date written YYYY-MM-DD", *out);
    sd_proto_path_restore(&decoder->path, mark);
}

//  Reads an integer object into *out. Returns 0 or -1.
static int s_int(sd_decoder *decoder, const msgpack_object *object, int64_t *out)
{
    if (object->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = object->via.i64;
        return 0;
    }
    if (object->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
        sd_decode_fail(decoder, "must be an integer");
        return -1;
    }
    if (object->via.u64 > INT64_MAX) {
        sd_decode_fail(decoder, "is %" PRIu64 ", past the int64 range", object->via.u64);
        return -1;
    }
    *out = (int64_t)object->via.u64;
    return 0;
}

void sd_decode_int_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                         bool required, int64_t *out)
{
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));
    const msgpack_object *value = sd_decode_find(decoder, map, key, required);
    if (value)
        s_int(decoder, value, out);
    sd_proto_path_restore(&decoder->path, mark);
}

void sd_decode_bool_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                          bool required, bool *out)
{
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));
    const msgpack_object *value = sd_decode_find(decoder, map, key, required);
    if (value && value->type != MSGPACK_OBJECT_BOOLEAN)
        sd_decode_fail(decoder, "must be a boolean");
    else if (value)
        *out = value->via.boolean;
    sd_proto_path_restore(&decoder->path, mark);
}

void sd_decode_double_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                            bool required, double *out)
{
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));
    const msgpack_object *value = sd_decode_find(decoder, map, key, required);
    int64_t integer = 0;
    bool is_float =
        value && (value->type == MSGPACK_OBJECT_FLOAT32 || value->type == MSGPACK_OBJECT_FLOAT64);
    bool is_int = value && (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                            value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER);

    if (is_float)
        *out = value->via.f64;
    else if (is_int && s_int(decoder, value, &integer) == 0)
        *out = (double)integer;
    else if (value && !is_int)
        sd_decode_fail(decoder, "must be a number");
    sd_proto_path_restore(&decoder->path, mark);
}

//  Checks that object is an array of at most limit items. Returns 0 or -1.
static int s_check_array(sd_decoder *decoder, const msgpack_object *object, size_t limit)
{
    if (object->type != MSGPACK_OBJECT_ARRAY) {
        sd_decode_fail(decoder, "must be an array");
        return -1;
    }
    if (object->via.array.size > limit) {
        sd_decode_fail(decoder, "has %" PRIu32 " items, over the limit of %zu",
                       object->via.array.size, limit);
        return -1;
    }
    return 0;
}

void *sd_decode_items(sd_decoder *decoder, const msgpack_object *map, const char *key,
                      bool required, size_t item_size, size_t *count, const msgpack_object **array)
{
    *count = 0;
    *array = NULL;
    if (decoder->failed)
        return NULL;

    const msgpack_object *value = sd_decode_find(decoder, map, key, required);
    if (!value || s_check_array(decoder, value, decoder->limits->max_array_items) != 0)
        return NULL;
    if (value->via.array.size == 0)
        return NULL;

    void *items = calloc(value->via.array.size, item_size);
    if (!items) {
        sd_decode_fail(decoder, "out of memory for %" PRIu32 " items", value->via.array.size);
        return NULL;
    }
    *count = value->via.array.size;
    *array = value;
    return items;
}

void sd_decode_strings_field(sd_decoder *decoder, const msgpack_object *map, const char *key,
                             bool required, sd_strings *out)
{
    const msgpack_object *array;
    size_t mark = sd_proto_path_key(&decoder->path, key, strlen(key));

    out->items = sd_decode_items(decoder, map, key, required, sizeof(char *), &out->count, &array);
    for (size_t i = 0; i < out->count && !decoder->failed; i++) {
        size_t item = sd_proto_path_index(&decoder->path, i);
        sd_decode_string(decoder, &array->via.array.ptr[i], &out->items[i]);
        sd_proto_path_restore(&decoder->path, item);
    }
    sd_proto_path_restore(&decoder->path, mark);
}

//  Describes a msgpack-c object the way the byte reader describes a
//  header, so that sd_decode_cell checks both alike.
static void s_as_header(const msgpack_object *object, sd_proto_header *header)
{
    memset(header, 0, sizeof(*header));
    switch (object->type) {
    case MSGPACK_OBJECT_NIL:
        header->kind = SD_PROTO_NIL;
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        header->kind = SD_PROTO_BOOL;
        header->u = object->via.boolean;
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        header->kind = SD_PROTO_UINT;
        header->u = object->via.u64;
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        header->kind = SD_PROTO_INT;
        header->i = object->via.i64;
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        header->kind = SD_PROTO_FLOAT;
        header->float_width = 8;
        memcpy(&header->u, &object->via.f64, sizeof(header->u));
        break;
    case MSGPACK_OBJECT_STR:
        header->kind = SD_PROTO_STR;
        header->payload = (const uint8_t *)object->via.str.ptr;
        header->count = object->via.str.size;
        break;
    default:
        header->kind = SD_PROTO_MAP;
        break;
    }
}

//  Reads one cell of totals into out, with its own copy of a string.
//  The caller adds the cell's position to the path when this fails.
static int s_value(sd_decoder *decoder, const msgpack_object *object, sd_value *out)
{
    sd_proto_header header;

    s_as_header(object, &header);
    if (sd_decode_cell(decoder, &header, out) != 0)
        return -1;
    if (out->kind != SD_VALUE_STRING)
        return 0;
    out->as.s.ptr = s_copy(decoder, out->as.s.ptr, out->as.s.len);
    if (out->as.s.ptr)
        return 0;
    out->kind = SD_VALUE_NIL;
    return -1;
}

static void s_column(sd_decoder *decoder, const msgpack_object *object, sd_column *column)
{
    char *kind = NULL;

    if (!sd_decode_map(decoder, object))
        return;
    sd_decode_string_field(decoder, object, "name", NULL, &column->name);
    sd_decode_enum_field(decoder, object, "kind", sd_proto_column_kinds, NULL, &kind);
    sd_decode_string_field(decoder, object, "unit", "", &column->unit);
    if (kind)
        column->kind = strcmp(kind, "metric") == 0 ? SD_COLUMN_METRIC : SD_COLUMN_DIMENSION;
    free(kind);
}

static void s_columns(sd_decoder *decoder, const msgpack_object *map, sd_table_data *data)
{
    size_t mark = sd_proto_path_key(&decoder->path, "columns", 7);
    const msgpack_object *array = sd_decode_find(decoder, map, "columns", true);

    if (array && s_check_array(decoder, array, decoder->limits->max_columns) == 0 &&
        array->via.array.size > 0) {
        data->columns = calloc(array->via.array.size, sizeof(*data->columns));
        if (!data->columns)
            sd_decode_fail(decoder, "out of memory for the columns");
        else
            data->column_count = array->via.array.size;
    }
    for (size_t i = 0; i < data->column_count && !decoder->failed; i++) {
        size_t item = sd_proto_path_index(&decoder->path, i);
        s_column(decoder, &array->via.array.ptr[i], &data->columns[i]);
        sd_proto_path_restore(&decoder->path, item);
    }
    sd_proto_path_restore(&decoder->path, mark);
}

void sd_decode_table_data(sd_decoder *decoder, const msgpack_object *map, sd_table_data *data)
{
    s_columns(decoder, map, data);
    if (decoder->failed)
        return;

    //  The rows themselves are read by sd_decode_rows, once every other
    //  field is in: msgpack-c only saw an empty array in their place.
    size_t mark = sd_proto_path_key(&decoder->path, "rows", 4);
    const msgpack_object *rows = sd_decode_find(decoder, map, "rows", true);
    if (rows && s_check_array(decoder, rows, decoder->limits->max_rows) == 0) {
        decoder->table_width = data->column_count;
        decoder->table_rows = decoder->rows.header ? decoder->rows.count : 0;
    }
    sd_proto_path_restore(&decoder->path, mark);
}

void sd_decode_totals(sd_decoder *decoder, const msgpack_object *map, size_t column_count,
                      sd_value **totals)
{
    if (decoder->failed)
        return;

    size_t mark = sd_proto_path_key(&decoder->path, "totals", 6);
    const msgpack_object *array = sd_decode_find(decoder, map, "totals", true);
    if (array && s_check_array(decoder, array, decoder->limits->max_columns) == 0) {
        if (array->via.array.size != column_count)
            sd_decode_fail(decoder, "has %" PRIu32 " values but the table has %zu columns",
                           array->via.array.size, column_count);
        else if (column_count > 0 && !(*totals = calloc(column_count, sizeof(**totals))))
            sd_decode_fail(decoder, "out of memory for the totals");
    }
    for (size_t i = 0; *totals && i < column_count && !decoder->failed; i++) {
        if (s_value(decoder, &array->via.array.ptr[i], &(*totals)[i]) != 0)
            sd_decode_name_cell(decoder, SIZE_MAX, i);
    }
    sd_proto_path_restore(&decoder->path, mark);
}

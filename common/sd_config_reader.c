/*  sd_config_reader: typed reads of JSON members with one-line errors.  */
#include "sd_config_reader.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Maximum number of bytes of a string value quoted in an error message.
#define S_QUOTE_MAX 60

void sd_config_fail(sd_config_reader *reader, const char *key, const char *format, ...)
{
    sd_config_error err;
    snprintf(err.path, sizeof err.path, "%s", reader->path);
    snprintf(err.key, sizeof err.key, "%s", key ? key : "");
    va_list args;
    va_start(args, format);
    vsnprintf(err.text, sizeof err.text, format, args);
    va_end(args);
    reader->error_count++;
    if (reader->report)
        reader->report(&err, reader->arg);
}

//  Appends text to buffer (holding used bytes), control characters as \xNN,
//  stopping after max input bytes. Returns the new length.
static size_t s_append_escaped(char *buffer, size_t size, size_t used, const char *text, size_t max)
{
    const unsigned char *p = (const unsigned char *)text;
    for (size_t i = 0; p[i] && i < max && used + 5 < size; i++) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            used += (size_t)snprintf(buffer + used, size - used, "\\x%02x", p[i]);
        else
            buffer[used++] = (char)p[i];
    }
    buffer[used] = '\0';
    return used;
}

void sd_config_key(char key[SD_CONFIG_KEY_MAX], const char *parent, const char *name)
{
    size_t used = 0;
    if (parent && *parent)
        used = (size_t)snprintf(key, SD_CONFIG_KEY_MAX, "%s.", parent);
    if (used >= SD_CONFIG_KEY_MAX - 1)
        return;
    s_append_escaped(key, SD_CONFIG_KEY_MAX, used, name, SIZE_MAX);
}

void sd_config_key_index(char key[SD_CONFIG_KEY_MAX], const char *parent, size_t index)
{
    char copy[SD_CONFIG_KEY_MAX];
    snprintf(copy, sizeof copy, "%s", parent);
    snprintf(key, SD_CONFIG_KEY_MAX, "%.200s[%zu]", copy, index);
}

const char *sd_config_describe(const json_t *value, char *buffer, size_t size)
{
    switch (json_typeof(value)) {
    case JSON_STRING: {
        size_t used = (size_t)snprintf(buffer, size, "\"");
        used = s_append_escaped(buffer, size, used, json_string_value(value), S_QUOTE_MAX);
        bool cut = json_string_length(value) > S_QUOTE_MAX;
        snprintf(buffer + used, size - used, "%s\"", cut ? "..." : "");
        break;
    }
    case JSON_INTEGER:
        snprintf(buffer, size, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        break;
    case JSON_REAL:
        snprintf(buffer, size, "%g", json_real_value(value));
        break;
    case JSON_TRUE:
        snprintf(buffer, size, "true");
        break;
    case JSON_FALSE:
        snprintf(buffer, size, "false");
        break;
    case JSON_NULL:
        snprintf(buffer, size, "null");
        break;
    case JSON_ARRAY:
        snprintf(buffer, size, "an array");
        break;
    default:
        snprintf(buffer, size, "an object");
        break;
    }
    return buffer;
}

static bool s_is_known(const char *name, const char *const *known)
{
    for (size_t i = 0; known[i]; i++)
        if (strcmp(name, known[i]) == 0)
            return true;
    return false;
}

int sd_config_check_keys(sd_config_reader *reader, json_t *object, const char *key,
                         const char *const known[])
{
    char list[384] = "";
    size_t used = 0;
    for (size_t i = 0; known[i] && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", known[i]);

    int unknown = 0;
    const char *name;
    json_t *value;
    json_object_foreach(object, name, value) {
        if (s_is_known(name, known))
            continue;
        char member[SD_CONFIG_KEY_MAX];
        sd_config_key(member, key, name);
        if (*key)
            sd_config_fail(reader, member, "unknown key; the keys of %s are: %s", key, list);
        else
            sd_config_fail(reader, member, "unknown key; the top-level keys are: %s", list);
        unknown++;
    }
    return unknown;
}

//  Returns object[name], or NULL when it is absent or not of the wanted
//  type (reported). JSON_TRUE matches both booleans.
static json_t *s_member(sd_config_reader *reader, json_t *object, const char *parent,
                        const char *name, json_type type, const char *expected)
{
    json_t *value = json_object_get(object, name);
    if (!value)
        return NULL;
    bool match =
        json_typeof(value) == type || (type == JSON_TRUE && json_typeof(value) == JSON_FALSE);
    if (match)
        return value;

    char key[SD_CONFIG_KEY_MAX];
    char found[128];
    sd_config_key(key, parent, name);
    sd_config_fail(reader, key, "expected %s, found %s", expected,
                   sd_config_describe(value, found, sizeof found));
    return NULL;
}

json_t *sd_config_get_object(sd_config_reader *reader, json_t *object, const char *parent,
                             const char *name)
{
    return s_member(reader, object, parent, name, JSON_OBJECT, "an object");
}

char *sd_config_strdup(sd_config_reader *reader, const char *key, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        sd_config_fail(reader, key, "out of memory while reading the value");
    return copy;
}

//  Reads a string member into a new copy. Returns 1 when one was stored in
//  *copy, 0 when absent, -1 on error.
static int s_read_copy(sd_config_reader *reader, json_t *object, const char *parent,
                       const char *name, const char *expected, char **copy)
{
    *copy = NULL;
    if (!json_object_get(object, name))
        return 0;
    json_t *value = s_member(reader, object, parent, name, JSON_STRING, expected);
    if (!value)
        return -1;
    char key[SD_CONFIG_KEY_MAX];
    sd_config_key(key, parent, name);
    *copy = sd_config_strdup(reader, key, json_string_value(value));
    return *copy ? 1 : -1;
}

static void s_replace(char **out, char *copy)
{
    free(*out);
    *out = copy;
}

int sd_config_read_string(sd_config_reader *reader, json_t *object, const char *parent,
                          const char *name, char **out)
{
    char *copy;
    int found = s_read_copy(reader, object, parent, name, "a string", &copy);
    if (found > 0)
        s_replace(out, copy);
    return found < 0 ? -1 : 0;
}

int sd_config_read_matching(sd_config_reader *reader, json_t *object, const char *parent,
                            const char *name, bool (*accept)(const char *, const void *),
                            const void *context, const char *expected, char **out)
{
    char *copy;
    int found = s_read_copy(reader, object, parent, name, expected, &copy);
    if (found <= 0)
        return found;
    if (accept(copy, context)) {
        s_replace(out, copy);
        return 0;
    }
    char key[SD_CONFIG_KEY_MAX];
    char text[128];
    sd_config_key(key, parent, name);
    sd_config_fail(reader, key, "expected %s, found %s", expected,
                   sd_config_describe(json_object_get(object, name), text, sizeof text));
    free(copy);
    return -1;
}

static bool s_non_empty(const char *text, const void *context)
{
    (void)context;
    return *text != '\0';
}

static bool s_has_prefix(const char *text, const char *prefix)
{
    size_t length = strlen(prefix);
    return strncmp(text, prefix, length) == 0 && text[length] != '\0';
}

static bool s_is_endpoint(const char *text, const void *context)
{
    (void)context;
    return s_has_prefix(text, "tcp://") || s_has_prefix(text, "ipc://") ||
           s_has_prefix(text, "inproc://");
}

static bool s_is_url(const char *text, const void *context)
{
    (void)context;
    return s_has_prefix(text, "http://") || s_has_prefix(text, "https://");
}

int sd_config_read_text(sd_config_reader *reader, json_t *object, const char *parent,
                        const char *name, char **out)
{
    return sd_config_read_matching(reader, object, parent, name, s_non_empty, NULL,
                                   "a non-empty string", out);
}

int sd_config_read_endpoint(sd_config_reader *reader, json_t *object, const char *parent,
                            const char *name, char **out)
{
    return sd_config_read_matching(reader, object, parent, name, s_is_endpoint, NULL,
                                   "a ZeroMQ endpoint starting with tcp://, ipc:// or inproc://"
                                   " (e.g. \"tcp://127.0.0.1:5555\")",
                                   out);
}

int sd_config_read_url(sd_config_reader *reader, json_t *object, const char *parent,
                       const char *name, char **out)
{
    return sd_config_read_matching(reader, object, parent, name, s_is_url, NULL,
                                   "a URL starting with http:// or https://", out);
}

static bool s_is_choice(const char *text, const void *context)
{
    return s_is_known(text, context);
}

int sd_config_read_choice(sd_config_reader *reader, json_t *object, const char *parent,
                          const char *name, const char *const choices[], char **out)
{
    char expected[256] = "one of ";
    size_t used = strlen(expected);
    for (size_t i = 0; choices[i] && used < sizeof expected; i++)
        used += (size_t)snprintf(expected + used, sizeof expected - used, "%s\"%s\"", i ? ", " : "",
                                 choices[i]);
    return sd_config_read_matching(reader, object, parent, name, s_is_choice, choices, expected,
                                   out);
}

int sd_config_read_bool(sd_config_reader *reader, json_t *object, const char *parent,
                        const char *name, bool *out)
{
    if (!json_object_get(object, name))
        return 0;
    json_t *value = s_member(reader, object, parent, name, JSON_TRUE, "true or false");
    if (!value)
        return -1;
    *out = json_is_true(value);
    return 0;
}

//  Describes the range min..max as "a positive integer", "an integer from
//  1 to 28", ...
static void s_range_text(int64_t min, int64_t max, int64_t type_max, char *text, size_t size)
{
    if (min == 1 && max == type_max)
        snprintf(text, size, "a positive integer");
    else if (min == 0 && max == type_max)
        snprintf(text, size, "an integer of 0 or more");
    else
        snprintf(text, size, "an integer from %" PRId64 " to %" PRId64, min, max);
}

static int s_read_range(sd_config_reader *reader, json_t *object, const char *parent,
                        const char *name, int64_t min, int64_t max, int64_t type_max,
                        const char *hint, int64_t *out)
{
    json_t *value = json_object_get(object, name);
    if (!value)
        return 0;
    if (json_is_integer(value) && json_integer_value(value) >= min &&
        json_integer_value(value) <= max) {
        *out = json_integer_value(value);
        return 1;
    }
    char key[SD_CONFIG_KEY_MAX];
    char range[96];
    char found[128];
    sd_config_key(key, parent, name);
    s_range_text(min, max, type_max, range, sizeof range);
    sd_config_fail(reader, key, "expected %s, found %s%s%s", range,
                   sd_config_describe(value, found, sizeof found), hint ? "; " : "",
                   hint ? hint : "");
    return -1;
}

int sd_config_read_int(sd_config_reader *reader, json_t *object, const char *parent,
                       const char *name, int min, int max, const char *hint, int *out)
{
    int64_t value;
    int found = s_read_range(reader, object, parent, name, min, max, INT_MAX, hint, &value);
    if (found > 0)
        *out = (int)value;
    return found < 0 ? -1 : 0;
}

int sd_config_read_int64(sd_config_reader *reader, json_t *object, const char *parent,
                         const char *name, int64_t min, int64_t max, const char *hint, int64_t *out)
{
    int64_t value;
    int found = s_read_range(reader, object, parent, name, min, max, INT64_MAX, hint, &value);
    if (found > 0)
        *out = value;
    return found < 0 ? -1 : 0;
}

void sd_config_strings_clear(sd_config_strings *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int sd_config_strings_append(sd_config_strings *list, const char *text)
{
    char *copy = strdup(text);
    char **items = copy ? realloc(list->items, (list->count + 1) * sizeof *items) : NULL;
    if (!items) {
        free(copy);
        return -1;
    }
    items[list->count++] = copy;
    list->items = items;
    return 0;
}

//  Appends array item i to list when it is a non-empty string; reports it
//  otherwise. Returns 0 or -1.
static int s_append_item(sd_config_reader *reader, const char *key, json_t *array, size_t i,
                         sd_config_strings *list)
{
    json_t *item = json_array_get(array, i);
    char item_key[SD_CONFIG_KEY_MAX];
    char found[128];
    sd_config_key_index(item_key, key, i);
    if (!json_is_string(item) || json_string_length(item) == 0) {
        sd_config_fail(reader, item_key, "expected a non-empty string, found %s",
                       sd_config_describe(item, found, sizeof found));
        return -1;
    }
    if (sd_config_strings_append(list, json_string_value(item)) < 0) {
        sd_config_fail(reader, item_key, "out of memory while reading the value");
        return -1;
    }
    return 0;
}

int sd_config_read_strings(sd_config_reader *reader, json_t *object, const char *parent,
                           const char *name, sd_config_strings *out)
{
    if (!json_object_get(object, name))
        return 0;
    json_t *array = s_member(reader, object, parent, name, JSON_ARRAY, "an array of strings");
    if (!array)
        return -1;

    char key[SD_CONFIG_KEY_MAX];
    sd_config_key(key, parent, name);
    sd_config_strings list = {NULL, 0};
    int result = 0;
    for (size_t i = 0; i < json_array_size(array); i++)
        if (s_append_item(reader, key, array, i, &list) < 0)
            result = -1;
    if (result == 0) {
        sd_config_strings_clear(out);
        *out = list;
    } else
        sd_config_strings_clear(&list);
    return result;
}

bool sd_config_is_address(const char *text)
{
    const char *at = strchr(text, '@');
    if (!at || at == text || at[1] == '\0' || strchr(at + 1, '@'))
        return false;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr("<>,;\"", *p))
            return false;
    return true;
}

int sd_config_check_addresses(sd_config_reader *reader, const char *key,
                              const sd_config_strings *list)
{
    int result = 0;
    for (size_t i = 0; i < list->count; i++) {
        if (sd_config_is_address(list->items[i]))
            continue;
        char item_key[SD_CONFIG_KEY_MAX];
        char found[128] = "\"";
        sd_config_key_index(item_key, key, i);
        s_append_escaped(found, sizeof found, 1, list->items[i], S_QUOTE_MAX);
        sd_config_fail(reader, item_key,
                       "expected an e-mail address such as ops@example.com, found %s\"", found);
        result = -1;
    }
    return result;
}

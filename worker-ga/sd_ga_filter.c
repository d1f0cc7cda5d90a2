/*  sd_ga_filter: evaluates GA4 dimension filters in the worker.  */
#include "sd_ga_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_SOURCE_MEDIUM "sessionSourceMedium"
#define S_FIELD_MAX 1024

static const char *s_match_types[] = {"EXACT", "BEGINS_WITH", "ENDS_WITH", "CONTAINS"};

static int s_field_index(const sd_strings *fields, const char *name)
{
    for (size_t i = 0; name && i < fields->count; i++) {
        if (strcmp(fields->items[i], name) == 0)
            return (int)i;
    }
    return -1;
}

static bool s_field_known(const sd_strings *fields, const char *name)
{
    if (s_field_index(fields, name) >= 0)
        return true;
    return name && strcmp(name, S_SOURCE_MEDIUM) == 0 &&
           s_field_index(fields, "sessionSource") >= 0 &&
           s_field_index(fields, "sessionMedium") >= 0;
}

static bool s_ascii(const char *text)
{
    for (; *text; text++) {
        if ((unsigned char)*text > 0x7f)
            return false;
    }
    return true;
}

//  Returns true when text is a string that the evaluator can match with
//  the given caseSensitive, which needs ASCII text unless it is true.
static bool s_text_supported(json_t *text, json_t *case_sensitive)
{
    return json_is_string(text) &&
           (json_is_true(case_sensitive) || s_ascii(json_string_value(text)));
}

static bool s_string_filter_supported(json_t *filter)
{
    const char *type = json_string_value(json_object_get(filter, "matchType"));
    bool known = !json_object_get(filter, "matchType");
    for (size_t i = 0; type && i < sizeof s_match_types / sizeof s_match_types[0]; i++)
        known |= strcmp(type, s_match_types[i]) == 0;
    return known && s_text_supported(json_object_get(filter, "value"),
                                     json_object_get(filter, "caseSensitive"));
}

static bool s_in_list_supported(json_t *filter)
{
    json_t *values = json_object_get(filter, "values");
    json_t *case_sensitive = json_object_get(filter, "caseSensitive");
    if (!json_is_array(values))
        return false;
    size_t i;
    json_t *value;
    json_array_foreach(values, i, value) {
        if (!s_text_supported(value, case_sensitive))
            return false;
    }
    return true;
}

static bool s_leaf_supported(json_t *leaf, const sd_strings *fields)
{
    if (!json_is_object(leaf) || json_object_size(leaf) != 2 ||
        !s_field_known(fields, json_string_value(json_object_get(leaf, "fieldName"))))
        return false;
    json_t *string_filter = json_object_get(leaf, "stringFilter");
    json_t *in_list = json_object_get(leaf, "inListFilter");
    if (string_filter)
        return s_string_filter_supported(string_filter);
    return in_list && s_in_list_supported(in_list);
}

static bool s_group_supported(json_t *group, const sd_strings *fields)
{
    json_t *expressions = json_object_get(group, "expressions");
    if (!json_is_array(expressions))
        return false;
    size_t i;
    json_t *expression;
    json_array_foreach(expressions, i, expression) {
        if (!sd_ga_filter_supported(expression, fields))
            return false;
    }
    return true;
}

bool sd_ga_filter_supported(json_t *expression, const sd_strings *fields)
{
    if (!json_is_object(expression) || json_object_size(expression) != 1)
        return false;
    json_t *part;
    if ((part = json_object_get(expression, "andGroup")) ||
        (part = json_object_get(expression, "orGroup")))
        return s_group_supported(part, fields);
    if ((part = json_object_get(expression, "notExpression")))
        return sd_ga_filter_supported(part, fields);
    if ((part = json_object_get(expression, "filter")))
        return s_leaf_supported(part, fields);
    return false;
}

//  -------------------------------------------------------------------------
//  Matching

static bool s_equal(const char *a, const char *b, bool case_sensitive)
{
    return case_sensitive ? strcmp(a, b) == 0 : strcasecmp(a, b) == 0;
}

static bool s_contains(const char *text, const char *value, bool case_sensitive)
{
    size_t length = strlen(value);
    for (; *text; text++) {
        if ((case_sensitive ? strncmp(text, value, length) : strncasecmp(text, value, length)) == 0)
            return true;
    }
    return length == 0;
}

static bool s_string_match(json_t *filter, const char *text)
{
    const char *type = json_string_value(json_object_get(filter, "matchType"));
    const char *value = json_string_value(json_object_get(filter, "value"));
    bool case_sensitive = json_is_true(json_object_get(filter, "caseSensitive"));
    size_t text_length = strlen(text);
    size_t value_length = strlen(value);
    if (!type || strcmp(type, "EXACT") == 0)
        return s_equal(text, value, case_sensitive);
    if (strcmp(type, "BEGINS_WITH") == 0)
        return text_length >= value_length &&
               (case_sensitive ? strncmp(text, value, value_length)
                               : strncasecmp(text, value, value_length)) == 0;
    if (strcmp(type, "ENDS_WITH") == 0)
        return text_length >= value_length &&
               s_equal(text + text_length - value_length, value, case_sensitive);
    return s_contains(text, value, case_sensitive);
}

static bool s_in_list_match(json_t *filter, const char *text)
{
    bool case_sensitive = json_is_true(json_object_get(filter, "caseSensitive"));
    size_t i;
    json_t *value;
    json_array_foreach(json_object_get(filter, "values"), i, value) {
        if (s_equal(text, json_string_value(value), case_sensitive))
            return true;
    }
    return false;
}

static bool s_text_match(json_t *leaf, const char *text)
{
    json_t *string_filter = json_object_get(leaf, "stringFilter");
    if (string_filter)
        return s_string_match(string_filter, text);
    return s_in_list_match(json_object_get(leaf, "inListFilter"), text);
}

static bool s_leaf_match(json_t *leaf, const sd_strings *fields, const char *const *values)
{
    const char *name = json_string_value(json_object_get(leaf, "fieldName"));
    int index = s_field_index(fields, name);
    if (index >= 0)
        return s_text_match(leaf, values[index]);

    //  Build sessionSourceMedium in full, because a truncated text would
    //  change the result of ENDS_WITH, CONTAINS and EXACT.
    const char *source = values[s_field_index(fields, "sessionSource")];
    const char *medium = values[s_field_index(fields, "sessionMedium")];
    char buffer[S_FIELD_MAX];
    char *combined = buffer;
    size_t source_length = strlen(source);
    size_t medium_length = strlen(medium);
    size_t size = source_length + medium_length + sizeof " / ";
    if (size > sizeof buffer && !(combined = malloc(size)))
        return false;   //  NOTE: out of memory drops the row instead of failing the request.
    memcpy(combined, source, source_length);
    memcpy(combined + source_length, " / ", 3);
    memcpy(combined + source_length + 3, medium, medium_length + 1);
    bool match = s_text_match(leaf, combined);
    if (combined != buffer)
        free(combined);
    return match;
}

bool sd_ga_filter_match(json_t *expression, const sd_strings *fields, const char *const *values)
{
    json_t *part;
    size_t i;
    json_t *item;
    if ((part = json_object_get(expression, "andGroup"))) {
        json_array_foreach(json_object_get(part, "expressions"), i, item) {
            if (!sd_ga_filter_match(item, fields, values))
                return false;
        }
        return true;
    }
    if ((part = json_object_get(expression, "orGroup"))) {
        json_array_foreach(json_object_get(part, "expressions"), i, item) {
            if (sd_ga_filter_match(item, fields, values))
                return true;
        }
        return false;
    }
    if ((part = json_object_get(expression, "notExpression")))
        return !sd_ga_filter_match(part, fields, values);
    return s_leaf_match(json_object_get(expression, "filter"), fields, values);
}

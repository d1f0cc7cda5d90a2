/*  sd_filters: the GA4 dimensionFilter of a planned query.  */
#include "sd_filters.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define S_SPECIALS ".[]()*+?{}|^$\\"

//  Copies the literal text of pattern[0 .. len) into value, unescaping
//  "\X" for punctuation X. Returns false when a character is special or
//  the text does not fit.
static bool s_literal(const char *pattern, size_t len, char *value, size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        char c = pattern[i];
        if (c == '\\') {
            if (i + 1 >= len || !strchr(S_SPECIALS, pattern[i + 1]))
                return false;
            c = pattern[++i];
        } else if (strchr(S_SPECIALS, c)) {
            return false;
        }
        if (used + 1 >= size)
            return false;
        value[used++] = c;
    }
    value[used] = '\0';
    return true;
}

//  Returns true when the regular expression uses only syntax that POSIX
//  extended expressions and RE2 read the same way.
static bool s_portable_regex(const char *regex, size_t len)
{
    bool in_brackets = false;
    for (size_t i = 0; i < len; i++) {
        char c = regex[i];
        if (in_brackets) {
            if (c == '\\')
                return false;
            if (c == ']' && i > 0 && regex[i - 1] != '[')
                in_brackets = false;
            continue;
        }
        if (c == '|' || c == '^' || c == '$')
            return false;
        if (c == '[')
            in_brackets = true;
        if (c == '\\' && (i + 1 >= len || !strchr(S_SPECIALS, regex[i + 1])))
            return false;
        if (c == '\\')
            i++;
    }
    return !in_brackets;
}

bool sd_filters_path_pattern(const char *pattern, const char **match_type, char *value,
                             size_t size)
{
    size_t len = strlen(pattern);
    if (len < 2 || pattern[0] != '^')
        return false;
    bool anchored_end = pattern[len - 1] == '$' && (len < 3 || pattern[len - 2] != '\\');
    size_t body = len - 1 - (anchored_end ? 1 : 0);
    if (s_literal(pattern + 1, body, value, size)) {
        *match_type = anchored_end ? "EXACT" : "BEGINS_WITH";
        return true;
    }
    if (!anchored_end || !s_portable_regex(pattern + 1, body) || body + 1 > size)
        return false;
    memcpy(value, pattern + 1, body);
    value[body] = '\0';
    *match_type = "FULL_REGEXP";
    return true;
}

int sd_filters_rule_patterns(const sd_config *config, sd_strings *patterns)
{
    const sd_config_strings *list = &config->ga.article_path_blacklist;
    for (size_t i = 0; i < list->count; i++) {
        char value[512];
        const char *match_type;
        if (sd_filters_path_pattern(list->items[i], &match_type, value, sizeof value))
            continue;
        if (sd_strings_push(patterns, list->items[i]) != 0)
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  FilterExpression builders. Each returns a new reference or NULL.

static json_t *s_string_filter(const char *field, const char *match_type, const char *value)
{
    return json_pack("{s:{s:s, s:{s:s, s:s, s:b}}}", "filter", "fieldName", field,
                     "stringFilter", "matchType", match_type, "value", value, "caseSensitive", 1);
}

//  Returns an inListFilter on field, or NULL when values is empty.
static json_t *s_in_list(const char *field, const sd_strings *values)
{
    json_t *array = json_array();
    for (size_t i = 0; array && i < values->count; i++) {
        if (json_array_append_new(array, json_string(values->items[i])) != 0) {
            json_decref(array);
            array = NULL;
        }
    }
    if (!array || json_array_size(array) == 0) {
        json_decref(array);
        return NULL;
    }
    return json_pack("{s:{s:s, s:{s:o, s:b}}}", "filter", "fieldName", field, "inListFilter",
                     "values", array, "caseSensitive", 1);
}

static json_t *s_group(const char *kind, json_t *expressions)
{
    return json_pack("{s:{s:o}}", kind, "expressions", expressions);
}

//  Every translatable path pattern, negated: NULL when there is none.
static json_t *s_article_paths(const sd_config *config, bool *failed)
{
    json_t *expressions = json_array();
    const sd_config_strings *list = &config->ga.article_path_blacklist;
    for (size_t i = 0; expressions && i < list->count; i++) {
        char value[512];
        const char *match_type;
        if (!sd_filters_path_pattern(list->items[i], &match_type, value, sizeof value))
            continue;
        json_t *leaf = s_string_filter("pagePath", match_type, value);
        if (json_array_append_new(expressions, leaf) != 0) {
            json_decref(expressions);
            expressions = NULL;
        }
    }
    if (!expressions) {
        *failed = true;
        return NULL;
    }
    if (json_array_size(expressions) == 0) {
        json_decref(expressions);
        return NULL;
    }
    json_t *any = s_group("orGroup", expressions);
    json_t *none = any ? json_pack("{s:o}", "notExpression", any) : NULL;
    *failed = none == NULL;
    return none;
}

static json_t *s_source_blacklist(const sd_config *config, bool *failed)
{
    sd_strings values = {0};
    const sd_config_strings *list = &config->ga.source_blacklist;
    for (size_t i = 0; i < list->count; i++) {
        if (sd_strings_push(&values, list->items[i]) != 0)
            *failed = true;
    }
    json_t *listed = *failed ? NULL : s_in_list("sessionSource", &values);
    sd_strings_clear(&values);
    if (!listed)
        return NULL;
    json_t *none = json_pack("{s:o}", "notExpression", listed);
    *failed = none == NULL;
    return none;
}

static bool s_contains(const sd_strings *strings, const char *text)
{
    for (size_t i = 0; strings && i < strings->count; i++) {
        if (strcmp(strings->items[i], text) == 0)
            return true;
    }
    return false;
}

//  The configured sources of the given networks.
static json_t *s_network_sources(const sd_config *config, const sd_strings *networks,
                                 bool *failed)
{
    sd_strings sources = {0};
    for (size_t i = 0; i < config->ga.social_source_count; i++) {
        const sd_config_social_source *entry = &config->ga.social_sources[i];
        if (s_contains(networks, entry->network) && sd_strings_push(&sources, entry->source))
            *failed = true;
    }
    json_t *listed = *failed ? NULL : s_in_list("sessionSource", &sources);
    sd_strings_clear(&sources);
    return listed;
}

//  Builds the expression of one kind. Returns NULL with *failed unset
//  when the kind adds nothing, and sets *empty when it matches nothing.
static json_t *s_expression(sd_filter_kind kind, const sd_config *config,
                            const sd_strings *parent_values, bool *empty, bool *failed)
{
    json_t *expression = NULL;
    switch (kind) {
    case SD_FILTER_ORGANIC_SOCIAL:
        expression = s_string_filter("sessionDefaultChannelGroup", "EXACT", "Organic Social");
        *failed = expression == NULL;
        break;
    case SD_FILTER_SOURCE_BLACKLIST:
        expression = s_source_blacklist(config, failed);
        break;
    case SD_FILTER_ARTICLE_PATHS:
        expression = s_article_paths(config, failed);
        break;
    case SD_FILTER_PARENT_SOURCES:
        expression = parent_values ? s_in_list("sessionSource", parent_values) : NULL;
        *empty = expression == NULL;
        break;
    case SD_FILTER_PARENT_NETWORKS:
        expression = s_network_sources(config, parent_values, failed);
        *empty = expression == NULL && !*failed;
        break;
    default:
        break;
    }
    return expression;
}

//  Joins the expressions of the query's filter kinds. Returns NULL when
//  none applies (or on failure, with *failed set).
static json_t *s_filter(const sd_query_def *query, const sd_config *config,
                        const sd_strings *parent_values, bool *empty, bool *failed)
{
    json_t *expressions = json_array();
    *failed = expressions == NULL;
    for (size_t i = 0; !*failed && i < SD_CATALOG_MAX_FILTERS && query->filters[i]; i++) {
        json_t *expression = s_expression(query->filters[i], config, parent_values, empty,
                                          failed);
        if (expression && json_array_append_new(expressions, expression) != 0)
            *failed = true;
    }
    size_t count = *failed ? 0 : json_array_size(expressions);
    if (count <= 1) {
        json_t *only = count == 1 ? json_incref(json_array_get(expressions, 0)) : NULL;
        json_decref(expressions);
        return only;
    }
    json_t *all = s_group("andGroup", expressions);
    *failed = all == NULL;
    return all;
}

//  Sets "ids" of params to the parent values when the query has the
//  SD_FILTER_PARENT_IDS filter, and sets *empty when there are none.
//  Returns 0 or -1.
static int s_set_ids(json_t *params, const sd_query_def *query,
                     const sd_strings *parent_values, bool *empty)
{
    bool has_parent_ids = false;
    for (size_t i = 0; i < SD_CATALOG_MAX_FILTERS && query->filters[i]; i++)
        has_parent_ids = has_parent_ids || query->filters[i] == SD_FILTER_PARENT_IDS;
    if (!has_parent_ids)
        return 0;
    json_t *ids = json_array();
    for (size_t i = 0; ids && parent_values && i < parent_values->count; i++) {
        if (json_array_append_new(ids, json_string(parent_values->items[i])) != 0) {
            json_decref(ids);
            return -1;
        }
    }
    if (!ids)
        return -1;
    *empty = *empty || json_array_size(ids) == 0;
    return json_object_set_new(params, "ids", ids);
}

char *sd_filters_params(const sd_query_def *query, const sd_config *config,
                        const sd_strings *parent_values, bool *empty)
{
    *empty = false;
    json_t *params = json_loads(query->params_json ? query->params_json : "{}", 0, NULL);
    bool failed = !json_is_object(params);
    json_t *filter = failed ? NULL : s_filter(query, config, parent_values, empty, &failed);
    if (filter && json_object_set_new(params, "dimensionFilter", filter) != 0)
        failed = true;
    if (!failed && s_set_ids(params, query, parent_values, empty) != 0)
        failed = true;
    char *text = failed ? NULL : json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(params);
    return text;
}

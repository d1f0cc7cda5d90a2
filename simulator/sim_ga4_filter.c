/*  sim_ga4_filter: parsing and evaluating GA4 dimension filters.  */
#include "sim_ga4_filter.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim_ga4_schema.h"

#define SIM_FILTER_DEPTH_MAX 32

typedef enum { NODE_AND, NODE_OR, NODE_NOT, NODE_STRING, NODE_IN_LIST, NODE_EMPTY } s_node_kind;

typedef enum {
    MATCH_EXACT,
    MATCH_BEGINS_WITH,
    MATCH_ENDS_WITH,
    MATCH_CONTAINS,
    MATCH_FULL_REGEXP,
    MATCH_PARTIAL_REGEXP,
} s_match_type;

struct sim_ga4_filter {
    s_node_kind kind;
    sim_ga4_filter **children;          //  and, or: the expressions; not: one
    size_t child_count;
    const sim_ga4_dimension *dimension; //  leaves: the field filtered
    s_match_type match;
    bool case_sensitive;
    char *value;                        //  string filter value
    char **values;                      //  in-list values
    size_t value_count;
    regex_t regex;
    bool regex_compiled;
    const sim_strings *strings;
    signed char *cache;                 //  per string id: 0 unknown, 1 match, -1 no match
    size_t cache_size;
};

static sim_ga4_filter *s_parse(json_t *expression, const sim_strings *strings, int depth,
                               char *error, size_t error_size);

void sim_ga4_filter_destroy(sim_ga4_filter **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_ga4_filter *self = *self_p;
    for (size_t i = 0; i < self->child_count; i++)
        sim_ga4_filter_destroy(&self->children[i]);
    free(self->children);
    for (size_t i = 0; i < self->value_count; i++)
        free(self->values[i]);
    free(self->values);
    free(self->value);
    if (self->regex_compiled)
        regfree(&self->regex);
    free(self->cache);
    free(self);
    *self_p = NULL;
}

//  Writes the client's error message, frees node and returns NULL.
__attribute__((format(printf, 4, 5))) static sim_ga4_filter *
s_fail(sim_ga4_filter **node, char *error, size_t error_size, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, error_size, format, arguments);
    va_end(arguments);
    sim_ga4_filter_destroy(node);
    return NULL;
}

//  Parses andGroup/orGroup: {"expressions": [FilterExpression, ...]}.
static sim_ga4_filter *s_parse_group(sim_ga4_filter *node, json_t *group,
                                     const sim_strings *strings, int depth, char *error,
                                     size_t error_size)
{
    json_t *expressions = json_object_get(group, "expressions");
    if (!json_is_array(expressions) || json_array_size(expressions) == 0)
        return s_fail(&node, error, error_size,
                      "Invalid dimensionFilter: andGroup and orGroup need a non-empty "
                      "\"expressions\" list.");
    node->children = calloc(json_array_size(expressions), sizeof *node->children);
    if (!node->children)
        return s_fail(&node, error, error_size, "Out of memory.");
    size_t index;
    json_t *child;
    json_array_foreach(expressions, index, child) {
        node->children[index] = s_parse(child, strings, depth + 1, error, error_size);
        if (!node->children[index]) {
            sim_ga4_filter_destroy(&node);
            return NULL;
        }
        node->child_count++;
    }
    return node;
}

static int s_parse_match_type(const char *text, s_match_type *match)
{
    static const char *names[] = {"EXACT", "BEGINS_WITH", "ENDS_WITH", "CONTAINS",
                                  "FULL_REGEXP", "PARTIAL_REGEXP"};
    if (!text || strcmp(text, "MATCH_TYPE_UNSPECIFIED") == 0) {
        *match = MATCH_EXACT;
        return 0;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(text, names[i]) == 0) {
            *match = (s_match_type)i;
            return 0;
        }
    }
    return -1;
}

static int s_compile_regex(sim_ga4_filter *node, char *error, size_t error_size)
{
    size_t length = strlen(node->value);
    char *pattern = malloc(length + 5);
    if (!pattern)
        return -1;
    if (node->match == MATCH_FULL_REGEXP)
        snprintf(pattern, length + 5, "^(%s)$", node->value);
    else
        snprintf(pattern, length + 5, "%s", node->value);
    int flags = REG_EXTENDED | REG_NOSUB | (node->case_sensitive ? 0 : REG_ICASE);
    int rc = regcomp(&node->regex, pattern, flags);
    free(pattern);
    if (rc != 0) {
        snprintf(error, error_size, "Invalid regular expression \"%.200s\" in stringFilter.",
                 node->value);
        return -1;
    }
    node->regex_compiled = true;
    return 0;
}

//  Parses stringFilter {matchType, value, caseSensitive}.
static sim_ga4_filter *s_parse_string_filter(sim_ga4_filter *node, json_t *filter, char *error,
                                             size_t error_size)
{
    node->kind = NODE_STRING;
    const char *value = json_string_value(json_object_get(filter, "value"));
    const char *match = json_string_value(json_object_get(filter, "matchType"));
    node->case_sensitive = json_is_true(json_object_get(filter, "caseSensitive"));
    if (!value)
        return s_fail(&node, error, error_size,
                      "Invalid stringFilter on %s: \"value\" must be a string.",
                      node->dimension->name);
    if (s_parse_match_type(match, &node->match) != 0)
        return s_fail(&node, error, error_size, "Invalid stringFilter matchType \"%s\".", match);
    node->value = strdup(value);
    if (!node->value)
        return s_fail(&node, error, error_size, "Out of memory.");
    bool regex = node->match == MATCH_FULL_REGEXP || node->match == MATCH_PARTIAL_REGEXP;
    if (regex && s_compile_regex(node, error, error_size) != 0) {
        sim_ga4_filter_destroy(&node);
        return NULL;
    }
    return node;
}

//  Parses inListFilter {values, caseSensitive}.
static sim_ga4_filter *s_parse_in_list(sim_ga4_filter *node, json_t *filter, char *error,
                                       size_t error_size)
{
    node->kind = NODE_IN_LIST;
    node->case_sensitive = json_is_true(json_object_get(filter, "caseSensitive"));
    json_t *values = json_object_get(filter, "values");
    if (!json_is_array(values) || json_array_size(values) == 0)
        return s_fail(&node, error, error_size,
                      "Invalid inListFilter on %s: \"values\" must be a non-empty list.",
                      node->dimension->name);
    node->values = calloc(json_array_size(values), sizeof *node->values);
    if (!node->values)
        return s_fail(&node, error, error_size, "Out of memory.");
    size_t index;
    json_t *value;
    json_array_foreach(values, index, value) {
        if (!json_is_string(value))
            return s_fail(&node, error, error_size,
                          "Invalid inListFilter on %s: every value must be a string.",
                          node->dimension->name);
        node->values[index] = strdup(json_string_value(value));
        if (!node->values[index])
            return s_fail(&node, error, error_size, "Out of memory.");
        node->value_count++;
    }
    return node;
}

//  Parses filter {fieldName, stringFilter | inListFilter | emptyFilter}.
static sim_ga4_filter *s_parse_leaf(sim_ga4_filter *node, json_t *filter, char *error,
                                    size_t error_size)
{
    const char *field = json_string_value(json_object_get(filter, "fieldName"));
    node->dimension = sim_ga4_find_dimension(field);
    if (!node->dimension || node->dimension->kind == SIM_GA4_DIMENSION_DATE_RANGE)
        return s_fail(&node, error, error_size,
                      "Field %s is not a valid dimension for dimensionFilter. For a list of "
                      "valid dimensions and metrics, see "
                      "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema",
                      field ? field : "(missing fieldName)");
    node->cache_size = sim_strings_count(node->strings);
    node->cache = calloc(node->cache_size + 1, 1);
    if (!node->cache)
        return s_fail(&node, error, error_size, "Out of memory.");

    json_t *string_filter = json_object_get(filter, "stringFilter");
    json_t *in_list = json_object_get(filter, "inListFilter");
    if (json_is_object(string_filter))
        return s_parse_string_filter(node, string_filter, error, error_size);
    if (json_is_object(in_list))
        return s_parse_in_list(node, in_list, error, error_size);
    if (json_is_object(json_object_get(filter, "emptyFilter"))) {
        node->kind = NODE_EMPTY;
        return node;
    }
    return s_fail(&node, error, error_size,
                  "Unsupported filter on %s: use stringFilter, inListFilter or emptyFilter "
                  "(numericFilter and betweenFilter apply to metrics).", node->dimension->name);
}

static sim_ga4_filter *s_parse(json_t *expression, const sim_strings *strings, int depth,
                               char *error, size_t error_size)
{
    sim_ga4_filter *node = calloc(1, sizeof *node);
    if (!node)
        return s_fail(&node, error, error_size, "Out of memory.");
    node->strings = strings;
    if (depth > SIM_FILTER_DEPTH_MAX)
        return s_fail(&node, error, error_size, "Invalid dimensionFilter: nested too deeply.");
    if (!json_is_object(expression) || json_object_size(expression) != 1)
        return s_fail(&node, error, error_size,
                      "Invalid dimensionFilter: each FilterExpression must set exactly one of "
                      "andGroup, orGroup, notExpression or filter.");

    json_t *value;
    if ((value = json_object_get(expression, "andGroup"))) {
        node->kind = NODE_AND;
        return s_parse_group(node, value, strings, depth, error, error_size);
    }
    if ((value = json_object_get(expression, "orGroup"))) {
        node->kind = NODE_OR;
        return s_parse_group(node, value, strings, depth, error, error_size);
    }
    if ((value = json_object_get(expression, "notExpression"))) {
        node->kind = NODE_NOT;
        node->children = calloc(1, sizeof *node->children);
        if (!node->children)
            return s_fail(&node, error, error_size, "Out of memory.");
        node->children[0] = s_parse(value, strings, depth + 1, error, error_size);
        node->child_count = node->children[0] ? 1 : 0;
        if (!node->children[0])
            sim_ga4_filter_destroy(&node);
        return node;
    }
    if ((value = json_object_get(expression, "filter")) && json_is_object(value))
        return s_parse_leaf(node, value, error, error_size);
    return s_fail(&node, error, error_size,
                  "Invalid dimensionFilter: each FilterExpression must set exactly one of "
                  "andGroup, orGroup, notExpression or filter.");
}

sim_ga4_filter *sim_ga4_filter_parse(json_t *expression, const sim_strings *strings, char *error,
                                     size_t error_size)
{
    return s_parse(expression, strings, 0, error, error_size);
}

static bool s_equal(const char *a, const char *b, bool case_sensitive)
{
    return case_sensitive ? strcmp(a, b) == 0 : strcasecmp(a, b) == 0;
}

static bool s_match_string(const sim_ga4_filter *node, const char *text)
{
    size_t text_length = strlen(text);
    size_t value_length = strlen(node->value);
    bool sensitive = node->case_sensitive;
    switch (node->match) {
    case MATCH_EXACT:
        return s_equal(text, node->value, sensitive);
    case MATCH_BEGINS_WITH:
        return sensitive ? strncmp(text, node->value, value_length) == 0
                         : strncasecmp(text, node->value, value_length) == 0;
    case MATCH_ENDS_WITH:
        return text_length >= value_length
            && s_equal(text + text_length - value_length, node->value, sensitive);
    case MATCH_CONTAINS:
        return sensitive ? strstr(text, node->value) != NULL
                         : strcasestr(text, node->value) != NULL;
    default:
        return regexec(&node->regex, text, 0, NULL, 0) == 0;
    }
}

//  Evaluates a leaf on the text of a dimension value.
static bool s_match_leaf_text(const sim_ga4_filter *node, const char *text)
{
    if (node->kind == NODE_EMPTY)
        return text[0] == '\0';
    if (node->kind == NODE_STRING)
        return s_match_string(node, text);
    for (size_t i = 0; i < node->value_count; i++)
        if (s_equal(text, node->values[i], node->case_sensitive))
            return true;
    return false;
}

static bool s_match_leaf(sim_ga4_filter *node, const sim_ga4_row *row)
{
    uint32_t key = sim_ga4_dimension_key(node->dimension, row);
    char buffer[16];
    if (node->dimension->kind != SIM_GA4_DIMENSION_TEXT || key >= node->cache_size)
        return s_match_leaf_text(node, sim_ga4_dimension_text(node->dimension, key,
                                                              node->strings, buffer));
    if (node->cache[key] == 0) {
        const char *text = sim_ga4_dimension_text(node->dimension, key, node->strings, buffer);
        node->cache[key] = s_match_leaf_text(node, text) ? 1 : -1;
    }
    return node->cache[key] > 0;
}

bool sim_ga4_filter_match(sim_ga4_filter *self, const sim_ga4_row *row)
{
    switch (self->kind) {
    case NODE_AND:
        for (size_t i = 0; i < self->child_count; i++)
            if (!sim_ga4_filter_match(self->children[i], row))
                return false;
        return true;
    case NODE_OR:
        for (size_t i = 0; i < self->child_count; i++)
            if (sim_ga4_filter_match(self->children[i], row))
                return true;
        return false;
    case NODE_NOT:
        return !sim_ga4_filter_match(self->children[0], row);
    default:
        return s_match_leaf(self, row);
    }
}

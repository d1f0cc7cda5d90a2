/*  sd_rules: compiling the rules of a spec and applying them to raw rows.

    s_definitions maps each rule name to its place in the order, a compile
    function that checks the arguments, and a row function (NULL for the
    rules that act after merging).
*/
#include "sd_rules.h"

#include "sd_entities.h"
#include "sd_keymap.h"
#include "sd_log.h"
#include "sd_titles.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct _s_compiled s_compiled;

//  Checks the arguments of source and fills rule. Returns 0, 1 with reason
//  filled when the rule cannot be applied, or -1 when out of memory.
typedef int(s_compile_fn)(sd_rules *self, s_compiled *rule, char *reason, size_t size);

//  Applies a rule to the key cells of one row. Returns 1 to keep the row,
//  0 to drop it, -1 when out of memory.
typedef int(s_row_fn)(sd_rules *self, const s_compiled *rule, sd_value *keys);

typedef struct {
    const char *name;
    s_compile_fn *compile;
    s_row_fn *apply;                //  NULL: the rule acts after merging
} s_definition;

//  A pattern of path_blacklist, with the literal text every match must
//  start with, so most values are rejected without running the regex.
typedef struct {
    regex_t regex;
    char *prefix;                   //  "" when the pattern has no anchored literal start
    size_t prefix_len;
    bool prefix_only;               //  the pattern is exactly "^" + prefix
    bool exact;                     //  the pattern is exactly "^" + prefix + "$"
} s_pattern;

struct _s_compiled {
    const s_definition *definition;
    const sd_rule *source;          //  borrowed from the spec
    size_t column;                  //  key index of the first column argument
    size_t second;                  //  key index of the second column argument
    size_t metric;                  //  spec.sum index of the metric argument
    s_pattern *patterns;
    size_t pattern_count;
    sd_keymap *values;              //  value -> index of its argument
};

struct _sd_rules {
    const sd_table_spec *spec;
    const char *table_id;
    s_compiled *rules;              //  in run order
    size_t count;
    int attribute_key;              //  top_title's title key, or -1
    size_t attribute_metric;
    sd_titles *titles;
    bool has_matrix;
    size_t matrix_column;
    size_t matrix_metric;
    char **buffers;                 //  per key: the rewritten value of the current row
    size_t *capacities;
    char *spare;                    //  a second buffer, swapped with a key's after a rewrite
    size_t spare_capacity;
};

//  ---------------------------------------------------------------------
//  Argument checks

static bool s_find_key(const sd_rules *self, const char *name, size_t *key)
{
    for (size_t k = 0; k < self->spec->keys.count; k++) {
        if (strcmp(self->spec->keys.items[k], name) == 0) {
            *key = k;
            return true;
        }
    }
    return false;
}

static bool s_find_sum(const sd_rules *self, const char *name, size_t *metric)
{
    for (size_t j = 0; j < self->spec->sum.count; j++) {
        if (strcmp(self->spec->sum.items[j], name) == 0) {
            *metric = j;
            return true;
        }
    }
    return false;
}

//  Resolves argument i of the rule as a key column. Returns 0 or 1.
static int s_key_argument(const sd_rules *self, const s_compiled *rule, size_t i, size_t *key,
                          char *reason, size_t size)
{
    const char *name = rule->source->args.items[i];
    if (s_find_key(self, name, key))
        return 0;
    snprintf(reason, size, "argument %zu \"%s\" is not a key of the table", i + 1, name);
    return 1;
}

static int s_count_arguments(const s_compiled *rule, size_t minimum, size_t maximum, char *reason,
                             size_t size)
{
    size_t count = rule->source->args.count;
    if (count >= minimum && count <= maximum)
        return 0;
    snprintf(reason, size, "expected %s%zu argument%s, got %zu", minimum == maximum ? "" : "at least ",
             minimum, minimum == 1 ? "" : "s", count);
    return 1;
}

//  Stores arguments from `first` on in rule->values (value -> argument
//  index), stepping by `step`. Returns 0 or -1.
static int s_fill_values(s_compiled *rule, size_t first, size_t step)
{
    rule->values = sd_keymap_new();
    if (!rule->values)
        return -1;
    const sd_strings *args = &rule->source->args;
    for (size_t i = first; i < args->count; i += step) {
        if (sd_keymap_put(rule->values, args->items[i], strlen(args->items[i]), i) != 0)
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Compile functions

static int s_compile_column(sd_rules *self, s_compiled *rule, char *reason, size_t size)
{
    if (s_count_arguments(rule, 1, 1, reason, size) != 0)
        return 1;
    return s_key_argument(self, rule, 0, &rule->column, reason, size);
}

static int s_compile_column_values(sd_rules *self, s_compiled *rule, char *reason, size_t size)
{
    if (s_count_arguments(rule, 1, SIZE_MAX, reason, size) != 0)
        return 1;
    if (s_key_argument(self, rule, 0, &rule->column, reason, size) != 0)
        return 1;
    return s_fill_values(rule, 1, 1);
}

static int s_compile_map(sd_rules *self, s_compiled *rule, char *reason, size_t size)
{
    int rc = s_compile_column_values(self, rule, reason, size);
    if (rc != 0)
        return rc;
    if (rule->source->args.count % 2 == 0) {
        snprintf(reason, size, "the last FROM value \"%s\" has no TO value; pass FROM TO pairs "
                 "after the column", rule->source->args.items[rule->source->args.count - 1]);
        return 1;
    }
    sd_keymap_destroy(&rule->values);
    return s_fill_values(rule, 1, 2);
}

static int s_compile_two_columns(sd_rules *self, s_compiled *rule, char *reason, size_t size)
{
    if (s_count_arguments(rule, 2, 2, reason, size) != 0
        || s_key_argument(self, rule, 0, &rule->column, reason, size) != 0
        || s_key_argument(self, rule, 1, &rule->second, reason, size) != 0)
        return 1;
    if (rule->column == rule->second) {
        snprintf(reason, size, "its two columns are both \"%s\"", rule->source->args.items[0]);
        return 1;
    }
    return 0;
}

//  Checks the PATH/ROW, TITLE/COLUMN and METRIC arguments shared by
//  top_title and share_matrix.
static int s_compile_columns_metric(sd_rules *self, s_compiled *rule, char *reason, size_t size)
{
    if (s_count_arguments(rule, 3, 3, reason, size) != 0)
        return 1;
    sd_rule two = {rule->source->name, {rule->source->args.items, 2}};
    s_compiled head = {.source = &two};
    if (s_compile_two_columns(self, &head, reason, size) != 0)
        return 1;
    rule->column = head.column;
    rule->second = head.second;
    if (s_find_sum(self, rule->source->args.items[2], &rule->metric))
        return 0;
    snprintf(reason, size, "argument 3 \"%s\" is not a summed metric of the table",
             rule->source->args.items[2]);
    return 1;
}

static int s_compile_top_title(sd_rules *self, s_compiled *rule, char *reason, size_t size)
{
    if (self->attribute_key >= 0) {
        snprintf(reason, size, "the table already has a top_title rule");
        return 1;
    }
    int rc = s_compile_columns_metric(self, rule, reason, size);
    if (rc != 0)
        return rc;
    self->titles = sd_titles_new();
    if (!self->titles)
        return -1;
    self->attribute_key = (int)rule->second;
    self->attribute_metric = rule->metric;
    return 0;
}

static int s_compile_matrix(sd_rules *self, s_compiled *rule, char *reason, size_t size)
{
    if (self->has_matrix) {
        snprintf(reason, size, "the table already has a share_matrix rule");
        return 1;
    }
    int rc = s_compile_columns_metric(self, rule, reason, size);
    if (rc != 0)
        return rc;
    self->has_matrix = true;
    self->matrix_column = rule->second;
    self->matrix_metric = rule->metric;
    return 0;
}

//  Finds the literal text that every match of an anchored pattern starts
//  with: the characters after '^' up to the first special one, minus a
//  last character that a quantifier makes optional. Patterns with '|' get
//  none, because an alternative may not be anchored.
static void s_literal_prefix(const char *pattern, s_pattern *compiled)
{
    compiled->prefix_len = 0;
    compiled->prefix_only = false;
    compiled->exact = false;
    if (pattern[0] != '^' || strchr(pattern, '|'))
        return;
    const char *p = pattern + 1;
    size_t used = 0;
    while (*p) {
        char literal;
        size_t step = 1;
        if (*p == '\\' && p[1] && strchr(".[]()*+?{}|^$\\", p[1])) {
            literal = p[1];
            step = 2;
        }
        else if (!strchr(".[]()*+?{}|^$\\", *p))
            literal = *p;
        else
            break;
        if (p[step] && strchr("*+?{", p[step]))
            break;
        compiled->prefix[used++] = literal;
        p += step;
    }
    compiled->prefix[used] = '\0';
    compiled->prefix_len = used;
    compiled->prefix_only = *p == '\0';
    compiled->exact = p[0] == '$' && p[1] == '\0';
}

static int s_compile_blacklist(sd_rules *self, s_compiled *rule, char *reason, size_t size)
{
    if (s_count_arguments(rule, 1, SIZE_MAX, reason, size) != 0
        || s_key_argument(self, rule, 0, &rule->column, reason, size) != 0)
        return 1;
    const sd_strings *args = &rule->source->args;
    rule->patterns = calloc(args->count, sizeof *rule->patterns);
    if (!rule->patterns)
        return -1;
    for (size_t i = 1; i < args->count; i++) {
        s_pattern *pattern = &rule->patterns[i - 1];
        pattern->prefix = malloc(strlen(args->items[i]) + 1);
        if (!pattern->prefix)
            return -1;
        int error = regcomp(&pattern->regex, args->items[i], REG_EXTENDED | REG_NOSUB);
        if (error != 0) {
            char text[128];
            regerror(error, &pattern->regex, text, sizeof text);
            snprintf(reason, size, "\"%s\" is not a valid POSIX extended regular expression (%s)",
                     args->items[i], text);
            free(pattern->prefix);
            pattern->prefix = NULL;
            return 1;
        }
        s_literal_prefix(args->items[i], pattern);
        rule->pattern_count++;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Row functions

static bool s_is_string(const sd_value *cell)
{
    return cell->kind == SD_VALUE_STRING;
}

//  Returns a buffer of at least len + 1 bytes that does not overlap the
//  current value of key k, to be installed with s_install. NULL when out
//  of memory.
static char *s_spare(sd_rules *self, size_t len)
{
    if (len + 1 > self->spare_capacity) {
        size_t capacity = len + 1 < 256 ? 256 : 2 * (len + 1);
        char *grown = realloc(self->spare, capacity);
        if (!grown)
            return NULL;
        self->spare = grown;
        self->spare_capacity = capacity;
    }
    return self->spare;
}

//  Makes the spare buffer, now holding len bytes, the value of key k, and
//  keeps the key's old buffer as the next spare.
static void s_install(sd_rules *self, sd_value *keys, size_t k, size_t len)
{
    char *buffer = self->spare;
    size_t capacity = self->spare_capacity;
    self->spare = self->buffers[k];
    self->spare_capacity = self->capacities[k];
    self->buffers[k] = buffer;
    self->capacities[k] = capacity;
    keys[k].kind = SD_VALUE_STRING;
    keys[k].as.s.ptr = buffer;
    keys[k].as.s.len = len;
}

//  Returns 1 when the len bytes at text match the pattern, 0 when they do
//  not, -1 when out of memory. The regex runs on a NUL-terminated copy in
//  the spare buffer: the value may point into a message body with no
//  terminator, and regexec implementations (and sanitizers) may look for
//  one even with REG_STARTEND.
static int s_matches(sd_rules *self, const s_pattern *pattern, const char *text, size_t len)
{
    if (len < pattern->prefix_len || memcmp(text, pattern->prefix, pattern->prefix_len) != 0)
        return 0;
    if (pattern->prefix_only)
        return 1;
    if (pattern->exact)
        return len == pattern->prefix_len;
    char *copy = s_spare(self, len);
    if (!copy)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    regmatch_t range = {0, (regoff_t)len};
    return regexec(&pattern->regex, copy, 1, &range, REG_STARTEND) == 0;
}

static int s_apply_path_blacklist(sd_rules *self, const s_compiled *rule, sd_value *keys)
{
    const sd_value *cell = &keys[rule->column];
    for (size_t i = 0; s_is_string(cell) && i < rule->pattern_count; i++) {
        int match = s_matches(self, &rule->patterns[i], cell->as.s.ptr, cell->as.s.len);
        if (match != 0)
            return match < 0 ? -1 : 0;
    }
    return 1;
}

static bool s_listed(const s_compiled *rule, const sd_value *cell, size_t *argument)
{
    if (!s_is_string(cell))
        return false;
    *argument = sd_keymap_get(rule->values, cell->as.s.ptr, cell->as.s.len);
    return *argument != SD_KEYMAP_ABSENT;
}

static int s_apply_value_blacklist(sd_rules *self, const s_compiled *rule, sd_value *keys)
{
    (void)self;
    size_t argument;
    return s_listed(rule, &keys[rule->column], &argument) ? 0 : 1;
}

static void s_point_at(sd_value *cell, const char *text)
{
    cell->kind = SD_VALUE_STRING;
    cell->as.s.ptr = (char *)text;
    cell->as.s.len = strlen(text);
}

static int s_apply_map(sd_rules *self, const s_compiled *rule, sd_value *keys)
{
    (void)self;
    size_t argument;
    if (!s_listed(rule, &keys[rule->column], &argument))
        return 0;
    s_point_at(&keys[rule->column], rule->source->args.items[argument + 1]);
    return 1;
}

static int s_apply_rest_of_world(sd_rules *self, const s_compiled *rule, sd_value *keys)
{
    (void)self;
    size_t argument;
    if (!s_listed(rule, &keys[rule->column], &argument))
        s_point_at(&keys[rule->column], SD_RULES_REST_OF_WORLD);
    return 1;
}

static int s_apply_strip_query(sd_rules *self, const s_compiled *rule, sd_value *keys)
{
    (void)self;
    sd_value *cell = &keys[rule->column];
    const char *query = s_is_string(cell) ? memchr(cell->as.s.ptr, '?', cell->as.s.len) : NULL;
    if (query)
        cell->as.s.len = (size_t)(query - cell->as.s.ptr);
    return 1;
}

static int s_apply_decode_entities(sd_rules *self, const s_compiled *rule, sd_value *keys)
{
    sd_value *cell = &keys[rule->column];
    if (!s_is_string(cell) || !memchr(cell->as.s.ptr, '&', cell->as.s.len))
        return 1;
    char *out = s_spare(self, cell->as.s.len);
    if (!out)
        return -1;
    size_t len = sd_entities_decode(cell->as.s.ptr, cell->as.s.len, out);
    s_install(self, keys, rule->column, len);
    return 1;
}

//  Returns true when the len bytes at path contain "/amp/". Paths have few
//  slashes, so this beats memmem on such short texts.
static bool s_has_amp_segment(const char *path, size_t len)
{
    const char *end = path + len;
    const char *slash = memchr(path, '/', len);
    while (slash && end - slash >= 5) {
        if (memcmp(slash, "/amp/", 5) == 0)
            return true;
        slash = memchr(slash + 1, '/', (size_t)(end - slash - 1));
    }
    return false;
}

static int s_apply_amp_title(sd_rules *self, const s_compiled *rule, sd_value *keys)
{
    static const char marker[] = " (AMP)";
    const sd_value *path = &keys[rule->column];
    sd_value *title = &keys[rule->second];
    if (!s_is_string(path) || !s_is_string(title)
        || !s_has_amp_segment(path->as.s.ptr, path->as.s.len))
        return 1;
    size_t len = title->as.s.len + sizeof marker - 1;
    char *out = s_spare(self, len);
    if (!out)
        return -1;
    memcpy(out, title->as.s.ptr, title->as.s.len);
    memcpy(out + title->as.s.len, marker, sizeof marker);
    s_install(self, keys, rule->second, len);
    return 1;
}

//  In run order; see sd_rules.h.
static const s_definition s_definitions[] = {
    {"path_blacklist", s_compile_blacklist, s_apply_path_blacklist},
    {"value_blacklist", s_compile_column_values, s_apply_value_blacklist},
    {"map_values", s_compile_map, s_apply_map},
    {"rest_of_world", s_compile_column_values, s_apply_rest_of_world},
    {"strip_query", s_compile_column, s_apply_strip_query},
    {"decode_entities", s_compile_column, s_apply_decode_entities},
    {"amp_title", s_compile_two_columns, s_apply_amp_title},
    {"top_title", s_compile_top_title, NULL},
    {"share_matrix", s_compile_matrix, NULL},
};
#define SD_RULE_DEFINITIONS (sizeof s_definitions / sizeof s_definitions[0])

//  ---------------------------------------------------------------------
//  The rule set

static void s_compiled_clear(s_compiled *rule)
{
    for (size_t i = 0; i < rule->pattern_count; i++) {
        regfree(&rule->patterns[i].regex);
        free(rule->patterns[i].prefix);
    }
    free(rule->patterns);
    sd_keymap_destroy(&rule->values);
    memset(rule, 0, sizeof *rule);
}

static int s_warn(sd_rules *self, sd_strings *warnings, const char *line)
{
    sd_warning("%s table=%s", line, self->table_id);
    return sd_strings_push(warnings, line);
}

//  Warns about every spec rule whose name is unknown. Returns 0 or -1.
static int s_reject_unknown(sd_rules *self, sd_strings *warnings)
{
    for (size_t i = 0; i < self->spec->rule_count; i++) {
        const char *name = self->spec->rules[i].name ? self->spec->rules[i].name : "";
        size_t d = 0;
        while (d < SD_RULE_DEFINITIONS && strcmp(s_definitions[d].name, name) != 0)
            d++;
        if (d < SD_RULE_DEFINITIONS)
            continue;
        char line[256];
        snprintf(line, sizeof line, "unknown rule \"%.64s\" ignored; the known rules are "
                 "path_blacklist, value_blacklist, map_values, rest_of_world, strip_query, "
                 "decode_entities, amp_title, top_title and share_matrix", name);
        if (s_warn(self, warnings, line) != 0)
            return -1;
    }
    return 0;
}

//  Compiles the spec rules named like definition d, in spec order.
static int s_compile_named(sd_rules *self, size_t d, sd_strings *warnings)
{
    for (size_t i = 0; i < self->spec->rule_count; i++) {
        const sd_rule *source = &self->spec->rules[i];
        if (!source->name || strcmp(source->name, s_definitions[d].name) != 0)
            continue;
        s_compiled *rule = &self->rules[self->count];
        *rule = (s_compiled){.definition = &s_definitions[d], .source = source};
        char reason[256] = "";
        int rc = s_definitions[d].compile(self, rule, reason, sizeof reason);
        if (rc == 0) {
            self->count++;
            continue;
        }
        s_compiled_clear(rule);
        if (rc < 0)
            return -1;
        char line[400];
        snprintf(line, sizeof line, "rule %s ignored: %s", source->name, reason);
        if (s_warn(self, warnings, line) != 0)
            return -1;
    }
    return 0;
}

sd_rules *sd_rules_new(const sd_table_spec *spec, const char *table_id, sd_strings *warnings)
{
    sd_rules *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->spec = spec;
    self->table_id = table_id ? table_id : "";
    self->attribute_key = -1;
    self->rules = calloc(spec->rule_count + 1, sizeof *self->rules);
    self->buffers = calloc(spec->keys.count + 1, sizeof *self->buffers);
    self->capacities = calloc(spec->keys.count + 1, sizeof *self->capacities);
    int rc = self->rules && self->buffers && self->capacities ? 0 : -1;
    if (rc == 0)
        rc = s_reject_unknown(self, warnings);
    for (size_t d = 0; rc == 0 && d < SD_RULE_DEFINITIONS; d++)
        rc = s_compile_named(self, d, warnings);
    if (rc != 0)
        sd_rules_destroy(&self);
    return self;
}

void sd_rules_destroy(sd_rules **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_rules *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        s_compiled_clear(&self->rules[i]);
    free(self->rules);
    for (size_t k = 0; self->buffers && k < self->spec->keys.count; k++)
        free(self->buffers[k]);
    free(self->buffers);
    free(self->capacities);
    free(self->spare);
    sd_titles_destroy(&self->titles);
    free(self);
    *self_p = NULL;
}

int sd_rules_apply_row(sd_rules *self, sd_value *keys)
{
    for (size_t i = 0; i < self->count; i++) {
        const s_compiled *rule = &self->rules[i];
        if (!rule->definition->apply)
            continue;
        int keep = rule->definition->apply(self, rule, keys);
        if (keep != 1)
            return keep;
    }
    return 1;
}

bool sd_rules_rewrote(const sd_rules *self, const sd_value *cell)
{
    if (cell->kind != SD_VALUE_STRING)
        return false;
    for (size_t k = 0; k < self->spec->keys.count; k++) {
        if (self->buffers[k] && cell->as.s.ptr == self->buffers[k])
            return true;
    }
    return false;
}

int sd_rules_attribute_key(const sd_rules *self)
{
    return self->attribute_key;
}

size_t sd_rules_attribute_metric(const sd_rules *self)
{
    return self->attribute_metric;
}

int sd_rules_observe_title(sd_rules *self, size_t row, uint64_t row_hash, const sd_value *title,
                           sd_number value, const sd_value *stored)
{
    return sd_titles_add(self->titles, row, row_hash, title, value, stored);
}

int sd_rules_resolve_titles(const sd_rules *self, sd_merged_row *rows, size_t row_count)
{
    if (self->attribute_key < 0)
        return 0;
    return sd_titles_apply(self->titles, rows, row_count, (size_t)self->attribute_key);
}

bool sd_rules_matrix(const sd_rules *self, size_t *column_key, size_t *metric)
{
    *column_key = self->matrix_column;
    *metric = self->matrix_metric;
    return self->has_matrix;
}

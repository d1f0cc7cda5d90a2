/*  sd_mustache: Mustache templates rendered from jansson values.

    The compiler turns template text into a tree of nodes in one pass, with
    an explicit stack of open sections. The renderer walks the tree with a
    stack of jansson contexts and compiles each partial once per render. It
    counts nesting depth, visited nodes and output bytes, so no template can
    exhaust the C stack, the CPU or the memory.
*/
#include "sd_mustache.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Maximum number of nodes visited in one render. Only a template that
//  multiplies its work through nested partials or sections gets near it.
#define S_MAX_STEPS 10000000

typedef enum {
    NODE_TEXT,     // literal template text
    NODE_ESCAPED,  // {{name}}
    NODE_RAW,      // {{{name}}} and {{& name}}
    NODE_SECTION,  // {{#name}} ... {{/name}}
    NODE_INVERTED, // {{^name}} ... {{/name}}
    NODE_PARTIAL,  // {{> name}}
} node_kind_t;

typedef struct _node_t node_t;
struct _node_t {
    node_kind_t kind;
    char *value;      // text bytes or the tag's name, NUL-terminated
    size_t length;    // length of value without the NUL
    char *indent;     // whitespace before a standalone partial tag, or NULL
    size_t line;      // line of the tag in its template from 1, 0 for text
    node_t *children; // body of a section or inverted section
    node_t *next;     // next node at the same level
};

struct _sd_mustache_t {
    node_t *root;      // first node of the template's top level
    char *error;       // reason the last render failed, or NULL
    bool failed;       // the last render failed (error may be NULL without memory)
    size_t max_output; // output limit in bytes
};

//  --------------------------------------------------------------------------
//  Nodes

static node_t *s_node_new(node_kind_t kind, const char *value, size_t length, size_t line)
{
    node_t *self = calloc(1, sizeof *self);
    char *copy = strndup(value, length);
    if (!self || !copy) {
        free(self);
        free(copy);
        return NULL;
    }
    self->kind = kind;
    self->value = copy;
    self->length = length;
    self->line = line;
    return self;
}

//  Recursion follows section nesting only, which the compiler bounds.
static void s_nodes_destroy(node_t **first_p)
{
    node_t *node = *first_p;
    while (node) {
        node_t *next = node->next;
        s_nodes_destroy(&node->children);
        free(node->value);
        free(node->indent);
        free(node);
        node = next;
    }
    *first_p = NULL;
}

//  --------------------------------------------------------------------------
//  Compiler

typedef struct {
    node_t *section; // open section, or NULL for the template's top level
    node_t **tail;   // link where the next node of this level goes
} level_t;

typedef struct {
    const char *text;
    size_t length;
    char open[SD_MUSTACHE_MAX_DELIMITER + 1];
    char close[SD_MUSTACHE_MAX_DELIMITER + 1];
    size_t open_length;
    size_t close_length;
    node_t *root;
    level_t levels[SD_MUSTACHE_MAX_DEPTH + 1];
    size_t depth;    // open sections, so levels[depth] is the current level
    size_t line_pos; // offset up to which newlines have been counted
    size_t line;     // line number at line_pos, from 1
    char *error;
} parser_t;

typedef struct {
    char sigil;           // '#', '^', '/', '!', '>', '&', '{', '=' or 0 for a variable
    size_t begin;         // offset of the opening delimiter
    size_t end;           // offset just past the closing delimiter
    size_t content_begin; // content without the sigil and surrounding whitespace
    size_t content_end;
    size_t line;
} tag_t;

static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

//  Sets the parser's error to "line N: message" unless one is set. Returns -1.
static int s_parse_fail(parser_t *self, size_t line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int s_parse_fail(parser_t *self, size_t line, const char *format, ...)
{
    char *message = NULL;
    va_list args;
    va_start(args, format);
    int rc = vasprintf(&message, format, args);
    va_end(args);

    if (rc >= 0 && !self->error && asprintf(&self->error, "line %zu: %s", line, message) < 0)
        self->error = NULL;
    if (rc >= 0)
        free(message);
    return -1;
}

static size_t s_line_at(parser_t *self, size_t pos)
{
    assert(pos >= self->line_pos);
    for (; self->line_pos < pos; self->line_pos++)
        if (self->text[self->line_pos] == '\n')
            self->line++;
    return self->line;
}

//  Length of a text as quoted in messages, at most 60 bytes so that a long
//  tag or name keeps the message readable.
static int s_clip(size_t length)
{
    return length > 60 ? 60 : (int)length;
}

static int s_quote_length(const tag_t *tag)
{
    return s_clip(tag->end - tag->begin);
}

static void s_append_node(parser_t *self, node_t *node)
{
    level_t *level = &self->levels[self->depth];
    *level->tail = node;
    level->tail = &node->next;
}

static int s_add_text(parser_t *self, size_t begin, size_t end)
{
    if (begin == end)
        return 0;
    node_t *node = s_node_new(NODE_TEXT, self->text + begin, end - begin, 0);
    if (!node)
        return -1;
    s_append_node(self, node);
    return 0;
}

//  Reads the tag whose opening delimiter starts at begin.
static int s_read_tag(parser_t *self, size_t begin, tag_t *tag)
{
    tag->begin = begin;
    tag->line = s_line_at(self, begin);
    size_t pos = begin + self->open_length;
    char sigil = self->text[pos];
    tag->sigil = sigil && strchr("#^/!>&{=", sigil) ? sigil : 0;
    if (tag->sigil)
        pos++;

    //  A triple mustache ends with '}' and a set-delimiter tag with '='
    //  before the closing delimiter.
    char closing[SD_MUSTACHE_MAX_DELIMITER + 2];
    size_t closing_length = 0;
    if (tag->sigil == '{' || tag->sigil == '=')
        closing[closing_length++] = tag->sigil == '{' ? '}' : '=';
    memcpy(closing + closing_length, self->close, self->close_length);
    closing_length += self->close_length;

    const char *found = memmem(self->text + pos, self->length - pos, closing, closing_length);
    if (!found)
        return s_parse_fail(self, tag->line, "unclosed tag '%.*s': no '%.*s' follows it",
                            (int)(pos - begin), self->text + begin, (int)closing_length, closing);

    tag->content_begin = pos;
    tag->content_end = (size_t)(found - self->text);
    tag->end = tag->content_end + closing_length;
    while (tag->content_begin < tag->content_end && s_is_space(self->text[tag->content_begin]))
        tag->content_begin++;
    while (tag->content_end > tag->content_begin && s_is_space(self->text[tag->content_end - 1]))
        tag->content_end--;
    return 0;
}

//  Finds whether only spaces and tabs share the tag's line. If so, sets
//  *line_begin to the start of the line and *line_end past its newline.
static bool s_is_standalone(const parser_t *self, const tag_t *tag, size_t *line_begin,
                            size_t *line_end)
{
    const char *text = self->text;
    size_t begin = tag->begin;
    while (begin > 0 && (text[begin - 1] == ' ' || text[begin - 1] == '\t'))
        begin--;
    if (begin > 0 && text[begin - 1] != '\n')
        return false;

    size_t end = tag->end;
    while (end < self->length && (text[end] == ' ' || text[end] == '\t'))
        end++;
    if (text[end] == '\r' && text[end + 1] == '\n')
        end += 2;
    else if (text[end] == '\n')
        end++;
    else if (end < self->length)
        return false;

    *line_begin = begin;
    *line_end = end;
    return true;
}

//  Names are non-empty and contain no whitespace. A dotted name has no empty
//  part ("a..b", ".a", "a."), except the implicit iterator ".". Partial
//  names are the loader's business and may contain any other bytes.
static int s_check_name(parser_t *self, const tag_t *tag)
{
    const char *name = self->text + tag->content_begin;
    size_t length = tag->content_end - tag->content_begin;
    if (length == 0)
        return s_parse_fail(self, tag->line, "missing name in tag '%.*s'", s_quote_length(tag),
                            self->text + tag->begin);

    for (size_t i = 0; i < length; i++)
        if (s_is_space(name[i]))
            return s_parse_fail(self, tag->line, "invalid name '%.*s': names contain no whitespace",
                                s_clip(length), name);

    bool dotted_ok = (length == 1 && name[0] == '.') ||
                     (name[0] != '.' && name[length - 1] != '.' && !memmem(name, length, "..", 2));
    if (tag->sigil != '>' && !dotted_ok)
        return s_parse_fail(self, tag->line, "invalid name '%.*s': a dotted name has an empty part",
                            s_clip(length), name);
    return 0;
}

static int s_open_section(parser_t *self, const tag_t *tag, node_kind_t kind)
{
    if (self->depth == SD_MUSTACHE_MAX_DEPTH)
        return s_parse_fail(self, tag->line, "sections nested deeper than %d levels",
                            SD_MUSTACHE_MAX_DEPTH);

    node_t *node = s_node_new(kind, self->text + tag->content_begin,
                              tag->content_end - tag->content_begin, tag->line);
    if (!node)
        return -1;
    s_append_node(self, node);
    self->depth++;
    self->levels[self->depth].section = node;
    self->levels[self->depth].tail = &node->children;
    return 0;
}

static int s_close_section(parser_t *self, const tag_t *tag)
{
    if (self->depth == 0)
        return s_parse_fail(self, tag->line, "'%.*s' closes no open section", s_quote_length(tag),
                            self->text + tag->begin);

    const node_t *section = self->levels[self->depth].section;
    size_t length = tag->content_end - tag->content_begin;
    if (length != section->length ||
        memcmp(section->value, self->text + tag->content_begin, length))
        return s_parse_fail(
            self, tag->line, "'%.*s' does not match the open section '%.60s' from line %zu",
            s_quote_length(tag), self->text + tag->begin, section->value, section->line);
    self->depth--;
    return 0;
}

//  Adds a variable or partial node. indent is the standalone partial's
//  indentation, or NULL.
static int s_add_tag_node(parser_t *self, const tag_t *tag, node_kind_t kind, const char *indent,
                          size_t indent_length)
{
    node_t *node = s_node_new(kind, self->text + tag->content_begin,
                              tag->content_end - tag->content_begin, tag->line);
    if (node && indent) {
        node->indent = strndup(indent, indent_length);
        if (!node->indent)
            s_nodes_destroy(&node);
    }
    if (!node)
        return -1;
    s_append_node(self, node);
    return 0;
}

static size_t s_token_length(const char *text, size_t length)
{
    size_t token_length = 0;
    while (token_length < length && !s_is_space(text[token_length]))
        token_length++;
    return token_length;
}

//  Reads "open close" from a {{=open close=}} tag.
static int s_set_delimiters(parser_t *self, const tag_t *tag)
{
    const char *content = self->text + tag->content_begin;
    size_t length = tag->content_end - tag->content_begin;
    size_t open_length = s_token_length(content, length);
    size_t close_begin = open_length;
    while (close_begin < length && s_is_space(content[close_begin]))
        close_begin++;
    size_t close_length = s_token_length(content + close_begin, length - close_begin);

    bool valid = open_length >= 1 && open_length <= SD_MUSTACHE_MAX_DELIMITER &&
                 close_length >= 1 && close_length <= SD_MUSTACHE_MAX_DELIMITER &&
                 close_begin + close_length == length;
    if (!valid)
        return s_parse_fail(self, tag->line,
                            "invalid delimiters '%.*s': expected two delimiters of 1 to %d "
                            "bytes separated by whitespace, as in {{=<%% %%>=}}",
                            s_clip(length), content, SD_MUSTACHE_MAX_DELIMITER);

    memcpy(self->open, content, open_length);
    self->open[open_length] = '\0';
    self->open_length = open_length;
    memcpy(self->close, content + close_begin, close_length);
    self->close[close_length] = '\0';
    self->close_length = close_length;
    return 0;
}

//  Acts on one tag. [indent_begin, indent_end) is the whitespace before a
//  standalone tag, empty for other tags.
static int s_handle_tag(parser_t *self, const tag_t *tag, size_t indent_begin, size_t indent_end)
{
    if (tag->sigil == '!')
        return 0;
    if (tag->sigil == '=')
        return s_set_delimiters(self, tag);
    if (s_check_name(self, tag))
        return -1;

    switch (tag->sigil) {
    case '/':
        return s_close_section(self, tag);
    case '#':
        return s_open_section(self, tag, NODE_SECTION);
    case '^':
        return s_open_section(self, tag, NODE_INVERTED);
    case '>':
        return s_add_tag_node(self, tag, NODE_PARTIAL,
                              indent_begin < indent_end ? self->text + indent_begin : NULL,
                              indent_end - indent_begin);
    case '&':
    case '{':
        return s_add_tag_node(self, tag, NODE_RAW, NULL, 0);
    default:
        return s_add_tag_node(self, tag, NODE_ESCAPED, NULL, 0);
    }
}

//  Section, comment, partial and set-delimiter tags alone on a line take the
//  whole line with them; the whitespace before a partial becomes its indent.
static int s_parse(parser_t *self)
{
    size_t text_begin = 0;
    while (true) {
        const char *found = memmem(self->text + text_begin, self->length - text_begin, self->open,
                                   self->open_length);
        if (!found)
            break;

        tag_t tag;
        if (s_read_tag(self, (size_t)(found - self->text), &tag))
            return -1;
        size_t text_end = tag.begin;
        size_t next = tag.end;
        bool standalone =
            tag.sigil && !strchr("&{", tag.sigil) && s_is_standalone(self, &tag, &text_end, &next);
        size_t indent_begin = standalone ? text_end : tag.begin;
        if (s_add_text(self, text_begin, text_end) ||
            s_handle_tag(self, &tag, indent_begin, tag.begin))
            return -1;
        text_begin = next;
    }
    if (s_add_text(self, text_begin, self->length))
        return -1;

    if (self->depth > 0) {
        const node_t *section = self->levels[self->depth].section;
        return s_parse_fail(
            self, section->line,
            "unclosed section '%.60s': no closing tag before the end of the template",
            section->value);
    }
    return 0;
}

//  Compiles text into *root. Returns 0, or -1 with *error set to a heap
//  message (NULL when even that allocation failed).
static int s_compile(const char *text, node_t **root, char **error)
{
    *root = NULL;
    *error = NULL;
    parser_t *parser = calloc(1, sizeof *parser);
    if (!parser) {
        *error = strdup("out of memory");
        return -1;
    }
    parser->text = text;
    parser->length = strlen(text);
    strcpy(parser->open, "{{");
    strcpy(parser->close, "}}");
    parser->open_length = parser->close_length = 2;
    parser->levels[0].tail = &parser->root;
    parser->line = 1;

    int rc = s_parse(parser);
    if (rc == 0) {
        *root = parser->root;
        parser->root = NULL;
    } else
        *error = parser->error ? parser->error : strdup("out of memory");
    s_nodes_destroy(&parser->root);
    free(parser);
    return rc;
}

//  --------------------------------------------------------------------------
//  Renderer

typedef struct _partial_t partial_t;
struct _partial_t {
    char *name;
    char *indent; // indentation it was compiled with, "" for none
    node_t *root; // compiled text, or NULL when the loader found none
    partial_t *next;
};

typedef struct {
    sd_mustache_partial_fn *loader;
    void *arg;
    json_t *stack[SD_MUSTACHE_MAX_DEPTH + 1]; // contexts, innermost last
    size_t stack_size;
    size_t max_output;        // output limit in bytes
    size_t depth;             // sections and partials being rendered
    size_t steps;             // nodes visited
    const char *partial_name; // partial being rendered, NULL for the template
    char *data;               // output
    size_t size;
    size_t capacity;
    partial_t *partials; // partials compiled during this render
    char *error;
} renderer_t;

static int s_render_nodes(renderer_t *self, const node_t *node);

//  Sets the render error to "line N[ of partial 'x']: message" unless one is
//  set; line 0 leaves out the location. Returns -1.
static int s_render_fail(renderer_t *self, size_t line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static int s_render_fail(renderer_t *self, size_t line, const char *format, ...)
{
    char *message = NULL;
    va_list args;
    va_start(args, format);
    int rc = vasprintf(&message, format, args);
    va_end(args);
    if (rc < 0)
        return -1;

    if (self->error)
        rc = 0;
    else if (line == 0)
        rc = asprintf(&self->error, "%s", message);
    else if (self->partial_name)
        rc = asprintf(&self->error, "line %zu of partial '%.60s': %s", line, self->partial_name,
                      message);
    else
        rc = asprintf(&self->error, "line %zu: %s", line, message);
    if (rc < 0)
        self->error = NULL;
    free(message);
    return -1;
}

static int s_append(renderer_t *self, const char *text, size_t length)
{
    if (length > self->max_output - self->size)
        return s_render_fail(self, 0, "output exceeds the limit of %zu bytes", self->max_output);

    if (self->size + length + 1 > self->capacity) {
        size_t capacity = self->capacity ? self->capacity : 4096;
        while (capacity < self->size + length + 1)
            capacity = capacity <= SIZE_MAX / 2 ? capacity * 2 : self->size + length + 1;
        char *data = realloc(self->data, capacity);
        if (!data)
            return -1;
        self->data = data;
        self->capacity = capacity;
    }
    memcpy(self->data + self->size, text, length);
    self->size += length;
    self->data[self->size] = '\0';
    return 0;
}

static const char *s_entity(char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

static int s_append_escaped(renderer_t *self, const char *text, size_t length)
{
    size_t run = 0;
    for (size_t i = 0; i < length; i++) {
        const char *entity = s_entity(text[i]);
        if (!entity)
            continue;
        if (s_append(self, text + run, i - run) || s_append(self, entity, strlen(entity)))
            return -1;
        run = i + 1;
    }
    return s_append(self, text + run, length - run);
}

//  Writes a whole number below 10^15 without a fraction or exponent ("100"),
//  any other value in the shortest %g form that reads back as the same double.
//  NOTE: the decimal separator follows LC_NUMERIC, which is "." unless the
//  process calls setlocale().
static void s_format_real(double value, char *buffer, size_t size)
{
    if (value > -1e15 && value < 1e15 && value == (double)(long long)value) {
        snprintf(buffer, size, "%.0f", value);
        return;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buffer, size, "%.*g", precision, value);
        if (strtod(buffer, NULL) == value)
            return;
    }
}

//  Writes a scalar other than a string into buffer. Null, objects, arrays and
//  missing values give the empty string.
static void s_format_scalar(const json_t *value, char *buffer, size_t size)
{
    buffer[0] = '\0';
    if (json_is_integer(value))
        snprintf(buffer, size, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    else if (json_is_real(value))
        s_format_real(json_real_value(value), buffer, size);
    else if (json_is_boolean(value))
        snprintf(buffer, size, "%s", json_is_true(value) ? "true" : "false");
}

static int s_append_value(renderer_t *self, const json_t *value, bool escape)
{
    char number[64];
    const char *text = number;
    size_t length;
    if (json_is_string(value)) {
        text = json_string_value(value);
        length = json_string_length(value);
    } else {
        s_format_scalar(value, number, sizeof number);
        length = strlen(number);
    }
    return escape ? s_append_escaped(self, text, length) : s_append(self, text, length);
}

//  Resolves a name against the context stack: the first part in the
//  innermost object that has it, each further part in the previous result.
static json_t *s_lookup(const renderer_t *self, const char *name)
{
    if (strcmp(name, ".") == 0)
        return self->stack[self->stack_size - 1];

    const char *dot = strchr(name, '.');
    size_t length = dot ? (size_t)(dot - name) : strlen(name);
    json_t *value = NULL;
    for (size_t i = self->stack_size; i-- > 0 && !value;)
        value = json_object_getn(self->stack[i], name, length);

    while (value && dot) {
        const char *part = dot + 1;
        dot = strchr(part, '.');
        length = dot ? (size_t)(dot - part) : strlen(part);
        value = json_object_getn(value, part, length);
    }
    return value;
}

static bool s_is_truthy(const json_t *value)
{
    if (!value || json_is_null(value) || json_is_false(value))
        return false;
    return !json_is_array(value) || json_array_size(value) > 0;
}

//  Counts one more level of sections and partials, failing past the limit.
static int s_enter(renderer_t *self, const node_t *node)
{
    if (self->depth >= SD_MUSTACHE_MAX_DEPTH)
        return s_render_fail(self, node->line,
                             "sections and partials nested deeper than %d levels; "
                             "check for a partial that includes itself",
                             SD_MUSTACHE_MAX_DEPTH);
    self->depth++;
    return 0;
}

static int s_render_with(renderer_t *self, const node_t *node, json_t *context)
{
    if (s_enter(self, node))
        return -1;
    self->stack[self->stack_size++] = context;
    int rc = s_render_nodes(self, node->children);
    self->stack_size--;
    self->depth--;
    return rc;
}

static int s_render_section(renderer_t *self, const node_t *node)
{
    json_t *value = s_lookup(self, node->value);
    if (!s_is_truthy(value))
        return 0;
    if (!json_is_array(value))
        return s_render_with(self, node, value);

    for (size_t i = 0; i < json_array_size(value); i++)
        if (s_render_with(self, node, json_array_get(value, i)))
            return -1;
    return 0;
}

static int s_render_inverted(renderer_t *self, const node_t *node)
{
    if (s_is_truthy(s_lookup(self, node->value)))
        return 0;
    if (s_enter(self, node))
        return -1;
    int rc = s_render_nodes(self, node->children);
    self->depth--;
    return rc;
}

//  Returns a copy of text with indent before every line. A newline that ends
//  the text starts no new line, so it gets no indent after it.
static char *s_indent_text(const char *text, const char *indent)
{
    size_t indent_length = strlen(indent);
    size_t lines = 1;
    for (const char *c = text; *c; c++)
        if (*c == '\n' && c[1])
            lines++;

    char *result = malloc(strlen(text) + lines * indent_length + 1);
    if (!result)
        return NULL;
    char *out = stpcpy(result, indent);
    for (const char *c = text; *c; c++) {
        *out++ = *c;
        if (*c == '\n' && c[1])
            out = stpcpy(out, indent);
    }
    *out = '\0';
    return result;
}

static void s_partials_destroy(partial_t **first_p)
{
    while (*first_p) {
        partial_t *partial = *first_p;
        *first_p = partial->next;
        free(partial->name);
        free(partial->indent);
        s_nodes_destroy(&partial->root);
        free(partial);
    }
}

//  Loads a partial's text, indents it with the tag's indentation and
//  compiles it into partial->root.
static int s_compile_partial(renderer_t *self, const node_t *node, partial_t *partial)
{
    char *text = NULL;
    if (self->loader && self->loader(self->arg, node->value, &text))
        return s_render_fail(self, node->line, "loading partial '%.60s' failed", node->value);
    if (!text)
        return 0;

    char *indented = partial->indent[0] ? s_indent_text(text, partial->indent) : text;
    char *error = NULL;
    int rc = indented ? s_compile(indented, &partial->root, &error) : -1;
    if (rc && error)
        s_render_fail(self, node->line, "partial '%.60s': %s", node->value, error);
    if (indented != text)
        free(indented);
    free(text);
    free(error);
    return rc;
}

//  Finds the partial compiled for this tag's name and indentation, loading
//  and compiling it on first use.
static int s_find_partial(renderer_t *self, const node_t *node, partial_t **found)
{
    const char *indent = node->indent ? node->indent : "";
    for (partial_t *partial = self->partials; partial; partial = partial->next) {
        if (strcmp(partial->name, node->value) == 0 && strcmp(partial->indent, indent) == 0) {
            *found = partial;
            return 0;
        }
    }

    partial_t *partial = calloc(1, sizeof *partial);
    if (partial) {
        partial->next = self->partials;
        self->partials = partial;
        partial->name = strdup(node->value);
        partial->indent = strdup(indent);
    }
    if (!partial || !partial->name || !partial->indent)
        return -1;
    *found = partial;
    return s_compile_partial(self, node, partial);
}

static int s_render_partial(renderer_t *self, const node_t *node)
{
    partial_t *partial = NULL;
    if (s_enter(self, node))
        return -1;
    int rc = s_find_partial(self, node, &partial);
    if (rc == 0 && partial->root) {
        const char *outer_name = self->partial_name;
        self->partial_name = partial->name;
        rc = s_render_nodes(self, partial->root);
        self->partial_name = outer_name;
    }
    self->depth--;
    return rc;
}

static int s_render_node(renderer_t *self, const node_t *node)
{
    switch (node->kind) {
    case NODE_TEXT:
        return s_append(self, node->value, node->length);
    case NODE_ESCAPED:
        return s_append_value(self, s_lookup(self, node->value), true);
    case NODE_RAW:
        return s_append_value(self, s_lookup(self, node->value), false);
    case NODE_SECTION:
        return s_render_section(self, node);
    case NODE_INVERTED:
        return s_render_inverted(self, node);
    case NODE_PARTIAL:
        return s_render_partial(self, node);
    }
    return 0;
}

static int s_render_nodes(renderer_t *self, const node_t *node)
{
    for (; node; node = node->next) {
        if (++self->steps > S_MAX_STEPS)
            return s_render_fail(self, node->line,
                                 "rendering visits more than %d tags and texts; "
                                 "check for partials or sections that multiply each other",
                                 S_MAX_STEPS);
        if (s_render_node(self, node))
            return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Public API

sd_mustache_t *sd_mustache_new(const char *text, char **error)
{
    assert(text);
    char *message = NULL;
    node_t *root = NULL;
    sd_mustache_t *self = NULL;
    if (s_compile(text, &root, &message) == 0) {
        self = calloc(1, sizeof *self);
        if (self) {
            self->root = root;
            self->max_output = SD_MUSTACHE_MAX_OUTPUT;
        } else {
            s_nodes_destroy(&root);
            message = strdup("out of memory");
        }
    }
    if (error)
        *error = self ? NULL : message;
    else
        free(message);
    return self;
}

void sd_mustache_destroy(sd_mustache_t **self_p)
{
    assert(self_p);
    sd_mustache_t *self = *self_p;
    if (self) {
        s_nodes_destroy(&self->root);
        free(self->error);
        free(self);
        *self_p = NULL;
    }
}

int sd_mustache_render(sd_mustache_t *self, json_t *context, sd_mustache_partial_fn *partials,
                       void *arg, char **output, size_t *size)
{
    assert(self);
    assert(output);
    *output = NULL;
    if (size)
        *size = 0;
    free(self->error);
    self->error = NULL;

    renderer_t renderer = {.loader = partials, .arg = arg, .max_output = self->max_output};
    renderer.stack[renderer.stack_size++] = context;
    int rc = s_render_nodes(&renderer, self->root);
    if (rc == 0 && !renderer.data)
        rc = s_append(&renderer, "", 0);

    if (rc == 0) {
        *output = renderer.data;
        if (size)
            *size = renderer.size;
    } else {
        free(renderer.data);
        self->error = renderer.error;
    }
    self->failed = rc != 0;
    s_partials_destroy(&renderer.partials);
    return rc;
}

void sd_mustache_set_max_output(sd_mustache_t *self, size_t max_output)
{
    assert(self);
    self->max_output = max_output;
}

const char *sd_mustache_error(sd_mustache_t *self)
{
    assert(self);
    if (!self->failed)
        return NULL;
    return self->error ? self->error : "out of memory";
}

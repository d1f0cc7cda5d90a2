/*  sd_mustache: Mustache templates rendered from jansson values.

    Implements the Mustache specification's required modules: variables
    ({{name}} HTML-escaped, {{{name}}} and {{& name}} raw), dotted names, the
    implicit iterator {{.}}, sections, inverted sections, comments, partials
    with standalone indentation, set delimiters and the standalone-line
    whitespace rules. Lambdas and the optional modules (inheritance, dynamic
    names) are not implemented.

    A template is compiled once and rendered any number of times. Template
    text usually comes from users' template directories, so every syntax
    problem is an error naming the line, and rendering bounds the nesting of
    sections and partials and the size of the output instead of crashing.

    Values follow the Ruby reference implementation: only a missing name,
    null, false and an empty array are falsey (0 and "" are truthy). Strings
    interpolate as they are, integers in decimal, reals in the shortest form
    that reads back to the same double, true and false as words, and null,
    objects and arrays as the empty string.

    A template object is not thread-safe: it stores the last render error.
*/
#ifndef SD_MUSTACHE_H
#define SD_MUSTACHE_H

#include <jansson.h>
#include <stddef.h>

//  Maximum nesting of sections and partials, counted together. Deeper
//  templates fail to compile (sections) or to render (partials).
#define SD_MUSTACHE_MAX_DEPTH 100

//  Default maximum size in bytes of one render's output.
#define SD_MUSTACHE_MAX_OUTPUT ((size_t)256 * 1024 * 1024)

//  Maximum length in bytes of a delimiter set with {{=open close=}}.
#define SD_MUSTACHE_MAX_DELIMITER 16

typedef struct _sd_mustache_t sd_mustache_t;

//  Loads the text of the partial named by a {{> name}} tag. Sets *text to a
//  heap string that the renderer frees, or to NULL when no partial has that
//  name (the tag then renders as the empty string), and returns 0. Returns -1
//  to fail the render. The name is the tag's content: any bytes except
//  whitespace and the closing delimiter, so a loader that maps names to files
//  must reject '/' and "..".
typedef int(sd_mustache_partial_fn)(void *arg, const char *name, char **text);

//  Compiles template text. Returns the template, or NULL when the text is
//  invalid. On failure, if error is not NULL, *error is set to a heap message
//  that the caller frees. The message names the line and the problem, as in
//  "line 4: unclosed section 'rows'".
sd_mustache_t *sd_mustache_new(const char *text, char **error);

//  Destroys a template and sets *self_p to NULL. Safe on NULL.
void sd_mustache_destroy(sd_mustache_t **self_p);

//  Renders the template with context as the bottom of the context stack.
//  partials may be NULL, in which case every partial renders as the empty
//  string. On success returns 0 and sets *output to a NUL-terminated heap
//  string that the caller frees and *size to its length without the NUL.
//  On failure returns -1, leaves *output NULL, and sd_mustache_error()
//  returns the reason. The context is borrowed.
int sd_mustache_render(sd_mustache_t *self, json_t *context, sd_mustache_partial_fn *partials,
                       void *arg, char **output, size_t *size);

//  Sets the maximum size in bytes of one render's output; a render that
//  would write more fails. The default is SD_MUSTACHE_MAX_OUTPUT.
void sd_mustache_set_max_output(sd_mustache_t *self, size_t max_output);

//  Returns the reason the last sd_mustache_render() call failed, or NULL
//  after a success. The text belongs to the template and is valid until the
//  next render or until the template is destroyed.
const char *sd_mustache_error(sd_mustache_t *self);

#endif

/*  sd_text: a growable text buffer for the renderers.

    Appends never fail visibly: the first allocation failure marks the
    buffer as failed, later appends do nothing, and sd_text_take returns
    NULL. So a renderer appends freely and checks once at the end.
*/
#ifndef SD_TEXT_H
#define SD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;                     //  NUL-terminated once anything was appended
    size_t length;                  //  bytes before the terminator
    size_t capacity;                //  bytes allocated
    bool failed;                    //  an allocation failed; the content is incomplete
} sd_text;

//  Appends len bytes of data.
void sd_text_append_bytes(sd_text *text, const char *data, size_t len);

//  Appends a NUL-terminated string.
void sd_text_append(sd_text *text, const char *string);

//  Appends printf-style formatted text.
void sd_text_appendf(sd_text *text, const char *format, ...) __attribute__((format(printf, 2, 3)));

//  Appends len bytes of data with &, <, >, " and ' written as HTML entities,
//  so the result is safe in element content and in quoted attributes. A NUL
//  byte is written as U+FFFD.
void sd_text_append_html(sd_text *text, const char *data, size_t len);

//  Returns the content (caller frees) and its length in *size (may be NULL),
//  and empties the buffer. Returns NULL when an append failed (the buffer
//  is emptied too).
char *sd_text_take(sd_text *text, size_t *size);

//  Frees the content. Safe on an empty buffer.
void sd_text_clear(sd_text *text);

#endif

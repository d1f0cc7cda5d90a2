/*  sd_text: a growable text buffer for the renderers.  */
#include "sd_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Makes room for extra more bytes plus the terminator. Returns 0 or -1.
static int s_reserve(sd_text *text, size_t extra)
{
    if (text->failed)
        return -1;
    size_t needed = text->length + extra + 1;
    if (needed <= text->capacity)
        return 0;
    size_t capacity = text->capacity ? text->capacity : 256;
    while (capacity < needed)
        capacity *= 2;
    char *data = realloc(text->data, capacity);
    if (!data) {
        text->failed = true;
        return -1;
    }
    text->data = data;
    text->capacity = capacity;
    return 0;
}

void sd_text_append_bytes(sd_text *text, const char *data, size_t len)
{
    if (s_reserve(text, len) != 0)
        return;
    memcpy(text->data + text->length, data, len);
    text->length += len;
    text->data[text->length] = '\0';
}

void sd_text_append(sd_text *text, const char *string)
{
    sd_text_append_bytes(text, string, strlen(string));
}

void sd_text_appendf(sd_text *text, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int len = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (len < 0 || s_reserve(text, (size_t)len) != 0) {
        text->failed = true;
        return;
    }
    va_start(args, format);
    vsnprintf(text->data + text->length, (size_t)len + 1, format, args);
    va_end(args);
    text->length += (size_t)len;
}

//  Returns the entity for a byte that HTML needs escaped, or NULL.
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
    case '\0':
        return "\xEF\xBF\xBD";
    default:
        return NULL;
    }
}

void sd_text_append_html(sd_text *text, const char *data, size_t len)
{
    size_t plain = 0;
    for (size_t i = 0; i < len; i++) {
        const char *entity = s_entity(data[i]);
        if (!entity)
            continue;
        sd_text_append_bytes(text, data + plain, i - plain);
        sd_text_append(text, entity);
        plain = i + 1;
    }
    sd_text_append_bytes(text, data + plain, len - plain);
}

char *sd_text_take(sd_text *text, size_t *size)
{
    if (text->failed || s_reserve(text, 0) != 0) {
        sd_text_clear(text);
        return NULL;
    }
    char *data = text->data;
    if (size)
        *size = text->length;
    *text = (sd_text){0};
    return data;
}

void sd_text_clear(sd_text *text)
{
    free(text->data);
    *text = (sd_text){0};
}

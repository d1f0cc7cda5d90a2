/*  sd_entities: HTML character references to UTF-8.  */
#include "sd_entities.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

//  Named references seen in page titles. Each replacement is shorter than
//  its "&name;" text, which sd_entities_decode relies on.
static const struct {
    const char *name;
    const char *utf8;
} s_named[] = {
    {"amp", "&"},          {"lt", "<"},            {"gt", ">"},
    {"quot", "\""},        {"apos", "'"},          {"nbsp", "\xc2\xa0"},
    {"ndash", "\xe2\x80\x93"}, {"mdash", "\xe2\x80\x94"}, {"lsquo", "\xe2\x80\x98"},
    {"rsquo", "\xe2\x80\x99"}, {"ldquo", "\xe2\x80\x9c"}, {"rdquo", "\xe2\x80\x9d"},
    {"hellip", "\xe2\x80\xa6"}, {"laquo", "\xc2\xab"},    {"raquo", "\xc2\xbb"},
    {"copy", "\xc2\xa9"},  {"reg", "\xc2\xae"},    {"trade", "\xe2\x84\xa2"},
    {"euro", "\xe2\x82\xac"}, {"pound", "\xc2\xa3"},
};

//  Longest reference body read: "#x10FFFF" has 8 characters and "hellip"
//  6. Anything longer is not a reference this decoder can decode.
#define SD_ENTITY_MAX_BODY 8

static size_t s_utf8_encode(uint32_t code, char *out)
{
    if (code < 0x80) {
        out[0] = (char)code;
        return 1;
    }
    if (code < 0x800) {
        out[0] = (char)(0xc0 | (code >> 6));
        out[1] = (char)(0x80 | (code & 0x3f));
        return 2;
    }
    if (code < 0x10000) {
        out[0] = (char)(0xe0 | (code >> 12));
        out[1] = (char)(0x80 | ((code >> 6) & 0x3f));
        out[2] = (char)(0x80 | (code & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (code >> 18));
    out[1] = (char)(0x80 | ((code >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3f));
    out[3] = (char)(0x80 | (code & 0x3f));
    return 4;
}

//  Parses the digits of a numeric reference ("123" or "x7B" after '#').
//  Returns false unless every character is a digit of the base and the
//  value is a Unicode scalar value other than 0.
static bool s_parse_number(const char *body, size_t len, uint32_t *code)
{
    bool hex = len > 0 && (body[0] == 'x' || body[0] == 'X');
    size_t i = hex ? 1 : 0;
    if (i == len)
        return false;
    uint32_t value = 0;
    for (; i < len; i++) {
        char c = body[i];
        uint32_t digit;
        if (c >= '0' && c <= '9')
            digit = (uint32_t)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            digit = (uint32_t)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            digit = (uint32_t)(c - 'A' + 10);
        else
            return false;
        value = value * (hex ? 16 : 10) + digit;
        if (value > 0x10ffff)
            return false;
    }
    if (value == 0 || (value >= 0xd800 && value <= 0xdfff))
        return false;
    *code = value;
    return true;
}

//  Decodes the reference whose body (between '&' and ';') is the len bytes
//  at body. Returns the bytes written to out, or 0 when it is not one.
static size_t s_decode_reference(const char *body, size_t len, char *out)
{
    uint32_t code;
    if (len > 1 && body[0] == '#')
        return s_parse_number(body + 1, len - 1, &code) ? s_utf8_encode(code, out) : 0;
    for (size_t i = 0; i < sizeof s_named / sizeof s_named[0]; i++) {
        if (strlen(s_named[i].name) == len && memcmp(s_named[i].name, body, len) == 0) {
            size_t size = strlen(s_named[i].utf8);
            memcpy(out, s_named[i].utf8, size);
            return size;
        }
    }
    return 0;
}

size_t sd_entities_decode(const char *text, size_t len, char *out)
{
    size_t used = 0;
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(text + i, '&', len - i);
        size_t plain = amp ? (size_t)(amp - (text + i)) : len - i;
        memmove(out + used, text + i, plain);
        used += plain;
        i += plain;
        if (i == len)
            break;

        //  text[i] is '&': look for the ';' that closes a short body.
        size_t limit = len - i - 1 < SD_ENTITY_MAX_BODY + 1 ? len - i - 1 : SD_ENTITY_MAX_BODY + 1;
        const char *semicolon = memchr(text + i + 1, ';', limit);
        size_t written = 0;
        if (semicolon)
            written = s_decode_reference(text + i + 1, (size_t)(semicolon - (text + i + 1)),
                                         out + used);
        if (written > 0) {
            used += written;
            i = (size_t)(semicolon - text) + 1;
        }
        else
            out[used++] = text[i++];
    }
    out[used] = '\0';
    return used;
}

/*  sd_utf8_repair: U+FFFD in place of invalid UTF-8 and of JSON escapes
    that jansson rejects.  */
#include "sd_utf8_repair.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char s_replacement[] = "\xEF\xBF\xBD";

//  Returns how many bytes at s (left of them) belong to one sequence: the
//  whole sequence when *valid is set, else the maximal invalid subpart
//  (at least 1 byte). The lead byte sets the range of the second byte,
//  which rules out overlong forms, surrogates and code points past U+10FFFF.
static size_t s_sequence(const uint8_t *s, size_t left, bool *valid)
{
    uint8_t lead = s[0];
    uint8_t low = 0x80, high = 0xBF;
    size_t length = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead <= 0xEF ? 3
                  : lead >= 0xC2 && lead <= 0xDF ? 2 : 0;
    *valid = false;
    if (length == 0)
        return 1;
    if (lead == 0xE0 || lead == 0xF0)
        low = lead == 0xE0 ? 0xA0 : 0x90;
    else if (lead == 0xED || lead == 0xF4)
        high = lead == 0xED ? 0x9F : 0x8F;
    size_t i = 1;
    for (; i < length && i < left; i++) {
        uint8_t byte = s[i];
        if (i == 1 ? byte < low || byte > high : (byte & 0xC0) != 0x80)
            return i;
    }
    *valid = i == length;
    return i;
}

//  Reads the 4 hex digits of a \u escape at s (6 bytes available), or -1.
static long s_escape_value(const char *s, size_t left)
{
    if (left < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    long value = 0;
    for (size_t i = 2; i < 6; i++) {
        char c = s[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

//  Returns the length of the escape at s that jansson accepts as it is, or
//  0 for \u0000 and for a lone surrogate escape (to be replaced with \ufffd).
static size_t s_escape(const char *s, size_t left)
{
    long value = s_escape_value(s, left);
    if (value < 0)
        return left >= 2 ? 2 : 1;
    if (value == 0 || (value >= 0xDC00 && value <= 0xDFFF))
        return 0;
    if (value >= 0xD800 && value <= 0xDBFF) {
        long low = s_escape_value(s + 6, left - 6);
        return low >= 0xDC00 && low <= 0xDFFF ? 12 : 0;
    }
    return 6;
}

//  Sets *out_size to the size of the repaired text and writes it into out
//  when out is not NULL (size out with a first call without it). Returns
//  the number of replacements.
static int s_repair(const char *body, size_t size, char *out, size_t *out_size)
{
    const uint8_t *s = (const uint8_t *)body;
    size_t i = 0, o = 0;
    int count = 0;
    while (i < size) {
        size_t length = 1;
        bool keep = true;
        if (s[i] == '\\') {
            length = s_escape(body + i, size - i);
            keep = length > 0;
            length = keep ? length : 6;
        } else if (s[i] >= 0x80) {
            length = s_sequence(s + i, size - i, &keep);
        }
        //  A bad escape becomes the escape of U+FFFD, a bad byte sequence
        //  the character itself.
        const char *with = body + i;
        if (!keep)
            with = s[i] == '\\' ? "\\ufffd" : s_replacement;
        size_t with_size = keep ? length : strlen(with);
        if (out)
            memcpy(out + o, with, with_size);
        o += with_size;
        count += keep ? 0 : 1;
        i += length;
    }
    *out_size = o;
    return count;
}

int sd_utf8_repair_json(const char *body, size_t size, char **repaired, size_t *repaired_size)
{
    size_t out_size = 0;
    *repaired = NULL;
    *repaired_size = 0;
    int count = s_repair(body, size, NULL, &out_size);
    if (count == 0)
        return 0;
    char *out = malloc(out_size + 1);
    if (!out)
        return -1;
    s_repair(body, size, out, &out_size);
    out[out_size] = '\0';
    *repaired = out;
    *repaired_size = out_size;
    return count;
}

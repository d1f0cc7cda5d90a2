/*  sd_utf8: strict UTF-8 validation, with a fast path over ASCII text.  */
#include "sd_utf8.h"

#include <stdint.h>
#include <string.h>

//  Returns the length of the sequence that starts at s (at most `left`
//  bytes long), or 0 when it is not strict UTF-8. The second byte's range
//  depends on the lead byte: that is what rules out overlong forms,
//  surrogates and code points past U+10FFFF.
static size_t s_sequence_length(const uint8_t *s, size_t left)
{
    uint8_t lead = s[0];
    size_t length;
    uint8_t low = 0x80, high = 0xBF;

    if (lead >= 0xC2 && lead <= 0xDF)
        length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
        length = 3;
    else if (lead >= 0xF0 && lead <= 0xF4)
        length = 4;
    else
        return 0;

    if (lead == 0xE0)
        low = 0xA0;
    else if (lead == 0xED)
        high = 0x9F;
    else if (lead == 0xF0)
        low = 0x90;
    else if (lead == 0xF4)
        high = 0x8F;

    if (left < length || s[1] < low || s[1] > high)
        return 0;
    for (size_t i = 2; i < length; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    }
    return length;
}

//  Returns the length of the run of ASCII bytes at the start of the len
//  bytes at s, read 8 at a time. A word with a byte from 0x80 up (or a NUL
//  byte, unless allow_nul) ends the run, and the caller reads that word
//  byte by byte.
static size_t s_ascii_run(const uint8_t *s, size_t len, bool allow_nul)
{
    const uint64_t high = 0x8080808080808080u;
    const uint64_t ones = 0x0101010101010101u;
    size_t i = 0;

    for (; len - i >= 8; i += 8) {
        uint64_t word;
        memcpy(&word, s + i, sizeof(word));
        if ((word & high) != 0 || (!allow_nul && ((word - ones) & ~word & high) != 0))
            break;
    }
    return i;
}

bool sd_utf8_valid(const char *text, size_t len, bool allow_nul, size_t *offset)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0;

    while (i < len) {
        i += s_ascii_run(s + i, len - i, allow_nul);
        if (i == len)
            break;
        if (s[i] < 0x80) {
            if (s[i] == 0 && !allow_nul)
                break;
            i++;
            continue;
        }
        size_t length = s_sequence_length(s + i, len - i);
        if (length == 0)
            break;
        i += length;
    }
    if (i == len)
        return true;
    if (offset)
        *offset = i;
    return false;
}

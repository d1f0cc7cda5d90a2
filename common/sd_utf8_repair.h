/*  sd_utf8_repair: makes an API's JSON body parseable when some of its text
    is not valid UTF-8, instead of losing the whole response.

    jansson rejects a document with invalid UTF-8 bytes, with the escape
    \u0000 or with a lone UTF-16 surrogate escape. The repair replaces each
    of them with U+FFFD: one U+FFFD per maximal invalid subpart of the
    bytes (what Python's "replace" error handler and the WHATWG decoder
    do), and \ufffd in place of each \u0000 or lone surrogate escape. Valid
    text is kept byte for byte.
*/
#ifndef SD_UTF8_REPAIR_H
#define SD_UTF8_REPAIR_H

#include <stddef.h>

//  Repairs the size bytes at body and returns the number of replacements,
//  or -1 when out of memory. When it is more than 0, *repaired receives a
//  new NUL-terminated buffer of *repaired_size bytes that the caller frees.
//  Otherwise *repaired is NULL and body can be parsed as it is.
int sd_utf8_repair_json(const char *body, size_t size, char **repaired, size_t *repaired_size);

#endif

/*  sd_entities: decoding of HTML character references in page titles.

    GA4 reports page titles as the site wrote them into <title>, so they
    may contain "&amp;", "&#8217;" and the like. The decoder replaces
    numeric references (&#NNN; and &#xHHH;) and a fixed list of named ones
    with their UTF-8 bytes, in one pass: "&amp;lt;" becomes "&lt;", not
    "<". A reference is decoded only when it ends with ';'. Unknown names,
    and numbers that are 0, a surrogate or above U+10FFFF, stay as they
    are, so valid UTF-8 input gives valid UTF-8 output.
*/
#ifndef SD_ENTITIES_H
#define SD_ENTITIES_H

#include <stddef.h>

//  Decodes the len bytes at text into out, which must have room for len
//  + 1 bytes (decoding never makes a text longer), and NUL-terminates it.
//  Returns the decoded length.
size_t sd_entities_decode(const char *text, size_t len, char *out);

#endif

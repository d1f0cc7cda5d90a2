/*  sd_utf8: strict UTF-8 validation.

    Strict means what RFC 3629 allows and nothing more: no overlong forms,
    no UTF-16 surrogates (U+D800..U+DFFF) and no code point past U+10FFFF.
*/
#ifndef SD_UTF8_H
#define SD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

//  Returns true when the len bytes at text are strict UTF-8. NUL bytes pass
//  only when allow_nul is true. On false, *offset (when offset is not NULL)
//  receives the position of the first byte that does not fit.
bool sd_utf8_valid(const char *text, size_t len, bool allow_nul, size_t *offset);

#endif

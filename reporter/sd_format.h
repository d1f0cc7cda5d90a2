/*  sd_format: numbers as reports show them.

    Thousands are separated with commas ("1,234,567"), fractions are rounded
    to a fixed number of decimals, and percentages to one decimal. A value
    that rounds to zero is written without a sign ("0.0%", never "-0.0%").
    Every function writes a NUL-terminated string into buffer, truncated to
    size; SD_FORMAT_SIZE is always enough.
*/
#ifndef SD_FORMAT_H
#define SD_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sd_proto.h"

#define SD_FORMAT_SIZE 64

//  Writes an integer with thousands separators; with sign, a positive value
//  gets a leading '+'.
void sd_format_integer(int64_t value, bool sign, char *buffer, size_t size);

//  Writes a number rounded to decimals (0..6) digits after the point, with
//  thousands separators. NaN and infinities are written as "n/a".
void sd_format_double(double value, int decimals, bool sign, char *buffer, size_t size);

//  Writes a number rounded to digits (1..15) significant digits, with
//  thousands separators and no trailing exponent: 2 digits give "3.1" for
//  3.14159, "0.012" for 0.01234 and "1,200" for 1234.5. Zero is "0"; NaN
//  and infinities are "n/a".
void sd_format_significant(double value, int digits, bool sign, char *buffer, size_t size);

//  Writes a table cell: integers as integers, floats with decimals digits,
//  strings as they are (truncated to size), booleans as "yes"/"no", nil
//  as "".
void sd_format_value(const sd_value *value, int decimals, bool sign, char *buffer, size_t size);

//  Text values longer than this many characters are cut when shown to
//  people (HTML, the mail's text part, CSV), and "…" marks the cut.
#define SD_FORMAT_TEXT_MAX_CHARS 300
#define SD_FORMAT_ELLIPSIS "\xE2\x80\xA6"

//  Returns how many of the len bytes at text to show: len when the text has
//  at most SD_FORMAT_TEXT_MAX_CHARS characters, else the bytes of the first
//  SD_FORMAT_TEXT_MAX_CHARS characters, ending on a character boundary
//  (the caller then appends SD_FORMAT_ELLIPSIS). Bytes of invalid UTF-8
//  count as characters of their own.
size_t sd_format_text_cut(const char *text, size_t len);

//  Writes a percentage with one decimal and its sign: "+4.8%", "-2.0%",
//  "0.0%".
void sd_format_percent(double percent, char *buffer, size_t size);

//  Returns the value as a double: integers converted, nil, strings and
//  booleans as 0.
double sd_format_to_double(const sd_value *value);

#endif

/*  sd_format: numbers as reports show them.  */
#include "sd_format.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

//  Writes digits (an unsigned decimal string) into out with a comma before
//  every group of three, after an optional sign character.
static void s_group(const char *digits, char sign, char *buffer, size_t size)
{
    char grouped[SD_FORMAT_SIZE];
    size_t len = strlen(digits);
    size_t out = 0;
    if (sign)
        grouped[out++] = sign;
    for (size_t i = 0; i < len && out + 2 < sizeof grouped; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            grouped[out++] = ',';
        grouped[out++] = digits[i];
    }
    grouped[out] = '\0';
    snprintf(buffer, size, "%s", grouped);
}

void sd_format_integer(int64_t value, bool sign, char *buffer, size_t size)
{
    //  The magnitude as unsigned, so INT64_MIN does not overflow.
    uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    char digits[32];
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)magnitude);
    char sign_char = value < 0 ? '-' : (sign && value > 0 ? '+' : 0);
    s_group(digits, sign_char, buffer, size);
}

void sd_format_double(double value, int decimals, bool sign, char *buffer, size_t size)
{
    if (!isfinite(value)) {
        snprintf(buffer, size, "n/a");
        return;
    }
    if (decimals < 0)
        decimals = 0;
    if (decimals > 6)
        decimals = 6;

    //  Values past 1e18 are not report figures; print them plainly.
    if (fabs(value) >= 1e18) {
        snprintf(buffer, size, "%.*e", decimals, value);
        return;
    }
    char plain[SD_FORMAT_SIZE];
    snprintf(plain, sizeof plain, "%.*f", decimals, fabs(value));

    //  The sign follows the rounded text, so -0.04 at one decimal is "0.0".
    bool zero = strspn(plain, "0.") == strlen(plain);
    char sign_char = zero ? 0 : (value < 0 ? '-' : (sign ? '+' : 0));
    char *point = strchr(plain, '.');
    if (point)
        *point = '\0';
    char grouped[SD_FORMAT_SIZE];
    s_group(plain, sign_char, grouped, sizeof grouped);
    snprintf(buffer, size, "%s%s%s", grouped, point ? "." : "", point ? point + 1 : "");
}

void sd_format_significant(double value, int digits, bool sign, char *buffer, size_t size)
{
    if (!isfinite(value)) {
        snprintf(buffer, size, "n/a");
        return;
    }
    if (value == 0.0) {
        snprintf(buffer, size, "0");
        return;
    }
    if (digits < 1)
        digits = 1;
    if (digits > 15)
        digits = 15;
    //  %e rounds to the requested digits. The exponent of the rounded
    //  value then gives the number of decimals left to show.
    char scientific[SD_FORMAT_SIZE];
    snprintf(scientific, sizeof scientific, "%.*e", digits - 1, value);
    double rounded = strtod(scientific, NULL);
    int exponent = (int)floor(log10(fabs(rounded)));
    int decimals = digits - 1 - exponent;
    sd_format_double(rounded, decimals < 0 ? 0 : decimals, sign, buffer, size);
}

void sd_format_value(const sd_value *value, int decimals, bool sign, char *buffer, size_t size)
{
    switch (value->kind) {
    case SD_VALUE_INT:
        sd_format_integer(value->as.i, sign, buffer, size);
        break;
    case SD_VALUE_FLOAT:
        sd_format_double(value->as.f, decimals, sign, buffer, size);
        break;
    case SD_VALUE_STRING:
        snprintf(buffer, size, "%s", value->as.s.ptr ? value->as.s.ptr : "");
        break;
    case SD_VALUE_BOOL:
        snprintf(buffer, size, "%s", value->as.b ? "yes" : "no");
        break;
    default:
        snprintf(buffer, size, "%s", "");
        break;
    }
}

void sd_format_percent(double percent, char *buffer, size_t size)
{
    char number[SD_FORMAT_SIZE];
    sd_format_double(percent, 1, true, number, sizeof number);
    snprintf(buffer, size, "%s%%", number);
}

double sd_format_to_double(const sd_value *value)
{
    if (value->kind == SD_VALUE_INT)
        return (double)value->as.i;
    if (value->kind == SD_VALUE_FLOAT)
        return value->as.f;
    return 0.0;
}

size_t sd_format_text_cut(const char *text, size_t len)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        //  A byte that is not a continuation byte starts a character.
        if (((unsigned char)text[i] & 0xC0) != 0x80 && ++chars > SD_FORMAT_TEXT_MAX_CHARS)
            return i;
    }
    return len;
}

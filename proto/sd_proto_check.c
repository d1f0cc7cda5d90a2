/*  sd_proto_check: field paths, error filling and the value rules that
    encoding and decoding share (enumerations, dates, UTF-8).
*/
#include "sd_proto_internal.h"
#include "sd_utf8.h"

#include <stdio.h>
#include <string.h>

const char *const sd_proto_frequencies[] = {"DAILY", "WOW_DAILY", "WEEKLY", "MONTHLY", NULL};
const char *const sd_proto_period_labels[] = {"current", "previous", "yearly", NULL};
const char *const sd_proto_column_kinds[] = {"dimension", "metric", NULL};
const char *const sd_proto_report_statuses[] = {"complete", "partial", "already_sent", NULL};
const char *const sd_proto_yearly_alignments[] = {"calendar", "weekday", NULL};

//  Appends formatted text, keeping the terminator when the buffer is full.
static void s_path_append(sd_proto_path *path, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void s_path_append(sd_proto_path *path, const char *format, ...)
{
    size_t room = sizeof(path->text) - path->len;
    va_list args;

    va_start(args, format);
    int written = vsnprintf(path->text + path->len, room, format, args);
    va_end(args);
    if (written < 0)
        path->text[path->len] = '\0';
    else if ((size_t)written >= room)
        path->len = sizeof(path->text) - 1;
    else
        path->len += (size_t)written;
}

size_t sd_proto_path_key(sd_proto_path *path, const char *key, size_t key_len)
{
    size_t previous = path->len;
    int width = key_len > 64 ? 64 : (int)key_len;

    s_path_append(path, "%s%.*s", previous > 0 ? "." : "", width, key);
    return previous;
}

size_t sd_proto_path_index(sd_proto_path *path, size_t index)
{
    size_t previous = path->len;

    s_path_append(path, "[%zu]", index);
    return previous;
}

void sd_proto_path_restore(sd_proto_path *path, size_t len)
{
    path->len = len;
    path->text[len] = '\0';
}

void sd_proto_vfail(sd_proto_error *err, const sd_proto_path *path, const char *format,
                    va_list args)
{
    if (!err)
        return;
    snprintf(err->field, sizeof(err->field), "%s", path ? path->text : "");
    vsnprintf(err->text, sizeof(err->text), format, args);
}

void sd_proto_fail(sd_proto_error *err, const sd_proto_path *path, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    sd_proto_vfail(err, path, format, args);
    va_end(args);
}

bool sd_proto_enum_valid(const char *const *allowed, const char *text, size_t len)
{
    for (; *allowed; allowed++) {
        if (strlen(*allowed) == len && memcmp(*allowed, text, len) == 0)
            return true;
    }
    return false;
}

void sd_proto_enum_describe(const char *const *allowed, char *buffer, size_t size)
{
    size_t used = 0;

    buffer[0] = '\0';
    for (size_t i = 0; allowed[i] && used < size; i++) {
        const char *separator = ", ";
        if (i == 0)
            separator = "";
        else if (!allowed[i + 1])
            separator = " or ";
        int written = snprintf(buffer + used, size - used, "%s%s", separator, allowed[i]);
        if (written < 0)
            break;
        used += (size_t)written;
    }
}

static int s_digits(const char *text, size_t count)
{
    int value = 0;

    for (size_t i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

static int s_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

bool sd_proto_date_valid(const char *text, size_t len)
{
    if (len != 10 || text[4] != '-' || text[7] != '-')
        return false;

    int year = s_digits(text, 4);
    int month = s_digits(text + 5, 2);
    int day = s_digits(text + 8, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1)
        return false;
    return day <= s_days_in_month(year, month);
}

int sd_proto_check_text(const char *text, size_t len, bool allow_nul, sd_proto_error *err,
                        const sd_proto_path *path)
{
    size_t offset = 0;

    if (sd_utf8_valid(text, len, allow_nul, &offset))
        return 0;
    if (text[offset] == '\0')
        sd_proto_fail(err, path, "contains a NUL byte at byte %zu", offset);
    else
        sd_proto_fail(err, path, "is not valid UTF-8 at byte %zu", offset);
    return -1;
}

/*  sim_csv: an in-place RFC 4180 CSV reader.  */
#include "sim_csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_csv {
    char *data;             //  the whole file plus a NUL
    size_t size;
    size_t position;        //  next byte to read
    size_t line;            //  line of the next byte
    size_t record_line;     //  line where the last record started
    const char *error;      //  why the last record was rejected
};

//  Reads the whole file into a NUL-terminated buffer. Returns 0 or -1.
static int s_read_file(const char *path, char **data, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return -1;
    int rc = -1;
    char *buffer = NULL;
    if (fseek(file, 0, SEEK_END) != 0)
        goto done;
    long length = ftell(file);
    if (length < 0 || fseek(file, 0, SEEK_SET) != 0)
        goto done;
    buffer = malloc((size_t)length + 1);
    if (!buffer || fread(buffer, 1, (size_t)length, file) != (size_t)length)
        goto done;
    buffer[length] = '\0';
    *data = buffer;
    *size = (size_t)length;
    buffer = NULL;
    rc = 0;
done:
    free(buffer);
    fclose(file);
    return rc;
}

sim_csv *sim_csv_open(const char *path, char *error, size_t error_size)
{
    sim_csv *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(error, error_size, "out of memory reading %s", path);
        return NULL;
    }
    if (s_read_file(path, &self->data, &self->size) != 0) {
        snprintf(error, error_size, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
        sim_csv_destroy(&self);
        return NULL;
    }
    self->line = 1;
    //  Skip a UTF-8 byte order mark, which some spreadsheet exports write.
    if (self->size >= 3 && memcmp(self->data, "\xEF\xBB\xBF", 3) == 0)
        self->position = 3;
    return self;
}

void sim_csv_destroy(sim_csv **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->data);
    free(*self_p);
    *self_p = NULL;
}

//  Returns how many continuation bytes follow a UTF-8 lead byte, or -1 when
//  the byte cannot start a character.
static int s_utf8_continuations(unsigned char byte)
{
    if (byte < 0x80)
        return 0;
    if (byte >= 0xC2 && byte <= 0xDF)
        return 1;
    if (byte >= 0xE0 && byte <= 0xEF)
        return 2;
    if (byte >= 0xF0 && byte <= 0xF4)
        return 3;
    return -1;
}

//  Returns true when text contains only well-formed UTF-8 (no overlong forms,
//  no surrogates, nothing above U+10FFFF).
static bool s_valid_utf8(const unsigned char *text, size_t length)
{
    size_t i = 0;
    while (i < length) {
        unsigned char byte = text[i];
        int continuations = s_utf8_continuations(byte);
        if (continuations < 0)
            return false;
        size_t extra = (size_t)continuations;
        if (extra > 0 && i + extra >= length)
            return false;
        uint32_t code = extra == 0 ? byte : byte & (0x3F >> extra);
        for (size_t k = 1; k <= extra; k++) {
            if ((text[i + k] & 0xC0) != 0x80)
                return false;
            code = (code << 6) | (text[i + k] & 0x3F);
        }
        if ((extra == 2 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF)))
            || (extra == 3 && (code < 0x10000 || code > 0x10FFFF)))
            return false;
        i += extra + 1;
    }
    return true;
}

//  Unquotes a quoted field in place, starting after its opening quote.
//  Returns the field's length, or -1 when the closing quote is missing.
static long s_read_quoted(sim_csv *self, char *start)
{
    char *out = start;
    while (self->position < self->size) {
        char c = self->data[self->position++];
        if (c == '"') {
            if (self->data[self->position] != '"')
                return (long)(out - start);
            self->position++;
        }
        if (c == '\n')
            self->line++;
        *out++ = c;
    }
    self->error = "a quoted field has no closing quote";
    return -1;
}

//  Reads one field at the current position. Returns 1 when a comma
//  follows, 0 when the record ends, or -1 for a malformed field.
static int s_read_field(sim_csv *self, sim_csv_field *field)
{
    char *start = self->data + self->position;
    long length;
    if (*start == '"') {
        self->position++;
        length = s_read_quoted(self, start);
        if (length < 0)
            return -1;
    } else {
        size_t span = strcspn(start, ",\r\n\"");
        if (start[span] == '"') {
            self->error = "a quote appears inside an unquoted field";
            return -1;
        }
        length = (long)span;
        self->position += span;
    }

    char next = self->data[self->position];
    int more = 0;
    if (next == ',') {
        more = 1;
        self->position++;
    } else if (next == '\r' && self->data[self->position + 1] == '\n') {
        self->position += 2;
        self->line++;
    } else if (next == '\n') {
        self->position++;
        self->line++;
    } else if (next != '\0' || self->position < self->size) {
        self->error = "a closing quote is followed by something other than a comma or line end";
        return -1;
    }
    start[length] = '\0';
    field->text = start;
    field->length = (size_t)length;
    if (!s_valid_utf8((const unsigned char *)start, field->length)) {
        self->error = "a field is not valid UTF-8";
        return -1;
    }
    return more;
}

int sim_csv_next(sim_csv *self, sim_csv_field *fields)
{
    self->record_line = self->line;
    self->error = NULL;
    if (self->position >= self->size)
        return 0;
    int count = 0;
    int more = 1;
    while (more == 1) {
        if (count == SIM_CSV_MAX_FIELDS) {
            self->error = "a record has too many fields";
            return -1;
        }
        more = s_read_field(self, &fields[count]);
        if (more < 0)
            return -1;
        count++;
    }
    return count;
}

size_t sim_csv_line(const sim_csv *self)
{
    return self->record_line;
}

const char *sim_csv_error(const sim_csv *self)
{
    return self->error ? self->error : "no error";
}

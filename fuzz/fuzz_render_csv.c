/*  fuzz_render_csv: the reporter's CSV renderer on hostile cell values.

    The input is read as a recipe for up to two tables: column names, cell
    kinds and values, and whether totals are present. Values include strings
    with commas, quotes, CR, LF and NUL bytes, any 64-bit integer and any
    double including NaN and infinities. The second table may be missing. The CSV
    the renderer writes is parsed here with a strict RFC 4180 reader, and
    every record must have the expected number of fields and hold each
    name and value exactly (doubles within a relative 1e-14).
*/
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_render_csv.h"

#define MAX_COLUMNS 4
#define MAX_ROWS 5
#define MAX_TABLES 2
#define MAX_FIELDS (MAX_COLUMNS + 1)
#define MAX_RECORDS (MAX_TABLES * (MAX_ROWS + 3) + MAX_TABLES)

static uint64_t s_word(fuzz_input *input)
{
    uint64_t word = 0;
    for (int i = 0; i < 8; i++)
        word = word << 8 | fuzz_input_byte(input);
    return word;
}

//  Returns a new string of up to 15 input bytes with its length. With
//  with_nul false, the string ends at its first NUL byte.
static char *s_string(fuzz_input *input, bool with_nul, size_t *length)
{
    size_t wanted = fuzz_input_byte(input) % 16;
    char *text = calloc(wanted + 1, 1);
    if (!text)
        fuzz_fail("out of memory");
    for (size_t i = 0; i < wanted; i++)
        text[i] = (char)fuzz_input_byte(input);
    *length = with_nul ? wanted : strlen(text);
    return text;
}

static void s_cell(fuzz_input *input, sd_value *cell)
{
    switch (fuzz_input_byte(input) % 5) {
    case 0:
        cell->kind = SD_VALUE_NIL;
        break;
    case 1:
        cell->kind = SD_VALUE_BOOL;
        cell->as.b = fuzz_input_byte(input) & 1;
        break;
    case 2:
        cell->kind = SD_VALUE_INT;
        cell->as.i = (int64_t)s_word(input);
        break;
    case 3: {
        uint64_t bits = s_word(input);
        cell->kind = SD_VALUE_FLOAT;
        memcpy(&cell->as.f, &bits, sizeof cell->as.f);
        break;
    }
    default:
        cell->kind = SD_VALUE_STRING;
        cell->as.s.ptr = s_string(input, true, &cell->as.s.len);
        break;
    }
}

//  Fills table from the recipe: columns, rows and maybe totals.
static void s_table(fuzz_input *input, sd_table_normalized *table)
{
    size_t columns = 1 + fuzz_input_byte(input) % MAX_COLUMNS;
    size_t rows = fuzz_input_byte(input) % (MAX_ROWS + 1);
    bool totals = fuzz_input_byte(input) & 1;
    table->data.columns = calloc(columns, sizeof(sd_column));
    table->data.cells = calloc(rows * columns + 1, sizeof(sd_value));
    table->totals = totals ? calloc(columns, sizeof(sd_value)) : NULL;
    if (!table->data.columns || !table->data.cells || (totals && !table->totals))
        fuzz_fail("out of memory");
    table->data.column_count = columns;
    table->data.row_count = rows;
    for (size_t c = 0; c < columns; c++) {
        size_t length;
        table->data.columns[c].name = s_string(input, false, &length);
    }
    for (size_t i = 0; i < rows * columns; i++)
        s_cell(input, &table->data.cells[i]);
    for (size_t c = 0; totals && c < columns; c++)
        s_cell(input, &table->totals[c]);
}

static void s_table_free(sd_table_normalized *table)
{
    size_t columns = table->data.column_count;
    for (size_t c = 0; c < columns; c++) {
        free(table->data.columns[c].name);
        if (table->totals)
            sd_value_clear(&table->totals[c]);
    }
    for (size_t i = 0; i < table->data.row_count * columns; i++)
        sd_value_clear(&table->data.cells[i]);
    free(table->data.columns);
    free(table->data.cells);
    free(table->totals);
}

//  One parsed field; text points into the parser's unquoted copy.
typedef struct {
    const char *text;
    size_t length;
} csv_field;

typedef struct {
    csv_field fields[MAX_FIELDS];
    size_t count;
} csv_record;

//  Reads one field at *pos, unquoting into out. Returns 0, or -1 when the
//  field breaks RFC 4180.
static int s_parse_field(const char *csv, size_t size, size_t *pos, char **out, csv_field *field)
{
    field->text = *out;
    if (*pos < size && csv[*pos] == '"') {
        for ((*pos)++;; (*pos)++) {
            if (*pos >= size)
                return -1;
            if (csv[*pos] == '"') {
                if (*pos + 1 < size && csv[*pos + 1] == '"')
                    (*pos)++;
                else
                    break;
            }
            *(*out)++ = csv[*pos];
        }
        (*pos)++;
    } else {
        for (; *pos < size && csv[*pos] != ',' && csv[*pos] != '\r'; (*pos)++) {
            if (csv[*pos] == '"' || csv[*pos] == '\n')
                return -1;
            *(*out)++ = csv[*pos];
        }
    }
    field->length = (size_t)(*out - field->text);
    return 0;
}

//  Parses CRLF-terminated records into records. Returns their number, or -1
//  when the text is not RFC 4180 or has more records or fields than any
//  rendering of the recipe can have.
static long s_parse_csv(const char *csv, size_t size, char *unquoted, csv_record *records)
{
    size_t pos = 0;
    long count = 0;
    while (pos < size) {
        if (count == MAX_RECORDS)
            return -1;
        csv_record *record = &records[count++];
        record->count = 0;
        for (;;) {
            if (record->count == MAX_FIELDS)
                return -1;
            if (s_parse_field(csv, size, &pos, &unquoted, &record->fields[record->count++]) != 0)
                return -1;
            if (pos < size && csv[pos] == ',') {
                pos++;
                continue;
            }
            if (pos + 1 < size && csv[pos] == '\r' && csv[pos + 1] == '\n') {
                pos += 2;
                break;
            }
            return -1;
        }
    }
    return count;
}

static bool s_field_is(const csv_field *field, const char *text, size_t length)
{
    return field->length == length && memcmp(field->text, text, length) == 0;
}

//  Returns true when read is what 15 significant digits of f read back as:
//  within a relative 1e-14, or one step for subnormals. Near DBL_MAX the
//  15-digit text is above DBL_MAX, so strtod returns infinity; the format
//  is documented as 15 digits, so that is accepted too.
static bool s_close_enough(double read, double f)
{
    double error = fabs(read - f);
    if (error <= 1e-14 * fabs(f) || error <= DBL_TRUE_MIN)
        return true;
    return isinf(read) && fabs(f) > 1.7976931348623e308 && signbit(read) == signbit(f);
}

//  Checks a rendered cell against its value.
static void s_check_cell(const csv_field *field, const sd_value *value)
{
    char text[64];
    switch (value->kind) {
    case SD_VALUE_BOOL: {
        const char *word = value->as.b ? "true" : "false";
        if (!s_field_is(field, word, strlen(word)))
            fuzz_fail("bool cell does not read \"%s\"", word);
        break;
    }
    case SD_VALUE_INT:
        snprintf(text, sizeof text, "%" PRId64, value->as.i);
        if (!s_field_is(field, text, strlen(text)))
            fuzz_fail("integer cell %s reads differently", text);
        break;
    case SD_VALUE_FLOAT: {
        double f = value->as.f;
        if (!isfinite(f)) {
            if (field->length != 0)
                fuzz_fail("non-finite double is not an empty field");
            break;
        }
        if (field->length == 0 || field->length >= sizeof text)
            fuzz_fail("double cell %g has a field of %zu bytes", f, field->length);
        memcpy(text, field->text, field->length);
        text[field->length] = '\0';
        char *end;
        double read = strtod(text, &end);
        if (*end != '\0' || !s_close_enough(read, f))
            fuzz_fail("double cell %.17g reads back as \"%s\"", f, text);
        break;
    }
    case SD_VALUE_STRING:
        if (!s_field_is(field, value->as.s.ptr, value->as.s.len))
            fuzz_fail("string cell of %zu bytes reads back differently", value->as.s.len);
        break;
    default:
        if (field->length != 0)
            fuzz_fail("nil cell is not an empty field");
        break;
    }
}

//  Checks one line "NAME,cell,..." against its values.
static void s_check_line(const csv_record *record, const char *name, const sd_value *cells,
                         size_t columns)
{
    if (record->count != columns + 1)
        fuzz_fail("line of %s has %zu fields, expected %zu", name, record->count, columns + 1);
    if (!s_field_is(&record->fields[0], name, strlen(name)))
        fuzz_fail("line does not start with its name %s", name);
    for (size_t c = 0; c < columns; c++)
        s_check_cell(&record->fields[c + 1], &cells[c]);
}

//  Checks the block of one table from records[*next]; advances *next.
static void s_check_block(const csv_record *records, long count, long *next,
                          const sd_document_table *entry)
{
    const sd_table_normalized *table = entry->table;
    size_t columns = table ? table->data.column_count : 0;
    size_t rows = table ? table->data.row_count : 0;
    long needed = 2;
    if (table)
        needed = 1 + (long)rows + (table->totals ? 1 : 0);
    if (*next + needed > count)
        fuzz_fail("CSV has %ld records, the block of %s needs %ld more", count, entry->def->name,
                  needed);

    const csv_record *header = &records[(*next)++];
    if (header->count != columns + 1 || !s_field_is(&header->fields[0], "table", 5))
        fuzz_fail("header of %s has %zu fields, expected %zu", entry->def->name, header->count,
                  columns + 1);
    for (size_t c = 0; c < columns; c++) {
        const char *name = table->data.columns[c].name;
        if (!s_field_is(&header->fields[c + 1], name, strlen(name)))
            fuzz_fail("column name %zu reads back differently", c);
    }
    if (!table) {
        s_check_line(&records[(*next)++], entry->def->name, NULL, 0);
        return;
    }
    for (size_t r = 0; r < rows; r++)
        s_check_line(&records[(*next)++], entry->def->name, &table->data.cells[r * columns],
                     columns);
    if (table->totals) {
        char label[128];
        snprintf(label, sizeof label, "%s totals", entry->def->name);
        s_check_line(&records[(*next)++], label, table->totals, columns);
    }
}

static void s_check_csv(const char *csv, size_t size, const sd_document *document)
{
    char *unquoted = malloc(size + 1);
    csv_record *records = calloc(MAX_RECORDS, sizeof *records);
    if (!unquoted || !records)
        fuzz_fail("out of memory");
    long count = s_parse_csv(csv, size, unquoted, records);
    if (count < 0)
        fuzz_fail("renderer output is not RFC 4180 CSV with CRLF line ends");

    long next = 0;
    for (size_t i = 0; i < document->table_count; i++) {
        if (i > 0 && (next >= count || records[next++].fields[0].length != 0 ||
                      records[next - 1].count != 1))
            fuzz_fail("blocks are not separated by an empty line");
        s_check_block(records, count, &next, &document->tables[i]);
    }
    if (next != count)
        fuzz_fail("CSV has %ld records, expected %ld", count, next);
    free(records);
    free(unquoted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const sd_table_def defs[MAX_TABLES] = {{.name = "summary"}, {.name = "top, \"pages\""}};
    fuzz_input input = {data, size, 0};
    sd_table_normalized tables[MAX_TABLES];
    sd_document_table entries[MAX_TABLES];
    memset(tables, 0, sizeof tables);
    size_t table_count = 1 + fuzz_input_byte(&input) % MAX_TABLES;
    bool second_missing = fuzz_input_byte(&input) & 1;
    for (size_t i = 0; i < table_count; i++) {
        s_table(&input, &tables[i]);
        entries[i].def = &defs[i];
        entries[i].table = i == 1 && second_missing ? NULL : &tables[i];
    }

    sd_document document = {.report = "ga-core", .tables = entries, .table_count = table_count};
    size_t csv_size = 0;
    char *csv = sd_render_csv(&document, &csv_size);
    if (!csv)
        fuzz_fail("sd_render_csv returned NULL");
    s_check_csv(csv, csv_size, &document);
    free(csv);
    for (size_t i = 0; i < table_count; i++)
        s_table_free(&tables[i]);
    return 0;
}

/*  sim_csv: reads a whole RFC 4180 CSV file and yields one record at a time.

    Fields may be quoted; inside quotes, commas and line breaks are data and
    "" is one quote. Records end with LF or CRLF. Every field must be valid
    UTF-8. The reader keeps the file in memory and unquotes it in place, so
    the fields of a record stay valid until the next call to sim_csv_next.
*/
#ifndef SIM_CSV_H
#define SIM_CSV_H

#include <stddef.h>

#define SIM_CSV_MAX_FIELDS 64

typedef struct {
    const char *text;       //  NUL-terminated
    size_t length;
} sim_csv_field;

typedef struct sim_csv sim_csv;

//  Reads the file at path. Returns the reader, or NULL with a message in
//  error when the file cannot be read.
sim_csv *sim_csv_open(const char *path, char *error, size_t error_size);

void sim_csv_destroy(sim_csv **self_p);

//  Reads the next record into fields (an array of SIM_CSV_MAX_FIELDS).
//  Returns the number of fields, 0 at the end of the file, or -1 for a
//  malformed record. sim_csv_error then returns the reason and
//  sim_csv_line the line.
int sim_csv_next(sim_csv *self, sim_csv_field *fields);

//  Returns the line on which the last record started (1-based).
size_t sim_csv_line(const sim_csv *self);

const char *sim_csv_error(const sim_csv *self);

#endif

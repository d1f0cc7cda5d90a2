/*  Builders of table.raw parts and checks of table.normalized cells, shared
    by the aggregator tests. Parts are described by static tables of cells
    so each test case reads as data.
*/
#ifndef TEST_PARTS_H
#define TEST_PARTS_H

#include "sd_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEST_MAX_COLUMNS 6
#define TEST_MAX_ROWS 8
#define TEST_MAX_DERIVED 6
#define TEST_MAX_RULES 4
#define TEST_MAX_ARGS 12

typedef struct {
    sd_value_kind kind;             //  NIL marks the end of a row
    const char *s;
    int64_t i;
    double f;
} test_cell;

#define S(text) {SD_VALUE_STRING, (text), 0, 0.0}
#define I(value) {SD_VALUE_INT, NULL, (value), 0.0}
#define F(value) {SD_VALUE_FLOAT, NULL, 0, (value)}

typedef struct {
    const char *site;
    const char *label;              //  "current", "previous" or "yearly"
    const char *error;              //  NULL for a part that succeeded
    const char *warning;            //  NULL for none
    size_t row_count;
    test_cell rows[TEST_MAX_ROWS][TEST_MAX_COLUMNS];
} test_part;

typedef struct {
    const char *name;
    const char *op;
    const char *a;
    const char *b;
    double scale;
    const char *unit;
} test_derived;

typedef struct {
    const char *name;               //  NULL ends the list of rules
    const char *args[TEST_MAX_ARGS + 1];    //  NULL-terminated
} test_rule;

typedef struct {
    const char *keys[3];            //  NULL-terminated
    const char *sum[5];             //  NULL-terminated
    test_derived derived[TEST_MAX_DERIVED];     //  ends at the first NULL name
    const char *sort_column;        //  NULL: no sort key
    bool descending;
    int64_t limit;
    bool previous;                  //  spec.compare has "previous"
    bool yearly;                    //  spec.compare has "yearly"
    test_rule rules[TEST_MAX_RULES];        //  ends at the first NULL name
} test_spec;

//  Raw column names of a part, in cell order; NULL-terminated.
typedef const char *test_columns[TEST_MAX_COLUMNS + 1];

//  Builds the spec (caller clears it with sd_table_spec_clear).
void test_spec_build(const test_spec *description, sd_table_spec *spec);

//  Builds a table.raw message for request_id and table_id, with part id
//  "<site>/<label>" and a deadline deadline_ms. Keys of the spec become
//  dimension columns, the other columns metrics.
sd_msg *test_part_build(const sd_table_spec *spec, const test_columns columns,
                        const test_part *description, const char *request_id,
                        const char *table_id, int64_t expected_parts, int64_t deadline_ms);

//  Returns the index of the named column of table, failing the test when
//  it is absent.
size_t test_column(const sd_table_data *table, const char *name);

//  Cell checks; cells is a row of table (or the totals).
void test_expect_int(const sd_table_data *table, const sd_value *cells, const char *name,
                     int64_t expected);
void test_expect_float(const sd_table_data *table, const sd_value *cells, const char *name,
                       double expected);
void test_expect_bool(const sd_table_data *table, const sd_value *cells, const char *name,
                      bool expected);
void test_expect_string(const sd_table_data *table, const sd_value *cells, const char *name,
                        const char *expected);
void test_expect_nil(const sd_table_data *table, const sd_value *cells, const char *name);

//  Returns the cells of row r.
const sd_value *test_row(const sd_table_data *table, size_t r);

//  Asserts that two normalized tables are equal: columns, rows, totals,
//  missing parts and warnings; floats within a relative 1e-9.
void test_expect_same_table(const sd_table_normalized *a, const sd_table_normalized *b);

#endif

/*  sd_proto: every message Statsdash services exchange.

    Each message body is one msgpack map with "v" (format version) and "type",
    then the fields of its type under the snake_case names of the struct
    fields below. docs/protocol.md shows each type with an example.

    Decoding is strict: a wrong type, a missing required field, a string that
    is not UTF-8, an unknown version or a size past the limits is rejected
    with an sd_proto_error naming the field ("queries[1].spec.keys[0]").
    Decoders accept the current version and the previous one, so hosts can be
    upgraded one at a time. Keys a type does not define are ignored, so a
    newer peer may add a field without breaking an older decoder.

    Ownership: every pointer inside a message is owned by the message and
    released by sd_msg_destroy. Strings are NUL-terminated and valid UTF-8;
    a string value inside a table cell also carries its length because it
    may contain NUL bytes.
*/
#ifndef SD_PROTO_H
#define SD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Version 2 made `warnings` required on table.raw, table.normalized and
//  fetch.reply; version 1 messages may omit it.
#define SD_PROTO_VERSION 2
#define SD_PROTO_VERSION_PREVIOUS 1

typedef enum {
    SD_MSG_REPORT_REQUEST = 1,
    SD_MSG_REPORT_REPLY,
    SD_MSG_FETCH_REQUEST,
    SD_MSG_FETCH_REPLY,
    SD_MSG_TABLE_RAW,
    SD_MSG_TABLE_NORMALIZED,
    SD_MSG_AVAILABILITY_REQUEST,
    SD_MSG_AVAILABILITY_REPLY,
    SD_MSG_ERROR,
} sd_msg_type;

//  Error codes carried by `error` messages; the numbers follow HTTP's
//  meaning so that logs read naturally.
typedef enum {
    SD_ERROR_BAD_REQUEST = 400,     //  the request did not decode or validate
    SD_ERROR_NOT_FOUND = 404,       //  no such service, report type or site
    SD_ERROR_DEADLINE = 408,        //  the deadline passed before the work ran
    SD_ERROR_INTERNAL = 500,        //  the peer failed while serving it
    SD_ERROR_UNAVAILABLE = 503,     //  queue full, or no worker for the service
} sd_error_code;

//  Size limits applied while decoding; every count is checked before memory
//  is reserved for it.
typedef struct {
    size_t max_message_bytes;       //  whole body
    size_t max_string_bytes;        //  one string or binary value
    size_t max_array_items;         //  one array or map (rows excepted)
    size_t max_rows;                //  rows of one table
    size_t max_columns;             //  columns of one table
} sd_proto_limits;

typedef struct {
    char field[128];                //  path of the offending field, "" for the whole body
    char text[192];                 //  what is wrong with it
} sd_proto_error;

typedef struct {
    char **items;
    size_t count;
} sd_strings;

//  One compared period. label is "current", "previous" or "yearly"; dates
//  are "YYYY-MM-DD", both ends included.
typedef struct {
    char *label;
    char *start;
    char *end;
} sd_period;

typedef enum {
    SD_VALUE_NIL,
    SD_VALUE_BOOL,
    SD_VALUE_INT,
    SD_VALUE_FLOAT,
    SD_VALUE_STRING,
} sd_value_kind;

//  A table cell. Integers stay integers; no number travels as text.
typedef struct {
    sd_value_kind kind;
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            char *ptr;              //  NUL-terminated, owned
            size_t len;             //  bytes before the terminator
        } s;
    } as;
} sd_value;

typedef enum {
    SD_COLUMN_DIMENSION,
    SD_COLUMN_METRIC,
} sd_column_kind;

typedef struct {
    char *name;                     //  API name in raw tables, report name in normalized ones
    sd_column_kind kind;
    char *unit;                     //  "count", "seconds", "minutes", "ratio", "percent" or ""
} sd_column;

//  Rows are stored row-major: cell (r, c) is cells[r * column_count + c].
typedef struct {
    sd_column *columns;
    size_t column_count;
    sd_value *cells;
    size_t row_count;
    size_t row_capacity;            //  rows the cells array has room for, 0 when unknown
} sd_table_data;

//  A metric column of the normalized table, computed per period after the
//  `sum` metrics were summed over sites. The normalized table's metric
//  columns are the derived entries, in order. The operations:
//    "scale"       a * scale (scale 1 carries a summed metric under its
//                  report name; an integer stays an integer when scale is 1)
//    "ratio"       a / b * scale, 0 when b is 0
//    "difference"  a - b
//    "share"       a / (column total of a) * 100, 0 when the total is 0
typedef struct {
    char *name;
    char *op;
    char *a;
    char *b;                        //  "" for "share"
    double scale;
    char *unit;
} sd_derived;

typedef struct {
    char *column;
    bool descending;
} sd_sort_key;

//  A post-processing rule, named with string arguments (for example
//  "rest_of_world" with the list of countries kept).
typedef struct {
    char *name;
    sd_strings args;
} sd_rule;

//  How the aggregator turns raw parts into one normalized table.
typedef struct {
    sd_strings keys;                //  dimension columns rows are merged on; "site" means the part's site
    sd_strings sum;                 //  additive metrics summed over sites
    sd_derived *derived;
    size_t derived_count;
    sd_sort_key *sort;              //  in order; ties broken by the keys
    size_t sort_count;
    int64_t limit;                  //  rows kept after sorting; 0 keeps all
    sd_strings compare;             //  comparison periods added: "previous", "yearly"
    sd_rule *rules;
    size_t rule_count;
} sd_table_spec;

//  One API query of a fetch job and the table its rows feed.
typedef struct {
    char *id;                       //  unique within the report
    char *table_id;
    int64_t expected_parts;         //  parts the table waits for (sites x periods)
    sd_table_spec spec;
    char *api;                      //  "ga4.runReport", "youtube.reports", ...
    sd_strings metrics;
    sd_strings dimensions;
    char *params_json;              //  further API request fields as a JSON object text, "{}" if none
    int64_t limit;                  //  rows wanted; 0 means the API default
    sd_period *periods;
    size_t period_count;
} sd_query;

typedef struct {
    char *request_id;               //  the report request this serves
    char *report;                   //  "ga-core", "ga-social", "ga-year-social", "ga-social-export", "youtube"
    sd_strings sites;               //  site or channel names, or the single item "all"
    char *frequency;                //  "DAILY", "WOW_DAILY", "WEEKLY", "MONTHLY"
    char *date;                     //  last day of the period, "YYYY-MM-DD"
    sd_strings formats;             //  "html", "csv", "json"
    sd_strings recipients;          //  mail addresses; none writes the report only
    int64_t deadline_ms;            //  absolute, milliseconds since the Unix epoch
    char *delivery_id;              //  "" unless the scheduler sends it
    char *yearly_alignment;         //  "calendar" or "weekday"
    char *subject;                  //  mail subject; "" for the reporter's own
    sd_strings warnings;            //  lines the report shows its readers (a late period's
                                    //  missing data); optional, empty when absent
} sd_report_request;

typedef struct {
    char *format;                   //  "html", "csv", "json", "text"
    char *content_type;
    uint8_t *body;
    size_t body_size;
} sd_output;

typedef struct {
    char *request_id;
    char *status;                   //  "complete", "partial" or "already_sent"
    char *subject;
    sd_output *outputs;
    size_t output_count;
    sd_strings missing;             //  sites or channels without data
    sd_strings warnings;
    bool delivered;                 //  mail was accepted by the SMTP server
} sd_report_reply;

typedef struct {
    char *job_id;
    char *request_id;
    char *reporter_id;              //  normalized tables go to "table.<reporter_id>."
    char *service;                  //  "ga" or "youtube"
    char *site;
    int64_t deadline_ms;
    sd_query *queries;
    size_t query_count;
} sd_fetch_request;

//  What happened to one published part.
typedef struct {
    char *table_id;
    char *part_id;
    int64_t rows;
    char *digest;                   //  hex SHA-256 of the encoded part body, "" on error
    char *error;                    //  NULL when the part succeeded
} sd_part_status;

typedef struct {
    char *job_id;
    char *request_id;
    char *site;
    sd_part_status *parts;
    size_t part_count;
    sd_strings warnings;
} sd_fetch_reply;

//  One part of a table: one site and one period.
typedef struct {
    char *request_id;
    char *reporter_id;
    char *job_id;
    char *table_id;
    char *part_id;                  //  unique within the table, e.g. "site/current"
    char *site;
    sd_period period;
    int64_t expected_parts;
    int64_t deadline_ms;            //  when the aggregator publishes what it has
    sd_table_spec spec;
    sd_table_data data;             //  additive metrics only, under the API's names
    sd_strings warnings;            //  sampling, thresholding, ...
    char *error;                    //  NULL unless the part failed (then data is empty)
} sd_table_raw;

typedef struct {
    char *site;
    char *period;                   //  period label
    char *error;                    //  why, or "" when the part never arrived
} sd_missing_part;

typedef struct {
    char *request_id;
    char *reporter_id;
    char *table_id;
    sd_period *periods;
    size_t period_count;
    sd_table_data data;             //  the shared comparison format
    sd_value *totals;               //  one per column, NIL for dimensions (NULL encodes as all NIL)
    sd_missing_part *missing;
    size_t missing_count;
    sd_strings warnings;
} sd_table_normalized;

typedef struct {
    char *id;
    char *service;                  //  "ga" or "youtube"
    sd_strings sites;
    char *date;
    int64_t deadline_ms;
} sd_availability_request;

typedef struct {
    char *site;
    bool complete;
    char *detail;                   //  "" when complete, else what is missing
} sd_site_availability;

typedef struct {
    char *id;
    char *date;
    sd_site_availability *sites;
    size_t site_count;
} sd_availability_reply;

typedef struct {
    char *id;                       //  id of the message this replies to, "" if unknown
    int64_t code;                   //  an sd_error_code
    char *text;
} sd_error_msg;

typedef struct {
    sd_msg_type type;
    int version;
    union {
        sd_report_request report_request;
        sd_report_reply report_reply;
        sd_fetch_request fetch_request;
        sd_fetch_reply fetch_reply;
        sd_table_raw table_raw;
        sd_table_normalized table_normalized;
        sd_availability_request availability_request;
        sd_availability_reply availability_reply;
        sd_error_msg error;
    } as;
} sd_msg;

//  Fills limits with the defaults: 64 MiB per message, 1 MiB per string,
//  65,536 items per array, 4,000,000 rows, 256 columns.
void sd_proto_limits_default(sd_proto_limits *limits);

//  Returns a new zeroed message of the given type at the current version,
//  or NULL when out of memory or the type is unknown. Destroy with sd_msg_destroy.
sd_msg *sd_msg_new(sd_msg_type type);

//  Frees the message and everything it owns, and sets *msg to NULL. Safe on
//  NULL and on a message that is only partly filled.
void sd_msg_destroy(sd_msg **msg);

//  Encodes msg at msg->version into a new buffer (*data, released with
//  free()). Returns 0, or -1 with err filled when a required field is NULL
//  or a value is invalid. A NULL optional string encodes as its default.
int sd_msg_encode(const sd_msg *msg, uint8_t **data, size_t *size, sd_proto_error *err);

//  Decodes and validates one body. limits may be NULL for the defaults.
//  Returns a new message, or NULL with err filled.
sd_msg *sd_msg_decode(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                      sd_proto_error *err);

//  Receives a table.raw part before its rows: every field is decoded and
//  checked, part->data has the columns but no cells (data.row_count is 0),
//  and row_count rows follow. The part is borrowed until
//  sd_table_raw_decode_rows returns. Returns 0, or -1 to stop.
typedef int(sd_table_raw_header_fn)(void *arg, const sd_table_raw *part, size_t row_count);

//  Receives one row: column_count cells, valid for this call only. A
//  string cell points into the body (not NUL-terminated: use its len) and
//  must not be written or freed. Returns 0, or -1 to stop.
typedef int(sd_table_row_fn)(void *arg, const sd_value *cells, size_t column_count);

//  Decodes a table.raw body with the checks of sd_msg_decode, but hands
//  the rows to on_row one by one instead of building a table, so a large
//  part costs no allocation per cell. on_header runs once, after every
//  field except the rows has passed, then on_row runs once per row in
//  order. Returns 0 when the body is a valid table.raw and no callback
//  returned -1. Otherwise returns -1 with err filled (a body of another
//  type fails on "type"); rows before the first bad one may have been
//  handed over by then, so the caller keeps what it built from them aside
//  until this returns 0. limits may be NULL for the defaults.
int sd_table_raw_decode_rows(const uint8_t *data, size_t size, const sd_proto_limits *limits,
                             sd_table_raw_header_fn *on_header, sd_table_row_fn *on_row,
                             void *arg, sd_proto_error *err);

//  Returns the wire name ("fetch.request") of a type, or NULL.
const char *sd_msg_type_name(sd_msg_type type);

//  Finds the type whose wire name is the len bytes at name. Returns 0, or
//  -1 when no type has that name.
int sd_msg_type_parse(const char *name, size_t len, sd_msg_type *type);

//  Reads the type of a body without decoding the rest. Returns 0 or -1.
int sd_msg_peek_type(const uint8_t *data, size_t size, sd_msg_type *type);

//  Reads an integer field at the top level of a body (such as
//  "deadline_ms") without decoding the rest. Returns 0, or -1 when the body
//  is not a map or has no such integer field.
int sd_msg_peek_int(const uint8_t *data, size_t size, const char *key, int64_t *value);

//  Finds a string field at the top level of a body without decoding the
//  rest and without allocating. Sets *text to the bytes inside data (not
//  NUL-terminated, not checked for UTF-8) and *len to their count.
//  Returns 0, or -1 when the body is not a map or has no such string.
int sd_msg_peek_string(const uint8_t *data, size_t size, const char *key, const char **text,
                       size_t *len);

//  Helpers for building messages; each copies its arguments and returns 0,
//  or -1 when out of memory.
int sd_strings_push(sd_strings *strings, const char *text);
void sd_strings_clear(sd_strings *strings);
int sd_value_set_string(sd_value *value, const char *text, size_t len);
void sd_value_clear(sd_value *value);

//  Sets the columns of an empty table (copied) and reserves room for
//  rows_hint rows. The table's previous contents are not freed.
int sd_table_data_init(sd_table_data *table, const sd_column *columns, size_t column_count,
                       size_t rows_hint);
//  Appends a row of NIL cells and returns a pointer to its first cell, or
//  NULL when out of memory. The pointer is valid until the next append.
sd_value *sd_table_data_append_row(sd_table_data *table);
//  Returns the index of the named column, or -1.
int sd_table_data_column(const sd_table_data *table, const char *name);
void sd_table_data_clear(sd_table_data *table);

//  Copies every field of src into dst (which is overwritten: its previous
//  contents are not freed). Returns 0 or -1, leaving dst empty on failure.
int sd_table_spec_copy(sd_table_spec *dst, const sd_table_spec *src);
void sd_table_spec_clear(sd_table_spec *spec);

#endif

/*  sim_dataset: loads the GA4 facts into compact sorted rows, and the
    YouTube files.  */
#include "sim_dataset.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"
#include "sim_csv.h"

#define SIM_PROPERTY_ID_MAX 24

typedef struct {
    char id[SIM_PROPERTY_ID_MAX];
    size_t first;               //  index of its first row
    size_t count;               //  number of its rows
} s_property;

struct sim_dataset {
    sim_strings *strings;
    sim_ga4_row *rows;
    size_t row_count;
    size_t row_capacity;
    s_property *properties;
    size_t property_count;
    sim_youtube_data *youtube;
};

//  The CSV columns the loader needs; other columns are ignored.
typedef enum {
    COLUMN_PROPERTY,
    COLUMN_DATE,
    COLUMN_HOUR,
    COLUMN_HOST_NAME,
    COLUMN_PAGE_PATH,
    COLUMN_PAGE_TITLE,
    COLUMN_COUNTRY,
    COLUMN_SOURCE,
    COLUMN_MEDIUM,
    COLUMN_CHANNEL_GROUP,
    COLUMN_DEVICE,
    COLUMN_SCREEN_PAGE_VIEWS,
    COLUMN_TOTAL_USERS,
    COLUMN_SESSIONS,
    COLUMN_ENGAGEMENT,
    COLUMN_COUNT
} s_column;

static const char *s_column_names[COLUMN_COUNT] = {
    "property", "date", "hour", "hostName", "pagePath", "pageTitle", "country",
    "sessionSource", "sessionMedium", "sessionDefaultChannelGroup", "deviceCategory",
    "screenPageViews", "totalUsers", "sessions", "userEngagementDuration",
};

//  Everything one load needs while it reads the file.
typedef struct {
    sim_dataset *dataset;
    sim_csv *csv;
    const char *path;
    int positions[COLUMN_COUNT];    //  field index of each column
    int field_count;                //  fields in the header
    char *error;
    size_t error_size;
} s_loader;

const sim_strings *sim_dataset_strings(const sim_dataset *self)
{
    return self->strings;
}

void sim_dataset_destroy(sim_dataset **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_dataset *self = *self_p;
    sim_strings_destroy(&self->strings);
    sim_youtube_data_destroy(&self->youtube);
    free(self->rows);
    free(self->properties);
    free(self);
    *self_p = NULL;
}

static int s_fail(s_loader *loader, const char *message)
{
    snprintf(loader->error, loader->error_size, "%s line %zu: %s", loader->path,
             sim_csv_line(loader->csv), message);
    return -1;
}

static int s_read_header(s_loader *loader)
{
    sim_csv_field fields[SIM_CSV_MAX_FIELDS];
    int count = sim_csv_next(loader->csv, fields);
    if (count <= 0)
        return s_fail(loader, count == 0 ? "the file is empty; expected a header row"
                                         : sim_csv_error(loader->csv));
    for (int column = 0; column < COLUMN_COUNT; column++) {
        loader->positions[column] = -1;
        for (int i = 0; i < count; i++)
            if (strcmp(fields[i].text, s_column_names[column]) == 0)
                loader->positions[column] = i;
        if (loader->positions[column] < 0) {
            char message[128];
            snprintf(message, sizeof message, "the header has no column \"%s\"",
                     s_column_names[column]);
            return s_fail(loader, message);
        }
    }
    loader->field_count = count;
    return 0;
}

//  Parses a non-negative decimal integer that fills the whole field.
static int s_parse_count(const sim_csv_field *field, int64_t *value)
{
    if (field->length == 0 || field->length > 18)
        return -1;
    int64_t result = 0;
    for (size_t i = 0; i < field->length; i++) {
        if (field->text[i] < '0' || field->text[i] > '9')
            return -1;
        result = result * 10 + (field->text[i] - '0');
    }
    *value = result;
    return 0;
}

//  Returns the index of a property id, adding it when new, or -1.
static int s_property_index(sim_dataset *self, const sim_csv_field *field)
{
    for (size_t i = 0; i < self->property_count; i++)
        if (strcmp(self->properties[i].id, field->text) == 0)
            return (int)i;
    int64_t number;
    if (field->length >= SIM_PROPERTY_ID_MAX || s_parse_count(field, &number) != 0
        || self->property_count >= UINT16_MAX)
        return -1;
    s_property *properties =
        realloc(self->properties, (self->property_count + 1) * sizeof *properties);
    if (!properties)
        return -1;
    self->properties = properties;
    s_property *property = &properties[self->property_count];
    memset(property, 0, sizeof *property);
    memcpy(property->id, field->text, field->length + 1);
    return (int)self->property_count++;
}

static sim_ga4_row *s_append_row(sim_dataset *self)
{
    if (self->row_count == self->row_capacity) {
        size_t capacity = self->row_capacity ? self->row_capacity * 2 : 4096;
        sim_ga4_row *rows = realloc(self->rows, capacity * sizeof *rows);
        if (!rows)
            return NULL;
        self->rows = rows;
        self->row_capacity = capacity;
    }
    sim_ga4_row *row = &self->rows[self->row_count++];
    memset(row, 0, sizeof *row);
    return row;
}

static int s_intern(s_loader *loader, const sim_csv_field *field, uint32_t *id)
{
    int64_t result = sim_strings_intern(loader->dataset->strings, field->text, field->length);
    if (result < 0)
        return s_fail(loader, "out of memory");
    *id = (uint32_t)result;
    return 0;
}

//  Interns the text columns of a record, and "source / medium" from two.
static int s_read_texts(s_loader *loader, const sim_csv_field *fields, sim_ga4_row *row)
{
    static const struct {
        s_column column;
        sim_ga4_text text;
    } map[] = {
        {COLUMN_HOST_NAME, SIM_GA4_HOST_NAME}, {COLUMN_PAGE_PATH, SIM_GA4_PAGE_PATH},
        {COLUMN_PAGE_TITLE, SIM_GA4_PAGE_TITLE}, {COLUMN_COUNTRY, SIM_GA4_COUNTRY},
        {COLUMN_SOURCE, SIM_GA4_SOURCE}, {COLUMN_MEDIUM, SIM_GA4_MEDIUM},
        {COLUMN_CHANNEL_GROUP, SIM_GA4_CHANNEL_GROUP}, {COLUMN_DEVICE, SIM_GA4_DEVICE},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (s_intern(loader, &fields[loader->positions[map[i].column]], &row->text[map[i].text]))
            return -1;

    const sim_csv_field *source = &fields[loader->positions[COLUMN_SOURCE]];
    const sim_csv_field *medium = &fields[loader->positions[COLUMN_MEDIUM]];
    size_t length = source->length + 3 + medium->length;
    char *joined = malloc(length + 1);
    if (!joined)
        return s_fail(loader, "out of memory");
    snprintf(joined, length + 1, "%s / %s", source->text, medium->text);
    sim_csv_field combined = {joined, length};
    int rc = s_intern(loader, &combined, &row->text[SIM_GA4_SOURCE_MEDIUM]);
    free(joined);
    return rc;
}

static int s_read_metrics(s_loader *loader, const sim_csv_field *fields, sim_ga4_row *row)
{
    static const s_column columns[SIM_GA4_METRIC_COUNT] = {
        COLUMN_SCREEN_PAGE_VIEWS, COLUMN_TOTAL_USERS, COLUMN_SESSIONS, COLUMN_ENGAGEMENT};
    for (int metric = 0; metric < SIM_GA4_METRIC_COUNT; metric++) {
        if (s_parse_count(&fields[loader->positions[columns[metric]]], &row->metrics[metric])) {
            char message[128];
            snprintf(message, sizeof message, "%s is not a non-negative integer",
                     s_column_names[columns[metric]]);
            return s_fail(loader, message);
        }
    }
    return 0;
}

static int s_read_row(s_loader *loader, const sim_csv_field *fields)
{
    sim_ga4_row *row = s_append_row(loader->dataset);
    if (!row)
        return s_fail(loader, "out of memory");

    int property = s_property_index(loader->dataset, &fields[loader->positions[COLUMN_PROPERTY]]);
    if (property < 0)
        return s_fail(loader, "property is not a GA4 property id (digits only)");
    row->property = (uint16_t)property;

    const sim_csv_field *date = &fields[loader->positions[COLUMN_DATE]];
    if (sim_clock_parse_compact_date(date->text, date->length, &row->day) != 0)
        return s_fail(loader, "date is not a valid YYYYMMDD date");

    int64_t hour;
    if (s_parse_count(&fields[loader->positions[COLUMN_HOUR]], &hour) != 0 || hour > 23)
        return s_fail(loader, "hour is not 00-23");
    row->hour = (uint8_t)hour;

    if (s_read_texts(loader, fields, row) != 0)
        return -1;
    return s_read_metrics(loader, fields, row);
}

static int s_compare_rows(const void *a, const void *b)
{
    const sim_ga4_row *left = a;
    const sim_ga4_row *right = b;
    if (left->property != right->property)
        return left->property < right->property ? -1 : 1;
    if (left->day != right->day)
        return left->day < right->day ? -1 : 1;
    return (int)left->hour - (int)right->hour;
}

//  Sorts the rows and records where each property's rows start.
static void s_index(sim_dataset *self)
{
    qsort(self->rows, self->row_count, sizeof *self->rows, s_compare_rows);
    for (size_t i = 0; i < self->row_count; i++) {
        s_property *property = &self->properties[self->rows[i].property];
        if (property->count == 0)
            property->first = i;
        property->count++;
    }
}

static int s_load_ga4(s_loader *loader)
{
    if (s_read_header(loader) != 0)
        return -1;
    sim_csv_field fields[SIM_CSV_MAX_FIELDS];
    int count;
    while ((count = sim_csv_next(loader->csv, fields)) > 0) {
        if (count != loader->field_count) {
            char message[128];
            snprintf(message, sizeof message, "the record has %d fields; the header has %d", count,
                     loader->field_count);
            return s_fail(loader, message);
        }
        if (s_read_row(loader, fields) != 0)
            return -1;
    }
    if (count < 0)
        return s_fail(loader, sim_csv_error(loader->csv));
    s_index(loader->dataset);
    return 0;
}

sim_dataset *sim_dataset_load(const char *dir, char *error, size_t error_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ga4-facts.csv", dir);
    s_loader loader = {.path = path, .error = error, .error_size = error_size};
    loader.dataset = calloc(1, sizeof *loader.dataset);
    if (!loader.dataset || !(loader.dataset->strings = sim_strings_new())) {
        snprintf(error, error_size, "out of memory loading %s", dir);
        sim_dataset_destroy(&loader.dataset);
        return NULL;
    }
    loader.csv = sim_csv_open(path, error, error_size);
    if (!loader.csv || s_load_ga4(&loader) != 0)
        sim_dataset_destroy(&loader.dataset);
    sim_csv_destroy(&loader.csv);
    if (loader.dataset
        && !(loader.dataset->youtube = sim_youtube_data_load(dir, error, error_size)))
        sim_dataset_destroy(&loader.dataset);
    return loader.dataset;
}

const sim_youtube_data *sim_dataset_youtube(const sim_dataset *self)
{
    return self->youtube;
}

int sim_dataset_ga4_property(const sim_dataset *self, const char *property_id)
{
    for (size_t i = 0; i < self->property_count; i++)
        if (strcmp(self->properties[i].id, property_id) == 0)
            return (int)i;
    return -1;
}

size_t sim_dataset_ga4_property_count(const sim_dataset *self)
{
    return self->property_count;
}

size_t sim_dataset_ga4_row_count(const sim_dataset *self)
{
    return self->row_count;
}

//  Returns the first index in [low, high) whose day is at least day.
static size_t s_lower_bound(const sim_ga4_row *rows, size_t low, size_t high, int32_t day)
{
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (rows[middle].day < day)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

const sim_ga4_row *sim_dataset_ga4_rows(const sim_dataset *self, int property,
                                        int32_t first_day, int32_t last_day, size_t *count)
{
    *count = 0;
    if (property < 0 || (size_t)property >= self->property_count || first_day > last_day)
        return self->rows;
    const s_property *entry = &self->properties[property];
    size_t end = entry->first + entry->count;
    size_t begin = s_lower_bound(self->rows, entry->first, end, first_day);
    size_t stop = s_lower_bound(self->rows, begin, end, last_day + 1);
    *count = stop - begin;
    return self->rows + begin;
}

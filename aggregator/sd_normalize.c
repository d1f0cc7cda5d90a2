/*  sd_normalize: the merge state of one table and its normalized message.

    Each distinct key gets one sd_merged_row, found through an sd_keymap on
    the key's serialized cells, with the summed metrics of every period.
    sd_compare turns the merged rows into the comparison columns; this file
    adds the ids, periods, missing parts and warnings around them.
*/
#include "sd_normalize.h"

#include "sd_keymap.h"
#include "sd_log.h"
#include "sd_cell.h"
#include "sd_compare.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *part_id;
    char *site;                     //  from the part, or from a "<site>/<label>" part id
    char *label;
    char *error;                    //  NULL when the part was merged
    size_t row_count;
} s_part;

struct _sd_normalize {
    char *request_id;
    char *reporter_id;
    char *table_id;
    int64_t expected_parts;
    int64_t deadline_ms;
    sd_table_spec spec;
    sd_period periods[SD_COMPARE_PERIOD_COUNT];     //  dates of the first part of each label; label NULL until then
    char **key_units;                       //  unit of each key column, from the first part with rows
    sd_merged_row *rows;
    size_t row_count;
    size_t row_capacity;
    sd_keymap *row_map;                     //  serialized key -> index into rows
    s_part *parts;
    size_t part_count;
    size_t part_capacity;
    sd_keymap *part_map;                    //  part_id -> index into parts
    sd_strings warnings;                    //  part warnings in arrival order, repeats included
    int *key_columns;                       //  scratch: column of each key in the part, SD_SITE_COLUMN for "site"
    int *sum_columns;                       //  scratch: column of each sum metric in the part
    uint8_t *key_buffer;                    //  scratch: the serialized key of one row
    size_t key_buffer_size;
};

#define SD_SITE_COLUMN (-2)

//  Grows *array (of *capacity items of item_size bytes) to hold one more
//  item than count. Returns 0 or -1.
static int s_reserve(void **array, size_t *capacity, size_t count, size_t item_size)
{
    if (count < *capacity)
        return 0;
    size_t wanted = *capacity ? *capacity * 2 : 16;
    void *grown = realloc(*array, wanted * item_size);
    if (!grown)
        return -1;
    *array = grown;
    *capacity = wanted;
    return 0;
}

static char *s_strdup_or_empty(const char *text)
{
    return strdup(text ? text : "");
}

sd_normalize *sd_normalize_new(const sd_table_raw *first)
{
    sd_normalize *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->request_id = s_strdup_or_empty(first->request_id);
    self->reporter_id = s_strdup_or_empty(first->reporter_id);
    self->table_id = s_strdup_or_empty(first->table_id);
    self->expected_parts = first->expected_parts;
    self->deadline_ms = first->deadline_ms;
    self->row_map = sd_keymap_new();
    self->part_map = sd_keymap_new();

    size_t key_count = first->spec.keys.count;
    size_t sum_count = first->spec.sum.count;
    self->key_units = calloc(key_count + 1, sizeof *self->key_units);
    self->key_columns = calloc(key_count + 1, sizeof *self->key_columns);
    self->sum_columns = calloc(sum_count + 1, sizeof *self->sum_columns);
    if (!self->request_id || !self->reporter_id || !self->table_id || !self->row_map
        || !self->part_map || !self->key_units || !self->key_columns || !self->sum_columns
        || sd_table_spec_copy(&self->spec, &first->spec) != 0)
        sd_normalize_destroy(&self);
    return self;
}

static void s_row_clear(sd_merged_row *row, size_t key_count)
{
    for (size_t k = 0; row->keys && k < key_count; k++)
        sd_value_clear(&row->keys[k]);
    free(row->keys);
    free(row->sums);
}

static void s_part_clear(s_part *part)
{
    free(part->part_id);
    free(part->site);
    free(part->label);
    free(part->error);
}

void sd_normalize_destroy(sd_normalize **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_normalize *self = *self_p;
    for (size_t i = 0; i < self->row_count; i++)
        s_row_clear(&self->rows[i], self->spec.keys.count);
    for (size_t i = 0; i < self->part_count; i++)
        s_part_clear(&self->parts[i]);
    for (size_t p = 0; p < SD_COMPARE_PERIOD_COUNT; p++) {
        free(self->periods[p].label);
        free(self->periods[p].start);
        free(self->periods[p].end);
    }
    for (size_t k = 0; self->key_units && k < self->spec.keys.count; k++)
        free(self->key_units[k]);
    free(self->key_units);
    free(self->rows);
    free(self->parts);
    sd_keymap_destroy(&self->row_map);
    sd_keymap_destroy(&self->part_map);
    sd_strings_clear(&self->warnings);
    sd_table_spec_clear(&self->spec);
    free(self->key_columns);
    free(self->sum_columns);
    free(self->key_buffer);
    free(self->request_id);
    free(self->reporter_id);
    free(self->table_id);
    free(self);
    *self_p = NULL;
}

size_t sd_normalize_received(const sd_normalize *self)
{
    return self->part_count;
}

int64_t sd_normalize_expected(const sd_normalize *self)
{
    return self->expected_parts;
}

bool sd_normalize_complete(const sd_normalize *self)
{
    return (int64_t)self->part_count >= self->expected_parts;
}

int64_t sd_normalize_deadline_ms(const sd_normalize *self)
{
    return self->deadline_ms;
}

//  ---------------------------------------------------------------------
//  Checking a part against the spec

//  Finds the columns of the spec's keys and sums in the part, and checks
//  that every metric cell is a number. Returns 0, or -1 with reason filled.
static int s_resolve_part(sd_normalize *self, const sd_table_raw *part, char *reason,
                          size_t size)
{
    const sd_table_data *data = &part->data;
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        const char *key = self->spec.keys.items[k];
        self->key_columns[k] = strcmp(key, "site") == 0 ? SD_SITE_COLUMN
                                                        : sd_table_data_column(data, key);
        if (self->key_columns[k] == -1) {
            snprintf(reason, size, "key column \"%s\" is missing from the part", key);
            return -1;
        }
    }
    for (size_t j = 0; j < self->spec.sum.count; j++) {
        self->sum_columns[j] = sd_table_data_column(data, self->spec.sum.items[j]);
        if (self->sum_columns[j] == -1) {
            snprintf(reason, size, "metric column \"%s\" is missing from the part",
                     self->spec.sum.items[j]);
            return -1;
        }
    }
    for (size_t r = 0; r < data->row_count; r++) {
        for (size_t j = 0; j < self->spec.sum.count; j++) {
            const sd_value *cell = &data->cells[r * data->column_count + (size_t)self->sum_columns[j]];
            if (!sd_cell_is_number(cell)) {
                snprintf(reason, size, "metric \"%s\" in row %zu is not a finite number",
                         self->spec.sum.items[j], r);
                return -1;
            }
        }
    }
    return 0;
}

//  Keeps the unit of each key column from the first part that has rows.
static int s_remember_key_units(sd_normalize *self, const sd_table_data *data)
{
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        if (self->key_units[k])
            continue;
        int column = self->key_columns[k];
        const char *unit = column >= 0 ? data->columns[column].unit : "";
        self->key_units[k] = s_strdup_or_empty(unit);
        if (!self->key_units[k])
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Merging rows

static const sd_value *s_key_cell(const sd_normalize *self, const sd_table_raw *part, size_t row,
                                  size_t k, sd_value *site)
{
    if (self->key_columns[k] == SD_SITE_COLUMN) {
        site->kind = SD_VALUE_STRING;
        site->as.s.ptr = part->site ? part->site : "";
        site->as.s.len = strlen(site->as.s.ptr);
        return site;
    }
    const sd_table_data *data = &part->data;
    return &data->cells[row * data->column_count + (size_t)self->key_columns[k]];
}

//  Writes the key of one row into key_buffer as, per key, a kind byte then
//  its bytes (strings prefixed by their length). Returns the size or -1.
static ssize_t s_serialize_key(sd_normalize *self, const sd_table_raw *part, size_t row)
{
    size_t needed = 0;
    sd_value site;
    for (size_t k = 0; k < self->spec.keys.count; k++)
        needed += sd_cell_key_size(s_key_cell(self, part, row, k, &site));
    if (needed > self->key_buffer_size) {
        uint8_t *grown = realloc(self->key_buffer, needed);
        if (!grown)
            return -1;
        self->key_buffer = grown;
        self->key_buffer_size = needed;
    }

    size_t used = 0;
    for (size_t k = 0; k < self->spec.keys.count; k++)
        used += sd_cell_write_key(s_key_cell(self, part, row, k, &site), self->key_buffer + used);
    return (ssize_t)used;
}

//  Appends a row for a new key, copying the key cells. Returns its index
//  or SD_KEYMAP_ABSENT when out of memory.
static size_t s_add_row(sd_normalize *self, const sd_table_raw *part, size_t row, size_t key_size)
{
    size_t key_count = self->spec.keys.count;
    if (s_reserve((void **)&self->rows, &self->row_capacity, self->row_count, sizeof(sd_merged_row)) != 0)
        return SD_KEYMAP_ABSENT;
    sd_merged_row *added = &self->rows[self->row_count];
    memset(added, 0, sizeof *added);
    added->keys = calloc(key_count + 1, sizeof(sd_value));
    added->sums = calloc(SD_COMPARE_PERIOD_COUNT * self->spec.sum.count + 1, sizeof(sd_number));
    int rc = added->keys && added->sums ? 0 : -1;

    sd_value site;
    for (size_t k = 0; rc == 0 && k < key_count; k++)
        rc = sd_cell_copy(&added->keys[k], s_key_cell(self, part, row, k, &site));
    if (rc == 0)
        rc = sd_keymap_put(self->row_map, self->key_buffer, key_size, self->row_count);
    if (rc != 0) {
        s_row_clear(added, key_count);
        return SD_KEYMAP_ABSENT;
    }
    return self->row_count++;
}

//  Adds every row of a checked part to the sums of its period.
static int s_merge_rows(sd_normalize *self, const sd_table_raw *part, int period)
{
    const sd_table_data *data = &part->data;
    size_t sum_count = self->spec.sum.count;
    for (size_t r = 0; r < data->row_count; r++) {
        ssize_t key_size = s_serialize_key(self, part, r);
        if (key_size < 0)
            return -1;
        size_t index = sd_keymap_get(self->row_map, self->key_buffer, (size_t)key_size);
        if (index == SD_KEYMAP_ABSENT)
            index = s_add_row(self, part, r, (size_t)key_size);
        if (index == SD_KEYMAP_ABSENT)
            return -1;

        sd_merged_row *merged = &self->rows[index];
        merged->present[period] = true;
        for (size_t j = 0; j < sum_count; j++) {
            const sd_value *cell = &data->cells[r * data->column_count + (size_t)self->sum_columns[j]];
            sd_number *sum = &merged->sums[(size_t)period * sum_count + j];
            *sum = sd_number_add(*sum, sd_number_from_cell(cell));
        }
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Recording parts

//  Fills site and label of the record from the part's fields, falling back
//  to a part id of the form "<site>/<label>", else to the whole part id.
static int s_place_part(s_part *record, const sd_table_raw *part)
{
    const char *site = part->site && *part->site ? part->site : NULL;
    const char *label = part->period.label && *part->period.label ? part->period.label : NULL;
    const char *slash = strrchr(record->part_id, '/');
    if (!site && slash)
        record->site = strndup(record->part_id, (size_t)(slash - record->part_id));
    else
        record->site = strdup(site ? site : record->part_id);
    if (!label)
        label = slash ? slash + 1 : "";
    record->label = strdup(label);
    return record->site && record->label ? 0 : -1;
}

//  Keeps the dates of the first part of each period.
static int s_remember_period(sd_normalize *self, const sd_table_raw *part, int period)
{
    sd_period *stored = &self->periods[period];
    if (stored->label)
        return 0;
    stored->label = strdup(sd_compare_labels[period]);
    stored->start = s_strdup_or_empty(part->period.start);
    stored->end = s_strdup_or_empty(part->period.end);
    return stored->label && stored->start && stored->end ? 0 : -1;
}

static int s_keep_warnings(sd_normalize *self, const sd_table_raw *part)
{
    for (size_t i = 0; i < part->warnings.count; i++) {
        if (sd_strings_push(&self->warnings, part->warnings.items[i]) != 0)
            return -1;
    }
    return 0;
}

//  Checks and merges the part's rows. Returns 0 merged, 1 rejected (reason
//  filled), -1 out of memory.
static int s_merge_part(sd_normalize *self, const sd_table_raw *part, int period, char *reason,
                        size_t size)
{
    if (period < 0) {
        snprintf(reason, size, "period label \"%s\" is not current, previous or yearly",
                 part->period.label ? part->period.label : "");
        return 1;
    }
    if (part->data.row_count == 0)
        return s_remember_period(self, part, period);
    if (s_resolve_part(self, part, reason, size) != 0)
        return 1;
    if (s_remember_key_units(self, &part->data) != 0 || s_remember_period(self, part, period) != 0)
        return -1;
    return s_merge_rows(self, part, period);
}

sd_normalize_result sd_normalize_add(sd_normalize *self, const sd_table_raw *part,
                                     char *reason, size_t reason_size)
{
    const char *part_id = part->part_id ? part->part_id : "";
    if (sd_keymap_get(self->part_map, part_id, strlen(part_id)) != SD_KEYMAP_ABSENT)
        return SD_NORMALIZE_DUPLICATE;
    if (s_reserve((void **)&self->parts, &self->part_capacity, self->part_count, sizeof(s_part))
        != 0)
        return SD_NORMALIZE_FAILED;

    s_part *record = &self->parts[self->part_count];
    memset(record, 0, sizeof *record);
    record->part_id = strdup(part_id);
    record->row_count = part->data.row_count;
    char why[256] = "";
    int merged = 0;
    if (!record->part_id || s_place_part(record, part) != 0)
        merged = -1;
    else if (part->error) {
        record->error = strdup(part->error);
        int period = sd_compare_period_index(part->period.label);
        if (period >= 0 && s_remember_period(self, part, period) != 0)
            merged = -1;
    }
    else
        merged = s_merge_part(self, part, sd_compare_period_index(part->period.label), why, sizeof why);

    if (merged == 1)
        record->error = strdup(why);
    if (merged < 0 || ((part->error || merged == 1) && !record->error)
        || s_keep_warnings(self, part) != 0
        || sd_keymap_put(self->part_map, part_id, strlen(part_id), self->part_count) != 0) {
        s_part_clear(record);
        return SD_NORMALIZE_FAILED;
    }
    self->part_count++;
    if (merged == 1 && reason && reason_size > 0)
        snprintf(reason, reason_size, "%s", why);
    return merged == 1 ? SD_NORMALIZE_REJECTED : SD_NORMALIZE_ADDED;
}

//  ---------------------------------------------------------------------
//  Rules

//  A rule rewrites the merged rows before the derived metrics are
//  computed. Returns 0, or -1 when out of memory.
typedef int(s_rule_fn)(sd_normalize *self, const sd_rule *rule);

//  TODO: no rule is implemented yet (rest_of_world, the article and source
//  blacklists); every rule a spec names is logged at debug and skipped.
static const struct {
    const char *name;
    s_rule_fn *apply;
} s_rules[] = {
    {NULL, NULL},
};

static int s_apply_rules(sd_normalize *self)
{
    for (size_t i = 0; i < self->spec.rule_count; i++) {
        const sd_rule *rule = &self->spec.rules[i];
        size_t r = 0;
        while (s_rules[r].name && strcmp(s_rules[r].name, rule->name) != 0)
            r++;
        if (!s_rules[r].name) {
            sd_debug("unknown rule ignored: rule=%s request=%s table=%s", rule->name,
                     self->request_id, self->table_id);
            continue;
        }
        if (s_rules[r].apply(self, rule) != 0)
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Missing parts and warnings

typedef struct {
    const char *site;
    const char *period;
    const char *error;
} s_gap;

static int s_compare_texts(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int s_compare_gaps(const void *left, const void *right)
{
    const s_gap *a = left;
    const s_gap *b = right;
    int order = strcmp(a->site, b->site);
    if (order == 0)
        order = strcmp(a->period, b->period);
    return order != 0 ? order : strcmp(a->error, b->error);
}

//  Returns the distinct sites of the parts received, sorted (borrowed
//  strings), with their count in *count; NULL when out of memory.
static const char **s_sites(const sd_normalize *self, size_t *count)
{
    const char **sites = calloc(self->part_count + 1, sizeof *sites);
    if (!sites)
        return NULL;
    for (size_t i = 0; i < self->part_count; i++)
        sites[i] = self->parts[i].site;
    qsort(sites, self->part_count, sizeof *sites, s_compare_texts);
    size_t unique = 0;
    for (size_t i = 0; i < self->part_count; i++) {
        if (unique == 0 || strcmp(sites[unique - 1], sites[i]) != 0)
            sites[unique++] = sites[i];
    }
    *count = unique;
    return sites;
}

//  Returns the parts still outstanding: expected minus received, or 0.
static size_t s_outstanding(const sd_normalize *self)
{
    if (self->expected_parts <= (int64_t)self->part_count)
        return 0;
    return (size_t)(self->expected_parts - (int64_t)self->part_count);
}

//  Adds to gaps (at most limit entries) the parts that did not arrive out
//  of a full grid: every site that sent a part times the current and the
//  compared periods. Returns the count added, or SIZE_MAX when out of
//  memory.
static size_t s_guess_absent_parts(const sd_normalize *self, s_gap *gaps, size_t limit)
{
    size_t site_count = 0;
    const char **sites = s_sites(self, &site_count);
    bool *received = calloc(site_count * SD_COMPARE_PERIOD_COUNT + 1, sizeof *received);
    if (!sites || !received) {
        free(sites);
        free(received);
        return SIZE_MAX;
    }

    //  Mark what arrived, and which periods the table has at all.
    bool expected[SD_COMPARE_PERIOD_COUNT] = {true, false, false};
    for (size_t j = 0; j < self->spec.compare.count; j++) {
        int period = sd_compare_period_index(self->spec.compare.items[j]);
        if (period >= 0)
            expected[period] = true;
    }
    for (size_t i = 0; i < self->part_count; i++) {
        int period = sd_compare_period_index(self->parts[i].label);
        const char **site = bsearch(&self->parts[i].site, sites, site_count, sizeof *sites,
                                    s_compare_texts);
        if (period >= 0 && site) {
            received[(size_t)(site - sites) * SD_COMPARE_PERIOD_COUNT + (size_t)period] = true;
            expected[period] = true;
        }
    }

    size_t added = 0;
    for (size_t s = 0; s < site_count && added < limit; s++) {
        for (int p = 0; p < SD_COMPARE_PERIOD_COUNT && added < limit; p++) {
            if (expected[p] && !received[s * SD_COMPARE_PERIOD_COUNT + (size_t)p])
                gaps[added++] = (s_gap){sites[s], sd_compare_labels[p], ""};
        }
    }
    free(sites);
    free(received);
    return added;
}

static int s_copy_gaps(sd_table_normalized *table, const s_gap *gaps, size_t count)
{
    table->missing = calloc(count + 1, sizeof *table->missing);
    if (!table->missing)
        return -1;
    for (size_t i = 0; i < count; i++) {
        sd_missing_part *missing = &table->missing[i];
        missing->site = strdup(gaps[i].site);
        missing->period = strdup(gaps[i].period);
        missing->error = strdup(gaps[i].error);
        table->missing_count++;
        if (!missing->site || !missing->period || !missing->error)
            return -1;
    }
    return 0;
}

//  Lists the parts that failed, then the ones still outstanding: first as
//  (site, period) pairs guessed from the sites that did send parts, and
//  the rest, whose sites sent nothing, with empty site and period.
static int s_list_missing(const sd_normalize *self, sd_table_normalized *table)
{
    size_t outstanding = s_outstanding(self);
    s_gap *gaps = calloc(self->part_count + outstanding + 1, sizeof *gaps);
    if (!gaps)
        return -1;
    size_t count = 0;
    for (size_t i = 0; i < self->part_count; i++) {
        const s_part *part = &self->parts[i];
        if (part->error)
            gaps[count++] = (s_gap){part->site, part->label, part->error};
    }

    size_t guessed = s_guess_absent_parts(self, gaps + count, outstanding);
    int rc = guessed == SIZE_MAX ? -1 : 0;
    if (rc == 0) {
        count += guessed;
        for (size_t i = guessed; i < outstanding; i++)
            gaps[count++] = (s_gap){"", "", ""};
        qsort(gaps, count, sizeof *gaps, s_compare_gaps);
        rc = s_copy_gaps(table, gaps, count);
    }
    free(gaps);
    return rc;
}

//  Collects the part warnings, one "no rows" line per empty part, and a
//  count of the parts whose sites are unknown; sorted, without repeats.
static int s_list_warnings(const sd_normalize *self, sd_table_normalized *table)
{
    sd_strings lines = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->warnings.count; i++)
        rc = sd_strings_push(&lines, self->warnings.items[i]);
    for (size_t i = 0; rc == 0 && i < self->part_count; i++) {
        const s_part *part = &self->parts[i];
        char line[512];
        if (part->error || part->row_count > 0)
            continue;
        snprintf(line, sizeof line, "no rows for site %s in period %s", part->site, part->label);
        rc = sd_strings_push(&lines, line);
    }

    size_t missing_sites = 0;
    for (size_t i = 0; i < table->missing_count; i++)
        missing_sites += table->missing[i].site[0] == '\0' ? 1 : 0;
    if (rc == 0 && missing_sites > 0) {
        char line[256];
        snprintf(line, sizeof line, "%zu of %" PRId64 " expected parts never arrived, from sites "
                 "that sent no part", missing_sites, self->expected_parts);
        rc = sd_strings_push(&lines, line);
    }

    if (rc == 0 && lines.count > 1)
        qsort(lines.items, lines.count, sizeof *lines.items, s_compare_texts);
    for (size_t i = 0; rc == 0 && i < lines.count; i++) {
        if (i == 0 || strcmp(lines.items[i], lines.items[i - 1]) != 0)
            rc = sd_strings_push(&table->warnings, lines.items[i]);
    }
    sd_strings_clear(&lines);
    return rc;
}

//  ---------------------------------------------------------------------
//  The normalized message

static int s_copy_header(const sd_normalize *self, sd_table_normalized *table)
{
    table->request_id = strdup(self->request_id);
    table->reporter_id = strdup(self->reporter_id);
    table->table_id = strdup(self->table_id);
    if (!table->request_id || !table->reporter_id || !table->table_id)
        return -1;

    table->periods = calloc(SD_COMPARE_PERIOD_COUNT, sizeof *table->periods);
    if (!table->periods)
        return -1;
    for (int p = 0; p < SD_COMPARE_PERIOD_COUNT; p++) {
        const sd_period *stored = &self->periods[p];
        if (!stored->label)
            continue;
        sd_period *copy = &table->periods[table->period_count++];
        copy->label = strdup(stored->label);
        copy->start = strdup(stored->start);
        copy->end = strdup(stored->end);
        if (!copy->label || !copy->start || !copy->end)
            return -1;
    }
    return 0;
}

sd_msg *sd_normalize_finish(sd_normalize *self)
{
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_NORMALIZED);
    if (!msg)
        return NULL;
    sd_table_normalized *table = &msg->as.table_normalized;
    int rc = s_apply_rules(self);
    if (rc == 0)
        rc = s_copy_header(self, table);
    if (rc == 0)
        rc = sd_compare_build(&self->spec, self->key_units, self->rows, self->row_count,
                              self->table_id, &table->data, &table->totals);
    if (rc == 0)
        rc = s_list_missing(self, table);
    if (rc == 0)
        rc = s_list_warnings(self, table);
    if (rc != 0)
        sd_msg_destroy(&msg);
    return msg;
}

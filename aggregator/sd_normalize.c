/*  sd_normalize: the merge state of one table and its normalized message.

    Each raw row first goes through the row rules (sd_rules), which may
    rewrite its key cells or drop it. Each distinct key then gets one
    sd_merged_row with the summed metrics of every period. The row is found
    through an sd_rowset on the hash of its key cells and compared with
    sd_cell_equal, byte for byte, so keys that differ only in case or
    Unicode normalization stay apart. The key cells, their strings and the sums of the merged
    rows come from one arena, so a table costs a few large allocations
    rather than several per row. sd_compare turns the
    merged rows into the comparison columns, after sd_matrix when the spec
    pivots them; this file adds the ids, periods, missing parts and
    warnings around them.
*/
#include "sd_normalize.h"

#include "sd_arena.h"
#include "sd_keymap.h"
#include "sd_log.h"
#include "sd_cell.h"
#include "sd_compare.h"
#include "sd_matrix.h"
#include "sd_rowset.h"
#include "sd_rules.h"

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
    void **blocks;                          //  the arena block of each merged row, in creation order
    size_t row_count;
    size_t row_capacity;
    sd_rowset *row_set;                     //  hash of the key cells -> index into rows
    sd_arena *arena;                        //  key cells, key strings and sums of the rows
    s_part *parts;
    size_t part_count;
    size_t part_capacity;
    sd_keymap *part_map;                    //  part_id -> index into parts
    sd_strings warnings;                    //  part warnings in arrival order, repeats included
    sd_rules *rules;                        //  compiled from spec
    sd_strings rule_warnings;               //  rules of the spec that were left out
    sd_value *key_view;                     //  scratch: the key cells of one row, after the row rules
    int *key_columns;                       //  scratch: column of each key in the part, SD_SITE_COLUMN for "site"
    int *sum_columns;                       //  scratch: column of each sum metric in the part
    int attribute;                          //  top_title's key, left out of the merge key, or -1
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
    self->row_set = sd_rowset_new();
    self->arena = sd_arena_new();
    self->part_map = sd_keymap_new();

    size_t key_count = first->spec.keys.count;
    size_t sum_count = first->spec.sum.count;
    self->key_units = calloc(key_count + 1, sizeof *self->key_units);
    self->key_columns = calloc(key_count + 1, sizeof *self->key_columns);
    self->sum_columns = calloc(sum_count + 1, sizeof *self->sum_columns);
    self->key_view = calloc(key_count + 1, sizeof *self->key_view);
    if (!self->request_id || !self->reporter_id || !self->table_id || !self->row_set
        || !self->arena
        || !self->part_map || !self->key_units || !self->key_columns || !self->sum_columns
        || !self->key_view || sd_table_spec_copy(&self->spec, &first->spec) != 0) {
        sd_normalize_destroy(&self);
        return NULL;
    }
    self->rules = sd_rules_new(&self->spec, self->table_id, &self->rule_warnings);
    if (!self->rules) {
        sd_normalize_destroy(&self);
        return NULL;
    }
    self->attribute = sd_rules_attribute_key(self->rules);
    return self;
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
    free(self->blocks);
    free(self->parts);
    sd_rowset_destroy(&self->row_set);
    sd_keymap_destroy(&self->part_map);
    sd_strings_clear(&self->warnings);
    sd_rules_destroy(&self->rules);
    sd_arena_destroy(&self->arena);
    sd_strings_clear(&self->rule_warnings);
    free(self->key_view);
    sd_table_spec_clear(&self->spec);
    free(self->key_columns);
    free(self->sum_columns);
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

//  Points the key view at the key cells of one raw row (borrowed), then
//  applies the row rules. Returns 1 to merge the row, 0 to drop it, -1
//  when out of memory.
static int s_view_keys(sd_normalize *self, const sd_table_raw *part, size_t row,
                       const sd_value *site)
{
    const sd_table_data *data = &part->data;
    const sd_value *cells = &data->cells[row * data->column_count];
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        int column = self->key_columns[k];
        self->key_view[k] = column == SD_SITE_COLUMN ? *site : cells[column];
    }
    return sd_rules_apply_row(self->rules, self->key_view);
}

//  Returns the hash of the key view, the top_title attribute left out.
static uint64_t s_hash_view(const sd_normalize *self)
{
    uint64_t hash = 0;
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        if ((int)k != self->attribute)
            hash = sd_cell_hash(&self->key_view[k], hash);
    }
    return hash;
}

//  The arena block of one merged row: the row, its index, then its key
//  cells, its sums and the bytes of its key strings. Comparing a key with
//  the row and adding to its sums then read one place in memory.
typedef struct {
    sd_merged_row row;              //  keys and sums point into the block
    size_t index;
    sd_value keys[];
} s_row_block;

//  Returns true when the row of block `item` has the key of the key view.
static bool s_row_equal(const void *context, const void *item)
{
    const sd_normalize *self = context;
    const sd_value *keys = ((const s_row_block *)item)->keys;
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        if ((int)k != self->attribute && !sd_cell_equal(&self->key_view[k], &keys[k]))
            return false;
    }
    return true;
}

//  Returns a new block for the key view, with zeroed sums (integer 0), or
//  NULL when out of memory.
static s_row_block *s_new_block(sd_normalize *self)
{
    size_t key_count = self->spec.keys.count;
    size_t sum_count = SD_COMPARE_PERIOD_COUNT * self->spec.sum.count;
    size_t text = 0;
    for (size_t k = 0; k < key_count; k++) {
        if (self->key_view[k].kind == SD_VALUE_STRING)
            text += self->key_view[k].as.s.len + 1;
    }
    size_t size = sizeof(s_row_block) + key_count * sizeof(sd_value) + sum_count * sizeof(sd_number)
                  + text;
    s_row_block *block = sd_arena_alloc(self->arena, size);
    if (!block)
        return NULL;
    memset(&block->row, 0, sizeof block->row);
    block->row.keys = block->keys;

    sd_number *sums = (sd_number *)(block->keys + key_count);
    memset(sums, 0, sum_count * sizeof *sums);
    block->row.sums = sums;
    char *next = (char *)(sums + sum_count);
    for (size_t k = 0; k < key_count; k++) {
        const sd_value *cell = &self->key_view[k];
        block->keys[k] = *cell;
        if (cell->kind != SD_VALUE_STRING)
            continue;
        if (cell->as.s.len > 0)
            memcpy(next, cell->as.s.ptr, cell->as.s.len);
        next[cell->as.s.len] = '\0';
        block->keys[k].as.s.ptr = next;
        next += cell->as.s.len + 1;
    }
    return block;
}

//  Appends a row for a new key, copying the key view into the arena.
//  Returns its block, or NULL when out of memory.
static s_row_block *s_add_row(sd_normalize *self, uint64_t hash)
{
    if (s_reserve((void **)&self->blocks, &self->row_capacity, self->row_count, sizeof(void *)) != 0)
        return NULL;
    s_row_block *block = s_new_block(self);
    if (!block || sd_rowset_insert(self->row_set, hash, block) != 0)
        return NULL;
    block->index = self->row_count;
    self->blocks[self->row_count++] = block;
    return block;
}

//  Returns a new array of the merged rows (shallow copies pointing into
//  the arena), or NULL when out of memory.
static sd_merged_row *s_collect_rows(const sd_normalize *self)
{
    sd_merged_row *rows = malloc((self->row_count + 1) * sizeof *rows);
    for (size_t r = 0; rows && r < self->row_count; r++)
        rows[r] = ((const s_row_block *)self->blocks[r])->row;
    return rows;
}

//  Rows looked ahead in s_merge_rows: the hash of row r + SD_LOOKAHEAD is
//  computed, and its slots prefetched, while row r is merged. A large
//  table's slots are far apart in memory, so each lookup would otherwise
//  wait for a cache miss.
#define SD_LOOKAHEAD 8

typedef struct {
    int keep;                       //  from s_view_keys
    uint64_t hash;                  //  of the key view, when kept
} s_lookahead;

//  Applies the rules to row r, hashes its key and prefetches the slots
//  merging it will read.
static s_lookahead s_look_ahead(sd_normalize *self, const sd_table_raw *part, size_t r,
                                const sd_value *site, int attribute)
{
    s_lookahead ahead = {s_view_keys(self, part, r, site), 0};
    if (ahead.keep <= 0)
        return ahead;
    ahead.hash = s_hash_view(self);
    sd_rowset_prefetch(self->row_set, ahead.hash);
    if (attribute >= 0)
        sd_rules_prefetch_title(self->rules, ahead.hash, &self->key_view[attribute]);
    return ahead;
}

//  Merges raw row r, whose key view is current, into the row whose key
//  hashes to hash. Returns 0 or -1.
static int s_merge_row(sd_normalize *self, const sd_table_raw *part, size_t r, uint64_t hash,
                       int period, int attribute)
{
    s_row_block *block = sd_rowset_find(self->row_set, hash, s_row_equal, self);
    if (!block)
        block = s_add_row(self, hash);
    if (!block)
        return -1;

    const sd_table_data *data = &part->data;
    const sd_value *cells = &data->cells[r * data->column_count];
    size_t sum_count = self->spec.sum.count;
    sd_merged_row *merged = &block->row;
    merged->present[period] = true;
    for (size_t j = 0; j < sum_count; j++) {
        sd_number *sum = &merged->sums[(size_t)period * sum_count + j];
        *sum = sd_number_add(*sum, sd_number_from_cell(&cells[self->sum_columns[j]]));
    }
    if (attribute < 0)
        return 0;
    size_t metric = sd_rules_attribute_metric(self->rules);
    sd_number value = sd_number_from_cell(&cells[self->sum_columns[metric]]);
    return sd_rules_observe_title(self->rules, block->index, hash, &self->key_view[attribute],
                                  value, &merged->keys[attribute]);
}

//  Adds every row of a checked part that the rules keep to the sums of
//  its period. The rules run twice on each row, once when it is looked
//  ahead and once when it is merged, because the key view has room for
//  one row only.
static int s_merge_rows(sd_normalize *self, const sd_table_raw *part, int period)
{
    size_t row_count = part->data.row_count;
    int attribute = period == SD_COMPARE_CURRENT ? self->attribute : -1;
    sd_value site = {.kind = SD_VALUE_STRING};
    site.as.s.ptr = part->site ? part->site : "";
    site.as.s.len = strlen(site.as.s.ptr);

    s_lookahead ring[SD_LOOKAHEAD];
    for (size_t r = 0; r < row_count && r < SD_LOOKAHEAD; r++)
        ring[r] = s_look_ahead(self, part, r, &site, attribute);
    for (size_t r = 0; r < row_count; r++) {
        s_lookahead current = ring[r % SD_LOOKAHEAD];
        if (r + SD_LOOKAHEAD < row_count)
            ring[r % SD_LOOKAHEAD] = s_look_ahead(self, part, r + SD_LOOKAHEAD, &site, attribute);
        if (current.keep < 0)
            return -1;
        if (current.keep == 0)
            continue;
        if (s_view_keys(self, part, r, &site) < 0
            || s_merge_row(self, part, r, current.hash, period, attribute) != 0)
            return -1;
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

//  Collects the part warnings, the rules left out, one "no rows" line per
//  empty part, and a count of the parts whose sites are unknown. The lines
//  are sorted, without repeats.
static int s_list_warnings(const sd_normalize *self, sd_table_normalized *table)
{
    sd_strings lines = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->warnings.count; i++)
        rc = sd_strings_push(&lines, self->warnings.items[i]);
    for (size_t i = 0; rc == 0 && i < self->rule_warnings.count; i++)
        rc = sd_strings_push(&lines, self->rule_warnings.items[i]);
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

//  Fills the rows and totals of the table from the merged rows, through
//  the share_matrix pivot when the spec has one.
static int s_build_data(sd_normalize *self, sd_merged_row *rows, sd_table_normalized *table)
{
    size_t column_key;
    size_t metric;
    if (!sd_rules_matrix(self->rules, &column_key, &metric))
        return sd_compare_build(&self->spec, self->key_units, rows, self->row_count,
                                self->table_id, &table->data, &table->totals);

    sd_matrix matrix = {0};
    int rc = sd_matrix_build(&self->spec, self->key_units, rows, self->row_count, column_key,
                             metric, &matrix);
    if (rc == 0)
        rc = sd_compare_build(&matrix.spec, matrix.key_units, matrix.rows, matrix.row_count,
                              self->table_id, &table->data, &table->totals);
    sd_matrix_clear(&matrix);
    return rc;
}

sd_msg *sd_normalize_finish(sd_normalize *self)
{
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_NORMALIZED);
    if (!msg)
        return NULL;
    sd_table_normalized *table = &msg->as.table_normalized;
    sd_merged_row *rows = s_collect_rows(self);
    int rc = rows ? sd_rules_resolve_titles(self->rules, rows, self->row_count) : -1;
    if (rc == 0)
        rc = s_copy_header(self, table);
    if (rc == 0)
        rc = s_build_data(self, rows, table);
    free(rows);
    if (rc == 0)
        rc = s_list_missing(self, table);
    if (rc == 0)
        rc = s_list_warnings(self, table);
    if (rc != 0)
        sd_msg_destroy(&msg);
    return msg;
}

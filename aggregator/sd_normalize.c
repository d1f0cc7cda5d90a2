/*  sd_normalize: the merge state of one table and its normalized message.

    A part is received in three steps: sd_normalize_begin reads its header
    and decides what to do with it, sd_normalize_stage_row takes its rows
    one by one, and sd_normalize_commit merges them once the caller knows
    the whole part was valid. Each raw row goes through the row rules
    (sd_rules) once, which may rewrite its key cells or drop it. A row
    that is kept waits in an sd_stage with the hash of its key. The commit
    then gives each distinct key one sd_merged_row with the summed metrics
    of every period. The row is found through an sd_rowset on the hash of
    its key cells and compared with sd_cell_equal, byte for byte, so keys
    that differ only in case or Unicode normalization stay apart. The key
    cells, their strings and the sums of the merged rows come from one
    arena, so a table costs a few large allocations rather than several
    per row. sd_compare turns the merged rows into the comparison columns,
    after sd_matrix when the spec pivots them; this file adds the ids,
    periods, missing parts and warnings around them.
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
#include "sd_stage.h"

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

//  What becomes of a part once it is known to be valid.
typedef enum {
    S_MERGE,                        //  merge its staged rows
    S_REJECT,                       //  list it as missing, with the reason
    S_PERIOD_ONLY,                  //  count it and keep its period's dates: no rows, or an error
    S_COUNT_ONLY,                   //  count it: an error part whose period is unknown
} s_verdict;

//  The part being received, between sd_normalize_begin and
//  sd_normalize_commit: copies of what the commit needs from its header,
//  and the verdict so far. Its rows wait in the stage.
typedef struct {
    bool open;
    s_part record;                  //  becomes the next entry of parts
    int period;                     //  sd_compare_period, -1 when unknown
    s_verdict verdict;
    char reason[256];               //  why, for S_REJECT
    char *start;                    //  the period's dates
    char *end;
    char *site;                     //  the value of the "site" key
    sd_strings warnings;
    char **units;                   //  per key: its unit, when the table has none yet
    size_t received;                //  rows received so far
} s_pending;

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
    s_pending pending;
    sd_stage *stage;                        //  the staged rows of the pending part
    sd_value *key_view;                     //  scratch: the key cells of one row, after the row rules
    bool *copy_keys;                        //  scratch: which of them the rules rewrote
    sd_number *values;                      //  scratch: the sum metrics of one row
    const sd_value *lookup;                 //  the key cells s_row_equal compares
    int *key_columns;                       //  scratch: column of each key in the part, SD_SITE_COLUMN for "site"
    int *sum_columns;                       //  scratch: column of each sum metric in the part
    int attribute;                          //  top_title's key, left out of the merge key, or -1
};

#define SD_SITE_COLUMN (-2)

static void s_pending_clear(sd_normalize *self);

//  Grows *array (of *capacity items of item_size bytes) to hold one more
//  item than count. Returns 0 or -1.
static int s_reserve(void **array, size_t *capacity, size_t count, size_t item_size)
{
    if (count < *capacity)
        return 0;
    size_t new_capacity = *capacity ? *capacity * 2 : 16;
    void *grown = realloc(*array, new_capacity * item_size);
    if (!grown)
        return -1;
    *array = grown;
    *capacity = new_capacity;
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
    self->copy_keys = calloc(key_count + 1, sizeof *self->copy_keys);
    self->values = calloc(sum_count + 1, sizeof *self->values);
    self->pending.units = calloc(key_count + 1, sizeof *self->pending.units);
    self->stage = sd_stage_new(key_count, sum_count);
    if (!self->copy_keys || !self->values || !self->pending.units || !self->stage
        || !self->request_id || !self->reporter_id || !self->table_id || !self->row_set
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
    if (self->pending.units)
        s_pending_clear(self);
    free(self->pending.units);
    sd_stage_destroy(&self->stage);
    free(self->key_view);
    free(self->copy_keys);
    free(self->values);
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
//  Receiving a part

//  Finds the columns of the spec's keys and sums in the part. Returns 0,
//  or -1 with reason filled.
static int s_resolve_columns(sd_normalize *self, const sd_table_data *data, char *reason,
                             size_t size)
{
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
    return 0;
}

//  Copies the unit of each key column that has none yet, for the table to
//  keep if this part, the first with rows, is merged. Returns 0 or -1.
static int s_pending_units(sd_normalize *self, const sd_table_data *data)
{
    s_pending *pending = &self->pending;
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        if (self->key_units[k])
            continue;
        int column = self->key_columns[k];
        pending->units[k] = s_strdup_or_empty(column >= 0 ? data->columns[column].unit : "");
        if (!pending->units[k])
            return -1;
    }
    return 0;
}

//  Frees what the pending part owns and closes it; the stage keeps its
//  room.
static void s_pending_clear(sd_normalize *self)
{
    s_pending *pending = &self->pending;
    s_part_clear(&pending->record);
    free(pending->start);
    free(pending->end);
    free(pending->site);
    sd_strings_clear(&pending->warnings);
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        free(pending->units[k]);
        pending->units[k] = NULL;
    }
    char **units = pending->units;
    memset(pending, 0, sizeof *pending);
    pending->units = units;
    if (self->stage)
        sd_stage_clear(self->stage);
}

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

//  Copies from the part what sd_normalize_commit needs once the part is
//  gone: its record, dates, site and warnings. Returns 0 or -1.
static int s_pending_copy(s_pending *pending, const sd_table_raw *part, size_t row_count)
{
    pending->record.part_id = strdup(part->part_id ? part->part_id : "");
    pending->record.row_count = row_count;
    if (!pending->record.part_id || s_place_part(&pending->record, part) != 0)
        return -1;
    pending->start = s_strdup_or_empty(part->period.start);
    pending->end = s_strdup_or_empty(part->period.end);
    pending->site = s_strdup_or_empty(part->site);
    if (!pending->start || !pending->end || !pending->site)
        return -1;
    for (size_t i = 0; i < part->warnings.count; i++) {
        if (sd_strings_push(&pending->warnings, part->warnings.items[i]) != 0)
            return -1;
    }
    return 0;
}

//  Decides what becomes of the part: an error part and an empty one only
//  count (with their period), a part that contradicts the spec is
//  rejected, and the rows of the others are staged. Returns 0 or -1.
static int s_pending_verdict(sd_normalize *self, const sd_table_raw *part, size_t row_count)
{
    s_pending *pending = &self->pending;
    if (part->error) {
        pending->record.error = strdup(part->error);
        pending->verdict = pending->period >= 0 ? S_PERIOD_ONLY : S_COUNT_ONLY;
        return pending->record.error ? 0 : -1;
    }
    if (pending->period < 0) {
        snprintf(pending->reason, sizeof pending->reason,
                 "period label \"%s\" is not current, previous or yearly",
                 part->period.label ? part->period.label : "");
        pending->verdict = S_REJECT;
    }
    else if (row_count == 0)
        pending->verdict = S_PERIOD_ONLY;
    else if (s_resolve_columns(self, &part->data, pending->reason, sizeof pending->reason) != 0)
        pending->verdict = S_REJECT;
    else {
        pending->verdict = S_MERGE;
        return s_pending_units(self, &part->data);
    }
    return 0;
}

sd_normalize_result sd_normalize_begin(sd_normalize *self, const sd_table_raw *part,
                                       size_t row_count)
{
    s_pending_clear(self);
    const char *part_id = part->part_id ? part->part_id : "";
    if (sd_keymap_get(self->part_map, part_id, strlen(part_id)) != SD_KEYMAP_ABSENT)
        return SD_NORMALIZE_DUPLICATE;
    s_pending *pending = &self->pending;
    pending->open = true;
    pending->period = sd_compare_period_index(part->period.label);
    if (s_pending_copy(pending, part, row_count) != 0
        || s_pending_verdict(self, part, row_count) != 0) {
        s_pending_clear(self);
        return SD_NORMALIZE_FAILED;
    }
    return SD_NORMALIZE_ADDED;
}

//  ---------------------------------------------------------------------
//  Staging rows

//  Rejects the pending part because of a metric cell of raw row `row`.
static void s_reject_metric(sd_normalize *self, size_t metric, size_t row)
{
    s_pending *pending = &self->pending;
    snprintf(pending->reason, sizeof pending->reason,
             "metric \"%s\" in row %zu is not a finite number", self->spec.sum.items[metric], row);
    pending->verdict = S_REJECT;
    sd_stage_clear(self->stage);
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

int sd_normalize_stage_row(sd_normalize *self, const sd_value *cells)
{
    s_pending *pending = &self->pending;
    size_t row = pending->received++;
    if (!pending->open || pending->verdict != S_MERGE)
        return 0;
    for (size_t j = 0; j < self->spec.sum.count; j++) {
        const sd_value *cell = &cells[self->sum_columns[j]];
        if (!sd_cell_is_number(cell)) {
            s_reject_metric(self, j, row);
            return 0;
        }
        self->values[j] = sd_number_from_cell(cell);
    }

    sd_value site = {.kind = SD_VALUE_STRING};
    site.as.s.ptr = pending->site;
    site.as.s.len = strlen(pending->site);
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        int column = self->key_columns[k];
        self->key_view[k] = column == SD_SITE_COLUMN ? site : cells[column];
    }
    int keep = sd_rules_apply_row(self->rules, self->key_view);
    if (keep <= 0)
        return keep;
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        self->copy_keys[k] = sd_rules_rewrote(self->rules, &self->key_view[k]);
    }
    return sd_stage_push(self->stage, s_hash_view(self), self->key_view, self->copy_keys,
                         self->values);
}

//  ---------------------------------------------------------------------
//  Merging staged rows

//  The arena block of one merged row: its index and periods, then its key
//  cells, its sums and the bytes of its key strings. Comparing a key with
//  the row and adding to its sums then read one place in memory.
//  s_collect_rows makes the sd_merged_row of each block.
typedef struct {
    size_t index;
    bool present[SD_COMPARE_PERIOD_COUNT];  //  a part of that period had this key
    sd_value keys[];
} s_row_block;

//  Returns the sums of a block, after its key cells.
static sd_number *s_block_sums(const sd_normalize *self, const s_row_block *block)
{
    return (sd_number *)(block->keys + self->spec.keys.count);
}

//  Returns true when the row of block `item` has the key being looked up.
static bool s_row_equal(const void *context, const void *item)
{
    const sd_normalize *self = context;
    const sd_value *keys = ((const s_row_block *)item)->keys;
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        if ((int)k != self->attribute && !sd_cell_equal(&self->lookup[k], &keys[k]))
            return false;
    }
    return true;
}

//  Returns a new block with copies of keys and zeroed sums (integer 0), or
//  NULL when out of memory.
static s_row_block *s_new_block(sd_normalize *self, const sd_value *keys)
{
    size_t key_count = self->spec.keys.count;
    size_t sum_count = SD_COMPARE_PERIOD_COUNT * self->spec.sum.count;
    size_t text = 0;
    for (size_t k = 0; k < key_count; k++) {
        if (keys[k].kind == SD_VALUE_STRING)
            text += keys[k].as.s.len + 1;
    }
    size_t size = sizeof(s_row_block) + key_count * sizeof(sd_value) + sum_count * sizeof(sd_number)
                  + text;
    s_row_block *block = sd_arena_alloc(self->arena, size);
    if (!block)
        return NULL;
    memset(block->present, 0, sizeof block->present);
    sd_number *sums = s_block_sums(self, block);
    memset(sums, 0, sum_count * sizeof *sums);
    char *next = (char *)(sums + sum_count);
    for (size_t k = 0; k < key_count; k++) {
        const sd_value *cell = &keys[k];
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

//  Appends a row for a new key. Returns its block, or NULL when out of
//  memory.
static s_row_block *s_add_row(sd_normalize *self, uint64_t hash, const sd_value *keys)
{
    if (s_reserve((void **)&self->blocks, &self->row_capacity, self->row_count, sizeof(void *))
        != 0)
        return NULL;
    s_row_block *block = s_new_block(self, keys);
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
    for (size_t r = 0; rows && r < self->row_count; r++) {
        s_row_block *block = self->blocks[r];
        rows[r].keys = block->keys;
        rows[r].sums = s_block_sums(self, block);
        memcpy(rows[r].present, block->present, sizeof rows[r].present);
    }
    return rows;
}

//  Merges staged row r into the sums of its period. Returns 0 or -1.
static int s_merge_row(sd_normalize *self, size_t r, int period, int attribute)
{
    uint64_t hash = sd_stage_hash(self->stage, r);
    const sd_value *keys = sd_stage_keys(self->stage, r);
    const sd_number *values = sd_stage_values(self->stage, r);
    self->lookup = keys;
    s_row_block *block = sd_rowset_find(self->row_set, hash, s_row_equal, self);
    if (!block)
        block = s_add_row(self, hash, keys);
    if (!block)
        return -1;

    size_t sum_count = self->spec.sum.count;
    sd_number *sums = s_block_sums(self, block) + (size_t)period * sum_count;
    block->present[period] = true;
    for (size_t j = 0; j < sum_count; j++)
        sums[j] = sd_number_add(sums[j], values[j]);
    if (attribute < 0)
        return 0;
    size_t metric = sd_rules_attribute_metric(self->rules);
    return sd_rules_observe_title(self->rules, block->index, hash, &keys[attribute],
                                  values[metric], &block->keys[attribute]);
}

//  Rows prefetched ahead in s_merge_staged: the slot that merging row
//  r + SD_LOOKAHEAD reads first is loaded while row r is merged. A large
//  table's slots are far apart in memory, so each lookup would otherwise
//  wait for a cache miss.
#define SD_LOOKAHEAD 8

//  Adds every staged row to the sums of its period. Returns 0 or -1.
static int s_merge_staged(sd_normalize *self, int period)
{
    int attribute = period == SD_COMPARE_CURRENT ? self->attribute : -1;
    size_t count = sd_stage_count(self->stage);
    for (size_t r = 0; r < count && r < SD_LOOKAHEAD; r++)
        sd_rowset_prefetch(self->row_set, sd_stage_hash(self->stage, r));
    for (size_t r = 0; r < count; r++) {
        if (r + SD_LOOKAHEAD < count)
            sd_rowset_prefetch(self->row_set, sd_stage_hash(self->stage, r + SD_LOOKAHEAD));
        if (s_merge_row(self, r, period, attribute) != 0)
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Committing a part

//  Keeps the dates of the first part of each period.
static int s_remember_period(sd_normalize *self, int period)
{
    sd_period *stored = &self->periods[period];
    if (stored->label)
        return 0;
    stored->label = strdup(sd_compare_labels[period]);
    stored->start = strdup(self->pending.start);
    stored->end = strdup(self->pending.end);
    return stored->label && stored->start && stored->end ? 0 : -1;
}

//  Keeps the key units the pending part brought, as the first with rows.
static void s_keep_units(sd_normalize *self)
{
    for (size_t k = 0; k < self->spec.keys.count; k++) {
        if (!self->key_units[k]) {
            self->key_units[k] = self->pending.units[k];
            self->pending.units[k] = NULL;
        }
    }
}

static int s_keep_warnings(sd_normalize *self)
{
    const sd_strings *warnings = &self->pending.warnings;
    for (size_t i = 0; i < warnings->count; i++) {
        if (sd_strings_push(&self->warnings, warnings->items[i]) != 0)
            return -1;
    }
    return 0;
}

//  Applies the verdict: merges the staged rows, or records why the part
//  is rejected. Returns 0 or -1.
static int s_apply_verdict(sd_normalize *self)
{
    s_pending *pending = &self->pending;
    if (pending->verdict == S_REJECT) {
        pending->record.error = strdup(pending->reason);
        return pending->record.error ? 0 : -1;
    }
    if (pending->verdict == S_COUNT_ONLY)
        return 0;
    if (s_remember_period(self, pending->period) != 0)
        return -1;
    if (pending->verdict == S_PERIOD_ONLY)
        return 0;
    s_keep_units(self);
    return s_merge_staged(self, pending->period);
}

sd_normalize_result sd_normalize_commit(sd_normalize *self, char *reason, size_t reason_size)
{
    s_pending *pending = &self->pending;
    if (!pending->open)
        return SD_NORMALIZE_FAILED;
    const char *part_id = pending->record.part_id;
    if (s_reserve((void **)&self->parts, &self->part_capacity, self->part_count, sizeof(s_part))
            != 0
        || s_apply_verdict(self) != 0 || s_keep_warnings(self) != 0
        || sd_keymap_put(self->part_map, part_id, strlen(part_id), self->part_count) != 0) {
        s_pending_clear(self);
        return SD_NORMALIZE_FAILED;
    }
    self->parts[self->part_count++] = pending->record;
    memset(&pending->record, 0, sizeof pending->record);
    bool rejected = pending->verdict == S_REJECT;
    if (rejected && reason && reason_size > 0)
        snprintf(reason, reason_size, "%s", pending->reason);
    s_pending_clear(self);
    return rejected ? SD_NORMALIZE_REJECTED : SD_NORMALIZE_ADDED;
}

void sd_normalize_abort(sd_normalize *self)
{
    s_pending_clear(self);
}

sd_normalize_result sd_normalize_add(sd_normalize *self, const sd_table_raw *part,
                                     char *reason, size_t reason_size)
{
    const sd_table_data *data = &part->data;
    sd_normalize_result result = sd_normalize_begin(self, part, data->row_count);
    if (result != SD_NORMALIZE_ADDED)
        return result;
    for (size_t r = 0; r < data->row_count; r++) {
        if (sd_normalize_stage_row(self, &data->cells[r * data->column_count]) != 0) {
            sd_normalize_abort(self);
            return SD_NORMALIZE_FAILED;
        }
    }
    return sd_normalize_commit(self, reason, reason_size);
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

/*  sd_matrix: pivoting merged rows for share_matrix.

    Two passes over the merged rows: the first collects the distinct
    COLUMN values with their current totals and ranks them, the second
    adds each merged row into its pivoted row (found through an sd_keymap
    on the serialized remaining keys). A pivoted row's sums per period are
    spec.sum first, then METRIC once per ranked value.
*/
#include "sd_matrix.h"

#include "sd_keymap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const sd_value *cell;           //  borrowed from the first merged row with the value
    sd_number total;                //  METRIC over the current period of all rows
} s_source;

typedef struct {
    const sd_table_spec *spec;
    const sd_merged_row *rows;
    size_t row_count;
    size_t column_key;
    size_t metric;
    s_source *sources;              //  distinct COLUMN values, first seen first
    size_t source_count;
    size_t *rank;                   //  per source: its place among the share columns
    size_t *source_of_row;          //  per merged row: its source
    uint8_t *key;                   //  scratch for one serialized key
    size_t key_capacity;
    sd_keymap *map;
} s_pivot;

static int s_reserve_key(s_pivot *pivot, size_t size)
{
    if (size <= pivot->key_capacity)
        return 0;
    uint8_t *grown = realloc(pivot->key, size);
    if (!grown)
        return -1;
    pivot->key = grown;
    pivot->key_capacity = size;
    return 0;
}

//  Serializes the keys of a merged row: only COLUMN when `column_only`,
//  else every key but COLUMN. Returns the size or -1.
static ssize_t s_serialize(s_pivot *pivot, const sd_merged_row *row, bool column_only)
{
    size_t size = 0;
    for (size_t k = 0; k < pivot->spec->keys.count; k++) {
        if ((k == pivot->column_key) == column_only)
            size += sd_cell_key_size(&row->keys[k]);
    }
    if (s_reserve_key(pivot, size + 1) != 0)
        return -1;
    size_t used = 0;
    for (size_t k = 0; k < pivot->spec->keys.count; k++) {
        if ((k == pivot->column_key) == column_only)
            used += sd_cell_write_key(&row->keys[k], pivot->key + used);
    }
    return (ssize_t)used;
}

//  ---------------------------------------------------------------------
//  Pass 1: the COLUMN values

static int s_compare_ranked(const void *left, const void *right, void *context)
{
    const s_source *sources = context;
    const s_source *a = &sources[*(const size_t *)left];
    const s_source *b = &sources[*(const size_t *)right];
    int order = sd_number_compare(b->total, a->total);
    return order != 0 ? order : sd_cell_compare(a->cell, b->cell);
}

//  Ranks the sources: rank[source] is its share column's place.
static int s_rank_sources(s_pivot *pivot)
{
    size_t *order = calloc(pivot->source_count + 1, sizeof *order);
    pivot->rank = calloc(pivot->source_count + 1, sizeof *pivot->rank);
    if (!order || !pivot->rank) {
        free(order);
        return -1;
    }
    for (size_t s = 0; s < pivot->source_count; s++)
        order[s] = s;
    qsort_r(order, pivot->source_count, sizeof *order, s_compare_ranked, pivot->sources);
    for (size_t place = 0; place < pivot->source_count; place++)
        pivot->rank[order[place]] = place;
    free(order);
    return 0;
}

static int s_collect_sources(s_pivot *pivot)
{
    pivot->sources = calloc(pivot->row_count + 1, sizeof *pivot->sources);
    pivot->source_of_row = calloc(pivot->row_count + 1, sizeof *pivot->source_of_row);
    pivot->map = sd_keymap_new();
    if (!pivot->sources || !pivot->source_of_row || !pivot->map)
        return -1;
    for (size_t r = 0; r < pivot->row_count; r++) {
        const sd_merged_row *row = &pivot->rows[r];
        ssize_t size = s_serialize(pivot, row, true);
        if (size < 0)
            return -1;
        size_t s = sd_keymap_get(pivot->map, pivot->key, (size_t)size);
        if (s == SD_KEYMAP_ABSENT) {
            s = pivot->source_count;
            if (sd_keymap_put(pivot->map, pivot->key, (size_t)size, s) != 0)
                return -1;
            pivot->sources[pivot->source_count++] =
                (s_source){&row->keys[pivot->column_key], sd_number_int(0)};
        }
        pivot->source_of_row[r] = s;
        if (row->present[SD_COMPARE_CURRENT])
            pivot->sources[s].total = sd_number_add(pivot->sources[s].total,
                                                    row->sums[pivot->metric]);
    }
    sd_keymap_destroy(&pivot->map);
    return s_rank_sources(pivot);
}

//  ---------------------------------------------------------------------
//  The pivoted spec

//  Writes the name of a COLUMN value that is not a string into text: a
//  number, "true"/"false", or "(not set)".
static void s_value_name(const sd_value *cell, char *text, size_t size)
{
    switch (cell->kind) {
    case SD_VALUE_INT:
        snprintf(text, size, "%" PRId64, cell->as.i);
        break;
    case SD_VALUE_FLOAT:
        snprintf(text, size, "%.17g", cell->as.f);
        break;
    case SD_VALUE_BOOL:
        snprintf(text, size, "%s", cell->as.b ? "true" : "false");
        break;
    default:
        snprintf(text, size, "(not set)");
        break;
    }
}

//  Fills the share metric of one COLUMN value, whose METRIC sum is under
//  the internal name sum_name.
static int s_fill_share(sd_derived *share, const sd_value *cell, const char *sum_name,
                        const char *metric)
{
    char number[64];
    const char *text = number;
    if (cell->kind == SD_VALUE_STRING)
        text = cell->as.s.ptr;
    else
        s_value_name(cell, number, sizeof number);
    size_t size = strlen(text) + sizeof "share_";
    share->name = malloc(size);
    share->op = strdup("ratio");
    share->a = strdup(sum_name);
    share->b = strdup(metric);
    share->unit = strdup("percent");
    share->scale = 100.0;
    if (!share->name || !share->op || !share->a || !share->b || !share->unit)
        return -1;
    snprintf(share->name, size, "share_%s", text);
    return 0;
}

//  Builds the pivoted spec: keys without COLUMN, no rules, one internal
//  sum and one share metric per source in rank order.
static int s_build_spec(const s_pivot *pivot, sd_table_spec *out)
{
    const sd_table_spec *spec = pivot->spec;
    char **keys = calloc(spec->keys.count + 1, sizeof *keys);
    if (!keys)
        return -1;
    size_t key_count = 0;
    for (size_t k = 0; k < spec->keys.count; k++) {
        if (k != pivot->column_key)
            keys[key_count++] = spec->keys.items[k];
    }
    sd_table_spec base = *spec;
    base.keys = (sd_strings){keys, key_count};
    base.rules = NULL;
    base.rule_count = 0;
    int rc = sd_table_spec_copy(out, &base);
    free(keys);
    if (rc != 0)
        return -1;

    size_t derived_count = spec->derived_count + pivot->source_count;
    sd_derived *derived = realloc(out->derived, (derived_count + 1) * sizeof *derived);
    if (!derived)
        return -1;
    out->derived = derived;
    memset(derived + spec->derived_count, 0, pivot->source_count * sizeof *derived);
    out->derived_count = derived_count;

    //  The internal sum names start with a space, which no API metric has.
    const size_t *rank = pivot->rank;
    for (size_t place = 0; place < pivot->source_count; place++) {
        char sum_name[64];
        snprintf(sum_name, sizeof sum_name, " share_matrix %zu", place);
        if (sd_strings_push(&out->sum, sum_name) != 0)
            return -1;
    }
    for (size_t s = 0; s < pivot->source_count; s++) {
        const char *sum_name = out->sum.items[spec->sum.count + rank[s]];
        if (s_fill_share(&derived[spec->derived_count + rank[s]], pivot->sources[s].cell,
                         sum_name, spec->sum.items[pivot->metric]) != 0)
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Pass 2: the pivoted rows

static size_t s_add_group(s_pivot *pivot, const sd_merged_row *row, sd_matrix *matrix,
                          size_t width, size_t size)
{
    sd_merged_row *added = &matrix->rows[matrix->row_count];
    size_t key_count = matrix->spec.keys.count;
    added->keys = calloc(key_count + 1, sizeof *added->keys);
    added->sums = calloc(SD_COMPARE_PERIOD_COUNT * width + 1, sizeof *added->sums);
    if (!added->keys || !added->sums)
        return SD_KEYMAP_ABSENT;
    for (size_t p = 0; p < SD_COMPARE_PERIOD_COUNT * width; p++)
        added->sums[p] = sd_number_int(0);
    size_t used = 0;
    for (size_t k = 0; k < pivot->spec->keys.count; k++) {
        if (k != pivot->column_key && sd_cell_copy(&added->keys[used++], &row->keys[k]) != 0)
            return SD_KEYMAP_ABSENT;
    }
    if (sd_keymap_put(pivot->map, pivot->key, size, matrix->row_count) != 0)
        return SD_KEYMAP_ABSENT;
    return matrix->row_count++;
}

static int s_build_rows(s_pivot *pivot, sd_matrix *matrix)
{
    size_t sum_count = pivot->spec->sum.count;
    size_t width = sum_count + pivot->source_count;
    pivot->map = sd_keymap_new();
    matrix->rows = calloc(pivot->row_count + 1, sizeof *matrix->rows);
    if (!pivot->map || !matrix->rows)
        return -1;
    for (size_t r = 0; r < pivot->row_count; r++) {
        const sd_merged_row *row = &pivot->rows[r];
        ssize_t size = s_serialize(pivot, row, false);
        if (size < 0)
            return -1;
        size_t g = sd_keymap_get(pivot->map, pivot->key, (size_t)size);
        if (g == SD_KEYMAP_ABSENT)
            g = s_add_group(pivot, row, matrix, width, (size_t)size);
        if (g == SD_KEYMAP_ABSENT)
            return -1;

        sd_merged_row *group = &matrix->rows[g];
        size_t share = sum_count + pivot->rank[pivot->source_of_row[r]];
        for (int p = 0; p < SD_COMPARE_PERIOD_COUNT; p++) {
            group->present[p] |= row->present[p];
            const sd_number *sums = &row->sums[(size_t)p * sum_count];
            sd_number *into = &group->sums[(size_t)p * width];
            for (size_t j = 0; j < sum_count; j++)
                into[j] = sd_number_add(into[j], sums[j]);
            into[share] = sd_number_add(into[share], sums[pivot->metric]);
        }
    }
    return 0;
}

static int s_build_key_units(const s_pivot *pivot, char *const *key_units, sd_matrix *matrix)
{
    matrix->key_units = calloc(pivot->spec->keys.count + 1, sizeof *matrix->key_units);
    if (!matrix->key_units)
        return -1;
    size_t used = 0;
    for (size_t k = 0; k < pivot->spec->keys.count; k++) {
        if (k != pivot->column_key)
            matrix->key_units[used++] = key_units[k];
    }
    return 0;
}

int sd_matrix_build(const sd_table_spec *spec, char *const *key_units, const sd_merged_row *rows,
                    size_t row_count, size_t column_key, size_t metric, sd_matrix *matrix)
{
    s_pivot pivot = {.spec = spec, .rows = rows, .row_count = row_count,
                     .column_key = column_key, .metric = metric};
    int rc = s_collect_sources(&pivot);
    if (rc == 0)
        rc = s_build_spec(&pivot, &matrix->spec);
    if (rc == 0)
        rc = s_build_key_units(&pivot, key_units, matrix);
    if (rc == 0)
        rc = s_build_rows(&pivot, matrix);
    if (rc != 0)
        sd_matrix_clear(matrix);
    free(pivot.sources);
    free(pivot.rank);
    free(pivot.source_of_row);
    free(pivot.key);
    sd_keymap_destroy(&pivot.map);
    return rc;
}

void sd_matrix_clear(sd_matrix *matrix)
{
    size_t key_count = matrix->spec.keys.count;
    for (size_t r = 0; matrix->rows && r <= matrix->row_count; r++) {
        for (size_t k = 0; matrix->rows[r].keys && k < key_count; k++)
            sd_value_clear(&matrix->rows[r].keys[k]);
        free(matrix->rows[r].keys);
        free(matrix->rows[r].sums);
    }
    free(matrix->rows);
    free(matrix->key_units);
    sd_table_spec_clear(&matrix->spec);
    memset(matrix, 0, sizeof *matrix);
}

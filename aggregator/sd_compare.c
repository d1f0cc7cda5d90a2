/*  sd_compare: derived metrics, comparisons, sorting and limits.

    The work happens in an s_work: the rows present in the current period
    ("members"), and for each member and period a vector of numbers, the
    sums first and the derived metrics after them. One extra member at
    the end contains the totals, computed from the summed sums exactly like a
    row, so ratios in the totals are weighted by construction.
*/
#include "sd_compare.h"

#include "sd_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sd_compare_labels[SD_COMPARE_PERIOD_COUNT] = {"current", "previous", "yearly"};

typedef enum {
    SD_OP_UNKNOWN,
    SD_OP_SCALE,
    SD_OP_RATIO,
    SD_OP_DIFFERENCE,
    SD_OP_SHARE,
} s_op;

typedef struct {
    bool is_key;                    //  true: index is a spec key; false: a derived metric
    size_t index;
    bool descending;
} s_sort_column;

typedef struct {
    const sd_table_spec *spec;
    const sd_merged_row *rows;
    size_t row_count;
    const char *table_id;
    size_t *members;                //  indexes into rows of the current rows
    size_t member_count;            //  the totals are member member_count
    size_t *order;                  //  members in output order
    size_t width;                   //  sum count + derived count
    sd_number *values;              //  (member_count + 1) x periods x width
    bool totals_present[SD_COMPARE_PERIOD_COUNT];
    s_op *ops;                      //  per derived metric
    int *operands;                  //  per derived metric: a, then b; -1 when unknown
    int comparisons[SD_COMPARE_PERIOD_COUNT - 1];   //  compared periods, in column order
    size_t comparison_count;
    s_sort_column *sort;
    size_t sort_count;
} s_work;

static char s_percent_unit[] = "percent";
static char s_no_unit[] = "";

int sd_compare_period_index(const char *label)
{
    for (int p = 0; label && p < SD_COMPARE_PERIOD_COUNT; p++) {
        if (strcmp(label, sd_compare_labels[p]) == 0)
            return p;
    }
    return -1;
}

static sd_number *s_value(const s_work *work, size_t member, int period, size_t column)
{
    return &work->values[(member * SD_COMPARE_PERIOD_COUNT + (size_t)period) * work->width
                         + column];
}

static bool s_present(const s_work *work, size_t member, int period)
{
    if (member == work->member_count)
        return work->totals_present[period];
    return work->rows[work->members[member]].present[period];
}

//  ---------------------------------------------------------------------
//  Reading the spec

static s_op s_op_parse(const char *name)
{
    static const struct {
        const char *name;
        s_op op;
    } ops[] = {{"scale", SD_OP_SCALE},
               {"ratio", SD_OP_RATIO},
               {"difference", SD_OP_DIFFERENCE},
               {"share", SD_OP_SHARE}};
    for (size_t i = 0; name && i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(name, ops[i].name) == 0)
            return ops[i].op;
    }
    return SD_OP_UNKNOWN;
}

//  Returns the value column of an operand of derived metric d: a sum
//  metric, else a derived metric before d. Returns -1 when there is none.
static int s_find_operand(const sd_table_spec *spec, size_t d, const char *name)
{
    for (size_t j = 0; name && j < spec->sum.count; j++) {
        if (strcmp(name, spec->sum.items[j]) == 0)
            return (int)j;
    }
    for (size_t e = 0; name && e < d; e++) {
        if (strcmp(name, spec->derived[e].name) == 0)
            return (int)(spec->sum.count + e);
    }
    return -1;
}

//  Resolves each derived metric's operation and operands. A bad entry is
//  logged and yields 0, so one typo in a spec does not lose the table.
static int s_resolve_derived(s_work *work)
{
    const sd_table_spec *spec = work->spec;
    work->ops = calloc(spec->derived_count + 1, sizeof *work->ops);
    work->operands = calloc(2 * spec->derived_count + 1, sizeof *work->operands);
    if (!work->ops || !work->operands)
        return -1;

    for (size_t d = 0; d < spec->derived_count; d++) {
        const sd_derived *derived = &spec->derived[d];
        work->ops[d] = s_op_parse(derived->op);
        work->operands[2 * d] = s_find_operand(spec, d, derived->a);
        work->operands[2 * d + 1] = s_find_operand(spec, d, derived->b);
        bool needs_b = work->ops[d] == SD_OP_RATIO || work->ops[d] == SD_OP_DIFFERENCE;
        if (work->ops[d] == SD_OP_UNKNOWN || work->operands[2 * d] < 0
            || (needs_b && work->operands[2 * d + 1] < 0))
            sd_warning("derived metric has an unknown operation or operand, its values are 0: "
                       "name=%s op=%s a=%s b=%s table=%s",
                       derived->name, derived->op, derived->a, derived->b, work->table_id);
    }
    return 0;
}

static void s_resolve_comparisons(s_work *work)
{
    static const int order[] = {SD_COMPARE_PREVIOUS, SD_COMPARE_YEARLY};
    const sd_strings *compare = &work->spec->compare;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        for (size_t j = 0; j < compare->count; j++) {
            if (strcmp(compare->items[j], sd_compare_labels[order[i]]) == 0) {
                work->comparisons[work->comparison_count++] = order[i];
                break;
            }
        }
    }
    for (size_t j = 0; j < compare->count; j++) {
        int period = sd_compare_period_index(compare->items[j]);
        if (period <= SD_COMPARE_CURRENT)
            sd_debug("ignored comparison period: compare=%s table=%s", compare->items[j],
                     work->table_id);
    }
}

//  Resolves each sort column to a key or a derived metric; unknown names
//  are logged and skipped.
static int s_resolve_sort(s_work *work)
{
    const sd_table_spec *spec = work->spec;
    work->sort = calloc(spec->sort_count + 1, sizeof *work->sort);
    if (!work->sort)
        return -1;
    for (size_t i = 0; i < spec->sort_count; i++) {
        const char *name = spec->sort[i].column;
        s_sort_column column = {false, 0, spec->sort[i].descending};
        bool found = false;
        for (size_t k = 0; !found && k < spec->keys.count; k++) {
            if (strcmp(name, spec->keys.items[k]) == 0) {
                column.is_key = true;
                column.index = k;
                found = true;
            }
        }
        for (size_t d = 0; !found && d < spec->derived_count; d++) {
            if (strcmp(name, spec->derived[d].name) == 0) {
                column.index = d;
                found = true;
            }
        }
        if (found)
            work->sort[work->sort_count++] = column;
        else
            sd_warning("sort column is neither a key nor a derived metric, ignored: column=%s "
                       "table=%s",
                       name, work->table_id);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Computing values

//  Picks the current rows and copies their sums into the work, adding
//  them up into the totals member as it goes.
static int s_collect_members(s_work *work)
{
    size_t sum_count = work->spec->sum.count;
    work->width = sum_count + work->spec->derived_count;
    size_t current_count = 0;
    for (size_t r = 0; r < work->row_count; r++)
        current_count += work->rows[r].present[SD_COMPARE_CURRENT] ? 1 : 0;

    work->members = calloc(current_count + 1, sizeof *work->members);
    work->values = calloc((current_count + 1) * SD_COMPARE_PERIOD_COUNT * work->width + 1,
                          sizeof *work->values);
    if (!work->members || !work->values)
        return -1;
    for (size_t r = 0; r < work->row_count; r++) {
        if (work->rows[r].present[SD_COMPARE_CURRENT])
            work->members[work->member_count++] = r;
    }

    for (size_t m = 0; m < work->member_count; m++) {
        const sd_merged_row *row = &work->rows[work->members[m]];
        for (int p = 0; p < SD_COMPARE_PERIOD_COUNT; p++) {
            work->totals_present[p] |= row->present[p];
            for (size_t j = 0; j < sum_count; j++) {
                sd_number sum = row->sums[(size_t)p * sum_count + j];
                sd_number *total = s_value(work, work->member_count, p, j);
                *s_value(work, m, p, j) = sum;
                *total = sd_number_add(*total, sum);
            }
        }
    }
    return 0;
}

static sd_number s_operand(const s_work *work, size_t member, int period, int column)
{
    return column < 0 ? sd_number_int(0) : *s_value(work, member, period, (size_t)column);
}

static sd_number s_derive(const sd_derived *derived, s_op op, sd_number a, sd_number b,
                          double column_total)
{
    switch (op) {
    case SD_OP_SCALE:
        if (!a.is_float && derived->scale == 1.0)
            return a;
        return sd_number_float(sd_number_as_double(a) * derived->scale);
    case SD_OP_RATIO:
        if (sd_number_is_zero(b))
            return sd_number_float(0.0);
        return sd_number_float(sd_number_as_double(a) / sd_number_as_double(b) * derived->scale);
    case SD_OP_DIFFERENCE:
        return sd_number_subtract(a, b);
    case SD_OP_SHARE:
        if (column_total == 0.0)
            return sd_number_float(0.0);
        return sd_number_float(sd_number_as_double(a) / column_total * 100.0);
    default:
        return sd_number_float(0.0);
    }
}

//  Computes derived metric d for every member and period. A "share"
//  divides by the column total of its operand over the rows (not the
//  totals member), so the shares of the rows add up to 100.
static void s_compute_derived(s_work *work, size_t d)
{
    const sd_derived *derived = &work->spec->derived[d];
    int a = work->operands[2 * d];
    int b = work->operands[2 * d + 1];
    size_t column = work->spec->sum.count + d;
    for (int p = 0; p < SD_COMPARE_PERIOD_COUNT; p++) {
        double column_total = 0.0;
        for (size_t m = 0; work->ops[d] == SD_OP_SHARE && m < work->member_count; m++)
            column_total += sd_number_as_double(s_operand(work, m, p, a));
        for (size_t m = 0; m <= work->member_count; m++)
            *s_value(work, m, p, column) = s_derive(derived, work->ops[d], s_operand(work, m, p, a),
                                                    s_operand(work, m, p, b), column_total);
    }
}

//  ---------------------------------------------------------------------
//  Sorting

static const sd_value *s_key(const s_work *work, size_t member, size_t k)
{
    return &work->rows[work->members[member]].keys[k];
}

static int s_compare_members(const void *left, const void *right, void *context)
{
    const s_work *work = context;
    size_t a = *(const size_t *)left;
    size_t b = *(const size_t *)right;
    for (size_t i = 0; i < work->sort_count; i++) {
        const s_sort_column *column = &work->sort[i];
        size_t value_column = work->spec->sum.count + column->index;
        int order = column->is_key
                        ? sd_cell_compare(s_key(work, a, column->index), s_key(work, b, column->index))
                        : sd_number_compare(*s_value(work, a, SD_COMPARE_CURRENT, value_column),
                                            *s_value(work, b, SD_COMPARE_CURRENT, value_column));
        if (order != 0)
            return column->descending ? -order : order;
    }

    //  Keys are distinct, so this makes the order total and the output
    //  independent of the order the parts arrived in.
    for (size_t k = 0; k < work->spec->keys.count; k++) {
        int order = sd_cell_compare(s_key(work, a, k), s_key(work, b, k));
        if (order != 0)
            return order;
    }
    return 0;
}

//  Moves heap[i] down until it is not before either child: the heap keeps
//  the member that comes last in output order at its root.
static void s_sift_down(size_t *heap, size_t count, size_t i, s_work *work)
{
    for (;;) {
        size_t largest = i;
        size_t left = 2 * i + 1;
        size_t right = left + 1;
        if (left < count && s_compare_members(&heap[left], &heap[largest], work) > 0)
            largest = left;
        if (right < count && s_compare_members(&heap[right], &heap[largest], work) > 0)
            largest = right;
        if (largest == i)
            return;
        size_t swapped = heap[i];
        heap[i] = heap[largest];
        heap[largest] = swapped;
        i = largest;
    }
}

//  Puts in order[0..selected) the `selected` members that come first in
//  output order, unsorted, using a heap of that size: O(n log selected).
static void s_select_first(s_work *work, size_t selected)
{
    size_t *heap = work->order;
    for (size_t m = 0; m < selected; m++)
        heap[m] = m;
    for (size_t i = selected / 2; i-- > 0;)
        s_sift_down(heap, selected, i, work);
    for (size_t m = selected; m < work->member_count; m++) {
        if (s_compare_members(&m, &heap[0], work) < 0) {
            heap[0] = m;
            s_sift_down(heap, selected, 0, work);
        }
    }
}

//  Fills work->order with the members in output order, up to the limit:
//  with a limit, the first members are selected before sorting, so a top
//  20 of a million rows sorts only 20.
static int s_sort_members(s_work *work)
{
    work->order = calloc(work->member_count + 1, sizeof *work->order);
    if (!work->order)
        return -1;
    size_t selected = work->member_count;
    if (work->spec->limit > 0 && (uint64_t)work->spec->limit < selected) {
        selected = (size_t)work->spec->limit;
        s_select_first(work, selected);
    }
    else {
        for (size_t m = 0; m < selected; m++)
            work->order[m] = m;
    }
    qsort_r(work->order, selected, sizeof *work->order, s_compare_members, work);
    return 0;
}

//  ---------------------------------------------------------------------
//  Writing the table

static size_t s_column_count(const s_work *work)
{
    return work->spec->keys.count + work->spec->derived_count * (1 + 3 * work->comparison_count)
           + work->comparison_count;
}

//  Returns a new string "<prefix>_<middle><name>", or NULL when out of
//  memory.
static char *s_column_name(const char *prefix, const char *middle, const char *name)
{
    size_t size = strlen(prefix) + 1 + strlen(middle) + strlen(name) + 1;
    char *text = malloc(size);
    if (text)
        snprintf(text, size, "%s_%s%s", prefix, middle, name);
    return text;
}

//  Fills names and units of the output columns. Names are allocated, and
//  units borrowed from the spec. Returns 0, or -1 when a name could not
//  be allocated.
static int s_name_columns(const s_work *work, char *const *key_units, sd_column *columns)
{
    const sd_table_spec *spec = work->spec;
    size_t c = 0;
    for (size_t k = 0; k < spec->keys.count; k++) {
        char *unit = key_units && key_units[k] ? key_units[k] : s_no_unit;
        columns[c++] = (sd_column){strdup(spec->keys.items[k]), SD_COLUMN_DIMENSION, unit};
    }
    for (size_t d = 0; d < spec->derived_count; d++) {
        const sd_derived *derived = &spec->derived[d];
        columns[c++] = (sd_column){strdup(derived->name), SD_COLUMN_METRIC, derived->unit};
        for (size_t i = 0; i < work->comparison_count; i++) {
            const char *label = sd_compare_labels[work->comparisons[i]];
            columns[c++] = (sd_column){s_column_name(label, "figure_", derived->name),
                                       SD_COLUMN_METRIC, derived->unit};
            columns[c++] = (sd_column){s_column_name(label, "change_", derived->name),
                                       SD_COLUMN_METRIC, derived->unit};
            columns[c++] = (sd_column){s_column_name(label, "percentage_", derived->name),
                                       SD_COLUMN_METRIC, s_percent_unit};
        }
    }
    for (size_t i = 0; i < work->comparison_count; i++) {
        const char *label = sd_compare_labels[work->comparisons[i]];
        columns[c++] = (sd_column){s_column_name(label, "", "new"), SD_COLUMN_METRIC, s_no_unit};
    }

    for (size_t i = 0; i < c; i++) {
        if (!columns[i].name)
            return -1;
    }
    return 0;
}

//  Writes the cells of one member (the totals when member is member_count)
//  starting at cells. Returns 0, or -1 when a key string cannot be copied.
static int s_fill_cells(const s_work *work, size_t member, sd_value *cells)
{
    const sd_table_spec *spec = work->spec;
    bool is_totals = member == work->member_count;
    size_t c = 0;
    for (size_t k = 0; k < spec->keys.count; k++, c++) {
        if (!is_totals && sd_cell_copy(&cells[c], s_key(work, member, k)) != 0)
            return -1;
    }

    for (size_t d = 0; d < spec->derived_count; d++) {
        size_t column = spec->sum.count + d;
        sd_number current = *s_value(work, member, SD_COMPARE_CURRENT, column);
        sd_number_to_cell(current, &cells[c++]);
        for (size_t i = 0; i < work->comparison_count; i++) {
            int period = work->comparisons[i];
            sd_number zero = current.is_float ? sd_number_float(0.0) : sd_number_int(0);
            sd_number figure = s_present(work, member, period)
                                   ? *s_value(work, member, period, column)
                                   : zero;
            sd_number change = sd_number_subtract(current, figure);
            double percentage = sd_number_is_zero(figure)
                                    ? 0.0
                                    : sd_number_as_double(change) / sd_number_as_double(figure)
                                          * 100.0;
            sd_number_to_cell(figure, &cells[c++]);
            sd_number_to_cell(change, &cells[c++]);
            sd_number_to_cell(sd_number_float(percentage), &cells[c++]);
        }
    }

    for (size_t i = 0; i < work->comparison_count; i++, c++) {
        cells[c].kind = SD_VALUE_BOOL;
        cells[c].as.b = !s_present(work, member, work->comparisons[i]);
    }
    return 0;
}

//  Sets the columns, then appends the sorted members up to the limit.
static int s_write_rows(const s_work *work, char *const *key_units, sd_table_data *table)
{
    size_t column_count = s_column_count(work);
    sd_column *columns = calloc(column_count + 1, sizeof *columns);
    if (!columns)
        return -1;
    int rc = s_name_columns(work, key_units, columns);
    size_t written_rows = work->member_count;
    if (work->spec->limit > 0 && (uint64_t)work->spec->limit < written_rows)
        written_rows = (size_t)work->spec->limit;
    if (rc == 0)
        rc = sd_table_data_init(table, columns, column_count, written_rows);
    for (size_t i = 0; rc == 0 && i < written_rows; i++) {
        sd_value *cells = sd_table_data_append_row(table);
        rc = cells ? s_fill_cells(work, work->order[i], cells) : -1;
    }
    for (size_t i = 0; i < column_count; i++)
        free(columns[i].name);
    free(columns);
    return rc;
}

static sd_value *s_write_totals(const s_work *work)
{
    size_t column_count = s_column_count(work);
    sd_value *totals = calloc(column_count + 1, sizeof *totals);
    if (totals && s_fill_cells(work, work->member_count, totals) != 0)
        sd_compare_totals_destroy(&totals, column_count);
    return totals;
}

static void s_work_clear(s_work *work)
{
    free(work->members);
    free(work->order);
    free(work->values);
    free(work->ops);
    free(work->operands);
    free(work->sort);
}

int sd_compare_build(const sd_table_spec *spec, char *const *key_units,
                     const sd_merged_row *rows, size_t row_count, const char *table_id,
                     sd_table_data *table, sd_value **totals)
{
    s_work work = {.spec = spec, .rows = rows, .row_count = row_count,
                   .table_id = table_id ? table_id : ""};
    s_resolve_comparisons(&work);
    int rc = s_resolve_derived(&work);
    if (rc == 0)
        rc = s_resolve_sort(&work);
    if (rc == 0)
        rc = s_collect_members(&work);
    for (size_t d = 0; rc == 0 && d < spec->derived_count; d++)
        s_compute_derived(&work, d);
    if (rc == 0)
        rc = s_sort_members(&work);
    if (rc == 0)
        rc = s_write_rows(&work, key_units, table);
    if (rc == 0) {
        *totals = s_write_totals(&work);
        rc = *totals ? 0 : -1;
    }
    if (rc != 0)
        sd_table_data_clear(table);
    s_work_clear(&work);
    return rc;
}

void sd_compare_totals_destroy(sd_value **totals_p, size_t count)
{
    if (!totals_p || !*totals_p)
        return;
    for (size_t i = 0; i < count; i++)
        sd_value_clear(&(*totals_p)[i]);
    free(*totals_p);
    *totals_p = NULL;
}

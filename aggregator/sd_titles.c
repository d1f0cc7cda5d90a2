/*  sd_titles: per merged row, the metric sum of each title it was seen
    with. Most rows are seen with one title only, the one their own key
    cell holds, so that candidate is a plain sum in an array indexed by row
    and costs no hash. Other candidates and their title strings live in an
    arena, found through an sd_rowset on the hash of (row, title) and
    listed in an array of pointers for sd_titles_apply.  */
#include "sd_titles.h"

#include "sd_arena.h"
#include "sd_rowset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t row;
    sd_value title;                 //  string owned by the arena or borrowed from the row
    sd_number sum;
} s_candidate;

struct _sd_titles {
    s_candidate **candidates;       //  in arrival order, for sd_titles_apply
    size_t count;
    size_t capacity;
    sd_rowset *set;
    sd_arena *arena;
    size_t lookup_row;              //  the candidate being looked up
    const sd_value *lookup_title;
    sd_number *own_sums;            //  per row: the sum for the row's own title
    bool *own_seen;                 //  per row: the row was seen with its own title
    size_t own_capacity;
};

sd_titles *sd_titles_new(void)
{
    sd_titles *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->set = sd_rowset_new();
    self->arena = sd_arena_new();
    if (!self->set || !self->arena)
        sd_titles_destroy(&self);
    return self;
}

void sd_titles_destroy(sd_titles **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_titles *self = *self_p;
    free(self->candidates);
    free(self->own_sums);
    free(self->own_seen);
    sd_rowset_destroy(&self->set);
    sd_arena_destroy(&self->arena);
    free(self);
    *self_p = NULL;
}

static bool s_equal(const void *context, const void *item)
{
    const sd_titles *self = context;
    const s_candidate *candidate = item;
    return candidate->row == self->lookup_row
           && sd_cell_equal(&candidate->title, self->lookup_title);
}

//  Appends a candidate for (row, title). Returns it, or NULL when out of
//  memory.
static s_candidate *s_append(sd_titles *self, size_t row, const sd_value *title)
{
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        s_candidate **grown = realloc(self->candidates, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        self->candidates = grown;
        self->capacity = capacity;
    }
    s_candidate *added = sd_arena_alloc(self->arena, sizeof *added);
    if (!added)
        return NULL;
    added->row = row;
    added->sum = sd_number_int(0);
    added->title = *title;
    if (title->kind == SD_VALUE_STRING) {
        added->title.as.s.ptr = sd_arena_strndup(self->arena, title->as.s.ptr, title->as.s.len);
        if (!added->title.as.s.ptr)
            return NULL;
    }
    self->candidates[self->count++] = added;
    return added;
}

//  Adds value to the sum of row's own title. Returns 0 or -1.
static int s_add_own(sd_titles *self, size_t row, sd_number value)
{
    if (row >= self->own_capacity) {
        size_t capacity = self->own_capacity ? self->own_capacity * 2 : 1024;
        while (capacity <= row)
            capacity *= 2;
        sd_number *sums = realloc(self->own_sums, capacity * sizeof *sums);
        if (sums)
            self->own_sums = sums;
        bool *seen = realloc(self->own_seen, capacity * sizeof *seen);
        if (seen)
            self->own_seen = seen;
        if (!sums || !seen)
            return -1;
        memset(seen + self->own_capacity, 0, (capacity - self->own_capacity) * sizeof *seen);
        self->own_capacity = capacity;
    }
    if (!self->own_seen[row])
        self->own_sums[row] = sd_number_int(0);
    self->own_seen[row] = true;
    self->own_sums[row] = sd_number_add(self->own_sums[row], value);
    return 0;
}

int sd_titles_add(sd_titles *self, size_t row, uint64_t row_hash, const sd_value *title,
                  sd_number value, const sd_value *stored)
{
    if (stored && sd_cell_equal(stored, title))
        return s_add_own(self, row, value);
    uint64_t hash = sd_cell_hash(title, row_hash);
    self->lookup_row = row;
    self->lookup_title = title;
    s_candidate *candidate = sd_rowset_find(self->set, hash, s_equal, self);
    if (!candidate) {
        candidate = s_append(self, row, title);
        if (!candidate)
            return -1;
        if (sd_rowset_insert(self->set, hash, candidate) != 0) {
            self->count--;
            return -1;
        }
    }
    candidate->sum = sd_number_add(candidate->sum, value);
    return 0;
}

//  Returns true when candidate a beats b: a larger sum, or an equal sum
//  and a lower title.
static bool s_beats(const s_candidate *a, const s_candidate *b)
{
    int order = sd_number_compare(a->sum, b->sum);
    if (order != 0)
        return order > 0;
    return sd_cell_compare(&a->title, &b->title) < 0;
}

int sd_titles_apply(const sd_titles *self, sd_merged_row *rows, size_t row_count, size_t key)
{
    size_t *best = malloc((row_count + 1) * sizeof *best);
    if (!best)
        return -1;
    for (size_t r = 0; r < row_count; r++)
        best[r] = SIZE_MAX;
    for (size_t i = 0; i < self->count; i++) {
        const s_candidate *candidate = self->candidates[i];
        if (candidate->row >= row_count)
            continue;
        size_t *chosen = &best[candidate->row];
        if (*chosen == SIZE_MAX || s_beats(candidate, self->candidates[*chosen]))
            *chosen = i;
    }
    for (size_t r = 0; r < row_count; r++) {
        if (best[r] == SIZE_MAX)
            continue;
        const s_candidate *other = self->candidates[best[r]];
        s_candidate own = {r, rows[r].keys[key], sd_number_int(0)};
        if (r < self->own_capacity && self->own_seen[r])
            own.sum = self->own_sums[r];
        if (r >= self->own_capacity || !self->own_seen[r] || s_beats(other, &own))
            rows[r].keys[key] = other->title;
    }
    free(best);
    return 0;
}

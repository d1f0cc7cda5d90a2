/*  sd_stage: three arrays that grow by doubling (hashes, key cells,
    values) and an arena for the copied strings.  */
#include "sd_stage.h"

#include "sd_arena.h"

#include <stdlib.h>
#include <string.h>

struct _sd_stage {
    size_t key_count;
    size_t value_count;
    uint64_t *hashes;
    sd_value *keys;                 //  key_count per row
    sd_number *values;              //  value_count per row
    size_t count;
    size_t capacity;
    sd_arena *text;                 //  copied key strings, NULL until the first copy
};

sd_stage *sd_stage_new(size_t key_count, size_t value_count)
{
    sd_stage *self = calloc(1, sizeof *self);
    if (self) {
        self->key_count = key_count;
        self->value_count = value_count;
    }
    return self;
}

void sd_stage_destroy(sd_stage **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_stage *self = *self_p;
    free(self->hashes);
    free(self->keys);
    free(self->values);
    sd_arena_destroy(&self->text);
    free(self);
    *self_p = NULL;
}

void sd_stage_clear(sd_stage *self)
{
    self->count = 0;
    sd_arena_destroy(&self->text);
}

//  Makes room for one more row. Returns 0 or -1.
static int s_grow(sd_stage *self)
{
    size_t capacity = self->capacity ? self->capacity * 2 : 1024;
    size_t key_cells = self->key_count ? self->key_count : 1;
    size_t value_cells = self->value_count ? self->value_count : 1;
    if (capacity > SIZE_MAX / sizeof(sd_value) / key_cells)
        return -1;
    uint64_t *hashes = realloc(self->hashes, capacity * sizeof *hashes);
    if (hashes)
        self->hashes = hashes;
    sd_value *keys = realloc(self->keys, capacity * key_cells * sizeof *keys);
    if (keys)
        self->keys = keys;
    sd_number *values = realloc(self->values, capacity * value_cells * sizeof *values);
    if (values)
        self->values = values;
    if (!hashes || !keys || !values)
        return -1;
    self->capacity = capacity;
    return 0;
}

//  Points cell at a copy of its string in the arena. Returns 0 or -1.
static int s_copy_text(sd_stage *self, sd_value *cell)
{
    if (cell->kind != SD_VALUE_STRING)
        return 0;
    if (!self->text)
        self->text = sd_arena_new();
    char *copy = self->text ? sd_arena_strndup(self->text, cell->as.s.ptr, cell->as.s.len) : NULL;
    if (!copy)
        return -1;
    cell->as.s.ptr = copy;
    return 0;
}

int sd_stage_push(sd_stage *self, uint64_t hash, const sd_value *keys, const bool *copy,
                  const sd_number *values)
{
    if (self->count == self->capacity && s_grow(self) != 0)
        return -1;
    sd_value *row_keys = self->keys + self->count * self->key_count;
    memcpy(row_keys, keys, self->key_count * sizeof *row_keys);
    for (size_t k = 0; k < self->key_count; k++) {
        if (copy[k] && s_copy_text(self, &row_keys[k]) != 0)
            return -1;
    }
    memcpy(self->values + self->count * self->value_count, values,
           self->value_count * sizeof *values);
    self->hashes[self->count++] = hash;
    return 0;
}

size_t sd_stage_count(const sd_stage *self)
{
    return self->count;
}

uint64_t sd_stage_hash(const sd_stage *self, size_t row)
{
    return self->hashes[row];
}

const sd_value *sd_stage_keys(const sd_stage *self, size_t row)
{
    return self->keys + row * self->key_count;
}

const sd_number *sd_stage_values(const sd_stage *self, size_t row)
{
    return self->values + row * self->value_count;
}

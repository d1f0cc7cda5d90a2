/*  sim_strings: a pool of interned strings (open addressing over ids).  */
#include "sim_strings.h"

#include <stdlib.h>
#include <string.h>

struct sim_strings {
    char *arena;            //  every string, each followed by a NUL
    size_t arena_used;
    size_t arena_size;
    size_t *offsets;        //  start of each id's string in arena
    size_t *lengths;        //  length of each id's string
    size_t count;           //  number of ids
    size_t capacity;        //  allocated entries in offsets and lengths
    uint32_t *slots;        //  hash table of id + 1; 0 marks an empty slot
    size_t slot_count;      //  a power of two, kept above twice count
};

static uint64_t s_hash(const char *text, size_t length)
{
    uint64_t hash = 1469598103934665603ULL;
    for (size_t i = 0; i < length; i++) {
        hash ^= (unsigned char)text[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

sim_strings *sim_strings_new(void)
{
    sim_strings *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->slot_count = 1024;
    self->slots = calloc(self->slot_count, sizeof *self->slots);
    if (!self->slots)
        sim_strings_destroy(&self);
    return self;
}

void sim_strings_destroy(sim_strings **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_strings *self = *self_p;
    free(self->arena);
    free(self->offsets);
    free(self->lengths);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

//  Returns the slot that contains text or the empty slot where it belongs.
static size_t s_probe(const sim_strings *self, const char *text, size_t length)
{
    size_t mask = self->slot_count - 1;
    size_t slot = (size_t)s_hash(text, length) & mask;
    while (self->slots[slot]) {
        uint32_t id = self->slots[slot] - 1;
        if (self->lengths[id] == length
            && memcmp(self->arena + self->offsets[id], text, length) == 0)
            return slot;
        slot = (slot + 1) & mask;
    }
    return slot;
}

static int s_grow_table(sim_strings *self)
{
    size_t new_count = self->slot_count * 2;
    uint32_t *old_slots = self->slots;
    size_t old_count = self->slot_count;
    self->slots = calloc(new_count, sizeof *self->slots);
    if (!self->slots) {
        self->slots = old_slots;
        return -1;
    }
    self->slot_count = new_count;
    for (size_t i = 0; i < old_count; i++) {
        if (!old_slots[i])
            continue;
        uint32_t id = old_slots[i] - 1;
        self->slots[s_probe(self, self->arena + self->offsets[id], self->lengths[id])] =
            old_slots[i];
    }
    free(old_slots);
    return 0;
}

//  Makes room for one more id of length bytes.
static int s_reserve(sim_strings *self, size_t length)
{
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 256;
        size_t *offsets = realloc(self->offsets, capacity * sizeof *offsets);
        if (!offsets)
            return -1;
        self->offsets = offsets;
        size_t *lengths = realloc(self->lengths, capacity * sizeof *lengths);
        if (!lengths)
            return -1;
        self->lengths = lengths;
        self->capacity = capacity;
    }
    if (self->arena_used + length + 1 > self->arena_size) {
        size_t size = self->arena_size ? self->arena_size : 65536;
        while (size < self->arena_used + length + 1)
            size *= 2;
        char *arena = realloc(self->arena, size);
        if (!arena)
            return -1;
        self->arena = arena;
        self->arena_size = size;
    }
    if ((self->count + 1) * 2 > self->slot_count)
        return s_grow_table(self);
    return 0;
}

int64_t sim_strings_intern(sim_strings *self, const char *text, size_t length)
{
    size_t slot = s_probe(self, text, length);
    if (self->slots[slot])
        return self->slots[slot] - 1;
    if (self->count >= UINT32_MAX - 1 || s_reserve(self, length) != 0)
        return -1;

    //  The table may have grown: probe again for the empty slot.
    slot = s_probe(self, text, length);
    uint32_t id = (uint32_t)self->count++;
    self->offsets[id] = self->arena_used;
    self->lengths[id] = length;
    memcpy(self->arena + self->arena_used, text, length);
    self->arena[self->arena_used + length] = '\0';
    self->arena_used += length + 1;
    self->slots[slot] = id + 1;
    return id;
}

int64_t sim_strings_find(const sim_strings *self, const char *text)
{
    size_t slot = s_probe(self, text, strlen(text));
    return self->slots[slot] ? (int64_t)self->slots[slot] - 1 : -1;
}

const char *sim_strings_get(const sim_strings *self, uint32_t id)
{
    return id < self->count ? self->arena + self->offsets[id] : "";
}

size_t sim_strings_length(const sim_strings *self, uint32_t id)
{
    return id < self->count ? self->lengths[id] : 0;
}

size_t sim_strings_count(const sim_strings *self)
{
    return self->count;
}

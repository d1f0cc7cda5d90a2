/*  sd_keymap: open-addressing hash map from byte strings to indexes.  */
#include "sd_keymap.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SD_KEYMAP_INITIAL_CAPACITY 16

typedef struct {
    uint64_t hash;
    void *key;                      //  owned copy, NULL when the slot is empty
    size_t size;
    size_t value;
} s_slot;

struct _sd_keymap {
    s_slot *slots;
    size_t capacity;                //  a power of two
    size_t count;
};

uint64_t sd_keymap_hash(const void *key, size_t size, uint64_t seed)
{
    const unsigned char *bytes = key;
    uint64_t hash = seed ^ (size * 0x9e3779b97f4a7c15ull);
    while (size >= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        hash = (hash ^ word) * 0xff51afd7ed558ccdull;
        hash ^= hash >> 29;
        bytes += 8;
        size -= 8;
    }
    uint64_t tail = 0;
    if (size > 0)
        memcpy(&tail, bytes, size);
    hash = (hash ^ tail) * 0xc4ceb9fe1a85ec53ull;
    hash ^= hash >> 32;
    hash *= 0xd6e8feb86659fd93ull;
    return hash ^ (hash >> 32);
}

static uint64_t s_hash(const void *key, size_t size)
{
    return sd_keymap_hash(key, size, 0);
}

//  Returns the slot holding the key, or the empty slot where it belongs.
static s_slot *s_probe(s_slot *slots, size_t capacity, uint64_t hash, const void *key,
                       size_t size)
{
    size_t mask = capacity - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        s_slot *slot = &slots[i];
        if (!slot->key)
            return slot;
        if (slot->hash == hash && slot->size == size
            && (size == 0 || memcmp(slot->key, key, size) == 0))
            return slot;
    }
}

sd_keymap *sd_keymap_new(void)
{
    sd_keymap *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = SD_KEYMAP_INITIAL_CAPACITY;
    self->slots = calloc(self->capacity, sizeof *self->slots);
    if (!self->slots) {
        free(self);
        return NULL;
    }
    return self;
}

void sd_keymap_destroy(sd_keymap **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_keymap *self = *self_p;
    for (size_t i = 0; i < self->capacity; i++)
        free(self->slots[i].key);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

size_t sd_keymap_get(const sd_keymap *self, const void *key, size_t size)
{
    s_slot *slot = s_probe(self->slots, self->capacity, s_hash(key, size), key, size);
    return slot->key ? slot->value : SD_KEYMAP_ABSENT;
}

//  Doubles the table, moving every entry to its slot in the new one.
static int s_grow(sd_keymap *self)
{
    size_t capacity = self->capacity * 2;
    s_slot *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->capacity; i++) {
        s_slot *old = &self->slots[i];
        if (old->key)
            *s_probe(slots, capacity, old->hash, old->key, old->size) = *old;
    }
    free(self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

int sd_keymap_put(sd_keymap *self, const void *key, size_t size, size_t value)
{
    uint64_t hash = s_hash(key, size);
    s_slot *slot = s_probe(self->slots, self->capacity, hash, key, size);
    if (slot->key) {
        slot->value = value;
        return 0;
    }

    //  Keep the table at most half full so probe sequences stay short.
    if ((self->count + 1) * 2 > self->capacity) {
        if (s_grow(self) != 0)
            return -1;
        slot = s_probe(self->slots, self->capacity, hash, key, size);
    }
    void *copy = malloc(size > 0 ? size : 1);
    if (!copy)
        return -1;
    if (size > 0)
        memcpy(copy, key, size);
    *slot = (s_slot){hash, copy, size, value};
    self->count++;
    return 0;
}

size_t sd_keymap_size(const sd_keymap *self)
{
    return self->count;
}

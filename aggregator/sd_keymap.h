/*  sd_keymap: a hash map from byte strings to indexes.

    Open addressing with linear probing, sd_keymap_hash and a table at
    most half full, so lookups and inserts take constant time on average.
    Keys are copied; values are size_t, typically indexes into the caller's
    own array. Entries are never removed one by one.
*/
#ifndef SD_KEYMAP_H
#define SD_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#define SD_KEYMAP_ABSENT ((size_t)-1)

typedef struct _sd_keymap sd_keymap;

//  Returns a 64-bit hash of the size bytes at key, mixed with seed. It reads
//  8 bytes at a time and is meant for hash tables, not for security: a
//  peer that chooses keys can make them collide.
uint64_t sd_keymap_hash(const void *key, size_t size, uint64_t seed);

//  Returns an empty map, or NULL when out of memory.
sd_keymap *sd_keymap_new(void);

void sd_keymap_destroy(sd_keymap **self_p);

//  Returns the value stored under the size bytes at key, or SD_KEYMAP_ABSENT.
size_t sd_keymap_get(const sd_keymap *self, const void *key, size_t size);

//  Stores value under a copy of key, replacing the value of an equal key.
//  Returns 0, or -1 when out of memory (the map is then unchanged).
int sd_keymap_put(sd_keymap *self, const void *key, size_t size, size_t value);

//  Returns the number of keys stored.
size_t sd_keymap_size(const sd_keymap *self);

#endif

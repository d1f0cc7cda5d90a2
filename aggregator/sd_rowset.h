/*  sd_rowset: a hash index over items the caller stores itself.

    Each entry is a hash and a pointer to the caller's item (such as a
    merged row); the set keeps no copy of the key. A lookup calls back the
    caller to compare its key with a candidate item, so keys are stored
    once, and the comparison reads the item directly with no index to
    follow. Open addressing with linear probing, at most half full.
    Entries are never removed.
*/
#ifndef SD_ROWSET_H
#define SD_ROWSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _sd_rowset sd_rowset;

//  Returns true when the key the caller is looking up equals the key of
//  item.
typedef bool(sd_rowset_equal_fn)(const void *context, const void *item);

//  Returns an empty set, or NULL when out of memory.
sd_rowset *sd_rowset_new(void);

void sd_rowset_destroy(sd_rowset **self_p);

//  Returns the item with this hash for which equal returns true, or NULL.
void *sd_rowset_find(const sd_rowset *self, uint64_t hash, sd_rowset_equal_fn *equal,
                     const void *context);

//  Asks the CPU to load the first slot of hash into the cache, so that a
//  later sd_rowset_find on a large set does not wait for memory.
void sd_rowset_prefetch(const sd_rowset *self, uint64_t hash);

//  Adds item (not NULL, borrowed) under hash; the caller has checked that
//  no equal item is in the set. Returns 0, or -1 when out of memory (the
//  set is unchanged).
int sd_rowset_insert(sd_rowset *self, uint64_t hash, void *item);

#endif

/*  sd_arena: a bump allocator for many small blocks freed all at once.

    The merge state of a large table holds a few small blocks per distinct
    row (key strings, key cells, sums). Taking them from large chunks
    saves the per-block header and alignment of malloc and the cost of
    freeing them one by one. Blocks from sd_arena_alloc are aligned to 8
    bytes, which is enough for pointers, int64_t and double but not for
    long double. Strings are not aligned. Every block lives until
    sd_arena_destroy, because there is no per-block free.
*/
#ifndef SD_ARENA_H
#define SD_ARENA_H

#include <stddef.h>

typedef struct _sd_arena sd_arena;

//  Returns an empty arena, or NULL when out of memory.
sd_arena *sd_arena_new(void);

//  Frees every block of the arena, then the arena, and sets *self_p to
//  NULL. Safe on NULL.
void sd_arena_destroy(sd_arena **self_p);

//  Returns a block of size bytes (not zeroed), or NULL when out of memory.
void *sd_arena_alloc(sd_arena *self, size_t size);

//  Returns a zeroed block of count x size bytes, or NULL when out of
//  memory or when the product overflows.
void *sd_arena_calloc(sd_arena *self, size_t count, size_t size);

//  Returns a NUL-terminated copy of the len bytes at text (which may
//  contain NUL bytes), or NULL when out of memory.
char *sd_arena_strndup(sd_arena *self, const char *text, size_t len);

//  Returns the bytes the arena has taken from malloc so far.
size_t sd_arena_reserved(const sd_arena *self);

#endif

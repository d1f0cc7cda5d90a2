/*  sd_arena: chunks filled front to back. The first chunk has 64 KiB and
    each next one doubles, up to 2 MiB, so a small table stays small. A
    block larger than a quarter of the largest chunk, or larger than the
    chunk that would come next, gets a chunk of its own, so a long string
    does not waste the rest of the current chunk.
    Chunks of 2 MiB are aligned to 2 MiB and marked for transparent huge
    pages, so filling one costs one page fault rather than 512 where the
    kernel allows it.  */
#include "sd_arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SD_ARENA_FIRST_CHUNK_BYTES (64u * 1024)
#define SD_ARENA_CHUNK_BYTES (2u * 1024 * 1024)
#define SD_ARENA_ALIGN 8

typedef struct _s_chunk {
    struct _s_chunk *next;
    size_t size;                    //  bytes usable after the header
    size_t used;
    alignas(max_align_t) unsigned char data[];
} s_chunk;

struct _sd_arena {
    s_chunk *chunks;                //  the current chunk first
    size_t reserved;
};

sd_arena *sd_arena_new(void)
{
    return calloc(1, sizeof(sd_arena));
}

void sd_arena_destroy(sd_arena **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_chunk *chunk = (*self_p)->chunks;
    while (chunk) {
        s_chunk *next = chunk->next;
        free(chunk);
        chunk = next;
    }
    free(*self_p);
    *self_p = NULL;
}

//  Adds a chunk with room for at least size bytes. A chunk of its own for a
//  large block goes behind the current one, which stays in use.
static s_chunk *s_add_chunk(sd_arena *self, size_t size)
{
    size_t bytes = SD_ARENA_FIRST_CHUNK_BYTES;
    while (bytes < SD_ARENA_CHUNK_BYTES && bytes <= self->reserved)
        bytes *= 2;
    //  A block that does not fit a shared chunk of this size gets its own,
    //  even when it is below the large-block threshold.
    bool own = size > SD_ARENA_CHUNK_BYTES / 4 || size > bytes - sizeof(s_chunk);
    size_t capacity = own ? size : bytes - sizeof(s_chunk);
    s_chunk *chunk = NULL;
    if (own || bytes < SD_ARENA_CHUNK_BYTES)
        chunk = malloc(sizeof *chunk + capacity);
    else if (posix_memalign((void **)&chunk, SD_ARENA_CHUNK_BYTES, SD_ARENA_CHUNK_BYTES) == 0)
        madvise(chunk, SD_ARENA_CHUNK_BYTES, MADV_HUGEPAGE);
    if (!chunk)
        return NULL;
    chunk->size = capacity;
    chunk->used = 0;
    self->reserved += sizeof *chunk + capacity;
    if (own && self->chunks) {
        chunk->next = self->chunks->next;
        self->chunks->next = chunk;
    }
    else {
        chunk->next = self->chunks;
        self->chunks = chunk;
    }
    return chunk;
}

//  Returns size bytes at the next multiple of align (a power of two) in
//  the current chunk, adding a chunk when it is full.
static void *s_bump(sd_arena *self, size_t size, size_t align)
{
    s_chunk *chunk = self->chunks;
    size_t start = chunk ? (chunk->used + align - 1) & ~(align - 1) : 0;
    if (!chunk || start > chunk->size || chunk->size - start < size) {
        chunk = s_add_chunk(self, size);
        if (!chunk)
            return NULL;
        start = chunk->used;
    }
    chunk->used = start + size;
    return chunk->data + start;
}

void *sd_arena_alloc(sd_arena *self, size_t size)
{
    return s_bump(self, size, SD_ARENA_ALIGN);
}

void *sd_arena_calloc(sd_arena *self, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *block = sd_arena_alloc(self, count * size);
    if (block)
        memset(block, 0, count * size);
    return block;
}

char *sd_arena_strndup(sd_arena *self, const char *text, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *copy = s_bump(self, len + 1, 1);
    if (!copy)
        return NULL;
    if (len > 0)
        memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

size_t sd_arena_reserved(const sd_arena *self)
{
    return self->reserved;
}

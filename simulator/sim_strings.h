/*  sim_strings: a pool of interned strings.

    Each distinct string is stored once and named by a dense id (0, 1, 2,
    ...), so dataset rows hold 4-byte ids instead of text and equal strings
    compare by id. Strings are never removed. The pool is not thread-safe:
    fill it while loading, then only read it.
*/
#ifndef SIM_STRINGS_H
#define SIM_STRINGS_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_strings sim_strings;

//  Creates an empty pool. Returns NULL when out of memory.
sim_strings *sim_strings_new(void);

void sim_strings_destroy(sim_strings **self_p);

//  Returns the id of text (length bytes, need not be NUL-terminated),
//  adding a copy when it is new, or -1 when out of memory.
int64_t sim_strings_intern(sim_strings *self, const char *text, size_t length);

//  Returns the id of text, or -1 when the pool does not contain it.
int64_t sim_strings_find(const sim_strings *self, const char *text);

//  Returns the NUL-terminated string of an id; the pool owns it.
const char *sim_strings_get(const sim_strings *self, uint32_t id);

size_t sim_strings_length(const sim_strings *self, uint32_t id);

//  Returns how many distinct strings the pool contains (ids are below it).
size_t sim_strings_count(const sim_strings *self);

#endif

/*  sd_rowset: open addressing over (hash, item) slots; a NULL item marks
    an empty slot.  */
#include "sd_rowset.h"

#include <stdlib.h>
#include <sys/mman.h>

#define SD_ROWSET_INITIAL_CAPACITY 64
//  Slot tables from this size on are backed by 2 MiB pages where the
//  kernel allows it (transparent huge pages in "madvise" mode). Lookups in
//  a large table hit random slots, so with 4 KiB pages nearly each one
//  would also miss the TLB.
#define SD_ROWSET_HUGE_PAGE (2u * 1024 * 1024)

typedef struct {
    uint64_t hash;
    void *item;                     //  NULL when the slot is empty
} s_slot;

struct _sd_rowset {
    s_slot *slots;
    size_t capacity;                //  a power of two
    size_t count;
};

//  Returns a zeroed table of capacity slots, or NULL. A large table is
//  mapped directly, so its pages come zeroed from the kernel and are
//  returned to it by s_free_slots.
static s_slot *s_new_slots(size_t capacity)
{
    size_t size = capacity * sizeof(s_slot);
    if (size < SD_ROWSET_HUGE_PAGE)
        return calloc(capacity, sizeof(s_slot));
    void *slots = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (slots == MAP_FAILED)
        return NULL;
    madvise(slots, size, MADV_HUGEPAGE);
    return slots;
}

static void s_free_slots(s_slot *slots, size_t capacity)
{
    size_t size = capacity * sizeof(s_slot);
    if (size < SD_ROWSET_HUGE_PAGE)
        free(slots);
    else if (slots)
        munmap(slots, size);
}

sd_rowset *sd_rowset_new(void)
{
    sd_rowset *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = SD_ROWSET_INITIAL_CAPACITY;
    self->slots = s_new_slots(self->capacity);
    if (!self->slots) {
        free(self);
        return NULL;
    }
    return self;
}

void sd_rowset_destroy(sd_rowset **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_free_slots((*self_p)->slots, (*self_p)->capacity);
    free(*self_p);
    *self_p = NULL;
}

void *sd_rowset_find(const sd_rowset *self, uint64_t hash, sd_rowset_equal_fn *equal,
                     const void *context)
{
    size_t mask = self->capacity - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        const s_slot *slot = &self->slots[i];
        if (!slot->item)
            return NULL;
        if (slot->hash == hash && equal(context, slot->item))
            return slot->item;
    }
}

void sd_rowset_prefetch(const sd_rowset *self, uint64_t hash)
{
    __builtin_prefetch(&self->slots[(size_t)hash & (self->capacity - 1)]);
}

static void s_place(s_slot *slots, size_t capacity, s_slot entry)
{
    size_t mask = capacity - 1;
    size_t i = (size_t)entry.hash & mask;
    while (slots[i].item)
        i = (i + 1) & mask;
    slots[i] = entry;
}

static int s_grow(sd_rowset *self)
{
    size_t capacity = self->capacity * 2;
    s_slot *slots = s_new_slots(capacity);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->capacity; i++) {
        if (self->slots[i].item)
            s_place(slots, capacity, self->slots[i]);
    }
    s_free_slots(self->slots, self->capacity);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

int sd_rowset_insert(sd_rowset *self, uint64_t hash, void *item)
{
    if ((self->count + 1) * 2 > self->capacity && s_grow(self) != 0)
        return -1;
    s_place(self->slots, self->capacity, (s_slot){hash, item});
    self->count++;
    return 0;
}

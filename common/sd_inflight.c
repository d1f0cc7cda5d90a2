/*  sd_inflight: per-key slot counts in a CZMQ hash.  */
#include "sd_inflight.h"

#include <czmq.h>
#include <stdlib.h>

typedef struct {
    size_t used;
    size_t peak;
} s_slots;

struct sd_inflight {
    zhashx_t *keys;                 //  key -> s_slots; kept after use for the peak
    size_t limit;
    sd_inflight_released_fn *released;
    void *released_arg;
};

static void s_slots_destroy(void **item)
{
    free(*item);
    *item = NULL;
}

sd_inflight *sd_inflight_new(int limit)
{
    sd_inflight *inflight = calloc(1, sizeof *inflight);
    if (!inflight)
        return NULL;
    inflight->limit = limit > 1 ? (size_t)limit : 1;
    inflight->keys = zhashx_new();
    if (!inflight->keys) {
        free(inflight);
        return NULL;
    }
    zhashx_set_destructor(inflight->keys, s_slots_destroy);
    return inflight;
}

void sd_inflight_on_release(sd_inflight *inflight, sd_inflight_released_fn *fn, void *arg)
{
    inflight->released = fn;
    inflight->released_arg = arg;
}

bool sd_inflight_take(sd_inflight *inflight, const char *key)
{
    s_slots *slots = zhashx_lookup(inflight->keys, key);
    if (!slots) {
        slots = calloc(1, sizeof *slots);
        if (!slots || zhashx_insert(inflight->keys, key, slots) != 0) {
            free(slots);
            return false;
        }
    }
    if (slots->used >= inflight->limit)
        return false;
    slots->used++;
    if (slots->used > slots->peak)
        slots->peak = slots->used;
    return true;
}

void sd_inflight_release(sd_inflight *inflight, const char *key)
{
    s_slots *slots = zhashx_lookup(inflight->keys, key);
    assert(slots && slots->used > 0);
    slots->used--;
    if (inflight->released)
        inflight->released(key, inflight->released_arg);
}

size_t sd_inflight_count(const sd_inflight *inflight, const char *key)
{
    const s_slots *slots = zhashx_lookup(inflight->keys, key);
    return slots ? slots->used : 0;
}

size_t sd_inflight_peak(const sd_inflight *inflight, const char *key)
{
    const s_slots *slots = zhashx_lookup(inflight->keys, key);
    return slots ? slots->peak : 0;
}

void sd_inflight_destroy(sd_inflight **inflight_p)
{
    sd_inflight *inflight = *inflight_p;
    if (!inflight)
        return;
    zhashx_destroy(&inflight->keys);
    free(inflight);
    *inflight_p = NULL;
}

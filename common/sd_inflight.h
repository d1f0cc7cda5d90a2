/*  sd_inflight: counts a worker's API requests in flight per key (a
    YouTube channel id, a GA4 property) against one limit.

    One counter serves every job and check of a worker process, so the
    limit holds for the key however many jobs use it at once. The counter
    only counts: a caller whose key is full keeps its request queued and
    tries again after the release callback tells it that a slot came free.
    A request counts from sd_inflight_take until sd_inflight_release, so
    the waits between retries count too.
*/
#ifndef SD_INFLIGHT_H
#define SD_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sd_inflight sd_inflight;

//  Called by sd_inflight_release after a slot of key came free. It must
//  not call sd_inflight_destroy.
typedef void(sd_inflight_released_fn)(const char *key, void *arg);

//  Creates a counter allowing limit requests per key (below 1 counts as
//  1). Returns NULL when out of memory.
sd_inflight *sd_inflight_new(int limit);

//  Sets the one callback that sd_inflight_release calls (NULL for none).
void sd_inflight_on_release(sd_inflight *inflight, sd_inflight_released_fn *fn, void *arg);

//  Takes a slot of key. Returns true when taken, false when key already
//  has limit requests in flight or when out of memory.
bool sd_inflight_take(sd_inflight *inflight, const char *key);

//  Gives back a slot that sd_inflight_take gave for key, then calls the
//  release callback.
void sd_inflight_release(sd_inflight *inflight, const char *key);

//  Returns the number of slots of key in use.
size_t sd_inflight_count(const sd_inflight *inflight, const char *key);

//  Returns the largest number of slots of key in use at one time so far.
size_t sd_inflight_peak(const sd_inflight *inflight, const char *key);

//  Frees the counter; *inflight is set to NULL. Safe on NULL.
void sd_inflight_destroy(sd_inflight **inflight);

#endif

/*  sim_stats: request counters that tests read at GET /stats.

    Counts every API request by endpoint ("token", "runReport", ...), by
    HTTP status, by the property or channel it named, and by injected
    fault, and the quota units charged per API. Also reports how many
    entries the simulator's tables hold now (access tokens, authorization
    codes), so that tests can check those tables stay bounded. Thread-safe.
*/
#ifndef SIM_STATS_H
#define SIM_STATS_H

#include <jansson.h>

typedef struct sim_stats sim_stats;

//  Returns NULL when out of memory.
sim_stats *sim_stats_new(void);

void sim_stats_destroy(sim_stats **self_p);

//  Counts one request. group ("properties", "channels") and key (the id)
//  may be NULL or empty when the request named none. fault is NULL, or the
//  injected fault ("503", "truncated").
void sim_stats_count(sim_stats *self, const char *endpoint, const char *group, const char *key,
                     int status, const char *fault);

//  Counts a request of endpoint about key (a channel id) as in flight
//  until sim_stats_leave, and keeps the largest number in flight at once
//  per key under the endpoint's "in_flight_max" object. Nothing is counted
//  when key is NULL or empty.
void sim_stats_enter(sim_stats *self, const char *endpoint, const char *key);
void sim_stats_leave(sim_stats *self, const char *endpoint, const char *key);

//  Adds units to the quota used of api ("youtube").
void sim_stats_charge(sim_stats *self, const char *api, int units);

//  Sets the number of entries that table ("access_tokens", ...) holds now.
void sim_stats_set_stored(sim_stats *self, const char *table, size_t count);

//  Returns a copy of the counters; the caller owns it. The shape is
//  {"total": N, "endpoints": {"runReport": {"requests": N, "statuses":
//  {"200": N}, "properties": {"310000001": N}, "in_flight_max":
//  {"UC...": N}}}, "faults": {"503": N}, "quota": {"youtube": N},
//  "stored": {"access_tokens": N, "authorization_codes": N}}.
json_t *sim_stats_snapshot(sim_stats *self);

#endif

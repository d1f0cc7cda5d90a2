/*  sim_stats: request counters kept as one JSON document under a lock.  */
#include "sim_stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct sim_stats {
    pthread_mutex_t lock;
    json_t *counters;       //  the document sim_stats_snapshot copies
    json_t *in_flight;      //  endpoint -> key -> requests in flight now
};

sim_stats *sim_stats_new(void)
{
    sim_stats *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->counters = json_pack("{s:i, s:{}, s:{}, s:{}, s:{}}", "total", 0, "endpoints",
                               "faults", "quota", "stored");
    self->in_flight = json_object();
    if (!self->counters || !self->in_flight || pthread_mutex_init(&self->lock, NULL) != 0) {
        json_decref(self->counters);
        json_decref(self->in_flight);
        free(self);
        return NULL;
    }
    return self;
}

void sim_stats_destroy(sim_stats **self_p)
{
    if (!self_p || !*self_p)
        return;
    json_decref((*self_p)->counters);
    json_decref((*self_p)->in_flight);
    pthread_mutex_destroy(&(*self_p)->lock);
    free(*self_p);
    *self_p = NULL;
}

//  Adds one to object[key], creating the counter at 0 first.
static void s_increment(json_t *object, const char *key)
{
    json_t *counter = json_object_get(object, key);
    if (counter)
        json_integer_set(counter, json_integer_value(counter) + 1);
    else
        json_object_set_new(object, key, json_integer(1));
}

//  Returns object[key] as an object, creating it when missing.
static json_t *s_child(json_t *object, const char *key)
{
    json_t *child = json_object_get(object, key);
    if (!child) {
        child = json_object();
        json_object_set_new(object, key, child);
    }
    return child;
}

void sim_stats_count(sim_stats *self, const char *endpoint, const char *group, const char *key,
                     int status, const char *fault)
{
    char status_text[16];
    snprintf(status_text, sizeof status_text, "%d", status);

    pthread_mutex_lock(&self->lock);
    s_increment(self->counters, "total");
    json_t *entry = s_child(json_object_get(self->counters, "endpoints"), endpoint);
    if (entry) {
        s_increment(entry, "requests");
        s_increment(s_child(entry, "statuses"), status_text);
        if (group && *group && key && *key)
            s_increment(s_child(entry, group), key);
    }
    if (fault)
        s_increment(json_object_get(self->counters, "faults"), fault);
    pthread_mutex_unlock(&self->lock);
}

void sim_stats_enter(sim_stats *self, const char *endpoint, const char *key)
{
    if (!key || !*key)
        return;
    pthread_mutex_lock(&self->lock);
    json_t *now = s_child(self->in_flight, endpoint);
    s_increment(now, key);
    json_int_t count = json_integer_value(json_object_get(now, key));
    json_t *entry = s_child(json_object_get(self->counters, "endpoints"), endpoint);
    json_t *peaks = entry ? s_child(entry, "in_flight_max") : NULL;
    if (peaks && count > json_integer_value(json_object_get(peaks, key)))
        json_object_set_new(peaks, key, json_integer(count));
    pthread_mutex_unlock(&self->lock);
}

void sim_stats_leave(sim_stats *self, const char *endpoint, const char *key)
{
    if (!key || !*key)
        return;
    pthread_mutex_lock(&self->lock);
    json_t *counter = json_object_get(json_object_get(self->in_flight, endpoint), key);
    if (counter && json_integer_value(counter) > 0)
        json_integer_set(counter, json_integer_value(counter) - 1);
    pthread_mutex_unlock(&self->lock);
}

void sim_stats_charge(sim_stats *self, const char *api, int units)
{
    pthread_mutex_lock(&self->lock);
    json_t *quota = json_object_get(self->counters, "quota");
    json_t *used = json_object_get(quota, api);
    if (used)
        json_integer_set(used, json_integer_value(used) + units);
    else
        json_object_set_new(quota, api, json_integer(units));
    pthread_mutex_unlock(&self->lock);
}

void sim_stats_set_stored(sim_stats *self, const char *table, size_t count)
{
    pthread_mutex_lock(&self->lock);
    json_object_set_new(json_object_get(self->counters, "stored"), table,
                        json_integer((json_int_t)count));
    pthread_mutex_unlock(&self->lock);
}

json_t *sim_stats_snapshot(sim_stats *self)
{
    pthread_mutex_lock(&self->lock);
    json_t *copy = json_deep_copy(self->counters);
    pthread_mutex_unlock(&self->lock);
    return copy;
}

/*  sim_faults: seeded fault injection for API responses.  */
#include "sim_faults.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_FAULT_RULES_MAX 16
#define SIM_FAULT_BURST_KEYS_MAX 1024
#define SIM_FAULT_BURST_MAX 1000000

//  Requests seen so far for one key, for the burst rules.
typedef struct {
    char key[64];
    long seen;
} s_burst_key;

struct sim_faults {
    pthread_mutex_t lock;
    uint64_t state;                         //  splitmix64 state
    int codes[SIM_FAULT_RULES_MAX];         //  status or SIM_FAULT_TRUNCATED / _HTML
    double fractions[SIM_FAULT_RULES_MAX];
    size_t count;
    double total;                           //  sum of fractions
    int burst_codes[SIM_FAULT_RULES_MAX];
    long burst_lengths[SIM_FAULT_RULES_MAX];
    size_t burst_count;
    s_burst_key burst_keys[SIM_FAULT_BURST_KEYS_MAX];
    size_t burst_key_count;
};

sim_faults *sim_faults_new(uint64_t seed)
{
    sim_faults *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self);
        return NULL;
    }
    self->state = seed;
    return self;
}

void sim_faults_destroy(sim_faults **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    free(*self_p);
    *self_p = NULL;
}

//  Parses the part before the colon: a status 400-599, "truncated" or
//  "html".
static int s_parse_code(const char *text, size_t length, int *code)
{
    if (length == 9 && strncmp(text, "truncated", 9) == 0) {
        *code = SIM_FAULT_TRUNCATED;
        return 0;
    }
    if (length == 4 && strncmp(text, "html", 4) == 0) {
        *code = SIM_FAULT_HTML;
        return 0;
    }
    if (length != 3)
        return -1;
    char digits[4] = {text[0], text[1], text[2], '\0'};
    char *end;
    long value = strtol(digits, &end, 10);
    if (*end != '\0' || value < 400 || value > 599)
        return -1;
    *code = (int)value;
    return 0;
}

//  Adds "CODE:burst:N"; text points after "burst:".
static int s_add_burst(sim_faults *self, const char *rule, int code, const char *text,
                       char *error, size_t error_size)
{
    char *end;
    long length = strtol(text, &end, 10);
    if (end == text || *end != '\0' || length < 1 || length > SIM_FAULT_BURST_MAX) {
        snprintf(error, error_size, "invalid burst length in \"%s\": expected 1 to %d", rule,
                 SIM_FAULT_BURST_MAX);
        return -1;
    }
    if (self->burst_count == SIM_FAULT_RULES_MAX) {
        snprintf(error, error_size, "too many burst rules at \"%s\": at most %d", rule,
                 SIM_FAULT_RULES_MAX);
        return -1;
    }
    self->burst_codes[self->burst_count] = code;
    self->burst_lengths[self->burst_count] = length;
    self->burst_count++;
    return 0;
}

int sim_faults_add(sim_faults *self, const char *rule, char *error, size_t error_size)
{
    const char *colon = strchr(rule, ':');
    int code;
    if (!colon || s_parse_code(rule, (size_t)(colon - rule), &code) != 0) {
        snprintf(error, error_size,
                 "invalid fault rule \"%s\": expected CODE:FRACTION or CODE:burst:N with CODE "
                 "400-599, \"truncated\" or \"html\", e.g. 503:0.1 or 429:burst:3", rule);
        return -1;
    }
    if (strncmp(colon + 1, "burst:", 6) == 0)
        return s_add_burst(self, rule, code, colon + 7, error, error_size);
    char *end;
    double fraction = strtod(colon + 1, &end);
    if (end == colon + 1 || *end != '\0' || !(fraction >= 0.0 && fraction <= 1.0)) {
        snprintf(error, error_size, "invalid fault fraction in \"%s\": expected 0 to 1", rule);
        return -1;
    }
    if (self->count == SIM_FAULT_RULES_MAX || self->total + fraction > 1.0 + 1e-12) {
        snprintf(error, error_size,
                 "too many fault rules at \"%s\": at most %d, fractions adding up to at most 1",
                 rule, SIM_FAULT_RULES_MAX);
        return -1;
    }
    self->codes[self->count] = code;
    self->fractions[self->count] = fraction;
    self->count++;
    self->total += fraction;
    return 0;
}

//  splitmix64: a small generator whose sequence depends only on the seed.
static uint64_t s_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

//  Counts a request of key and returns the burst fault it falls in, or
//  SIM_FAULT_NONE. Called with the lock held.
static int s_burst(sim_faults *self, const char *key)
{
    if (self->burst_count == 0 || !key || !*key)
        return SIM_FAULT_NONE;
    s_burst_key *entry = NULL;
    for (size_t i = 0; i < self->burst_key_count && !entry; i++)
        if (strcmp(self->burst_keys[i].key, key) == 0)
            entry = &self->burst_keys[i];
    if (!entry && self->burst_key_count < SIM_FAULT_BURST_KEYS_MAX) {
        entry = &self->burst_keys[self->burst_key_count++];
        snprintf(entry->key, sizeof entry->key, "%s", key);
    }
    if (!entry)
        return SIM_FAULT_NONE;
    long seen = entry->seen++;
    for (size_t i = 0; i < self->burst_count; i++) {
        if (seen < self->burst_lengths[i])
            return self->burst_codes[i];
        seen -= self->burst_lengths[i];
    }
    return SIM_FAULT_NONE;
}

int sim_faults_draw(sim_faults *self, const char *key)
{
    if (self->count == 0 && self->burst_count == 0)
        return SIM_FAULT_NONE;
    pthread_mutex_lock(&self->lock);
    int burst = s_burst(self, key);
    if (burst != SIM_FAULT_NONE || self->count == 0) {
        pthread_mutex_unlock(&self->lock);
        return burst;
    }
    double draw = (double)(s_next(&self->state) >> 11) / 9007199254740992.0;
    pthread_mutex_unlock(&self->lock);

    double edge = 0.0;
    for (size_t i = 0; i < self->count; i++) {
        edge += self->fractions[i];
        if (draw < edge)
            return self->codes[i];
    }
    return SIM_FAULT_NONE;
}

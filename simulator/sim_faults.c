/*  sim_faults: seeded fault injection for API responses.  */
#include "sim_faults.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_FAULT_RULES_MAX 16

struct sim_faults {
    pthread_mutex_t lock;
    uint64_t state;                         //  splitmix64 state
    int codes[SIM_FAULT_RULES_MAX];         //  status or SIM_FAULT_TRUNCATED
    double fractions[SIM_FAULT_RULES_MAX];
    size_t count;
    double total;                           //  sum of fractions
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

//  Parses the part before the colon: a status 400-599 or "truncated".
static int s_parse_code(const char *text, size_t length, int *code)
{
    if (length == 9 && strncmp(text, "truncated", 9) == 0) {
        *code = SIM_FAULT_TRUNCATED;
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

int sim_faults_add(sim_faults *self, const char *rule, char *error, size_t error_size)
{
    const char *colon = strchr(rule, ':');
    int code;
    if (!colon || s_parse_code(rule, (size_t)(colon - rule), &code) != 0) {
        snprintf(error, error_size,
                 "invalid fault rule \"%s\": expected CODE:FRACTION with CODE 400-599 or "
                 "\"truncated\", e.g. 503:0.1", rule);
        return -1;
    }
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

int sim_faults_draw(sim_faults *self)
{
    if (self->count == 0)
        return SIM_FAULT_NONE;
    pthread_mutex_lock(&self->lock);
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

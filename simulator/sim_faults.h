/*  sim_faults: which API responses fail on purpose, drawn from a seeded
    generator so that a run with the same seed and the same request order
    fails the same requests.

    A fault rule is "CODE:FRACTION" where CODE is an HTTP status (e.g.
    503:0.1), "truncated" (the response body is cut in half and the
    connection closed) or "html" (a 200 response whose body is an HTML page,
    as a misconfigured proxy sends). Each data API request (not /token)
    draws one number in [0, 1). The rules take consecutive slices of that
    interval in the order given, so their fractions must add up to at most
    1.

    A burst rule "CODE:burst:N" fails the first N requests of each key (the
    property or channel the request names) with CODE, before any draw. The
    requests after those draw as usual. Burst rules follow one another:
    with 429:burst:2 and 503:burst:1, the first two requests of a key fail
    with 429 and the third with 503. Thread-safe.
*/
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#define SIM_FAULT_NONE 0
#define SIM_FAULT_TRUNCATED -1
#define SIM_FAULT_HTML -2

typedef struct sim_faults sim_faults;

//  Creates a fault set with no rules. Returns NULL when out of memory.
sim_faults *sim_faults_new(uint64_t seed);

void sim_faults_destroy(sim_faults **self_p);

//  Adds a rule from its "CODE:FRACTION" or "CODE:burst:N" text. Returns 0,
//  or -1 with the reason in error when the text is malformed, the code is
//  not 400-599, "truncated" or "html", or the fractions would add up to
//  more than 1.
int sim_faults_add(sim_faults *self, const char *rule, char *error, size_t error_size);

//  Draws for one request naming key (NULL or "" when it names none, so no
//  burst applies). Returns SIM_FAULT_NONE, SIM_FAULT_TRUNCATED,
//  SIM_FAULT_HTML or the HTTP status to fail with.
int sim_faults_draw(sim_faults *self, const char *key);

#endif

/*  sim_ga4_filter: GA4 FilterExpression trees over dimension values.

    Supports andGroup, orGroup, notExpression and filter with stringFilter
    (EXACT, BEGINS_WITH, ENDS_WITH, CONTAINS, FULL_REGEXP, PARTIAL_REGEXP;
    caseSensitive defaults to false), inListFilter and emptyFilter. Regular
    expressions use POSIX extended syntax, which covers common RE2 patterns
    but not all of them (no \d, no lazy quantifiers). Case folding is ASCII
    only. A filter caches each leaf's result per string id, so one filter
    must not be shared between threads.
*/
#ifndef SIM_GA4_FILTER_H
#define SIM_GA4_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sim_dataset.h"

typedef struct sim_ga4_filter sim_ga4_filter;

//  Parses a FilterExpression object. Returns the filter, or NULL with a
//  message for the client in error (an invalid expression or field name).
sim_ga4_filter *sim_ga4_filter_parse(json_t *expression, const sim_strings *strings, char *error,
                                     size_t error_size);

void sim_ga4_filter_destroy(sim_ga4_filter **self_p);

//  Returns true when row passes the filter.
bool sim_ga4_filter_match(sim_ga4_filter *self, const sim_ga4_row *row);

#endif

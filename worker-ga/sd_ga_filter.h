/*  sd_ga_filter: evaluates a GA4 FilterExpression on a row's dimension
    values, for queries whose rows the worker makes from a merged report
    (see sd_ga_merge.h).

    Supported: andGroup, orGroup, notExpression, and filter with a
    stringFilter (matchType EXACT, BEGINS_WITH, ENDS_WITH or CONTAINS;
    EXACT when left out) or an inListFilter. caseSensitive defaults to
    false, as in GA4; case-insensitive matching is only accepted for ASCII
    values, which compare without regard to ASCII case. Anything else
    (regular expressions, numeric and between filters, emptyFilter) makes
    sd_ga_filter_supported return false, and the query keeps its own
    request.

    The field sessionSourceMedium is read as "SOURCE / MEDIUM" of the
    sessionSource and sessionMedium values.

    NOTE: the tests run EXACT, inListFilter, andGroup and notExpression
    (tests/worker-ga/worker_ga_stack.py); the other match types, orGroup
    and case-insensitive matching have no test yet.
*/
#ifndef SD_GA_FILTER_H
#define SD_GA_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "sd_proto.h"

//  Returns true when every field the expression names is one of fields
//  (or sessionSourceMedium with sessionSource and sessionMedium among
//  them) and every part of it is supported.
bool sd_ga_filter_supported(json_t *expression, const sd_strings *fields);

//  Returns true when the row whose value of fields->items[i] is values[i]
//  passes the expression, which sd_ga_filter_supported accepted for
//  fields.
bool sd_ga_filter_match(json_t *expression, const sd_strings *fields, const char *const *values);

#endif

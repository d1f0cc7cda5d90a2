/*  sd_ga_filter: evaluates a GA4 FilterExpression on a row's dimension
    values, for queries whose rows the worker builds from a merged report
    (see sd_ga_merge.h).

    Supported: andGroup, orGroup, notExpression, and filter with a
    stringFilter (matchType EXACT, BEGINS_WITH, ENDS_WITH or CONTAINS, with
    EXACT as the default) or an inListFilter. caseSensitive defaults to
    false, as in GA4. Case-insensitive matching is only accepted for ASCII
    values, which compare without regard to ASCII case. Anything else
    (regular expressions, numeric and between filters, emptyFilter) makes
    sd_ga_filter_supported return false, and the query keeps its own
    request.

    The field sessionSourceMedium is read as "SOURCE / MEDIUM", built from
    the sessionSource and sessionMedium values.

    NOTE: tests/worker-ga/worker_ga_stack.py runs EXACT, inListFilter,
    andGroup and notExpression, and test_worker_ga_merge.c runs ENDS_WITH
    and CONTAINS. BEGINS_WITH, orGroup and case-insensitive matching have
    no test yet.
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

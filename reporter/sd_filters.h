/*  sd_filters: the GA4 dimensionFilter of a planned query.

    A query definition lists filter kinds (sd_filter_kind). This module
    fills them with values from the config or from a parent table's rows,
    joins them with andGroup into one FilterExpression and writes it into
    the query's params_json. String matches are case-sensitive, like the
    aggregator rules that would otherwise drop the rows.

    Article path patterns are POSIX extended regular expressions. Those of
    the simple forms below become stringFilters, negated as a group:
        ^LITERAL$      EXACT LITERAL
        ^LITERAL       BEGINS_WITH LITERAL
        ^REGEX$        FULL_REGEXP REGEX, when REGEX has no '|', '^', '$',
                       backslash inside brackets, or backslash before
                       anything but a punctuation character (the syntax
                       where POSIX and RE2 agree)
    Any other pattern stays with the aggregator's path_blacklist rule.
*/
#ifndef SD_FILTERS_H
#define SD_FILTERS_H

#include <stdbool.h>
#include <stddef.h>

#include "sd_catalog.h"
#include "sd_config.h"
#include "sd_proto.h"

//  Translates one path pattern. Returns true with *match_type ("EXACT",
//  "BEGINS_WITH" or "FULL_REGEXP") and the NUL-terminated value in value
//  when the API can express it. Returns false when the pattern must stay a
//  rule or its value does not fit in size bytes.
bool sd_filters_path_pattern(const char *pattern, const char **match_type, char *value,
                             size_t size);

//  Appends to patterns the article path patterns of config that no API
//  filter expresses. Returns 0, or -1 when out of memory.
int sd_filters_rule_patterns(const sd_config *config, sd_strings *patterns);

//  Returns the params_json text of query: its params_json with a
//  "dimensionFilter" built from its filter kinds (and "ids" for
//  SD_FILTER_PARENT_IDS), or a copy of params_json when no filter applies. parent_values are the parent rows' key values
//  for the SD_FILTER_PARENT_ kinds (NULL otherwise). Sets *empty to true
//  when a parent filter matches nothing (no values, or no configured
//  source of the networks), so the query need not run. Returns a new
//  string the caller frees, or NULL when out of memory or params_json is
//  not a JSON object.
char *sd_filters_params(const sd_query_def *query, const sd_config *config,
                        const sd_strings *parent_values, bool *empty);

#endif

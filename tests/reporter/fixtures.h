/*  fixtures: configs and normalized tables built by hand for the reporter
    tests.  */
#ifndef REPORTER_FIXTURES_H
#define REPORTER_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>

#include "sd_config.h"
#include "sd_plan.h"
#include "sd_proto.h"

//  The report columns of the ga-core summary tables, in catalog order.
#define FIXTURE_METRICS 5
extern const char *const fixture_metric_names[FIXTURE_METRICS];

//  One row of a hand-built table: the figure of each metric per period.
//  The first three metrics are counts (integers); the last two are ratios.
typedef struct {
    const char *site;
    double current[FIXTURE_METRICS];
    double previous[FIXTURE_METRICS];
    double yearly[FIXTURE_METRICS];
} fixture_row;

//  Writes a config with the given sites (in that order, one property each)
//  and reporter margins into a new temporary file and loads it. Returns the
//  config; the file is removed.
sd_config *fixture_config(const char *const *sites, size_t count, int render_margin_ms,
                          int table_margin_ms);

//  Builds a table.normalized message in the shared comparison format: an
//  optional "site" dimension, then each metric M with previous_figure_M,
//  previous_change_M, previous_percentage_M and the yearly ones. Totals sum
//  the counts and recompute the ratios' figures from the first row.
sd_msg *fixture_table(const char *request_id, const char *table_id, const fixture_row *rows,
                      size_t count, bool with_site);

//  Returns "<request_id>.<attempt>.<rest>", an id of plan's attempt, in one
//  of 8 static buffers used in turn (valid until 8 more calls).
const char *fixture_id(const sd_plan *plan, const char *rest);

//  Adds a missing part to a table.normalized message.
void fixture_add_missing(sd_msg *msg, const char *site, const char *period, const char *error);

#endif

/*  sd_notes: the warnings of the normalized tables, grouped for readers.

    The aggregator writes its warnings per table: one "no rows for site S
    in period P" line per empty part, and the part warnings of the workers
    (GA4 sampling, thresholding, the "(other)" row, each prefixed with
    "property ID: "). A report of many tables would repeat each of them
    once per table, so this module groups them:

      - A site has no data in the current period when every table that
        covers it with the report's current dates arrived and has no rows
        for it there. Only first-stage tables with the report's own
        current dates count, so month-to-date, monthly and dependent
        tables are left out. Such a
        site is added to the missing sites, the report becomes partial, and
        one warning states it: "no data for site S in the current period".
        Its other "no rows" lines are dropped.
      - The other "no rows" lines become one warning per site:
        "S: no rows (social_networks/current, social_networks/previous)".
      - Any other line becomes one warning listing the tables it came
        from: "retrotech.example: data sampled: ... (property 310000003;
        summary, country)", with the site of a GA4 property taken from the
        config when the line names one.
*/
#ifndef SD_NOTES_H
#define SD_NOTES_H

#include "sd_outcome.h"
#include "sd_plan.h"
#include "sd_proto.h"

//  The text of the warning for a site without data in the current period,
//  with "%s" for the site.
#define SD_NOTES_NO_DATA "no data for site %s in the current period"

//  Adds the grouped warnings of tables (plan->table_count entries, NULL
//  for a table that never arrived) to outcome, and the sites without data
//  to outcome->missing (setting outcome->partial). Sets outcome->sampled
//  and outcome->thresholded when a warning reports that GA4 sampled or
//  thresholded the data. Returns 0, or -1 when out of memory.
int sd_notes_collect(const sd_plan *plan, sd_msg *const *tables, sd_outcome *outcome);

#endif

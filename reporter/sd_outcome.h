/*  sd_outcome: which data a report lacks, and the warnings that report it.

    Missing data is gathered from four places: fetch jobs that failed as a
    whole (an error from the broker), part errors in fetch replies, the
    missing parts listed by each normalized table, and tables that never
    arrived. Entries for the same site, table and period are merged (the
    first non-empty error wins), then grouped into one warning per site and
    error:
        "retrotech.example: HTTP 503 from the API (summary/current, site_summary/current)"
    The warnings of the tables follow, grouped by sd_notes (which also
    finds the sites without any row in the current period), then the
    warnings of fetch replies, each once. The report is partial when any
    data is missing.
*/
#ifndef SD_OUTCOME_H
#define SD_OUTCOME_H

#include <stdbool.h>

#include "sd_plan.h"
#include "sd_proto.h"

typedef struct {
    sd_strings missing;             //  sites with missing data, in order of first mention
    sd_strings warnings;
    bool partial;
    bool sampled;                   //  GA4 computed some figures from a sample
    bool thresholded;               //  GA4 withheld rows with few users
} sd_outcome;

//  Computes the outcome of plan. tables has plan->table_count entries
//  (table.normalized messages, NULL for a table that never arrived),
//  replies and job_errors plan->job_count entries (fetch.reply messages
//  and error texts, NULL where there is none). A job with neither a reply
//  nor an error only adds a warning: its parts may still be in the tables.
//  Returns 0, or -1 when out of memory (outcome is then cleared).
int sd_outcome_compute(const sd_plan *plan, sd_msg *const *tables, sd_msg *const *replies,
                       char *const *job_errors, sd_outcome *outcome);

//  Puts the warnings of the request (a late period's missing data, from
//  the scheduler) before the others, leaving out repeats. Returns 0, or -1
//  when out of memory (outcome is unchanged then).
int sd_outcome_add_request_warnings(sd_outcome *outcome, const sd_strings *warnings);

//  Returns the sentence a GA report states about sampling and
//  thresholding, or NULL for a YouTube report.
const char *sd_outcome_quality(const sd_outcome *outcome, const char *service);

//  Frees the lists of outcome. Safe on a cleared outcome.
void sd_outcome_clear(sd_outcome *outcome);

#endif

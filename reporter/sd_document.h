/*  sd_document: what a renderer turns into HTML, JSON or CSV.

    A rendered report is its planned tables (definition plus the normalized
    table, if it arrived) with the report's subject, periods, status and
    missing-data warnings. Every pointer is borrowed; the document owns
    nothing, so the reporter builds one on the stack just before rendering.
*/
#ifndef SD_DOCUMENT_H
#define SD_DOCUMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "sd_catalog.h"
#include "sd_period.h"
#include "sd_proto.h"

typedef struct {
    const sd_table_def *def;
    const sd_table_normalized *table;   //  NULL when the table never arrived
} sd_document_table;

typedef struct {
    const char *report;             //  report type, "ga-core"
    const char *subject;            //  "Statsdash ga-core: Tue 01 Dec 2026"
    sd_frequency frequency;
    const sd_report_periods *periods;
    const char *status;             //  "complete" or "partial"
    const sd_strings *missing;      //  sites with missing data
    const sd_strings *warnings;     //  one line each, naming the site and the error
    const char *quality;            //  whether GA4 marked figures as sampled or thresholded;
                                    //  NULL for a YouTube report
    const sd_document_table *tables;
    size_t table_count;
    bool csv_single_table;          //  the CSV output is the first table alone
} sd_document;

#endif

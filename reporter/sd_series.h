/*  sd_series: a table read as time series, for charts and date tables.

    A table is a series table when one of its keys is "date": values
    "YYYYMMDD" as GA4 sends them, or "YYYY-MM" once sd_finish summed the
    days into months. With no other key, every metric is a series; with
    one other key (a device, a network), each value of that key is a series
    of one metric: the first "percent" metric when there is one (a share),
    else the first metric. Dates keep the table's order, series the order
    of first appearance. A missing or null figure is "no data" (present is
    false), not zero.
*/
#ifndef SD_SERIES_H
#define SD_SERIES_H

#include <stdbool.h>
#include <stddef.h>

#include "sd_document.h"

typedef struct {
    char **dates;                   //  raw key values, "20261201" or "2026-11"
    size_t date_count;
    char **names;                   //  series names: metric labels or key values
    int *decimals;                  //  per series, from the metric definition
    size_t series_count;
    double *values;                 //  values[d * series_count + s]
    bool *present;                  //  false where the figure is missing or null
    const char *unit;               //  unit of a one-metric series table, else ""
    const char *metric_label;       //  label of that metric, else ""
} sd_series;

//  Reads the series of a table that arrived. Returns a new sd_series, or
//  NULL when the table is not a series table, has no rows, or memory ran
//  out.
sd_series *sd_series_new(const sd_document_table *entry);

//  Returns the index of the "date" key among the table's keys, or -1.
int sd_series_date_key(const sd_table_def *def);

//  Writes a date value as a table shows it ("Tue 01 Dec 2026", "Nov 2026")
//  or, with brief, as a chart axis does ("01 Dec", "Nov 26"). A value that
//  is not a date is copied as it is.
void sd_series_date_label(const char *date, bool brief, char *buffer, size_t size);

void sd_series_destroy(sd_series **self_p);

#endif

/*  sd_catalog: the report types and their tables, as data.

    A report type is a list of table definitions; a table definition names
    the API query that feeds it, the keys its rows are merged on, the
    additive metrics summed over sites, the derived report columns, the sort
    order, the row limit and the periods it is compared with. The planner
    and the renderers work from these definitions only, so a new table or
    report type is a new entry in sd_catalog.c, not a new code path.

    Lists are fixed-size arrays ended by the first NULL (or NULL name).
*/
#ifndef SD_CATALOG_H
#define SD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_CATALOG_MAX_ITEMS 16

//  How the HTML renderer lays a table out.
typedef enum {
    SD_LAYOUT_OVERVIEW,             //  one row of totals, one line per compared period
    SD_LAYOUT_RANKED,               //  one line per key, each metric with its changes
} sd_table_layout;

//  A report column of the normalized table (a "derived" entry of the spec).
typedef struct {
    const char *name;               //  report name, "pageviews"
    const char *label;              //  heading in rendered reports, "Pageviews"
    const char *op;                 //  "scale", "ratio", "difference" or "share"
    const char *a;                  //  first operand, an API metric name
    const char *b;                  //  second operand, "" when op takes one
    double scale;                   //  factor applied to the result
    const char *unit;               //  "count", "ratio", "minutes", ...
    int decimals;                   //  digits shown after the point
} sd_metric_def;

//  A dimension column rows are merged on.
typedef struct {
    const char *name;               //  "site" (the part's site) or an API dimension
    const char *label;              //  heading in rendered reports
} sd_key_def;

//  One API request. Tables that name the same query share its rows.
typedef struct {
    const char *id;                 //  unique within the catalog, "ga-totals"
    const char *api;                //  "ga4.runReport", "youtube.reports", ...
    const char *metrics[SD_CATALOG_MAX_ITEMS];
    const char *dimensions[SD_CATALOG_MAX_ITEMS];
    const char *params_json;        //  further API request fields, "{}" if none
    int64_t limit;                  //  rows wanted from the API, 0 for its default
} sd_query_def;

typedef struct {
    const char *name;               //  key under "tables" in the JSON report, "summary"
    const char *title;              //  heading in rendered reports
    sd_table_layout layout;
    const sd_query_def *query;
    sd_key_def keys[4];
    const char *sum[SD_CATALOG_MAX_ITEMS];
    sd_metric_def metrics[SD_CATALOG_MAX_ITEMS];
    const char *sort_column;        //  NULL keeps the aggregator's key order
    bool sort_descending;
    int64_t limit;                  //  rows kept, 0 for all
    const char *compare[3];         //  "previous", "yearly"; the query also runs for these periods
} sd_table_def;

typedef struct {
    const char *name;               //  "ga-core"
    const char *service;            //  MDP service of its fetch jobs: "ga" or "youtube"
    const sd_table_def *tables[SD_CATALOG_MAX_ITEMS];
} sd_report_def;

//  Returns the definition of a report type, or NULL when the type is
//  unknown or not implemented yet (see sd_catalog_is_known).
const sd_report_def *sd_catalog_find(const char *report);

//  Returns true when report is one of the report types of the interface
//  (ga-core, ga-social, ga-year-social, ga-social-export, youtube), whether
//  or not it is implemented.
bool sd_catalog_is_known(const char *report);

//  Writes the implemented report types, comma-separated, into buffer.
//  Returns buffer.
const char *sd_catalog_list(char *buffer, size_t size);

//  Counts the entries of a table definition's lists.
size_t sd_table_def_key_count(const sd_table_def *table);
size_t sd_table_def_metric_count(const sd_table_def *table);
size_t sd_table_def_compare_count(const sd_table_def *table);

//  Returns the metric definition with the given report name, or NULL.
const sd_metric_def *sd_table_def_metric(const sd_table_def *table, const char *name);

#endif

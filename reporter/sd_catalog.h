/*  sd_catalog: the report types and their tables, as data.

    A report type is a list of table definitions. A table definition names
    the API query that feeds it, the keys its rows are merged on, the
    additive metrics summed over sites and the derived report columns. It
    also gives the sort order, the row limit, the compared periods and the
    aggregator rules applied to its rows. The planner, the finishing steps
    and the renderers work from these definitions only, so a new table or
    report type is a new entry in sd_catalog.c, not a new code path.

    Some parts of a definition are filled from the config when a report is
    planned: query filters (sd_filter_kind) and rule arguments
    (sd_rule_source). A dependent table (parent set) is planned in a second
    stage, once its parent table has arrived: its query filters on values
    of the parent's rows. A hidden dependent table can feed a column of its
    parent (SD_FINISH_LOOKUP): the youtube report looks up the titles of the
    videos its top videos table shows that way, once per report.

    Lists are fixed-size arrays ended by the first NULL (or NULL name, or
    SD_FILTER_NONE).
*/
#ifndef SD_CATALOG_H
#define SD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_CATALOG_MAX_ITEMS 16
#define SD_CATALOG_MAX_RULES 8
#define SD_CATALOG_MAX_FILTERS 4

//  How the HTML renderer lays a table out.
typedef enum {
    SD_LAYOUT_OVERVIEW,             //  one row of totals, one line per compared period
    SD_LAYOUT_RANKED,               //  one line per key, each metric with its changes
} sd_table_layout;

//  A report column of the normalized table (a "derived" entry of the spec),
//  or a column the reporter adds itself after the table arrived (local).
typedef struct {
    const char *name;               //  report name, "pageviews"
    const char *label;              //  heading in rendered reports, "Pageviews"
    const char *op;                 //  "scale", "ratio", "difference" or "share"
    const char *a;                  //  first operand, an API metric name
    const char *b;                  //  second operand, "" when op takes one
    double scale;                   //  factor applied to the result
    const char *unit;               //  "count", "ratio", "minutes", ...
    int decimals;                   //  digits shown after the point
    bool local;                     //  added by sd_finish, not sent in the spec
    int significant;                //  when not 0, the HTML and text forms show this many
                                    //  significant digits instead (JSON keeps the value)
} sd_metric_def;

//  A dimension column rows are merged on.
typedef struct {
    const char *name;               //  "site" (the part's site) or an API dimension
    const char *label;              //  heading in rendered reports
    const char *output;             //  column name in the report when it differs, else NULL
    bool local;                     //  filled by sd_finish (SD_FINISH_LOOKUP), not sent in
                                    //  the spec
} sd_key_def;

//  Filters a query's dimensionFilter is built from. Their values come from
//  the config or, for a dependent table, from its parent's rows.
typedef enum {
    SD_FILTER_NONE,
    SD_FILTER_ORGANIC_SOCIAL,       //  sessionDefaultChannelGroup EXACT "Organic Social"
    SD_FILTER_SOURCE_BLACKLIST,     //  sessionSource not in ga.source_blacklist
    SD_FILTER_ARTICLE_PATHS,        //  pagePath matches none of ga.article_path_blacklist
    SD_FILTER_PARENT_SOURCES,       //  sessionSource in the parent rows' key values
    SD_FILTER_PARENT_NETWORKS,      //  sessionSource in the sources that ga.social_sources
                                    //  maps to the parent rows' networks
    SD_FILTER_PARENT_IDS,           //  params_json "ids": the parent rows' key values, for
                                    //  APIs that list items by id (youtube.videos)
} sd_filter_kind;

//  One API request. Tables that name the same query share its rows.
typedef struct {
    const char *id;                 //  unique within the catalog, "ga-totals"
    const char *api;                //  "ga4.runReport", "youtube.reports", ...
    const char *metrics[SD_CATALOG_MAX_ITEMS];
    const char *dimensions[SD_CATALOG_MAX_ITEMS];
    const char *params_json;        //  further API request fields, "{}" if none
    sd_filter_kind filters[SD_CATALOG_MAX_FILTERS];     //  joined with andGroup
    int64_t limit;                  //  rows wanted from the API, 0 for its default
} sd_query_def;

//  Where the arguments of a rule come from, after its fixed ones.
typedef enum {
    SD_RULE_ARGS_FIXED,             //  only the fixed arguments
    SD_RULE_ARGS_COUNTRIES,         //  ga.countries
    SD_RULE_ARGS_SOCIAL_MAP,        //  ga.social_sources as FROM TO pairs
    SD_RULE_ARGS_PATH_PATTERNS,     //  the ga.article_path_blacklist patterns that
                                    //  no API filter expresses (rule left out if none)
} sd_rule_source;

typedef struct {
    const char *name;               //  an aggregator rule: "strip_query", ...
    const char *args[4];            //  fixed arguments
    sd_rule_source source;
} sd_rule_def;

//  Which sites a table's parts come from.
typedef enum {
    SD_SCOPE_SITES,                 //  the sites of the request
    SD_SCOPE_NETWORK,               //  every configured site
    SD_SCOPE_FIRST_SITE,            //  the first site of the request only: one job and one
                                    //  part per period for the whole report
} sd_table_scope;

//  When a report includes a table.
typedef enum {
    SD_WHEN_ALWAYS,
    SD_WHEN_MONTHLY,                //  MONTHLY reports only
    SD_WHEN_NOT_MONTHLY,
    SD_WHEN_SOME_SITES,             //  requests that leave out some configured sites
} sd_table_when;

//  The dates of a table's periods.
typedef enum {
    SD_PERIODS_REPORT,              //  the report's current, previous and yearly periods
    SD_PERIODS_ARTICLES,            //  as the report's, but a one-day report's previous
                                    //  period is the day before
    SD_PERIODS_MONTH_TO_DATE,       //  current: 1st of the month to the report date;
                                    //  previous: that whole month a year earlier;
                                    //  yearly: the current dates a year earlier
    SD_PERIODS_MONTHS_12,           //  current: the 12 calendar months ending with the
                                    //  report's month, up to the report date
    SD_PERIODS_MONTHS_36,           //  the same over 36 months
} sd_table_periods;

//  What the reporter does to a table after it arrived (sd_finish).
typedef enum {
    SD_FINISH_NONE,
    SD_FINISH_PER_PARENT,           //  keep group_limit rows per parent key value
    SD_FINISH_MONTH_TARGET,         //  add days_left, pageviews_needed, pageviews_needed_per_day
    SD_FINISH_SHARE_OF_ALL,         //  add share_of_all_users from the summary table's users
    SD_FINISH_MONTHS,               //  sum the "date" key into months ("YYYY-MM")
    SD_FINISH_TOP_NETWORK_MONTHS,   //  months, for the leading networks only
    SD_FINISH_LOOKUP,               //  fill lookup_column from the lookup_table's rows
} sd_finish_kind;

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
    int64_t shown;                  //  rows the HTML report shows, 0 for all
    const char *compare[3];         //  "previous", "yearly"; the query also runs for these periods
    const char *compare_titles[3];  //  HTML labels of compare[i] when not the usual ones
    sd_rule_def rules[SD_CATALOG_MAX_RULES];
    sd_table_scope scope;
    sd_table_when when;
    sd_table_periods periods;
    const char *parent;             //  name of the table whose rows this one depends on
    const char *parent_key;         //  the parent's key column read for the filter
    int64_t parent_rows;            //  leading parent rows used, 0 for all
    sd_finish_kind finish;
    const char *group_key;          //  SD_FINISH_PER_PARENT: key matched to the parent's
    int64_t group_limit;            //  rows kept per group
    int64_t group_limit_monthly;    //  the same in MONTHLY reports, 0 for group_limit
    const char *lookup_table;       //  SD_FINISH_LOOKUP: name of the table read
    const char *lookup_key;         //  SD_FINISH_LOOKUP: key matched in both tables
    const char *lookup_column;      //  SD_FINISH_LOOKUP: column copied from lookup_table
    bool hidden;                    //  read by another table's finish step, never rendered
} sd_table_def;

typedef struct {
    const char *name;               //  "ga-core"
    const char *service;            //  MDP service of its fetch jobs: "ga" or "youtube"
    const sd_table_def *tables[SD_CATALOG_MAX_ITEMS];
    bool csv_single_table;          //  the CSV output is the first table alone
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
size_t sd_table_def_rule_count(const sd_table_def *table);

//  Returns the metric definition with the given report name, or NULL.
const sd_metric_def *sd_table_def_metric(const sd_table_def *table, const char *name);

//  Returns the name of a key's column in the report: its output name, or
//  its name.
const char *sd_key_def_column(const sd_key_def *key);

#endif

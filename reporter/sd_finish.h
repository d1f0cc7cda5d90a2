/*  sd_finish: what the reporter does to the normalized tables before
    rendering.

    The aggregator merges, compares, sorts and limits. A few steps need
    more than one table or the calendar, so the reporter applies them to
    the tables that arrived, as the table definition's `finish` names:

      SD_FINISH_PER_PARENT      keeps the rows whose group_key value is one
                                of the parent's leading key values, at most
                                group_limit (group_limit_monthly in MONTHLY
                                reports) per value, grouped in the parent's
                                order.
      SD_FINISH_MONTH_TARGET    adds days_left (days of the month after the
                                report date), pageviews_needed (the whole
                                month last year minus the month so far, at
                                least 0) and pageviews_needed_per_day
                                (pageviews_needed / days_left rounded up, 0
                                when no day is left).
      SD_FINISH_SHARE_OF_ALL    adds share_of_all_users: users / the users
                                total of the "summary" table x 100 (0 when
                                that total is 0 or the summary is missing).
      SD_FINISH_MONTHS          sums the rows of each calendar month of the
                                table's current period: the "date" key
                                (YYYYMMDD) becomes "YYYY-MM". Every month of
                                the period gets a row per value of the other
                                keys; months before the first month with any
                                row show null figures (no data), later months
                                without rows show 0. "share" metrics are
                                recomputed within each month.
      SD_FINISH_TOP_NETWORK_MONTHS  as SD_FINISH_MONTHS for six networks:
                                Facebook, Twitter and reddit, then the
                                others with the most pageviews.
      SD_FINISH_LOOKUP          adds the dimension column lookup_column
                                after lookup_key (when the table lacks it)
                                and fills it from the row of the table
                                named lookup_table with the same
                                lookup_key value; it stays null where that
                                table or row is missing.

    Finally each key column is renamed to its output name ("network").
*/
#ifndef SD_FINISH_H
#define SD_FINISH_H

#include "sd_plan.h"
#include "sd_proto.h"

//  The networks ga-year-social always shows first, and how many it shows.
#define SD_FINISH_LEADING_NETWORKS {"Facebook", "Twitter", "reddit"}
#define SD_FINISH_NETWORK_COUNT 6

//  Finishes tables (plan->table_count table.normalized messages, NULL for
//  a table that never arrived) in place. Returns 0, or -1 when out of
//  memory (a table may then be left half finished, but valid).
int sd_finish_tables(const sd_plan *plan, sd_msg **tables);

#endif

/*  sd_schedule: when each scheduled report is due, as pure date arithmetic.

    A report's period is named by its last day (the period end), as in
    `statsdash request --date`. Each frequency fixes which days are period
    ends and on which day (the run day) a period becomes due:

      DAILY, WOW_DAILY  every day is a period end; the run day is the next day.
      WEEKLY, weekday W the periods are the 7 days ending on the day before a
                        W (W = 0, Monday, gives Monday-Sunday weeks), and the
                        run day is that W.
      MONTHLY, day N    the periods are calendar months, and the run day of
                        month M is day N (1..28) of month M+1.

    A period is due when its run day is today or earlier. It is late when
    today is SD_SCHEDULE_LATE_DAYS or more days after its run day: a daily
    report for 1 December runs on 2 December and is late from 4 December.
    Nothing here reads the clock or the database: callers pass "today" (in
    the schedule's time zone) and the last period end recorded.
*/
#ifndef SD_SCHEDULE_H
#define SD_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

#include "sd_config.h"
#include "sd_period.h"

//  Days after the run day from which a report is sent without waiting for
//  complete data.
#define SD_SCHEDULE_LATE_DAYS 2

typedef struct {
    sd_frequency frequency;
    int weekday; //  WEEKLY: run day, 0 = Monday .. 6 = Sunday
    int day;     //  MONTHLY: run day of the month, 1..28
} sd_schedule_rule;

//  Fills rule from a scheduled report of the config. Returns 0, or -1 when
//  the frequency, weekday or day is invalid (sd_config_load rejects those).
int sd_schedule_rule_from_config(const sd_config_report *report, sd_schedule_rule *rule);

//  Returns true when date is the last day of one of the rule's periods.
bool sd_schedule_is_period_end(const sd_schedule_rule *rule, sd_date date);

//  Returns the last day of the period that contains date.
sd_date sd_schedule_period_end(const sd_schedule_rule *rule, sd_date date);

//  Returns the end of the first period that ends after date.
sd_date sd_schedule_next_end(const sd_schedule_rule *rule, sd_date date);

//  Returns the day on which the period ending on end becomes due.
sd_date sd_schedule_run_day(const sd_schedule_rule *rule, sd_date end);

//  Returns the end of the most recent period whose run day is today or
//  earlier: the first period a report that never ran is sent for.
sd_date sd_schedule_latest_end(const sd_schedule_rule *rule, sd_date today);

//  Returns true when the period ending on end is due today and at least
//  SD_SCHEDULE_LATE_DAYS days past its run day.
bool sd_schedule_is_late(const sd_schedule_rule *rule, sd_date end, sd_date today);

//  Lists the period ends due today, oldest first: every period after
//  last_end (NULL when the report never ran: only the latest due period)
//  whose run day is today or earlier. Writes at most max of them to ends
//  and returns how many are due in total, which may exceed max.
size_t sd_schedule_due(const sd_schedule_rule *rule, const sd_date *last_end, sd_date today,
                       sd_date *ends, size_t max);

#endif

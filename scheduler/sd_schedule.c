/*  sd_schedule: period ends, run days and due periods of scheduled reports.  */
#include "sd_schedule.h"

#include <string.h>

static sd_date s_month_end(int year, int month)
{
    sd_date end = {year, month, sd_date_days_in_month(year, month)};
    return end;
}

//  Returns the weekday on which the rule's weekly periods end.
static int s_weekly_end_weekday(const sd_schedule_rule *rule)
{
    return (rule->weekday + 6) % 7;
}

int sd_schedule_rule_from_config(const sd_config_report *report, sd_schedule_rule *rule)
{
    memset(rule, 0, sizeof *rule);
    if (!report->frequency || sd_frequency_parse(report->frequency, &rule->frequency) != 0)
        return -1;
    rule->weekday = report->weekday;
    rule->day = report->day;
    if (rule->frequency == SD_FREQUENCY_WEEKLY && (rule->weekday < 0 || rule->weekday > 6))
        return -1;
    if (rule->frequency == SD_FREQUENCY_MONTHLY && (rule->day < 1 || rule->day > 28))
        return -1;
    return 0;
}

sd_date sd_schedule_period_end(const sd_schedule_rule *rule, sd_date date)
{
    switch (rule->frequency) {
    case SD_FREQUENCY_WEEKLY: {
        int days = (s_weekly_end_weekday(rule) - sd_date_weekday(date) + 7) % 7;
        return sd_date_add_days(date, days);
    }
    case SD_FREQUENCY_MONTHLY:
        return s_month_end(date.year, date.month);
    default:
        return date;
    }
}

bool sd_schedule_is_period_end(const sd_schedule_rule *rule, sd_date date)
{
    return sd_date_compare(sd_schedule_period_end(rule, date), date) == 0;
}

sd_date sd_schedule_next_end(const sd_schedule_rule *rule, sd_date date)
{
    return sd_schedule_period_end(rule, sd_date_add_days(date, 1));
}

sd_date sd_schedule_run_day(const sd_schedule_rule *rule, sd_date end)
{
    sd_date next = sd_date_add_days(end, 1);
    if (rule->frequency != SD_FREQUENCY_MONTHLY)
        return next;

    //  The day after a month end is the first of the next month.
    sd_date run = {next.year, next.month, rule->day};
    return run;
}

sd_date sd_schedule_latest_end(const sd_schedule_rule *rule, sd_date today)
{
    sd_date yesterday = sd_date_add_days(today, -1);
    switch (rule->frequency) {
    case SD_FREQUENCY_WEEKLY: {
        int days = (sd_date_weekday(yesterday) - s_weekly_end_weekday(rule) + 7) % 7;
        return sd_date_add_days(yesterday, -days);
    }
    case SD_FREQUENCY_MONTHLY: {
        //  Last month's report runs on day N of this month; before that
        //  day the latest due report is the one for the month before.
        sd_date first = {today.year, today.month, 1};
        sd_date end = sd_date_add_days(first, -1);
        if (today.day < rule->day)
            end = sd_date_add_days((sd_date){end.year, end.month, 1}, -1);
        return end;
    }
    default:
        return yesterday;
    }
}

bool sd_schedule_is_late(const sd_schedule_rule *rule, sd_date end, sd_date today)
{
    sd_date run = sd_schedule_run_day(rule, end);
    return sd_date_diff_days(run, today) >= SD_SCHEDULE_LATE_DAYS;
}

size_t sd_schedule_due(const sd_schedule_rule *rule, const sd_date *last_end, sd_date today,
                       sd_date *ends, size_t max)
{
    sd_date latest = sd_schedule_latest_end(rule, today);
    sd_date end = last_end ? sd_schedule_next_end(rule, *last_end) : latest;
    size_t count = 0;
    while (sd_date_compare(end, latest) <= 0) {
        if (count < max)
            ends[count] = end;
        count++;
        end = sd_schedule_next_end(rule, end);
    }
    return count;
}

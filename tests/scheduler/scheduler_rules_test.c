/*  Tests of sd_schedule and sd_timezone: period ends, run days, due and
    late periods, catch-up order, and the config's checks of day and weekday.
    Every expected date below was worked out by hand from a calendar.  */
#include "sd_schedule.h"
#include "sd_timezone.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static sd_date s_date(const char *text)
{
    sd_date date;
    if (sd_date_parse(text, &date) != 0)
        fail_msg("bad date in test table: %s", text);
    return date;
}

static void s_assert_date(sd_date actual, const char *expected, const char *context)
{
    char text[11];
    sd_date_format(actual, text);
    if (strcmp(text, expected) != 0)
        fail_msg("%s: expected %s, got %s", context, expected, text);
}

static sd_schedule_rule s_rule(sd_frequency frequency, int weekday, int day)
{
    sd_schedule_rule rule = {frequency, weekday, day};
    return rule;
}

typedef struct {
    int day;                        //  MONTHLY run day
    const char *last_end;           //  last period recorded
    const char *next_end;           //  expected next period
    const char *run_day;            //  expected run day of the next period
} monthly_case;

//  The next monthly period after a recorded month end, and the day it runs.
static void monthly_next_from_month_ends(void **state)
{
    (void)state;
    static const monthly_case cases[] = {
        {1, "2025-01-31", "2025-02-28", "2025-03-01"},
        {1, "2024-01-31", "2024-02-29", "2024-03-01"},
        {1, "2025-02-28", "2025-03-31", "2025-04-01"},
        {1, "2024-02-29", "2024-03-31", "2024-04-01"},
        {1, "2025-11-30", "2025-12-31", "2026-01-01"},
        {1, "2025-12-31", "2026-01-31", "2026-02-01"},
        {15, "2025-01-31", "2025-02-28", "2025-03-15"},
        {28, "2024-01-31", "2024-02-29", "2024-03-28"},
        {28, "2026-11-30", "2026-12-31", "2027-01-28"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sd_schedule_rule rule = s_rule(SD_FREQUENCY_MONTHLY, 0, cases[i].day);
        sd_date next = sd_schedule_next_end(&rule, s_date(cases[i].last_end));
        char context[64];
        snprintf(context, sizeof context, "case %zu (day %d after %s)", i, cases[i].day,
                 cases[i].last_end);
        s_assert_date(next, cases[i].next_end, context);
        s_assert_date(sd_schedule_run_day(&rule, next), cases[i].run_day, context);
    }
}

//  Every valid run day: the January report runs on day N of February.
static void monthly_every_valid_day(void **state)
{
    (void)state;
    for (int day = 1; day <= 28; day++) {
        sd_schedule_rule rule = s_rule(SD_FREQUENCY_MONTHLY, 0, day);
        sd_date run = sd_schedule_run_day(&rule, s_date("2025-01-31"));
        assert_int_equal(run.year, 2025);
        assert_int_equal(run.month, 2);
        assert_int_equal(run.day, day);

        //  Due on its run day, not the day before.
        sd_date ends[4];
        sd_date before = sd_date_add_days(run, -1);
        sd_date last = s_date("2024-12-31");
        assert_int_equal(sd_schedule_due(&rule, &last, run, ends, 4), 1);
        s_assert_date(ends[0], "2025-01-31", "due on the run day");
        assert_int_equal(sd_schedule_due(&rule, &last, before, ends, 4), 0);
    }
}

//  Twelve monthly runs in a row, each on day 3 of the next month.
static void monthly_sequence_over_a_year(void **state)
{
    (void)state;
    static const char *const ends[] = {"2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30",
                                       "2025-05-31", "2025-06-30", "2025-07-31", "2025-08-31",
                                       "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31"};
    static const char *const runs[] = {"2025-02-03", "2025-03-03", "2025-04-03", "2025-05-03",
                                       "2025-06-03", "2025-07-03", "2025-08-03", "2025-09-03",
                                       "2025-10-03", "2025-11-03", "2025-12-03", "2026-01-03"};
    sd_schedule_rule rule = s_rule(SD_FREQUENCY_MONTHLY, 0, 3);
    sd_date last = s_date("2024-12-31");
    for (size_t i = 0; i < 12; i++) {
        sd_date run = s_date(runs[i]);
        sd_date due[2];
        //  Nothing is due the day before the run day.
        assert_int_equal(sd_schedule_due(&rule, &last, sd_date_add_days(run, -1), due, 2), 0);
        assert_int_equal(sd_schedule_due(&rule, &last, run, due, 2), 1);
        s_assert_date(due[0], ends[i], "monthly sequence");
        last = due[0];
    }
}

//  A report that never ran starts with the latest period whose run day
//  has come.
static void first_run_takes_latest_period(void **state)
{
    (void)state;
    sd_schedule_rule monthly = s_rule(SD_FREQUENCY_MONTHLY, 0, 5);
    s_assert_date(sd_schedule_latest_end(&monthly, s_date("2026-03-05")), "2026-02-28",
                  "monthly on the run day");
    s_assert_date(sd_schedule_latest_end(&monthly, s_date("2026-03-04")), "2026-01-31",
                  "monthly before the run day");
    sd_schedule_rule daily = s_rule(SD_FREQUENCY_DAILY, 0, 1);
    s_assert_date(sd_schedule_latest_end(&daily, s_date("2026-12-02")), "2026-12-01", "daily");
    //  2026-12-02 is a Wednesday; Monday reports cover Monday-Sunday.
    sd_schedule_rule monday = s_rule(SD_FREQUENCY_WEEKLY, 0, 1);
    s_assert_date(sd_schedule_latest_end(&monday, s_date("2026-12-02")), "2026-11-29",
                  "weekly on Monday");
    s_assert_date(sd_schedule_latest_end(&monday, s_date("2026-11-30")), "2026-11-29",
                  "weekly on the run day");
    s_assert_date(sd_schedule_latest_end(&monday, s_date("2026-11-29")), "2026-11-22",
                  "weekly the day before the run day");
    sd_schedule_rule wednesday = s_rule(SD_FREQUENCY_WEEKLY, 2, 1);
    s_assert_date(sd_schedule_latest_end(&wednesday, s_date("2026-12-02")), "2026-12-01",
                  "weekly on Wednesday");

    sd_date ends[2];
    assert_int_equal(sd_schedule_due(&daily, NULL, s_date("2026-12-02"), ends, 2), 1);
    s_assert_date(ends[0], "2026-12-01", "never run daily");
}

//  Weekly periods end the day before the weekday and run on it.
static void weekly_periods(void **state)
{
    (void)state;
    sd_schedule_rule monday = s_rule(SD_FREQUENCY_WEEKLY, 0, 1);
    assert_true(sd_schedule_is_period_end(&monday, s_date("2026-11-29")));  //  Sunday
    assert_false(sd_schedule_is_period_end(&monday, s_date("2026-11-30"))); //  Monday
    s_assert_date(sd_schedule_next_end(&monday, s_date("2026-11-29")), "2026-12-06", "next week");
    s_assert_date(sd_schedule_run_day(&monday, s_date("2026-11-29")), "2026-11-30", "run day");
    s_assert_date(sd_schedule_period_end(&monday, s_date("2026-12-02")), "2026-12-06",
                  "week containing a Wednesday");

    sd_schedule_rule sunday = s_rule(SD_FREQUENCY_WEEKLY, 6, 1);
    assert_true(sd_schedule_is_period_end(&sunday, s_date("2026-12-05"))); //  Saturday
    s_assert_date(sd_schedule_run_day(&sunday, s_date("2026-12-05")), "2026-12-06", "Sunday run");

    //  Three weeks missed: all three, oldest first.
    sd_date ends[4];
    sd_date last = s_date("2026-11-08");
    assert_int_equal(sd_schedule_due(&monday, &last, s_date("2026-12-02"), ends, 4), 3);
    s_assert_date(ends[0], "2026-11-15", "first missed week");
    s_assert_date(ends[1], "2026-11-22", "second missed week");
    s_assert_date(ends[2], "2026-11-29", "third missed week");
}

//  Daily and week-on-week daily reports: every day, run the next day.
static void daily_periods(void **state)
{
    (void)state;
    sd_frequency frequencies[] = {SD_FREQUENCY_DAILY, SD_FREQUENCY_WOW_DAILY};
    for (size_t i = 0; i < 2; i++) {
        sd_schedule_rule rule = s_rule(frequencies[i], 0, 1);
        assert_true(sd_schedule_is_period_end(&rule, s_date("2024-02-29")));
        s_assert_date(sd_schedule_next_end(&rule, s_date("2024-02-28")), "2024-02-29", "leap");
        s_assert_date(sd_schedule_next_end(&rule, s_date("2025-02-28")), "2025-03-01",
                      "non-leap");
        s_assert_date(sd_schedule_run_day(&rule, s_date("2026-12-31")), "2027-01-01",
                      "year end");
        sd_date ends[2];
        sd_date last = s_date("2026-12-01");
        assert_int_equal(sd_schedule_due(&rule, &last, s_date("2026-12-02"), ends, 2), 0);
        assert_int_equal(sd_schedule_due(&rule, &last, s_date("2026-12-03"), ends, 2), 1);
        s_assert_date(ends[0], "2026-12-02", "next day");
    }
}

//  After 5 days down, the 5 missed days come oldest first, and the count
//  is reported even when the buffer is shorter.
static void catch_up_after_five_days(void **state)
{
    (void)state;
    sd_schedule_rule rule = s_rule(SD_FREQUENCY_DAILY, 0, 1);
    sd_date last = s_date("2026-11-26");
    sd_date ends[8];
    assert_int_equal(sd_schedule_due(&rule, &last, s_date("2026-12-02"), ends, 8), 5);
    static const char *const expected[] = {"2026-11-27", "2026-11-28", "2026-11-29",
                                           "2026-11-30", "2026-12-01"};
    for (size_t i = 0; i < 5; i++)
        s_assert_date(ends[i], expected[i], "catch-up order");
    sd_date short_buffer[2];
    assert_int_equal(sd_schedule_due(&rule, &last, s_date("2026-12-02"), short_buffer, 2), 5);
    s_assert_date(short_buffer[0], "2026-11-27", "first of a short buffer");
    s_assert_date(short_buffer[1], "2026-11-28", "second of a short buffer");
}

//  Late means 2 or more days after the run day.
static void late_after_two_days(void **state)
{
    (void)state;
    sd_schedule_rule daily = s_rule(SD_FREQUENCY_DAILY, 0, 1);
    sd_date end = s_date("2026-12-02");
    assert_false(sd_schedule_is_late(&daily, end, s_date("2026-12-03")));
    assert_false(sd_schedule_is_late(&daily, end, s_date("2026-12-04")));
    assert_true(sd_schedule_is_late(&daily, end, s_date("2026-12-05")));
    assert_true(sd_schedule_is_late(&daily, end, s_date("2026-12-20")));

    sd_schedule_rule monthly = s_rule(SD_FREQUENCY_MONTHLY, 0, 1);
    assert_false(sd_schedule_is_late(&monthly, s_date("2025-02-28"), s_date("2025-03-02")));
    assert_true(sd_schedule_is_late(&monthly, s_date("2025-02-28"), s_date("2025-03-03")));
}

//  UTC, fixed offsets and an IANA zone, around midnight UTC.
static void timezone_today(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(sd_time_parse("2026-12-02T23:30:00Z", &ms), 0);
    sd_timezone zone;
    char error[300];
    assert_int_equal(sd_timezone_parse("UTC", &zone, error, sizeof error), 0);
    s_assert_date(sd_timezone_date(&zone, ms), "2026-12-02", "UTC");
    assert_int_equal(sd_timezone_parse("+01:00", &zone, error, sizeof error), 0);
    s_assert_date(sd_timezone_date(&zone, ms), "2026-12-03", "+01:00");
    assert_int_equal(sd_timezone_parse("-0500", &zone, error, sizeof error), 0);
    s_assert_date(sd_timezone_date(&zone, ms), "2026-12-02", "-0500");
    assert_int_equal(sd_timezone_parse("+1500", &zone, error, sizeof error), -1);
    assert_int_equal(sd_timezone_parse("Mars/Olympus", &zone, error, sizeof error), -1);
    assert_non_null(strstr(error, "Mars/Olympus"));
    if (access("/usr/share/zoneinfo/Asia/Tokyo", R_OK) == 0) {
        assert_int_equal(sd_timezone_parse("Asia/Tokyo", &zone, error, sizeof error), 0);
        s_assert_date(sd_timezone_date(&zone, ms), "2026-12-03", "Asia/Tokyo");
    }
}

//  Writes a config with one monthly report on the given day (JSON text)
//  and returns what sd_config_load made of it.
static sd_config *s_load_monthly(const char *day, char *error, size_t size)
{
    char path[] = "/tmp/sd-scheduler-rules-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *file = fdopen(fd, "w");
    assert_non_null(file);
    fprintf(file, "{\"ga\": {\"sites\": {\"a\": [{\"property\": \"1\"}]}}, \"schedule\": "
                  "[{\"id\": \"monthly-core\", \"report\": \"ga-core\", \"frequency\": "
                  "\"MONTHLY\", \"day\": %s}]}", day);
    assert_int_equal(fclose(file), 0);
    sd_config_error err;
    sd_config *config = sd_config_load(path, &err);
    if (!config)
        sd_config_error_line(&err, error, size);
    unlink(path);
    return config;
}

//  Days outside 1..28 are config errors that name the report.
static void config_rejects_invalid_days(void **state)
{
    (void)state;
    static const char *const invalid[] = {"0", "29", "30", "31", "50", "-10"};
    char error[1400];
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        sd_config *config = s_load_monthly(invalid[i], error, sizeof error);
        if (config)
            fail_msg("day %s was accepted", invalid[i]);
        assert_non_null(strstr(error, "schedule[0].day"));
        assert_non_null(strstr(error, "monthly-core"));
    }
    for (int day = 1; day <= 28; day++) {
        char text[8];
        snprintf(text, sizeof text, "%d", day);
        sd_config *config = s_load_monthly(text, error, sizeof error);
        if (!config)
            fail_msg("day %d was rejected: %s", day, error);
        sd_schedule_rule rule;
        assert_int_equal(sd_schedule_rule_from_config(&config->schedule[0], &rule), 0);
        assert_int_equal(rule.day, day);
        sd_config_destroy(&config);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(monthly_next_from_month_ends),
        cmocka_unit_test(monthly_every_valid_day),
        cmocka_unit_test(monthly_sequence_over_a_year),
        cmocka_unit_test(first_run_takes_latest_period),
        cmocka_unit_test(weekly_periods),
        cmocka_unit_test(daily_periods),
        cmocka_unit_test(catch_up_after_five_days),
        cmocka_unit_test(late_after_two_days),
        cmocka_unit_test(timezone_today),
        cmocka_unit_test(config_rejects_invalid_days),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

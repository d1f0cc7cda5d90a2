/*  Tests of sd_period: date parsing and arithmetic, report periods, subjects,
    ISO 8601 times and STATSDASH_NOW. Expected values were computed by hand
    from the calendar (and 1970-01-01 being a Thursday).

    Usage: test_period dates|periods|subjects|time
*/
#include "sd_period.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static sd_date s_date(const char *text)
{
    sd_date date = {0, 0, 0};
    assert_int_equal(sd_date_parse(text, &date), 0);
    return date;
}

static void s_assert_date(sd_date actual, const char *expected)
{
    char buffer[11];
    sd_date_format(actual, buffer);
    assert_string_equal(buffer, expected);
}

static void test_date_parse_valid(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int year, month, day;
    } cases[] = {
        {"2024-02-29", 2024, 2, 29},  {"2000-02-29", 2000, 2, 29},
        {"1900-01-01", 1900, 1, 1},   {"9999-12-31", 9999, 12, 31},
        {"2026-12-01", 2026, 12, 1},  {"2026-04-30", 2026, 4, 30},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sd_date date;
        assert_int_equal(sd_date_parse(cases[i].text, &date), 0);
        assert_int_equal(date.year, cases[i].year);
        assert_int_equal(date.month, cases[i].month);
        assert_int_equal(date.day, cases[i].day);
    }
}

static void test_date_parse_invalid(void **state)
{
    (void)state;
    static const char *cases[] = {
        "2026-02-29",  "1900-02-29",  "2100-02-29", "2026-13-01", "2026-00-10",
        "2026-01-00",  "2026-04-31",  "2026-1-1",   "2026-01-1",  "2026-01-01x",
        "2026-01-01 ", " 2026-01-01", "20260101",   "2026/01/01", "1899-12-31",
        "2026-01-0a",  "+026-01-01",  "",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sd_date date = {1, 1, 1};
        assert_int_equal(sd_date_parse(cases[i], &date), -1);
        assert_int_equal(date.year, 1);
    }
    sd_date date;
    assert_int_equal(sd_date_parse(NULL, &date), -1);
}

static void test_date_add_days(void **state)
{
    (void)state;
    static const struct {
        const char *from;
        int days;
        const char *expected;
    } cases[] = {
        {"2026-12-31", 1, "2027-01-01"},  {"2027-01-01", -1, "2026-12-31"},
        {"2024-02-28", 1, "2024-02-29"},  {"2024-03-01", -1, "2024-02-29"},
        {"2023-02-28", 1, "2023-03-01"},  {"2026-03-01", -1, "2026-02-28"},
        {"2000-02-28", 2, "2000-03-01"},  {"2100-02-28", 1, "2100-03-01"},
        {"1970-01-01", -1, "1969-12-31"}, {"2024-02-29", -364, "2023-03-02"},
        {"2026-11-29", -6, "2026-11-23"}, {"2026-01-02", -6, "2025-12-27"},
        {"2026-06-15", 0, "2026-06-15"},  {"2024-01-01", 366, "2025-01-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        s_assert_date(sd_date_add_days(s_date(cases[i].from), cases[i].days), cases[i].expected);
}

static void test_date_diff_days(void **state)
{
    (void)state;
    assert_int_equal(sd_date_diff_days(s_date("2024-01-01"), s_date("2025-01-01")), 366);
    assert_int_equal(sd_date_diff_days(s_date("2023-01-01"), s_date("2024-01-01")), 365);
    assert_int_equal(sd_date_diff_days(s_date("1970-01-01"), s_date("2000-01-01")), 10957);
    assert_int_equal(sd_date_diff_days(s_date("2026-12-02"), s_date("1970-01-01")), -20789);
    assert_int_equal(sd_date_diff_days(s_date("2026-02-28"), s_date("2026-03-01")), 1);
}

static void test_date_weekday(void **state)
{
    (void)state;
    static const struct {
        const char *date;
        int weekday;
    } cases[] = {
        {"1970-01-01", 3}, {"1900-01-01", 0}, {"2000-01-01", 5}, {"2024-02-29", 3},
        {"2026-12-01", 1}, {"2026-11-29", 6}, {"2026-11-23", 0}, {"2023-03-02", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(sd_date_weekday(s_date(cases[i].date)), cases[i].weekday);
}

static void test_date_month_lengths(void **state)
{
    (void)state;
    assert_int_equal(sd_date_days_in_month(2024, 2), 29);
    assert_int_equal(sd_date_days_in_month(2023, 2), 28);
    assert_int_equal(sd_date_days_in_month(2000, 2), 29);
    assert_int_equal(sd_date_days_in_month(1900, 2), 28);
    assert_int_equal(sd_date_days_in_month(2026, 4), 30);
    assert_int_equal(sd_date_days_in_month(2026, 12), 31);
    assert_int_equal(sd_date_days_in_month(2026, 13), 0);
}

static void test_date_compare_and_year_earlier(void **state)
{
    (void)state;
    assert_true(sd_date_compare(s_date("2026-01-01"), s_date("2025-12-31")) > 0);
    assert_true(sd_date_compare(s_date("2026-01-31"), s_date("2026-02-01")) < 0);
    assert_int_equal(sd_date_compare(s_date("2026-05-05"), s_date("2026-05-05")), 0);

    s_assert_date(sd_date_year_earlier(s_date("2024-02-29")), "2023-02-28");
    s_assert_date(sd_date_year_earlier(s_date("2025-02-28")), "2024-02-28");
    s_assert_date(sd_date_year_earlier(s_date("2025-03-01")), "2024-03-01");
    s_assert_date(sd_date_year_earlier(s_date("2026-12-01")), "2025-12-01");
}

static void test_frequency_names(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        sd_frequency frequency;
        const char *label;
    } cases[] = {
        {"DAILY", SD_FREQUENCY_DAILY, "DoD"},
        {"WOW_DAILY", SD_FREQUENCY_WOW_DAILY, "WoW"},
        {"WEEKLY", SD_FREQUENCY_WEEKLY, "WoW"},
        {"MONTHLY", SD_FREQUENCY_MONTHLY, "MoM"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sd_frequency frequency;
        assert_int_equal(sd_frequency_parse(cases[i].name, &frequency), 0);
        assert_int_equal(frequency, cases[i].frequency);
        assert_string_equal(sd_frequency_name(frequency), cases[i].name);
        assert_string_equal(sd_frequency_label(frequency), cases[i].label);
    }
    sd_frequency frequency;
    assert_int_equal(sd_frequency_parse("weekly", &frequency), -1);
    assert_int_equal(sd_frequency_parse("", &frequency), -1);
    assert_int_equal(sd_frequency_parse(NULL, &frequency), -1);
}

static void test_report_periods(void **state)
{
    (void)state;
    static const struct {
        sd_frequency frequency;
        const char *date;
        bool weekday_aligned;
        const char *current[2];
        const char *previous[2];
        const char *yearly[2];
    } cases[] = {
        //  Daily: D vs D-1, across a year boundary and a leap day.
        {SD_FREQUENCY_DAILY, "2026-12-01", false,
         {"2026-12-01", "2026-12-01"}, {"2026-11-30", "2026-11-30"}, {"2025-12-01", "2025-12-01"}},
        {SD_FREQUENCY_DAILY, "2026-01-01", false,
         {"2026-01-01", "2026-01-01"}, {"2025-12-31", "2025-12-31"}, {"2025-01-01", "2025-01-01"}},
        {SD_FREQUENCY_DAILY, "2024-02-29", false,
         {"2024-02-29", "2024-02-29"}, {"2024-02-28", "2024-02-28"}, {"2023-02-28", "2023-02-28"}},
        {SD_FREQUENCY_DAILY, "2024-03-01", false,
         {"2024-03-01", "2024-03-01"}, {"2024-02-29", "2024-02-29"}, {"2023-03-01", "2023-03-01"}},
        {SD_FREQUENCY_DAILY, "2024-02-29", true,
         {"2024-02-29", "2024-02-29"}, {"2024-02-28", "2024-02-28"}, {"2023-03-02", "2023-03-02"}},

        //  Day of week: D vs D-7.
        {SD_FREQUENCY_WOW_DAILY, "2026-12-01", false,
         {"2026-12-01", "2026-12-01"}, {"2026-11-24", "2026-11-24"}, {"2025-12-01", "2025-12-01"}},
        {SD_FREQUENCY_WOW_DAILY, "2026-03-03", false,
         {"2026-03-03", "2026-03-03"}, {"2026-02-24", "2026-02-24"}, {"2025-03-03", "2025-03-03"}},

        //  Weekly: 7 days ending D, within a month, across months, years and
        //  a leap day, and aligned by weekday.
        {SD_FREQUENCY_WEEKLY, "2026-11-29", false,
         {"2026-11-23", "2026-11-29"}, {"2026-11-16", "2026-11-22"}, {"2025-11-23", "2025-11-29"}},
        {SD_FREQUENCY_WEEKLY, "2026-11-29", true,
         {"2026-11-23", "2026-11-29"}, {"2026-11-16", "2026-11-22"}, {"2025-11-24", "2025-11-30"}},
        {SD_FREQUENCY_WEEKLY, "2026-12-03", false,
         {"2026-11-27", "2026-12-03"}, {"2026-11-20", "2026-11-26"}, {"2025-11-27", "2025-12-03"}},
        {SD_FREQUENCY_WEEKLY, "2026-01-02", false,
         {"2025-12-27", "2026-01-02"}, {"2025-12-20", "2025-12-26"}, {"2024-12-27", "2025-01-02"}},
        {SD_FREQUENCY_WEEKLY, "2024-02-29", false,
         {"2024-02-23", "2024-02-29"}, {"2024-02-16", "2024-02-22"}, {"2023-02-23", "2023-02-28"}},
        {SD_FREQUENCY_WEEKLY, "2024-03-03", false,
         {"2024-02-26", "2024-03-03"}, {"2024-02-19", "2024-02-25"}, {"2023-02-26", "2023-03-03"}},

        //  Monthly: the whole calendar month of D, whatever day D is.
        {SD_FREQUENCY_MONTHLY, "2026-11-30", false,
         {"2026-11-01", "2026-11-30"}, {"2026-10-01", "2026-10-31"}, {"2025-11-01", "2025-11-30"}},
        {SD_FREQUENCY_MONTHLY, "2026-11-15", false,
         {"2026-11-01", "2026-11-30"}, {"2026-10-01", "2026-10-31"}, {"2025-11-01", "2025-11-30"}},
        {SD_FREQUENCY_MONTHLY, "2026-01-31", false,
         {"2026-01-01", "2026-01-31"}, {"2025-12-01", "2025-12-31"}, {"2025-01-01", "2025-01-31"}},
        {SD_FREQUENCY_MONTHLY, "2024-02-29", false,
         {"2024-02-01", "2024-02-29"}, {"2024-01-01", "2024-01-31"}, {"2023-02-01", "2023-02-28"}},
        {SD_FREQUENCY_MONTHLY, "2024-03-31", false,
         {"2024-03-01", "2024-03-31"}, {"2024-02-01", "2024-02-29"}, {"2023-03-01", "2023-03-31"}},
        {SD_FREQUENCY_MONTHLY, "2025-02-28", false,
         {"2025-02-01", "2025-02-28"}, {"2025-01-01", "2025-01-31"}, {"2024-02-01", "2024-02-29"}},
        {SD_FREQUENCY_MONTHLY, "2024-02-29", true,
         {"2024-02-01", "2024-02-29"}, {"2024-01-01", "2024-01-31"}, {"2023-02-02", "2023-03-02"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sd_report_periods periods;
        sd_report_periods_compute(cases[i].frequency, s_date(cases[i].date),
                                  cases[i].weekday_aligned, &periods);
        assert_int_equal(periods.frequency, cases[i].frequency);
        s_assert_date(periods.current.start, cases[i].current[0]);
        s_assert_date(periods.current.end, cases[i].current[1]);
        s_assert_date(periods.previous.start, cases[i].previous[0]);
        s_assert_date(periods.previous.end, cases[i].previous[1]);
        s_assert_date(periods.yearly.start, cases[i].yearly[0]);
        s_assert_date(periods.yearly.end, cases[i].yearly[1]);
    }
}

static void test_subjects(void **state)
{
    (void)state;
    static const struct {
        sd_frequency frequency;
        const char *start;
        const char *end;
        const char *expected;
    } cases[] = {
        {SD_FREQUENCY_DAILY, "2026-12-01", "2026-12-01", "Tue 01 Dec 2026"},
        {SD_FREQUENCY_WOW_DAILY, "2024-02-29", "2024-02-29", "Thu 29 Feb 2024"},
        {SD_FREQUENCY_WEEKLY, "2026-11-23", "2026-11-29", "Mon 23 Nov 2026 - Sun 29 Nov 2026"},
        {SD_FREQUENCY_WEEKLY, "2025-12-27", "2026-01-02", "Sat 27 Dec 2025 - Fri 02 Jan 2026"},
        {SD_FREQUENCY_MONTHLY, "2026-11-01", "2026-11-30", "November 2026"},
        {SD_FREQUENCY_MONTHLY, "2024-02-01", "2024-02-29", "February 2024"},
        {SD_FREQUENCY_MONTHLY, "2025-09-01", "2025-09-30", "September 2025"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sd_date_range range = {s_date(cases[i].start), s_date(cases[i].end)};
        char buffer[64];
        sd_period_describe(cases[i].frequency, &range, buffer, sizeof buffer);
        assert_string_equal(buffer, cases[i].expected);
    }

    //  A short buffer is truncated, never overrun.
    sd_date_range range = {s_date("2026-12-01"), s_date("2026-12-01")};
    char small[8];
    sd_period_describe(SD_FREQUENCY_DAILY, &range, small, sizeof small);
    assert_string_equal(small, "Tue 01 ");
}

//  2026-12-02T00:00:00Z: 20789 days after the Unix epoch.
#define MIDNIGHT_2026_12_02 1796169600000LL

static void test_time_parse_valid(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1000},
        {"2026-12-02", MIDNIGHT_2026_12_02},
        {"2026-12-02T18:00:00Z", MIDNIGHT_2026_12_02 + 18 * 3600000LL},
        {"2026-12-02T19:00:00+01:00", MIDNIGHT_2026_12_02 + 18 * 3600000LL},
        {"2026-12-02T13:30:00-04:30", MIDNIGHT_2026_12_02 + 18 * 3600000LL},
        {"2026-12-02T00:30:00+01:00", MIDNIGHT_2026_12_02 - 1800000LL},
        {"2026-12-02T18:00:00.250Z", MIDNIGHT_2026_12_02 + 18 * 3600000LL + 250},
        {"2026-12-02T18:00:00.5Z", MIDNIGHT_2026_12_02 + 18 * 3600000LL + 500},
        {"2026-12-02T18:00:00.123456Z", MIDNIGHT_2026_12_02 + 18 * 3600000LL + 123},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = 0;
        assert_int_equal(sd_time_parse(cases[i].text, &ms), 0);
        assert_int_equal(ms, cases[i].ms);
    }
}

static void test_time_parse_invalid(void **state)
{
    (void)state;
    static const char *cases[] = {
        "2026-12-02T18:00:00",        "2026-12-02 18:00:00Z",      "2026-12-02T24:00:00Z",
        "2026-12-02T18:60:00Z",       "2026-12-02T18:00Z",         "2026-12-02T18:00:00+0100",
        "2026-12-02T18:00:00Zjunk",   "2026-12-02T18:00:00+01:00x", "2026-02-29T00:00:00Z",
        "2026-12-02T18:00:00.Z",      "2026-12-02T",               "2026-12-02x",
        "2026-12-02T18:00:00+24:00",  "2026-12-02t18:00:00z",      "",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = 42;
        assert_int_equal(sd_time_parse(cases[i], &ms), -1);
        assert_int_equal(ms, 42);
    }
    int64_t ms;
    assert_int_equal(sd_time_parse(NULL, &ms), -1);
}

static void test_date_from_ms(void **state)
{
    (void)state;
    s_assert_date(sd_date_from_ms(0), "1970-01-01");
    s_assert_date(sd_date_from_ms(-1), "1969-12-31");
    s_assert_date(sd_date_from_ms(MIDNIGHT_2026_12_02), "2026-12-02");
    s_assert_date(sd_date_from_ms(MIDNIGHT_2026_12_02 - 1), "2026-12-01");
    s_assert_date(sd_date_from_ms(MIDNIGHT_2026_12_02 + 18 * 3600000LL), "2026-12-02");
}

//  Asserts that a and b are within an hour of each other: far looser than
//  any scheduling delay, far tighter than the dates the tests set.
static void s_assert_near(int64_t a, int64_t b)
{
    int64_t gap = a > b ? a - b : b - a;
    assert_true(gap < 3600000);
}

static void test_now_from_environment(void **state)
{
    (void)state;
    assert_int_equal(setenv("STATSDASH_NOW", "2026-12-02T18:00:00Z", 1), 0);
    assert_int_equal(sd_now_ms(), MIDNIGHT_2026_12_02 + 18 * 3600000LL);

    assert_int_equal(setenv("STATSDASH_NOW", "2026-12-02T19:00:00+01:00", 1), 0);
    assert_int_equal(sd_now_ms(), MIDNIGHT_2026_12_02 + 18 * 3600000LL);

    assert_int_equal(setenv("STATSDASH_NOW", "2026-12-02", 1), 0);
    assert_int_equal(sd_now_ms(), MIDNIGHT_2026_12_02);

    //  An invalid value falls back to the system clock.
    assert_int_equal(setenv("STATSDASH_NOW", "yesterday", 1), 0);
    s_assert_near(sd_now_ms(), sd_clock_ms());
    assert_int_equal(setenv("STATSDASH_NOW", "", 1), 0);
    s_assert_near(sd_now_ms(), sd_clock_ms());
    assert_int_equal(unsetenv("STATSDASH_NOW"), 0);
    s_assert_near(sd_now_ms(), sd_clock_ms());

    //  The system clock is past 2020-01-01 (1577836800000 ms) on any machine
    //  that runs these tests.
    assert_true(sd_clock_ms() > 1577836800000LL);
}

int main(int argc, char *argv[])
{
    const struct CMUnitTest dates[] = {
        cmocka_unit_test(test_date_parse_valid),
        cmocka_unit_test(test_date_parse_invalid),
        cmocka_unit_test(test_date_add_days),
        cmocka_unit_test(test_date_diff_days),
        cmocka_unit_test(test_date_weekday),
        cmocka_unit_test(test_date_month_lengths),
        cmocka_unit_test(test_date_compare_and_year_earlier),
        cmocka_unit_test(test_frequency_names),
    };
    const struct CMUnitTest periods[] = {
        cmocka_unit_test(test_report_periods),
    };
    const struct CMUnitTest subjects[] = {
        cmocka_unit_test(test_subjects),
    };
    const struct CMUnitTest times[] = {
        cmocka_unit_test(test_time_parse_valid),
        cmocka_unit_test(test_time_parse_invalid),
        cmocka_unit_test(test_date_from_ms),
        cmocka_unit_test(test_now_from_environment),
    };
    const char *group = argc > 1 ? argv[1] : "";
    if (strcmp(group, "dates") == 0)
        return cmocka_run_group_tests_name("period_dates", dates, NULL, NULL);
    if (strcmp(group, "periods") == 0)
        return cmocka_run_group_tests_name("period_periods", periods, NULL, NULL);
    if (strcmp(group, "subjects") == 0)
        return cmocka_run_group_tests_name("period_subjects", subjects, NULL, NULL);
    if (strcmp(group, "time") == 0)
        return cmocka_run_group_tests_name("period_time", times, NULL, NULL);
    fprintf(stderr, "usage: %s dates|periods|subjects|time\n", argv[0]);
    return 2;
}

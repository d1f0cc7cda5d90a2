/*  fuzz_period: the date, time and frequency parsers of sd_period.

    The input is one string, cut at its first NUL as C callers would see
    it. A date that parses must be a real calendar date that formats back
    to the same text and parses as a time at midnight UTC. Its report
    periods must not end before they start, and the current one must end
    on the date (except monthly), for every frequency and both yearly
    alignments. A time that parses must land on a date from 1899 to 10000
    (an offset may move it a day across the year range 1900..9999).
*/
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sd_period.h"

static void s_check_date_range(const sd_date_range *range)
{
    char text[128];
    if (sd_date_compare(range->start, range->end) > 0)
        fuzz_fail("period starts after it ends");
    sd_period_describe(SD_FREQUENCY_WEEKLY, range, text, sizeof text);
}

static void s_check_periods(sd_date date)
{
    static const sd_frequency frequencies[] = {SD_FREQUENCY_DAILY, SD_FREQUENCY_WOW_DAILY,
                                               SD_FREQUENCY_WEEKLY, SD_FREQUENCY_MONTHLY};
    for (size_t i = 0; i < sizeof frequencies / sizeof frequencies[0]; i++) {
        for (int aligned = 0; aligned < 2; aligned++) {
            sd_report_periods periods;
            sd_report_periods_compute(frequencies[i], date, aligned != 0, &periods);
            bool monthly = frequencies[i] == SD_FREQUENCY_MONTHLY;
            if (!monthly && sd_date_compare(periods.current.end, date) != 0)
                fuzz_fail("current period does not end on the report date");
            s_check_date_range(&periods.current);
            s_check_date_range(&periods.previous);
            s_check_date_range(&periods.yearly);

            char text[128];
            sd_period_describe(frequencies[i], &periods.current, text, sizeof text);
        }
    }
}

static void s_check_date(const char *text, sd_date date)
{
    if (date.year < 1900 || date.year > 9999 || date.month < 1 || date.month > 12 || date.day < 1 ||
        date.day > sd_date_days_in_month(date.year, date.month))
        fuzz_fail("sd_date_parse accepted a date that does not exist: %s", text);

    char formatted[11];
    sd_date_format(date, formatted);
    if (strcmp(formatted, text) != 0)
        fuzz_fail("date \"%s\" formats back as \"%s\"", text, formatted);

    int64_t ms;
    if (sd_time_parse(text, &ms) != 0)
        fuzz_fail("sd_time_parse rejects the date \"%s\"", text);
    sd_date back = sd_date_from_ms(ms);
    if (sd_date_compare(back, date) != 0 || ms % (24 * 3600 * 1000) != 0)
        fuzz_fail("date \"%s\" is not midnight UTC as a time", text);
    s_check_periods(date);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    sd_date date;
    if (sd_date_parse(text, &date) == 0)
        s_check_date(text, date);

    int64_t ms;
    if (sd_time_parse(text, &ms) == 0) {
        sd_date day = sd_date_from_ms(ms);
        if (day.year < 1899 || day.year > 10000)
            fuzz_fail("time \"%s\" falls in year %d", text, day.year);
    }

    sd_frequency frequency;
    if (sd_frequency_parse(text, &frequency) == 0 &&
        strcmp(sd_frequency_name(frequency), text) != 0)
        fuzz_fail("frequency \"%s\" has the name \"%s\"", text, sd_frequency_name(frequency));
    free(text);
    return 0;
}

/*  sd_period: calendar arithmetic on proleptic Gregorian dates, report
    periods and the current time.

    Dates are converted to a day count since 1970-01-01 and back with the
    days-from-civil method (years counted from 1 March, in 400-year eras),
    so no step depends on the process's time zone or locale.
*/
#include "sd_period.h"

#include "sd_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SD_DAYS_PER_ERA 146097      //  days in 400 Gregorian years
#define SD_EPOCH_SHIFT 719468       //  days from 0000-03-01 to 1970-01-01
#define SD_MS_PER_DAY 86400000LL

static const char *s_month_names[] = {"January", "February", "March",     "April",
                                      "May",     "June",     "July",      "August",
                                      "September", "October", "November", "December"};

static const char *s_weekday_abbreviations[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

//  Floor division, so that dates before 1970 and before year 0 map correctly.
static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t quotient = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        quotient--;
    return quotient;
}

//  Returns the days since 1970-01-01 of a valid date.
static int64_t s_days_from_civil(sd_date date)
{
    int64_t year = date.year - (date.month <= 2 ? 1 : 0);
    int64_t era = s_floor_div(year, 400);
    int64_t year_of_era = year - era * 400;
    int64_t month_from_march = date.month > 2 ? date.month - 3 : date.month + 9;
    int64_t day_of_year = (153 * month_from_march + 2) / 5 + date.day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * SD_DAYS_PER_ERA + day_of_era - SD_EPOCH_SHIFT;
}

//  Inverse of s_days_from_civil.
static sd_date s_civil_from_days(int64_t days)
{
    days += SD_EPOCH_SHIFT;
    int64_t era = s_floor_div(days, SD_DAYS_PER_ERA);
    int64_t day_of_era = days - era * SD_DAYS_PER_ERA;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;

    sd_date date;
    date.day = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    date.month = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    date.year = (int)(year_of_era + era * 400 + (date.month <= 2 ? 1 : 0));
    return date;
}

static bool s_is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

//  Reads exactly count ASCII digits at text. Returns 0 or -1.
static int s_read_digits(const char *text, int count, int *value)
{
    int result = 0;
    for (int i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        result = result * 10 + (text[i] - '0');
    }
    *value = result;
    return 0;
}

//  Parses "YYYY-MM-DD" at the start of text without looking past it.
static int s_parse_date_prefix(const char *text, sd_date *date)
{
    sd_date parsed;
    if (s_read_digits(text, 4, &parsed.year) != 0 || text[4] != '-'
        || s_read_digits(text + 5, 2, &parsed.month) != 0 || text[7] != '-'
        || s_read_digits(text + 8, 2, &parsed.day) != 0)
        return -1;
    if (parsed.year < 1900 || parsed.month < 1 || parsed.month > 12 || parsed.day < 1
        || parsed.day > sd_date_days_in_month(parsed.year, parsed.month))
        return -1;
    *date = parsed;
    return 0;
}

int sd_date_parse(const char *text, sd_date *date)
{
    if (!text || strlen(text) != 10)
        return -1;
    return s_parse_date_prefix(text, date);
}

void sd_date_format(sd_date date, char buffer[11])
{
    snprintf(buffer, 11, "%04d-%02d-%02d", date.year, date.month, date.day);
}

sd_date sd_date_add_days(sd_date date, int days)
{
    return s_civil_from_days(s_days_from_civil(date) + days);
}

int sd_date_diff_days(sd_date a, sd_date b)
{
    return (int)(s_days_from_civil(b) - s_days_from_civil(a));
}

int sd_date_weekday(sd_date date)
{
    //  1970-01-01 was a Thursday, weekday 3 when Monday is 0.
    int64_t days = s_days_from_civil(date) + 3;
    return (int)(days - s_floor_div(days, 7) * 7);
}

int sd_date_days_in_month(int year, int month)
{
    static const int lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    if (month == 2 && s_is_leap_year(year))
        return 29;
    return lengths[month - 1];
}

int sd_date_compare(sd_date a, sd_date b)
{
    if (a.year != b.year)
        return a.year < b.year ? -1 : 1;
    if (a.month != b.month)
        return a.month < b.month ? -1 : 1;
    if (a.day != b.day)
        return a.day < b.day ? -1 : 1;
    return 0;
}

sd_date sd_date_year_earlier(sd_date date)
{
    sd_date earlier = {date.year - 1, date.month, date.day};
    if (earlier.month == 2 && earlier.day == 29 && !s_is_leap_year(earlier.year))
        earlier.day = 28;
    return earlier;
}

static const char *s_frequency_names[] = {"DAILY", "WOW_DAILY", "WEEKLY", "MONTHLY"};
static const char *s_frequency_labels[] = {"DoD", "WoW", "WoW", "MoM"};

int sd_frequency_parse(const char *text, sd_frequency *frequency)
{
    for (int i = 0; text && i <= SD_FREQUENCY_MONTHLY; i++) {
        if (strcmp(text, s_frequency_names[i]) == 0) {
            *frequency = (sd_frequency)i;
            return 0;
        }
    }
    return -1;
}

const char *sd_frequency_name(sd_frequency frequency)
{
    if ((int)frequency < 0 || frequency > SD_FREQUENCY_MONTHLY)
        return "UNKNOWN";
    return s_frequency_names[frequency];
}

const char *sd_frequency_label(sd_frequency frequency)
{
    if ((int)frequency < 0 || frequency > SD_FREQUENCY_MONTHLY)
        return "";
    return s_frequency_labels[frequency];
}

static sd_date_range s_range_shift(sd_date_range range, int days)
{
    sd_date_range shifted = {sd_date_add_days(range.start, days), sd_date_add_days(range.end, days)};
    return shifted;
}

static sd_date_range s_whole_month(int year, int month)
{
    sd_date_range range = {{year, month, 1}, {year, month, sd_date_days_in_month(year, month)}};
    return range;
}

//  The monthly yearly period is the whole month a year earlier, so February
//  2024 (29 days) compares with February 2023 (28 days).
static sd_date_range s_yearly_range(sd_frequency frequency, sd_date_range current,
                                    bool weekday_aligned)
{
    if (weekday_aligned)
        return s_range_shift(current, -364);
    if (frequency == SD_FREQUENCY_MONTHLY)
        return s_whole_month(current.start.year - 1, current.start.month);
    sd_date_range range = {sd_date_year_earlier(current.start), sd_date_year_earlier(current.end)};
    return range;
}

void sd_report_periods_compute(sd_frequency frequency, sd_date date, bool weekday_aligned,
                               sd_report_periods *periods)
{
    sd_date_range day = {date, date};
    periods->frequency = frequency;
    switch (frequency) {
    case SD_FREQUENCY_WOW_DAILY:
        periods->current = day;
        periods->previous = s_range_shift(day, -7);
        break;
    case SD_FREQUENCY_WEEKLY:
        periods->current.start = sd_date_add_days(date, -6);
        periods->current.end = date;
        periods->previous = s_range_shift(periods->current, -7);
        break;
    case SD_FREQUENCY_MONTHLY: {
        sd_date before = sd_date_add_days((sd_date){date.year, date.month, 1}, -1);
        periods->current = s_whole_month(date.year, date.month);
        periods->previous = s_whole_month(before.year, before.month);
        break;
    }
    case SD_FREQUENCY_DAILY:
    default:
        periods->current = day;
        periods->previous = s_range_shift(day, -1);
        break;
    }
    periods->yearly = s_yearly_range(frequency, periods->current, weekday_aligned);
}

//  Writes "Tue 01 Dec 2026".
static void s_describe_day(sd_date date, char *buffer, size_t size)
{
    snprintf(buffer, size, "%s %02d %.3s %04d", s_weekday_abbreviations[sd_date_weekday(date)],
             date.day, s_month_names[date.month - 1], date.year);
}

void sd_period_describe(sd_frequency frequency, const sd_date_range *range, char *buffer,
                        size_t size)
{
    char start[32];
    char end[32];
    if (!buffer || size == 0)
        return;
    switch (frequency) {
    case SD_FREQUENCY_WEEKLY:
        s_describe_day(range->start, start, sizeof start);
        s_describe_day(range->end, end, sizeof end);
        snprintf(buffer, size, "%s - %s", start, end);
        break;
    case SD_FREQUENCY_MONTHLY:
        snprintf(buffer, size, "%s %04d", s_month_names[range->start.month - 1],
                 range->start.year);
        break;
    default:
        s_describe_day(range->end, buffer, size);
        break;
    }
}

//  Parses the time after the 'T': "HH:MM:SS", optional fraction, then "Z"
//  or "+HH:MM" / "-HH:MM". Returns the milliseconds since midnight UTC of
//  the date (negative or past one day when the offset crosses midnight).
static int s_parse_time_of_day(const char *text, int64_t *ms)
{
    int hour, minute, second;
    if (s_read_digits(text, 2, &hour) != 0 || text[2] != ':'
        || s_read_digits(text + 3, 2, &minute) != 0 || text[5] != ':'
        || s_read_digits(text + 6, 2, &second) != 0)
        return -1;
    if (hour > 23 || minute > 59 || second > 59)
        return -1;
    int64_t result = ((int64_t)hour * 3600 + minute * 60 + second) * 1000;
    text += 8;

    //  A fraction keeps its first three digits (milliseconds).
    if (*text == '.') {
        int digits = 0;
        int64_t scale = 100;
        for (text++; *text >= '0' && *text <= '9'; text++, digits++) {
            result += (*text - '0') * scale;
            scale /= 10;
        }
        if (digits == 0)
            return -1;
    }

    if (strcmp(text, "Z") == 0) {
        *ms = result;
        return 0;
    }
    int offset_hours, offset_minutes;
    if ((text[0] != '+' && text[0] != '-') || s_read_digits(text + 1, 2, &offset_hours) != 0
        || text[3] != ':' || s_read_digits(text + 4, 2, &offset_minutes) != 0 || text[6] != '\0'
        || offset_hours > 23 || offset_minutes > 59)
        return -1;
    int64_t offset = ((int64_t)offset_hours * 3600 + offset_minutes * 60) * 1000;
    *ms = text[0] == '+' ? result - offset : result + offset;
    return 0;
}

int sd_time_parse(const char *text, int64_t *ms)
{
    sd_date date;
    int64_t time_of_day = 0;
    if (!text || strlen(text) < 10 || s_parse_date_prefix(text, &date) != 0)
        return -1;
    if (text[10] != '\0' && (text[10] != 'T' || s_parse_time_of_day(text + 11, &time_of_day) != 0))
        return -1;
    *ms = s_days_from_civil(date) * SD_MS_PER_DAY + time_of_day;
    return 0;
}

int64_t sd_now_ms(void)
{
    static bool warned = false;
    const char *text = getenv("STATSDASH_NOW");
    int64_t ms;
    if (!text || !*text)
        return sd_clock_ms();
    if (sd_time_parse(text, &ms) == 0)
        return ms;
    if (!warned) {
        sd_warning("invalid STATSDASH_NOW, using the system clock: expected an ISO 8601 time "
                   "such as 2026-12-02T18:00:00Z value=\"%s\"",
                   text);
        warned = true;
    }
    return sd_clock_ms();
}

int64_t sd_clock_ms(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return (int64_t)time(NULL) * 1000;
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

sd_date sd_date_from_ms(int64_t ms)
{
    return s_civil_from_days(s_floor_div(ms, SD_MS_PER_DAY));
}

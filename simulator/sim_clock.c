/*  sim_clock: civil dates as day numbers, and the simulator's "now".  */
#include "sim_clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_fixed_now_set = false;
static time_t s_fixed_now = 0;

//  Days since 1970-01-01 by the era method: 400-year eras of 146097 days,
//  with years counted from March so the leap day falls at the end.
int32_t sim_clock_days_from_civil(int year, int month, int day)
{
    int y = month <= 2 ? year - 1 : year;
    int era = (y >= 0 ? y : y - 399) / 400;
    int year_of_era = y - era * 400;
    int day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return (int32_t)(era * 146097 + day_of_era - 719468);
}

void sim_clock_civil_from_days(int32_t days, int *year, int *month, int *day)
{
    int32_t z = days + 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    int32_t day_of_era = z - era * 146097;
    int32_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int32_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int32_t month_index = (5 * day_of_year + 2) / 153;
    *day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
    *month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);
    *year = (int)(year_of_era + era * 400 + (*month <= 2 ? 1 : 0));
}

bool sim_clock_valid_date(int year, int month, int day)
{
    static const int lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int length = lengths[month - 1] + (month == 2 && leap ? 1 : 0);
    return day <= length;
}

//  Reads exactly count decimal digits. Returns the value or -1.
static int s_digits(const char *text, int count)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        if (!isdigit((unsigned char)text[i]))
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

static int s_make_date(int year, int month, int day, int32_t *days)
{
    if (year < 0 || month < 0 || day < 0 || !sim_clock_valid_date(year, month, day))
        return -1;
    *days = sim_clock_days_from_civil(year, month, day);
    return 0;
}

int sim_clock_parse_iso_date(const char *text, int32_t *days)
{
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return -1;
    return s_make_date(s_digits(text, 4), s_digits(text + 5, 2), s_digits(text + 8, 2), days);
}

int sim_clock_parse_compact_date(const char *text, size_t length, int32_t *days)
{
    if (length != 8)
        return -1;
    return s_make_date(s_digits(text, 4), s_digits(text + 4, 2), s_digits(text + 6, 2), days);
}

void sim_clock_format_compact_date(int32_t days, char *buffer)
{
    int year, month, day;
    sim_clock_civil_from_days(days, &year, &month, &day);
    snprintf(buffer, 9, "%04u%02u%02u", (unsigned)year % 10000u, (unsigned)month % 100u,
             (unsigned)day % 100u);
}

//  Parses "HH:MM[:SS]" at text. Returns the seconds into the day and sets
//  *used to the characters read, or -1.
static int s_parse_clock(const char *text, size_t *used)
{
    int hour = s_digits(text, 2);
    if (hour < 0 || hour > 23 || text[2] != ':')
        return -1;
    int minute = s_digits(text + 3, 2);
    if (minute < 0 || minute > 59)
        return -1;
    int second = 0;
    *used = 5;
    if (text[5] == ':') {
        second = s_digits(text + 6, 2);
        if (second < 0 || second > 60)
            return -1;
        *used = 8;
    }
    return hour * 3600 + minute * 60 + second;
}

//  Parses "", "Z", "+HH:MM" or "-HH:MM". Returns 0 and the offset east of
//  UTC in seconds, or -1.
static int s_parse_offset(const char *text, long *offset)
{
    *offset = 0;
    if (text[0] == '\0' || strcmp(text, "Z") == 0)
        return 0;
    if ((text[0] != '+' && text[0] != '-') || strlen(text) != 6 || text[3] != ':')
        return -1;
    int hours = s_digits(text + 1, 2);
    int minutes = s_digits(text + 4, 2);
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59)
        return -1;
    *offset = (hours * 3600L + minutes * 60L) * (text[0] == '-' ? -1 : 1);
    return 0;
}

int sim_clock_parse_iso_time(const char *text, time_t *result)
{
    char date[11];
    int32_t days;
    if (!text || strlen(text) < 10)
        return -1;
    memcpy(date, text, 10);
    date[10] = '\0';
    if (sim_clock_parse_iso_date(date, &days) != 0)
        return -1;

    long seconds = 0;
    const char *rest = text + 10;
    if (*rest == 'T' || *rest == ' ') {
        size_t used = 0;
        int clock = s_parse_clock(rest + 1, &used);
        if (clock < 0)
            return -1;
        seconds = clock;
        rest += 1 + used;
    }
    long offset;
    if (s_parse_offset(rest, &offset) != 0)
        return -1;
    *result = (time_t)days * 86400 + seconds - offset;
    return 0;
}

int sim_clock_init(void)
{
    const char *text = getenv("STATSDASH_NOW");
    s_fixed_now_set = false;
    if (!text || *text == '\0')
        return 0;
    if (sim_clock_parse_iso_time(text, &s_fixed_now) != 0)
        return -1;
    s_fixed_now_set = true;
    return 0;
}

time_t sim_clock_data_now(void)
{
    return s_fixed_now_set ? s_fixed_now : time(NULL);
}

time_t sim_clock_real_now(void)
{
    return time(NULL);
}

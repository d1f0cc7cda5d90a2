/*  sd_period: calendar dates, report periods and "now".

    A report's --date is the last day of its period. Frequency gives the
    current and previous periods; the yearly period is the same dates one
    year earlier (29 February maps to 28 February), or, when aligned by
    weekday, 364 days earlier. "Now" is the clock, or STATSDASH_NOW (an
    ISO 8601 time such as 2026-12-02T18:00:00Z) when that is set.
*/
#ifndef SD_PERIOD_H
#define SD_PERIOD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SD_FREQUENCY_DAILY,             //  D vs D-1
    SD_FREQUENCY_WOW_DAILY,         //  D vs D-7
    SD_FREQUENCY_WEEKLY,            //  7 days ending D vs the 7 days before
    SD_FREQUENCY_MONTHLY,           //  calendar month of D vs the month before
} sd_frequency;

typedef struct {
    int year;
    int month;                      //  1..12
    int day;                        //  1..31
} sd_date;

typedef struct {
    sd_date start;
    sd_date end;                    //  included
} sd_date_range;

typedef struct {
    sd_frequency frequency;
    sd_date_range current;
    sd_date_range previous;
    sd_date_range yearly;
} sd_report_periods;

//  Parses a strict "YYYY-MM-DD" that is a real calendar date (years
//  1900..9999). Returns 0, or -1 for anything else.
int sd_date_parse(const char *text, sd_date *date);

//  Writes "YYYY-MM-DD" (11 bytes with the terminator) into buffer.
void sd_date_format(sd_date date, char buffer[11]);

//  Returns the date days later (negative: earlier).
sd_date sd_date_add_days(sd_date date, int days);

//  Returns the difference b - a in days.
int sd_date_diff_days(sd_date a, sd_date b);

//  Returns 0 for Monday .. 6 for Sunday.
int sd_date_weekday(sd_date date);

int sd_date_days_in_month(int year, int month);

int sd_date_compare(sd_date a, sd_date b);

//  Returns the same day one year earlier, 29 February mapping to 28 February.
sd_date sd_date_year_earlier(sd_date date);

//  Parses "DAILY", "WOW_DAILY", "WEEKLY" or "MONTHLY". Returns 0 or -1.
int sd_frequency_parse(const char *text, sd_frequency *frequency);
const char *sd_frequency_name(sd_frequency frequency);

//  Returns the comparison label of the previous period: "DoD", "WoW", "WoW"
//  or "MoM". The yearly label is always "YoY".
const char *sd_frequency_label(sd_frequency frequency);

//  Computes the three periods of a report ending on date. weekday_aligned
//  moves the yearly period 364 days back instead of one calendar year.
void sd_report_periods_compute(sd_frequency frequency, sd_date date, bool weekday_aligned,
                               sd_report_periods *periods);

//  Writes the period as report subjects show it: "Tue 01 Dec 2026" (daily),
//  "Mon 23 Nov 2026 - Sun 29 Nov 2026" (weekly), "November 2026" (monthly).
void sd_period_describe(sd_frequency frequency, const sd_date_range *range, char *buffer,
                        size_t size);

//  Parses an ISO 8601 time ("2026-12-02T18:00:00Z", "2026-12-02T19:00:00+01:00",
//  or a date alone meaning midnight UTC) into milliseconds since the Unix
//  epoch. Returns 0 or -1.
int sd_time_parse(const char *text, int64_t *ms);

//  Returns now in milliseconds since the Unix epoch: STATSDASH_NOW when it
//  is set and valid, else the system clock. An invalid STATSDASH_NOW is
//  logged once as a warning and ignored.
int64_t sd_now_ms(void);

//  Returns the system clock in milliseconds, ignoring STATSDASH_NOW (for
//  deadlines, timers and token lifetimes).
int64_t sd_clock_ms(void);

//  Returns the UTC calendar date of a time in milliseconds.
sd_date sd_date_from_ms(int64_t ms);

#endif

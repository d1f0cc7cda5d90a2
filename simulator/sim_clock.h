/*  sim_clock: civil dates as day numbers, and the simulator's "now".

    A day number counts days since 1970-01-01 (proleptic Gregorian, UTC), so
    date arithmetic is integer arithmetic. "Now" is the real clock unless the
    environment variable STATSDASH_NOW holds an ISO 8601 time; it then stays
    fixed for the life of the process. STATSDASH_NOW decides relative dates
    ("today", "yesterday", "NdaysAgo") and which data counts as already
    collected; token lifetimes always use the real clock.
*/
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

//  Returns the day number of a civil date. month is 1-12, day 1-31; the
//  caller checks the date first with sim_clock_valid_date.
int32_t sim_clock_days_from_civil(int year, int month, int day);

//  Converts a day number back to a civil date.
void sim_clock_civil_from_days(int32_t days, int *year, int *month, int *day);

bool sim_clock_valid_date(int year, int month, int day);

//  Parses "YYYY-MM-DD" into a day number. Returns 0, or -1 when the text is
//  not exactly that form or not a real calendar date.
int sim_clock_parse_iso_date(const char *text, int32_t *days);

//  Parses "YYYYMMDD" (the GA4 date format) into a day number. Returns 0 or -1.
int sim_clock_parse_compact_date(const char *text, size_t length, int32_t *days);

//  Writes a day number as "YYYYMMDD" into buffer (at least 9 bytes).
void sim_clock_format_compact_date(int32_t days, char *buffer);

//  Parses an ISO 8601 time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" followed by
//  "Z", "+HH:MM" or "-HH:MM" (no suffix means UTC). Returns 0 and the Unix
//  time, or -1 when the text does not parse.
int sim_clock_parse_iso_time(const char *text, time_t *result);

//  Reads STATSDASH_NOW once. Returns 0 (also when the variable is unset), or
//  -1 when it is set but does not parse; the caller reports that and stops.
int sim_clock_init(void);

//  Returns "now" for dates and data cut-off: STATSDASH_NOW or the real clock.
time_t sim_clock_data_now(void);

//  Returns the real clock, for JWT and token lifetimes.
time_t sim_clock_real_now(void);

#endif

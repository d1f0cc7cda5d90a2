/*  sd_timezone: the calendar date "today" in the schedule's time zone.

    The scheduler resolves scheduler.timezone with this module, and the
    config loader validates that key with the same parse. Three forms are
    accepted. "UTC" (also "Z"). A fixed offset from UTC up to 14 hours, as
    "+HH:MM", "-HH:MM", "+HHMM" or "-HHMM". An IANA zone name such as
    "Europe/London", whose rules localtime_r reads from the system's tz
    database (TZDIR, default /usr/share/zoneinfo). IANA names follow
    daylight saving time, and fixed offsets do not.
*/
#ifndef SD_TIMEZONE_H
#define SD_TIMEZONE_H

#include <stddef.h>
#include <stdint.h>

#include "sd_period.h"

typedef enum {
    SD_TIMEZONE_OFFSET, //  UTC or a fixed offset
    SD_TIMEZONE_NAMED,  //  an IANA zone of the tz database
} sd_timezone_kind;

typedef struct {
    sd_timezone_kind kind;
    int offset_s;   //  SD_TIMEZONE_OFFSET: seconds east of UTC
    char name[128]; //  SD_TIMEZONE_NAMED: the zone name
} sd_timezone;

//  Parses a time zone. Returns 0, or -1 with one line in error naming the
//  value and the accepted forms (an IANA name must exist in the tz database).
int sd_timezone_parse(const char *text, sd_timezone *zone, char *error, size_t size);

//  Returns the calendar date in zone at ms milliseconds since the Unix epoch.
//  NOTE: for a named zone this sets the TZ environment variable for the
//  duration of the call, so it must not run beside other threads.
sd_date sd_timezone_date(const sd_timezone *zone, int64_t ms);

#endif

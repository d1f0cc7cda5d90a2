/*  sd_timezone: UTC, fixed offsets and IANA zones.  */
#include "sd_timezone.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define S_MAX_OFFSET_S (14 * 3600)

//  Parses "+HH:MM", "-HH:MM", "+HHMM" or "-HHMM". Returns 0 or -1.
static int s_parse_offset(const char *text, int *offset_s)
{
    size_t length = strlen(text);
    bool colon = length == 6 && text[3] == ':';
    if ((length != 5 && !colon) || (text[0] != '+' && text[0] != '-'))
        return -1;
    const char *minute_digits = text + (colon ? 4 : 3);
    const char digits[] = {text[1], text[2], minute_digits[0], minute_digits[1]};
    for (size_t i = 0; i < sizeof digits; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return -1;
    }
    int hours = (digits[0] - '0') * 10 + (digits[1] - '0');
    int minutes = (digits[2] - '0') * 10 + (digits[3] - '0');
    int seconds = hours * 3600 + minutes * 60;
    if (minutes > 59 || seconds > S_MAX_OFFSET_S)
        return -1;
    *offset_s = text[0] == '-' ? -seconds : seconds;
    return 0;
}

//  Returns true when name looks like a zone name and names a file of the
//  tz database: tzset() would silently fall back to UTC otherwise.
static bool s_zone_exists(const char *name)
{
    if (name[0] == '\0' || name[0] == '/' || strstr(name, "..") || strlen(name) > 100)
        return false;
    for (const char *p = name; *p; p++) {
        bool allowed = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                       (*p >= '0' && *p <= '9') || strchr("/_+-", *p);
        if (!allowed)
            return false;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

int sd_timezone_parse(const char *text, sd_timezone *zone, char *error, size_t size)
{
    memset(zone, 0, sizeof *zone);
    if (!text) {
        snprintf(error, size,
                 "missing time zone; give \"UTC\", an offset such as \"+01:00\" "
                 "or a zone name such as \"Europe/London\"");
        return -1;
    }
    if (strcmp(text, "UTC") == 0 || strcmp(text, "Z") == 0)
        return 0;
    if (text[0] == '+' || text[0] == '-') {
        if (s_parse_offset(text, &zone->offset_s) == 0)
            return 0;
        snprintf(error, size,
                 "invalid time zone offset \"%.32s\"; expected +HH:MM, -HH:MM, +HHMM "
                 "or -HHMM within 14 hours of UTC",
                 text);
        return -1;
    }
    if (!s_zone_exists(text)) {
        snprintf(error, size,
                 "unknown time zone \"%.100s\"; give \"UTC\", an offset such as "
                 "\"+01:00\" or a zone name of the tz database such as "
                 "\"Europe/London\"",
                 text);
        return -1;
    }
    zone->kind = SD_TIMEZONE_NAMED;
    snprintf(zone->name, sizeof zone->name, "%s", text);
    return 0;
}

//  Returns the local date of seconds in the named zone, through TZ.
static sd_date s_named_date(const char *name, time_t seconds)
{
    const char *previous = getenv("TZ");
    char *saved = previous ? strdup(previous) : NULL;
    setenv("TZ", name, 1);
    tzset();
    struct tm local;
    bool converted = localtime_r(&seconds, &local) != NULL;
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
    if (!converted)
        return sd_date_from_ms((int64_t)seconds * 1000);
    sd_date date = {local.tm_year + 1900, local.tm_mon + 1, local.tm_mday};
    return date;
}

sd_date sd_timezone_date(const sd_timezone *zone, int64_t ms)
{
    if (zone->kind == SD_TIMEZONE_NAMED) {
        int64_t seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        return s_named_date(zone->name, (time_t)seconds);
    }
    return sd_date_from_ms(ms + (int64_t)zone->offset_s * 1000);
}

/*  sd_ga_quota: GA4 Data API token quotas of each property, tracked by the
    worker across jobs.

    Requests set returnPropertyQuota, so every report carries the tokens
    that the request consumed and the tokens remaining per day and per
    hour. The tracker logs them at debug and warns (at most once an hour
    per property and quota) when less than 10% of a quota is left. The
    quota's size is not in the response: the tracker takes the standard
    property's limits (200,000 tokens a day, 40,000 an hour) or the largest
    consumed + remaining seen, whichever is larger, so Analytics 360
    properties are judged by their own limits once seen.

    When GA4 answers 429 RESOURCE_EXHAUSTED for a daily or hourly token
    quota, retrying only spends more, so the property is blocked until the
    quota resets: the next hour, or the next day. Blocked properties are
    not called; their parts fail with the API's message and the reset time.
    NOTE: GA4 resets daily quotas at midnight in the property's time zone.
    The worker does not know that zone and takes midnight UTC, so a block
    may end up to a day early (then the next call gets a 429 again) or
    late.
*/
#ifndef SD_GA_QUOTA_H
#define SD_GA_QUOTA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Limits of a standard (not 360) GA4 property, in tokens.
#define SD_GA_TOKENS_PER_DAY 200000
#define SD_GA_TOKENS_PER_HOUR 40000

//  A warning is logged when less than this share of a quota is left.
#define SD_GA_QUOTA_WARN_PERCENT 10

typedef struct sd_ga_quota sd_ga_quota;

//  Returns a tracker with no property blocked, or NULL when out of memory.
sd_ga_quota *sd_ga_quota_new(void);

//  Reads the propertyQuota object of a report (borrowed; NULL or not an
//  object is ignored), logs it and warns when a quota runs low.
void sd_ga_quota_record(sd_ga_quota *quota, const char *property, json_t *property_quota,
                        int64_t now_ms);

//  Checks an error response. When it is 429 RESOURCE_EXHAUSTED for a
//  token quota per day or per hour, blocks the property until that quota
//  resets (after now_ms, UTC hours and days), logs it, and returns true.
//  Returns false for any other response.
bool sd_ga_quota_check_exhausted(sd_ga_quota *quota, const char *property, long status,
                                 const char *body, size_t size, int64_t now_ms);

//  Returns NULL when the property may be called at now_ms, or the reason it
//  is blocked ("GA4 quota exhausted for property 1: 429 RESOURCE_EXHAUSTED:
//  ...; no calls before 2026-12-02T19:00:00Z"), valid until the next call
//  on the tracker.
const char *sd_ga_quota_blocked(sd_ga_quota *quota, const char *property, int64_t now_ms);

void sd_ga_quota_destroy(sd_ga_quota **quota);

#endif

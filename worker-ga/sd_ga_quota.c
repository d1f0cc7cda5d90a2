/*  sd_ga_quota: token quota tracking and blocking per GA4 property.  */
#include "sd_ga_quota.h"

#include "sd_log.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_MS_PER_HOUR 3600000LL
#define S_MS_PER_DAY 86400000LL
#define S_REASON_MAX 768

typedef enum {
    S_QUOTA_DAY,
    S_QUOTA_HOUR,
    S_QUOTA_KINDS,
} s_kind;

static const char *const s_field[S_QUOTA_KINDS] = {"tokensPerDay", "tokensPerHour"};
static const int64_t s_standard_limit[S_QUOTA_KINDS] = {SD_GA_TOKENS_PER_DAY,
                                                        SD_GA_TOKENS_PER_HOUR};

//  What is known of one property.
typedef struct {
    int64_t limit[S_QUOTA_KINDS];           //  estimated size of each quota
    int64_t warned_ms[S_QUOTA_KINDS];       //  last low-quota warning, 0 when none
    int64_t blocked_until_ms;               //  0 when not blocked
    char reason[S_REASON_MAX];              //  the API's message when blocked
} s_property;

struct sd_ga_quota {
    zhashx_t *properties;                   //  property id -> s_property
    char blocked_text[S_REASON_MAX + 256];
};

static void s_property_free(void **item)
{
    free(*item);
    *item = NULL;
}

sd_ga_quota *sd_ga_quota_new(void)
{
    sd_ga_quota *quota = calloc(1, sizeof *quota);
    if (!quota)
        return NULL;
    quota->properties = zhashx_new();
    if (!quota->properties) {
        free(quota);
        return NULL;
    }
    zhashx_set_destructor(quota->properties, s_property_free);
    return quota;
}

//  Returns the property's record, adding it when new, or NULL.
static s_property *s_find(sd_ga_quota *quota, const char *property)
{
    s_property *entry = zhashx_lookup(quota->properties, property);
    if (entry)
        return entry;
    entry = calloc(1, sizeof *entry);
    if (!entry)
        return NULL;
    for (int kind = 0; kind < S_QUOTA_KINDS; kind++)
        entry->limit[kind] = s_standard_limit[kind];
    if (zhashx_insert(quota->properties, property, entry) != 0) {
        free(entry);
        return NULL;
    }
    return entry;
}

//  Reads {"consumed": N, "remaining": N} of one quota. Returns 0 or -1.
static int s_read_status(json_t *property_quota, s_kind kind, int64_t *consumed,
                         int64_t *remaining)
{
    json_t *status = json_object_get(property_quota, s_field[kind]);
    json_t *left = json_object_get(status, "remaining");
    if (!json_is_integer(left))
        return -1;
    *remaining = json_integer_value(left);
    *consumed = json_integer_value(json_object_get(status, "consumed"));
    return 0;
}

static void s_check_low(s_property *entry, const char *property, s_kind kind, int64_t remaining,
                        int64_t now_ms)
{
    int64_t limit = entry->limit[kind];
    if (remaining * 100 >= limit * SD_GA_QUOTA_WARN_PERCENT)
        return;
    if (entry->warned_ms[kind] > 0 && now_ms - entry->warned_ms[kind] < S_MS_PER_HOUR)
        return;
    entry->warned_ms[kind] = now_ms;
    sd_warning("GA4 quota running low: %" PRId64 " of about %" PRId64 " %s left property=%s",
               remaining, limit, s_field[kind], property);
}

void sd_ga_quota_record(sd_ga_quota *quota, const char *property, json_t *property_quota,
                        int64_t now_ms)
{
    if (!json_is_object(property_quota))
        return;
    s_property *entry = s_find(quota, property);
    int64_t consumed[S_QUOTA_KINDS] = {0};
    int64_t remaining[S_QUOTA_KINDS] = {0};
    bool known[S_QUOTA_KINDS];
    for (int kind = 0; kind < S_QUOTA_KINDS; kind++) {
        known[kind] = s_read_status(property_quota, kind, &consumed[kind], &remaining[kind]) == 0;
        if (!entry || !known[kind])
            continue;
        if (consumed[kind] + remaining[kind] > entry->limit[kind])
            entry->limit[kind] = consumed[kind] + remaining[kind];
        s_check_low(entry, property, kind, remaining[kind], now_ms);
    }
    sd_debug("GA4 quota tokensPerDay consumed=%" PRId64 " remaining=%" PRId64
             " tokensPerHour consumed=%" PRId64 " remaining=%" PRId64 " property=%s",
             consumed[S_QUOTA_DAY], known[S_QUOTA_DAY] ? remaining[S_QUOTA_DAY] : -1,
             consumed[S_QUOTA_HOUR], known[S_QUOTA_HOUR] ? remaining[S_QUOTA_HOUR] : -1,
             property);
}

//  Returns the quota a RESOURCE_EXHAUSTED message names, or S_QUOTA_KINDS
//  when it names no daily or hourly token quota. The message must mention
//  tokens and "per day" or "per hour", or a quota field name such as
//  tokensPerDay.
//  NOTE: this matches the message text, which Google may reword.
static s_kind s_exhausted_kind(const char *message)
{
    bool tokens = strcasestr(message, "token") != NULL;
    if (tokens && (strcasestr(message, "per day") || strcasestr(message, "PerDay")))
        return S_QUOTA_DAY;
    if (tokens && (strcasestr(message, "per hour") || strcasestr(message, "PerHour") ||
                   strcasestr(message, "PerProjectPerHour")))
        return S_QUOTA_HOUR;
    return S_QUOTA_KINDS;
}

static void s_format_utc(int64_t ms, char *buffer, size_t size)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    strftime(buffer, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

bool sd_ga_quota_check_exhausted(sd_ga_quota *quota, const char *property, long status,
                                 const char *body, size_t size, int64_t now_ms)
{
    if (status != 429)
        return false;
    json_t *root = json_loadb(body, size, 0, NULL);
    json_t *error = json_object_get(root, "error");
    const char *code = json_string_value(json_object_get(error, "status"));
    const char *message = json_string_value(json_object_get(error, "message"));
    s_kind kind = message && code && strcmp(code, "RESOURCE_EXHAUSTED") == 0
                      ? s_exhausted_kind(message)
                      : S_QUOTA_KINDS;
    s_property *entry = kind != S_QUOTA_KINDS ? s_find(quota, property) : NULL;
    if (entry) {
        int64_t period = kind == S_QUOTA_DAY ? S_MS_PER_DAY : S_MS_PER_HOUR;
        entry->blocked_until_ms = (now_ms / period + 1) * period;
        snprintf(entry->reason, sizeof entry->reason, "429 RESOURCE_EXHAUSTED: %.600s", message);
        char until[32];
        s_format_utc(entry->blocked_until_ms, until, sizeof until);
        sd_error("GA4 %s quota exhausted, no calls to the property before %s: %s property=%s",
                 s_field[kind], until, message, property);
    }
    json_decref(root);
    return entry != NULL;
}

const char *sd_ga_quota_blocked(sd_ga_quota *quota, const char *property, int64_t now_ms)
{
    s_property *entry = zhashx_lookup(quota->properties, property);
    if (!entry || entry->blocked_until_ms == 0)
        return NULL;
    if (now_ms >= entry->blocked_until_ms) {
        sd_info("GA4 quota reset time reached, calling the property again property=%s",
                property);
        entry->blocked_until_ms = 0;
        return NULL;
    }
    char until[32];
    s_format_utc(entry->blocked_until_ms, until, sizeof until);
    snprintf(quota->blocked_text, sizeof quota->blocked_text,
             "GA4 quota exhausted for property %s (%s); the worker makes no calls to it before "
             "%s, when the quota resets",
             property, entry->reason, until);
    return quota->blocked_text;
}

void sd_ga_quota_destroy(sd_ga_quota **quota_p)
{
    sd_ga_quota *quota = *quota_p;
    if (!quota)
        return;
    zhashx_destroy(&quota->properties);
    free(quota);
    *quota_p = NULL;
}

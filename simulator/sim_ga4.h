/*  sim_ga4: the GA4 Data API v1beta endpoints.

    POST /v1beta/properties/{id}:runReport takes a RunReportRequest and
    returns a RunReportResponse; POST /v1beta/properties/{id}:batchRunReports
    takes {"requests": [up to 5 RunReportRequests]} and returns {"reports":
    [...]}. Both need "Authorization: Bearer TOKEN" with a token from the
    simulator's /token carrying an analytics scope. Errors use Google's
    shape {"error": {"code", "message", "status"}}: 401 UNAUTHENTICATED, 403
    PERMISSION_DENIED (unknown property or missing scope), 400
    INVALID_ARGUMENT, and 429 RESOURCE_EXHAUSTED once a property has spent
    its tokens for the day or the hour. Dates are in the property's time
    zone, which the simulator reports as Etc/UTC; data after STATSDASH_NOW
    is not served.

    Quota: each report costs 1 token plus 1 per 10,000 rows returned (the
    real API charges by the request's complexity instead), counted per
    property per day and per hour of the data clock (STATSDASH_NOW, or the
    real clock). propertyQuota in a report (with returnPropertyQuota) shows
    the tokens consumed and remaining.
*/
#ifndef SIM_GA4_H
#define SIM_GA4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_dataset.h"
#include "sim_http.h"
#include "sim_oauth.h"

typedef struct sim_ga4 sim_ga4;

//  Metadata fields that --ga-metadata can set on reports.
typedef enum {
    SIM_GA4_METADATA_SAMPLED,       //  samplingMetadatas, one entry per date range
    SIM_GA4_METADATA_THRESHOLDED,   //  subjectToThresholding: true
    SIM_GA4_METADATA_OTHER_ROW,     //  dataLossFromOtherRow: true
} sim_ga4_metadata;

//  Creates the API over dataset and oauth, which the caller keeps and
//  which must outlive it. tokens_per_day and tokens_per_hour are the quota
//  of each property (0 for the standard 200000 and 40000). Returns NULL
//  when out of memory.
sim_ga4 *sim_ga4_new(const sim_dataset *dataset, sim_oauth *oauth, int64_t tokens_per_day,
                     int64_t tokens_per_hour);

//  Adds a --ga-metadata rule "FIELD:PROPERTY" (FIELD sampled, thresholded
//  or other-row; PROPERTY an id or "all"). Returns 0, or -1 with the reason
//  in error.
int sim_ga4_add_metadata(sim_ga4 *self, const char *rule, char *error, size_t error_size);

//  Returns true, with Google's message in message, when the property has
//  spent its tokens of the current day or hour.
bool sim_ga4_quota_exhausted(sim_ga4 *self, int property, const char *property_id, char *message,
                             size_t size);

void sim_ga4_destroy(sim_ga4 **self_p);

//  Registers the API's routes on server. Returns 0 or -1.
int sim_ga4_register(sim_ga4 *self, sim_server *server);

#endif

/*  sim_ga4: the GA4 Data API v1beta endpoints.

    POST /v1beta/properties/{id}:runReport takes a RunReportRequest and
    returns a RunReportResponse; POST /v1beta/properties/{id}:batchRunReports
    takes {"requests": [up to 5 RunReportRequests]} and returns {"reports":
    [...]}. Both need "Authorization: Bearer TOKEN" with a token from the
    simulator's /token carrying an analytics scope. Errors use Google's
    shape {"error": {"code", "message", "status"}}: 401 UNAUTHENTICATED, 403
    PERMISSION_DENIED (unknown property or missing scope), 400
    INVALID_ARGUMENT. Dates are in the property's time zone, which the
    simulator reports as Etc/UTC; data after STATSDASH_NOW is not served.
*/
#ifndef SIM_GA4_H
#define SIM_GA4_H

#include "sim_dataset.h"
#include "sim_http.h"
#include "sim_oauth.h"

typedef struct sim_ga4 sim_ga4;

//  Creates the API over dataset and oauth, which the caller keeps and
//  which must outlive it. Returns NULL when out of memory.
sim_ga4 *sim_ga4_new(const sim_dataset *dataset, sim_oauth *oauth);

void sim_ga4_destroy(sim_ga4 **self_p);

//  Registers the API's routes on server. Returns 0 or -1.
int sim_ga4_register(sim_ga4 *self, sim_server *server);

#endif

/*  sd_job: one period of one scheduled report, from the data check to the
    record of its delivery.

    Steps: (1) unless the job skips it, ask the report's data service ("ga"
    or "youtube") whether the period's last day is complete for every site;
    (2) when it is not (or no reply comes) and the job is not late, stop and
    wait for a later tick; (3) record the period "sending" with its delivery
    id; (4) send the report.request carrying that delivery id; (5) record
    the period "sent" once the reporter replies that it delivered it
    (status complete, partial or already_sent). Problems an operator should
    hear about (failures, late reports with missing data) are added to the
    error list.
*/
#ifndef SD_JOB_H
#define SD_JOB_H

#include <stdbool.h>

#include "sd_calls.h"
#include "sd_config.h"
#include "sd_deliveries.h"
#include "sd_period.h"
#include "sd_proto.h"

//  What jobs share: borrowed, alive while any job runs.
typedef struct {
    const sd_config *config;
    sd_deliveries *store;
    sd_calls *calls;
    int availability_timeout_ms; //  wait for an availability.reply
} sd_job_env;

typedef enum {
    SD_JOB_SENT,    //  delivered and recorded "sent"
    SD_JOB_WAITING, //  data incomplete, not late: try again later
    SD_JOB_FAILED,  //  not delivered; the error list gives the reason
} sd_job_result;

typedef struct {
    const sd_config_report *report;
    sd_date end;                                 //  last day of the period
    bool check_data;                             //  ask the data service first
    bool late;                                   //  send even when the data is incomplete
    char delivery_id[SD_DELIVERY_ID_LENGTH + 1]; //  "" for a new one
} sd_job_spec;

typedef void(sd_job_done_fn)(sd_job_result result, void *arg);

//  Starts the job; done is called once when it ends (possibly before this
//  returns). errors (borrowed) receives one line per problem. Returns 0, or
//  -1 when the job could not start (done is not called).
int sd_job_start(const sd_job_env *env, const sd_job_spec *spec, sd_strings *errors,
                 sd_job_done_fn *done, void *arg);

//  Returns the MDP service that serves availability requests for a report type:
//  "youtube" for youtube reports, "ga" for the others.
const char *sd_job_data_service(const char *report_type);

//  Lists the sites whose data the report waits for: its sites, with "all"
//  expanded from the config. A multi-site GA report leaves out the sites
//  whose every property has wait_for_data false. Returns 0 or -1.
int sd_job_data_sites(const sd_config *config, const sd_config_report *report, sd_strings *sites);

//  Writes into reason what keeps the sites' data from being complete
//  according to reply (an availability.reply, an error, or NULL for no
//  reply from service), or "" when every site is complete.
void sd_job_describe_data(const sd_strings *sites, const sd_msg *reply, const char *service,
                          char *reason, size_t size);

//  Returns a new availability.request for date, or NULL when out of memory.
sd_msg *sd_job_availability_request(const char *id, const char *service, const sd_strings *sites,
                                    sd_date date, int64_t deadline_ms);

#endif

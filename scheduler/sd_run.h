/*  sd_run: a set of jobs run as chains, one chain per report.

    Chains run side by side. The jobs of one chain run one after another,
    oldest period first, and a chain stops at the first job that waits for
    data or fails, so a report's periods always go out in order.
*/
#ifndef SD_RUN_H
#define SD_RUN_H

#include <stddef.h>

#include "sd_job.h"

typedef struct {
    size_t sent;
    size_t waiting;     //  chains stopped to wait for data
    size_t failed;      //  jobs that failed, plus jobs that could not start
    size_t not_started; //  jobs after a stop, left for a later run
    sd_strings errors;  //  one line per problem, for the error mail
} sd_run_summary;

typedef struct sd_run sd_run;

//  Called once when every chain has ended; summary is valid during the call.
typedef void(sd_run_done_fn)(const sd_run_summary *summary, void *arg);

//  Creates an empty run. env is copied. Returns NULL when out of memory.
sd_run *sd_run_new(const sd_job_env *env);

void sd_run_destroy(sd_run **self);

//  Adds a chain of count jobs (copied). Returns 0 or -1.
int sd_run_add_chain(sd_run *self, const sd_job_spec *jobs, size_t count);

//  Starts every chain. done is called once all have ended, possibly before
//  this returns (for example when there are no chains). Returns 0 or -1.
int sd_run_start(sd_run *self, sd_run_done_fn *done, void *arg);

#endif

/*  sd_scheduler_internal: the scheduler's state, shared by sd_scheduler.c
    (ticks and the error mail) and sd_scheduler_commands.c (operator
    commands and the dry run).  */
#ifndef SD_SCHEDULER_INTERNAL_H
#define SD_SCHEDULER_INTERNAL_H

#include "sd_calls.h"
#include "sd_deliveries.h"
#include "sd_job.h"
#include "sd_run.h"
#include "sd_schedule.h"
#include "sd_scheduler.h"
#include "sd_timezone.h"

struct sd_scheduler {
    const sd_config *config; //  borrowed
    zloop_t *loop;           //  borrowed
    sd_timezone zone;
    sd_deliveries *store;
    sd_calls *calls;
    sd_job_env env;
    sd_run *run;          //  the tick or command running, or NULL
    const char *run_name; //  "tick", "resend", "backfill", for logs
    bool mail_errors;     //  mail the run's error list when it ends
    sd_scheduler_done_fn *done;
    void *done_arg;
    int timer_id;  //  interval timer, -1 when not started
    void *dry_run; //  the dry run in progress, or NULL
};

//  Finds a scheduled report by id. Returns it, or NULL.
const sd_config_report *sd_scheduler_find_report(const sd_scheduler *self, const char *id);

//  Starts run (taking ownership) as the scheduler's current run. Returns 0,
//  or -1 (run destroyed) when another run is active or it cannot start.
int sd_scheduler_start_run(sd_scheduler *self, sd_run **run, const char *name, bool mail_errors,
                           sd_scheduler_done_fn *done, void *arg);

#endif

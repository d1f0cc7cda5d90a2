/*  sd_scheduler: the scheduler service: ticks, the plan of each tick, the
    error mail, and the operator commands.

    A tick takes "today" in the configured time zone from sd_now_ms, so
    STATSDASH_NOW applies. For each scheduled report it lists the periods
    to deliver, oldest first. Periods left "sending" by an earlier run come
    first and are sent again with their delivery id without waiting for
    data (a late one is checked again only to name the sites with missing
    data). Then come the due periods after the last one recorded (see
    sd_schedule). Each new period waits for complete data unless it is
    late. When the tick ends, its error list is mailed once to
    smtp.error_recipients.

    Everything runs on the caller's zloop: no call blocks it except the
    SQLite writes and the error mail's SMTP transfer.
*/
#ifndef SD_SCHEDULER_H
#define SD_SCHEDULER_H

#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>

#include "sd_config.h"
#include "sd_period.h"
#include "sd_run.h"

//  Maximum periods of one report sent in one tick. The rest wait for the
//  next ticks, so a daily report that missed a year catches up in 6 ticks.
#define SD_SCHEDULER_MAX_PERIODS 64

typedef struct sd_scheduler sd_scheduler;

//  Called when a tick or an operator command ends. failed counts the
//  periods that were not delivered because of an error.
typedef void(sd_scheduler_done_fn)(sd_scheduler *scheduler, size_t failed, void *arg);

//  Opens the database, parses the time zone and connects to the broker.
//  config is borrowed and must outlive the scheduler. Returns NULL after
//  logging why.
sd_scheduler *sd_scheduler_new(const sd_config *config, zloop_t *loop);

void sd_scheduler_destroy(sd_scheduler **self);

//  Returns today in the schedule's time zone.
sd_date sd_scheduler_today(const sd_scheduler *self);

//  Starts one tick; done (may be NULL) is called when it ended. Returns 0,
//  or -1 when a tick or command is already running.
int sd_scheduler_tick(sd_scheduler *self, sd_scheduler_done_fn *done, void *arg);

//  Runs a tick now and then every scheduler.interval_s seconds, skipping a
//  tick while the previous one still runs. Returns 0 or -1.
int sd_scheduler_start(sd_scheduler *self);

//  Operator commands. Each checks report_id and the dates (a period end of
//  the report that is due today or earlier), prints one line per problem
//  to stderr, and returns -1 without starting when they are invalid.
//  Resend delivers a period again with a new delivery id. Backfill sends
//  every period ending between from and to that is not yet sent or
//  skipped, oldest first. Neither waits for a data check. done is called
//  when the deliveries ended.
int sd_scheduler_resend(sd_scheduler *self, const char *report_id, const char *date,
                        sd_scheduler_done_fn *done, void *arg);
int sd_scheduler_backfill(sd_scheduler *self, const char *report_id, const char *from,
                          const char *to, sd_scheduler_done_fn *done, void *arg);

//  Marks a period skipped, so the schedule never sends it. Returns 0, or -1
//  after printing why to stderr.
int sd_scheduler_skip(sd_scheduler *self, const char *report_id, const char *date);

//  Prints the plan to out, one line per report: id, last period recorded,
//  next period, its run day, and whether its data is complete (from the
//  data services, or "unknown" without a reply). Sends and records nothing.
//  done is called when every line is printed (failed is 1 when a report
//  could not be planned). Returns 0, or -1 (done not called) when out of
//  memory or a dry run is already running.
int sd_scheduler_dry_run(sd_scheduler *self, FILE *out, sd_scheduler_done_fn *done, void *arg);

#endif

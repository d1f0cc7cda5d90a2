/*  sd_scheduler_commands: --resend, --skip, --backfill and --dry-run.  */
#include "sd_scheduler_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sd_log.h"

//  A period an operator command names, checked against the schedule.
typedef struct {
    const sd_config_report *report;
    sd_schedule_rule rule;
    bool has_last; //  the report has a recorded period
    sd_date last_end;
} s_target;

//  Prints the scheduled report ids after an unknown one.
static void s_print_ids(const sd_scheduler *self, const char *id)
{
    fprintf(stderr, "statsdash-scheduler: unknown report id \"%s\"; the schedule has:", id);
    for (size_t i = 0; i < self->config->schedule_count; i++)
        fprintf(stderr, " %s", self->config->schedule[i].id);
    fprintf(stderr, "%s\n", self->config->schedule_count ? "" : " no reports");
}

//  Finds the report and its last recorded period. Returns 0, or -1 after
//  printing why.
static int s_find_target(sd_scheduler *self, const char *report_id, s_target *target)
{
    memset(target, 0, sizeof *target);
    target->report = sd_scheduler_find_report(self, report_id);
    if (!target->report) {
        s_print_ids(self, report_id);
        return -1;
    }
    if (sd_schedule_rule_from_config(target->report, &target->rule) != 0)
        return -1;
    int found = sd_deliveries_last_end(self->store, report_id, &target->last_end);
    if (found < 0) {
        fprintf(stderr, "statsdash-scheduler: cannot read the database %s\n",
                self->config->scheduler.database);
        return -1;
    }
    target->has_last = found == 1;
    return 0;
}

//  Parses text as a period end of the target that is due today. Returns 0,
//  or -1 after printing why.
static int s_parse_end(sd_scheduler *self, const s_target *target, const char *text, sd_date *end)
{
    const char *id = target->report->id;
    if (!text || sd_date_parse(text, end) != 0) {
        fprintf(stderr, "statsdash-scheduler: invalid date \"%s\"; expected YYYY-MM-DD\n",
                text ? text : "");
        return -1;
    }
    char other[11];
    sd_date_format(sd_schedule_period_end(&target->rule, *end), other);
    if (!sd_schedule_is_period_end(&target->rule, *end)) {
        fprintf(stderr,
                "statsdash-scheduler: %s is not the last day of a period of report %s "
                "(%s); the period that contains it ends on %s\n",
                text, id, target->report->frequency, other);
        return -1;
    }
    sd_date run = sd_schedule_run_day(&target->rule, *end);
    if (sd_date_compare(run, sd_scheduler_today(self)) > 0) {
        sd_date_format(run, other);
        fprintf(stderr,
                "statsdash-scheduler: the period of report %s ending on %s is not due "
                "until %s\n",
                id, text, other);
        return -1;
    }
    return 0;
}

//  Checks that a command on periods starting at first leaves no unsent
//  gap after the last recorded period. Returns 0, or -1 after printing why.
static int s_check_no_gap(const s_target *target, sd_date first)
{
    if (!target->has_last)
        return 0;
    sd_date next = sd_schedule_next_end(&target->rule, target->last_end);
    if (sd_date_compare(first, next) <= 0)
        return 0;
    char text[11];
    sd_date_format(next, text);
    fprintf(stderr,
            "statsdash-scheduler: report %s has not reached that period yet; its next "
            "period ends on %s; use --backfill ID --from %s to send every period up "
            "to it\n",
            target->report->id, text, text);
    return -1;
}

int sd_scheduler_skip(sd_scheduler *self, const char *report_id, const char *date)
{
    s_target target;
    sd_date end;
    if (s_find_target(self, report_id, &target) != 0 ||
        s_parse_end(self, &target, date, &end) != 0 || s_check_no_gap(&target, end) != 0)
        return -1;
    if (sd_deliveries_skip(self->store, report_id, end, sd_now_ms()) != 0) {
        fprintf(stderr, "statsdash-scheduler: recording the skip failed; see the log above\n");
        return -1;
    }
    sd_info("period skipped by the operator report=%s period=%s", report_id, date);
    return 0;
}

int sd_scheduler_resend(sd_scheduler *self, const char *report_id, const char *date,
                        sd_scheduler_done_fn *done, void *arg)
{
    s_target target;
    sd_date end;
    if (s_find_target(self, report_id, &target) != 0 ||
        s_parse_end(self, &target, date, &end) != 0 || s_check_no_gap(&target, end) != 0)
        return -1;
    sd_job_spec job = {target.report, end, false, true, ""};
    sd_run *run = sd_run_new(&self->env);
    if (!run || sd_run_add_chain(run, &job, 1) != 0) {
        sd_run_destroy(&run);
        return -1;
    }
    sd_info("resending with a new delivery id report=%s period=%s", report_id, date);
    return sd_scheduler_start_run(self, &run, "resend", false, done, arg);
}

//  Periods one backfill may send: about three years of a daily report.
#define S_MAX_BACKFILL 1100

//  Parses the backfill range. Returns 0, or -1 after printing why.
static int s_parse_range(sd_scheduler *self, const s_target *target, const char *from_text,
                         const char *to_text, sd_date *from, sd_date *to)
{
    if (!from_text || !to_text || sd_date_parse(from_text, from) != 0 ||
        sd_date_parse(to_text, to) != 0 || sd_date_compare(*from, *to) > 0) {
        fprintf(stderr,
                "statsdash-scheduler: invalid range --from \"%s\" --to \"%s\"; expected "
                "two dates YYYY-MM-DD, the first not after the second\n",
                from_text ? from_text : "", to_text ? to_text : "");
        return -1;
    }
    sd_date latest = sd_schedule_latest_end(&target->rule, sd_scheduler_today(self));
    if (sd_date_compare(*to, latest) > 0) {
        char text[11];
        sd_date_format(latest, text);
        fprintf(stderr,
                "statsdash-scheduler: --to %s is after the latest due period of report "
                "%s, which ends on %s\n",
                to_text, target->report->id, text);
        return -1;
    }
    return 0;
}

//  Adds the job of one backfilled period unless it was sent or skipped.
//  Returns 0, or -1 when the database cannot be read.
static int s_backfill_period(sd_scheduler *self, const s_target *target, sd_date end,
                             sd_job_spec *jobs, size_t *count)
{
    sd_delivery row;
    char text[11];
    sd_date_format(end, text);
    int found = sd_deliveries_get(self->store, target->report->id, end, &row);
    if (found < 0)
        return -1;
    if (found && row.state != SD_DELIVERY_SENDING) {
        printf("%s %s: already %s; use --resend to deliver it again\n", target->report->id, text,
               sd_delivery_state_name(row.state));
        return 0;
    }
    jobs[*count] = (sd_job_spec){target->report, end, false, true, ""};
    if (found)
        memcpy(jobs[*count].delivery_id, row.delivery_id, sizeof row.delivery_id);
    (*count)++;
    return 0;
}

int sd_scheduler_backfill(sd_scheduler *self, const char *report_id, const char *from_text,
                          const char *to_text, sd_scheduler_done_fn *done, void *arg)
{
    s_target target;
    sd_date from, to;
    if (s_find_target(self, report_id, &target) != 0 ||
        s_parse_range(self, &target, from_text, to_text, &from, &to) != 0)
        return -1;
    sd_date first = sd_schedule_period_end(&target.rule, from);
    if (sd_date_compare(first, to) > 0) {
        fprintf(stderr, "statsdash-scheduler: no period of report %s ends between %s and %s\n",
                report_id, from_text, to_text);
        return -1;
    }
    if (s_check_no_gap(&target, first) != 0)
        return -1;
    sd_job_spec *jobs = calloc(S_MAX_BACKFILL, sizeof *jobs);
    size_t count = 0;
    int rc = jobs ? 0 : -1;
    for (sd_date end = first; rc == 0 && sd_date_compare(end, to) <= 0;
         end = sd_schedule_next_end(&target.rule, end)) {
        if (count == S_MAX_BACKFILL) {
            fprintf(stderr,
                    "statsdash-scheduler: more than %d periods in the range; give a "
                    "shorter one\n",
                    S_MAX_BACKFILL);
            rc = -1;
        } else
            rc = s_backfill_period(self, &target, end, jobs, &count);
    }
    sd_run *run = rc == 0 ? sd_run_new(&self->env) : NULL;
    if (run && sd_run_add_chain(run, jobs, count) == 0) {
        sd_info("backfill of %zu periods report=%s from=%s to=%s", count, report_id, from_text,
                to_text);
        rc = sd_scheduler_start_run(self, &run, "backfill", false, done, arg);
    } else
        rc = -1;
    sd_run_destroy(&run);
    free(jobs);
    return rc;
}

//  One line of the dry run, printed once its data check ended.
typedef struct {
    sd_scheduler *owner;
    char text[512]; //  everything but the data column
    char data[720]; //  "complete", "unknown", or what is missing
    sd_strings sites;
    const char *service;
} s_plan_line;

typedef struct {
    sd_scheduler *owner;
    FILE *out;
    s_plan_line *lines;
    size_t count;
    size_t waiting; //  data checks still waiting for a reply
    size_t failed;  //  1 when a line could not be planned
    sd_scheduler_done_fn *done;
    void *done_arg;
} s_dry_run;

static void s_dry_run_free(s_dry_run *dry)
{
    for (size_t i = 0; i < dry->count; i++)
        sd_strings_clear(&dry->lines[i].sites);
    free(dry->lines);
    free(dry);
}

//  Releases the dry run when the scheduler drops its last data check.
static void s_dry_run_drop(void *arg)
{
    s_plan_line *line = arg;
    s_dry_run *dry = (s_dry_run *)line->owner->dry_run;
    if (dry && --dry->waiting == 0) {
        line->owner->dry_run = NULL;
        s_dry_run_free(dry);
    }
}

static void s_dry_run_finish(s_dry_run *dry)
{
    for (size_t i = 0; i < dry->count; i++)
        fprintf(dry->out, "%s data=%s\n", dry->lines[i].text, dry->lines[i].data);
    fflush(dry->out);
    sd_scheduler *owner = dry->owner;
    sd_scheduler_done_fn *done = dry->done;
    void *arg = dry->done_arg;
    size_t failed = dry->failed;
    owner->dry_run = NULL;
    s_dry_run_free(dry);
    if (done)
        done(owner, failed, arg);
}

static void s_on_dry_run_data(sd_msg *reply, void *arg)
{
    s_plan_line *line = arg;
    s_dry_run *dry = line->owner->dry_run;
    char reason[700];
    sd_job_describe_data(&line->sites, reply, line->service, reason, sizeof reason);
    sd_msg_destroy(&reply);
    if (!reason[0])
        snprintf(line->data, sizeof line->data, "complete");
    else if (strncmp(reason, "data availability unknown", 25) == 0)
        snprintf(line->data, sizeof line->data, "unknown");
    else
        snprintf(line->data, sizeof line->data, "incomplete: %s", reason);
    if (--dry->waiting == 0)
        s_dry_run_finish(dry);
}

//  Finds the report's next period and whether it is due. Returns 0 or -1.
static int s_next_period(sd_scheduler *self, const s_target *target, sd_date today, sd_date *next,
                         const char **due)
{
    sd_delivery pending;
    int count = sd_deliveries_pending(self->store, target->report->id, &pending, 1);
    if (count < 0)
        return -1;
    if (count == 1) {
        *next = pending.period_end;
        *due = "retry";
        return 0;
    }
    size_t found =
        sd_schedule_due(&target->rule, target->has_last ? &target->last_end : NULL, today, next, 1);
    if (found == 0)
        *next = sd_schedule_next_end(&target->rule, target->last_end);
    *due = found == 0 ? "no" : sd_schedule_is_late(&target->rule, *next, today) ? "late" : "yes";
    return 0;
}

//  Writes the line of one report, except its data column. Returns 0 or -1.
static int s_plan_line_fill(sd_scheduler *self, const sd_config_report *report, sd_date today,
                            s_plan_line *line, sd_date *next)
{
    s_target target;
    const char *due = NULL;
    if (s_find_target(self, report->id, &target) != 0 ||
        s_next_period(self, &target, today, next, &due) != 0)
        return -1;
    char last[40] = "never";
    sd_delivery row;
    if (target.has_last && sd_deliveries_get(self->store, report->id, target.last_end, &row) == 1) {
        sd_date_format(row.period_end, last);
        snprintf(last + 10, sizeof last - 10, " last_state=%s", sd_delivery_state_name(row.state));
    }
    char next_text[11], run_text[11];
    sd_date_format(*next, next_text);
    sd_date_format(sd_schedule_run_day(&target.rule, *next), run_text);
    snprintf(line->text, sizeof line->text, "%s last=%s next=%s run_day=%s due=%s", report->id,
             last, next_text, run_text, due);
    snprintf(line->data, sizeof line->data, "unknown");
    line->owner = self;
    line->service = sd_job_data_service(report->report);
    return sd_job_data_sites(self->config, report, &line->sites);
}

//  Sends the data check of one line. Returns 0 or -1.
static int s_plan_line_check(s_dry_run *dry, s_plan_line *line, sd_date next)
{
    static unsigned counter;
    char id[96];
    snprintf(id, sizeof id, "scheduler-dry-run-%ld-%u", (long)getpid(), ++counter);
    int timeout_ms = dry->owner->env.availability_timeout_ms;
    sd_msg *request = sd_job_availability_request(id, line->service, &line->sites, next,
                                                  sd_clock_ms() + timeout_ms);
    int rc = request ? sd_calls_send(dry->owner->calls, line->service, id, request,
                                     timeout_ms + 2000, s_on_dry_run_data, s_dry_run_drop, line)
                     : -1;
    sd_msg_destroy(&request);
    if (rc == 0)
        dry->waiting++;
    return rc;
}

int sd_scheduler_dry_run(sd_scheduler *self, FILE *out, sd_scheduler_done_fn *done, void *arg)
{
    size_t count = self->config->schedule_count;
    s_dry_run *dry = calloc(1, sizeof *dry);
    if (!dry || !(dry->lines = calloc(count ? count : 1, sizeof *dry->lines)) || self->dry_run) {
        free(dry);
        return -1;
    }
    *dry = (s_dry_run){self, out, dry->lines, count, 1, 0, done, arg};
    self->dry_run = dry;
    sd_date today = sd_scheduler_today(self);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        sd_date next;
        rc = s_plan_line_fill(self, &self->config->schedule[i], today, &dry->lines[i], &next);
        if (rc == 0 && dry->lines[i].sites.count > 0)
            rc = s_plan_line_check(dry, &dry->lines[i], next);
        else if (rc == 0)
            snprintf(dry->lines[i].data, sizeof dry->lines[i].data, "complete");
    }
    if (rc != 0) {
        fprintf(stderr, "statsdash-scheduler: the dry run failed; see the log above\n");
        dry->failed = 1;
    }

    //  The count started at 1 so that no reply could finish the dry run
    //  while requests were still being sent.
    if (--dry->waiting == 0)
        s_dry_run_finish(dry);
    return 0;
}

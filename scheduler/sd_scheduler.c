/*  sd_scheduler: ticks over the schedule and the error mail.  */
#include "sd_scheduler_internal.h"

#include <stdlib.h>
#include <string.h>

#include "sd_log.h"
#include "sd_mail.h"

//  How long a data check may take: an availability query is one small
//  API call per property.
#define S_AVAILABILITY_TIMEOUT_MS 30000

sd_scheduler *sd_scheduler_new(const sd_config *config, zloop_t *loop)
{
    sd_scheduler *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->loop = loop;
    self->timer_id = -1;
    char error[300];
    if (sd_timezone_parse(config->scheduler.timezone, &self->zone, error, sizeof error) != 0) {
        sd_error("%s key=scheduler.timezone", error);
        sd_scheduler_destroy(&self);
        return NULL;
    }
    self->store = sd_deliveries_open(config->scheduler.database);
    self->calls = self->store ? sd_calls_new(loop, config->broker.endpoint, &config->broker) : NULL;
    if (!self->calls) {
        sd_scheduler_destroy(&self);
        return NULL;
    }
    self->env = (sd_job_env){config, self->store, self->calls, S_AVAILABILITY_TIMEOUT_MS};
    return self;
}

void sd_scheduler_destroy(sd_scheduler **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_scheduler *self = *self_p;
    if (self->timer_id >= 0)
        zloop_timer_end(self->loop, self->timer_id);
    //  Destroying the calls first drops the callbacks into the run.
    sd_calls_destroy(&self->calls);
    sd_run_destroy(&self->run);
    sd_deliveries_destroy(&self->store);
    free(self);
    *self_p = NULL;
}

sd_date sd_scheduler_today(const sd_scheduler *self)
{
    return sd_timezone_date(&self->zone, sd_now_ms());
}

const sd_config_report *sd_scheduler_find_report(const sd_scheduler *self, const char *id)
{
    for (size_t i = 0; i < self->config->schedule_count; i++) {
        if (strcmp(self->config->schedule[i].id, id) == 0)
            return &self->config->schedule[i];
    }
    return NULL;
}

//  Reads the SMTP password file, if one is configured. Returns 0 and sets
//  *password (NULL when none), or -1 with error filled.
static int s_smtp_password(const sd_config_smtp *smtp, char **password, char *error, size_t size)
{
    *password = NULL;
    if (!smtp->password_file || !*smtp->password_file)
        return 0;
    *password = sd_mail_read_password(smtp->password_file, error, size);
    return *password ? 0 : -1;
}

//  Mails the run's error list to smtp.error_recipients.
static void s_mail_errors(sd_scheduler *self, const sd_strings *errors)
{
    const sd_config_smtp *smtp = &self->config->smtp;
    if (smtp->error_recipients.count == 0 || !smtp->url || !smtp->from) {
        sd_warning("error list not mailed: set smtp.url, smtp.from and smtp.error_recipients "
                   "errors=%zu",
                   errors->count);
        return;
    }
    char date[11];
    sd_date_format(sd_scheduler_today(self), date);
    char subject[160];
    snprintf(subject, sizeof subject, "Statsdash scheduler: %zu problem%s on %s", errors->count,
             errors->count == 1 ? "" : "s", date);
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);
    if (!stream) {
        sd_error("error list not mailed: out of memory");
        return;
    }
    fprintf(stream, "The Statsdash scheduler met these problems on %s:\n\n", date);
    for (size_t i = 0; i < errors->count; i++)
        fprintf(stream, "- %s\n", errors->items[i]);
    fclose(stream);

    char error[600] = "";
    char *password = NULL;
    sd_mail_server server = {smtp->url, smtp->starttls, smtp->user, NULL, 0};
    sd_mail_message message = {
        .from = smtp->from,
        .recipients = (const char *const *)smtp->error_recipients.items,
        .recipient_count = smtp->error_recipients.count,
        .reply_to = smtp->reply_to,
        .subject = subject,
        .text = text,
    };
    int rc = s_smtp_password(smtp, &password, error, sizeof error);
    server.password = password;
    if (rc == 0)
        rc = sd_mail_send(&server, &message, error, sizeof error);
    if (rc == 0)
        sd_info("error list mailed errors=%zu recipients=%zu", errors->count,
                smtp->error_recipients.count);
    else
        sd_error("error list not mailed: %s", error);
    free(password);
    free(text);
}

static void s_on_run_done(const sd_run_summary *summary, void *arg)
{
    sd_scheduler *self = arg;
    sd_info("%s finished sent=%zu waiting=%zu failed=%zu left=%zu problems=%zu", self->run_name,
            summary->sent, summary->waiting, summary->failed, summary->not_started,
            summary->errors.count);
    for (size_t i = 0; i < summary->errors.count; i++)
        sd_warning("problem: %s", summary->errors.items[i]);
    if (self->mail_errors && summary->errors.count > 0)
        s_mail_errors(self, &summary->errors);

    //  sd_run touches nothing after calling this function, so the run can
    //  end here, and done may start the next one.
    size_t failed = summary->failed;
    sd_scheduler_done_fn *done = self->done;
    void *done_arg = self->done_arg;
    self->done = NULL;
    sd_run_destroy(&self->run);
    if (done)
        done(self, failed, done_arg);
}

int sd_scheduler_start_run(sd_scheduler *self, sd_run **run, const char *name, bool mail_errors,
                           sd_scheduler_done_fn *done, void *arg)
{
    if (self->run) {
        sd_warning("%s not started: a %s is still running", name, self->run_name);
        sd_run_destroy(run);
        return -1;
    }
    self->run = *run;
    *run = NULL;
    self->run_name = name;
    self->mail_errors = mail_errors;
    self->done = done;
    self->done_arg = arg;
    if (sd_run_start(self->run, s_on_run_done, self) != 0) {
        sd_run_destroy(&self->run);
        self->done = NULL;
        return -1;
    }
    return 0;
}

//  Lists the periods of one report for this tick. Returns the number of
//  jobs written to jobs (at most SD_SCHEDULER_MAX_PERIODS), or -1.
static int s_plan_report(sd_scheduler *self, const sd_config_report *report, sd_date today,
                         sd_job_spec *jobs)
{
    sd_schedule_rule rule;
    sd_delivery pending[SD_SCHEDULER_MAX_PERIODS];
    if (sd_schedule_rule_from_config(report, &rule) != 0)
        return -1;
    int count = sd_deliveries_pending(self->store, report->id, pending, SD_SCHEDULER_MAX_PERIODS);
    if (count < 0)
        return -1;

    //  Periods left "sending" go first, with the delivery id they carried.
    //  They never wait for data, because an earlier run already decided to
    //  send them. A late one still gets a data check: the run that sent it
    //  may have stopped before mailing the error list, and the check names
    //  the sites with missing data again.
    for (int i = 0; i < count; i++) {
        bool late = sd_schedule_is_late(&rule, pending[i].period_end, today);
        jobs[i] = (sd_job_spec){report, pending[i].period_end, late, late, ""};
        memcpy(jobs[i].delivery_id, pending[i].delivery_id, sizeof jobs[i].delivery_id);
    }

    sd_date last_end;
    sd_date ends[SD_SCHEDULER_MAX_PERIODS];
    int found = sd_deliveries_last_end(self->store, report->id, &last_end);
    if (found < 0)
        return -1;
    size_t room = SD_SCHEDULER_MAX_PERIODS - (size_t)count;
    size_t due = sd_schedule_due(&rule, found ? &last_end : NULL, today, ends, room);
    if (due > room)
        sd_info("catching up: %zu periods due, %zu sent this tick report=%s", due, room,
                report->id);
    for (size_t i = 0; i < due && i < room; i++)
        jobs[count++] =
            (sd_job_spec){report, ends[i], true, sd_schedule_is_late(&rule, ends[i], today), ""};
    return count;
}

//  Adds one chain per report that has periods to send. Returns 0 or -1.
static int s_plan_tick(sd_scheduler *self, sd_run *run, sd_date today)
{
    sd_job_spec *jobs = calloc(SD_SCHEDULER_MAX_PERIODS, sizeof *jobs);
    if (!jobs)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < self->config->schedule_count && rc == 0; i++) {
        const sd_config_report *report = &self->config->schedule[i];
        int count = s_plan_report(self, report, today, jobs);
        if (count < 0) {
            sd_error("tick: cannot plan the report report=%s", report->id);
            rc = -1;
        } else if (count > 0) {
            char first[11];
            sd_date_format(jobs[0].end, first);
            sd_info("tick: %d period%s to send, oldest first report=%s period=%s", count,
                    count == 1 ? "" : "s", report->id, first);
            rc = sd_run_add_chain(run, jobs, (size_t)count);
        }
    }
    free(jobs);
    return rc;
}

int sd_scheduler_tick(sd_scheduler *self, sd_scheduler_done_fn *done, void *arg)
{
    if (self->run) {
        sd_info("tick skipped: the %s before it is still running", self->run_name);
        return -1;
    }
    sd_date today = sd_scheduler_today(self);
    char text[11];
    sd_date_format(today, text);
    sd_info("tick started today=%s timezone=%s reports=%zu", text, self->config->scheduler.timezone,
            self->config->schedule_count);
    sd_run *run = sd_run_new(&self->env);
    if (!run || s_plan_tick(self, run, today) != 0) {
        sd_run_destroy(&run);
        return -1;
    }
    return sd_scheduler_start_run(self, &run, "tick", true, done, arg);
}

static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_scheduler *self = arg;
    if (!self->run && sd_scheduler_tick(self, NULL, NULL) != 0)
        sd_error("tick failed to start; the next one runs in %d s",
                 self->config->scheduler.interval_s);
    return 0;
}

int sd_scheduler_start(sd_scheduler *self)
{
    size_t interval_ms = (size_t)self->config->scheduler.interval_s * 1000;
    self->timer_id = zloop_timer(self->loop, interval_ms, 0, s_on_timer, self);
    if (self->timer_id < 0)
        return -1;
    s_on_timer(self->loop, self->timer_id, self);
    return 0;
}

/*  sd_job: check data, record "sending", request the report, record "sent".  */
#include "sd_job.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sd_log.h"
#include "sd_schedule.h"

//  How long past the report's deadline its reply is still awaited: the
//  broker replies with an error to a request that expired in its queue.
#define S_REPLY_GRACE_MS 5000

typedef struct {
    sd_job_env env;
    sd_job_spec spec;
    sd_strings *errors; //  borrowed
    sd_job_done_fn *done;
    void *done_arg;
    char period[11]; //  spec.end as text, for messages
    char request_id[96];
    sd_strings sites; //  sites the data check asked about
    char late_warning[1024]; //  for the report's readers when sent late, else ""
} s_job;

//  Returns an id unique to this process and run, prefixed with kind.
static void s_make_id(char *id, size_t size, const char *kind)
{
    static uint64_t counter;
    snprintf(id, size, "scheduler-%s-%ld-%" PRId64 "-%" PRIu64, kind, (long)getpid(), sd_clock_ms(),
             ++counter);
}

//  Adds a formatted line to the job's error list.
__attribute__((format(printf, 2, 3))) static void s_note(s_job *job, const char *format, ...)
{
    char line[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (sd_strings_push(job->errors, line) != 0)
        sd_error("out of memory for the error list: %s", line);
}

//  Frees a job; also the sd_calls release function of a dropped call.
static void s_job_free(void *arg)
{
    s_job *job = arg;
    sd_strings_clear(&job->sites);
    free(job);
}

static void s_end(s_job *job, sd_job_result result)
{
    sd_job_done_fn *done = job->done;
    void *arg = job->done_arg;
    s_job_free(job);
    done(result, arg);
}

const char *sd_job_data_service(const char *report_type)
{
    return strcmp(report_type, "youtube") == 0 ? "youtube" : "ga";
}

//  Returns true when every property of the site is excused from the check.
static bool s_site_excused(const sd_config_site *site)
{
    for (size_t i = 0; i < site->property_count; i++) {
        if (site->properties[i].wait_for_data)
            return false;
    }
    return site->property_count > 0;
}

//  Pushes name unless it is a GA site excused from multi-site checks.
static int s_push_site(const sd_config *config, bool youtube, bool multi, const char *name,
                       sd_strings *sites)
{
    const sd_config_site *site = youtube ? NULL : sd_config_find_site(config, name);
    if (multi && site && s_site_excused(site))
        return 0;
    return sd_strings_push(sites, name);
}

int sd_job_data_sites(const sd_config *config, const sd_config_report *report, sd_strings *sites)
{
    bool youtube = strcmp(report->report, "youtube") == 0;
    bool all = report->sites.count == 1 && strcmp(report->sites.items[0], "all") == 0;
    size_t count = !all      ? report->sites.count
                   : youtube ? config->youtube.channel_count
                             : config->ga.site_count;
    bool multi = count > 1;
    for (size_t i = 0; i < count; i++) {
        const char *name = !all      ? report->sites.items[i]
                           : youtube ? config->youtube.channels[i].name
                                     : config->ga.sites[i].name;
        if (s_push_site(config, youtube, multi, name, sites) != 0)
            return -1;
    }
    return 0;
}

//  Fills the report.request of the job. Returns 0 or -1.
static int s_fill_request(const s_job *job, sd_report_request *request)
{
    const sd_config_report *report = job->spec.report;
    int64_t deadline_ms = sd_clock_ms() + job->env.config->reporter.deadline_ms;
    //  The mailed report is HTML, except the export, which is a CSV file.
    const char *format = strcmp(report->report, "ga-social-export") == 0 ? "csv" : "html";
    request->request_id = strdup(job->request_id);
    request->report = strdup(report->report);
    request->frequency = strdup(report->frequency);
    request->date = strdup(job->period);
    request->delivery_id = strdup(job->spec.delivery_id);
    request->yearly_alignment = strdup(report->yearly_alignment);
    //  An empty subject lets the reporter build its own.
    request->subject = strdup(report->subject ? report->subject : "");
    request->deadline_ms = deadline_ms;
    if (!request->request_id || !request->report || !request->frequency || !request->date ||
        !request->delivery_id || !request->yearly_alignment || !request->subject ||
        sd_strings_push(&request->formats, format) != 0)
        return -1;
    if (job->late_warning[0] && sd_strings_push(&request->warnings, job->late_warning) != 0)
        return -1;
    for (size_t i = 0; i < report->sites.count; i++) {
        if (sd_strings_push(&request->sites, report->sites.items[i]) != 0)
            return -1;
    }
    for (size_t i = 0; i < report->recipients.count; i++) {
        if (sd_strings_push(&request->recipients, report->recipients.items[i]) != 0)
            return -1;
    }
    return 0;
}

//  Joins the items of list into buffer, separated by "; ".
static void s_join(const sd_strings *list, char *buffer, size_t size)
{
    buffer[0] = '\0';
    for (size_t i = 0; i < list->count; i++) {
        size_t used = strlen(buffer);
        snprintf(buffer + used, size - used, "%s%s", i ? "; " : "", list->items[i]);
    }
}

//  Handles a report.reply. Returns the job's result.
static sd_job_result s_handle_report_reply(s_job *job, const sd_report_reply *reply)
{
    const char *id = job->spec.report->id;
    bool known_status = strcmp(reply->status, "complete") == 0 ||
                        strcmp(reply->status, "partial") == 0 ||
                        strcmp(reply->status, "already_sent") == 0;
    //  A report without recipients has nothing to mail: rendering it is
    //  the whole delivery.
    bool delivered = reply->delivered || job->spec.report->recipients.count == 0;
    char warnings[700];
    s_join(&reply->warnings, warnings, sizeof warnings);
    if (!known_status || !delivered) {
        sd_error("report not delivered status=%s warnings=\"%s\" report=%s period=%s "
                 "delivery=%s",
                 reply->status, warnings, id, job->period, job->spec.delivery_id);
        s_note(job, "%s %s: the report was not delivered (status %.32s): %s", id, job->period,
               reply->status, *warnings ? warnings : "no reason given");
        return SD_JOB_FAILED;
    }
    if (strcmp(reply->status, "partial") == 0) {
        char missing[700];
        s_join(&reply->missing, missing, sizeof missing);
        s_note(job, "%s %s: sent with missing data for %s. %s", id, job->period,
               *missing ? missing : "some sites", warnings);
    }
    int marked = sd_deliveries_mark_sent(job->env.store, id, job->spec.end, job->spec.delivery_id,
                                         sd_now_ms());
    if (marked < 0) {
        s_note(job,
               "%s %s: delivered, but recording it failed; the next run sends it again "
               "with the same delivery id",
               id, job->period);
        return SD_JOB_FAILED;
    }
    if (marked == 0)
        sd_warning("delivered, but the record changed meanwhile (resent or skipped) report=%s "
                   "period=%s delivery=%s",
                   id, job->period, job->spec.delivery_id);
    sd_info("report sent status=%s report=%s period=%s delivery=%s", reply->status, id, job->period,
            job->spec.delivery_id);
    return SD_JOB_SENT;
}

static void s_on_report_reply(sd_msg *reply, void *arg)
{
    s_job *job = arg;
    const char *id = job->spec.report->id;
    sd_job_result result = SD_JOB_FAILED;
    if (!reply) {
        s_note(job,
               "%s %s: no reply from the reporter before the deadline; the next run "
               "sends it again with the same delivery id",
               id, job->period);
    } else if (reply->type == SD_MSG_REPORT_REPLY) {
        result = s_handle_report_reply(job, &reply->as.report_reply);
    } else if (reply->type == SD_MSG_ERROR) {
        sd_error("report request failed: %s (error %" PRId64 ") report=%s period=%s",
                 reply->as.error.text, reply->as.error.code, id, job->period);
        s_note(job, "%s %s: the report request failed: %s (error %" PRId64 ")", id, job->period,
               reply->as.error.text, reply->as.error.code);
    } else {
        s_note(job, "%s %s: unexpected %s reply to the report request", id, job->period,
               sd_msg_type_name(reply->type));
    }
    sd_msg_destroy(&reply);
    s_end(job, result);
}

//  Records the period "sending" and sends the report.request.
static void s_send_report(s_job *job)
{
    const char *id = job->spec.report->id;
    if (job->spec.delivery_id[0] == '\0' && sd_delivery_id_new(job->spec.delivery_id) != 0) {
        s_note(job, "%s %s: no random bytes for a delivery id", id, job->period);
        s_end(job, SD_JOB_FAILED);
        return;
    }
    if (sd_deliveries_begin(job->env.store, id, job->spec.end, job->spec.delivery_id,
                            sd_now_ms()) != 0) {
        s_note(job, "%s %s: recording the delivery failed; not sent", id, job->period);
        s_end(job, SD_JOB_FAILED);
        return;
    }
    s_make_id(job->request_id, sizeof job->request_id, "report");
    sd_msg *request = sd_msg_new(SD_MSG_REPORT_REQUEST);
    int sent = -1;
    if (request && s_fill_request(job, &request->as.report_request) == 0) {
        int timeout_ms = job->env.config->reporter.deadline_ms + S_REPLY_GRACE_MS;
        sent = sd_calls_send(job->env.calls, "report", job->request_id, request, timeout_ms,
                             s_on_report_reply, s_job_free, job);
    }
    sd_msg_destroy(&request);
    if (sent != 0) {
        s_note(job, "%s %s: the report request could not be sent to the broker", id, job->period);
        s_end(job, SD_JOB_FAILED);
        return;
    }
    sd_info("report requested report=%s period=%s delivery=%s request=%s", id, job->period,
            job->spec.delivery_id, job->request_id);
}

//  Lists in missing the sites of the request that the reply does not show
//  as complete. Returns true when there are none.
static bool s_data_complete(const sd_strings *sites, const sd_availability_reply *reply,
                            char *missing, size_t size)
{
    missing[0] = '\0';
    for (size_t i = 0; i < sites->count; i++) {
        const sd_site_availability *found = NULL;
        for (size_t j = 0; j < reply->site_count && !found; j++) {
            if (strcmp(reply->sites[j].site, sites->items[i]) == 0)
                found = &reply->sites[j];
        }
        if (found && found->complete)
            continue;
        size_t used = strlen(missing);
        snprintf(missing + used, size - used, "%s%s (%s)", used ? ", " : "", sites->items[i],
                 !found           ? "not in the reply"
                 : *found->detail ? found->detail
                                  : "incomplete");
    }
    return missing[0] == '\0';
}

//  Sends the report, or waits, after the data check. reason is "" when the
//  data is complete, else what is missing.
static void s_decide(s_job *job, const char *reason)
{
    const char *id = job->spec.report->id;
    if (*reason == '\0') {
        s_send_report(job);
        return;
    }
    if (!job->spec.late) {
        sd_info("waiting for data: %s report=%s period=%s", reason, id, job->period);
        s_end(job, SD_JOB_WAITING);
        return;
    }
    //  The report's readers get the same news through the request's
    //  warnings, which the reporter shows in the mail.
    snprintf(job->late_warning, sizeof job->late_warning,
             "sent %d or more days late without complete data: %s", SD_SCHEDULE_LATE_DAYS,
             reason);
    sd_warning("report late, sent without complete data: %s report=%s period=%s", reason, id,
               job->period);
    s_note(job, "%s %s: %d or more days late, sent without complete data: %s", id, job->period,
           SD_SCHEDULE_LATE_DAYS, reason);
    s_send_report(job);
}

void sd_job_describe_data(const sd_strings *sites, const sd_msg *reply, const char *service,
                          char *reason, size_t size)
{
    if (!reply)
        snprintf(reason, size, "data availability unknown: no reply from service %s", service);
    else if (reply->type == SD_MSG_AVAILABILITY_REPLY)
        s_data_complete(sites, &reply->as.availability_reply, reason, size);
    else if (reply->type == SD_MSG_ERROR)
        snprintf(reason, size, "data availability unknown: %s (error %" PRId64 ")",
                 reply->as.error.text, reply->as.error.code);
    else
        snprintf(reason, size, "data availability unknown: unexpected %s reply",
                 sd_msg_type_name(reply->type));
}

sd_msg *sd_job_availability_request(const char *id, const char *service, const sd_strings *sites,
                                    sd_date date, int64_t deadline_ms)
{
    sd_msg *request = sd_msg_new(SD_MSG_AVAILABILITY_REQUEST);
    if (!request)
        return NULL;
    sd_availability_request *fields = &request->as.availability_request;
    char text[11];
    sd_date_format(date, text);
    fields->id = strdup(id);
    fields->service = strdup(service);
    fields->date = strdup(text);
    fields->deadline_ms = deadline_ms;
    bool filled = fields->id && fields->service && fields->date;
    for (size_t i = 0; filled && i < sites->count; i++)
        filled = sd_strings_push(&fields->sites, sites->items[i]) == 0;
    if (!filled)
        sd_msg_destroy(&request);
    return request;
}

static void s_on_availability(sd_msg *reply, void *arg)
{
    s_job *job = arg;
    char reason[700];
    sd_job_describe_data(&job->sites, reply, sd_job_data_service(job->spec.report->report), reason,
                         sizeof reason);
    sd_msg_destroy(&reply);
    s_decide(job, reason);
}

//  Asks the data service whether the period's last day is complete.
static void s_check_data(s_job *job)
{
    const char *service = sd_job_data_service(job->spec.report->report);
    char id[96];
    s_make_id(id, sizeof id, "availability");
    int64_t deadline_ms = sd_clock_ms() + job->env.availability_timeout_ms;
    sd_msg *request =
        sd_job_availability_request(id, service, &job->sites, job->spec.end, deadline_ms);
    int sent = -1;
    if (request)
        sent = sd_calls_send(job->env.calls, service, id, request,
                             job->env.availability_timeout_ms + S_REPLY_GRACE_MS, s_on_availability,
                             s_job_free, job);
    sd_msg_destroy(&request);
    if (sent != 0) {
        s_decide(job, "data availability unknown: the request could not be sent");
        return;
    }
    sd_debug("data check requested service=%s report=%s period=%s id=%s", service,
             job->spec.report->id, job->period, id);
}

int sd_job_start(const sd_job_env *env, const sd_job_spec *spec, sd_strings *errors,
                 sd_job_done_fn *done, void *arg)
{
    s_job *job = calloc(1, sizeof *job);
    if (!job)
        return -1;
    job->env = *env;
    job->spec = *spec;
    job->errors = errors;
    job->done = done;
    job->done_arg = arg;
    sd_date_format(spec->end, job->period);
    if (sd_job_data_sites(env->config, spec->report, &job->sites) != 0) {
        sd_strings_clear(&job->sites);
        free(job);
        return -1;
    }
    if (spec->check_data && job->sites.count > 0)
        s_check_data(job);
    else
        s_send_report(job);
    return 0;
}

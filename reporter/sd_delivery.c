/*  sd_delivery: mails finished reports and remembers their delivery ids.  */
#include "sd_delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_compose.h"
#include "sd_document.h"
#include "sd_log.h"
#include "sd_mail.h"
#include "sd_mail_transfer.h"
#include "sd_period.h"
#include "sd_render_csv.h"
#include "sd_render_html.h"
#include "sd_sent.h"

#define S_FIRST_RETRY_MS 1000
#define S_MAX_RETRY_MS 30000

//  One report being mailed: the message parts, kept for the retries.
typedef struct {
    sd_delivery_done_fn *done;
    void *arg;
    sd_msg *reply;
    char *request_id;
    char *delivery_id;              //  "" when the request has none
    int64_t deadline_ms;            //  clock time after which no attempt starts
    int64_t retry_ms;               //  wait before the next attempt
    int attempts;
    int timer;                      //  zloop timer of the next attempt, -1 when none
    sd_mail_transfer *transfer;
    char *error;                    //  why the delivery failed, NULL until it did
    char *password;
    char *subject;
    char **recipients;
    size_t recipient_count;
    char *html;
    char *text;
    sd_html_images images;
    sd_mail_part *inline_parts;
    char *csv;
    size_t csv_size;
    char csv_name[96];
} s_mail;

struct sd_delivery {
    const sd_config *config;
    zloop_t *loop;
    sd_sent *sent;                  //  NULL when no state file is configured
    s_mail *mail;                   //  the delivery in progress, or NULL
};

static void s_mail_destroy(sd_delivery *self, s_mail **mail_p)
{
    s_mail *mail = *mail_p;
    if (!mail)
        return;
    if (mail->timer >= 0)
        zloop_timer_end(self->loop, mail->timer);
    sd_mail_transfer_destroy(&mail->transfer);
    sd_msg_destroy(&mail->reply);
    free(mail->request_id);
    free(mail->delivery_id);
    free(mail->error);
    if (mail->password)
        explicit_bzero(mail->password, strlen(mail->password));
    free(mail->password);
    free(mail->subject);
    for (size_t i = 0; i < mail->recipient_count; i++)
        free(mail->recipients[i]);
    free(mail->recipients);
    free(mail->html);
    free(mail->text);
    sd_html_images_clear(&mail->images);
    free(mail->inline_parts);
    free(mail->csv);
    free(mail);
    *mail_p = NULL;
}

//  Reads the SMTP password file once, so that a missing file or one that
//  group or others may read stops the reporter at start instead of at its
//  first mail. The password itself is cleared and dropped.
static int s_check_password(const sd_config_smtp *smtp, char *error, size_t size)
{
    if (!smtp->user || !*smtp->user || !smtp->password_file || !*smtp->password_file)
        return 0;
    char *password = sd_mail_read_password(smtp->password_file, error, size);
    if (!password)
        return -1;
    explicit_bzero(password, strlen(password));
    free(password);
    return 0;
}

sd_delivery *sd_delivery_new(const sd_config *config, zloop_t *loop, char *error, size_t size)
{
    if (s_check_password(&config->smtp, error, size) != 0)
        return NULL;
    sd_delivery *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(error, size, "out of memory");
        return NULL;
    }
    self->config = config;
    self->loop = loop;
    const char *path = config->reporter.state_file;
    if (path && *path && !(self->sent = sd_sent_open(path, error, size))) {
        free(self);
        return NULL;
    }
    if (!self->sent)
        sd_warning("reporter.state_file is not set: a delivery id sent twice is mailed twice");
    return self;
}

int sd_delivery_check_request(const sd_report_request *request, char *error, size_t size)
{
    for (size_t i = 0; i < request->recipients.count; i++) {
        if (!sd_mail_address_valid(request->recipients.items[i])) {
            snprintf(error, size,
                     "recipients[%zu]: invalid mail address \"%.100s\"; expected local@domain "
                     "in ASCII",
                     i, request->recipients.items[i]);
            return -1;
        }
    }
    const char *subject = request->subject ? request->subject : "";
    for (const unsigned char *p = (const unsigned char *)subject; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(error, size, "subject: contains a control character (a line break?); give "
                                  "the subject on one line");
            return -1;
        }
    }
    return 0;
}

static sd_msg *s_already_sent_reply(const sd_report_request *request)
{
    sd_msg *msg = sd_msg_new(SD_MSG_REPORT_REPLY);
    if (!msg)
        return NULL;
    sd_report_reply *reply = &msg->as.report_reply;
    reply->request_id = strdup(request->request_id);
    reply->status = strdup("already_sent");
    reply->subject = strdup(request->subject ? request->subject : "");
    reply->delivered = true;
    if (!reply->request_id || !reply->status || !reply->subject)
        sd_msg_destroy(&msg);
    return msg;
}

sd_msg *sd_delivery_already_sent(sd_delivery *self, const sd_report_request *request)
{
    const char *id = request->delivery_id;
    if (!self->sent || !id || !*id || sd_sent_contains(self->sent, id) != 1)
        return NULL;
    sd_info("delivery id already sent, not mailing again delivery=%s request=%s", id,
            request->request_id);
    return s_already_sent_reply(request);
}

//  Ends the delivery: sets delivered, adds the failure as a warning, and
//  hands the reply to the callback.
static void s_complete(sd_delivery *self, bool delivered)
{
    s_mail *mail = self->mail;
    self->mail = NULL;
    sd_report_reply *reply = &mail->reply->as.report_reply;
    reply->delivered = delivered;
    if (!delivered) {
        char warning[700];
        snprintf(warning, sizeof warning, "the report was not mailed: %s",
                 mail->error ? mail->error : "unknown error");
        if (sd_strings_push(&reply->warnings, warning) != 0)
            sd_error("out of memory adding a warning request=%s", mail->request_id);
    }
    sd_delivery_done_fn *done = mail->done;
    void *arg = mail->arg;
    sd_msg *msg = mail->reply;
    mail->reply = NULL;
    s_mail_destroy(self, &mail);
    done(&msg, arg);
    sd_msg_destroy(&msg);
}

static void s_fail(s_mail *mail, const char *error)
{
    free(mail->error);
    mail->error = strdup(error);
}

static void s_attempt(sd_delivery *self);

static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_delivery *self = arg;
    if (!self->mail)
        return 0;
    self->mail->timer = -1;
    if (self->mail->error && !self->mail->transfer && self->mail->retry_ms < 0)
        s_complete(self, false);
    else
        s_attempt(self);
    return 0;
}

//  Calls s_complete from the loop soon, for failures found while starting.
static void s_complete_later(sd_delivery *self, const char *error)
{
    s_fail(self->mail, error);
    self->mail->retry_ms = -1;
    self->mail->timer = zloop_timer(self->loop, 1, 1, s_on_timer, self);
    if (self->mail->timer < 0)
        s_complete(self, false);
}

static void s_record(sd_delivery *self, const s_mail *mail)
{
    if (!*mail->delivery_id)
        return;
    if (!self->sent) {
        sd_warning("delivery id not recorded: no reporter.state_file delivery=%s",
                   mail->delivery_id);
        return;
    }
    sd_sent_record(self->sent, mail->delivery_id, mail->request_id, sd_now_ms());
}

//  Waits and tries again when the deadline leaves time, else gives up.
static void s_retry_or_give_up(sd_delivery *self)
{
    s_mail *mail = self->mail;
    if (sd_clock_ms() + mail->retry_ms >= mail->deadline_ms) {
        sd_warning("mail not delivered before the deadline attempts=%d request=%s",
                   mail->attempts, mail->request_id);
        s_complete(self, false);
        return;
    }
    sd_info("mail deferred, retrying: %s delay_ms=%lld attempt=%d request=%s", mail->error,
            (long long)mail->retry_ms, mail->attempts, mail->request_id);
    mail->timer = zloop_timer(self->loop, (size_t)mail->retry_ms, 1, s_on_timer, self);
    mail->retry_ms = mail->retry_ms * 2 > S_MAX_RETRY_MS ? S_MAX_RETRY_MS : mail->retry_ms * 2;
    if (mail->timer < 0)
        s_complete(self, false);
}

static void s_on_transfer_done(sd_mail_result result, const char *error, void *arg)
{
    sd_delivery *self = arg;
    s_mail *mail = self->mail;
    sd_mail_transfer_destroy(&mail->transfer);
    if (result == SD_MAIL_ACCEPTED) {
        sd_info("report mailed recipients=%zu attempts=%d request=%s delivery=%s",
                mail->recipient_count, mail->attempts, mail->request_id, mail->delivery_id);
        s_record(self, mail);
        s_complete(self, true);
        return;
    }
    s_fail(mail, error);
    if (result == SD_MAIL_REJECTED) {
        sd_warning("mail rejected: %s request=%s", error, mail->request_id);
        s_complete(self, false);
        return;
    }
    s_retry_or_give_up(self);
}

static void s_attempt(sd_delivery *self)
{
    s_mail *mail = self->mail;
    const sd_config_smtp *smtp = &self->config->smtp;
    sd_mail_part csv = {"text/csv; charset=utf-8", mail->csv_name, NULL,
                        (const unsigned char *)mail->csv, mail->csv_size};
    sd_mail_message message = {
        .from = smtp->from,
        .recipients = (const char *const *)mail->recipients,
        .recipient_count = mail->recipient_count,
        .reply_to = smtp->reply_to && *smtp->reply_to ? smtp->reply_to : NULL,
        .subject = mail->subject,
        .text = mail->text,
        .html = mail->html,
        .inline_parts = mail->inline_parts,
        .inline_count = mail->images.count,
        .attachments = mail->csv ? &csv : NULL,
        .attachment_count = mail->csv ? 1 : 0,
    };
    int64_t left = mail->deadline_ms - sd_clock_ms();
    sd_mail_server server = {smtp->url, smtp->starttls, smtp->user, mail->password,
                             left > 1000 ? (long)left : 1000};
    char error[600];
    mail->attempts++;
    mail->transfer = sd_mail_transfer_start(self->loop, &server, &message, s_on_transfer_done,
                                            self, error, sizeof error);
    if (!mail->transfer) {
        sd_warning("mail not sent: %s request=%s", error, mail->request_id);
        s_complete_later(self, error);
    }
}

//  Copies the subject with control characters (which a site name from the
//  config could carry) turned into spaces.
static char *s_clean_subject(const char *subject)
{
    char *clean = strdup(subject ? subject : "");
    for (char *p = clean; p && *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
    return clean;
}

static int s_copy_recipients(s_mail *mail, const sd_strings *recipients)
{
    mail->recipients = calloc(recipients->count ? recipients->count : 1, sizeof(char *));
    if (!mail->recipients)
        return -1;
    for (size_t i = 0; i < recipients->count; i++) {
        mail->recipients[i] = strdup(recipients->items[i]);
        if (!mail->recipients[i])
            return -1;
        mail->recipient_count++;
    }
    return 0;
}

//  Renders the mail form of the report: HTML, text, chart images, CSV.
static int s_render(s_mail *mail, const sd_plan *plan, sd_msg *const *tables,
                    const sd_outcome *outcome)
{
    sd_document_table *entries = calloc(plan->table_count ? plan->table_count : 1,
                                        sizeof *entries);
    if (!entries)
        return -1;
    size_t visible_count = 0;
    for (size_t t = 0; t < plan->table_count; t++) {
        if (plan->tables[t].def->hidden)
            continue;
        entries[visible_count].def = plan->tables[t].def;
        entries[visible_count++].table = tables[t] ? &tables[t]->as.table_normalized : NULL;
    }
    sd_document document = {
        .report = plan->report->name,
        .subject = mail->subject,
        .frequency = plan->frequency,
        .periods = &plan->periods,
        .status = outcome->partial ? "partial" : "complete",
        .missing = &outcome->missing,
        .warnings = &outcome->warnings,
        .quality = sd_outcome_quality(outcome, plan->report->service),
        .tables = entries,
        .table_count = visible_count,
        .csv_single_table = plan->report->csv_single_table,
    };
    mail->html = sd_render_html_mail(&document, &mail->images, &mail->text, NULL);
    mail->csv = sd_render_csv(&document, &mail->csv_size);
    free(entries);
    mail->inline_parts = calloc(mail->images.count + 1, sizeof *mail->inline_parts);
    if (!mail->html || !mail->csv || !mail->inline_parts)
        return -1;
    for (size_t i = 0; i < mail->images.count; i++)
        mail->inline_parts[i] = (sd_mail_part){"image/png", NULL, mail->images.items[i].content_id,
                                               mail->images.items[i].png,
                                               mail->images.items[i].size};
    char end[11];
    sd_date_format(plan->periods.current.end, end);
    snprintf(mail->csv_name, sizeof mail->csv_name, "statsdash-%s-%s.csv", plan->report->name,
             end);
    return 0;
}

static s_mail *s_mail_new(const sd_report_request *request, sd_msg **reply,
                          sd_delivery_done_fn *done, void *arg)
{
    s_mail *mail = calloc(1, sizeof *mail);
    if (!mail)
        return NULL;
    mail->timer = -1;
    mail->done = done;
    mail->arg = arg;
    mail->reply = *reply;
    *reply = NULL;
    mail->deadline_ms = request->deadline_ms;
    mail->retry_ms = S_FIRST_RETRY_MS;
    mail->request_id = strdup(request->request_id);
    mail->delivery_id = strdup(request->delivery_id ? request->delivery_id : "");
    return mail;
}

//  Reads the SMTP password file, when a login is configured.
static int s_read_password(const sd_config_smtp *smtp, s_mail *mail, char *error, size_t size)
{
    if (!smtp->user || !*smtp->user || !smtp->password_file || !*smtp->password_file)
        return 0;
    mail->password = sd_mail_read_password(smtp->password_file, error, size);
    return mail->password ? 0 : -1;
}

void sd_delivery_start(sd_delivery *self, const sd_plan *plan, sd_msg *const *tables,
                       const sd_outcome *outcome, const sd_report_request *request,
                       sd_msg **reply, sd_delivery_done_fn *done, void *arg)
{
    sd_delivery_cancel(self);
    s_mail *mail = s_mail_new(request, reply, done, arg);
    if (!mail) {
        sd_error("out of memory starting a delivery request=%s", request->request_id);
        sd_msg_destroy(reply);
        return;
    }
    self->mail = mail;
    mail->subject = s_clean_subject(sd_compose_subject(plan, request));
    char error[600] = "";
    if (!mail->request_id || !mail->delivery_id || !mail->subject ||
        s_copy_recipients(mail, &request->recipients) != 0)
        snprintf(error, sizeof error, "out of memory");
    else if (!self->config->smtp.url || !*self->config->smtp.url)
        snprintf(error, sizeof error, "no SMTP server configured; set smtp.url");
    else if (s_read_password(&self->config->smtp, mail, error, sizeof error) == 0 &&
             s_render(mail, plan, tables, outcome) != 0)
        snprintf(error, sizeof error, "the mail could not be rendered (see the template errors)");
    if (*error) {
        sd_warning("mail not sent: %s request=%s", error, request->request_id);
        s_complete_later(self, error);
        return;
    }
    if (request->subject && *request->subject) {
        char **field = &mail->reply->as.report_reply.subject;
        char *copy = strdup(mail->subject);
        if (copy) {
            free(*field);
            *field = copy;
        }
    }
    s_attempt(self);
}

void sd_delivery_cancel(sd_delivery *self)
{
    s_mail_destroy(self, &self->mail);
}

void sd_delivery_destroy(sd_delivery **self_p)
{
    sd_delivery *self = *self_p;
    if (!self)
        return;
    sd_delivery_cancel(self);
    sd_sent_close(&self->sent);
    free(self);
    *self_p = NULL;
}

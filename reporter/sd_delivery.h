/*  sd_delivery: mails finished reports and remembers their delivery ids.

    A report.request with recipients is mailed once rendered: HTML with its
    charts as inline images, a plain-text part with the key figures and the
    CSV as an attachment (sd_mail), through the config's smtp server. A
    temporary failure (SMTP 4xx, or no answer) is retried on the zloop
    after 1, 2, 4 ... seconds (at most 30) until the request's deadline; a
    5xx reply ends the delivery. The report.reply says delivered = true
    only when the server accepted the mail; otherwise a warning says why.

    A request with a delivery id is mailed at most once: the id is
    recorded in reporter.state_file (sd_sent) once the server accepted the
    mail, and a later request with the same id gets status "already_sent"
    (delivered true) without rendering or mailing anything.
*/
#ifndef SD_DELIVERY_H
#define SD_DELIVERY_H

#include <czmq.h>
#include <stddef.h>

#include "sd_config.h"
#include "sd_outcome.h"
#include "sd_plan.h"
#include "sd_proto.h"

typedef struct sd_delivery sd_delivery;

//  Called once when a delivery ends, from the loop, with the report.reply
//  (delivered set, a warning added on failure); the callee takes *reply.
typedef void(sd_delivery_done_fn)(sd_msg **reply, void *arg);

//  Creates the delivery service of a reporter; config is borrowed and must
//  outlive it. Opens reporter.state_file when it is set. Returns NULL with
//  one line in error when the state file cannot be opened.
sd_delivery *sd_delivery_new(const sd_config *config, zloop_t *loop, char *error, size_t size);

//  Checks the mail fields of a request: every recipient a plain address,
//  a subject on one line. Returns 0, or -1 with one line in error.
int sd_delivery_check_request(const sd_report_request *request, char *error, size_t size);

//  Returns a report.reply with status "already_sent" when the request's
//  delivery id was mailed before, else NULL.
sd_msg *sd_delivery_already_sent(sd_delivery *self, const sd_report_request *request);

//  Mails the report of plan to request's recipients, taking *reply (the
//  composed report.reply). done is called later from the loop, also when
//  mailing cannot start. Only one delivery runs at a time: a new one
//  replaces (cancels) the last. tables and outcome are only read during
//  this call.
void sd_delivery_start(sd_delivery *self, const sd_plan *plan, sd_msg *const *tables,
                       const sd_outcome *outcome, const sd_report_request *request,
                       sd_msg **reply, sd_delivery_done_fn *done, void *arg);

//  Stops the delivery in progress, if any, without calling done.
void sd_delivery_cancel(sd_delivery *self);

//  Cancels, closes the state file, frees and sets *self_p to NULL. Safe on
//  NULL.
void sd_delivery_destroy(sd_delivery **self_p);

#endif

/*  sd_reporter: the "report" service.

    One reporter is an MDP worker of service "report", an MDP client of the
    fetch services ("ga", "youtube") and a subscriber of its own table topic
    "table.<reporter id>.", all on one zloop. The subscription is made once,
    when the reporter is created, so it is in place before any fetch job is
    sent.

    For each report.request it plans the tables (sd_plan), sends one
    fetch.request per site, and keeps the first copy of each
    table.normalized and each fetch.reply of that request. It sends the
    second-stage jobs of a dependent table as soon as its parent table is
    in. It renders when every table is in and every job has replied, or at
    the request deadline minus reporter.render_margin_ms, whichever comes
    first, after the finishing steps of sd_finish. It then replies with a
    report.reply (status "complete" or "partial", the missing sites and the
    warnings naming them). A request that cannot be planned gets an `error`
    reply: 400 for a bad field, 404 for an unknown report type or site,
    408 when its deadline has passed. MDP hands a worker one request at a
    time, so reports are served one after the other.
*/
#ifndef SD_REPORTER_H
#define SD_REPORTER_H

#include <czmq.h>

#include "sd_config.h"

typedef struct sd_reporter sd_reporter;

//  Creates the reporter and connects its sockets to the endpoints of
//  config->broker. config is borrowed and must outlive the reporter.
//  Returns NULL when a socket cannot be created or connected.
sd_reporter *sd_reporter_new(const sd_config *config);

//  Registers the sockets on loop and announces the service. Returns 0 or -1.
int sd_reporter_attach(sd_reporter *reporter, zloop_t *loop);

//  Returns the reporter id used in table topics.
const char *sd_reporter_id(const sd_reporter *reporter);

//  Drops a report in progress (without reply), disconnects and frees the
//  reporter; *reporter is set to NULL. Safe on NULL.
void sd_reporter_destroy(sd_reporter **reporter);

#endif

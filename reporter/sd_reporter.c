/*  sd_reporter: the "report" service.

    The reporter serves one report at a time: a job contains the request,
    its plan, the MDP return address, and what has arrived for it so far. Every
    message from a peer is decoded and matched to the job by request id,
    table id or job id; anything else is logged at debug and dropped.
*/
#include "sd_reporter.h"

#include "sd_bus.h"
#include "sd_chart.h"
#include "sd_compose.h"
#include "sd_delivery.h"
#include "sd_templates.h"
#include "sd_finish.h"
#include "sd_log.h"
#include "sd_mdcli.h"
#include "sd_mdp.h"
#include "sd_mdwrk.h"
#include "sd_outcome.h"
#include "sd_period.h"
#include "sd_plan.h"
#include "sd_proto.h"
#include "sd_reply_fit.h"

//  The report in progress.
typedef struct {
    sd_msg *request;                //  the report.request
    sd_plan *plan;
    zframe_t *client;               //  MDP return address of the requester
    sd_msg **tables;                //  first table.normalized per planned table, NULL until in
    sd_msg **replies;               //  first fetch.reply per job, NULL until in
    char **job_errors;              //  why a job failed as a whole, NULL unless it did
    int timer;                      //  zloop id of the render timer, -1 when none
    bool mailing;                   //  rendered; the mail is on its way (sd_delivery)
} s_job;

struct sd_reporter {
    const sd_config *config;        //  borrowed
    char *id;                       //  reporter id in "table.<id>."
    sd_proto_limits limits;         //  applied to every decoded body
    sd_mdwrk *worker;               //  service "report"
    sd_mdcli *client;               //  fetch jobs to "ga" and "youtube"
    zsock_t *bus;                   //  SUB on "table.<id>."
    zloop_t *loop;                  //  set by sd_reporter_attach
    sd_delivery *delivery;          //  mail and delivery ids, created by sd_reporter_attach
    s_job *job;                     //  NULL when idle
};

static void s_job_destroy(sd_reporter *self, s_job **job_p)
{
    s_job *job = *job_p;
    if (!job)
        return;
    if (job->timer >= 0 && self->loop)
        zloop_timer_end(self->loop, job->timer);
    size_t tables = job->plan ? job->plan->table_count : 0;
    size_t jobs = job->plan ? job->plan->job_count : 0;
    for (size_t t = 0; job->tables && t < tables; t++)
        sd_msg_destroy(&job->tables[t]);
    for (size_t j = 0; job->replies && j < jobs; j++)
        sd_msg_destroy(&job->replies[j]);
    for (size_t j = 0; job->job_errors && j < jobs; j++)
        free(job->job_errors[j]);
    free(job->tables);
    free(job->replies);
    free(job->job_errors);
    sd_plan_destroy(&job->plan);
    sd_msg_destroy(&job->request);
    zframe_destroy(&job->client);
    free(job);
    *job_p = NULL;
}

//  Encodes msg into a new one-frame zmsg. Returns NULL on failure.
static zmsg_t *s_encode(const sd_msg *msg)
{
    uint8_t *data = NULL;
    size_t size = 0;
    sd_proto_error err;
    if (sd_msg_encode(msg, &data, &size, &err) != 0) {
        sd_error("message not encoded: %s: %s type=%s", err.field, err.text,
                 sd_msg_type_name(msg->type));
        return NULL;
    }
    zmsg_t *body = zmsg_new();
    if (body && zmsg_addmem(body, data, size) != 0)
        zmsg_destroy(&body);
    free(data);
    return body;
}

//  Sends msg to the requester at *client; takes *client.
static void s_reply(sd_reporter *self, zframe_t **client, const sd_msg *msg)
{
    zmsg_t *body = s_encode(msg);
    if (!body) {
        zframe_destroy(client);
        return;
    }
    if (sd_mdwrk_reply(self->worker, client, &body) != 0)
        sd_warning("reply not sent type=%s", sd_msg_type_name(msg->type));
}

//  Replies with an `error` message; takes *client.
static void s_reply_error(sd_reporter *self, zframe_t **client, const char *id, int code,
                          const char *text)
{
    sd_warning("report request rejected: %s code=%d request=%s", text, code, id);
    sd_msg *msg = sd_msg_new(SD_MSG_ERROR);
    if (msg) {
        msg->as.error.id = strdup(id);
        msg->as.error.code = code;
        msg->as.error.text = strdup(text);
    }
    if (msg && msg->as.error.id && msg->as.error.text)
        s_reply(self, client, msg);
    else
        zframe_destroy(client);
    sd_msg_destroy(&msg);
}

//  Leaves out the outputs that would make reply larger than what the
//  client (statsdash request, with the protocol's default limits) or the
//  broker (broker.max_message_bytes) accepts.
static void s_fit(sd_reporter *self, sd_msg *reply)
{
    sd_proto_limits limits;
    sd_proto_limits_default(&limits);
    if (self->limits.max_message_bytes < limits.max_message_bytes)
        limits.max_message_bytes = self->limits.max_message_bytes;
    if (sd_reply_fit(reply, &limits) < 0)
        sd_error("report reply not fitted to the size limits request=%s",
                 reply->as.report_reply.request_id);
}

//  Replies with the report once the mail was accepted or given up on.
static void s_on_delivered(sd_msg **reply, void *arg)
{
    sd_reporter *self = arg;
    if (!self->job)
        return;
    s_fit(self, *reply);
    s_reply(self, &self->job->client, *reply);
    s_job_destroy(self, &self->job);
}

//  Renders the report with what has arrived, replies and ends the job.
static void s_finish(sd_reporter *self)
{
    s_job *job = self->job;
    if (job->mailing)
        return;
    sd_plan *plan = job->plan;
    const sd_report_request *request = &job->request->as.report_request;
    sd_outcome outcome = {0};
    sd_msg *reply = NULL;
    if (sd_finish_tables(plan, job->tables) != 0)
        sd_error("tables not finished (out of memory) request=%s", plan->request_id);
    else if (sd_outcome_compute(plan, job->tables, job->replies, job->job_errors, &outcome) == 0 &&
             sd_outcome_add_request_warnings(&outcome, &request->warnings) == 0)
        reply = sd_compose_reply(plan, job->tables, &outcome, request);
    if (reply && request->recipients.count > 0) {
        //  The reply goes out when the mail was accepted or given up on.
        sd_info("report rendered, mailing status=%s recipients=%zu request=%s report=%s",
                reply->as.report_reply.status, request->recipients.count, plan->request_id,
                plan->report->name);
        job->mailing = true;
        if (job->timer >= 0)
            zloop_timer_end(self->loop, job->timer);
        job->timer = -1;
        sd_delivery_start(self->delivery, plan, job->tables, &outcome, request, &reply,
                          s_on_delivered, self);
        sd_outcome_clear(&outcome);
        return;
    }
    if (reply) {
        sd_info("report rendered status=%s missing=%zu warnings=%zu request=%s report=%s",
                reply->as.report_reply.status, outcome.missing.count, outcome.warnings.count,
                plan->request_id, plan->report->name);
        s_fit(self, reply);
        s_reply(self, &job->client, reply);
    } else {
        s_reply_error(self, &job->client, plan->request_id, SD_ERROR_INTERNAL,
                      "the report could not be rendered (out of memory)");
    }
    sd_msg_destroy(&reply);
    sd_outcome_clear(&outcome);
    s_job_destroy(self, &self->job);
}

//  Finishes the job once every table is in and every fetch job has replied.
static void s_check_done(sd_reporter *self)
{
    s_job *job = self->job;
    for (size_t t = 0; t < job->plan->table_count; t++) {
        if (!job->tables[t])
            return;
    }
    for (size_t j = 0; j < job->plan->job_count; j++) {
        if (!job->replies[j] && !job->job_errors[j])
            return;
    }
    s_finish(self);
}

static int s_on_render_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_reporter *self = arg;
    if (!self->job)
        return 0;
    self->job->timer = -1;
    sd_info("render time reached, rendering what arrived request=%s",
            self->job->plan->request_id);
    s_finish(self);
    return 0;
}

//  Sends the fetch jobs of the plan from index `first` on. A job that
//  cannot be sent fails at once.
static void s_send_jobs(sd_reporter *self, s_job *job, size_t first)
{
    for (size_t j = first; j < job->plan->job_count; j++) {
        const sd_fetch_request *fetch = &job->plan->jobs[j]->as.fetch_request;
        zmsg_t *body = s_encode(job->plan->jobs[j]);
        if (body && sd_mdcli_send(self->client, fetch->service, &body) == 0) {
            sd_debug("fetch job sent job=%s service=%s", fetch->job_id, fetch->service);
            continue;
        }
        zmsg_destroy(&body);
        sd_warning("fetch job not sent job=%s service=%s", fetch->job_id, fetch->service);
        job->job_errors[j] = strdup("the fetch job could not be sent to the broker");
    }
}

//  Creates the job of a planned request; takes *request, *plan and *client.
static s_job *s_job_new(sd_msg **request, sd_plan **plan, zframe_t **client)
{
    s_job *job = calloc(1, sizeof *job);
    if (job) {
        job->timer = -1;
        job->request = *request;
        job->plan = *plan;
        job->client = *client;
        *request = NULL;
        *plan = NULL;
        *client = NULL;
        size_t tables = job->plan->table_count ? job->plan->table_count : 1;
        job->tables = calloc(tables, sizeof *job->tables);
        //  Room for the second-stage jobs too.
        size_t jobs = job->plan->job_capacity ? job->plan->job_capacity : 1;
        job->replies = calloc(jobs, sizeof *job->replies);
        job->job_errors = calloc(jobs, sizeof *job->job_errors);
    }
    return job;
}

//  Starts the report of a decoded, planned request.
static void s_start(sd_reporter *self, sd_msg **request, sd_plan **plan, zframe_t **client)
{
    int64_t render_at = (*request)->as.report_request.deadline_ms -
                        self->config->reporter.render_margin_ms;
    char request_id[128];
    snprintf(request_id, sizeof request_id, "%s", (*plan)->request_id);
    self->job = s_job_new(request, plan, client);
    s_job *job = self->job;
    if (!job) {
        s_reply_error(self, client, request_id, SD_ERROR_INTERNAL, "out of memory");
        return;
    }
    if (!job->tables || !job->replies || !job->job_errors) {
        s_reply_error(self, &job->client, request_id, SD_ERROR_INTERNAL, "out of memory");
        s_job_destroy(self, &self->job);
        return;
    }
    sd_info("report started report=%s sites=%zu tables=%zu request=%s", job->plan->report->name,
            job->plan->sites.count, job->plan->table_count, request_id);

    //  The timer bounds the wait even when no table or reply ever comes.
    int64_t delay = render_at - sd_clock_ms();
    job->timer = zloop_timer(self->loop, delay > 1 ? (size_t)delay : 1, 1, s_on_render_timer,
                             self);
    s_send_jobs(self, job, 0);
}

//  Decodes a report.request. Returns it, or NULL after replying with an error.
static sd_msg *s_decode_request(sd_reporter *self, zframe_t **client, zmsg_t *body)
{
    zframe_t *frame = zmsg_first(body);
    sd_proto_error err = {0};
    sd_msg *msg = frame ? sd_msg_decode(zframe_data(frame), zframe_size(frame), &self->limits,
                                        &err)
                        : NULL;
    char text[400];
    if (!frame)
        snprintf(text, sizeof text, "empty request; expected a report.request body");
    else if (!msg)
        snprintf(text, sizeof text, "invalid report.request: %s: %s", err.field, err.text);
    else if (msg->type != SD_MSG_REPORT_REQUEST)
        snprintf(text, sizeof text, "expected a report.request, got %s",
                 sd_msg_type_name(msg->type));
    else
        return msg;
    sd_msg_destroy(&msg);
    s_reply_error(self, client, "", SD_ERROR_BAD_REQUEST, text);
    return NULL;
}

static void s_on_request(sd_mdwrk *worker, zframe_t *client, zmsg_t *body, void *arg)
{
    (void)worker;
    sd_reporter *self = arg;
    sd_msg *request = s_decode_request(self, &client, body);
    zmsg_destroy(&body);
    if (!request)
        return;

    const sd_report_request *fields = &request->as.report_request;
    sd_plan_error err = {0};
    sd_plan *plan = NULL;
    sd_msg *already_sent = NULL;
    char mail_error[400];
    if (sd_delivery_check_request(fields, mail_error, sizeof mail_error) != 0) {
        s_reply_error(self, &client, fields->request_id, SD_ERROR_BAD_REQUEST, mail_error);
    } else if ((already_sent = sd_delivery_already_sent(self->delivery, fields))) {
        s_reply(self, &client, already_sent);
        sd_msg_destroy(&already_sent);
    } else if (self->job) {
        s_reply_error(self, &client, fields->request_id, SD_ERROR_UNAVAILABLE,
                      "another report is in progress on this reporter; retry later");
    } else if (fields->deadline_ms <= sd_clock_ms()) {
        s_reply_error(self, &client, fields->request_id, SD_ERROR_DEADLINE,
                      "the deadline of the report request has passed");
    } else if (!(plan = sd_plan_new(fields, self->config, self->id, &err))) {
        char text[400];
        snprintf(text, sizeof text, "%s%s%s", err.field, *err.field ? ": " : "", err.text);
        s_reply_error(self, &client, fields->request_id, err.code, text);
    } else {
        s_start(self, &request, &plan, &client);
    }
    sd_plan_destroy(&plan);
    sd_msg_destroy(&request);
    zframe_destroy(&client);
}

//  Decodes a frame from a peer. Returns the message, or NULL (logged).
static sd_msg *s_decode_frame(sd_reporter *self, zframe_t *frame, const char *source)
{
    if (!frame)
        return NULL;
    sd_proto_error err = {0};
    sd_msg *msg = sd_msg_decode(zframe_data(frame), zframe_size(frame), &self->limits, &err);
    if (!msg)
        sd_warning("invalid message dropped: %s: %s source=%s", err.field, err.text, source);
    return msg;
}

//  Plans and sends the second-stage jobs of the tables that depend on the
//  table that just arrived. A dependent table with nothing to fetch gets
//  an empty table at once.
static void s_start_dependents(sd_reporter *self, size_t parent)
{
    s_job *job = self->job;
    sd_plan *plan = job->plan;
    size_t first = plan->job_count;
    int added = sd_plan_dependents(plan, parent, &job->tables[parent]->as.table_normalized);
    if (added < 0)
        sd_error("dependent tables not planned (out of memory) request=%s table=%s",
                 plan->request_id, plan->tables[parent].table_id);
    for (size_t t = 0; t < plan->table_count; t++) {
        if (!plan->tables[t].empty || job->tables[t])
            continue;
        job->tables[t] = sd_plan_empty_table(plan, t);
        sd_debug("dependent table has nothing to fetch request=%s table=%s", plan->request_id,
                 plan->tables[t].table_id);
    }
    if (plan->job_count > first)
        sd_info("second-stage jobs sent jobs=%zu request=%s parent=%s", plan->job_count - first,
                plan->request_id, plan->tables[parent].def->name);
    s_send_jobs(self, job, first);
}

static void s_take_table(sd_reporter *self, sd_msg **msg)
{
    const sd_table_normalized *table = &(*msg)->as.table_normalized;
    s_job *job = self->job;
    if (!job || strcmp(table->request_id, job->plan->request_id) != 0) {
        sd_debug("table of another request dropped request=%s table=%s", table->request_id,
                 table->table_id);
        return;
    }
    int index = sd_plan_find_table(job->plan, table->table_id);
    if (index < 0) {
        sd_warning("table not in the plan dropped request=%s table=%s", table->request_id,
                   table->table_id);
        return;
    }
    if (job->tables[index]) {
        sd_debug("duplicate table dropped request=%s table=%s", table->request_id,
                 table->table_id);
        return;
    }
    sd_debug("table received rows=%zu missing=%zu request=%s table=%s", table->data.row_count,
             table->missing_count, table->request_id, table->table_id);
    job->tables[index] = *msg;
    *msg = NULL;
    s_start_dependents(self, (size_t)index);
    s_check_done(self);
}

static int s_on_bus(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    sd_reporter *self = arg;
    zmsg_t *frames = zmsg_recv(socket);
    if (!frames)
        return 0;
    zmsg_first(frames);
    sd_msg *msg = s_decode_frame(self, zmsg_next(frames), "bus");
    if (msg && msg->type == SD_MSG_TABLE_NORMALIZED)
        s_take_table(self, &msg);
    else if (msg)
        sd_debug("bus message of type %s dropped", sd_msg_type_name(msg->type));
    sd_msg_destroy(&msg);
    zmsg_destroy(&frames);
    return 0;
}

static void s_take_fetch_reply(sd_reporter *self, sd_msg **msg)
{
    const sd_fetch_reply *reply = &(*msg)->as.fetch_reply;
    s_job *job = self->job;
    int index = job && strcmp(reply->request_id, job->plan->request_id) == 0
                    ? sd_plan_find_job(job->plan, reply->job_id)
                    : -1;
    if (index < 0 || job->replies[index] || job->job_errors[index]) {
        sd_debug("fetch reply dropped (other request or duplicate) job=%s", reply->job_id);
        return;
    }
    sd_debug("fetch reply received parts=%zu job=%s", reply->part_count, reply->job_id);
    job->replies[index] = *msg;
    *msg = NULL;
    s_check_done(self);
}

//  Returns the index of the job an error message replies to: the job with
//  its id, else the first job still waiting, or -1.
static int s_error_job(const s_job *job, const sd_error_msg *error)
{
    int index = sd_plan_find_job(job->plan, error->id);
    if (index >= 0)
        return job->replies[index] || job->job_errors[index] ? -1 : index;
    //  NOTE: an error that names no job id (the broker may reply with the
    //  request id) is charged to the first job still waiting; all jobs of a
    //  request go to the same service, so the count of failures is right.
    if (strcmp(error->id, job->plan->request_id) != 0 && *error->id != '\0')
        return -1;
    for (size_t j = 0; j < job->plan->job_count; j++) {
        if (!job->replies[j] && !job->job_errors[j])
            return (int)j;
    }
    return -1;
}

static void s_take_error(sd_reporter *self, const sd_error_msg *error, const char *service)
{
    int index = self->job ? s_error_job(self->job, error) : -1;
    if (index < 0) {
        sd_debug("error reply dropped code=%lld id=%s", (long long)error->code, error->id);
        return;
    }
    char text[300];
    snprintf(text, sizeof text, "fetch job failed: %s (error %lld from service %s)", error->text,
             (long long)error->code, service);
    sd_warning("%s job=%s", text, self->job->plan->jobs[index]->as.fetch_request.job_id);
    self->job->job_errors[index] = strdup(text);
    if (!self->job->job_errors[index])
        sd_error("out of memory recording a job error request=%s", self->job->plan->request_id);
    s_check_done(self);
}

static void s_on_fetch_reply(sd_mdcli *client, const char *service, zmsg_t *body, void *arg)
{
    (void)client;
    sd_reporter *self = arg;
    sd_msg *msg = s_decode_frame(self, zmsg_first(body), service);
    if (msg && msg->type == SD_MSG_FETCH_REPLY)
        s_take_fetch_reply(self, &msg);
    else if (msg && msg->type == SD_MSG_ERROR)
        s_take_error(self, &msg->as.error, service);
    else if (msg)
        sd_warning("unexpected %s from service %s dropped", sd_msg_type_name(msg->type), service);
    sd_msg_destroy(&msg);
    zmsg_destroy(&body);
}

//  Creates the SUB socket on the reporter's own table topic.
static zsock_t *s_new_bus(const sd_config_broker *broker, const char *id)
{
    char topic[320];
    char error[700];
    sd_bus_table_topic(topic, sizeof topic, id);
    zsock_t *bus = sd_bus_socket_new(ZMQ_SUB, broker->bus_subscribe, broker, error, sizeof error);
    if (!bus) {
        sd_error("table bus not connected: %s", error);
        return NULL;
    }
    zsock_set_subscribe(bus, topic);
    sd_info("subscribed to the table bus topic=%s endpoint=%s", topic, broker->bus_subscribe);
    return bus;
}

sd_reporter *sd_reporter_new(const sd_config *config)
{
    sd_reporter *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    sd_proto_limits_default(&self->limits);
    if (config->broker.max_message_bytes > 0)
        self->limits.max_message_bytes = (size_t)config->broker.max_message_bytes;
    if (config->reporter.id && *config->reporter.id)
        self->id = strdup(config->reporter.id);
    else
        self->id = zsys_sprintf("reporter-%d", (int)getpid());
    sd_mdwrk_options options = {
        .endpoint = config->broker.endpoint,
        .service = "report",
        .heartbeat_ms = config->broker.heartbeat_ms,
        .liveness = config->broker.liveness,
        .broker = &config->broker,
    };
    if (!self->id || !(self->bus = s_new_bus(&config->broker, self->id)) ||
        !(self->worker = sd_mdwrk_new(&options)) ||
        !(self->client = sd_mdcli_new(config->broker.endpoint, &config->broker)))
        sd_reporter_destroy(&self);
    return self;
}

int sd_reporter_attach(sd_reporter *self, zloop_t *loop)
{
    self->loop = loop;
    char error[600];
    self->delivery = sd_delivery_new(self->config, loop, error, sizeof error);
    if (!self->delivery) {
        sd_error("reporter not started: %s", error);
        return -1;
    }
    sd_templates_set_dir(self->config->reporter.templates_dir);
    if (zloop_reader(loop, self->bus, s_on_bus, self) != 0 ||
        sd_mdcli_attach(self->client, loop, s_on_fetch_reply, self) != 0 ||
        sd_mdwrk_attach(self->worker, loop, s_on_request, self) != 0)
        return -1;
    sd_info("reporter ready reporter=%s endpoint=%s", self->id, self->config->broker.endpoint);
    return 0;
}

const char *sd_reporter_id(const sd_reporter *self)
{
    return self->id;
}

void sd_reporter_destroy(sd_reporter **reporter)
{
    if (!reporter || !*reporter)
        return;
    sd_reporter *self = *reporter;
    s_job_destroy(self, &self->job);
    sd_delivery_destroy(&self->delivery);
    sd_templates_reset();
    sd_chart_shutdown();
    if (self->loop && self->bus)
        zloop_reader_end(self->loop, self->bus);
    zsock_destroy(&self->bus);
    sd_mdcli_destroy(&self->client);
    sd_mdwrk_destroy(&self->worker);
    free(self->id);
    free(self);
    *reporter = NULL;
}

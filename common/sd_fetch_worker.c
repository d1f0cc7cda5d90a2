/*  sd_fetch_worker: MDP requests in, jobs and checks, replies out.  */
#include "sd_fetch_worker.h"

#include "sd_bus.h"
#include "sd_log.h"
#include "sd_mdwrk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Parts queued on the bus before the PUB socket drops new ones.
#define SD_FETCH_BUS_SEND_HWM 100000
#define SD_FETCH_BUS_LINGER_MS 2000

struct sd_fetch_worker {
    const sd_config *config;
    zloop_t *loop;
    sd_fetch_worker_options options;
    sd_mdwrk **sessions;            //  options.sessions MDP workers, one request each
    zsock_t *publisher;
    sd_inflight *inflight;          //  requests in flight per key, over all tasks
    int pump_timer;                 //  -1 when none is set
    zlistx_t *tasks;                //  sd_fetch_task items in flight
    sd_proto_limits limits;
};

struct sd_fetch_task {
    sd_fetch_worker *worker;
    const sd_fetch_kind *kind;
    void *object;                   //  the job or check, NULL until started
    char *id;                       //  job_id of a fetch.request, "" for a check
    sd_mdwrk *session;              //  the MDP worker the request came through
    zframe_t *client;
    void *handle;                   //  in worker->tasks
};

static void s_task_destroy(sd_fetch_task **task_p)
{
    sd_fetch_task *task = *task_p;
    if (!task)
        return;
    if (task->object)
        task->kind->destroy(task->object);
    zframe_destroy(&task->client);
    free(task->id);
    free(task);
    *task_p = NULL;
}

//  Sends the reply on session, the MDP worker that received the request, so
//  that the session is free for the next one.
static void s_reply(sd_fetch_worker *worker, sd_mdwrk *session, zframe_t **client,
                    zmsg_t **body)
{
    //  A REPLY without a body (sd_mdwrk_reply sends one for NULL) still
    //  frees the session, while without a REPLY it would stay busy forever.
    if (!*body)
        sd_error("cannot build a reply, sending one without a body service=%s",
                 worker->options.service);
    if (sd_mdwrk_reply(session, client, body) != 0)
        sd_warning("cannot send a reply to the broker (the client will time out) service=%s",
                   worker->options.service);
}

//  Sends an `error` reply of code with "the LABEL worker TEXT".
static void s_reply_error(sd_fetch_worker *worker, sd_mdwrk *session, zframe_t **client,
                          const char *id, sd_error_code code, const char *text)
{
    char message[256];
    snprintf(message, sizeof message, "the %s worker %s", worker->options.label, text);
    zmsg_t *body = sd_part_error_reply(id, code, message);
    s_reply(worker, session, client, &body);
}

void sd_fetch_task_finish(sd_fetch_task *task, zmsg_t *reply)
{
    sd_fetch_worker *worker = task->worker;
    if (reply)
        s_reply(worker, task->session, &task->client, &reply);
    else if (task->kind == &worker->options.fetch)
        s_reply_error(worker, task->session, &task->client, task->id, SD_ERROR_INTERNAL,
                      "could not build the fetch reply");
    else
        s_reply_error(worker, task->session, &task->client, task->id, SD_ERROR_INTERNAL,
                      "could not build the availability reply");
    zlistx_delete(worker->tasks, task->handle);
    s_task_destroy(&task);
}

//  -------------------------------------------------------------------------
//  Requests

//  Starts what waits for a slot in every job and check. Runs on a timer
//  after a release, so never inside the releasing call's callback chain.
static int s_on_pump_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_fetch_worker *worker = arg;
    worker->pump_timer = -1;
    for (sd_fetch_task *task = zlistx_first(worker->tasks); task;
         task = zlistx_next(worker->tasks)) {
        if (task->object && task->kind->pump)
            task->kind->pump(task->object);
    }
    return 0;
}

static void s_on_slot_released(const char *key, void *arg)
{
    (void)key;
    sd_fetch_worker *worker = arg;
    if (worker->pump_timer >= 0 || zlistx_size(worker->tasks) < 2)
        return;                     //  a lone job or check pumps itself
    worker->pump_timer = zloop_timer(worker->loop, 0, 1, s_on_pump_timer, worker);
}

//  Decodes a request body. Returns the fetch.request or
//  availability.request message, or NULL with text filled.
static sd_msg *s_decode(sd_fetch_worker *worker, zmsg_t *body, char *text, size_t size)
{
    sd_proto_error error;
    zframe_t *frame = zmsg_first(body);
    if (zmsg_size(body) != 1 || !frame) {
        snprintf(text, size, "a request is one frame, got %zu", zmsg_size(body));
        return NULL;
    }
    sd_msg *msg = sd_msg_decode(zframe_data(frame), zframe_size(frame), &worker->limits, &error);
    if (!msg) {
        snprintf(text, size, "expected a fetch.request or an availability.request, but the "
                 "body did not decode: %s%s%s", error.field, error.field[0] ? ": " : "",
                 error.text);
        return NULL;
    }
    if (msg->type != SD_MSG_FETCH_REQUEST && msg->type != SD_MSG_AVAILABILITY_REQUEST) {
        snprintf(text, size, "expected a fetch.request or an availability.request, got %s",
                 sd_msg_type_name(msg->type));
        sd_msg_destroy(&msg);
    }
    return msg;
}

//  Creates the task of a decoded request (taken) that came through
//  session and starts its job or check. Returns 0, or -1 with *client left
//  to the caller.
static int s_start_task(sd_fetch_worker *worker, sd_mdwrk *session, zframe_t **client,
                        sd_msg **request)
{
    bool fetch = (*request)->type == SD_MSG_FETCH_REQUEST;
    sd_fetch_task *task = calloc(1, sizeof *task);
    if (task)
        task->id = strdup(fetch ? (*request)->as.fetch_request.job_id : "");
    if (!task || !task->id) {
        free(task);
        sd_msg_destroy(request);
        return -1;
    }
    task->worker = worker;
    task->session = session;
    task->kind = fetch ? &worker->options.fetch : &worker->options.check;
    task->client = *client;
    *client = NULL;
    task->handle = zlistx_add_end(worker->tasks, task);
    if (task->handle)
        task->object = task->kind->start(worker->options.arg, request, task);
    sd_msg_destroy(request);
    if (!task->object) {
        if (task->handle)
            zlistx_delete(worker->tasks, task->handle);
        *client = task->client;
        task->client = NULL;
        s_task_destroy(&task);
        return -1;
    }
    return 0;
}

static void s_on_request(sd_mdwrk *session, zframe_t *client, zmsg_t *body, void *arg)
{
    sd_fetch_worker *worker = arg;
    char text[512];
    sd_msg *request = s_decode(worker, body, text, sizeof text);
    zmsg_destroy(&body);
    if (!request) {
        sd_warning("rejected a request: %s", text);
        zmsg_t *reply = sd_part_error_reply("", SD_ERROR_BAD_REQUEST, text);
        s_reply(worker, session, &client, &reply);
        return;
    }
    if (s_start_task(worker, session, &client, &request) != 0) {
        sd_error("cannot start a job (out of memory)");
        s_reply_error(worker, session, &client, "", SD_ERROR_INTERNAL,
                      "cannot start the job (out of memory)");
    }
}

//  -------------------------------------------------------------------------
//  Construction

static int s_open_bus(sd_fetch_worker *worker, char *error, size_t error_size)
{
    const sd_config_broker *broker = &worker->config->broker;
    char bus_error[700];
    worker->publisher = sd_bus_socket_new(ZMQ_PUB, broker->bus_publish, broker, bus_error,
                                          sizeof bus_error);
    if (!worker->publisher) {
        snprintf(error, error_size, "%s: %s", worker->config->path, bus_error);
        return -1;
    }
    //  libzmq 4.3 applies a new send HWM to pipes that already exist.
    zsock_set_sndhwm(worker->publisher, SD_FETCH_BUS_SEND_HWM);
    zsock_set_linger(worker->publisher, SD_FETCH_BUS_LINGER_MS);
    return 0;
}

//  Opens options.sessions MDP workers on the loop. Each registers with the
//  broker on its own DEALER socket and processes one request at a time, so the
//  process runs as many jobs and checks at once as it has sessions.
static int s_open_sessions(sd_fetch_worker *worker, char *error, size_t error_size)
{
    const sd_config_broker *broker = &worker->config->broker;
    sd_mdwrk_options options = {
        .endpoint = broker->endpoint,
        .service = worker->options.service,
        .heartbeat_ms = broker->heartbeat_ms,
        .liveness = broker->liveness,
        .broker = broker,
    };
    worker->sessions = calloc((size_t)worker->options.sessions, sizeof *worker->sessions);
    if (!worker->sessions) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    for (int i = 0; i < worker->options.sessions; i++) {
        worker->sessions[i] = sd_mdwrk_new(&options);
        if (!worker->sessions[i]
            || sd_mdwrk_attach(worker->sessions[i], worker->loop, s_on_request, worker) != 0) {
            snprintf(error, error_size, "%s: cannot connect to broker.endpoint \"%s\"",
                     worker->config->path, broker->endpoint);
            return -1;
        }
    }
    sd_info("registering %d MDP workers service=%s endpoint=%s", worker->options.sessions,
            worker->options.service, broker->endpoint);
    return 0;
}

sd_fetch_worker *sd_fetch_worker_new(const sd_config *config, zloop_t *loop,
                                     const sd_fetch_worker_options *options, char *error,
                                     size_t error_size)
{
    sd_fetch_worker *worker = calloc(1, sizeof *worker);
    if (!worker) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    worker->config = config;
    worker->loop = loop;
    worker->options = *options;
    if (worker->options.sessions < 1)
        worker->options.sessions = 1;
    worker->pump_timer = -1;
    sd_proto_limits_default(&worker->limits);
    if (config->broker.max_message_bytes > 0)
        worker->limits.max_message_bytes = (size_t)config->broker.max_message_bytes;
    worker->tasks = zlistx_new();
    worker->inflight = sd_inflight_new(options->max_in_flight);
    if (!worker->tasks || !worker->inflight) {
        snprintf(error, error_size, "out of memory");
        sd_fetch_worker_destroy(&worker);
        return NULL;
    }
    sd_inflight_on_release(worker->inflight, s_on_slot_released, worker);
    if (s_open_bus(worker, error, error_size) != 0
        || s_open_sessions(worker, error, error_size) != 0)
        sd_fetch_worker_destroy(&worker);
    return worker;
}

sd_part_bus sd_fetch_worker_bus(const sd_fetch_worker *worker)
{
    return (sd_part_bus){.publisher = worker->publisher,
                         .shards = worker->config->aggregator.shards};
}

sd_inflight *sd_fetch_worker_inflight(const sd_fetch_worker *worker)
{
    return worker->inflight;
}

void sd_fetch_worker_destroy(sd_fetch_worker **worker_p)
{
    sd_fetch_worker *worker = *worker_p;
    if (!worker)
        return;
    //  Jobs release their slots as they go: nothing may pump from now on.
    if (worker->inflight)
        sd_inflight_on_release(worker->inflight, NULL, NULL);
    if (worker->pump_timer >= 0)
        zloop_timer_end(worker->loop, worker->pump_timer);
    if (worker->tasks) {
        for (sd_fetch_task *task = zlistx_first(worker->tasks); task;
             task = zlistx_next(worker->tasks))
            s_task_destroy(&task);
        zlistx_destroy(&worker->tasks);
    }
    for (int i = 0; worker->sessions && i < worker->options.sessions; i++)
        sd_mdwrk_destroy(&worker->sessions[i]);
    free(worker->sessions);
    sd_inflight_destroy(&worker->inflight);
    zsock_destroy(&worker->publisher);
    free(worker);
    *worker_p = NULL;
}

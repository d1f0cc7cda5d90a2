/*  sd_ga_worker: MDP requests in, jobs, replies out.  */
#include "sd_ga_worker.h"

#include "sd_bus.h"
#include "sd_cache.h"
#include "sd_ga_availability.h"
#include "sd_ga_job.h"
#include "sd_ga_quota.h"
#include "sd_http.h"
#include "sd_log.h"
#include "sd_mdwrk.h"
#include "sd_oauth.h"
#include "sd_retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_GA_SERVICE "ga"
//  Parts queued on the bus before the PUB socket drops new ones.
#define SD_GA_BUS_SEND_HWM 100000
#define SD_GA_BUS_LINGER_MS 2000

struct sd_ga_worker {
    const sd_config *config;
    zloop_t *loop;
    sd_http *http;
    sd_retry *retry;
    sd_oauth *oauth;
    sd_cache *cache;                //  NULL when ga.cache.path is empty
    sd_ga_quota *quota;
    sd_mdwrk *mdwrk;
    zsock_t *publisher;
    zlistx_t *jobs;                 //  s_entry items of the jobs in flight
    sd_proto_limits limits;
};

//  A fetch job or an availability check in flight, and the client its
//  reply goes to.
typedef struct {
    sd_ga_worker *worker;
    sd_ga_job *job;
    sd_ga_availability *check;
    zframe_t *client;
    void *handle;                   //  in worker->jobs
} s_entry;

static void s_entry_destroy(s_entry **entry_p)
{
    s_entry *entry = *entry_p;
    if (!entry)
        return;
    sd_ga_job_destroy(&entry->job);
    sd_ga_availability_destroy(&entry->check);
    zframe_destroy(&entry->client);
    free(entry);
    *entry_p = NULL;
}

static void s_reply(sd_ga_worker *worker, zframe_t **client, zmsg_t **body)
{
    if (!*body) {
        sd_error("cannot build a reply, the client will time out");
        zframe_destroy(client);
        return;
    }
    if (sd_mdwrk_reply(worker->mdwrk, client, body) != 0)
        sd_warning("cannot send a reply to the broker (the client will time out)");
}

static void s_on_job_done(sd_ga_job *job, void *arg)
{
    s_entry *entry = arg;
    sd_ga_worker *worker = entry->worker;
    zmsg_t *body = sd_ga_job_take_reply(job);
    if (!body) {
        const sd_fetch_request *request = sd_ga_job_request(job);
        body = sd_ga_error_reply(request->job_id, SD_ERROR_INTERNAL,
                                 "the GA worker could not build the fetch reply");
    }
    s_reply(worker, &entry->client, &body);
    zlistx_delete(worker->jobs, entry->handle);
    s_entry_destroy(&entry);
}

static void s_on_check_done(sd_ga_availability *check, void *arg)
{
    s_entry *entry = arg;
    sd_ga_worker *worker = entry->worker;
    zmsg_t *body = sd_ga_availability_take_reply(check);
    if (!body)
        body = sd_ga_error_reply("", SD_ERROR_INTERNAL,
                                 "the GA worker could not build the availability reply");
    s_reply(worker, &entry->client, &body);
    zlistx_delete(worker->jobs, entry->handle);
    s_entry_destroy(&entry);
}

static void s_reject(sd_ga_worker *worker, zframe_t **client, const char *text)
{
    sd_warning("rejected a request: %s", text);
    zmsg_t *body = sd_ga_error_reply("", SD_ERROR_BAD_REQUEST, text);
    s_reply(worker, client, &body);
}

//  Decodes a request body. Returns the fetch.request or
//  availability.request message, or NULL with text filled.
static sd_msg *s_decode(sd_ga_worker *worker, zmsg_t *body, char *text, size_t size)
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

static int s_start_job(sd_ga_worker *worker, zframe_t **client, sd_msg **request)
{
    s_entry *entry = calloc(1, sizeof *entry);
    if (!entry) {
        sd_msg_destroy(request);
        return -1;
    }
    sd_ga_context context = {
        .config = worker->config,
        .loop = worker->loop,
        .retry = worker->retry,
        .oauth = worker->oauth,
        .cache = worker->cache,
        .quota = worker->quota,
        .bus = {.publisher = worker->publisher, .shards = worker->config->aggregator.shards},
    };
    entry->worker = worker;
    entry->client = *client;
    *client = NULL;
    bool fetch = (*request)->type == SD_MSG_FETCH_REQUEST;
    if (fetch)
        entry->job = sd_ga_job_new(&context, request, s_on_job_done, entry);
    else
        entry->check = sd_ga_availability_new(&context, request, s_on_check_done, entry);
    entry->handle = entry->job || entry->check ? zlistx_add_end(worker->jobs, entry) : NULL;
    int rc = !entry->handle ? -1
             : fetch        ? sd_ga_job_start(entry->job)
                            : sd_ga_availability_start(entry->check);
    if (rc != 0) {
        if (entry->handle)
            zlistx_delete(worker->jobs, entry->handle);
        *client = entry->client;
        entry->client = NULL;
        s_entry_destroy(&entry);
        return -1;
    }
    return 0;
}

static void s_on_request(sd_mdwrk *mdwrk, zframe_t *client, zmsg_t *body, void *arg)
{
    (void)mdwrk;
    sd_ga_worker *worker = arg;
    char text[512];
    sd_msg *request = s_decode(worker, body, text, sizeof text);
    zmsg_destroy(&body);
    if (!request) {
        s_reject(worker, &client, text);
        return;
    }
    if (s_start_job(worker, &client, &request) != 0) {
        sd_error("cannot start a job (out of memory)");
        zmsg_t *reply = sd_ga_error_reply("", SD_ERROR_INTERNAL, "the GA worker cannot start "
                                                                 "the job (out of memory)");
        s_reply(worker, &client, &reply);
    }
}

//  -------------------------------------------------------------------------
//  Construction

static int s_open_oauth(sd_ga_worker *worker, char *error, size_t error_size)
{
    const sd_config_ga *ga = &worker->config->ga;
    if (!ga->key_file || !*ga->key_file) {
        snprintf(error, error_size, "%s: ga.key_file is not set; name the service-account JSON "
                 "key file there",
                 worker->config->path);
        return -1;
    }
    sd_service_account *account = sd_service_account_load(ga->key_file, error, error_size);
    if (!account)
        return -1;
    worker->oauth = sd_oauth_new(worker->loop, worker->http, &account, ga->token_uri,
                                 SD_OAUTH_SCOPE_ANALYTICS_READONLY, error, error_size);
    return worker->oauth ? 0 : -1;
}

static int s_open_bus(sd_ga_worker *worker, char *error, size_t error_size)
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
    zsock_set_sndhwm(worker->publisher, SD_GA_BUS_SEND_HWM);
    zsock_set_linger(worker->publisher, SD_GA_BUS_LINGER_MS);
    return 0;
}

static int s_open_mdwrk(sd_ga_worker *worker, char *error, size_t error_size)
{
    const sd_config_broker *broker = &worker->config->broker;
    sd_mdwrk_options options = {
        .endpoint = broker->endpoint,
        .service = SD_GA_SERVICE,
        .heartbeat_ms = broker->heartbeat_ms,
        .liveness = broker->liveness,
        .broker = broker,
    };
    worker->mdwrk = sd_mdwrk_new(&options);
    if (!worker->mdwrk ||
        sd_mdwrk_attach(worker->mdwrk, worker->loop, s_on_request, worker) != 0) {
        snprintf(error, error_size, "%s: cannot connect to broker.endpoint \"%s\"",
                 worker->config->path, broker->endpoint);
        return -1;
    }
    return 0;
}

sd_ga_worker *sd_ga_worker_new(const sd_config *config, zloop_t *loop, char *error,
                               size_t error_size)
{
    sd_ga_worker *worker = calloc(1, sizeof *worker);
    if (!worker) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    worker->config = config;
    worker->loop = loop;
    sd_proto_limits_default(&worker->limits);
    if (config->broker.max_message_bytes > 0)
        worker->limits.max_message_bytes = (size_t)config->broker.max_message_bytes;
    worker->jobs = zlistx_new();
    worker->http = sd_http_new(loop, NULL);
    worker->retry = worker->http ? sd_retry_new(loop, worker->http, NULL) : NULL;
    worker->quota = sd_ga_quota_new();
    if (config->ga.cache.path && *config->ga.cache.path)
        worker->cache = sd_cache_open(config->ga.cache.path, config->ga.cache.max_bytes);
    if (!worker->jobs || !worker->http || !worker->retry || !worker->quota) {
        snprintf(error, error_size, "cannot set up the HTTP client (libcurl)");
        sd_ga_worker_destroy(&worker);
        return NULL;
    }
    if (s_open_oauth(worker, error, error_size) != 0 ||
        s_open_bus(worker, error, error_size) != 0 || s_open_mdwrk(worker, error, error_size) != 0)
        sd_ga_worker_destroy(&worker);
    return worker;
}

void sd_ga_worker_destroy(sd_ga_worker **worker_p)
{
    sd_ga_worker *worker = *worker_p;
    if (!worker)
        return;
    if (worker->jobs) {
        for (s_entry *entry = zlistx_first(worker->jobs); entry; entry = zlistx_next(worker->jobs))
            s_entry_destroy(&entry);
        zlistx_destroy(&worker->jobs);
    }
    sd_mdwrk_destroy(&worker->mdwrk);
    sd_oauth_destroy(&worker->oauth);
    sd_retry_destroy(&worker->retry);
    sd_http_destroy(&worker->http);
    sd_cache_close(&worker->cache);
    sd_ga_quota_destroy(&worker->quota);
    zsock_destroy(&worker->publisher);
    free(worker);
    *worker_p = NULL;
}

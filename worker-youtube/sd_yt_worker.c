/*  sd_yt_worker: MDP requests in, jobs, replies out; token sources.  */
#include "sd_yt_worker.h"

#include "sd_curve_config.h"
#include "sd_log.h"
#include "sd_mdwrk.h"
#include "sd_yt_availability.h"
#include "sd_yt_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_YT_SERVICE "youtube"
//  Parts queued on the bus before the PUB socket drops new ones.
#define SD_YT_BUS_SEND_HWM 100000
#define SD_YT_BUS_LINGER_MS 2000

struct sd_yt_worker {
    const sd_config *config;
    zloop_t *loop;
    sd_http *http;
    sd_retry *retry;
    sd_cache *cache;
    sd_inflight *inflight;          //  requests in flight per channel id, over all jobs
    int pump_timer;                 //  -1 when none is set
    sd_oauth_client *client;
    zhashx_t *sources;              //  refresh token file -> sd_oauth_user
    sd_mdwrk *mdwrk;
    zsock_t *publisher;
    zlistx_t *jobs;                 //  s_entry items of the jobs and checks in flight
    sd_proto_limits limits;
};

//  A fetch job or an availability check in flight, and the client its
//  reply goes to.
typedef struct {
    sd_yt_worker *worker;
    sd_yt_job *job;
    sd_yt_availability *check;
    zframe_t *client;
    void *handle;                   //  in worker->jobs
} s_entry;

static void s_entry_destroy(s_entry **entry_p)
{
    s_entry *entry = *entry_p;
    if (!entry)
        return;
    sd_yt_job_destroy(&entry->job);
    sd_yt_availability_destroy(&entry->check);
    zframe_destroy(&entry->client);
    free(entry);
    *entry_p = NULL;
}

//  -------------------------------------------------------------------------
//  Token sources

//  Returns the refresh token file that calls about channel_id use, or NULL:
//  the content owner's in content-owner mode, else the channel id's own.
static const char *s_token_file(const sd_config *config, const char *channel_id)
{
    if (config->youtube.content_owner)
        return config->youtube.owner_refresh_token_file;
    for (size_t c = 0; c < config->youtube.channel_count; c++) {
        const sd_config_channel *channel = &config->youtube.channels[c];
        for (size_t i = 0; i < channel->id_count; i++) {
            const sd_config_channel_id *id = &channel->ids[i];
            if (strcmp(id->id, channel_id) == 0 && id->refresh_token_file)
                return id->refresh_token_file;
        }
    }
    return NULL;
}

static sd_oauth_user *s_source(void *arg, const char *channel_name, const char *channel_id,
                               char *error, size_t error_size)
{
    sd_yt_worker *worker = arg;
    const sd_config *config = worker->config;
    const char *file = s_token_file(config, channel_id);
    if (!file && config->youtube.content_owner) {
        snprintf(error, error_size, "youtube.owner_refresh_token_file is not set in %s; set it "
                 "and run statsdash auth youtube -c %s --owner", config->path, config->path);
        return NULL;
    }
    if (!file) {
        snprintf(error, error_size, "no refresh_token_file for channel id %s in %s; run "
                 "statsdash auth youtube -c %s --channel \"%s\"", channel_id, config->path,
                 config->path, channel_name);
        return NULL;
    }
    sd_oauth_user *source = zhashx_lookup(worker->sources, file);
    if (source)
        return source;
    source = sd_oauth_user_new(worker->loop, worker->http, worker->client,
                               worker->config->youtube.token_uri, file, channel_name, error,
                               error_size);
    if (source && zhashx_insert(worker->sources, file, source) != 0) {
        sd_oauth_user_destroy(&source);
        snprintf(error, error_size, "out of memory");
    }
    return source;
}

static void s_source_destroy(void **item)
{
    sd_oauth_user_destroy((sd_oauth_user **)item);
}

//  -------------------------------------------------------------------------
//  Requests

//  Starts what waits for a slot in every job and check. Runs on a timer
//  after a release, so never inside the releasing call's callback chain.
static int s_on_pump_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_yt_worker *worker = arg;
    worker->pump_timer = -1;
    for (s_entry *entry = zlistx_first(worker->jobs); entry;
         entry = zlistx_next(worker->jobs)) {
        if (entry->job)
            sd_yt_job_pump(entry->job);
        else
            sd_yt_availability_pump(entry->check);
    }
    return 0;
}

static void s_on_slot_released(const char *key, void *arg)
{
    (void)key;
    sd_yt_worker *worker = arg;
    if (worker->pump_timer >= 0 || zlistx_size(worker->jobs) < 2)
        return;                     //  a lone job or check pumps itself
    worker->pump_timer = zloop_timer(worker->loop, 0, 1, s_on_pump_timer, worker);
}

static void s_reply(sd_yt_worker *worker, zframe_t **client, zmsg_t **body)
{
    if (!*body) {
        sd_error("cannot build a reply, the client will time out");
        zframe_destroy(client);
        return;
    }
    if (sd_mdwrk_reply(worker->mdwrk, client, body) != 0)
        sd_warning("cannot send a reply to the broker (the client will time out)");
}

static void s_on_job_done(sd_yt_job *job, void *arg)
{
    s_entry *entry = arg;
    sd_yt_worker *worker = entry->worker;
    zmsg_t *body = sd_yt_job_take_reply(job);
    if (!body)
        body = sd_part_error_reply(sd_yt_job_request(job)->job_id, SD_ERROR_INTERNAL,
                                   "the YouTube worker could not build the fetch reply");
    s_reply(worker, &entry->client, &body);
    zlistx_delete(worker->jobs, entry->handle);
    s_entry_destroy(&entry);
}

static void s_on_check_done(sd_yt_availability *check, void *arg)
{
    s_entry *entry = arg;
    sd_yt_worker *worker = entry->worker;
    zmsg_t *body = sd_yt_availability_take_reply(check);
    if (!body)
        body = sd_part_error_reply("", SD_ERROR_INTERNAL,
                                   "the YouTube worker could not build the availability reply");
    s_reply(worker, &entry->client, &body);
    zlistx_delete(worker->jobs, entry->handle);
    s_entry_destroy(&entry);
}

//  Decodes a request body. Returns the fetch.request or
//  availability.request message, or NULL with text filled.
static sd_msg *s_decode(sd_yt_worker *worker, zmsg_t *body, char *text, size_t size)
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

static int s_start_job(sd_yt_worker *worker, zframe_t **client, sd_msg **request)
{
    s_entry *entry = calloc(1, sizeof *entry);
    if (!entry) {
        sd_msg_destroy(request);
        return -1;
    }
    sd_yt_context context = {
        .config = worker->config,
        .loop = worker->loop,
        .retry = worker->retry,
        .cache = worker->cache,
        .inflight = worker->inflight,
        .bus = {.publisher = worker->publisher, .shards = worker->config->aggregator.shards},
        .source = s_source,
        .source_arg = worker,
    };
    entry->worker = worker;
    entry->client = *client;
    *client = NULL;
    bool fetch = (*request)->type == SD_MSG_FETCH_REQUEST;
    if (fetch)
        entry->job = sd_yt_job_new(&context, request, s_on_job_done, entry);
    else
        entry->check = sd_yt_availability_new(&context, request, s_on_check_done, entry);
    entry->handle = entry->job || entry->check ? zlistx_add_end(worker->jobs, entry) : NULL;
    int rc = !entry->handle ? -1
             : fetch        ? sd_yt_job_start(entry->job)
                            : sd_yt_availability_start(entry->check);
    if (rc != 0) {
        if (entry->handle)
            zlistx_detach(worker->jobs, entry->handle);
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
    sd_yt_worker *worker = arg;
    char text[512];
    sd_msg *request = s_decode(worker, body, text, sizeof text);
    zmsg_destroy(&body);
    if (!request) {
        sd_warning("rejected a request: %s", text);
        zmsg_t *reply = sd_part_error_reply("", SD_ERROR_BAD_REQUEST, text);
        s_reply(worker, &client, &reply);
        return;
    }
    if (s_start_job(worker, &client, &request) != 0) {
        sd_error("cannot start a job (out of memory)");
        zmsg_t *reply = sd_part_error_reply("", SD_ERROR_INTERNAL,
                                            "the YouTube worker cannot start the job (out of "
                                            "memory)");
        s_reply(worker, &client, &reply);
    }
}

//  -------------------------------------------------------------------------
//  Construction

static int s_open_client(sd_yt_worker *worker, char *error, size_t error_size)
{
    const sd_config_youtube *youtube = &worker->config->youtube;
    if (!youtube->client_secret_file || !*youtube->client_secret_file) {
        snprintf(error, error_size, "%s: youtube.client_secret_file is not set; name the OAuth "
                 "client JSON file there", worker->config->path);
        return -1;
    }
    worker->client = sd_oauth_client_load(youtube->client_secret_file, error, error_size);
    return worker->client ? 0 : -1;
}

static int s_open_bus(sd_yt_worker *worker, char *error, size_t error_size)
{
    const sd_config_broker *broker = &worker->config->broker;
    char curve_error[512];
    worker->publisher = zsock_new(ZMQ_PUB);
    if (!worker->publisher) {
        snprintf(error, error_size, "cannot create the bus PUB socket");
        return -1;
    }
    zsock_set_sndhwm(worker->publisher, SD_YT_BUS_SEND_HWM);
    zsock_set_linger(worker->publisher, SD_YT_BUS_LINGER_MS);
    if (sd_curve_config_apply_client(worker->publisher, broker, curve_error,
                                     sizeof curve_error) != 0) {
        snprintf(error, error_size, "%s: broker.curve: %s", worker->config->path, curve_error);
        return -1;
    }
    if (zsock_connect(worker->publisher, "%s", broker->bus_publish) != 0) {
        snprintf(error, error_size, "%s: broker.bus_publish \"%s\" is not a valid endpoint",
                 worker->config->path, broker->bus_publish);
        return -1;
    }
    return 0;
}

static int s_open_mdwrk(sd_yt_worker *worker, char *error, size_t error_size)
{
    const sd_config_broker *broker = &worker->config->broker;
    sd_mdwrk_options options = {
        .endpoint = broker->endpoint,
        .service = SD_YT_SERVICE,
        .heartbeat_ms = broker->heartbeat_ms,
        .liveness = broker->liveness,
        .broker = broker,
    };
    worker->mdwrk = sd_mdwrk_new(&options);
    if (!worker->mdwrk
        || sd_mdwrk_attach(worker->mdwrk, worker->loop, s_on_request, worker) != 0) {
        snprintf(error, error_size, "%s: cannot connect to broker.endpoint \"%s\"",
                 worker->config->path, broker->endpoint);
        return -1;
    }
    return 0;
}

static int s_open_http(sd_yt_worker *worker, char *error, size_t error_size)
{
    const sd_config_cache *cache = &worker->config->youtube.cache;
    worker->jobs = zlistx_new();
    worker->sources = zhashx_new();
    worker->http = sd_http_new(worker->loop, NULL);
    worker->retry = worker->http ? sd_retry_new(worker->loop, worker->http, NULL) : NULL;
    worker->inflight = sd_inflight_new(worker->config->youtube.max_in_flight);
    if (!worker->jobs || !worker->sources || !worker->retry || !worker->inflight) {
        snprintf(error, error_size, "cannot set up the HTTP client (libcurl) or out of memory");
        return -1;
    }
    zhashx_set_destructor(worker->sources, s_source_destroy);
    sd_inflight_on_release(worker->inflight, s_on_slot_released, worker);
    if (cache->path && *cache->path && !(worker->cache = sd_cache_open(cache->path,
                                                                        cache->max_bytes))) {
        snprintf(error, error_size, "out of memory opening the cache %s", cache->path);
        return -1;
    }
    return 0;
}

sd_yt_worker *sd_yt_worker_new(const sd_config *config, zloop_t *loop, char *error,
                               size_t error_size)
{
    sd_yt_worker *worker = calloc(1, sizeof *worker);
    if (!worker) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    worker->config = config;
    worker->loop = loop;
    worker->pump_timer = -1;
    sd_proto_limits_default(&worker->limits);
    if (config->broker.max_message_bytes > 0)
        worker->limits.max_message_bytes = (size_t)config->broker.max_message_bytes;
    if (s_open_http(worker, error, error_size) != 0 || s_open_client(worker, error, error_size)
        || s_open_bus(worker, error, error_size) != 0
        || s_open_mdwrk(worker, error, error_size) != 0)
        sd_yt_worker_destroy(&worker);
    return worker;
}

void sd_yt_worker_destroy(sd_yt_worker **worker_p)
{
    sd_yt_worker *worker = *worker_p;
    if (!worker)
        return;
    //  Jobs release their slots as they go: nothing may pump from now on.
    if (worker->inflight)
        sd_inflight_on_release(worker->inflight, NULL, NULL);
    if (worker->pump_timer >= 0)
        zloop_timer_end(worker->loop, worker->pump_timer);
    if (worker->jobs) {
        for (s_entry *entry = zlistx_first(worker->jobs); entry;
             entry = zlistx_next(worker->jobs))
            s_entry_destroy(&entry);
        zlistx_destroy(&worker->jobs);
    }
    sd_mdwrk_destroy(&worker->mdwrk);
    zhashx_destroy(&worker->sources);
    sd_retry_destroy(&worker->retry);
    sd_inflight_destroy(&worker->inflight);
    sd_http_destroy(&worker->http);
    sd_cache_close(&worker->cache);
    sd_oauth_client_destroy(&worker->client);
    zsock_destroy(&worker->publisher);
    free(worker);
    *worker_p = NULL;
}

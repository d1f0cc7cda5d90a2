/*  sd_yt_worker: the YouTube jobs and checks behind the shared fetch
    worker shell, and their token sources.  */
#include "sd_yt_worker.h"

#include "sd_fetch_worker.h"
#include "sd_log.h"
#include "sd_yt_availability.h"
#include "sd_yt_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sd_yt_worker {
    const sd_config *config;
    zloop_t *loop;
    sd_http *http;
    sd_retry *retry;
    sd_cache *cache;
    sd_oauth_client *client;
    zhashx_t *sources;              //  refresh token file -> sd_oauth_user
    sd_fetch_worker *shell;         //  MDP service, bus socket, jobs, sd_inflight
};

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
//  Jobs and checks for the shell

static sd_yt_context s_context(sd_yt_worker *worker)
{
    return (sd_yt_context){
        .config = worker->config,
        .loop = worker->loop,
        .retry = worker->retry,
        .cache = worker->cache,
        .inflight = sd_fetch_worker_inflight(worker->shell),
        .bus = sd_fetch_worker_bus(worker->shell),
        .source = s_source,
        .source_arg = worker,
    };
}

static void s_on_job_done(sd_yt_job *job, void *task)
{
    sd_fetch_task_finish(task, sd_yt_job_take_reply(job));
}

static void *s_job_start(void *arg, sd_msg **request, sd_fetch_task *task)
{
    sd_yt_context context = s_context(arg);
    sd_yt_job *job = sd_yt_job_new(&context, request, s_on_job_done, task);
    if (job && sd_yt_job_start(job) != 0)
        sd_yt_job_destroy(&job);
    return job;
}

static void s_job_pump(void *job)
{
    sd_yt_job_pump(job);
}

static void s_job_destroy(void *job)
{
    sd_yt_job_destroy((sd_yt_job **)&job);
}

static void s_on_check_done(sd_yt_availability *check, void *task)
{
    sd_fetch_task_finish(task, sd_yt_availability_take_reply(check));
}

static void *s_check_start(void *arg, sd_msg **request, sd_fetch_task *task)
{
    sd_yt_context context = s_context(arg);
    sd_yt_availability *check = sd_yt_availability_new(&context, request, s_on_check_done, task);
    if (check && sd_yt_availability_start(check) != 0)
        sd_yt_availability_destroy(&check);
    return check;
}

static void s_check_pump(void *check)
{
    sd_yt_availability_pump(check);
}

static void s_check_destroy(void *check)
{
    sd_yt_availability_destroy((sd_yt_availability **)&check);
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

static int s_open_shell(sd_yt_worker *worker, char *error, size_t error_size)
{
    sd_fetch_worker_options options = {
        .service = "youtube",
        .label = "YouTube",
        .max_in_flight = worker->config->youtube.max_in_flight,
        .sessions = worker->config->youtube.concurrent_jobs,
        .fetch = {.start = s_job_start, .destroy = s_job_destroy, .pump = s_job_pump},
        .check = {.start = s_check_start, .destroy = s_check_destroy, .pump = s_check_pump},
        .arg = worker,
    };
    worker->shell = sd_fetch_worker_new(worker->config, worker->loop, &options, error,
                                        error_size);
    return worker->shell ? 0 : -1;
}

static int s_open_http(sd_yt_worker *worker, char *error, size_t error_size)
{
    const sd_config_cache *cache = &worker->config->youtube.cache;
    worker->sources = zhashx_new();
    worker->http = sd_http_new(worker->loop, NULL);
    worker->retry = worker->http ? sd_retry_new(worker->loop, worker->http, NULL) : NULL;
    if (!worker->sources || !worker->retry) {
        snprintf(error, error_size, "cannot set up the HTTP client (libcurl) or out of memory");
        return -1;
    }
    zhashx_set_destructor(worker->sources, s_source_destroy);
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
    if (s_open_http(worker, error, error_size) != 0 || s_open_client(worker, error, error_size)
        || s_open_shell(worker, error, error_size) != 0)
        sd_yt_worker_destroy(&worker);
    return worker;
}

void sd_yt_worker_destroy(sd_yt_worker **worker_p)
{
    sd_yt_worker *worker = *worker_p;
    if (!worker)
        return;
    sd_fetch_worker_destroy(&worker->shell);
    zhashx_destroy(&worker->sources);
    sd_retry_destroy(&worker->retry);
    sd_http_destroy(&worker->http);
    sd_cache_close(&worker->cache);
    sd_oauth_client_destroy(&worker->client);
    free(worker);
    *worker_p = NULL;
}

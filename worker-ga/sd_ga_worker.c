/*  sd_ga_worker: the GA jobs and checks behind the shared fetch worker
    shell, and what they share.  */
#include "sd_ga_worker.h"

#include "sd_cache.h"
#include "sd_fetch_worker.h"
#include "sd_ga_availability.h"
#include "sd_ga_job.h"
#include "sd_ga_quota.h"
#include "sd_http.h"
#include "sd_log.h"
#include "sd_oauth.h"
#include "sd_retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sd_ga_worker {
    const sd_config *config;
    zloop_t *loop;
    sd_http *http;
    sd_retry *retry;
    sd_oauth *oauth;
    sd_cache *cache;                //  NULL when ga.cache.path is empty
    sd_ga_quota *quota;
    sd_fetch_worker *shell;         //  MDP service, bus socket, jobs in flight
};

static sd_ga_context s_context(const sd_ga_worker *worker)
{
    return (sd_ga_context){
        .config = worker->config,
        .loop = worker->loop,
        .retry = worker->retry,
        .oauth = worker->oauth,
        .cache = worker->cache,
        .quota = worker->quota,
        .inflight = sd_fetch_worker_inflight(worker->shell),
        .bus = sd_fetch_worker_bus(worker->shell),
    };
}

//  -------------------------------------------------------------------------
//  Jobs and checks for the shell

static void s_on_job_done(sd_ga_job *job, void *task)
{
    sd_fetch_task_finish(task, sd_ga_job_take_reply(job));
}

static void *s_job_start(void *arg, sd_msg **request, sd_fetch_task *task)
{
    sd_ga_context context = s_context(arg);
    sd_ga_job *job = sd_ga_job_new(&context, request, s_on_job_done, task);
    if (job && sd_ga_job_start(job) != 0)
        sd_ga_job_destroy(&job);
    return job;
}

static void s_job_pump(void *job)
{
    sd_ga_job_pump_all(job);
}

static void s_job_destroy(void *job)
{
    sd_ga_job_destroy((sd_ga_job **)&job);
}

static void s_on_check_done(sd_ga_availability *check, void *task)
{
    sd_fetch_task_finish(task, sd_ga_availability_take_reply(check));
}

static void *s_check_start(void *arg, sd_msg **request, sd_fetch_task *task)
{
    sd_ga_context context = s_context(arg);
    sd_ga_availability *check = sd_ga_availability_new(&context, request, s_on_check_done, task);
    if (check && sd_ga_availability_start(check) != 0)
        sd_ga_availability_destroy(&check);
    return check;
}

static void s_check_destroy(void *check)
{
    sd_ga_availability_destroy((sd_ga_availability **)&check);
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

static int s_open_shell(sd_ga_worker *worker, char *error, size_t error_size)
{
    sd_fetch_worker_options options = {
        .service = "ga",
        .label = "GA",
        .max_in_flight = worker->config->ga.max_in_flight,
        .sessions = worker->config->ga.concurrent_jobs,
        .fetch = {.start = s_job_start, .destroy = s_job_destroy, .pump = s_job_pump},
        .check = {.start = s_check_start, .destroy = s_check_destroy},
        .arg = worker,
    };
    worker->shell = sd_fetch_worker_new(worker->config, worker->loop, &options, error,
                                        error_size);
    return worker->shell ? 0 : -1;
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
    worker->http = sd_http_new(loop, NULL);
    worker->retry = worker->http ? sd_retry_new(loop, worker->http, NULL) : NULL;
    worker->quota = sd_ga_quota_new();
    if (config->ga.cache.path && *config->ga.cache.path)
        worker->cache = sd_cache_open(config->ga.cache.path, config->ga.cache.max_bytes);
    if (!worker->http || !worker->retry || !worker->quota) {
        snprintf(error, error_size, "cannot set up the HTTP client (libcurl)");
        sd_ga_worker_destroy(&worker);
        return NULL;
    }
    if (s_open_oauth(worker, error, error_size) != 0 ||
        s_open_shell(worker, error, error_size) != 0)
        sd_ga_worker_destroy(&worker);
    return worker;
}

void sd_ga_worker_destroy(sd_ga_worker **worker_p)
{
    sd_ga_worker *worker = *worker_p;
    if (!worker)
        return;
    sd_fetch_worker_destroy(&worker->shell);
    sd_oauth_destroy(&worker->oauth);
    sd_retry_destroy(&worker->retry);
    sd_http_destroy(&worker->http);
    sd_cache_close(&worker->cache);
    sd_ga_quota_destroy(&worker->quota);
    free(worker);
    *worker_p = NULL;
}

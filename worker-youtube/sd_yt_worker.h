/*  sd_yt_worker: the YouTube worker service (MDP service "youtube").

    Receives fetch.request messages through the broker, runs each as an
    sd_yt_job (several jobs may run at once), publishes the table.raw parts
    on the table bus and replies with the job's fetch.reply. Receives
    availability.request messages too, runs each as an sd_yt_availability
    check and replies with its availability.reply. The reply to a body that
    is neither is an `error` message (code 400), and the worker logs it
    and keeps running.

    Access tokens come from refresh tokens (sd_oauth_user), one token
    source per refresh token file, made the first time a job needs it. In
    channel==MINE mode each channel id uses its own refresh_token_file. In
    content-owner mode every call acts for a user who manages the content
    owner, with youtube.owner_refresh_token_file.

    One sd_inflight counter limits the requests in flight per channel id to
    youtube.max_in_flight over all the jobs and checks of the process.
*/
#ifndef SD_YT_WORKER_H
#define SD_YT_WORKER_H

#include <czmq.h>
#include <stddef.h>

#include "sd_config.h"

typedef struct sd_yt_worker sd_yt_worker;

//  Creates the worker on loop: reads the OAuth client (youtube.
//  client_secret_file), connects an MDP worker of service "youtube" to
//  broker.endpoint and a PUB socket to broker.bus_publish, and opens the
//  response cache when youtube.cache.path is set. config must outlive the
//  worker. Returns NULL with error filled (one line naming the file or key
//  to fix).
sd_yt_worker *sd_yt_worker_new(const sd_config *config, zloop_t *loop, char *error,
                               size_t error_size);

//  Cancels the jobs in flight (they get no reply), disconnects and frees
//  the worker; *worker is set to NULL. Call it before destroying the loop.
//  Safe on NULL.
void sd_yt_worker_destroy(sd_yt_worker **worker);

#endif

/*  sd_ga_worker: the GA worker service (MDP service "ga").

    Receives fetch.request messages through the broker, runs each as an
    sd_ga_job (several jobs may run at once), publishes the table.raw parts
    on the table bus and replies with the job's fetch.reply. Also answers
    availability.request messages (sd_ga_availability). The reply to a body
    that is neither of these is an `error` message (code 400), and the
    worker logs it and keeps running. The jobs share one HTTP client with
    retries, one access token, the response cache (ga.cache) and the quota
    tracker.
*/
#ifndef SD_GA_WORKER_H
#define SD_GA_WORKER_H

#include <czmq.h>
#include <stddef.h>

#include "sd_config.h"

typedef struct sd_ga_worker sd_ga_worker;

//  Creates the worker on loop: reads the service-account key (ga.key_file),
//  connects an MDP worker of service "ga" to broker.endpoint and a PUB
//  socket to broker.bus_publish. config must outlive the worker. Returns
//  NULL with error filled (one line naming the file or key to fix).
sd_ga_worker *sd_ga_worker_new(const sd_config *config, zloop_t *loop, char *error,
                               size_t error_size);

//  Cancels the jobs in flight (they get no reply), disconnects and frees
//  the worker; *worker is set to NULL. Call it before destroying the loop.
//  Safe on NULL.
void sd_ga_worker_destroy(sd_ga_worker **worker);

#endif

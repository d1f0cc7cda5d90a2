/*  sd_fetch_worker: the MDP service shell that every fetch worker (GA,
    YouTube) shares.

    The shell connects a PUB socket to broker.bus_publish and several MDP
    workers (sessions) to broker.endpoint. An MDP/0.1 worker processes one
    request at a time, so the process runs as many jobs and checks at once
    as it has sessions, and each reply goes back on the session that
    brought its request. It decodes each request body: a fetch.request
    starts a job and an availability.request starts a check, through the
    service's callbacks. Any other body gets an `error` reply (code 400),
    and the worker logs it and keeps running. When a job or check ends,
    the shell sends its reply to the client, or an `error` reply (code
    500) when the reply could not be built.

    The shell also owns one sd_inflight counter of the process. When it has
    a pump callback, a release of a slot starts, on a zero-delay timer,
    what waits in every other job or check.
*/
#ifndef SD_FETCH_WORKER_H
#define SD_FETCH_WORKER_H

#include <czmq.h>
#include <stddef.h>

#include "sd_config.h"
#include "sd_inflight.h"
#include "sd_part.h"
#include "sd_proto.h"

typedef struct sd_fetch_worker sd_fetch_worker;

//  One job or check in flight, and the client its reply goes to.
typedef struct sd_fetch_task sd_fetch_task;

//  What the shell does with one kind of request (fetch or availability).
typedef struct {
    //  Creates and starts the job or check of *request (taken, set to NULL
    //  even on failure). It must call sd_fetch_task_finish(task, ...) from
    //  the loop when it ends, never from inside this call. Returns the
    //  job or check, or NULL when it cannot start (nothing is left over).
    void *(*start)(void *arg, sd_msg **request, sd_fetch_task *task);
    //  Cancels what is in flight and frees the job or check.
    void (*destroy)(void *object);
    //  Starts what waits for an sd_inflight slot. NULL when not needed.
    void (*pump)(void *object);
} sd_fetch_kind;

typedef struct {
    const char *service;            //  MDP service name, "ga"
    const char *label;              //  the worker's name in reply texts, "GA"
    int max_in_flight;              //  limit of the sd_inflight counter per key
    int sessions;                   //  MDP workers to register (below 1 counts as 1)
    sd_fetch_kind fetch;            //  for fetch.request
    sd_fetch_kind check;            //  for availability.request
    void *arg;                      //  passed to both start callbacks
} sd_fetch_worker_options;

//  Creates the shell on loop and connects its sockets. config and the
//  strings of options must outlive the shell. Returns NULL with error
//  filled (one line naming the config file and the key to fix).
sd_fetch_worker *sd_fetch_worker_new(const sd_config *config, zloop_t *loop,
                                     const sd_fetch_worker_options *options, char *error,
                                     size_t error_size);

//  Returns where jobs publish their parts (socket owned by the shell).
sd_part_bus sd_fetch_worker_bus(const sd_fetch_worker *worker);

//  Returns the process's counter of requests in flight per key.
sd_inflight *sd_fetch_worker_inflight(const sd_fetch_worker *worker);

//  Sends reply (taken; NULL when it could not be built) to the task's
//  client, then destroys the task and its job or check. Call it from the
//  job's or check's done callback: the object is freed on return.
void sd_fetch_task_finish(sd_fetch_task *task, zmsg_t *reply);

//  Cancels the jobs and checks in flight (they get no reply), disconnects
//  and frees the shell; *worker is set to NULL. Call it before freeing
//  what the jobs borrow (HTTP client, token sources). Safe on NULL.
void sd_fetch_worker_destroy(sd_fetch_worker **worker);

#endif

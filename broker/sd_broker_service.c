/*  sd_broker_service: services, their request queues and the dispatch of
    requests to idle workers; client requests.  */
#include "sd_broker_internal.h"

#include <inttypes.h>

#include "sd_broker_request.h"
#include "sd_broker_service.h"
#include "sd_log.h"
#include "sd_mdp.h"
#include "sd_proto.h"

sd_broker_service *sd_broker_service_lookup(sd_broker *self, const char *name)
{
    return zhash_lookup(self->services, name);
}

//  Returns the service, created on first use, or NULL when the registry is
//  full or out of memory.
sd_broker_service *sd_broker_service_require(sd_broker *self, const char *name)
{
    sd_broker_service *service = zhash_lookup(self->services, name);
    if (service)
        return service;
    if (zhash_size(self->services) >= SD_BROKER_SERVICES_MAX) {
        if (sd_broker_peer_warning_allowed(self))
            sd_warning("service not created: %d services exist already service=%s",
                       SD_BROKER_SERVICES_MAX, name);
        return NULL;
    }
    service = calloc(1, sizeof *service);
    if (!service)
        return NULL;
    service->name = strdup(name);
    service->requests = zlist_new();
    service->waiting = zlist_new();
    if (!service->name || !service->requests || !service->waiting ||
        zhash_insert(self->services, name, service) != 0) {
        sd_broker_service_free(&service);
        return NULL;
    }
    sd_debug("service created service=%s", name);
    return service;
}

void sd_broker_service_free(sd_broker_service **service_p)
{
    sd_broker_service *service = *service_p;
    if (!service)
        return;
    if (service->requests) {
        for (sd_broker_request *request = zlist_pop(service->requests); request;
             request = zlist_pop(service->requests))
            sd_broker_request_destroy(&request);
        zlist_destroy(&service->requests);
    }
    zlist_destroy(&service->waiting);
    free(service->name);
    free(service);
    *service_p = NULL;
}

void sd_broker_service_prune(sd_broker *self, sd_broker_service *service)
{
    //  A service that has served requests stays, so that mmi.status keeps
    //  its count; SD_BROKER_SERVICES_MAX still bounds the registry.
    if (service->workers > 0 || zlist_size(service->requests) > 0 || service->served > 0)
        return;
    sd_debug("service removed: no workers and no requests service=%s", service->name);
    zhash_delete(self->services, service->name);
    sd_broker_service_free(&service);
}

void sd_broker_send_to_client(sd_broker *self, zframe_t *client, const char *service,
                              zmsg_t *body)
{
    if (!body) {
        sd_error("reply dropped: out of memory service=%s", service);
        return;
    }
    const sd_broker_frame head[] = {
        {zframe_data(client), zframe_size(client)},
        {"", 0},
        {SD_MDPC_HEADER, strlen(SD_MDPC_HEADER)},
        {service, strlen(service)},
    };
    if (sd_broker_send_frames(self, head, sizeof head / sizeof head[0], body) != 0) {
        char id[SD_BROKER_ID_HEX_SIZE];
        int error = errno;
        sd_broker_id_hex(client, id);
        sd_warning("reply dropped: %s client=%s service=%s",
                   error == EHOSTUNREACH ? "client is gone" : zmq_strerror(error), id, service);
    }
}

//  Sends REQUEST [client][empty][body...] for the request; the worker
//  record keeps the request for a requeue. Returns 0 or -1 with errno.
static int s_send_request(sd_broker *self, sd_broker_worker *worker, sd_broker_request *request)
{
    const byte command = SD_MDPW_REQUEST;
    const sd_broker_frame head[] = {
        {zframe_data(worker->identity), zframe_size(worker->identity)},
        {"", 0},
        {SD_MDPW_HEADER, strlen(SD_MDPW_HEADER)},
        {&command, 1},
        {zframe_data(request->client), zframe_size(request->client)},
        {"", 0},
    };
    return sd_broker_send_frames(self, head, sizeof head / sizeof head[0], request->body);
}

void sd_broker_dispatch(sd_broker *self, sd_broker_service *service)
{
    int64_t now_ms = zclock_time();
    while (zlist_size(service->waiting) > 0 && zlist_size(service->requests) > 0) {
        sd_broker_request *request = zlist_pop(service->requests);
        if (sd_broker_request_expired(request, now_ms)) {
            sd_broker_request_expire(self, service, &request);
            continue;
        }
        sd_broker_worker *worker = zlist_pop(service->waiting);
        if (s_send_request(self, worker, request) == 0) {
            worker->request = request;
            sd_debug("request sent seq=%" PRIu64 " worker=%s service=%s", request->seq, worker->id,
                     service->name);
            continue;
        }

        //  The worker vanished between its last message and now: the
        //  request goes back to the front of the queue for the next one.
        int error = errno;
        if (zlist_push(service->requests, request) != 0)
            sd_broker_request_destroy(&request);
        sd_broker_worker_drop(self, &worker,
                              error == EHOSTUNREACH ? "worker is gone" : zmq_strerror(error));
    }
}

//  Replies 503 when the service's queue is full. Returns true when it was.
static bool s_reject_when_full(sd_broker *self, sd_broker_service *service,
                               sd_broker_request *request)
{
    if (zlist_size(service->requests) < self->queue_limit)
        return false;
    char text[200];
    snprintf(text, sizeof text,
             "queue of service %s is full (queue_limit %zu requests); retry later or start more "
             "workers",
             service->name, self->queue_limit);
    if (sd_broker_peer_warning_allowed(self))
        sd_warning("request rejected: queue full seq=%" PRIu64 " service=%s queue_limit=%zu",
                   request->seq, service->name, self->queue_limit);
    sd_broker_send_error(self, request, service->name, SD_ERROR_UNAVAILABLE, text);
    return true;
}

//  Queues a client request for service name and dispatches it. Takes
//  *client and *body.
static void s_enqueue(sd_broker *self, zframe_t **client, const char *name, zmsg_t **body)
{
    sd_broker_service *service = sd_broker_service_require(self, name);
    sd_broker_request *request = service ? sd_broker_request_new(self, client, body) : NULL;
    zframe_destroy(client);
    zmsg_destroy(body);
    if (!request)
        return;
    sd_debug("request received seq=%" PRIu64 " service=%s", request->seq, name);
    if (sd_broker_request_expired(request, zclock_time())) {
        sd_broker_request_expire(self, service, &request);
        sd_broker_service_prune(self, service);
        return;
    }
    if (s_reject_when_full(self, service, request)) {
        sd_broker_request_destroy(&request);
        return;
    }
    if (zlist_append(service->requests, request) != 0) {
        sd_error("request dropped: out of memory seq=%" PRIu64 " service=%s", request->seq, name);
        sd_broker_request_destroy(&request);
        sd_broker_service_prune(self, service);
        return;
    }
    sd_broker_dispatch(self, service);
}

void sd_broker_client_message(sd_broker *self, zframe_t **sender, zmsg_t **msg)
{
    zframe_t *service_frame = zmsg_pop(*msg);
    char service[SD_MDP_SERVICE_MAX + 1];
    bool valid = service_frame &&
                 sd_mdp_service_valid(zframe_data(service_frame), zframe_size(service_frame));
    if (valid) {
        memcpy(service, zframe_data(service_frame), zframe_size(service_frame));
        service[zframe_size(service_frame)] = '\0';
    }
    zframe_destroy(&service_frame);

    if (!valid) {
        if (sd_broker_peer_warning_allowed(self)) {
            char id[SD_BROKER_ID_HEX_SIZE];
            sd_broker_id_hex(*sender, id);
            sd_warning("client request ignored: missing or invalid service name client=%s", id);
        }
        zmsg_destroy(msg);
    } else if (strncmp(service, "mmi.", 4) == 0)
        sd_broker_mmi(self, *sender, service, msg);
    else
        s_enqueue(self, sender, service, msg);
    zframe_destroy(sender);
}

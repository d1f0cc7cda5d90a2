/*  sd_broker_service: services, their request queues and the dispatch of
    requests to idle workers; client requests and the mmi.* services.  */
#include "sd_broker_internal.h"

#include "sd_broker_service.h"
#include "sd_log.h"
#include "sd_mdp.h"

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
        for (zmsg_t *request = zlist_pop(service->requests); request;
             request = zlist_pop(service->requests))
            zmsg_destroy(&request);
        zlist_destroy(&service->requests);
    }
    zlist_destroy(&service->waiting);
    free(service->name);
    free(service);
    *service_p = NULL;
}

void sd_broker_service_prune(sd_broker *self, sd_broker_service *service)
{
    if (service->workers > 0 || zlist_size(service->requests) > 0)
        return;
    sd_debug("service removed: no workers and no requests service=%s", service->name);
    zhash_delete(self->services, service->name);
    sd_broker_service_free(&service);
}

//  Sends [client][empty]["MDPC01"][service][body...]. Takes *body.
void sd_broker_send_to_client(sd_broker *self, zframe_t *client, const char *service, zmsg_t **body)
{
    zmsg_t *msg = *body;
    *body = NULL;
    zframe_t *address = zframe_dup(client);
    if (!msg || !address || zmsg_pushstr(msg, service) || zmsg_pushstr(msg, SD_MDPC_HEADER) ||
        zmsg_pushmem(msg, NULL, 0) || zmsg_prepend(msg, &address)) {
        sd_error("reply dropped: out of memory service=%s", service);
        zframe_destroy(&address);
        zmsg_destroy(&msg);
        return;
    }
    if (sd_mdp_send(self->router, &msg) != 0) {
        char *id = zframe_strhex(client);
        sd_warning("reply dropped: %s client=%s service=%s",
                   errno == EHOSTUNREACH ? "client is gone" : zmq_strerror(errno), id ? id : "?",
                   service);
        free(id);
    }
}

//  Sends REQUEST [client][empty][body...] for the queued request (a copy:
//  the worker record keeps the original). Returns 0 or -1 with errno.
static int s_send_request(sd_broker *self, sd_broker_worker *worker, zmsg_t *request)
{
    zmsg_t *frames = zmsg_dup(request);
    zframe_t *client = frames ? zmsg_pop(frames) : NULL;
    if (!client || zmsg_pushmem(frames, NULL, 0) || zmsg_prepend(frames, &client)) {
        zframe_destroy(&client);
        zmsg_destroy(&frames);
        errno = ENOMEM;
        return -1;
    }
    return sd_broker_send_to_worker(self, worker, SD_MDPW_REQUEST, &frames);
}

void sd_broker_dispatch(sd_broker *self, sd_broker_service *service)
{
    while (zlist_size(service->waiting) > 0 && zlist_size(service->requests) > 0) {
        sd_broker_worker *worker = zlist_pop(service->waiting);
        zmsg_t *request = zlist_pop(service->requests);
        if (s_send_request(self, worker, request) == 0) {
            worker->request = request;
            sd_debug("request sent worker=%s service=%s", worker->id, service->name);
            continue;
        }

        //  The worker vanished between its last message and now: the
        //  request goes back to the front of the queue for the next one.
        int error = errno;
        if (zlist_push(service->requests, request) != 0)
            zmsg_destroy(&request);
        sd_broker_worker_delete(self, &worker,
                                error == EHOSTUNREACH ? "worker is gone" : zmq_strerror(error));
    }
}

//  Returns the mmi.service status code for the service named by body's
//  first frame: "200" with live workers, "404" otherwise.
static const char *s_mmi_service_status(sd_broker *self, zmsg_t *body)
{
    zframe_t *name = zmsg_first(body);
    if (!name || !sd_mdp_service_valid(zframe_data(name), zframe_size(name)))
        return "404";
    char *text = sd_mdp_frame_text(name);
    sd_broker_service *service = text ? sd_broker_service_lookup(self, text) : NULL;
    free(text);
    return service && service->workers > 0 ? "200" : "404";
}

//  Replies to a request for an "mmi." service (RFC 8). Takes *body.
static void s_handle_mmi(sd_broker *self, zframe_t *client, const char *service, zmsg_t **body)
{
    const char *status =
        strcmp(service, "mmi.service") == 0 ? s_mmi_service_status(self, *body) : "501";
    zmsg_t *reply = zmsg_new();
    zmsg_destroy(body);
    if (reply && zmsg_addstr(reply, status) != 0)
        zmsg_destroy(&reply);
    sd_broker_send_to_client(self, client, service, &reply);
}

//  Appends [client][body...] to the service's queue. Takes *body.
static void s_enqueue(sd_broker *self, zframe_t **client, const char *name, zmsg_t **body)
{
    sd_broker_service *service = sd_broker_service_require(self, name);
    if (service && zlist_size(service->requests) >= self->queue_limit) {
        //  TODO: reply with an `error` message (code 503) once the proto
        //  library can encode one; the client now waits for its timeout.
        if (sd_broker_peer_warning_allowed(self))
            sd_warning("request dropped: queue full (%zu requests) service=%s",
                       zlist_size(service->requests), name);
        service = NULL;
    }
    if (!service || zmsg_prepend(*body, client) != 0 ||
        zlist_append(service->requests, *body) != 0) {
        zmsg_destroy(body);
        zframe_destroy(client);
        return;
    }
    *body = NULL;
    sd_broker_dispatch(self, service);
}

void sd_broker_client_message(sd_broker *self, zframe_t **sender, zmsg_t **msg)
{
    zframe_t *service_frame = zmsg_pop(*msg);
    char *service = NULL;
    if (service_frame &&
        sd_mdp_service_valid(zframe_data(service_frame), zframe_size(service_frame)))
        service = sd_mdp_frame_text(service_frame);
    zframe_destroy(&service_frame);

    if (!service) {
        if (sd_broker_peer_warning_allowed(self)) {
            char *id = zframe_strhex(*sender);
            sd_warning("client request ignored: missing or invalid service name client=%s",
                       id ? id : "?");
            free(id);
        }
        zmsg_destroy(msg);
    } else if (strncmp(service, "mmi.", 4) == 0)
        s_handle_mmi(self, *sender, service, msg);
    else
        s_enqueue(self, sender, service, msg);
    zframe_destroy(sender);
    free(service);
}

/*  sd_broker_request: request records, deadlines, `error` replies and
    requeueing.  */
#include "sd_broker_request.h"

#include <inttypes.h>

#include "sd_broker_service.h"
#include "sd_log.h"
#include "sd_mdp.h"
#include "sd_proto.h"

sd_broker_request *sd_broker_request_new(sd_broker *self, zframe_t **client, zmsg_t **body)
{
    sd_broker_request *request = calloc(1, sizeof *request);
    if (!request) {
        zframe_destroy(client);
        zmsg_destroy(body);
        return NULL;
    }
    request->seq = ++self->next_seq;
    request->client = *client;
    request->body = *body;
    *client = NULL;
    *body = NULL;

    zframe_t *first = zmsg_first(request->body);
    if (first && zframe_size(first) > 0 &&
        sd_msg_peek_int(zframe_data(first), zframe_size(first), "deadline_ms",
                        &request->deadline_ms) == 0)
        request->has_deadline = true;
    return request;
}

void sd_broker_request_destroy(sd_broker_request **request_p)
{
    sd_broker_request *request = *request_p;
    if (!request)
        return;
    zframe_destroy(&request->client);
    zmsg_destroy(&request->body);
    free(request);
    *request_p = NULL;
}

bool sd_broker_request_expired(const sd_broker_request *request, int64_t now_ms)
{
    return request->has_deadline && request->deadline_ms <= now_ms;
}

//  Encodes an `error` message into a one-frame zmsg, or returns NULL.
static zmsg_t *s_error_body(const char *id, int code, const char *text)
{
    sd_msg *error = sd_msg_new(SD_MSG_ERROR);
    uint8_t *data = NULL;
    size_t size = 0;
    sd_proto_error proto_error;
    zmsg_t *body = NULL;
    if (error) {
        error->as.error.id = strdup(id);
        error->as.error.code = code;
        error->as.error.text = strdup(text);
    }
    if (error && error->as.error.id && error->as.error.text &&
        sd_msg_encode(error, &data, &size, &proto_error) == 0 && (body = zmsg_new()) &&
        zmsg_addmem(body, data, size) != 0)
        zmsg_destroy(&body);
    free(data);
    sd_msg_destroy(&error);
    return body;
}

void sd_broker_send_error(sd_broker *self, const sd_broker_request *request, const char *service,
                          int code, const char *text)
{
    char id[SD_MDP_ID_MAX];
    zframe_t *first = zmsg_first(request->body);
    if (!first || sd_mdp_body_id(zframe_data(first), zframe_size(first), id, sizeof id) != 0)
        id[0] = '\0';
    zmsg_t *body = s_error_body(id, code, text);

    //  An id the encoder rejects (not UTF-8) must not cost the client its
    //  reply, so the reply goes out without the id.
    if (!body && id[0] != '\0')
        body = s_error_body("", code, text);
    if (!body) {
        sd_error("error reply not sent: cannot encode it code=%d seq=%" PRIu64 " service=%s", code,
                 request->seq, service);
        return;
    }
    sd_broker_send_to_client(self, request->client, service, body);
    zmsg_destroy(&body);
}

void sd_broker_request_expire(sd_broker *self, sd_broker_service *service,
                              sd_broker_request **request_p)
{
    sd_broker_request *request = *request_p;
    char text[200];
    snprintf(text, sizeof text,
             "deadline passed before a worker of service %s took the request "
             "(deadline_ms %" PRId64 ")",
             service->name, request->deadline_ms);
    sd_info("request dropped: deadline passed seq=%" PRIu64 " service=%s deadline_ms=%" PRId64,
            request->seq, service->name, request->deadline_ms);
    sd_broker_send_error(self, request, service->name, SD_ERROR_DEADLINE, text);
    sd_broker_request_destroy(request_p);
}

void sd_broker_requeue(sd_broker *self, sd_broker_worker *worker)
{
    sd_broker_request *request = worker->request;
    if (!request)
        return;
    worker->request = NULL;
    sd_broker_service *service = worker->service;
    if (zlist_push(service->requests, request) != 0) {
        sd_error("request dropped: out of memory while requeueing seq=%" PRIu64 " service=%s",
                 request->seq, service->name);
        sd_broker_request_destroy(&request);
        return;
    }
    sd_info("request requeued: its worker was removed seq=%" PRIu64 " worker=%s service=%s",
            request->seq, worker->id, service->name);

    sd_broker_requeued *record = calloc(1, sizeof *record);
    if (!record)
        return;
    record->seq = request->seq;
    record->forget_at =
        zclock_mono() + (int64_t)self->heartbeat_ms * SD_BROKER_LATE_REPLY_HEARTBEATS;
    zhash_delete(self->requeued, worker->id);
    if (zhash_insert(self->requeued, worker->id, record) != 0) {
        free(record);
        return;
    }
    zhash_freefn(self->requeued, worker->id, free);
}

bool sd_broker_late_reply(sd_broker *self, const char *worker_id)
{
    sd_broker_requeued *record = zhash_lookup(self->requeued, worker_id);
    if (!record)
        return false;
    sd_debug("late reply dropped: its request was requeued for another worker seq=%" PRIu64
             " worker=%s",
             record->seq, worker_id);
    zhash_delete(self->requeued, worker_id);
    return true;
}

//  Replies 408 to the queued requests of service whose deadline passed.
static void s_sweep_service(sd_broker *self, sd_broker_service *service, int64_t now_ms)
{
    zlist_t *expired = NULL;
    for (sd_broker_request *request = zlist_first(service->requests); request;
         request = zlist_next(service->requests)) {
        if (!sd_broker_request_expired(request, now_ms))
            continue;
        if (!expired)
            expired = zlist_new();
        if (!expired || zlist_append(expired, request) != 0)
            break;
    }
    for (sd_broker_request *request = expired ? zlist_pop(expired) : NULL; request;
         request = zlist_pop(expired)) {
        zlist_remove(service->requests, request);
        sd_broker_request_expire(self, service, &request);
    }
    zlist_destroy(&expired);
}

//  Forgets late-reply records past their time.
static void s_forget_requeued(sd_broker *self, int64_t now)
{
    zlist_t *ids = zhash_keys(self->requeued);
    for (char *id = ids ? zlist_first(ids) : NULL; id; id = zlist_next(ids)) {
        sd_broker_requeued *record = zhash_lookup(self->requeued, id);
        if (record && record->forget_at < now)
            zhash_delete(self->requeued, id);
    }
    zlist_destroy(&ids);
}

void sd_broker_sweep(sd_broker *self)
{
    int64_t now_ms = zclock_time();
    zlist_t *names = zhash_keys(self->services);
    for (char *name = names ? zlist_first(names) : NULL; name; name = zlist_next(names)) {
        sd_broker_service *service = zhash_lookup(self->services, name);
        if (!service)
            continue;
        if (zlist_size(service->requests) > 0)
            s_sweep_service(self, service, now_ms);
        sd_broker_service_prune(self, service);
    }
    zlist_destroy(&names);
    if (zhash_size(self->requeued) > 0)
        s_forget_requeued(self, zclock_mono());
}

/*  sd_broker_worker: worker records of the broker: READY, REPLY,
    HEARTBEAT and DISCONNECT, heartbeats and expiry.  */
#include "sd_broker_internal.h"

#include "sd_broker_request.h"
#include "sd_broker_service.h"
#include "sd_log.h"
#include "sd_mdp.h"

//  Sends [identity][empty]["MDPW01"][command] on the ROUTER.
static int s_send_command(sd_broker *self, zframe_t *identity, int command)
{
    const byte code = (byte)command;
    const sd_broker_frame head[] = {
        {zframe_data(identity), zframe_size(identity)},
        {"", 0},
        {SD_MDPW_HEADER, strlen(SD_MDPW_HEADER)},
        {&code, 1},
    };
    return sd_broker_send_frames(self, head, sizeof head / sizeof head[0], NULL);
}

int sd_broker_send_to_worker(sd_broker *self, sd_broker_worker *worker, int command)
{
    return s_send_command(self, worker->identity, command);
}

//  Writes the hex id of identity into id and returns its worker, or NULL.
static sd_broker_worker *s_worker_lookup(sd_broker *self, zframe_t *identity,
                                         char id[SD_BROKER_ID_HEX_SIZE])
{
    sd_broker_id_hex(identity, id);
    return zhash_lookup(self->workers, id);
}

bool sd_broker_worker_registered(sd_broker *self, zframe_t *sender)
{
    char id[SD_BROKER_ID_HEX_SIZE];
    return s_worker_lookup(self, sender, id) != NULL;
}

void sd_broker_worker_drop(sd_broker *self, sd_broker_worker **worker_p, const char *reason)
{
    sd_broker_worker *worker = *worker_p;
    if (!worker)
        return;
    sd_broker_service *service = worker->service;
    sd_info("worker removed: %s worker=%s service=%s", reason, worker->id, service->name);

    sd_broker_requeue(self, worker);
    zlist_remove(service->waiting, worker);
    service->workers--;
    zhash_delete(self->workers, worker->id);
    zframe_destroy(&worker->identity);
    free(worker->id);
    free(worker);
    *worker_p = NULL;
}

void sd_broker_worker_delete(sd_broker *self, sd_broker_worker **worker_p, const char *reason)
{
    sd_broker_worker *worker = *worker_p;
    if (!worker)
        return;
    sd_broker_service *service = worker->service;
    bool busy = worker->request != NULL;
    sd_broker_worker_drop(self, worker_p, reason);

    //  The requeued request may go to an idle worker of the service now.
    if (busy)
        sd_broker_dispatch(self, service);
    sd_broker_service_prune(self, service);
}

bool sd_broker_worker_violation(sd_broker *self, zframe_t *sender, const char *what)
{
    char id[SD_BROKER_ID_HEX_SIZE];
    sd_broker_worker *worker = s_worker_lookup(self, sender, id);
    if (sd_broker_peer_warning_allowed(self))
        sd_warning("worker sent %s, disconnecting it worker=%s service=%s", what, id,
                   worker ? worker->service->name : "-");
    s_send_command(self, sender, SD_MDPW_DISCONNECT);
    if (!worker)
        return false;
    sd_broker_worker_delete(self, &worker, "protocol violation");
    return true;
}

//  Puts an idle worker at the back of its service's waiting list and sends
//  it the next queued request, if any.
static void s_worker_waiting(sd_broker *self, sd_broker_worker *worker)
{
    sd_broker_service *service = worker->service;
    if (zlist_append(service->waiting, worker) != 0) {
        sd_broker_worker_delete(self, &worker, "out of memory");
        return;
    }
    sd_broker_dispatch(self, service);
}

//  Registers a worker for the service named by READY's one frame.
static void s_handle_ready(sd_broker *self, zframe_t *sender, const char *id, zmsg_t *msg)
{
    zframe_t *name = zmsg_first(msg);
    if (zmsg_size(msg) != 1 || !sd_mdp_service_valid(zframe_data(name), zframe_size(name)) ||
        (zframe_size(name) >= 4 && memcmp(zframe_data(name), "mmi.", 4) == 0)) {
        sd_broker_worker_violation(self, sender, "READY without a valid service name");
        return;
    }
    char *text = sd_mdp_frame_text(name);
    sd_broker_service *service = text ? sd_broker_service_require(self, text) : NULL;
    sd_broker_worker *worker = service ? calloc(1, sizeof *worker) : NULL;
    free(text);
    if (!worker || !(worker->identity = zframe_dup(sender)) || !(worker->id = strdup(id)) ||
        zhash_insert(self->workers, id, worker) != 0) {
        sd_error("worker not registered: out of memory or too many services worker=%s", id);
        s_send_command(self, sender, SD_MDPW_DISCONNECT);
        if (worker) {
            zframe_destroy(&worker->identity);
            free(worker->id);
        }
        free(worker);
        return;
    }
    worker->service = service;
    worker->expiry = zclock_mono() + (int64_t)self->heartbeat_ms * self->liveness;
    service->workers++;
    sd_info("worker registered worker=%s service=%s workers=%zu", id, service->name,
            service->workers);
    s_worker_waiting(self, worker);
}

//  Forwards REPLY [client][empty][body...] to the client whose request the
//  worker holds; msg stays the caller's.
static void s_handle_reply(sd_broker *self, sd_broker_worker *worker, zmsg_t *msg)
{
    zframe_t *client = zmsg_pop(msg);
    zframe_t *empty = zmsg_pop(msg);
    bool valid = worker->request && client && empty && zframe_size(empty) == 0 &&
                 zframe_eq(client, worker->request->client);
    zframe_destroy(&empty);
    zframe_destroy(&client);
    if (!valid && !worker->request && sd_broker_late_reply(self, worker->id))
        return;
    if (!valid) {
        sd_broker_worker_violation(self, worker->identity,
                                   worker->request ? "REPLY for another client"
                                                   : "REPLY while idle");
        return;
    }

    //  What is left of msg is the body.
    sd_broker_send_to_client(self, worker->request->client, worker->service->name, msg);
    worker->service->served++;
    sd_broker_request_destroy(&worker->request);
    s_worker_waiting(self, worker);
}

void sd_broker_worker_message(sd_broker *self, zframe_t **sender, zmsg_t **msg)
{
    char id[SD_BROKER_ID_HEX_SIZE];
    sd_broker_worker *worker = s_worker_lookup(self, *sender, id);
    zframe_t *command_frame = zmsg_pop(*msg);
    int command =
        command_frame && zframe_size(command_frame) == 1 ? zframe_data(command_frame)[0] : -1;
    zframe_destroy(&command_frame);
    if (worker)
        worker->expiry = zclock_mono() + (int64_t)self->heartbeat_ms * self->liveness;

    if (command == SD_MDPW_READY && !worker)
        s_handle_ready(self, *sender, id, *msg);
    else if (command == SD_MDPW_DISCONNECT && zmsg_size(*msg) == 0) {
        if (worker)
            sd_broker_worker_delete(self, &worker, "DISCONNECT from worker");
    } else if ((command == SD_MDPW_HEARTBEAT || command == SD_MDPW_REPLY) && !worker) {
        //  Typically a worker of a broker that restarted, or one that was
        //  expired while it worked and whose request went to another
        //  worker: DISCONNECT makes it reconnect and send READY again.
        bool late = command == SD_MDPW_REPLY && sd_broker_late_reply(self, id);
        if (!late && sd_broker_peer_warning_allowed(self))
            sd_info("message from unregistered worker, sent DISCONNECT worker=%s", id);
        s_send_command(self, *sender, SD_MDPW_DISCONNECT);
    } else if (command == SD_MDPW_HEARTBEAT && zmsg_size(*msg) == 0)
        ;
    else if (command == SD_MDPW_REPLY)
        s_handle_reply(self, worker, *msg);
    else if (command == SD_MDPW_READY)
        sd_broker_worker_violation(self, *sender, "READY while registered");
    else if (command == SD_MDPW_HEARTBEAT || command == SD_MDPW_DISCONNECT)
        sd_broker_worker_violation(self, *sender, "a command with extra frames");
    else
        sd_broker_worker_violation(self, *sender, "an unknown command");
    zmsg_destroy(msg);
    zframe_destroy(sender);
}

void sd_broker_heartbeat(sd_broker *self)
{
    //  Collect ids first, because deleting while walking the hash is not
    //  allowed. Deleting one worker may remove another (when its requeued
    //  request is sent to a worker that is gone), so each id is looked up
    //  again before it is deleted.
    zlist_t *dead = zlist_new();
    if (dead)
        zlist_autofree(dead);
    int64_t now = zclock_mono();
    for (sd_broker_worker *worker = zhash_first(self->workers); worker;
         worker = zhash_next(self->workers)) {
        bool expired = worker->expiry < now;
        bool gone = !expired &&
                    sd_broker_send_to_worker(self, worker, SD_MDPW_HEARTBEAT) != 0 &&
                    errno == EHOSTUNREACH;
        if ((expired || gone) && (!dead || zlist_append(dead, worker->id) != 0))
            break;
    }
    for (char *id = dead ? zlist_first(dead) : NULL; id; id = zlist_next(dead)) {
        sd_broker_worker *worker = zhash_lookup(self->workers, id);
        if (worker)
            sd_broker_worker_delete(
                self, &worker, worker->expiry < now ? "expired: no heartbeat" : "worker is gone");
    }
    zlist_destroy(&dead);
    sd_broker_sweep(self);
}

void sd_broker_forget_all(sd_broker *self)
{
    zlist_t *workers = zhash_keys(self->workers);
    for (char *id = workers ? zlist_first(workers) : NULL; id; id = zlist_next(workers)) {
        sd_broker_worker *worker = zhash_lookup(self->workers, id);
        sd_broker_request_destroy(&worker->request);
        sd_broker_worker_delete(self, &worker, "broker stopping");
    }
    zlist_destroy(&workers);

    //  Services left have queued requests but no workers.
    zlist_t *names = zhash_keys(self->services);
    for (char *name = names ? zlist_first(names) : NULL; name; name = zlist_next(names)) {
        sd_broker_service *service = zhash_lookup(self->services, name);
        zhash_delete(self->services, name);
        sd_broker_service_free(&service);
    }
    zlist_destroy(&names);
}

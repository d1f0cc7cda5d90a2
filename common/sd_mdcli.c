/*  sd_mdcli: an asynchronous MDP/0.1 client on a DEALER socket.  */
#include "sd_mdcli.h"

#include "sd_log.h"
#include "sd_mdp.h"

struct sd_mdcli {
    char *endpoint;  //  broker ROUTER
    zsock_t *socket; //  DEALER connected to endpoint
    zloop_t *loop;   //  set by sd_mdcli_attach
    sd_mdcli_reply_fn *handler;
    void *handler_arg;
};

//  Reads one reply [empty]["MDPC01"][service][body...]. Returns the body
//  and sets *service (caller frees), or returns NULL when nothing could be
//  read or the frames were malformed (logged and dropped).
static zmsg_t *s_recv_reply(sd_mdcli *self, char **service)
{
    zmsg_t *msg = zmsg_recv(self->socket);
    if (!msg)
        return NULL;
    zframe_t *empty = zmsg_pop(msg);
    zframe_t *header = zmsg_pop(msg);
    zframe_t *name = zmsg_pop(msg);
    bool valid = empty && zframe_size(empty) == 0 && sd_mdp_frame_equals(header, SD_MDPC_HEADER) &&
                 name && sd_mdp_service_valid(zframe_data(name), zframe_size(name));
    *service = valid ? sd_mdp_frame_text(name) : NULL;
    if (!*service) {
        if (!valid)
            sd_warning("malformed reply from broker dropped endpoint=%s", self->endpoint);
        zmsg_destroy(&msg);
    }
    zframe_destroy(&empty);
    zframe_destroy(&header);
    zframe_destroy(&name);
    return msg;
}

static int s_handle_broker(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    (void)socket;
    sd_mdcli *self = arg;
    char *service = NULL;
    zmsg_t *body = s_recv_reply(self, &service);
    if (body && self->handler)
        self->handler(self, service, body, self->handler_arg);
    else
        zmsg_destroy(&body);
    free(service);
    return 0;
}

sd_mdcli *sd_mdcli_new(const char *endpoint, const sd_config_broker *broker)
{
    if (!endpoint)
        return NULL;
    if (broker && broker->curve_enabled) {
        //  TODO: CURVE keys are not applied yet; refuse rather than
        //  connect in clear text when the config enables encryption.
        sd_error("CURVE is configured but not supported by this client yet endpoint=%s", endpoint);
        return NULL;
    }
    sd_mdcli *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup(endpoint);
    self->socket = zsock_new(ZMQ_DEALER);
    if (!self->endpoint || !self->socket ||
        sd_mdp_set_max_message_bytes(self->socket, broker ? broker->max_message_bytes : 0) ||
        zsock_connect(self->socket, "%s", endpoint) != 0) {
        sd_error("cannot connect to broker: %s endpoint=%s", zmq_strerror(errno), endpoint);
        sd_mdcli_destroy(&self);
    }
    return self;
}

int sd_mdcli_attach(sd_mdcli *self, zloop_t *loop, sd_mdcli_reply_fn *handler, void *arg)
{
    assert(self);
    assert(loop);
    assert(!self->loop);
    self->loop = loop;
    self->handler = handler;
    self->handler_arg = arg;
    if (zloop_reader(loop, self->socket, s_handle_broker, self) != 0)
        return -1;
    zloop_reader_set_tolerant(loop, self->socket);
    return 0;
}

int sd_mdcli_send(sd_mdcli *self, const char *service, zmsg_t **body)
{
    zmsg_t *msg = *body;
    *body = NULL;
    if (!msg || !service || !sd_mdp_service_valid(service, strlen(service))) {
        sd_warning("request not sent: invalid service name service=%s", service ? service : "");
        zmsg_destroy(&msg);
        return -1;
    }
    if (zmsg_pushstr(msg, service) || zmsg_pushstr(msg, SD_MDPC_HEADER) ||
        zmsg_pushmem(msg, NULL, 0)) {
        zmsg_destroy(&msg);
        return -1;
    }
    if (sd_mdp_send(self->socket, &msg) != 0) {
        sd_warning("request not sent: %s service=%s", zmq_strerror(errno), service);
        return -1;
    }
    return 0;
}

zmsg_t *sd_mdcli_request(sd_mdcli *self, const char *service, zmsg_t **body, int timeout_ms)
{
    assert(!self->loop);
    if (sd_mdcli_send(self, service, body) != 0)
        return NULL;
    zpoller_t *poller = zpoller_new(self->socket, NULL);
    if (!poller)
        return NULL;

    //  Replies to earlier requests that timed out may still arrive: skip
    //  any reply that is not from the service asked.
    zmsg_t *reply = NULL;
    int64_t deadline = zclock_mono() + timeout_ms;
    while (!reply) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0 || !zpoller_wait(poller, (int)left))
            break;
        char *from = NULL;
        reply = s_recv_reply(self, &from);
        if (reply && strcmp(from, service) != 0) {
            sd_warning("reply from another service dropped service=%s expected=%s", from, service);
            zmsg_destroy(&reply);
        }
        free(from);
    }
    zpoller_destroy(&poller);
    return reply;
}

void sd_mdcli_destroy(sd_mdcli **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_mdcli *self = *self_p;
    if (self->loop && self->socket)
        zloop_reader_end(self->loop, self->socket);
    zsock_destroy(&self->socket);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/*  sd_mdcli: an asynchronous MDP/0.1 client on a DEALER socket, with the
    outstanding requests it resends after losing the broker.

    A socket monitor (a PAIR socket fed by zmq_socket_monitor) reports when
    the connection to the broker closes. Sockets are replaced from timer
    callbacks or the blocking wait, never from their own reader. zloop
    (CZMQ 4.2) may still call the reader of a socket that a timer replaced
    in the same loop pass, so the new socket is made before the old one is
    closed, and the reader callbacks ignore any socket that is not the
    current one.
*/
#include "sd_mdcli.h"

#include "sd_curve_config.h"
#include "sd_log.h"
#include "sd_mdp.h"

//  The service and body of the probe sent while the broker is silent.
#define SD_MDCLI_PROBE_SERVICE "mmi.service"
#define SD_MDCLI_PROBE_BODY "mmi.service"

//  One request waiting for its reply.
typedef struct {
    char *service;
    zmsg_t *body; //  copy kept for resending
    char *id;     //  request id of the body (sd_mdp_body_id), NULL when none
    bool probe;   //  sent by the client itself; its reply is not passed on
} s_pending;

struct sd_mdcli {
    char *endpoint;         //  broker ROUTER
    zsock_t *socket;        //  DEALER connected to endpoint
    zsock_t *monitor;       //  PAIR receiving the DEALER's DISCONNECTED events
    sd_curve_client *curve; //  NULL without CURVE
    int64_t max_message_bytes;
    int heartbeat_ms;       //  silence before a probe
    int liveness;           //  silent intervals before the broker counts as lost
    zlist_t *pending;       //  s_pending, oldest first
    int64_t heard_at;       //  zclock_mono() of the last message from the broker
    bool probe_sent;        //  a probe is outstanding
    bool connection_closed; //  DISCONNECTED seen since the socket was made
    unsigned sockets;       //  sockets made, for monitor names
    unsigned reconnects;
    int64_t reconnected_at; //  zclock_mono() of the last new socket
    zloop_t *loop;          //  set by sd_mdcli_attach
    int check_timer;        //  zloop timer id, -1 when none
    sd_mdcli_reply_fn *handler;
    void *handler_arg;
};

static void s_pending_destroy(s_pending **pending_p)
{
    s_pending *pending = *pending_p;
    if (!pending)
        return;
    free(pending->service);
    zmsg_destroy(&pending->body);
    free(pending->id);
    free(pending);
    *pending_p = NULL;
}

//  Returns a record of a request to service with a copy of body, or NULL.
static s_pending *s_pending_new(const char *service, zmsg_t *body, bool probe)
{
    s_pending *pending = calloc(1, sizeof *pending);
    if (!pending)
        return NULL;
    pending->service = strdup(service);
    pending->body = zmsg_dup(body);
    pending->probe = probe;
    char id[SD_MDP_ID_MAX];
    zframe_t *first = zmsg_first(body);
    if (first && sd_mdp_body_id(zframe_data(first), zframe_size(first), id, sizeof id) == 0)
        pending->id = strdup(id);
    if (!pending->service || !pending->body)
        s_pending_destroy(&pending);
    return pending;
}

//  Makes a DEALER with its monitor and connects it. Returns 0 with
//  *socket and *monitor set, or -1 (logged).
static int s_open(sd_mdcli *self, zsock_t **socket, zsock_t **monitor)
{
    *socket = zsock_new(ZMQ_DEALER);
    *monitor = NULL;
    char *monitor_endpoint =
        zsys_sprintf("inproc://sd-mdcli-monitor-%p-%u", (void *)self, self->sockets++);
    int rc = -1;
    if (*socket && monitor_endpoint &&
        sd_mdp_set_max_message_bytes(*socket, self->max_message_bytes) == 0 &&
        (!self->curve || sd_curve_client_apply(self->curve, *socket) == 0) &&
        zmq_socket_monitor(zsock_resolve(*socket), monitor_endpoint, ZMQ_EVENT_DISCONNECTED) == 0 &&
        (*monitor = zsock_new(ZMQ_PAIR)) && zsock_connect(*monitor, "%s", monitor_endpoint) == 0 &&
        zsock_connect(*socket, "%s", self->endpoint) == 0)
        rc = 0;
    if (rc != 0) {
        sd_error("cannot connect to broker: %s endpoint=%s", zmq_strerror(errno), self->endpoint);
        zsock_destroy(monitor);
        zsock_destroy(socket);
    }
    zstr_free(&monitor_endpoint);
    return rc;
}

static int s_handle_socket(zloop_t *loop, zsock_t *socket, void *arg);
static int s_handle_monitor(zloop_t *loop, zsock_t *socket, void *arg);

//  Registers the current socket and monitor on the loop, if attached.
static int s_register(sd_mdcli *self)
{
    if (!self->loop)
        return 0;
    if (zloop_reader(self->loop, self->socket, s_handle_socket, self) != 0 ||
        zloop_reader(self->loop, self->monitor, s_handle_monitor, self) != 0)
        return -1;
    zloop_reader_set_tolerant(self->loop, self->socket);
    zloop_reader_set_tolerant(self->loop, self->monitor);
    return 0;
}

//  Closes a socket and its monitor, dropping what was not yet sent.
static void s_close(sd_mdcli *self, zsock_t **socket, zsock_t **monitor)
{
    if (self->loop && *socket)
        zloop_reader_end(self->loop, *socket);
    if (self->loop && *monitor)
        zloop_reader_end(self->loop, *monitor);
    if (*socket)
        zsock_set_linger(*socket, 0);
    zsock_destroy(socket);
    zsock_destroy(monitor);
}

//  Sends [empty]["MDPC01"][service][copy of body...]. Returns 0 or -1.
static int s_send_copy(sd_mdcli *self, const char *service, zmsg_t *body)
{
    zmsg_t *msg = zmsg_dup(body);
    if (!msg || zmsg_pushstr(msg, service) || zmsg_pushstr(msg, SD_MDPC_HEADER) ||
        zmsg_pushmem(msg, NULL, 0)) {
        zmsg_destroy(&msg);
        errno = ENOMEM;
        return -1;
    }
    return sd_mdp_send(self->socket, &msg);
}

//  Drops the probes: their replies can only come on the old socket.
static void s_drop_probes(sd_mdcli *self)
{
    zlist_t *probes = zlist_new();
    for (s_pending *pending = zlist_first(self->pending); probes && pending;
         pending = zlist_next(self->pending))
        if (pending->probe)
            zlist_append(probes, pending);
    for (s_pending *probe = probes ? zlist_pop(probes) : NULL; probe; probe = zlist_pop(probes)) {
        zlist_remove(self->pending, probe);
        s_pending_destroy(&probe);
    }
    zlist_destroy(&probes);
    self->probe_sent = false;
}

//  Replaces the socket and resends every outstanding request, oldest
//  first. On failure the old socket stays and the next check retries.
static void s_reconnect(sd_mdcli *self, const char *reason)
{
    zsock_t *socket = NULL;
    zsock_t *monitor = NULL;
    if (s_open(self, &socket, &monitor) != 0)
        return;
    zsock_t *old_socket = self->socket;
    zsock_t *old_monitor = self->monitor;
    self->socket = socket;
    self->monitor = monitor;
    if (s_register(self) != 0)
        sd_error("cannot register the new broker socket on the loop endpoint=%s", self->endpoint);
    s_close(self, &old_socket, &old_monitor);

    s_drop_probes(self);
    self->connection_closed = false;
    self->heard_at = zclock_mono();
    self->reconnected_at = self->heard_at;
    self->reconnects++;
    sd_warning("broker lost (%s), resending %zu requests on a new socket endpoint=%s", reason,
               zlist_size(self->pending), self->endpoint);
    for (s_pending *pending = zlist_first(self->pending); pending;
         pending = zlist_next(self->pending))
        if (s_send_copy(self, pending->service, pending->body) != 0)
            sd_warning("request not resent: %s service=%s", zmq_strerror(errno), pending->service);
}

//  Sends a probe while the broker is silent. Its reply counts as traffic.
static void s_send_probe(sd_mdcli *self)
{
    zmsg_t *body = zmsg_new();
    s_pending *probe = NULL;
    if (body && zmsg_addstr(body, SD_MDCLI_PROBE_BODY) == 0)
        probe = s_pending_new(SD_MDCLI_PROBE_SERVICE, body, true);
    zmsg_destroy(&body);
    if (probe && s_send_copy(self, probe->service, probe->body) == 0 &&
        zlist_append(self->pending, probe) == 0) {
        self->probe_sent = true;
        sd_debug("broker silent, probe sent endpoint=%s", self->endpoint);
        return;
    }
    s_pending_destroy(&probe);
}

//  Judges the connection: reconnects after a closed connection or a long
//  silence while requests are outstanding, and probes a short silence.
static void s_check(sd_mdcli *self)
{
    //  A broker that rejects the handshake (an unknown CURVE key) closes
    //  every new connection at once: at most one new socket per interval.
    int64_t now = zclock_mono();
    if (self->connection_closed) {
        if (now - self->reconnected_at >= self->heartbeat_ms)
            s_reconnect(self, "connection closed");
        return;
    }
    if (sd_mdcli_outstanding(self) == 0)
        return;
    int64_t silent = now - self->heard_at;
    if (silent >= (int64_t)self->heartbeat_ms * self->liveness) {
        char reason[80];
        snprintf(reason, sizeof reason, "no message for %" PRId64 " ms", silent);
        s_reconnect(self, reason);
    } else if (silent >= self->heartbeat_ms && !self->probe_sent)
        s_send_probe(self);
}

//  Reads one monitor event; a DISCONNECTED marks the connection closed.
static void s_read_monitor(sd_mdcli *self)
{
    zmsg_t *event = zmsg_recv(self->monitor);
    zframe_t *head = event ? zmsg_first(event) : NULL;
    if (head && zframe_size(head) >= 2) {
        uint16_t code;
        memcpy(&code, zframe_data(head), sizeof code);
        if (code & ZMQ_EVENT_DISCONNECTED)
            self->connection_closed = true;
    }
    zmsg_destroy(&event);
}

//  Reads one reply [empty]["MDPC01"][service][body...]. Returns the body
//  and sets *service (caller frees), or returns NULL when nothing could be
//  read or the frames were malformed (logged and dropped).
static zmsg_t *s_recv_reply(sd_mdcli *self, char **service)
{
    zmsg_t *msg = zmsg_recv(self->socket);
    if (!msg)
        return NULL;
    self->heard_at = zclock_mono();
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

//  Returns the first outstanding request of service that satisfies the
//  id rule: with id, the same id; with any_id false, no id at all.
static s_pending *s_find(sd_mdcli *self, const char *service, const char *id, bool any_id)
{
    for (s_pending *pending = zlist_first(self->pending); pending;
         pending = zlist_next(self->pending)) {
        if (strcmp(pending->service, service) != 0)
            continue;
        if (id ? pending->id && strcmp(pending->id, id) == 0 : any_id || !pending->id)
            return pending;
    }
    return NULL;
}

//  Finds and unlinks the outstanding request that a reply belongs to: the
//  same request id, else the oldest request of the service without an id,
//  else (for a reply without an id) the oldest of the service. Returns
//  NULL when none matches.
static s_pending *s_match(sd_mdcli *self, const char *service, zmsg_t *body)
{
    char id[SD_MDP_ID_MAX];
    zframe_t *first = zmsg_first(body);
    bool has_id =
        first && sd_mdp_body_id(zframe_data(first), zframe_size(first), id, sizeof id) == 0;
    s_pending *pending = has_id ? s_find(self, service, id, false) : NULL;
    if (!pending)
        pending = s_find(self, service, NULL, false);
    if (!pending && !has_id)
        pending = s_find(self, service, NULL, true);
    if (!pending) {
        sd_debug("reply dropped: it matches no outstanding request, so it answers a request "
                 "that was resent service=%s id=%s",
                 service, has_id ? id : "-");
        return NULL;
    }
    zlist_remove(self->pending, pending);
    if (pending->probe)
        self->probe_sent = false;
    return pending;
}

//  Receives one reply and matches it. Returns the reply body with *pending
//  set to its request (both the caller's), or NULL.
static zmsg_t *s_receive(sd_mdcli *self, char **service, s_pending **pending)
{
    *pending = NULL;
    zmsg_t *body = s_recv_reply(self, service);
    if (body)
        *pending = s_match(self, *service, body);
    if (!*pending) {
        zmsg_destroy(&body);
        zstr_free(service);
    }
    return body;
}

static int s_handle_socket(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    sd_mdcli *self = arg;
    if (socket != self->socket)
        return 0;
    char *service = NULL;
    s_pending *pending = NULL;
    zmsg_t *body = s_receive(self, &service, &pending);
    if (body && !pending->probe && self->handler)
        self->handler(self, service, body, self->handler_arg);
    else
        zmsg_destroy(&body);
    s_pending_destroy(&pending);
    free(service);
    return 0;
}

static int s_handle_monitor(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    sd_mdcli *self = arg;
    if (socket == self->monitor)
        s_read_monitor(self);
    return 0;
}

static int s_check_due(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_check(arg);
    return 0;
}

//  Copies the settings of broker (NULL for the defaults) and loads keys.
static int s_configure(sd_mdcli *self, const sd_config_broker *broker)
{
    self->heartbeat_ms =
        broker && broker->heartbeat_ms > 0 ? broker->heartbeat_ms : SD_MDP_HEARTBEAT_MS_DEFAULT;
    self->liveness = broker && broker->liveness > 0 ? broker->liveness : SD_MDP_LIVENESS_DEFAULT;
    self->max_message_bytes = broker ? broker->max_message_bytes : 0;
    if (!broker || !broker->curve_enabled)
        return 0;
    char err[512];
    self->curve = sd_curve_client_new(broker, err, sizeof err);
    if (!self->curve) {
        sd_error("broker.curve: %s", err);
        return -1;
    }
    return 0;
}

sd_mdcli *sd_mdcli_new(const char *endpoint, const sd_config_broker *broker)
{
    if (!endpoint)
        return NULL;
    sd_mdcli *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->check_timer = -1;
    self->endpoint = strdup(endpoint);
    self->pending = zlist_new();
    if (!self->endpoint || !self->pending || s_configure(self, broker) != 0 ||
        s_open(self, &self->socket, &self->monitor) != 0)
        sd_mdcli_destroy(&self);
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
    if (s_register(self) != 0)
        return -1;
    self->check_timer = zloop_timer(loop, (size_t)self->heartbeat_ms, 0, s_check_due, self);
    return self->check_timer < 0 ? -1 : 0;
}

//  Sends body and records it. Returns the record (owned by the list), or
//  NULL. Takes *body.
static s_pending *s_send(sd_mdcli *self, const char *service, zmsg_t **body)
{
    zmsg_t *msg = *body;
    *body = NULL;
    if (!msg || !service || !sd_mdp_service_valid(service, strlen(service))) {
        sd_warning("request not sent: invalid service name service=%s", service ? service : "");
        zmsg_destroy(&msg);
        return NULL;
    }
    s_pending *pending = s_pending_new(service, msg, false);
    zmsg_destroy(&msg);
    if (!pending || s_send_copy(self, service, pending->body) != 0) {
        sd_warning("request not sent: %s service=%s",
                   pending ? zmq_strerror(errno) : "out of memory", service);
        s_pending_destroy(&pending);
        return NULL;
    }
    if (sd_mdcli_outstanding(self) == 0)
        self->heard_at = zclock_mono();
    if (zlist_append(self->pending, pending) != 0) {
        s_pending_destroy(&pending);
        return NULL;
    }
    return pending;
}

int sd_mdcli_send(sd_mdcli *self, const char *service, zmsg_t **body)
{
    return s_send(self, service, body) ? 0 : -1;
}

//  Waits up to wait_ms for the socket or the monitor, then handles what
//  is ready and judges the connection. Returns the reply to request, or
//  NULL.
static zmsg_t *s_wait_once(sd_mdcli *self, s_pending *request, int wait_ms)
{
    zmq_pollitem_t items[] = {{zsock_resolve(self->socket), 0, ZMQ_POLLIN, 0},
                              {zsock_resolve(self->monitor), 0, ZMQ_POLLIN, 0}};
    zmsg_t *reply = NULL;
    if (zmq_poll(items, 2, wait_ms) > 0) {
        if (items[1].revents & ZMQ_POLLIN)
            s_read_monitor(self);
        if (items[0].revents & ZMQ_POLLIN) {
            char *service = NULL;
            s_pending *pending = NULL;
            reply = s_receive(self, &service, &pending);
            if (pending != request)
                zmsg_destroy(&reply);
            s_pending_destroy(&pending);
            free(service);
        }
    }
    if (!reply)
        s_check(self);
    return reply;
}

zmsg_t *sd_mdcli_request(sd_mdcli *self, const char *service, zmsg_t **body, int timeout_ms)
{
    assert(!self->loop);
    s_pending *request = s_send(self, service, body);
    if (!request)
        return NULL;

    zmsg_t *reply = NULL;
    int64_t deadline = zclock_mono() + timeout_ms;
    while (!reply && !zsys_interrupted) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0)
            break;
        reply = s_wait_once(self, request,
                            (int)(left < self->heartbeat_ms ? left : self->heartbeat_ms));
    }
    if (!reply) {
        //  Timed out: forget the request, so its late reply is dropped.
        zlist_remove(self->pending, request);
        s_pending_destroy(&request);
    }
    return reply;
}

size_t sd_mdcli_outstanding(sd_mdcli *self)
{
    return zlist_size(self->pending) - (self->probe_sent ? 1 : 0);
}

unsigned sd_mdcli_reconnects(sd_mdcli *self)
{
    return self->reconnects;
}

void sd_mdcli_destroy(sd_mdcli **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_mdcli *self = *self_p;
    if (self->loop && self->check_timer >= 0)
        zloop_timer_end(self->loop, self->check_timer);
    s_close(self, &self->socket, &self->monitor);
    if (self->pending) {
        for (s_pending *pending = zlist_pop(self->pending); pending;
             pending = zlist_pop(self->pending))
            s_pending_destroy(&pending);
        zlist_destroy(&self->pending);
    }
    sd_curve_client_destroy(&self->curve);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

/*  sd_mdwrk: an MDP/0.1 worker on a zloop.

    The worker is either connected (a DEALER socket registered on the loop)
    or waiting to reconnect (no socket, a one-shot timer pending). It falls
    back to waiting when the broker sends DISCONNECT or stays silent for
    liveness heartbeats, and builds a new socket that sends READY when the
    timer fires.
*/
#include "sd_mdwrk.h"

#include "sd_curve_config.h"
#include "sd_log.h"
#include "sd_mdp.h"

#define SD_MDWRK_RECONNECT_MS_DEFAULT 2500
//  How long a closing socket may keep trying to deliver DISCONNECT.
#define SD_MDWRK_CLOSE_LINGER_MS 500

struct sd_mdwrk {
    char *endpoint;            //  broker ROUTER
    char *service;             //  name sent in READY
    int heartbeat_ms;          //  interval of our heartbeats and of the checks
    int liveness;              //  silent intervals before the broker counts as dead
    int reconnect_ms;          //  wait between losing the broker and reconnecting
    int64_t max_message_bytes; //  ZMQ_MAXMSGSIZE, 0 for none
    sd_curve_client *curve;    //  NULL without CURVE
    zsock_t *socket;           //  NULL while waiting to reconnect
    zloop_t *loop;             //  set by sd_mdwrk_attach
    int heartbeat_timer;       //  zloop timer id, -1 when none
    int reconnect_timer;       //  zloop timer id, -1 when none
    int disconnect_timer;      //  zloop timer id, -1 when none
    int liveness_left;         //  intervals left before the broker counts as dead
    bool disconnect_pending;   //  DISCONNECT received, teardown scheduled
    bool busy;                 //  a request was handed to the handler and has no reply yet
    bool busy_stale;           //  that request came through a connection since lost
    bool ready_deferred;       //  READY waits until the stale request has its reply
    unsigned reconnects;       //  sockets built after the first
    sd_mdwrk_request_fn *handler;
    void *handler_arg;
};

static int s_connect(sd_mdwrk *self);
static int s_handle_broker(zloop_t *loop, zsock_t *socket, void *arg);

//  Sends [empty]["MDPW01"][command] plus the frames of *extra (may be NULL).
static int s_send_command(sd_mdwrk *self, int command, zmsg_t **extra)
{
    zmsg_t *msg = extra && *extra ? *extra : zmsg_new();
    if (extra)
        *extra = NULL;
    if (!msg || !self->socket) {
        zmsg_destroy(&msg);
        return -1;
    }
    byte code = (byte)command;
    if (zmsg_pushmem(msg, &code, 1) || zmsg_pushstr(msg, SD_MDPW_HEADER) ||
        zmsg_pushmem(msg, NULL, 0)) {
        zmsg_destroy(&msg);
        return -1;
    }
    return sd_mdp_send(self->socket, &msg);
}

static int s_send_ready(sd_mdwrk *self)
{
    zmsg_t *msg = zmsg_new();
    if (!msg || zmsg_addstr(msg, self->service)) {
        zmsg_destroy(&msg);
        return -1;
    }
    return s_send_command(self, SD_MDPW_READY, &msg);
}

//  Closes the socket, optionally saying DISCONNECT first.
static void s_close_socket(sd_mdwrk *self, bool say_disconnect)
{
    if (!self->socket)
        return;
    if (self->loop)
        zloop_reader_end(self->loop, self->socket);
    if (say_disconnect) {
        zsock_set_linger(self->socket, SD_MDWRK_CLOSE_LINGER_MS);
        s_send_command(self, SD_MDPW_DISCONNECT, NULL);
    }
    zsock_destroy(&self->socket);
}

static int s_reconnect_due(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_mdwrk *self = arg;
    self->reconnect_timer = -1;
    if (s_connect(self) == 0)
        return 0;

    //  The endpoint was valid once, so a failure here is transient: retry.
    self->reconnect_timer =
        zloop_timer(self->loop, (size_t)self->reconnect_ms, 1, s_reconnect_due, self);
    return 0;
}

//  Drops the connection and schedules a new one after reconnect_ms.
static void s_schedule_reconnect(sd_mdwrk *self, const char *reason)
{
    s_close_socket(self, false);
    self->disconnect_pending = false;
    sd_warning("broker connection lost (%s), reconnecting in %d ms service=%s endpoint=%s", reason,
               self->reconnect_ms, self->service, self->endpoint);
    if (self->loop && self->reconnect_timer < 0)
        self->reconnect_timer =
            zloop_timer(self->loop, (size_t)self->reconnect_ms, 1, s_reconnect_due, self);
}

//  Tears down after DISCONNECT, from a timer rather than from inside the
//  socket's own reader callback.
static int s_disconnect_due(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_mdwrk *self = arg;
    self->disconnect_timer = -1;
    s_schedule_reconnect(self, "DISCONNECT from broker");
    return 0;
}

static int s_heartbeat_due(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_mdwrk *self = arg;
    //  While READY is deferred the broker does not know this worker yet: a
    //  heartbeat would only earn a DISCONNECT, and none arrive to count.
    if (!self->socket || self->disconnect_pending || self->ready_deferred)
        return 0;
    if (--self->liveness_left <= 0) {
        s_schedule_reconnect(self, "no heartbeat from broker");
        return 0;
    }
    if (s_send_command(self, SD_MDPW_HEARTBEAT, NULL) != 0)
        sd_debug("heartbeat not sent: %s service=%s", zmq_strerror(errno), self->service);
    return 0;
}

//  Sends the READY that waited for a stale request to end.
static void s_send_deferred_ready(sd_mdwrk *self)
{
    if (!self->ready_deferred || !self->socket)
        return;
    self->ready_deferred = false;
    self->liveness_left = self->liveness;
    if (s_send_ready(self) != 0)
        sd_warning("READY not sent: %s service=%s", zmq_strerror(errno), self->service);
}

//  Builds a new socket, registers it and sends READY. A READY that cannot
//  be queued is only logged: the liveness check reconnects later.
static int s_connect(sd_mdwrk *self)
{
    zsock_t *socket = zsock_new(ZMQ_DEALER);
    if (!socket)
        return -1;
    if (sd_mdp_set_max_message_bytes(socket, self->max_message_bytes) != 0 ||
        (self->curve && sd_curve_client_apply(self->curve, socket) != 0) ||
        zsock_connect(socket, "%s", self->endpoint) != 0) {
        sd_error("cannot connect to broker: %s endpoint=%s", zmq_strerror(errno), self->endpoint);
        zsock_destroy(&socket);
        return -1;
    }
    self->socket = socket;
    self->liveness_left = self->liveness;
    if (self->loop && zloop_reader(self->loop, socket, s_handle_broker, self) != 0) {
        zsock_destroy(&self->socket);
        return -1;
    }
    if (self->loop)
        zloop_reader_set_tolerant(self->loop, socket);
    if (self->reconnects++ > 0)
        sd_info("reconnected to broker service=%s endpoint=%s", self->service, self->endpoint);

    //  A request still in progress came through the lost connection: the new
    //  broker does not know it and its client has resent it. Registering now
    //  would bring a new request while the handler is still busy, so READY
    //  waits until the handler replies to the old one (that reply is dropped).
    if (self->busy) {
        self->busy_stale = true;
        self->ready_deferred = true;
        sd_info("READY deferred until the request in progress ends service=%s", self->service);
        return 0;
    }
    self->ready_deferred = false;
    if (s_send_ready(self) != 0)
        sd_warning("READY not sent: %s service=%s", zmq_strerror(errno), self->service);
    return 0;
}

//  Passes a REQUEST [client][empty][body...] to the handler.
static void s_handle_request(sd_mdwrk *self, zmsg_t *msg)
{
    zframe_t *client = zmsg_pop(msg);
    zframe_t *empty = zmsg_pop(msg);
    bool valid = client && zframe_size(client) > 0 && empty && zframe_size(empty) == 0;
    zframe_destroy(&empty);
    if (!valid) {
        sd_warning("malformed REQUEST from broker dropped service=%s", self->service);
        zframe_destroy(&client);
        return;
    }
    if (!self->handler) {
        zframe_destroy(&client);
        return;
    }
    zmsg_t *body = zmsg_new();
    for (zframe_t *frame = zmsg_pop(msg); frame; frame = zmsg_pop(msg))
        zmsg_append(body, &frame);
    self->busy = true;
    self->busy_stale = false;
    self->handler(self, client, body, self->handler_arg);
}

//  Checks [empty]["MDPW01"][command] and returns the command, or -1.
static int s_pop_command(zmsg_t *msg)
{
    zframe_t *empty = zmsg_pop(msg);
    zframe_t *header = zmsg_pop(msg);
    zframe_t *command = zmsg_pop(msg);
    int code = -1;
    if (empty && zframe_size(empty) == 0 && sd_mdp_frame_equals(header, SD_MDPW_HEADER) &&
        command && zframe_size(command) == 1)
        code = zframe_data(command)[0];
    zframe_destroy(&empty);
    zframe_destroy(&header);
    zframe_destroy(&command);
    return code;
}

static int s_handle_broker(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    sd_mdwrk *self = arg;

    //  zloop may still call the reader of a socket that a timer closed in
    //  the same loop pass: only the current socket is read.
    if (socket != self->socket)
        return 0;
    zmsg_t *msg = zmsg_recv(socket);
    if (!msg || self->disconnect_pending) {
        zmsg_destroy(&msg);
        return 0;
    }

    //  Any valid traffic proves the broker alive.
    int command = s_pop_command(msg);
    if (command >= 0)
        self->liveness_left = self->liveness;

    if (command == SD_MDPW_REQUEST)
        s_handle_request(self, msg);
    else if (command == SD_MDPW_HEARTBEAT && zmsg_size(msg) == 0)
        ;
    else if (command == SD_MDPW_DISCONNECT && zmsg_size(msg) == 0) {
        self->disconnect_pending = true;
        self->disconnect_timer = zloop_timer(self->loop, 1, 1, s_disconnect_due, self);
    } else
        sd_warning("malformed message from broker dropped command=%d frames=%zu service=%s",
                   command, zmsg_size(msg), self->service);
    zmsg_destroy(&msg);
    return 0;
}

static int s_check_options(const sd_mdwrk_options *options)
{
    if (!options || !options->endpoint || !options->service) {
        sd_error("worker options need an endpoint and a service");
        return -1;
    }
    if (!sd_mdp_service_valid(options->service, strlen(options->service))) {
        sd_error("invalid service name: expected 1 to %d printable ASCII characters service=%s",
                 SD_MDP_SERVICE_MAX, options->service);
        return -1;
    }
    return 0;
}

//  Takes the timing from options, else from options->broker, else the
//  defaults, and loads the CURVE keys when the broker section has them.
static int s_configure(sd_mdwrk *self, const sd_mdwrk_options *options)
{
    const sd_config_broker *broker = options->broker;
    self->heartbeat_ms = options->heartbeat_ms > 0            ? options->heartbeat_ms
                         : broker && broker->heartbeat_ms > 0 ? broker->heartbeat_ms
                                                              : SD_MDP_HEARTBEAT_MS_DEFAULT;
    self->liveness = options->liveness > 0            ? options->liveness
                     : broker && broker->liveness > 0 ? broker->liveness
                                                      : SD_MDP_LIVENESS_DEFAULT;
    self->reconnect_ms =
        options->reconnect_ms > 0 ? options->reconnect_ms : SD_MDWRK_RECONNECT_MS_DEFAULT;
    self->max_message_bytes = broker ? broker->max_message_bytes : 0;
    if (!broker || !broker->curve_enabled)
        return 0;
    char err[512];
    self->curve = sd_curve_client_new(broker, err, sizeof err);
    if (!self->curve) {
        sd_error("broker.curve: %s service=%s", err, options->service);
        return -1;
    }
    return 0;
}

sd_mdwrk *sd_mdwrk_new(const sd_mdwrk_options *options)
{
    if (s_check_options(options) != 0)
        return NULL;
    sd_mdwrk *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup(options->endpoint);
    self->service = strdup(options->service);
    self->heartbeat_timer = -1;
    self->reconnect_timer = -1;
    self->disconnect_timer = -1;
    if (!self->endpoint || !self->service || s_configure(self, options) != 0 ||
        s_connect(self) != 0)
        sd_mdwrk_destroy(&self);
    return self;
}

int sd_mdwrk_attach(sd_mdwrk *self, zloop_t *loop, sd_mdwrk_request_fn *handler, void *arg)
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
    self->heartbeat_timer = zloop_timer(loop, (size_t)self->heartbeat_ms, 0, s_heartbeat_due, self);
    if (self->heartbeat_timer < 0)
        return -1;
    sd_info("worker started service=%s endpoint=%s", self->service, self->endpoint);
    return 0;
}

int sd_mdwrk_reply(sd_mdwrk *self, zframe_t **client, zmsg_t **body)
{
    int rc = -1;
    zmsg_t *msg = *body;
    *body = NULL;
    bool stale = self->busy_stale;
    self->busy = false;
    self->busy_stale = false;
    if (stale) {
        sd_info("reply dropped: its request came before the broker connection was rebuilt "
                "service=%s",
                self->service);
        s_send_deferred_ready(self);
        rc = 0;
        goto done;
    }
    if (!msg)
        msg = zmsg_new();
    if (!self->socket || !msg || !*client) {
        sd_warning("reply dropped: not connected to the broker service=%s", self->service);
        goto done;
    }

    //  [client][empty][body...] after the command frame.
    if (zmsg_pushmem(msg, NULL, 0) || zmsg_prepend(msg, client))
        goto done;
    rc = s_send_command(self, SD_MDPW_REPLY, &msg);
    if (rc != 0)
        sd_warning("reply not sent: %s service=%s", zmq_strerror(errno), self->service);
done:
    zmsg_destroy(&msg);
    zframe_destroy(client);
    return rc;
}

void sd_mdwrk_destroy(sd_mdwrk **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_mdwrk *self = *self_p;
    if (self->loop && self->heartbeat_timer >= 0)
        zloop_timer_end(self->loop, self->heartbeat_timer);
    if (self->loop && self->reconnect_timer >= 0)
        zloop_timer_end(self->loop, self->reconnect_timer);
    if (self->loop && self->disconnect_timer >= 0)
        zloop_timer_end(self->loop, self->disconnect_timer);
    s_close_socket(self, !self->disconnect_pending);
    sd_curve_client_destroy(&self->curve);
    free(self->endpoint);
    free(self->service);
    free(self);
    *self_p = NULL;
}

/*  sd_broker: sockets, loop and frame checks of the MDP broker and the
    table bus proxy. Services and workers live in sd_broker_service.c and
    sd_broker_worker.c.  */
#include "sd_broker_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "sd_broker_service.h"
#include "sd_log.h"
#include "sd_mdp.h"

#define SD_BROKER_ENDPOINT_DEFAULT "tcp://127.0.0.1:5555"
#define SD_BROKER_BUS_PUBLISH_DEFAULT "tcp://127.0.0.1:5556"
#define SD_BROKER_BUS_SUBSCRIBE_DEFAULT "tcp://127.0.0.1:5557"
#define SD_BROKER_QUEUE_LIMIT_DEFAULT 1000
#define SD_BROKER_ROUTER_BATCH 64

//  Maximum length of the topic that a subscription log line shows.
#define SD_BROKER_TOPIC_LOG_MAX 80

bool sd_broker_peer_warning_allowed(sd_broker *self)
{
    int64_t second = zclock_mono() / 1000;
    if (second != self->warning_second) {
        if (self->warnings_suppressed > 0)
            sd_warning("%u more warnings about peers were not logged in the last second",
                       self->warnings_suppressed);
        self->warning_second = second;
        self->warnings_this_second = 0;
        self->warnings_suppressed = 0;
    }
    if (self->warnings_this_second < SD_BROKER_PEER_WARNINGS_PER_SECOND) {
        self->warnings_this_second++;
        return true;
    }
    self->warnings_suppressed++;
    return false;
}

int sd_broker_send_frames(sd_broker *self, const sd_broker_frame *head, size_t count,
                          zmsg_t *body)
{
    void *handle = zsock_resolve(self->router);
    size_t remaining = count + (body ? zmsg_size(body) : 0);
    for (size_t i = 0; i < count; i++) {
        int flags = ZMQ_DONTWAIT | (--remaining ? ZMQ_SNDMORE : 0);
        if (zmq_send(handle, head[i].data, head[i].size, flags) < 0)
            return -1;
    }
    for (zframe_t *frame = body ? zmsg_first(body) : NULL; frame; frame = zmsg_next(body)) {
        int flags = ZFRAME_REUSE | ZFRAME_DONTWAIT | (--remaining ? ZFRAME_MORE : 0);
        if (zframe_send(&frame, self->router, flags) != 0)
            return -1;
    }
    return 0;
}

void sd_broker_id_hex(zframe_t *frame, char hex[SD_BROKER_ID_HEX_SIZE])
{
    static const char digits[] = "0123456789ABCDEF";
    const byte *data = zframe_data(frame);
    size_t size = zframe_size(frame);
    if (size > (SD_BROKER_ID_HEX_SIZE - 1) / 2)
        size = (SD_BROKER_ID_HEX_SIZE - 1) / 2;
    for (size_t i = 0; i < size; i++) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 0x0F];
    }
    hex[2 * size] = '\0';
}

//  Logs a message from a peer that fits neither the client nor the worker
//  frames. A registered worker that sends one is disconnected.
static void s_reject_peer(sd_broker *self, zframe_t *sender, const char *what)
{
    if (sd_broker_worker_registered(self, sender)) {
        sd_broker_worker_violation(self, sender, what);
        return;
    }
    if (sd_broker_peer_warning_allowed(self)) {
        char id[SD_BROKER_ID_HEX_SIZE];
        sd_broker_id_hex(sender, id);
        sd_warning("message ignored: %s peer=%s", what, id);
    }
}

//  Checks the envelope [sender][empty][header] of one ROUTER message and
//  hands the rest to the client or the worker code. Takes msg.
static void s_route(sd_broker *self, zmsg_t *msg)
{
    zframe_t *sender = zmsg_pop(msg);
    zframe_t *empty = zmsg_pop(msg);
    zframe_t *header = zmsg_pop(msg);

    if (!sender)
        ;
    else if (!empty || zframe_size(empty) != 0 || !header)
        s_reject_peer(self, sender, "no empty delimiter and protocol header");
    else if (sd_mdp_frame_equals(header, SD_MDPC_HEADER))
        sd_broker_client_message(self, &sender, &msg);
    else if (sd_mdp_frame_equals(header, SD_MDPW_HEADER))
        sd_broker_worker_message(self, &sender, &msg);
    else
        s_reject_peer(self, sender, "unknown protocol header");

    zframe_destroy(&sender);
    zframe_destroy(&empty);
    zframe_destroy(&header);
    zmsg_destroy(&msg);
}

//  Handles the messages waiting on the ROUTER, up to
//  SD_BROKER_ROUTER_BATCH per wake-up so that the bus sockets and timers
//  still get their turn. Reading what is already queued saves one poll
//  call per message under load.
static int s_handle_router(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    sd_broker *self = arg;
    for (int i = 0; i < SD_BROKER_ROUTER_BATCH; i++) {
        if (i > 0 && !(zsock_events(socket) & ZMQ_POLLIN))
            break;
        zmsg_t *msg = zmsg_recv(socket);
        if (!msg)
            break;
        s_route(self, msg);
    }
    return 0;
}

//  Forwards one publication from the XSUB to the XPUB.
static int s_handle_xsub(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    sd_broker *self = arg;
    zmsg_t *msg = zmsg_recv(socket);
    if (msg && sd_mdp_send(self->xpub, &msg) != 0 && errno != EAGAIN)
        sd_warning("bus message not forwarded: %s", zmq_strerror(errno));
    zmsg_destroy(&msg);
    return 0;
}

//  Logs a subscription that reached the XPUB. The XSUB subscribed to every
//  topic at start, so subscriptions end here. From this log line on, the
//  XPUB delivers the topic, and tests wait for the line.
static int s_handle_xpub(zloop_t *loop, zsock_t *socket, void *arg)
{
    (void)loop;
    (void)arg;
    //  The whole message is read, so that frames after the first one of a
    //  peer's multipart message do not come back as messages of their own.
    zmsg_t *msg = zmsg_recv(socket);
    zframe_t *frame = msg ? zmsg_first(msg) : NULL;
    if (!frame) {
        zmsg_destroy(&msg);
        return 0;
    }
    const uint8_t *data = zframe_data(frame);
    size_t size = zframe_size(frame);
    if (size == 0 || data[0] > 1) {
        sd_warning("bus message from a subscriber dropped: not a subscription, %zu bytes", size);
    } else {
        char topic[SD_BROKER_TOPIC_LOG_MAX + 1];
        size_t length = size - 1 < SD_BROKER_TOPIC_LOG_MAX ? size - 1 : SD_BROKER_TOPIC_LOG_MAX;
        for (size_t i = 0; i < length; i++)
            topic[i] = data[i + 1] > 0x20 && data[i + 1] < 0x7f ? (char)data[i + 1] : '?';
        topic[length] = '\0';
        sd_info("bus subscription %s topic=%s", data[0] ? "added" : "removed", topic);
    }
    zmsg_destroy(&msg);
    return 0;
}

//  Subscribes the XSUB to every topic, so that publishers send every message
//  to the broker, whatever the subscribers asked for. libzmq sends the
//  subscription again to each publisher that connects later.
static int s_subscribe_all(sd_broker *self)
{
    static const uint8_t all = 1;
    if (zmq_send(zsock_resolve(self->xsub), &all, 1, 0) != 1) {
        sd_error("bus XSUB subscription failed: %s", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static int s_heartbeat_due(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_broker_heartbeat(arg);
    return 0;
}

//  Returns true when the address in text (no brackets, no port) is a
//  loopback address or "localhost".
static bool s_host_is_loopback(const char *text)
{
    struct in_addr ipv4;
    struct in6_addr ipv6;
    if (strcmp(text, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, text, &ipv4) == 1)
        return (ntohl(ipv4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, text, &ipv6) != 1)
        return false;
    if (IN6_IS_ADDR_LOOPBACK(&ipv6))
        return true;
    return IN6_IS_ADDR_V4MAPPED(&ipv6) && ipv6.s6_addr[12] == 127;
}

bool sd_broker_endpoint_is_local(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return false;

    //  tcp://HOST:PORT or tcp://[IPV6]:PORT
    const char *host = endpoint + 6;
    const char *end = NULL;
    if (*host == '[') {
        host++;
        end = strchr(host, ']');
    } else
        end = strrchr(host, ':');
    char text[INET6_ADDRSTRLEN + 16];
    if (!end || (size_t)(end - host) >= sizeof text)
        return false;
    memcpy(text, host, (size_t)(end - host));
    text[end - host] = '\0';
    return s_host_is_loopback(text);
}

//  Creates a socket, applies the size limit and the CURVE server keys, and
//  binds it. Returns the socket and sets *bound to the real endpoint
//  (caller frees), or NULL.
static zsock_t *s_bind(sd_broker *self, int type, const char *endpoint, int64_t max_bytes,
                       const char *role, char **bound)
{
    zsock_t *socket = zsock_new(type);
    if (!socket)
        return NULL;
    if (type == ZMQ_ROUTER)
        zsock_set_router_mandatory(socket, 1);
    if (sd_broker_curve_apply(self, socket) != 0) {
        sd_error("cannot apply CURVE keys to %s socket: libzmq lacks CURVE support", role);
        zsock_destroy(&socket);
        return NULL;
    }
    if (sd_mdp_set_max_message_bytes(socket, max_bytes) != 0 ||
        zsock_bind(socket, "%s", endpoint) < 0 || !(*bound = zsock_last_endpoint(socket))) {
        sd_error("cannot bind %s socket: %s endpoint=%s", role, zmq_strerror(errno), endpoint);
        zsock_destroy(&socket);
        return NULL;
    }
    sd_info("bound %s endpoint=%s curve=%s", role, *bound, self->curve_cert ? "on" : "off");
    if (!self->curve_cert && !sd_broker_endpoint_is_local(endpoint))
        sd_warning("%s is bound to a non-loopback address without CURVE: any host that reaches "
                   "it can connect, in clear text; add broker.curve to the config or bind "
                   "127.0.0.1 endpoint=%s",
                   role, endpoint);
    return socket;
}

//  Returns the first of value and alternative that is set, else fallback.
static const char *s_first(const char *value, const char *alternative, const char *fallback)
{
    if (value)
        return value;
    if (alternative)
        return alternative;
    return fallback;
}

//  Binds the three sockets to the configured addresses or the defaults.
static int s_bind_all(sd_broker *self, const sd_config_broker *config)
{
    static const sd_config_broker none = {0};
    if (!config)
        config = &none;
    const char *endpoint = s_first(config->endpoint, NULL, SD_BROKER_ENDPOINT_DEFAULT);
    const char *bind = s_first(config->bind, endpoint, NULL);
    const char *publish =
        s_first(config->bus_publish_bind, config->bus_publish, SD_BROKER_BUS_PUBLISH_DEFAULT);
    const char *subscribe =
        s_first(config->bus_subscribe_bind, config->bus_subscribe, SD_BROKER_BUS_SUBSCRIBE_DEFAULT);
    int64_t max_bytes = config->max_message_bytes;

    self->router = s_bind(self, ZMQ_ROUTER, bind, max_bytes, "MDP ROUTER", &self->endpoint);
    if (self->router)
        self->xsub = s_bind(self, ZMQ_XSUB, publish, max_bytes, "bus XSUB (publishers)",
                            &self->bus_publish_endpoint);
    if (self->xsub && s_subscribe_all(self) == 0)
        self->xpub = s_bind(self, ZMQ_XPUB, subscribe, max_bytes, "bus XPUB (subscribers)",
                            &self->bus_subscribe_endpoint);
    //  Verbose: every subscriber's subscription is logged, not only the
    //  first one to a topic.
    if (self->xpub)
        zsock_set_xpub_verbose(self->xpub, 1);
    return self->xpub ? 0 : -1;
}

sd_broker *sd_broker_new(const sd_config_broker *config)
{
    sd_broker *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->heartbeat_timer = -1;
    self->heartbeat_ms =
        config && config->heartbeat_ms > 0 ? config->heartbeat_ms : SD_MDP_HEARTBEAT_MS_DEFAULT;
    self->liveness = config && config->liveness > 0 ? config->liveness : SD_MDP_LIVENESS_DEFAULT;
    self->queue_limit = config && config->queue_limit > 0 ? (size_t)config->queue_limit
                                                          : SD_BROKER_QUEUE_LIMIT_DEFAULT;
    self->services = zhash_new();
    self->workers = zhash_new();
    self->requeued = zhash_new();
    if (!self->services || !self->workers || !self->requeued ||
        (config && config->curve_enabled && sd_broker_curve_start(self, config) != 0) ||
        s_bind_all(self, config) != 0)
        sd_broker_destroy(&self);
    return self;
}

int sd_broker_attach(sd_broker *self, zloop_t *loop)
{
    assert(self);
    assert(loop);
    assert(!self->loop);
    self->loop = loop;
    if (zloop_reader(loop, self->router, s_handle_router, self) != 0 ||
        zloop_reader(loop, self->xsub, s_handle_xsub, self) != 0 ||
        zloop_reader(loop, self->xpub, s_handle_xpub, self) != 0)
        return -1;
    zloop_reader_set_tolerant(loop, self->router);
    zloop_reader_set_tolerant(loop, self->xsub);
    zloop_reader_set_tolerant(loop, self->xpub);
    self->heartbeat_timer = zloop_timer(loop, (size_t)self->heartbeat_ms, 0, s_heartbeat_due, self);
    if (self->heartbeat_timer < 0)
        return -1;
    sd_info("broker started endpoint=%s bus_publish=%s bus_subscribe=%s heartbeat_ms=%d "
            "liveness=%d queue_limit=%zu curve=%s",
            self->endpoint, self->bus_publish_endpoint, self->bus_subscribe_endpoint,
            self->heartbeat_ms, self->liveness, self->queue_limit, self->curve_cert ? "on" : "off");
    return 0;
}

const char *sd_broker_endpoint(sd_broker *self)
{
    return self->endpoint;
}

const char *sd_broker_bus_publish_endpoint(sd_broker *self)
{
    return self->bus_publish_endpoint;
}

const char *sd_broker_bus_subscribe_endpoint(sd_broker *self)
{
    return self->bus_subscribe_endpoint;
}

size_t sd_broker_worker_count(sd_broker *self, const char *service)
{
    sd_broker_service *record = sd_broker_service_lookup(self, service);
    return record ? record->workers : 0;
}

static void s_close(sd_broker *self, zsock_t **socket)
{
    if (*socket && self->loop)
        zloop_reader_end(self->loop, *socket);
    zsock_destroy(socket);
}

void sd_broker_destroy(sd_broker **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_broker *self = *self_p;
    if (self->loop && self->heartbeat_timer >= 0)
        zloop_timer_end(self->loop, self->heartbeat_timer);
    bool started = self->loop != NULL;
    if (self->services && self->workers)
        sd_broker_forget_all(self);
    zhash_destroy(&self->services);
    zhash_destroy(&self->workers);
    zhash_destroy(&self->requeued);
    s_close(self, &self->router);
    s_close(self, &self->xsub);
    s_close(self, &self->xpub);
    sd_broker_curve_stop(self);
    free(self->endpoint);
    free(self->bus_publish_endpoint);
    free(self->bus_subscribe_endpoint);
    free(self);
    *self_p = NULL;
    if (started)
        sd_info("broker stopped");
}

//  Ends the actor's loop on "$TERM" (or when the pipe closes).
static int s_handle_pipe(zloop_t *loop, zsock_t *pipe, void *arg)
{
    (void)loop;
    (void)arg;
    char *command = zstr_recv(pipe);
    bool stop = !command || strcmp(command, "$TERM") == 0;
    zstr_free(&command);
    return stop ? -1 : 0;
}

void sd_broker_actor(zsock_t *pipe, void *config)
{
    sd_broker *broker = sd_broker_new(config);
    zloop_t *loop = zloop_new();
    zsock_signal(pipe, 0);
    if (!broker || !loop || sd_broker_attach(broker, loop) != 0 ||
        zloop_reader(loop, pipe, s_handle_pipe, NULL) != 0) {
        zstr_sendx(pipe, "", "", "", NULL);
        sd_broker_destroy(&broker);
        zloop_destroy(&loop);

        //  An actor must run until zactor_destroy sends "$TERM".
        char *command = zstr_recv(pipe);
        zstr_free(&command);
        return;
    }
    zstr_sendx(pipe, broker->endpoint, broker->bus_publish_endpoint, broker->bus_subscribe_endpoint,
               NULL);
    zloop_set_nonstop(loop, true);
    zloop_start(loop);
    sd_broker_destroy(&broker);
    zloop_destroy(&loop);
}

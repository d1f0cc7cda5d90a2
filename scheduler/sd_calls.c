/*  sd_calls: asynchronous MDP requests with timeouts.  */
#include "sd_calls.h"

#include "sd_log.h"
#include "sd_mdcli.h"

typedef struct {
    sd_calls *owner;
    char *id;
    char *service;
    int timer_id;
    sd_call_fn *callback;
    sd_call_free_fn *free_arg; //  NULL once the call ended or never started
    void *arg;
} s_call;

struct sd_calls {
    zloop_t *loop;
    sd_mdcli *client;
    zhashx_t *calls; //  id -> s_call, owning
    sd_proto_limits limits;
};

static void s_call_destroy(void **item)
{
    s_call *call = *item;
    if (!call)
        return;
    if (call->timer_id >= 0)
        zloop_timer_end(call->owner->loop, call->timer_id);
    if (call->free_arg)
        call->free_arg(call->arg);
    free(call->id);
    free(call->service);
    free(call);
    *item = NULL;
}

//  Returns the request id a reply carries, or NULL for other types.
static const char *s_reply_id(const sd_msg *msg)
{
    switch (msg->type) {
    case SD_MSG_REPORT_REPLY:
        return msg->as.report_reply.request_id;
    case SD_MSG_AVAILABILITY_REPLY:
        return msg->as.availability_reply.id;
    case SD_MSG_ERROR:
        return msg->as.error.id;
    default:
        return NULL;
    }
}

//  Removes the call from the table and calls its callback with reply.
static void s_finish(sd_calls *self, s_call *call, sd_msg *reply)
{
    sd_call_fn *callback = call->callback;
    void *arg = call->arg;
    call->free_arg = NULL;
    zhashx_delete(self->calls, call->id);
    callback(reply, arg);
}

static void s_handle_reply(sd_mdcli *client, const char *service, zmsg_t *body, void *arg)
{
    (void)client;
    sd_calls *self = arg;
    zframe_t *frame = zmsg_first(body);
    sd_proto_error error = {0};
    sd_msg *msg =
        frame ? sd_msg_decode(zframe_data(frame), zframe_size(frame), &self->limits, &error) : NULL;
    zmsg_destroy(&body);
    if (!msg) {
        sd_warning("invalid reply dropped: %s: %s service=%s", error.field, error.text, service);
        return;
    }
    const char *id = s_reply_id(msg);
    s_call *call = id ? zhashx_lookup(self->calls, id) : NULL;
    if (!call) {
        sd_debug("reply matches no waiting request, dropped type=%s service=%s id=%s",
                 sd_msg_type_name(msg->type), service, id ? id : "");
        sd_msg_destroy(&msg);
        return;
    }
    s_finish(self, call, msg);
}

static int s_handle_timeout(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_call *call = arg;
    call->timer_id = -1; //  a once-timer ends by itself
    sd_warning("no reply in time service=%s id=%s", call->service, call->id);
    s_finish(call->owner, call, NULL);
    return 0;
}

sd_calls *sd_calls_new(zloop_t *loop, const char *endpoint, const sd_config_broker *broker)
{
    sd_calls *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    sd_proto_limits_default(&self->limits);
    if (broker && broker->max_message_bytes > 0)
        self->limits.max_message_bytes = (size_t)broker->max_message_bytes;
    self->calls = zhashx_new();
    self->client = sd_mdcli_new(endpoint, broker);
    if (!self->calls || !self->client ||
        sd_mdcli_attach(self->client, loop, s_handle_reply, self) != 0) {
        sd_calls_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->calls, s_call_destroy);
    return self;
}

void sd_calls_destroy(sd_calls **self_p)
{
    if (!self_p || !*self_p)
        return;
    sd_calls *self = *self_p;
    zhashx_destroy(&self->calls);
    sd_mdcli_destroy(&self->client);
    free(self);
    *self_p = NULL;
}

//  Encodes msg into a one-frame body. Returns NULL after logging.
static zmsg_t *s_encode(const sd_msg *msg)
{
    uint8_t *data = NULL;
    size_t size = 0;
    sd_proto_error error;
    if (sd_msg_encode(msg, &data, &size, &error) != 0) {
        sd_error("request not encoded: %s: %s type=%s", error.field, error.text,
                 sd_msg_type_name(msg->type));
        return NULL;
    }
    zmsg_t *body = zmsg_new();
    if (body && zmsg_addmem(body, data, size) != 0)
        zmsg_destroy(&body);
    free(data);
    return body;
}

int sd_calls_send(sd_calls *self, const char *service, const char *id, const sd_msg *request,
                  int timeout_ms, sd_call_fn *callback, sd_call_free_fn *free_arg, void *arg)
{
    if (zhashx_lookup(self->calls, id)) {
        sd_error("request id already waiting for a reply id=%s", id);
        return -1;
    }
    zmsg_t *body = s_encode(request);
    s_call *call = body ? calloc(1, sizeof *call) : NULL;
    if (!call) {
        zmsg_destroy(&body);
        return -1;
    }
    *call = (s_call){self, strdup(id), strdup(service), -1, callback, NULL, arg};
    if (call->id && call->service)
        call->timer_id = zloop_timer(self->loop, (size_t)timeout_ms, 1, s_handle_timeout, call);
    if (call->timer_id < 0 || sd_mdcli_send(self->client, service, &body) != 0) {
        void *item = call;
        s_call_destroy(&item);
        zmsg_destroy(&body);
        return -1;
    }
    call->free_arg = free_arg;
    zhashx_insert(self->calls, call->id, call);
    return 0;
}

size_t sd_calls_waiting(sd_calls *self)
{
    return zhashx_size(self->calls);
}
